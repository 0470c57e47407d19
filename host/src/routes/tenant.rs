//! A workspace host (`{slug}.{base}`): the app shell at `/app`, and the tenant API as it lands.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::web;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(shell))
        .route("/app/{*rest}", get(shell))
        .merge(super::team::router())
        .merge(super::automations::router())
        .merge(super::documents::router())
        .merge(super::tasks::router())
        .merge(super::quotes::router())
        .merge(super::billing::router())
        .merge(super::credentials::router())
        .merge(super::audit::router())
        .merge(super::pages::tenant())
        .merge(super::directory::tenant())
        .merge(super::workspace_settings::router())
        .merge(super::usage::router())
        .merge(super::messages::tenant_router())
        .merge(super::notifications::router())
        .merge(super::events::tenant_router())
}

async fn shell(headers: HeaderMap) -> Response {
    web::page("workspace", &headers, StatusCode::OK)
}
