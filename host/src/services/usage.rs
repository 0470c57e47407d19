//! Flows 27-29 around the store: receiving a signed platform event, and the durable job that
//! folds stored events into usage and alerts off the request path.
//!
//! - [`receive`] checks the `WRK-Signature` over the raw body with the workspace's secrets
//!   (`wrk_core::signature`), stores the event once per id and schedules a fold.
//! - A fold job (`fold_platform_events`) is keyed by workspace and second and runs just after that
//!   second ends, so every event stored in a second is folded by its second's job; bursts cost one
//!   job per workspace per second. The job folds everything unfolded (exactly once: see
//!   `wrk_tenants::usage`), then mails the alerts that fired.
//! - At start-up a sweep job folds what a crash between storing an event and scheduling its job
//!   left behind.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use wrk_core::ids::{TenantId, UserId};
use wrk_core::roles::ClientRole;
use wrk_core::signature::{self, DEFAULT_TOLERANCE_SECS};
use wrk_core::usage::EventType;
use wrk_tenants::inbound_events::NewPlatformEvent;
use wrk_tenants::jobs::NewJob;
use wrk_tenants::{Storage, StoreError};

use crate::error::ApiError;
use crate::jobs::{JobContext, JobError};
use crate::state::AppState;

/// The job kind that folds one workspace's stored events; payload `{"tenant_id": "..."}`.
pub const FOLD_JOB: &str = "fold_platform_events";
/// The start-up sweep over every workspace.
pub const SWEEP_JOB: &str = "fold_platform_events_sweep";

/// Longest accepted event id.
pub const MAX_EVENT_ID: usize = 200;

/// The event as the platform sends it (API.md "Platform event").
#[derive(Debug, Deserialize)]
struct Incoming {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    occurred_at: DateTime<Utc>,
    data: Value,
}

/// The outcome of a received request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub duplicate: bool,
}

/// Verifies, parses and stores one event for `tenant` (flow 27). A bad signature is refused
/// before the body is parsed and nothing is stored.
pub async fn receive(
    app: &AppState,
    tenant: TenantId,
    header: Option<String>,
    body: bytes::Bytes,
) -> Result<Received, ApiError> {
    let storage = app.storage.clone();
    let stored = crate::blocking::run(move || -> Result<bool, ApiError> {
        let store = storage.tenant(tenant)?;
        let now = Utc::now();
        let secrets = store.webhook_secrets(now)?;
        let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
        if let Err(why) = signature::verify(
            &keys,
            header.as_deref(),
            &body,
            now.timestamp(),
            DEFAULT_TOLERANCE_SECS,
        ) {
            tracing::info!(reason = %why, "platform webhook refused");
            return Err(ApiError::InvalidSignature);
        }
        let event = parse(&body)?;
        Ok(store.store_platform_event(&event)?)
    })
    .await?;
    schedule_fold(app, tenant).await?;
    Ok(Received { duplicate: !stored })
}

/// The event of a genuine body, or a 422 naming what is wrong.
fn parse(body: &[u8]) -> Result<NewPlatformEvent, ApiError> {
    let e: Incoming = serde_json::from_slice(body)
        .map_err(|e| ApiError::validation("body", format!("not a platform event: {e}")))?;
    if e.id.is_empty() || e.id.len() > MAX_EVENT_ID {
        return Err(ApiError::validation(
            "id",
            format!("1 to {MAX_EVENT_ID} characters"),
        ));
    }
    let kind = EventType::parse(&e.kind).ok_or_else(|| {
        ApiError::validation(
            "type",
            "one of run.started, run.succeeded, run.failed, credential.failed",
        )
    })?;
    let Some(automation_id) = e.data.get("automation_id").and_then(Value::as_str) else {
        return Err(ApiError::validation("data.automation_id", "is required"));
    };
    if !e.data.is_object() {
        return Err(ApiError::validation("data", "must be an object"));
    }
    Ok(NewPlatformEvent {
        id: e.id,
        kind,
        automation_id: automation_id.to_owned(),
        occurred_at: e.occurred_at,
        data: e.data.to_string(),
    })
}

/// The second each workspace last had its fold job scheduled in, by this process: saves a
/// control-plane write per event in a burst.
fn scheduled() -> &'static Mutex<HashMap<TenantId, i64>> {
    static S: OnceLock<Mutex<HashMap<TenantId, i64>>> = OnceLock::new();
    S.get_or_init(Default::default)
}

fn fold_job(tenant: TenantId, second: i64) -> NewJob {
    let at = DateTime::<Utc>::from_timestamp(second + 1, 0).unwrap_or_else(Utc::now);
    NewJob::new(FOLD_JOB, json!({ "tenant_id": tenant }))
        .tenant(tenant)
        .unique_key(format!("{FOLD_JOB}:{tenant}:{second}"))
        .run_at(at)
}

