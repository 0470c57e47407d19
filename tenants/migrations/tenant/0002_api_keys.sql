-- Workspace API keys. Filled in by the identity work.
SELECT 1;
