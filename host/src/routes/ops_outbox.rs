//! Routes: the email outbox and the job queue in the ops console (ops host, any ops role).
//! The outbox shows what was sent and to whom, never a usable link: subjects and bodies pass
//! through `wrk_core::redact::mask_secrets` (link parameters and token-like runs hidden). With no
//! SMTP configured the messages, links included, are in the server log for the host's admin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::JobId;
use wrk_core::redact::mask_secrets;
use wrk_tenants::jobs::{JobFilter, JobRecord, JobStatus};
use wrk_tenants::outbox::{EmailFilter, EmailRecord, EmailStatus};

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Limit};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(outbox))
        .routes(routes!(jobs))
        .routes(routes!(retry_job))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailView {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// The plain-text body, with every link parameter and token hidden (`[hidden]`): the
    /// outbox never shows a usable link.
    pub text: String,
    pub kind: String,
    /// `queued`, `held` (no SMTP configured), `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<EmailRecord> for EmailView {
    fn from(e: EmailRecord) -> Self {
        Self {
            id: e.id,
            to: e.to,
            subject: mask_secrets(&e.subject),
            text: mask_secrets(&e.text),
            kind: e.kind,
            status: e.status.as_str().to_owned(),
            attempts: e.attempts,
            last_error: e.last_error.as_deref().map(mask_secrets),
            created_at: e.created_at,
            sent_at: e.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailList {
    pub items: Vec<EmailView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `queued`, `held`, `sent` or `failed`.
    pub status: Option<String>,
    /// Exact recipient address.
    pub to: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
}

/// The email outbox, newest first.
#[utoipa::path(get, path = "/api/ops/outbox", tag = "ops", params(OutboxQuery),
    responses((status = 200, body = EmailList), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn outbox(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<EmailList>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(EmailStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status", "must be queued, held, sent or failed")
        })?),
    };
    let filter = EmailFilter {
        status,
        to: q.to.map(|t| t.trim().to_ascii_lowercase()),
        limit: Limit::or_default(q.limit),
    };
    let items = app
        .blocking(move |s| s.control().list_emails(&filter))
        .await?;
    Ok(Json(EmailList {
        items: items.into_iter().map(EmailView::from).collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub tenant_id: Option<String>,
    pub unique_key: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        Self {
            id: j.id.to_string(),
            kind: j.kind,
            tenant_id: j.tenant_id.map(|t| t.to_string()),
            unique_key: j.unique_key,
            payload: j.payload,
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error.as_deref().map(mask_secrets),
            locked_until: j.locked_until,
            status: j.status.as_str().to_owned(),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `queued`, `running`, `done` or `failed`.
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
}

/// Background jobs, newest first.
#[utoipa::path(get, path = "/api/ops/jobs", tag = "ops", params(JobsQuery),
    responses((status = 200, body = JobList), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn jobs(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<JobList>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(JobStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status", "must be queued, running, done or failed")
        })?),
    };
    let filter = JobFilter {
        status,
        kind: q.kind.filter(|k| !k.is_empty()),
        limit: Limit::or_default(q.limit),
    };
    let items = app
        .blocking(move |s| s.control().list_jobs(&filter))
        .await?;
    Ok(Json(JobList {
        items: items.into_iter().map(JobView::from).collect(),
        next_cursor: None,
    }))
}

/// Puts a failed job back in the queue with fresh attempts.
#[utoipa::path(post, path = "/api/ops/jobs/{id}/retry", tag = "ops",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, description = "Not failed", body = Problem)))]
async fn retry_job(
    State(app): State<AppState>,
    ops: OpsSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = JobId::parse(&id).map_err(|_| ApiError::not_found("job"))?;
    app.blocking(move |s| s.control().retry_job(id)).await?;
    tracing::info!(job_id = %id, ops_user = %ops.user.id, "job retried by ops");
    app.jobs.wake();
    Ok(StatusCode::NO_CONTENT)
}
