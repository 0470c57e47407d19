//! Outbound platform events (flows 24, 24A, 24B): the job that sends one event to
//! `WRK_PLATFORM_URL`, signed with `WRK_PLATFORM_SECRET` (`WRK-Signature: t=…,v1=…`, the pure
//! scheme of `wrk_core::signature`), and the ops delivery log.
//!
//! The event and its job are written with the transition (`wrk_tenants::platform_events`). The
//! job queue gives delivery at least once with exponential backoff and jitter, across restarts
//! and kill -9; the event's `id` is stable, so the receiver deduplicates. Each attempt is recorded
//! on the event (attempts, last HTTP status or error, when). With no URL configured an event is
//! recorded as `not_sent` and its job ends: the log says "not sent: no platform configured".

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use wrk_core::ids::{PlatformEventId, TenantId};
use wrk_tenants::jobs::{JobFilter, JobRecord, JobStatus};
use wrk_tenants::platform_events::{
    Attempt, DeliveryStatus, PLATFORM_EVENT_JOB, PlatformEvent, job_key,
};
use wrk_tenants::{Entity, Storage, StoreError};

use crate::jobs::{JobContext, JobError};

/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts after which a job whose event is not in its workspace's file gives up: the event's
/// transaction never committed (a crash between the two commits, see
/// `wrk_tenants::platform_events`). Earlier attempts wait, in case it is still committing.
const MISSING_EVENT_ATTEMPTS: u32 = 3;

const MISSING: &str = "missing event";

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with a timeout builds")
    })
}

/// The job handler of [`PLATFORM_EVENT_JOB`].
pub async fn deliver_job(ctx: JobContext) -> Result<(), JobError> {
    let tenant = ctx
        .job
        .tenant_id
        .ok_or_else(|| JobError::permanent("a platform event job without a workspace"))?;
    let id = ctx
        .job
        .payload
        .get("event_id")
        .and_then(|v| v.as_str())
        .and_then(|s| PlatformEventId::parse(s).ok())
        .ok_or_else(|| JobError::permanent("a platform event job without an event id"))?;
    let storage = ctx.storage.clone();
    let found: Result<PlatformEvent, JobError> =
        crate::blocking::run(move || match storage.tenant(tenant)?.platform_event(id) {
            Err(StoreError::NotFound(Entity::PlatformEvent)) => {
                Err(JobError::Permanent(MISSING.to_owned()))
            }
            other => Ok(other?),
        })
        .await;
    let event = match found {
        Ok(e) => e,
        Err(JobError::Permanent(m)) if m == MISSING => {
            if ctx.job.attempts >= MISSING_EVENT_ATTEMPTS {
                tracing::warn!(%tenant, event = %id, "platform event never committed; nothing to send");
                return Ok(());
            }
            return Err(JobError::retry("the event is not stored (yet)"));
        }
        Err(e) => return Err(e),
    };
    if event.status == DeliveryStatus::Delivered {
        return Ok(());
    }
    let attempt = match ctx.config.platform_url.as_deref() {
        None => Attempt::NotSent,
        Some(url) => send(url, ctx.config.platform_secret.as_deref(), &event, tenant).await,
    };
    let give_up = ctx.last_attempt();
    let attempt = match attempt {
        Attempt::Failed { status, error, .. } => Attempt::Failed {
            status,
            error,
            give_up,
        },
        other => other,
    };
    let storage = ctx.storage.clone();
    let recorded = attempt.clone();
    crate::blocking::run(move || {
        Ok::<_, JobError>(storage.tenant(tenant)?.record_delivery(id, &recorded)?)
    })
    .await?;
    match attempt {
        Attempt::Delivered(_) | Attempt::NotSent => Ok(()),
        Attempt::Failed { status, error, .. } => Err(JobError::Retry(match status {
            Some(s) => format!("the platform answered {s}"),
            None => error,
        })),
    }
}

/// One signed POST of `event`.
async fn send(url: &str, secret: Option<&str>, event: &PlatformEvent, tenant: TenantId) -> Attempt {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Attempt::Failed {
            status: None,
            error: "WRK_PLATFORM_SECRET is not set, so the event cannot be signed".into(),
            give_up: false,
        };
    };
    let body = serde_json::to_vec(&event.body(tenant)).unwrap_or_default();
    let signature = wrk_core::signature::sign(secret.as_bytes(), Utc::now().timestamp(), &body);
    let sent = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("WRK-Signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Attempt::Delivered(r.status().as_u16()),
        Ok(r) => Attempt::Failed {
            status: Some(r.status().as_u16()),
            error: format!("the platform answered {}", r.status()),
            give_up: false,
        },
        Err(e) => Attempt::Failed {
            status: None,
            error: if e.is_timeout() {
                "the platform did not answer in time".into()
            } else if e.is_connect() {
                "the platform could not be reached".into()
            } else {
                "the request to the platform failed".into()
            },
            give_up: false,
        },
    }
}

