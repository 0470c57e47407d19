//! Sessions: the extractors handlers use to learn who is calling, and the functions that mint
//! sessions (tokens and browser cookies).
//!
//! # Extractors
//! - [`AccountSession`] — apex endpoints: a client user by account (or workspace) access token, or
//!   by the apex session cookie.
//! - [`WorkspaceSession`] — workspace-host endpoints: a member (access token whose `tid` is this
//!   host's tenant, or this host's session cookie) or an API key of this workspace. The role is
//!   read from `memberships` on every request, so a removal or demotion takes effect at once.
//!   A session for another workspace is refused with 403 on workspace-level paths (`/api/me`,
//!   `/api/members`) and 404 on object paths (`/api/<collection>/<id>...`): never the data.
//! - [`OpsSession`] — ops-host endpoints: an ops token or the ops session cookie. Client tokens
//!   are refused there, and ops tokens everywhere else.
//!
//! # Browsers
//! A browser session is an HttpOnly, host-only cookie [`SESSION_COOKIE`] (no `Domain`,
//! `SameSite=Lax; Path=/`, `Secure` under TLS) holding an opaque token (stored hashed, kind
//! `cookie`), plus a readable [`CSRF_COOKIE`]. Cookie-authenticated unsafe requests must echo the
//! CSRF cookie in [`CSRF_HEADER`], and their `Origin`, when sent, must be this host. Bearer auth
//! needs neither.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, IntoResponseParts, Redirect, Response, ResponseParts};
use chrono::Duration;
use wrk_core::ids::{OpsUserId, TenantId, UserId};
use wrk_core::machine::Actor;
use wrk_core::roles::{Access, ClientRole, OpsRole, Scope, scopes_allow};
use wrk_tenants::audit::{ActorKind, AuditActor};
use wrk_tenants::control::TenantRecord;
use wrk_tenants::identity::api_keys::ApiKey;
use wrk_tenants::identity::ops::OpsUser;
use wrk_tenants::identity::sessions::{SessionKind, Subject};
use wrk_tenants::identity::token_hash;
use wrk_tenants::identity::users::User;

use super::keys::{Audience, Claims};
use super::secret;
use crate::config::{Config, host_only};
use crate::error::ApiError;
use crate::scope::Scope as HostScope;
use crate::services::identity;
use crate::state::AppState;

/// The HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "wrk_session";
/// The readable CSRF cookie; echo its value in [`CSRF_HEADER`] on unsafe requests.
pub const CSRF_COOKIE: &str = "wrk_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Bearer refresh tokens live 30 days (rotating); cookie sessions 14 days.
pub fn refresh_ttl() -> Duration {
    Duration::days(30)
}

pub fn cookie_ttl() -> Duration {
    Duration::days(14)
}

/// Handoff codes live 30 seconds (flow 6).
pub fn handoff_ttl() -> Duration {
    Duration::seconds(30)
}

// ---------------------------------------------------------------------------------------------
// What the request presents

enum Presented {
    Jwt(String),
    ApiKey(String),
    /// The session cookie's token (CSRF already checked).
    Cookie(String),
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// CSRF rule for cookie-authenticated unsafe requests: the header must echo the CSRF cookie, and
/// an `Origin`, when present, must be this very host.
fn check_csrf(parts: &Parts) -> Result<(), ApiError> {
    if is_safe(&parts.method) {
        return Ok(());
    }
    let header = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let cookie = cookie(parts, CSRF_COOKIE);
    match (header, cookie) {
        (Some(h), Some(c)) if secret::same(h, &c) => {}
        _ => return Err(ApiError::Forbidden("missing or wrong CSRF token".into())),
    }
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("");
        if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(ApiError::Forbidden("cross-site request refused".into()));
        }
    }
    Ok(())
}

fn presented(parts: &Parts) -> Result<Presented, ApiError> {
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let auth = auth.to_str().map_err(|_| ApiError::Unauthenticated)?;
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        return Ok(if token.starts_with(secret::API_KEY_PREFIX) {
            Presented::ApiKey(token.to_owned())
        } else {
            Presented::Jwt(token.to_owned())
        });
    }
    let session = cookie(parts, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
    check_csrf(parts)?;
    Ok(Presented::Cookie(session))
}

