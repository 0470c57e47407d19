-- Identity & access (users, identities, memberships, tokens, invitations, ops users).
-- Filled in by the identity work.
SELECT 1;
