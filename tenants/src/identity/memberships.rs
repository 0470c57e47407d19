//! Memberships: which users belong to which workspace, with which role. A workspace always keeps
//! at least one owner.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use wrk_core::ids::{TenantId, UserId};
use wrk_core::roles::ClientRole;

use super::conv_err;
use crate::audit::{self, AuditActor, AuditEntry, RequestMeta, parse_timestamp, timestamp};
use crate::control::{ControlStore, TenantRecord};
use crate::error::{Entity, StoreError, StoreResult};

/// One of a user's workspaces, with their role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub tenant: TenantRecord,
    pub role: ClientRole,
}

/// One member of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: ClientRole,
    pub joined_at: DateTime<Utc>,
}

fn role_col(s: String) -> rusqlite::Result<ClientRole> {
    ClientRole::parse(&s).map_err(conv_err)
}

pub(crate) fn role_of(
    c: &Connection,
    tenant: TenantId,
    user: UserId,
) -> StoreResult<Option<ClientRole>> {
    c.prepare_cached("SELECT role FROM memberships WHERE tenant_id = ?1 AND user_id = ?2")?
        .query_row(params![tenant.to_string(), user.to_string()], |r| {
            role_col(r.get(0)?)
        })
        .optional()
        .map_err(Into::into)
}

/// Adds a membership and its audit row (control plane), inside the caller's transaction.
pub(crate) fn insert_membership(
    tx: &Transaction<'_>,
    tenant: TenantId,
    user: UserId,
    role: ClientRole,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            tenant.to_string(),
            user.to_string(),
            role.as_str(),
            timestamp(Utc::now())
        ],
    )
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::Conflict("this user is already a member of the workspace".into())
        } else {
            e.into()
        }
    })?;
    audit_membership(
        tx,
        actor,
        "membership.created",
        tenant,
        user,
        None,
        Some(role),
        request,
    )
}

#[allow(clippy::too_many_arguments)]
fn audit_membership(
    tx: &Transaction<'_>,
    actor: &AuditActor,
    action: &str,
    tenant: TenantId,
    user: UserId,
    before: Option<ClientRole>,
    after: Option<ClientRole>,
    request: &RequestMeta,
) -> StoreResult<()> {
    let view =
        |role: ClientRole| serde_json::json!({"tenant_id": tenant, "user_id": user, "role": role});
    audit::record_workspace_audit(
        tx,
        tenant,
        &AuditEntry {
            actor,
            action,
            entity_type: "membership",
            entity_id: Some(format!("{tenant}:{user}")),
            before: before.map(view),
            after: after.map(view),
            request,
        },
    )?;
    Ok(())
}

fn owners(tx: &Transaction<'_>, tenant: TenantId) -> StoreResult<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM memberships WHERE tenant_id = ?1 AND role = 'owner'",
        [tenant.to_string()],
        |r| r.get(0),
    )?)
}

impl ControlStore {
    /// The user's role in the workspace, or `None` when not a member.
    pub fn role_of(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<ClientRole>> {
        self.db.read(|c| role_of(c, tenant, user))
    }

    /// Every workspace the user belongs to, oldest first.
    pub fn workspaces_of(&self, user: UserId) -> StoreResult<Vec<Workspace>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT t.id, t.subdomain, t.name, t.created_at, m.role
                 FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                 WHERE m.user_id = ?1 ORDER BY t.id",
            )?;
            let rows = stmt.query_map([user.to_string()], |r| {
                Ok(Workspace {
                    tenant: TenantRecord {
                        id: TenantId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
                        subdomain: wrk_core::slug::Slug::parse(&r.get::<_, String>(1)?)
                            .map_err(conv_err)?,
                        name: r.get(2)?,
                        created_at: parse_timestamp(&r.get::<_, String>(3)?)?,
                    },
                    role: role_col(r.get(4)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The members of a workspace, in joining order.
    pub fn members(&self, tenant: TenantId) -> StoreResult<Vec<Member>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT u.id, u.email, u.name, m.role, m.created_at
                 FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.tenant_id = ?1 ORDER BY m.created_at, u.id",
            )?;
            let rows = stmt.query_map([tenant.to_string()], |r| {
                Ok(Member {
                    user_id: UserId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
                    email: r.get(1)?,
                    name: r.get(2)?,
                    role: role_col(r.get(3)?)?,
                    joined_at: parse_timestamp(&r.get::<_, String>(4)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Changes a member's role. Demoting the last owner is a `Conflict`.
    pub fn set_member_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: ClientRole,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<ClientRole> {
        self.db.write(|tx| {
            let before = role_of(tx, tenant, user)?.ok_or(StoreError::NotFound(Entity::Membership))?;
            if before == role {
                return Ok(role);
            }
            if before == ClientRole::Owner && owners(tx, tenant)? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner of a workspace cannot be demoted; make someone else owner first".into(),
                ));
            }
            tx.execute(
                "UPDATE memberships SET role = ?3 WHERE tenant_id = ?1 AND user_id = ?2",
                params![tenant.to_string(), user.to_string(), role.as_str()],
            )?;
            audit_membership(tx, actor, "membership.role_changed", tenant, user, Some(before), Some(role), request)?;
            Ok(role)
        })
    }

    /// Removes a member (and ends their sessions in this workspace). Removing the last owner is a
    /// `Conflict`.
    pub fn remove_member(
        &self,
        tenant: TenantId,
        user: UserId,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        self.db.write(|tx| {
            let before = role_of(tx, tenant, user)?.ok_or(StoreError::NotFound(Entity::Membership))?;
            if before == ClientRole::Owner && owners(tx, tenant)? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner of a workspace cannot be removed".into(),
                ));
            }
            tx.execute(
                "DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2",
                params![tenant.to_string(), user.to_string()],
            )?;
            tx.execute(
                "UPDATE refresh_tokens SET revoked_at = ?3
                 WHERE subject_kind = 'user' AND subject_id = ?2 AND tenant_id = ?1 AND revoked_at IS NULL",
                params![tenant.to_string(), user.to_string(), timestamp(Utc::now())],
            )?;
            tx.execute(
                "UPDATE users SET last_tenant_id = NULL WHERE id = ?2 AND last_tenant_id = ?1",
                params![tenant.to_string(), user.to_string()],
            )?;
            audit_membership(tx, actor, "membership.removed", tenant, user, Some(before), None, request)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn the_last_owner_can_be_neither_demoted_nor_removed() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let meta = RequestMeta::default();
        let (t, owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let other = testing::local_user(&s, "m@example.com");
        assert_eq!(c.role_of(t.id, owner.id).unwrap(), Some(ClientRole::Owner));
        let actor = owner.actor();
        assert!(matches!(
            c.set_member_role(t.id, owner.id, ClientRole::Admin, &actor, &meta),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            c.remove_member(t.id, owner.id, &actor, &meta),
            Err(StoreError::Conflict(_))
        ));
        c.db.write(|tx| insert_membership(tx, t.id, other.id, ClientRole::Member, &actor, &meta))
            .unwrap();
        c.set_member_role(t.id, other.id, ClientRole::Owner, &actor, &meta)
            .unwrap();
        c.set_member_role(t.id, owner.id, ClientRole::Member, &actor, &meta)
            .unwrap();
        assert_eq!(c.members(t.id).unwrap().len(), 2);
        assert_eq!(
            c.workspaces_of(other.id).unwrap()[0].role,
            ClientRole::Owner
        );
    }
}