fn verify(app: &AppState, token: &str, audiences: &[Audience]) -> Result<Claims, ApiError> {
    app.auth.keys.verify(token, audiences).map_err(|e| {
        tracing::debug!(reason = %e, "access token refused");
        ApiError::Unauthenticated
    })
}

async fn live_cookie(
    app: &AppState,
    token: String,
) -> Result<wrk_tenants::identity::sessions::Session, ApiError> {
    app.blocking(move |s| {
        s.control()
            .live_session(&token_hash(&token), SessionKind::Cookie)
    })
    .await?
    .ok_or(ApiError::Unauthenticated)
}

async fn load_user(app: &AppState, id: UserId) -> Result<User, ApiError> {
    app.blocking(move |s| s.control().user_by_id(id))
        .await?
        .ok_or(ApiError::Unauthenticated)
}

fn parse_user_id(sub: &str) -> Result<UserId, ApiError> {
    UserId::parse(sub).map_err(|_| ApiError::Unauthenticated)
}

// ---------------------------------------------------------------------------------------------
// AccountSession

/// A client user on the apex. Accepts account tokens, workspace tokens (same user) and the apex
/// session cookie; refuses API keys and ops tokens.
#[derive(Debug, Clone)]
pub struct AccountSession {
    pub user: User,
}

impl AccountSession {
    pub fn audit_actor(&self) -> AuditActor {
        self.user.actor()
    }
}

