//! Routes: the platform delivery log in the ops console (flows 24, 24A, 24B): every event sent
//! (or to be sent) to the WRK Platform, with its attempts, last status and next try, and a retry.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::PlatformEventId;

use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Limit};
use crate::services::platform_events::{self as svc, Delivery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deliveries))
        .routes(routes!(delivery_retry))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
    /// Whether `WRK_PLATFORM_URL` is set (without it nothing is sent).
    pub platform_configured: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
}

/// The platform delivery log, newest first, across workspaces.
#[utoipa::path(get, path = "/api/ops/platform-events", tag = "ops", params(DeliveryQuery),
    responses((status = 200, body = DeliveryList),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn deliveries(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let limit = Limit::or_default(q.limit);
    let items = app.blocking(move |s| svc::delivery_log(s, limit)).await?;
    Ok(Json(DeliveryList {
        items,
        next_cursor: None,
        platform_configured: app.config.platform_url.is_some(),
    }))
}

/// Tries an event again now (given up, not sent, or waiting for its next try).
#[utoipa::path(post, path = "/api/ops/platform-events/{id}/retry", tag = "ops",
    params(("id" = String, Path, description = "The event id")),
    responses((status = 200, body = Delivery),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Delivered already, or being sent", body = Problem,
               content_type = "application/problem+json")))]
async fn delivery_retry(
    State(app): State<AppState>,
    ops: OpsSession,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    let id = PlatformEventId::parse(&id).map_err(|_| ApiError::not_found("platform event"))?;
    let d = app.blocking(move |s| svc::retry(s, id)).await?;
    tracing::info!(event = %id, ops_user = %ops.user.id, "platform event retried by ops");
    app.jobs.wake();
    Ok(Json(d))
}
