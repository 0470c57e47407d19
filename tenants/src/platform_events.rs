//! Outbound platform events (flows 24, 24A, 24B): a deploy, pause or resume tells the WRK
//! Platform, through an outbox in the workspace's own file and the durable job queue.
//!
//! - [`record`] writes the event in the transition's own transaction (the `NotifyPlatform` side
//!   effect), so the event exists exactly when the move happened.
//! - [`Storage::transition_version`] is how a transition that may notify is applied: inside the
//!   tenant's write transaction, after the move, it enqueues each event's delivery job in
//!   `control.db` (kind [`PLATFORM_EVENT_JOB`], unique key `platform_event:<id>`) and commits
//!   that first. The job therefore exists whenever the event does, and a crash between the two
//!   commits leaves at worst a job whose event never committed, which its handler recognises and
//!   retires (`missing_event_is_final`). Lock order: tenant writer, then control writer;
//!   nothing takes them the other way round.
//! - The host's handler sends the event (its body rebuilt from the row, so every attempt sends
//!   the same `id`), and records each attempt with [`TenantStore::record_delivery`]; the queue
//!   retries with exponential backoff and jitter, across restarts and kill -9 (at least once).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use wrk_core::ids::{AutomationId, PlatformEventId, TenantId};
use wrk_core::machine::{PlatformNotice, VersionStatus};

use crate::automations::effects::AfterCommit;
use crate::automations::versions::{
    Applied, TransitionRequest, VersionRef, apply_transition, resolve,
};
use crate::automations::{conv, id_col, now, time_col};
use crate::error::{Entity, StoreError, StoreResult};
use crate::jobs::{NewJob, enqueue};
use crate::storage::Storage;
use crate::tenant::TenantStore;

/// The job kind that delivers one platform event; payload `{"event_id"}`, tenant set.
pub const PLATFORM_EVENT_JOB: &str = "platform_event";

/// Attempts before an event is given up (`failed`); with the queue's backoff (2 s doubling, at
/// most an hour between tries) that is about a day of trying. Ops can retry it after that.
pub const MAX_ATTEMPTS: u32 = 30;

/// The job's unique key for an event.
pub fn job_key(id: PlatformEventId) -> String {
    format!("platform_event:{id}")
}

/// The event `type` of each notice.
pub const fn event_type(notice: PlatformNotice) -> &'static str {
    match notice {
        PlatformNotice::Deploy => "automation.deployed",
        PlatformNotice::Pause => "automation.paused",
        PlatformNotice::Resume => "automation.resumed",
    }
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet acknowledged; the queue will try (again).
    Pending,
    /// The platform answered 2xx.
    Delivered,
    /// Given up after every attempt (ops may retry).
    Failed,
    /// No platform URL is configured: recorded, never sent.
    NotSent,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::NotSent => "not_sent",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            "not_sent" => Self::NotSent,
            other => return Err(conv(format!("unknown delivery status {other}"))),
        })
    }
}

/// One stored event with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformEvent {
    pub id: PlatformEventId,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub automation_id: AutomationId,
    pub version: u32,
    pub data: Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl PlatformEvent {
    /// The body sent to the platform: `{id, type, occurred_at, tenant_id, data}`, the same bytes
    /// on every attempt.
    pub fn body(&self, tenant: TenantId) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "occurred_at": crate::audit::timestamp(self.occurred_at),
            "tenant_id": tenant,
            "data": self.data,
        })
    }
}

const COLS: &str = "id, type, occurred_at, automation_id, version, data, status, attempts, \
                    last_status, last_error, last_attempt_at, delivered_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlatformEvent> {
    let opt_time = |s: Option<String>| s.as_deref().map(time_col).transpose();
    Ok(PlatformEvent {
        id: PlatformEventId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        kind: r.get(1)?,
        occurred_at: time_col(&r.get::<_, String>(2)?)?,
        automation_id: id_col(&r.get::<_, String>(3)?)?,
        version: r.get(4)?,
        data: serde_json::from_str(&r.get::<_, String>(5)?).map_err(conv)?,
        status: DeliveryStatus::parse(&r.get::<_, String>(6)?)?,
        attempts: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        last_attempt_at: opt_time(r.get(10)?)?,
        delivered_at: opt_time(r.get(11)?)?,
    })
}

fn load(c: &Connection, id: PlatformEventId) -> StoreResult<Option<PlatformEvent>> {
    Ok(c.query_row(
        &format!("SELECT {COLS} FROM platform_events WHERE id = ?1"),
        [id.to_string()],
        row,
    )
    .optional()?)
}

