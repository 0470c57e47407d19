-- Per-user in-app notifications (flows 26, 29, 30; PRODUCT.md "Notifications"). A workspace's
-- notifications live in its own file; `user_id` is a control.db user (a member of the workspace).
-- `kind` is what the notification is about, and what a user's email preference is keyed by.

CREATE TABLE notifications (
    id             TEXT PRIMARY KEY,                -- UUID v7, so rows sort in time order
    user_id        TEXT NOT NULL,
    kind           TEXT NOT NULL,                   -- message | alert | credential_failed | quote | ...
    title          TEXT NOT NULL,
    body           TEXT NOT NULL DEFAULT '',
    automation_id  TEXT REFERENCES automations (id),
    link           TEXT,                            -- a path in the workspace UI
    created_at     TEXT NOT NULL,
    read_at        TEXT,
    emailed_at     TEXT                             -- sent alone or in a digest
) STRICT;
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Email on or off per user and kind; no row means the default (on).
CREATE TABLE notification_prefs (
    user_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    email    INTEGER NOT NULL CHECK (email IN (0, 1)),
    PRIMARY KEY (user_id, kind)
) STRICT;