impl FromRequestParts<AppState> for AccountSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let id = match presented(parts)? {
            Presented::Jwt(t) => {
                parse_user_id(&verify(app, &t, &[Audience::Account, Audience::Workspace])?.sub)?
            }
            Presented::ApiKey(_) => return Err(ApiError::Unauthenticated),
            Presented::Cookie(t) => match live_cookie(app, t).await? {
                wrk_tenants::identity::sessions::Session {
                    subject: Subject::User(u),
                    tenant_id: None,
                    ..
                } => u,
                _ => return Err(ApiError::Unauthenticated),
            },
        };
        Ok(Self {
            user: load_user(app, id).await?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// WorkspaceSession

/// Who acts inside a workspace.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A member, with their current role.
    User(User),
    /// An API key of this workspace.
    ApiKey(ApiKey),
}

/// An authenticated caller on a workspace host, already checked against the host's tenant.
#[derive(Debug, Clone)]
pub struct WorkspaceSession {
    /// The workspace of the host (never from input).
    pub tenant: TenantRecord,
    pub principal: Principal,
    /// The member's role; for an API key, `Admin` when it has the `admin` scope, else `Member`.
    pub role: ClientRole,
    /// `Some` for API keys: what the key may do. `None` for members (their role decides).
    pub scopes: Option<Vec<Scope>>,
}

impl WorkspaceSession {
    pub fn tenant_id(&self) -> TenantId {
        self.tenant.id
    }

    /// The member's user id, or the id of the user who created the API key.
    pub fn user_id(&self) -> UserId {
        match &self.principal {
            Principal::User(u) => u.id,
            Principal::ApiKey(k) => k.created_by,
        }
    }

    /// Whether this caller may perform `needed`: API keys by their scopes; members by role
    /// (any member reads and writes; `Admin` needs owner or admin).
    pub fn allows(&self, needed: Access) -> bool {
        match &self.scopes {
            Some(scopes) => scopes_allow(scopes, needed),
            None => match needed {
                Access::Read | Access::Write => true,
                Access::Admin => self.role.can_manage_team(),
            },
        }
    }

    /// Why this caller may not perform `needed` (`None` when [`Self::allows`] it).
    pub fn refusal(&self, needed: Access) -> Option<String> {
        (!self.allows(needed)).then(|| {
            match (&self.scopes, needed) {
                (Some(_), _) => "this API key's scopes do not allow this",
                (None, Access::Admin) => "only a workspace owner or admin may do this",
                (None, _) => "not allowed",
            }
            .to_owned()
        })
    }

    /// [`Self::allows`] or 403 `forbidden`.
    pub fn require(&self, needed: Access) -> Result<(), ApiError> {
        self.refusal(needed)
            .map_or(Ok(()), |m| Err(ApiError::Forbidden(m)))
    }

    /// The state-machine actor: a client with this session's role.
    pub fn actor(&self) -> Actor {
        Actor::Client { role: self.role }
    }

    /// Who to name in audit rows.
    pub fn audit_actor(&self) -> AuditActor {
        match &self.principal {
            Principal::User(u) => u.actor(),
            Principal::ApiKey(k) => AuditActor {
                kind: ActorKind::ApiKey,
                id: Some(k.id.to_string()),
            },
        }
    }
}

/// A session for another workspace: 404 on object paths, 403 on workspace-level ones.
fn wrong_tenant(parts: &Parts) -> ApiError {
    let depth = parts
        .uri
        .path()
        .trim_start_matches("/api/")
        .split('/')
        .filter(|s| !s.is_empty())
        .count();
    if depth >= 2 {
        ApiError::not_found("resource")
    } else {
        ApiError::Forbidden("this session is not for this workspace".into())
    }
}

impl FromRequestParts<AppState> for WorkspaceSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let Some(HostScope::Tenant(tenant)) = parts.extensions.get::<HostScope>().cloned() else {
            return Err(ApiError::not_found("workspace"));
        };
        let user_id = match presented(parts)? {
            Presented::ApiKey(key) => {
                let tid = tenant.id;
                let hash = token_hash(&key);
                let found = app
                    .blocking(move |s| s.tenant(tid)?.live_api_key(&hash))
                    .await?
                    .ok_or(ApiError::Unauthenticated)?;
                let role = if found.scopes.contains(&Scope::Admin) {
                    ClientRole::Admin
                } else {
                    ClientRole::Member
                };
                return Ok(Self {
                    tenant,
                    role,
                    scopes: Some(found.scopes.clone()),
                    principal: Principal::ApiKey(found),
                });
            }
            Presented::Jwt(t) => {
                let claims = verify(app, &t, &[Audience::Workspace, Audience::Account])?;
                let user = parse_user_id(&claims.sub)?;
                if claims.aud != Audience::Workspace
                    || claims.tid.as_deref() != Some(tenant.id.to_string().as_str())
                {
                    return Err(wrong_tenant(parts));
                }
                user
            }
            Presented::Cookie(t) => {
                let session = live_cookie(app, t).await?;
                match session.subject {
                    Subject::User(u) if session.tenant_id == Some(tenant.id) => u,
                    Subject::User(_) => return Err(wrong_tenant(parts)),
                    Subject::Ops(_) => return Err(ApiError::Unauthenticated),
                }
            }
        };
        let tid = tenant.id;
        let (user, role) = app
            .blocking(move |s| {
                let c = s.control();
                Ok((c.user_by_id(user_id)?, c.role_of(tid, user_id)?))
            })
            .await?;
        let user = user.ok_or(ApiError::Unauthenticated)?;
        let role = role.ok_or_else(|| wrong_tenant(parts))?;
        Ok(Self {
            tenant,
            principal: Principal::User(user),
            role,
            scopes: None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// OpsSession

/// WRK staff on the ops host.
#[derive(Debug, Clone)]
pub struct OpsSession {
    pub user: OpsUser,
}

impl OpsSession {
    pub fn role(&self) -> OpsRole {
        self.user.role
    }

    /// The state-machine actor: ops with this user's role.
    pub fn actor(&self) -> Actor {
        Actor::Ops {
            role: self.user.role,
        }
    }

    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            kind: ActorKind::Ops,
            id: Some(self.user.id.to_string()),
        }
    }

    /// 403 unless the user is `ops_admin`.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only ops_admin may do this".into()))
        }
    }
}

impl FromRequestParts<AppState> for OpsSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        if !matches!(parts.extensions.get::<HostScope>(), Some(HostScope::Ops)) {
            return Err(ApiError::not_found("resource"));
        }
        let id = match presented(parts)? {
            Presented::Jwt(t) => OpsUserId::parse(&verify(app, &t, &[Audience::Ops])?.sub)
                .map_err(|_| ApiError::Unauthenticated)?,
            Presented::ApiKey(_) => return Err(ApiError::Unauthenticated),
            Presented::Cookie(t) => match live_cookie(app, t).await?.subject {
                Subject::Ops(id) => id,
                Subject::User(_) => return Err(ApiError::Unauthenticated),
            },
        };
        let user = app
            .blocking(move |s| s.control().ops_user_by_id(id))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Self { user })
    }
}