/// One row of the ops delivery log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    /// `automation.deployed`, `automation.paused` or `automation.resumed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub tenant_id: String,
    pub workspace: String,
    pub automation_id: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    /// `pending`, `delivered`, `failed` or `not_sent`.
    pub status: String,
    /// The status in words, e.g. "not sent: no platform configured".
    pub status_label: String,
    pub attempts: u32,
    /// The HTTP status of the last attempt, when the platform answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the queue tries again (pending events only).
    pub next_try_at: Option<DateTime<Utc>>,
    /// Whether ops can ask for another try now.
    pub retryable: bool,
}

fn label(status: DeliveryStatus, job: &JobRecord) -> &'static str {
    match status {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::NotSent => "not sent: no platform configured",
        DeliveryStatus::Failed => "failed: gave up after every attempt",
        DeliveryStatus::Pending if job.attempts == 0 => "waiting to be sent",
        DeliveryStatus::Pending => "waiting to retry",
    }
}

/// The delivery log across workspaces, newest first (at most `limit` events): the jobs say
/// which events exist and when the next try is; each workspace's file says how the attempts
/// went.
pub fn delivery_log(storage: &Storage, limit: u32) -> Result<Vec<Delivery>, StoreError> {
    let jobs = storage.control().list_jobs(&JobFilter {
        status: None,
        kind: Some(PLATFORM_EVENT_JOB.to_owned()),
        limit,
    })?;
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let Some(tenant) = job.tenant_id else {
            continue;
        };
        let Some(id) = job
            .payload
            .get("event_id")
            .and_then(|v| v.as_str())
            .and_then(|s| PlatformEventId::parse(s).ok())
        else {
            continue;
        };
        let event = match storage.tenant(tenant)?.platform_event(id) {
            Ok(e) => e,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let workspace = storage
            .control()
            .tenant_by_id(tenant)?
            .map(|t| t.name)
            .unwrap_or_default();
        out.push(view(tenant, workspace, &event, &job));
    }
    Ok(out)
}

fn view(tenant: TenantId, workspace: String, e: &PlatformEvent, job: &JobRecord) -> Delivery {
    let pending = e.status == DeliveryStatus::Pending;
    Delivery {
        id: e.id.to_string(),
        kind: e.kind.clone(),
        tenant_id: tenant.to_string(),
        workspace,
        automation_id: e.automation_id.to_string(),
        version: e.version,
        occurred_at: e.occurred_at,
        status: e.status.as_str().to_owned(),
        status_label: label(e.status, job).to_owned(),
        attempts: e.attempts,
        last_status: e.last_status,
        last_error: e.last_error.clone(),
        last_attempt_at: e.last_attempt_at,
        next_try_at: (pending && job.status == JobStatus::Queued).then_some(job.run_at),
        retryable: e.status != DeliveryStatus::Delivered && job.status != JobStatus::Running,
    }
}

/// Ops "retry": the event's job runs again now (a given-up or never-sent event is `pending`
/// again). A delivered event is a 409.
pub fn retry(storage: &Storage, id: PlatformEventId) -> Result<Delivery, StoreError> {
    let job = storage
        .control()
        .job_by_key(&job_key(id))?
        .ok_or(StoreError::NotFound(Entity::PlatformEvent))?;
    let tenant = job
        .tenant_id
        .ok_or(StoreError::NotFound(Entity::PlatformEvent))?;
    let t = storage.tenant(tenant)?;
    let event = t.platform_event(id)?;
    if event.status == DeliveryStatus::Delivered {
        return Err(StoreError::Conflict(
            "this event was delivered already".into(),
        ));
    }
    storage.control().run_job_now(job.id)?;
    let event = t.reopen_delivery(id)?;
    let job = storage
        .control()
        .job(job.id)?
        .ok_or(StoreError::NotFound(Entity::Job))?;
    let workspace = storage
        .control()
        .tenant_by_id(tenant)?
        .map(|t| t.name)
        .unwrap_or_default();
    Ok(view(tenant, workspace, &event, &job))
}
