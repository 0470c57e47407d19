-- Inbound platform events (flow 27), the usage they fold into (flow 28) and threshold alerts
-- (flow 29). Times are RFC 3339 UTC text; days are YYYY-MM-DD and periods YYYY-MM (UTC).

-- The workspace's webhook signing secrets. The current one has no `valid_until`; a rotated-out
-- one stays accepted until its `valid_until` (24 hours after the rotation). Every workspace gets
-- its first secret here, from SQLite's CSPRNG.
CREATE TABLE webhook_secrets (
    id           INTEGER PRIMARY KEY,
    secret       TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    valid_until  TEXT
) STRICT;
CREATE UNIQUE INDEX webhook_secrets_current ON webhook_secrets (valid_until IS NULL)
    WHERE valid_until IS NULL;
INSERT INTO webhook_secrets (secret, created_at)
VALUES ('whsec_' || lower(hex(randomblob(32))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- Every event received with a valid signature, once per sender's event id. The request only
-- stores it; the fold job sets `folded_at` in the same transaction as the counters it changed.
CREATE TABLE inbound_events (
    id             TEXT PRIMARY KEY,                -- the sender's event id
    type           TEXT NOT NULL CHECK (type IN ('run.started', 'run.succeeded', 'run.failed',
                                                 'credential.failed')),
    automation_id  TEXT NOT NULL,                   -- as sent: not trusted to exist
    occurred_at    TEXT NOT NULL,
    data           TEXT NOT NULL,                   -- the event's `data` object, JSON
    received_at    TEXT NOT NULL,
    folded_at      TEXT,
    outcome        TEXT                             -- what folding did: counted | recorded | ignored: <why>
) STRICT;
CREATE INDEX inbound_events_unfolded ON inbound_events (folded_at) WHERE folded_at IS NULL;

-- One row per run seen: a run counts once, when its first finishing event is folded.
CREATE TABLE runs (
    automation_id  TEXT NOT NULL REFERENCES automations (id),
    run_id         TEXT NOT NULL,
    started_at     TEXT,
    outcome        TEXT CHECK (outcome IN ('succeeded', 'failed')),
    finished_at    TEXT,
    duration_ms    INTEGER CHECK (duration_ms >= 0),
    PRIMARY KEY (automation_id, run_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX runs_finished ON runs (automation_id, finished_at) WHERE outcome IS NOT NULL;

-- Runs per automation and UTC day (the usage chart); `usage_counters` is the same per month.
CREATE TABLE usage_daily (
    automation_id  TEXT NOT NULL REFERENCES automations (id),
    day            TEXT NOT NULL,
    runs           INTEGER NOT NULL DEFAULT 0 CHECK (runs >= 0),
    succeeded      INTEGER NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
    failed         INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    duration_ms    INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (automation_id, day)
) STRICT, WITHOUT ROWID;
ALTER TABLE usage_counters ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0
    CHECK (duration_ms >= 0);

-- The workspace's alert thresholds; no row means the defaults (80 and 100 %, 20 % of 50 runs).
CREATE TABLE alert_settings (
    id                         INTEGER PRIMARY KEY CHECK (id = 1),
    volume_thresholds_percent  TEXT NOT NULL,       -- JSON array of integers
    failure_rate_percent       INTEGER NOT NULL,
    failure_window_runs        INTEGER NOT NULL,
    updated_by                 TEXT,
    updated_at                 TEXT NOT NULL
) STRICT;

-- Alerts fired: one per threshold, automation and period, however many events cross it.
-- `emailed_at` is set once the admins' emails are in the outbox (control.db).
CREATE TABLE alerts (
    id             TEXT PRIMARY KEY,                -- UUID v7
    kind           TEXT NOT NULL CHECK (kind IN ('volume', 'failure_rate')),
    automation_id  TEXT NOT NULL REFERENCES automations (id),
    threshold      INTEGER NOT NULL,                -- percent
    period         TEXT NOT NULL,
    observed       INTEGER NOT NULL,                -- percent of committed volume, or failure rate
    created_at     TEXT NOT NULL,
    emailed_at     TEXT,
    UNIQUE (automation_id, kind, threshold, period)
) STRICT;
CREATE INDEX alerts_unemailed ON alerts (emailed_at) WHERE emailed_at IS NULL;
