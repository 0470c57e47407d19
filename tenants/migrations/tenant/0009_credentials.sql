-- Credentials (flows 25, 26) and outbound platform events (flows 24, 24A, 24B).
--
-- A credential row never holds a secret: `secret_ref` names the encrypted blob in the host's
-- secrets manager (`data/secrets/`), `hint` is the masked form people see. A revoked credential
-- keeps its row (for the audit trail) but loses its reference: the blob is deleted.

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,                  -- UUID v7
    system      TEXT NOT NULL,                     -- as the client typed it ("Gmail")
    system_key  TEXT NOT NULL,                     -- lower-cased, what blueprints match on
    kind        TEXT NOT NULL CHECK (kind IN ('api_key', 'oauth', 'basic')),
    hint        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'failed', 'revoked')),
    secret_ref  TEXT,                              -- NULL once revoked
    last_error  TEXT,                              -- what the platform said when it failed
    failed_at   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
-- One credential per system at a time (revoked ones do not count).
CREATE UNIQUE INDEX credentials_system ON credentials (system_key) WHERE status <> 'revoked';

-- Which versions a credential failure blocked (flow 26), so providing the credential again
-- returns exactly those to where they were, and only once every block of a version is lifted.
-- `system_key` is NULL when the platform named the automation but not the credential.
CREATE TABLE credential_blocks (
    id             TEXT PRIMARY KEY,
    automation_id  TEXT NOT NULL REFERENCES automations (id),
    version        INTEGER NOT NULL,
    system_key     TEXT,
    credential_id  TEXT REFERENCES credentials (id),
    reason         TEXT NOT NULL,
    blocked_at     TEXT NOT NULL,
    released_at    TEXT
) STRICT;
CREATE INDEX credential_blocks_open ON credential_blocks (automation_id, version)
    WHERE released_at IS NULL;

-- Events for the WRK Platform, written in the transaction of the transition that causes them
-- and delivered by the job queue (job kind `platform_event`, unique key `platform_event:<id>`).
-- `id` is what the receiver deduplicates on; the body is rebuilt from these columns, so every
-- attempt sends the same event.
CREATE TABLE platform_events (
    id               TEXT PRIMARY KEY,             -- UUID v7
    type             TEXT NOT NULL,                -- automation.deployed | .paused | .resumed
    occurred_at      TEXT NOT NULL,
    automation_id    TEXT NOT NULL REFERENCES automations (id),
    version          INTEGER NOT NULL,
    data             TEXT NOT NULL,                -- the event's `data` object (JSON)
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'not_sent')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,                      -- HTTP status of the last attempt
    last_error       TEXT,
    last_attempt_at  TEXT,
    delivered_at     TEXT
) STRICT;
