-- Collaboration (flow 30): the durable log behind the server-sent-events stream, each side's read
-- marker per automation thread, and when a user last got a message digest by email.

-- Every event a stream shows (`message.created`, `version.status_changed`, `task.created`,
-- `task.updated`, `notification.created`), written in the same transaction as the change it
-- reports. `id` is monotonic per workspace: a reconnecting stream sends the last id it saw
-- (`Last-Event-ID`) and is replayed everything after it. `user_id` is set for events meant for
-- one person only (their notifications); NULL means the whole workspace (and ops) see it.
CREATE TABLE live_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,                      -- JSON object
    user_id     TEXT,
    created_at  TEXT NOT NULL
) STRICT;

-- How far each side (the workspace's people, WRK ops) has read an automation's thread; messages
-- after `last_read_id` written by the other side are unread for this side.
CREATE TABLE thread_reads (
    automation_id TEXT NOT NULL REFERENCES automations (id),
    side          TEXT NOT NULL CHECK (side IN ('workspace', 'ops')),
    last_read_id  TEXT NOT NULL,
    read_at       TEXT NOT NULL,
    PRIMARY KEY (automation_id, side)
) STRICT;

-- The last message digest emailed to a user (at most one per WRK_DIGEST_INTERVAL).
CREATE TABLE notification_digests (
    user_id       TEXT PRIMARY KEY,
    last_sent_at  TEXT NOT NULL
) STRICT;
