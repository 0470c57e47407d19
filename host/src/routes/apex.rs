//! The apex host (`{base}`): the landing page now; accounts, signup and login as they land.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::web;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/", get(landing))
        .merge(super::account::router())
        .merge(super::oidc::router())
        .merge(super::pages::apex())
}

async fn landing(headers: HeaderMap) -> Response {
    web::page("landing", &headers, StatusCode::OK)
}