/// The `NotifyPlatform` side effect: stores the event of `notice` for version `number` of
/// `automation`, now in `status`, in the transition's transaction. Returns its id.
pub(crate) fn record(
    tx: &Transaction<'_>,
    notice: PlatformNotice,
    (automation, number, status): (AutomationId, u32, VersionStatus),
    reason: Option<&str>,
) -> StoreResult<PlatformEventId> {
    let id = PlatformEventId::new();
    let data = json!({
        "automation_id": automation,
        "version": number,
        "status": status,
        "reason": reason,
    });
    tx.execute(
        "INSERT INTO platform_events (id, type, occurred_at, automation_id, version, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.to_string(),
            event_type(notice),
            now(),
            automation.to_string(),
            number,
            data.to_string()
        ],
    )?;
    Ok(id)
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The platform answered 2xx with this status.
    Delivered(u16),
    /// No answer (`None`) or a non-2xx one; `give_up` on the last attempt.
    Failed {
        status: Option<u16>,
        error: String,
        give_up: bool,
    },
    /// No platform URL configured.
    NotSent,
}

/// Filter of [`TenantStore::platform_events`]: newest first, before a cursor id.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub before_id: Option<String>,
    pub automation_id: Option<AutomationId>,
    pub limit: u32,
}

impl TenantStore {
    pub fn platform_event(&self, id: PlatformEventId) -> StoreResult<PlatformEvent> {
        self.db()
            .read(|c| load(c, id))?
            .ok_or(StoreError::NotFound(Entity::PlatformEvent))
    }

    /// The workspace's platform events, newest first.
    pub fn platform_events(&self, filter: &EventFilter) -> StoreResult<Vec<PlatformEvent>> {
        let limit = if filter.limit == 0 { 50 } else { filter.limit };
        self.db().read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM platform_events
                 WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR automation_id = ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![
                    filter.before_id,
                    filter.automation_id.map(|a| a.to_string()),
                    limit
                ],
                row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Records one delivery attempt of event `id` and returns the event as it is now. An event
    /// already delivered stays delivered (a late duplicate attempt changes nothing).
    pub fn record_delivery(
        &self,
        id: PlatformEventId,
        attempt: &Attempt,
    ) -> StoreResult<PlatformEvent> {
        self.db().write(|tx| {
            let Some(before) = load(tx, id)? else {
                return Err(StoreError::NotFound(Entity::PlatformEvent));
            };
            if before.status == DeliveryStatus::Delivered {
                return Ok(before);
            }
            let at = now();
            match attempt {
                Attempt::Delivered(status) => tx.execute(
                    "UPDATE platform_events SET status = 'delivered', attempts = attempts + 1,
                            last_status = ?2, last_error = NULL, last_attempt_at = ?3,
                            delivered_at = ?3
                     WHERE id = ?1",
                    params![id.to_string(), status, at],
                )?,
                Attempt::Failed {
                    status,
                    error,
                    give_up,
                } => tx.execute(
                    "UPDATE platform_events SET status = ?4, attempts = attempts + 1,
                            last_status = ?2, last_error = ?3, last_attempt_at = ?5
                     WHERE id = ?1",
                    params![
                        id.to_string(),
                        status,
                        error.chars().take(500).collect::<String>(),
                        if *give_up { "failed" } else { "pending" },
                        at
                    ],
                )?,
                Attempt::NotSent => tx.execute(
                    "UPDATE platform_events SET status = 'not_sent', last_attempt_at = ?2
                     WHERE id = ?1",
                    params![id.to_string(), at],
                )?,
            };
            load(tx, id)?.ok_or(StoreError::NotFound(Entity::PlatformEvent))
        })
    }

    /// Ops asked to try a given-up event again: it is `pending` once more.
    pub fn reopen_delivery(&self, id: PlatformEventId) -> StoreResult<PlatformEvent> {
        self.db().write(|tx| {
            tx.execute(
                "UPDATE platform_events SET status = 'pending'
                 WHERE id = ?1 AND status IN ('failed', 'not_sent')",
                [id.to_string()],
            )?;
            load(tx, id)?.ok_or(StoreError::NotFound(Entity::PlatformEvent))
        })
    }
}

/// The events a transition wrote (its `DeliverPlatformEvent` work).
pub fn events_of(applied: &Applied) -> Vec<PlatformEventId> {
    applied
        .after_commit
        .iter()
        .filter_map(|w| match w {
            AfterCommit::DeliverPlatformEvent(id) => Some(*id),
            _ => None,
        })
        .collect()
}

impl crate::control::ControlStore {
    /// Platform events not delivered yet, across workspaces: their delivery jobs waiting, being
    /// tried or given up (an event recorded as not sent is not counted: it has nowhere to go).
    pub fn undelivered_platform_events(&self) -> StoreResult<u64> {
        self.db.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM jobs WHERE kind = ?1
                   AND status IN ('queued', 'running', 'failed')",
                [PLATFORM_EVENT_JOB],
                |r| r.get(0),
            )?)
        })
    }
}

