//! Invitations (flow 2). Stored in the control plane because they are accepted on the apex,
//! where there is no tenant. The token is single-use, valid 7 days, stored as its SHA-256;
//! resending issues a new token and kills the old one.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use uuid::Uuid;
use wrk_core::ids::{TenantId, UserId};
use wrk_core::roles::ClientRole;

use super::{Also, NewToken, conv_err};
use crate::audit::{self, AuditActor, AuditEntry, RequestMeta, parse_timestamp, timestamp};
use crate::control::{ControlStore, TenantRecord};
use crate::error::{Entity, Refusal, StoreError, StoreResult};

/// How long an invitation link lives.
pub fn invitation_ttl() -> Duration {
    Duration::days(7)
}

/// An invitation's state as shown to admins. `Expired` is derived from `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: ClientRole,
    pub status: InvitationStatus,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

const COLS: &str =
    "id, tenant_id, email, role, status, invited_by, created_at, expires_at, accepted_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Invitation> {
    let expires_at = parse_timestamp(&r.get::<_, String>(7)?)?;
    let stored: String = r.get(4)?;
    let status = match stored.as_str() {
        "accepted" => InvitationStatus::Accepted,
        "revoked" => InvitationStatus::Revoked,
        _ if expires_at <= Utc::now() => InvitationStatus::Expired,
        _ => InvitationStatus::Pending,
    };
    Ok(Invitation {
        id: Uuid::parse_str(&r.get::<_, String>(0)?).map_err(conv_err)?,
        tenant_id: TenantId::parse(&r.get::<_, String>(1)?).map_err(conv_err)?,
        email: r.get(2)?,
        role: ClientRole::parse(&r.get::<_, String>(3)?).map_err(conv_err)?,
        status,
        invited_by: r.get(5)?,
        created_at: parse_timestamp(&r.get::<_, String>(6)?)?,
        expires_at,
        accepted_at: r
            .get::<_, Option<String>>(8)?
            .map(|s| parse_timestamp(&s))
            .transpose()?,
    })
}

fn by_id(tx: &rusqlite::Connection, tenant: TenantId, id: Uuid) -> StoreResult<Invitation> {
    tx.query_row(
        &format!("SELECT {COLS} FROM invitations WHERE id = ?1 AND tenant_id = ?2"),
        params![id.to_string(), tenant.to_string()],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound(Entity::Invitation))
}

fn audit_inv(
    tx: &Transaction<'_>,
    actor: &AuditActor,
    action: &str,
    inv: &Invitation,
    request: &RequestMeta,
) -> StoreResult<()> {
    audit::record_workspace_audit(
        tx,
        inv.tenant_id,
        &AuditEntry {
            actor,
            action,
            entity_type: "invitation",
            entity_id: Some(inv.id.to_string()),
            before: None,
            after: Some(super::json(inv)?),
            request,
        },
    )?;
    Ok(())
}

/// What an invitation is for.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub tenant: TenantId,
    pub email: &'a str,
    pub role: ClientRole,
    pub token: NewToken,
}