/// Makes sure a fold job runs after the current second for `tenant` (call after the event's
/// transaction committed: the job then sees it).
pub async fn schedule_fold(app: &AppState, tenant: TenantId) -> Result<(), ApiError> {
    let second = Utc::now().timestamp();
    if scheduled().lock().get(&tenant) == Some(&second) {
        return Ok(());
    }
    app.blocking(move |s| s.control().enqueue_job(&fold_job(tenant, second)))
        .await?;
    let mut map = scheduled().lock();
    if map.len() > 10_000 {
        map.clear();
    }
    map.insert(tenant, second);
    Ok(())
}

/// Start-up: a sweep that schedules a fold for every workspace with unfolded events.
pub fn schedule_sweep(storage: &Storage) -> Result<(), StoreError> {
    storage
        .control()
        .enqueue_job(&NewJob::new(SWEEP_JOB, json!({})).max_attempts(5))?;
    Ok(())
}

pub async fn sweep_job(ctx: JobContext) -> Result<(), JobError> {
    let storage = ctx.storage.clone();
    crate::blocking::run(move || -> Result<(), JobError> {
        let second = Utc::now().timestamp();
        for t in storage.control().list_tenants()? {
            if storage.tenant(t.id)?.unfolded_event_count()? > 0 {
                storage.control().enqueue_job(&fold_job(t.id, second))?;
            }
        }
        Ok(())
    })
    .await
}

/// The owners and admins of a workspace: who gets alerts.
fn admins(
    storage: &Storage,
    tenant: TenantId,
) -> Result<Vec<(UserId, String, String)>, StoreError> {
    Ok(storage
        .control()
        .members(tenant)?
        .into_iter()
        .filter(|m| matches!(m.role, ClientRole::Owner | ClientRole::Admin))
        .map(|m| (m.user_id, m.email, m.name))
        .collect())
}

/// The fold job: folds the workspace's stored events, then mails each alert not mailed yet.
pub async fn fold_job_handler(ctx: JobContext) -> Result<(), JobError> {
    let tenant = ctx
        .job
        .payload
        .get("tenant_id")
        .and_then(Value::as_str)
        .and_then(|s| TenantId::parse(s).ok())
        .ok_or_else(|| JobError::permanent("the job has no tenant_id"))?;
    let storage = ctx.storage.clone();
    let config = ctx.config.clone();
    crate::blocking::run(move || fold_and_mail(&storage, &config, tenant)).await?;
    Ok(())
}

fn fold_and_mail(
    storage: &Arc<Storage>,
    config: &crate::config::Config,
    tenant: TenantId,
) -> Result<(), JobError> {
    let record = match storage.control().tenant(tenant) {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => {
            return Err(JobError::permanent("the workspace no longer exists"));
        }
        Err(e) => return Err(e.into()),
    };
    let admins = admins(storage, tenant)?;
    let ids: Vec<UserId> = admins.iter().map(|a| a.0).collect();
    let store = storage.tenant(tenant)?;
    let report = store.fold_events(&ids)?;
    if report.events > 0 {
        tracing::debug!(
            events = report.events,
            runs = report.runs_counted,
            alerts = report.alerts.len(),
            "folded platform events"
        );
    }
    // Flow 26: the fold blocked and notified in its own transaction; the emails follow it (a
    // crash in between loses them, never the block).
    for f in report.credential_failures.iter().filter(|f| f.email) {
        let people: Vec<(&str, &str)> = admins
            .iter()
            .map(|(_, email, name)| (email.as_str(), name.as_str()))
            .collect();
        super::credentials::email_failure(
            storage,
            config,
            tenant,
            &people,
            f.system.as_deref(),
            f.blocked,
            f.error.as_deref(),
        )?;
    }
    for alert in store.alerts_to_email()? {
        let link = crate::auth::session::workspace_url(
            config,
            record.subdomain.as_str(),
            &format!("/app/automations/{}?tab=usage", alert.automation_id),
        );
        let (title, body) = (alert.title(), alert.body());
        let emails: Vec<_> = admins
            .iter()
            .map(|(_, email, name)| {
                crate::email::outgoing(
                    email,
                    "alert",
                    crate::email::notification(&title, &[&body], Some(("See usage", &link)), name),
                )
            })
            .collect();
        storage
            .control()
            .enqueue_alert_emails(tenant, alert.id, &emails)?;
        store.mark_alert_emailed(alert.id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_must_be_a_platform_event() {
        let ok = br#"{"id":"e1","type":"run.succeeded","occurred_at":"2026-01-01T00:00:00Z","data":{"automation_id":"a","run_id":"r"}}"#;
        let e = parse(ok).unwrap();
        assert_eq!((e.id.as_str(), e.kind), ("e1", EventType::RunSucceeded));
        for bad in [
            &br#"not json"#[..],
            br#"{"id":"","type":"run.succeeded","occurred_at":"2026-01-01T00:00:00Z","data":{"automation_id":"a"}}"#,
            br#"{"id":"e","type":"run.exploded","occurred_at":"2026-01-01T00:00:00Z","data":{"automation_id":"a"}}"#,
            br#"{"id":"e","type":"run.started","occurred_at":"2026-01-01T00:00:00Z","data":{}}"#,
            br#"{"id":"e","type":"run.started","occurred_at":"yesterday","data":{"automation_id":"a"}}"#,
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
