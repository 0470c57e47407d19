-- Automations, their versions and status history, projects and quotes, the automation thread's
-- messages, and tasks (flows 8-13, 31, 32, 35). Times are RFC 3339 UTC text, money integer cents.

CREATE TABLE automations (
    id          TEXT PRIMARY KEY,                 -- UUID v7
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX automations_name ON automations (name COLLATE NOCASE);

-- One row per version. The status belongs here; an automation shows its newest non-archived
-- version's status.
CREATE TABLE versions (
    automation_id TEXT NOT NULL REFERENCES automations (id),
    number        INTEGER NOT NULL CHECK (number >= 1),
    status        TEXT NOT NULL CHECK (status IN ('intake_in_progress', 'needs_pricing',
                    'awaiting_client_approval', 'ready_to_build', 'build_in_progress', 'qa_testing',
                    'ready_to_launch', 'live', 'paused', 'blocked', 'archived')),
    requirements  TEXT NOT NULL DEFAULT '',
    blueprint     TEXT,                           -- JSON; NULL until first saved
    revision      INTEGER NOT NULL DEFAULT 0,     -- optimistic concurrency on the blueprint
    issues        TEXT NOT NULL DEFAULT '[]',     -- JSON: the validation plugin's issues
    checklist     TEXT NOT NULL DEFAULT '[]',     -- JSON: the validation plugin's build checklist
    blocked_from  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (automation_id, number)
) STRICT;
CREATE INDEX versions_status ON versions (status, automation_id);

CREATE TABLE status_history (
    id            TEXT PRIMARY KEY,               -- UUID v7, so rows sort in time order
    automation_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    from_status   TEXT,                           -- NULL for the creation row
    to_status     TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,                  -- client | ops | system
    actor_id      TEXT,
    reason        TEXT,
    at            TEXT NOT NULL,
    FOREIGN KEY (automation_id, version) REFERENCES versions (automation_id, number)
) STRICT;
CREATE INDEX status_history_version ON status_history (automation_id, version, id);

-- A project is what a version's quotes belong to (flow 11); one per version.
CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    automation_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (automation_id, version),
    FOREIGN KEY (automation_id, version) REFERENCES versions (automation_id, number)
) STRICT;

CREATE TABLE quotes (
    id                 TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (id),
    automation_id      TEXT NOT NULL,
    version            INTEGER NOT NULL,
    revision           INTEGER NOT NULL CHECK (revision >= 1),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'signed',
                         'rejected', 'expired', 'superseded')),
    currency           TEXT NOT NULL,
    setup_fee_cents    INTEGER NOT NULL CHECK (setup_fee_cents >= 0),
    monthly_fee_cents  INTEGER NOT NULL CHECK (monthly_fee_cents >= 0),
    included_runs      INTEGER NOT NULL CHECK (included_runs >= 0),
    overage_unit_cents INTEGER NOT NULL CHECK (overage_unit_cents >= 0),
    valid_until        TEXT NOT NULL,
    plugin_name        TEXT NOT NULL,
    plugin_version     TEXT NOT NULL,
    plugin_sha256      TEXT NOT NULL,
    plugin_input       TEXT NOT NULL,             -- the exact JSON the plugin was given
    plugin_output      TEXT NOT NULL,             -- the exact JSON it answered
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (project_id, revision)
) STRICT;
CREATE INDEX quotes_status ON quotes (status, id);
CREATE INDEX quotes_version ON quotes (automation_id, version, revision);

CREATE TABLE quote_line_items (
    quote_id     TEXT NOT NULL REFERENCES quotes (id),
    position     INTEGER NOT NULL,
    code         TEXT NOT NULL,
    description  TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity >= 0),
    unit_cents   INTEGER NOT NULL CHECK (unit_cents >= 0),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    recurrence   TEXT NOT NULL CHECK (recurrence IN ('one_time', 'monthly')),
    PRIMARY KEY (quote_id, position)
) STRICT;

-- The thread of an automation (flow 30 builds on it; flow 11 posts a system message).
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    automation_id TEXT NOT NULL REFERENCES automations (id),
    author_kind   TEXT NOT NULL CHECK (author_kind IN ('user', 'ops', 'system')),
    author_id     TEXT,
    author_name   TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX messages_automation ON messages (automation_id, id);

-- Tasks (flows 31, 32). System tasks are keyed by their cause; at most one open task per
-- (automation, key), enforced by the partial unique index.
CREATE TABLE tasks (
    id            TEXT PRIMARY KEY,
    automation_id TEXT NOT NULL REFERENCES automations (id),
    version       INTEGER,
    key           TEXT NOT NULL,
    kind          TEXT NOT NULL,                  -- validation | credentials | quote | build | qa | ...
    title         TEXT NOT NULL,
    assignee      TEXT NOT NULL CHECK (assignee IN ('client', 'ops')),
    status        TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'done')),
    closed_by     TEXT,                           -- 'system' when its cause cleared, else the actor
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    closed_at     TEXT
) STRICT;
CREATE UNIQUE INDEX tasks_open_key ON tasks (automation_id, key) WHERE status <> 'done';
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_automation ON tasks (automation_id, id);
