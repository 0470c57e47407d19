-- Which workspace alerts already have their emails in the outbox: the marker is written in the
-- same control-plane transaction as the emails, so a retried fold never mails an alert twice.
CREATE TABLE alert_emails (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    alert_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, alert_id)
) STRICT;
