//! Inbound WRK Platform events (flow 27): the workspace's webhook signing secrets and the store of
//! received events (`webhook_secrets`, `inbound_events`, migration 0010).
//!
//! The webhook request only verifies the signature and calls [`TenantStore::store_platform_event`]
//! (one insert, idempotent on the sender's event id); folding the stored events into usage and
//! alerts is [`crate::usage`]'s job, off the request path.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;
use wrk_core::usage::EventType;

use crate::audit::{AuditActor, AuditEntry, RequestMeta, record_audit, timestamp};
use crate::error::{StoreError, StoreResult};
use crate::tenant::TenantStore;

/// How long a rotated-out webhook secret is still accepted.
pub const ROTATION_GRACE_HOURS: i64 = 24;

/// An event as received, its signature already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlatformEvent {
    /// The sender's event id (idempotency key).
    pub id: String,
    pub kind: EventType,
    /// As sent; the fold ignores an event whose automation this workspace does not have.
    pub automation_id: String,
    pub occurred_at: DateTime<Utc>,
    /// The event's `data` object (JSON text).
    pub data: String,
}

/// A stored event (for the fold and tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub id: String,
    pub kind: String,
    pub automation_id: String,
    pub occurred_at: String,
    pub folded: bool,
    pub outcome: Option<String>,
}

impl TenantStore {
    /// The secrets a signature may be made with at `now`: the current one first, then rotated-out
    /// ones still inside their grace period.
    pub fn webhook_secrets(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>> {
        self.db().read(|c| {
            let mut st = c.prepare_cached(
                "SELECT secret FROM webhook_secrets
                 WHERE valid_until IS NULL OR valid_until > ?1
                 ORDER BY valid_until IS NOT NULL, id DESC",
            )?;
            let rows = st
                .query_map([timestamp(now)], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(rows)
        })
    }

    /// The current webhook secret.
    pub fn current_webhook_secret(&self) -> StoreResult<String> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT secret FROM webhook_secrets WHERE valid_until IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// Replaces the current webhook secret with a fresh random one (SQLite's CSPRNG, 256 bits);
    /// the old one stays valid for [`ROTATION_GRACE_HOURS`]. Audited as `webhook_secret.rotated`
    /// with the grace period's end, never a secret. Returns the new secret.
    pub fn rotate_webhook_secret(
        &self,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<String> {
        let now = Utc::now();
        let until = now + Duration::hours(ROTATION_GRACE_HOURS);
        self.db().write(|tx| {
            tx.execute(
                "UPDATE webhook_secrets SET valid_until = ?1 WHERE valid_until IS NULL",
                [timestamp(until)],
            )?;
            let secret: String = tx.query_row(
                "INSERT INTO webhook_secrets (secret, created_at)
                 VALUES ('whsec_' || lower(hex(randomblob(32))), ?1) RETURNING secret",
                [timestamp(now)],
                |r| r.get(0),
            )?;
            record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "webhook_secret.rotated",
                    entity_type: "webhook_secret",
                    entity_id: None,
                    before: None,
                    after: Some(json!({ "previous_valid_until": timestamp(until) })),
                    request,
                },
            )?;
            Ok(secret)
        })
    }

    /// Stores a received event once. Returns false (and changes nothing) when an event with the
    /// same id is already stored.
    pub fn store_platform_event(&self, e: &NewPlatformEvent) -> StoreResult<bool> {
        if e.id.is_empty() {
            return Err(StoreError::Conflict("an event needs an id".into()));
        }
        self.db().write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO inbound_events (id, type, automation_id, occurred_at, data,
                                                  received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    e.id,
                    e.kind.as_str(),
                    e.automation_id,
                    timestamp(e.occurred_at),
                    e.data,
                    timestamp(Utc::now()),
                ])?;
            Ok(n == 1)
        })
    }

    /// How many stored events are not folded yet.
    pub fn unfolded_event_count(&self) -> StoreResult<u64> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM inbound_events WHERE folded_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// A stored event by id.
    pub fn inbound_event(&self, id: &str) -> StoreResult<Option<StoredEvent>> {
        use rusqlite::OptionalExtension;
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT id, type, automation_id, occurred_at, folded_at IS NOT NULL, outcome
                 FROM inbound_events WHERE id = ?1",
                [id],
                |r| {
                    Ok(StoredEvent {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        automation_id: r.get(2)?,
                        occurred_at: r.get(3)?,
                        folded: r.get(4)?,
                        outcome: r.get(5)?,
                    })
                },
            )
            .optional()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn event(id: &str) -> NewPlatformEvent {
        NewPlatformEvent {
            id: id.into(),
            kind: EventType::RunSucceeded,
            automation_id: "a".into(),
            occurred_at: Utc::now(),
            data: "{}".into(),
        }
    }

    #[test]
    fn every_workspace_has_a_secret_and_a_rotation_keeps_the_old_one_for_a_day() {
        let (_dir, tenant) = testing::store();
        let first = tenant.current_webhook_secret().unwrap();
        assert!(
            first.starts_with("whsec_") && first.len() == 6 + 64,
            "{first}"
        );
        assert_eq!(
            tenant.webhook_secrets(Utc::now()).unwrap(),
            vec![first.clone()]
        );
        let second = tenant
            .rotate_webhook_secret(&AuditActor::system(), &RequestMeta::default())
            .unwrap();
        assert_ne!(first, second);
        assert_eq!(tenant.current_webhook_secret().unwrap(), second);
        assert_eq!(
            tenant.webhook_secrets(Utc::now()).unwrap(),
            vec![second.clone(), first.clone()]
        );
        let later = Utc::now() + Duration::hours(ROTATION_GRACE_HOURS) + Duration::seconds(1);
        assert_eq!(tenant.webhook_secrets(later).unwrap(), vec![second.clone()]);
        let audit: String = tenant
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT coalesce(after, '') FROM audit_log WHERE action = 'webhook_secret.rotated'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(
            !audit.contains(&first) && !audit.contains(&second),
            "{audit}"
        );
    }

    #[test]
    fn an_event_is_stored_once() {
        let (_dir, tenant) = testing::store();
        assert!(tenant.store_platform_event(&event("e1")).unwrap());
        assert!(!tenant.store_platform_event(&event("e1")).unwrap());
        assert!(tenant.store_platform_event(&event("e2")).unwrap());
        assert_eq!(tenant.unfolded_event_count().unwrap(), 2);
        assert!(!tenant.inbound_event("e1").unwrap().unwrap().folded);
    }
}