// ---------------------------------------------------------------------------------------------
// Minting sessions

/// `Set-Cookie` headers to add to a response (a session, or clearing one).
#[derive(Debug, Clone, Default)]
pub struct SessionCookies(pub Vec<HeaderValue>);

impl IntoResponseParts for SessionCookies {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        for v in self.0 {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        Ok(res)
    }
}

fn cookie_header(
    config: &Config,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age}");
    if http_only {
        s.push_str("; HttpOnly");
    }
    if config.tls_enabled() {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).expect("cookie values are base62")
}

/// Starts a browser session for `subject` on the host that answers (host-only cookies), scoped to
/// `tenant` (workspace host) or not (apex, ops host).
pub async fn cookie_session(
    app: &AppState,
    subject: Subject,
    tenant: Option<TenantId>,
) -> Result<SessionCookies, ApiError> {
    let (token, stored) = identity::new_token(cookie_ttl());
    app.blocking(move |s| {
        s.control()
            .create_session(&stored, SessionKind::Cookie, subject, tenant)
    })
    .await?;
    let age = cookie_ttl().num_seconds();
    Ok(SessionCookies(vec![
        cookie_header(&app.config, SESSION_COOKIE, &token, age, true),
        cookie_header(&app.config, CSRF_COOKIE, &secret::token(), age, false),
    ]))
}

/// Cookies that end the browser session on this host.
pub fn clear_cookies(config: &Config) -> SessionCookies {
    SessionCookies(vec![
        cookie_header(config, SESSION_COOKIE, "", 0, true),
        cookie_header(config, CSRF_COOKIE, "", 0, false),
    ])
}

/// The session-cookie token of a request, if any (logout revokes it).
pub fn session_cookie(parts: &Parts) -> Option<String> {
    cookie(parts, SESSION_COOKIE)
}

/// `{scheme}://{base}{path}`: a link on the apex.
pub fn apex_url(config: &Config, path: &str) -> String {
    format!("{}://{}{path}", config.scheme(), config.base_domain)
}

/// `{scheme}://{slug}.{base}{path}`: a link into a workspace.
pub fn workspace_url(config: &Config, slug: &str, path: &str) -> String {
    format!("{}://{slug}.{}{path}", config.scheme(), config.base_domain)
}

/// Where a signed-in user goes next (flows 1A/1B/3): into their last-used workspace (through a
/// handoff link), else the first of their workspaces, else "create workspace" on the apex
/// (`/workspaces/new`). A user with several workspaces and no last one goes to the picker
/// (`/workspaces`).
pub async fn landing_url(app: &AppState, user: UserId) -> Result<String, ApiError> {
    let (found, workspaces) = app
        .blocking(move |s| {
            let c = s.control();
            Ok((c.user_by_id(user)?, c.workspaces_of(user)?))
        })
        .await?;
    let last = found.and_then(|u| u.last_tenant_id);
    let target =
        workspaces
            .iter()
            .find(|w| Some(w.tenant.id) == last)
            .or(if workspaces.len() == 1 {
                workspaces.first()
            } else {
                None
            });
    match target {
        Some(w) => {
            let code = identity::handoff_code(app, user, w.tenant.id).await?;
            Ok(workspace_url(
                &app.config,
                w.tenant.subdomain.as_str(),
                &format!("/auth/handoff?code={code}"),
            ))
        }
        None if workspaces.is_empty() => Ok(apex_url(&app.config, "/workspaces/new")),
        None => Ok(apex_url(&app.config, "/workspaces")),
    }
}

/// Signs `user` in on the apex and sends the browser on: sets the apex session cookie and
/// answers 303 to [`landing_url`]. This is what an SSO callback returns after
/// `find_or_create_sso_user`.
pub async fn sign_in_redirect(app: &AppState, user: UserId) -> Result<Response, ApiError> {
    let cookies = cookie_session(app, Subject::User(user), None).await?;
    let to = landing_url(app, user).await?;
    Ok((cookies, Redirect::to(&to)).into_response())
}

/// The apex host name (no port), for comparisons.
pub fn base_host(config: &Config) -> &str {
    host_only(&config.base_domain)
}
