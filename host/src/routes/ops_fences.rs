//! Routes: fencing a workspace on this host while it moves to another one
//! (`/api/ops/tenants/{tid}/fence`, `ops_admin` only). While fenced, every request for the
//! workspace on this host is answered `503 unavailable` with `Retry-After`, and no job of this
//! host opens its file. The work is in [`wrk_tenants::Storage::fence`].

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::TenantId;
use wrk_tenants::FenceOutcome;

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientMeta};
use crate::state::AppState;

/// How long a fence waits for the requests already in flight on the workspace.
const DRAIN: Duration = Duration::from_secs(10);

/// The longest `Retry-After` a fence may announce.
pub const MAX_RETRY_AFTER: u32 = 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tenant_fence, tenant_unfence))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FenceBody {
    /// The seconds clients are told to wait (`Retry-After`), 1 to 3600.
    #[schema(minimum = 1, maximum = 3600)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub retry_after_secs: u32,
}

/// A workspace fenced on this host.
#[derive(Debug, Serialize, ToSchema)]
pub struct FenceView {
    pub tenant: String,
    pub retry_after_secs: u32,
    pub since: DateTime<Utc>,
    /// Whether every request and job that was using the workspace had finished when this
    /// answered (after that, this host writes nothing to its file); `false` means one was still
    /// running after 10 seconds: try again before copying the file.
    pub drained: bool,
}

fn tenant_id(tid: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(tid).map_err(|_| ApiError::not_found("workspace"))
}

/// Fences the workspace on this host (idempotent: fencing again updates `Retry-After` and drains
/// again).
#[utoipa::path(put, path = "/api/ops/tenants/{tid}/fence", tag = "ops",
    params(("tid" = String, Path)), request_body = FenceBody,
    responses((status = 200, body = FenceView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn tenant_fence(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(tid): Path<String>,
    ApiJson(body): ApiJson<FenceBody>,
) -> Result<Json<FenceView>, ApiError> {
    ops.require_admin()?;
    let id = tenant_id(&tid)?;
    let secs = body.retry_after_secs;
    if !(1..=MAX_RETRY_AFTER).contains(&secs) {
        return Err(ApiError::validation(
            "retry_after_secs",
            format!("must be between 1 and {MAX_RETRY_AFTER}"),
        ));
    }
    let actor = ops.audit_actor();
    let (outcome, fence) = app
        .blocking(move |s| {
            let outcome = s.fence(id, secs, DRAIN, &actor, &meta.0)?;
            Ok((outcome, s.fenced(id)))
        })
        .await?;
    let fence = fence.ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(Json(FenceView {
        tenant: id.to_string(),
        retry_after_secs: fence.retry_after_secs,
        since: fence.since,
        drained: outcome == FenceOutcome::Drained,
    }))
}

/// Lifts this host's fence of the workspace (204 whether or not it was fenced).
#[utoipa::path(delete, path = "/api/ops/tenants/{tid}/fence", tag = "ops",
    params(("tid" = String, Path)),
    responses((status = 204),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn tenant_unfence(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(tid): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops.require_admin()?;
    let id = tenant_id(&tid)?;
    let actor = ops.audit_actor();
    app.blocking(move |s| s.unfence(id, &actor, &meta.0))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
