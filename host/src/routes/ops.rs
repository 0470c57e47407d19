//! The ops host (`ops.{base}`): the console shell at `/ops`, and the ops API as it lands.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::web;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/", get(|| async { Redirect::to("/ops") }))
        .route("/ops", get(shell))
        .route("/ops/{*rest}", get(shell))
        .merge(super::ops_auth::router())
        .merge(super::ops_outbox::router())
        .merge(super::ops_platform::router())
        .merge(super::ops_automations::router())
        .merge(super::ops_plugins::router())
        .merge(super::ops_fences::router())
        .merge(super::ops_quotes::router())
        .merge(super::ops_billing::router())
        .merge(super::ops_clients::router())
        .merge(super::ops_home::router())
        .merge(super::pages::ops())
        .merge(super::directory::ops())
        .merge(super::messages::ops_router())
        .merge(super::events::ops_router())
}

async fn shell(headers: HeaderMap) -> Response {
    web::page("ops", &headers, StatusCode::OK)
}
