-- The email outbox. A message is written here in the same transaction as the change that causes
-- it (signup + verification email commit together), with a `send_email` job that delivers it.
--   queued: waiting for delivery (or for a retry)
--   held:   no SMTP server is configured; the message was logged instead of sent, and is sent
--           if a later start has SMTP configured
--   sent:   accepted by the SMTP server
--   failed: gave up after the job's last attempt

CREATE TABLE emails (
    id          TEXT PRIMARY KEY,              -- UUID v7
    to_address  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    html        TEXT NOT NULL,
    kind        TEXT NOT NULL,                 -- verify_email, invitation, password_reset, ...
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'held', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,                 -- RFC 3339 UTC
    sent_at     TEXT
) STRICT;
CREATE INDEX emails_status ON emails (status, created_at);
CREATE INDEX emails_to ON emails (to_address, created_at);
