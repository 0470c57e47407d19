-- Identity & access: client users and their external identities, workspace memberships, refresh
-- tokens (one family per login), one-time tokens (email verification, password reset, workspace
-- handoff), invitations, the login lockout, and WRK staff (ops users).
-- Every secret here is a SHA-256 hash (hex); the plaintext only ever travels to its owner.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,                  -- UUID v7
    email             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name              TEXT NOT NULL,
    password_hash     TEXT,                              -- Argon2id PHC string; NULL for SSO-only users
    email_verified_at TEXT,
    last_tenant_id    TEXT REFERENCES tenants(id),       -- the workspace used last (landing after login)
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

-- An OpenID Connect identity: (issuer, subject) names one user for good.
CREATE TABLE identities (
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE memberships (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) STRICT;
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE ops_users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('ops', 'ops_admin')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;

-- A session. `kind = 'bearer'` rows rotate on every refresh (reuse of a spent one revokes the
-- whole family); `kind = 'cookie'` rows back a browser's HttpOnly session cookie and never rotate.
CREATE TABLE refresh_tokens (
    hash          TEXT PRIMARY KEY,
    family_id     TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('bearer', 'cookie')),
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('user', 'ops')),
    subject_id    TEXT NOT NULL,
    tenant_id     TEXT REFERENCES tenants(id),        -- NULL: an account (apex) or ops session
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    spent_at      TEXT,                               -- rotated away (bearer only)
    revoked_at    TEXT
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject_kind, subject_id);

CREATE TABLE one_time_tokens (
    hash        TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'handoff')),
    user_id     TEXT NOT NULL REFERENCES users(id),
    tenant_id   TEXT REFERENCES tenants(id),          -- handoff only
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) STRICT;
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    email        TEXT NOT NULL COLLATE NOCASE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
    invited_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    accepted_by  TEXT,
    accepted_at  TEXT
) STRICT;
CREATE INDEX invitations_tenant ON invitations (tenant_id, status);

-- Failed password logins per email, for the lockout (5 in 15 minutes lock for 15 minutes).
CREATE TABLE login_failures (
    email  TEXT NOT NULL COLLATE NOCASE,
    at     TEXT NOT NULL
) STRICT;
CREATE INDEX login_failures_email ON login_failures (email, at);

CREATE TABLE login_locks (
    email         TEXT PRIMARY KEY COLLATE NOCASE,
    locked_until  TEXT NOT NULL
) STRICT;
