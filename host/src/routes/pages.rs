//! Browser page shells for the identity flows (apex, workspace and ops hosts), plus the two tiny
//! JSON helpers those pages need and no other client does:
//!
//! - `GET /api/auth/providers` (apex): the configured OpenID Connect providers, for the
//!   "Continue with …" buttons — `{items:[{name, start_url}]}`.
//! - `POST /api/account/landing` (apex, signed in): where to send the browser after login or
//!   verification — `{url}`: the last-used workspace through a handoff link, else the picker,
//!   else "create workspace" (see [`session::landing_url`]).
//! - `GET /api/me/workspaces` (workspace host, signed-in member): the member's other workspaces,
//!   for the switcher in the app's frame — `{items:[{tenant_id, name, subdomain, role}]}`.
//!
//! The pages themselves are static shells (`web/assets/pages/*.html`) served with `no-cache`.
//! These routes are plain `.route(...)`s: not part of the published API document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use super::account::{WorkspaceList, WorkspaceView};
use crate::auth::session::{self, AccountSession, Principal};
use crate::ctx::TenantCtx;
use crate::error::ApiError;
use crate::extract::CurrentTenant;
use crate::state::AppState;
use crate::web;

/// Apex pages: signup, login, verification, password reset, workspaces, invitations.
pub fn apex() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/signup", get(|h: HeaderMap| shell("signup", h)))
        .route("/login", get(|h: HeaderMap| shell("login", h)))
        .route(
            "/verify-email",
            get(|h: HeaderMap| shell("verify-email", h)),
        )
        .route(
            "/forgot-password",
            get(|h: HeaderMap| shell("forgot-password", h)),
        )
        .route(
            "/reset-password",
            get(|h: HeaderMap| shell("reset-password", h)),
        )
        .route("/workspaces", get(|h: HeaderMap| shell("workspaces", h)))
        .route(
            "/workspaces/new",
            get(|h: HeaderMap| shell("workspace-new", h)),
        )
        .route("/invite", get(|h: HeaderMap| shell("invite", h)))
        .route("/api/auth/providers", get(providers))
        .route("/api/account/landing", post(landing))
}

/// Workspace-host helpers (the app shell itself lives in `tenant.rs`).
pub fn tenant() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/api/me/workspaces", get(my_workspaces))
        .route("/login", get(workspace_login_page))
        .route("/signup", get(workspace_login_page))
}

/// `/login` on a workspace host: the apex login, which then opens this very workspace (or says
/// the account has no access to it).
async fn workspace_login_page(
    State(app): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    uri: axum::http::Uri,
) -> axum::response::Redirect {
    let page = if uri.path() == "/signup" {
        "signup"
    } else {
        "login"
    };
    let next = format!("/workspaces?switch={}", t.subdomain);
    axum::response::Redirect::to(&format!(
        "//{}/{page}?next={}",
        app.config.base_domain,
        urlencoding_min(&next)
    ))
}

/// Percent-encodes the few characters of a path-and-query that matter inside a query value.
fn urlencoding_min(s: &str) -> String {
    s.replace('%', "%25")
        .replace('&', "%26")
        .replace('=', "%3D")
        .replace('?', "%3F")
        .replace('/', "%2F")
}

/// Ops-host pages: the console's login.
pub fn ops() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/ops/login", get(|h: HeaderMap| shell("ops-login", h)))
}

async fn shell(name: &'static str, headers: HeaderMap) -> Response {
    web::page(name, &headers, StatusCode::OK)
}

#[derive(Debug, Serialize)]
struct Provider {
    name: String,
    start_url: String,
}

#[derive(Debug, Serialize)]
struct Providers {
    items: Vec<Provider>,
}

async fn providers(State(app): State<AppState>) -> Json<Providers> {
    Json(Providers {
        items: app
            .config
            .oidc
            .keys()
            .map(|name| Provider {
                name: name.clone(),
                start_url: format!("/api/auth/oidc/{name}/start"),
            })
            .collect(),
    })
}

#[derive(Debug, Serialize)]
struct Landing {
    url: String,
}

async fn landing(
    State(app): State<AppState>,
    s: AccountSession,
) -> Result<Json<Landing>, ApiError> {
    let url = session::landing_url(&app, s.user.id).await?;
    Ok(Json(Landing { url }))
}

async fn my_workspaces(ctx: TenantCtx) -> Result<Json<WorkspaceList>, ApiError> {
    let Principal::User(user) = &ctx.session.principal else {
        return Ok(Json(WorkspaceList {
            items: vec![],
            next_cursor: None,
        }));
    };
    let uid = user.id;
    let ws = ctx
        .app
        .blocking(move |st| st.control().workspaces_of(uid))
        .await?;
    Ok(Json(WorkspaceList {
        items: ws.iter().map(WorkspaceView::from).collect(),
        next_cursor: None,
    }))
}
