//! Endpoints every host answers: health, readiness, metrics and the OpenAPI document.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::scope::Scope;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Storage and plugins are ready to serve.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready yet", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    if !app.ready.load(Ordering::Acquire) {
        return Err(ApiError::Unavailable);
    }
    app.blocking(|s| s.control().count_tenants()).await?;
    Ok("ok")
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    let (tenants, depth) = app
        .blocking(|s| Ok((s.control().count_tenants()?, s.control().job_queue_depth()?)))
        .await?;
    app.metrics
        .open_tenants
        .set(i64::try_from(app.storage.open_tenants()).unwrap_or(i64::MAX));
    app.metrics
        .tenants_total
        .set(i64::try_from(tenants).unwrap_or(i64::MAX));
    app.metrics
        .job_queue_depth
        .set(i64::try_from(depth).unwrap_or(i64::MAX));
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        app.metrics.encode(),
    )
        .into_response())
}

/// This host's API as an OpenAPI 3.1 document (apex, workspace and ops hosts each publish what
/// they serve).
#[utoipa::path(get, path = "/api/openapi.json", tag = "health",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi(
    State(app): State<AppState>,
    scope: Option<axum::Extension<Scope>>,
) -> Response {
    let doc = match scope.map(|s| s.0) {
        Some(Scope::Ops) => &app.docs.ops,
        Some(Scope::Tenant(_)) => &app.docs.tenant,
        _ => &app.docs.apex,
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        doc.clone(),
    )
        .into_response()
}
