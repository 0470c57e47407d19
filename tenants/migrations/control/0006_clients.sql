-- Clients (flow 33) and their health (flow 34): ops-only records that group workspaces. Ops
-- create and edit clients and link existing workspaces to them; they never create workspaces or
-- accounts. The health history keeps every status ops set, newest last; `clients.health` is the
-- latest one, so lists need no join.

CREATE TABLE clients (
    id               TEXT PRIMARY KEY,              -- UUID v7
    name             TEXT NOT NULL,                 -- the company
    contacts         TEXT NOT NULL DEFAULT '[]',    -- JSON [{name, email?, phone?, role?}]
    account_manager  TEXT,
    notes            TEXT,
    health           TEXT CHECK (health IN ('green', 'yellow', 'red')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;

CREATE TABLE client_health (
    id          TEXT PRIMARY KEY,                   -- UUID v7, time-ordered
    client_id   TEXT NOT NULL REFERENCES clients (id),
    status      TEXT NOT NULL CHECK (status IN ('green', 'yellow', 'red')),
    note        TEXT NOT NULL,
    set_by      TEXT,                               -- the ops user
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX client_health_client ON client_health (client_id, id);

-- A workspace belongs to at most one client.
ALTER TABLE tenants ADD COLUMN client_id TEXT REFERENCES clients (id);
CREATE INDEX tenants_client ON tenants (client_id);

-- Flow 1B per workspace: when 1, people joining this workspace by invitation verify their
-- address with a separate email (the invitation link alone is not enough), whatever the
-- deployment's WRK_EMAIL_VERIFICATION says.
ALTER TABLE tenants ADD COLUMN invitees_must_verify INTEGER NOT NULL DEFAULT 0
    CHECK (invitees_must_verify IN (0, 1));
