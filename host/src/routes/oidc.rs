//! Routes: OpenID Connect sign-in on the apex (flow 1A). The protocol lives in [`crate::oidc`];
//! users and sessions in the identity code. These handlers only glue them together:
//!
//! - `GET /api/auth/oidc/{provider}/start[?invite=TOKEN]` → 302 to the IdP (code + PKCE S256,
//!   `state`, `nonce`), setting the sealed flow cookie.
//! - `GET /api/auth/oidc/{provider}/callback?code&state` → verifies, finds or creates the user by
//!   `(issuer, subject)`, accepts the carried invitation if any, starts the apex browser session
//!   (host-only cookie) and 302s onward: into the invited or last-used workspace (through the
//!   one-time handoff), else to the workspace picker, else to "create workspace".

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_tenants::identity::sessions::Subject;

use crate::auth::session;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, ClientMeta};
use crate::oidc::{FLOW_COOKIE, OidcError, flow_cookie};
use crate::services::identity;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(callback))
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::UnknownProvider(_) => ApiError::not_found("sign-in provider"),
            OidcError::Unavailable(_) => ApiError::Unavailable,
            OidcError::BadState => ApiError::BadRequest(e.to_string()),
            OidcError::EmailNotVerified | OidcError::Denied(_) | OidcError::Invalid(_) => {
                ApiError::Forbidden(e.to_string())
            }
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StartQuery {
    /// An invitation token to accept once signed in (flow 2 via SSO).
    invite: Option<String>,
    /// Where on the apex to go once signed in, a same-origin path (e.g.
    /// `/workspaces?switch=beta` from a workspace's login link); anything else is ignored.
    next: Option<String>,
}

/// Starts an SSO sign-in: redirects the browser to the identity provider.
#[utoipa::path(get, path = "/api/auth/oidc/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "A provider name from WRK_OIDC_<NAME>_*"), StartQuery),
    responses((status = 302, description = "To the identity provider"),
        (status = 404, description = "Unknown provider", body = Problem),
        (status = 503, description = "The provider is unreachable", body = Problem)))]
async fn start(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(q): ApiQuery<StartQuery>,
) -> Result<Response, ApiError> {
    let started = app
        .oidc
        .start(&app.config, &provider, q.invite, q.next)
        .await?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, started.authorize_url),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        AppendHeaders([(header::SET_COOKIE, started.set_cookie)]),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider instead of `code` when the sign-in was refused or cancelled.
    error: Option<String>,
}

fn flow_cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == FLOW_COOKIE)
        .map(|(_, v)| v.trim().to_owned())
}

/// Finishes an SSO sign-in: signs the browser in on the apex and sends it onward.
#[utoipa::path(get, path = "/api/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "The provider name"), CallbackQuery),
    responses((status = 302, description = "Onward: the workspace, the picker or create-workspace"),
        (status = 400, description = "Invalid or expired sign-in attempt (state)", body = Problem),
        (status = 403, description = "Refused: unverified email, invalid ID token", body = Problem),
        (status = 404, description = "Unknown provider", body = Problem)))]
async fn callback(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(q): ApiQuery<CallbackQuery>,
    ClientMeta(meta): ClientMeta,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(error) = q.error {
        return Err(OidcError::Denied(error.chars().take(100).collect()).into());
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(ApiError::BadRequest(
            "the identity provider's answer has no code and state".into(),
        ));
    };
    let cookie = flow_cookie_value(&headers);
    let verified = app
        .oidc
        .finish(&app.config, &provider, &code, &state, cookie.as_deref())
        .await?;

    let (user, _outcome) = {
        let v = verified.clone();
        let meta = meta.clone();
        app.blocking(move |s| {
            s.control()
                .find_or_create_sso_user(&v.issuer, &v.subject, &v.email, &v.name, &meta)
        })
        .await?
    };
    tracing::info!(user_id = %user.id, provider = %provider, "SSO sign-in");

    // Where to land: the invited workspace, else the page the sign-in was started for (`next`:
    // the picker switching to the workspace whose login link was used), else the last used
    // workspace, else the picker / create-workspace.
    let invited = match &verified.invite {
        Some(token) => Some(
            identity::accept_invitation(&app, &user, token, meta)
                .await?
                .0
                .subdomain,
        ),
        None => None,
    };
    let uid = user.id;
    let workspaces = app
        .blocking(move |s| s.control().workspaces_of(uid))
        .await?;
    let last = user.last_tenant_id.and_then(|tid| {
        workspaces
            .iter()
            .find(|w| w.tenant.id == tid)
            .map(|w| w.tenant.subdomain.clone())
    });
    // `next` stands in for the last-used workspace; an invitation wins over both.
    let onward = if invited.is_none() {
        verified.next.as_deref()
    } else {
        None
    };
    let land_in = invited.or(if onward.is_none() { last } else { None });
    let location = match (land_in, onward) {
        (Some(slug), _) => {
            let switched = identity::switch(&app, &user, slug.as_str()).await?;
            session::workspace_url(
                &app.config,
                slug.as_str(),
                &format!("/auth/handoff?code={}", switched.handoff_code),
            )
        }
        (None, Some(path)) => session::apex_url(&app.config, path),
        (None, None) if workspaces.is_empty() => session::apex_url(&app.config, "/workspaces/new"),
        (None, None) => session::apex_url(&app.config, "/workspaces"),
    };

    let cookies = session::cookie_session(&app, Subject::User(user.id), None).await?;
    Ok((
        StatusCode::FOUND,
        cookies,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        AppendHeaders([(header::SET_COOKIE, flow_cookie(&app.config, "", 0))]),
    )
        .into_response())
}
