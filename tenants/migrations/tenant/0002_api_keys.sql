-- Workspace API keys (flow 5). The secret is shown once; only its SHA-256 (hex) is kept.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,                 -- UUID v7
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,                    -- the first characters of the key, for lists
    key_hash    TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,                    -- JSON array of "read" | "write" | "admin"
    created_by  TEXT NOT NULL,                    -- user id
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT,
    last_used_at TEXT
) STRICT;
