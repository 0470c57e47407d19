-- Control-plane audit rows that belong to one workspace (the workspace itself, its memberships
-- and invitations) carry its id, so the workspace's audit log can show them: those changes live
-- in control.db and are audited in the same control.db transaction as the change.

ALTER TABLE audit_log ADD COLUMN tenant_id TEXT;

UPDATE audit_log
SET tenant_id = CASE
        WHEN entity_type = 'tenant' THEN entity_id
        ELSE coalesce(json_extract(after, '$.tenant_id'), json_extract(before, '$.tenant_id'))
    END
WHERE entity_type IN ('tenant', 'membership', 'invitation');

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
