//! Per-workspace settings kept in the control plane, because they matter before anyone is inside
//! the workspace: whether people joining it by invitation must verify their email address with a
//! separate link (flow 1B, "configurable per deployment and per workspace").

use rusqlite::{OptionalExtension, params};
use serde_json::json;
use wrk_core::ids::{TenantId, UserId};

use crate::audit::{self, AuditActor, RequestMeta};
use crate::control::ControlStore;
use crate::error::{Entity, StoreError, StoreResult};

impl ControlStore {
    /// Whether invitees of `tenant` must verify their address with a separate email.
    pub fn invitees_must_verify(&self, tenant: TenantId) -> StoreResult<bool> {
        self.db.read(|c| {
            c.query_row(
                "SELECT invitees_must_verify FROM tenants WHERE id = ?1",
                [tenant.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|v| v == 1)
            .ok_or(StoreError::NotFound(Entity::Tenant))
        })
    }

    /// Sets the invitee verification rule of `tenant`, audited in the workspace's log
    /// (`tenant.email_verification_changed`) when it changes.
    pub fn set_invitees_must_verify(
        &self,
        tenant: TenantId,
        on: bool,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<bool> {
        self.db.write(|tx| {
            let before: i64 = tx
                .query_row(
                    "SELECT invitees_must_verify FROM tenants WHERE id = ?1",
                    [tenant.to_string()],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound(Entity::Tenant))?;
            if (before == 1) != on {
                tx.execute(
                    "UPDATE tenants SET invitees_must_verify = ?2 WHERE id = ?1",
                    params![tenant.to_string(), i64::from(on)],
                )?;
                audit::record_workspace_audit(
                    tx,
                    tenant,
                    &audit::AuditEntry {
                        actor,
                        action: "tenant.email_verification_changed",
                        entity_type: "tenant",
                        entity_id: Some(tenant.to_string()),
                        before: Some(json!({ "invitees_must_verify": before == 1 })),
                        after: Some(json!({ "invitees_must_verify": on })),
                        request,
                    },
                )?;
            }
            Ok(on)
        })
    }

    /// Whether `user` was sent a verification link they have not followed: such an account
    /// must verify before it logs in, even where the deployment does not ask everyone to.
    pub fn verification_pending(&self, user: UserId) -> StoreResult<bool> {
        self.db.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM one_time_tokens
                                WHERE user_id = ?1 AND purpose = 'verify_email' AND used_at IS NULL)",
                [user.to_string()],
                |r| r.get::<_, bool>(0),
            )?)
        })
    }
}
