//! Routes: ops authentication on the ops host — login, refresh, logout and `/api/ops/me`.
//! Ops tokens work only here; client tokens are refused here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_tenants::identity::sessions::Subject;

use super::account::{LoginRequest, SessionMode, TokenResponse, respond};
use crate::auth::session::{self, OpsSession};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::services::identity;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops_login))
        .routes(routes!(ops_refresh))
        .routes(routes!(ops_logout))
        .routes(routes!(ops_me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsUserView {
    pub id: String,
    pub email: String,
    /// `ops` or `ops_admin`.
    pub role: String,
}

/// Ops login: an ops token (`roles: ["ops"|"ops_admin"]`), valid on the ops host only.
#[utoipa::path(post, path = "/api/ops/auth/login", tag = "ops auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn ops_login(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let (user, tokens) = identity::ops_login(&app, &req.email, req.password).await?;
    let cookies = match req.session {
        Some(SessionMode::Cookie) => {
            Some(session::cookie_session(&app, Subject::Ops(user.id), None).await?)
        }
        _ => None,
    };
    let mut body = TokenResponse::new(tokens);
    body.role = Some(user.role.to_string());
    Ok(respond(StatusCode::OK, cookies, body))
}

/// Rotates an ops refresh token.
#[utoipa::path(post, path = "/api/ops/auth/refresh", tag = "ops auth", request_body = super::account::RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
async fn ops_refresh(
    state: State<AppState>,
    scope: axum::Extension<crate::scope::Scope>,
    body: ApiJson<super::account::RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    super::account::refresh(state, scope, body).await
}

/// Ops logout: revokes the refresh token / browser session and clears the cookies.
#[utoipa::path(post, path = "/api/ops/auth/logout", tag = "ops auth",
    responses((status = 204, description = "Logged out")))]
async fn ops_logout(
    state: State<AppState>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    super::account::logout(state, parts, body).await
}

/// The signed-in ops user.
#[utoipa::path(get, path = "/api/ops/me", tag = "ops auth",
    responses((status = 200, body = OpsUserView), (status = 401, body = Problem)))]
async fn ops_me(s: OpsSession) -> Json<OpsUserView> {
    Json(OpsUserView {
        id: s.user.id.to_string(),
        email: s.user.email.clone(),
        role: s.user.role.to_string(),
    })
}
