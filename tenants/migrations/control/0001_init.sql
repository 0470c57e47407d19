-- Control plane: the registry of workspaces (tenants), the durable job queue and the
-- control-plane audit log (account-level events that belong to no single workspace).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,              -- UUID v7
    subdomain   TEXT NOT NULL UNIQUE,          -- the workspace slug
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL                  -- RFC 3339 UTC
) STRICT;

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,             -- UUID v7
    kind         TEXT NOT NULL,
    tenant_id    TEXT REFERENCES tenants(id),
    unique_key   TEXT UNIQUE,                  -- idempotency: one job per cause
    payload      TEXT NOT NULL,                -- JSON
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    last_error   TEXT,
    locked_until TEXT,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT,
    before      TEXT,
    after       TEXT,
    request_id  TEXT,
    ip          TEXT,
    user_agent  TEXT
) STRICT;
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