impl ControlStore {
    /// Invites `email` into a workspace. An existing member is a `Conflict`; a pending invitation
    /// for the same email is revoked and replaced. `also` (the email) runs in the transaction.
    pub fn create_invitation(
        &self,
        new: &NewInvitation<'_>,
        actor: &AuditActor,
        request: &RequestMeta,
        also: impl Also,
    ) -> StoreResult<Invitation> {
        self.db.write(|tx| {
            let member: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                                WHERE m.tenant_id = ?1 AND u.email = ?2)",
                params![new.tenant.to_string(), new.email],
                |r| r.get(0),
            )?;
            if member {
                return Err(StoreError::Conflict(format!(
                    "{} is already a member of this workspace",
                    new.email
                )));
            }
            // A pending invitation for the same address is replaced: revoked, and audited.
            let replaced: Vec<String> = tx
                .prepare(
                    "SELECT id FROM invitations
                     WHERE tenant_id = ?1 AND email = ?2 AND status = 'pending'",
                )?
                .query_map(params![new.tenant.to_string(), new.email], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for old in replaced {
                tx.execute(
                    "UPDATE invitations SET status = 'revoked' WHERE id = ?1",
                    [&old],
                )?;
                let old = by_id(tx, new.tenant, Uuid::parse_str(&old).map_err(conv_err)?)?;
                audit_inv(tx, actor, "invitation.revoked", &old, request)?;
            }
            let id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO invitations (id, tenant_id, email, role, token_hash, status, invited_by,
                                          created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)",
                params![
                    id.to_string(),
                    new.tenant.to_string(),
                    new.email,
                    new.role.as_str(),
                    new.token.hash,
                    actor.id.clone().unwrap_or_default(),
                    timestamp(Utc::now()),
                    timestamp(new.token.expires_at)
                ],
            )?;
            let inv = by_id(tx, new.tenant, id)?;
            audit_inv(tx, actor, "invitation.created", &inv, request)?;
            also(tx)?;
            Ok(inv)
        })
    }

    /// A workspace's invitations, newest first.
    pub fn invitations(&self, tenant: TenantId) -> StoreResult<Vec<Invitation>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM invitations WHERE tenant_id = ?1 ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map([tenant.to_string()], from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn invitation(&self, tenant: TenantId, id: Uuid) -> StoreResult<Invitation> {
        self.db.read(|c| by_id(c, tenant, id))
    }

    /// Revokes a pending invitation (revoking twice is fine; an accepted one is a `Conflict`).
    pub fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        self.db.write(|tx| {
            let inv = by_id(tx, tenant, id)?;
            match inv.status {
                InvitationStatus::Accepted => Err(StoreError::Conflict(
                    "this invitation was already accepted".into(),
                )),
                InvitationStatus::Revoked => Ok(()),
                InvitationStatus::Pending | InvitationStatus::Expired => {
                    tx.execute(
                        "UPDATE invitations SET status = 'revoked' WHERE id = ?1",
                        [id.to_string()],
                    )?;
                    let inv = by_id(tx, tenant, id)?;
                    audit_inv(tx, actor, "invitation.revoked", &inv, request)
                }
            }
        })
    }

    /// Issues a new token (and expiry) for a pending or expired invitation; the old token stops
    /// working at once. `also` (the new email) runs in the transaction.
    pub fn resend_invitation(
        &self,
        tenant: TenantId,
        id: Uuid,
        token: &NewToken,
        actor: &AuditActor,
        request: &RequestMeta,
        also: impl Also,
    ) -> StoreResult<Invitation> {
        self.db.write(|tx| {
            let inv = by_id(tx, tenant, id)?;
            match inv.status {
                InvitationStatus::Accepted => {
                    return Err(StoreError::Refused(Refusal::InvitationAccepted));
                }
                InvitationStatus::Revoked => {
                    return Err(StoreError::Refused(Refusal::InvitationRevoked));
                }
                InvitationStatus::Pending | InvitationStatus::Expired => {}
            }
            tx.execute(
                "UPDATE invitations SET token_hash = ?2, expires_at = ?3 WHERE id = ?1",
                params![id.to_string(), token.hash, timestamp(token.expires_at)],
            )?;
            let inv = by_id(tx, tenant, id)?;
            audit_inv(tx, actor, "invitation.resent", &inv, request)?;
            also(tx)?;
            Ok(inv)
        })
    }

    /// Accepts an invitation for `user`: a membership in *that* workspace with the invited role.
    /// Expired, revoked and used invitations are refused with their own reason; a user who is
    /// already a member is a `Conflict`.
    pub fn accept_invitation(
        &self,
        token_hash: &str,
        user: UserId,
        request: &RequestMeta,
    ) -> StoreResult<(TenantRecord, ClientRole)> {
        self.db.write(|tx| {
            let inv = tx
                .query_row(
                    &format!("SELECT {COLS} FROM invitations WHERE token_hash = ?1"),
                    [token_hash],
                    from_row,
                )
                .optional()?
                .ok_or(StoreError::Refused(Refusal::InvalidToken))?;
            match inv.status {
                InvitationStatus::Pending => {}
                InvitationStatus::Expired => return Err(StoreError::Refused(Refusal::InvitationExpired)),
                InvitationStatus::Revoked => return Err(StoreError::Refused(Refusal::InvitationRevoked)),
                InvitationStatus::Accepted => {
                    return Err(StoreError::Refused(Refusal::InvitationAccepted));
                }
            }
            let actor = AuditActor { kind: audit::ActorKind::User, id: Some(user.to_string()) };
            super::memberships::insert_membership(tx, inv.tenant_id, user, inv.role, &actor, request)?;
            tx.execute(
                "UPDATE invitations SET status = 'accepted', accepted_by = ?2, accepted_at = ?3 WHERE id = ?1",
                params![inv.id.to_string(), user.to_string(), timestamp(Utc::now())],
            )?;
            tx.execute(
                "UPDATE users SET last_tenant_id = ?2 WHERE id = ?1",
                params![user.to_string(), inv.tenant_id.to_string()],
            )?;
            let inv = by_id(tx, inv.tenant_id, inv.id)?;
            audit_inv(tx, &actor, "invitation.accepted", &inv, request)?;
            let tenant = tx
                .query_row(
                    "SELECT id, subdomain, name, created_at FROM tenants WHERE id = ?1",
                    [inv.tenant_id.to_string()],
                    |r| {
                        Ok(TenantRecord {
                            id: TenantId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
                            subdomain: wrk_core::slug::Slug::parse(&r.get::<_, String>(1)?)
                                .map_err(conv_err)?,
                            name: r.get(2)?,
                            created_at: parse_timestamp(&r.get::<_, String>(3)?)?,
                        })
                    },
                )?;
            Ok((tenant, inv.role))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{nothing, token_hash};
    use crate::testing;

    #[test]
    fn an_invitation_is_accepted_once_and_resending_kills_the_old_link() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let meta = RequestMeta::default();
        let (t, owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let guest = testing::local_user(&s, "g@example.com");
        let tok = |s: &str| NewToken {
            hash: token_hash(s),
            expires_at: Utc::now() + invitation_ttl(),
        };
        let inv = c
            .create_invitation(
                &NewInvitation {
                    tenant: t.id,
                    email: "g@example.com",
                    role: ClientRole::Admin,
                    token: tok("one"),
                },
                &owner.actor(),
                &meta,
                nothing,
            )
            .unwrap();
        c.resend_invitation(t.id, inv.id, &tok("two"), &owner.actor(), &meta, nothing)
            .unwrap();
        assert!(matches!(
            c.accept_invitation(&token_hash("one"), guest.id, &meta),
            Err(StoreError::Refused(Refusal::InvalidToken))
        ));
        let (tenant, role) = c
            .accept_invitation(&token_hash("two"), guest.id, &meta)
            .unwrap();
        assert_eq!((tenant.id, role), (t.id, ClientRole::Admin));
        assert!(matches!(
            c.accept_invitation(&token_hash("two"), guest.id, &meta),
            Err(StoreError::Refused(Refusal::InvitationAccepted))
        ));
        let again = NewInvitation {
            tenant: t.id,
            email: "G@example.com",
            role: ClientRole::Member,
            token: tok("3"),
        };
        assert!(matches!(
            c.create_invitation(&again, &owner.actor(), &meta, nothing),
            Err(StoreError::Conflict(_))
        ));
    }

    /// The invitation, its audit row (tagged with the workspace, so the workspace's log shows
    /// it) and its email commit together: when the email cannot be queued, none of them exist.
    #[test]
    fn an_invitation_and_its_audit_row_commit_or_roll_back_together() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let meta = RequestMeta::default();
        let (t, owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let rows = |action: &str| {
            s.workspace_audit(
                t.id,
                &crate::audit::AuditFilter {
                    action: Some(action.into()),
                    limit: 50,
                    ..Default::default()
                },
            )
            .unwrap()
            .len()
        };
        let new = |token: &str| NewInvitation {
            tenant: t.id,
            email: "x@example.com",
            role: ClientRole::Member,
            token: NewToken {
                hash: token_hash(token),
                expires_at: Utc::now() + invitation_ttl(),
            },
        };
        let failed =
            c.create_invitation(&new("a"), &owner.actor(), &meta, |_: &Transaction<'_>| {
                Err(StoreError::Corrupt("the outbox is gone".into()))
            });
        assert!(failed.is_err());
        assert!(c.invitations(t.id).unwrap().is_empty());
        assert_eq!(rows("invitation.created"), 0);

        let inv = c
            .create_invitation(&new("b"), &owner.actor(), &meta, nothing)
            .unwrap();
        assert_eq!(rows("invitation.created"), 1);
        let failed = c.resend_invitation(
            t.id,
            inv.id,
            &NewToken {
                hash: token_hash("c"),
                expires_at: Utc::now() + invitation_ttl(),
            },
            &owner.actor(),
            &meta,
            |_: &Transaction<'_>| Err(StoreError::Corrupt("the outbox is gone".into())),
        );
        assert!(failed.is_err());
        assert_eq!(rows("invitation.resent"), 0);
        // The workspace's log also shows the workspace's creation and its owner's membership.
        assert_eq!(rows("tenant.created"), 1);
        assert_eq!(rows("membership.created"), 1);
    }

    #[test]
    fn an_expired_invitation_is_refused_with_its_own_reason() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let meta = RequestMeta::default();
        let (t, owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let past = NewToken {
            hash: token_hash("old"),
            expires_at: Utc::now() - Duration::seconds(1),
        };
        let inv = c
            .create_invitation(
                &NewInvitation {
                    tenant: t.id,
                    email: "x@example.com",
                    role: ClientRole::Member,
                    token: past,
                },
                &owner.actor(),
                &meta,
                nothing,
            )
            .unwrap();
        assert_eq!(inv.status, InvitationStatus::Expired);
        assert!(matches!(
            c.accept_invitation(&token_hash("old"), owner.id, &meta),
            Err(StoreError::Refused(Refusal::InvitationExpired))
        ));
    }
}