impl Storage {
    /// Flows 13, 24, 24A, 24B: one transition of a version of `tenant`, as
    /// [`TenantStore::transition_version`] applies it, plus the delivery job of every platform
    /// event it wrote, committed in `control.db` before the tenant's transaction commits (see
    /// the module comment). Every caller that may deploy, pause or resume goes through here.
    pub fn transition_version(
        &self,
        tenant: TenantId,
        id: AutomationId,
        n: VersionRef,
        req: &TransitionRequest<'_>,
    ) -> StoreResult<Applied> {
        let store = self.tenant(tenant)?;
        store.db().write(|tx| {
            let number = resolve(tx, id, n)?;
            let applied = apply_transition(tx, id, number, req)?;
            let events = events_of(&applied);
            if !events.is_empty() {
                self.control().db.write(|ctl| {
                    for event in &events {
                        enqueue(
                            ctl,
                            &NewJob::new(PLATFORM_EVENT_JOB, json!({"event_id": event}))
                                .tenant(tenant)
                                .unique_key(job_key(*event))
                                .max_attempts(MAX_ATTEMPTS),
                        )?;
                    }
                    Ok(())
                })?;
            }
            Ok(applied)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::versions::Validation;
    use crate::testing::*;

    #[test]
    fn pausing_and_resuming_write_an_event_and_its_job_together() {
        let (_d, s) = storage();
        let tenant = workspace_with_owner(&s, "acme", "owner@acme.example").0.id;
        let t = s.tenant(tenant).unwrap();
        let id = automation_with_blueprint(&t, &json!({"a": 1}), &Validation::default()).id;
        t.db()
            .write(|tx| {
                tx.execute("UPDATE versions SET status = 'live'", [])?;
                Ok(())
            })
            .unwrap();
        let go = |to| {
            s.transition_version(
                tenant,
                id,
                VersionRef::Latest,
                &TransitionRequest {
                    to,
                    reason: None,
                    actor: &owner(),
                    audit_actor: &who(),
                    request: &req(),
                    notify: &[],
                },
            )
            .unwrap()
        };
        let paused = go(VersionStatus::Paused);
        let resumed = go(VersionStatus::Live);
        let ids: Vec<_> = [&paused, &resumed]
            .iter()
            .flat_map(|a| events_of(a))
            .collect();
        assert_eq!(ids.len(), 2);
        let events = t.platform_events(&EventFilter::default()).unwrap();
        assert_eq!(
            events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["automation.resumed", "automation.paused"]
        );
        for e in &events {
            assert_eq!(e.status, DeliveryStatus::Pending);
            let job = s.control().job_by_key(&job_key(e.id)).unwrap().unwrap();
            assert_eq!(job.kind, PLATFORM_EVENT_JOB);
            assert_eq!(job.tenant_id, Some(tenant));
            assert_eq!(job.payload["event_id"], json!(e.id));
            let body = e.body(tenant);
            assert_eq!(body["id"], json!(e.id));
            assert_eq!(body["data"]["automation_id"], json!(id));
        }

        // Attempts are recorded; a delivered event stays delivered.
        let e = events[0].id;
        let failed = t
            .record_delivery(
                e,
                &Attempt::Failed {
                    status: Some(503),
                    error: "busy".into(),
                    give_up: false,
                },
            )
            .unwrap();
        assert_eq!(
            (failed.status, failed.attempts),
            (DeliveryStatus::Pending, 1)
        );
        let done = t.record_delivery(e, &Attempt::Delivered(200)).unwrap();
        assert_eq!((done.status, done.attempts), (DeliveryStatus::Delivered, 2));
        let late = t
            .record_delivery(
                e,
                &Attempt::Failed {
                    status: None,
                    error: "x".into(),
                    give_up: true,
                },
            )
            .unwrap();
        assert_eq!(late.status, DeliveryStatus::Delivered);
    }

    #[test]
    fn a_refused_transition_writes_no_event_and_no_job() {
        let (_d, s) = storage();
        let tenant = TenantId::new();
        let t = s.tenant(tenant).unwrap();
        let id = automation_with_blueprint(&t, &json!({"a": 1}), &Validation::default()).id;
        let refused = s.transition_version(
            tenant,
            id,
            VersionRef::Latest,
            &TransitionRequest {
                to: VersionStatus::Paused,
                reason: None,
                actor: &owner(),
                audit_actor: &who(),
                request: &req(),
                notify: &[],
            },
        );
        assert!(matches!(refused, Err(StoreError::Transition(_))));
        assert!(
            t.platform_events(&EventFilter::default())
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.control().count_jobs().unwrap().queued, 0);
    }
}
