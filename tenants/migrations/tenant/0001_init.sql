-- One workspace's database. It knows its own id so a file can never be served as another tenant.

CREATE TABLE tenant_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    tenant_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

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
CREATE INDEX audit_log_at ON audit_log (at);
