//! Routes: accounts on the apex — signup, email verification, login, refresh, logout, password
//! reset, the account itself, its workspaces, switching, and invitation acceptance.
//!
//! Browser sessions: login (and verify-email) take an optional `"session": "cookie"`; the answer
//! then also sets the apex session cookie and the CSRF cookie (see `crate::auth::session`).
//! Without it only tokens are returned. `POST /api/auth/logout` always clears the cookies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::roles::ClientRole;
use wrk_tenants::control::TenantRecord;
use wrk_tenants::identity::memberships::Workspace;
use wrk_tenants::identity::sessions::Subject;
use wrk_tenants::identity::users::{AuthKind, User};

use crate::auth::session::{self, AccountSession, SessionCookies};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientMeta};
use crate::scope::Scope;
use crate::services::identity;
use crate::services::identity::Tokens;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify_email))
        .routes(routes!(verify_email_resend))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(password_reset_request))
        .routes(routes!(password_reset_confirm))
        .routes(routes!(account_me))
        .routes(routes!(workspaces_list, workspaces_create))
        .routes(routes!(switch))
        .routes(routes!(invitation_accept))
        .routes(routes!(invitation_preview))
        .routes(routes!(slug_rules))
}

/// What the invitation behind a link's token is for (for the invitee's signup form): the address
/// it was sent to and the workspace. Refused like accepting it: unknown (400), expired or revoked
/// (410), already used (409).
#[utoipa::path(post, path = "/api/auth/invitations/preview", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = InvitationPreviewView),
        (status = 400, description = "Unknown invitation (`invalid_token`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Already accepted (`invitation_accepted`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 410, description = "Expired or revoked invitation", body = Problem,
            content_type = "application/problem+json")))]
async fn invitation_preview(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<InvitationPreviewView>, ApiError> {
    let p = identity::invitation_preview(&app, &req.token).await?;
    Ok(Json(InvitationPreviewView {
        email: p.email,
        role: p.role.to_string(),
        workspace_name: p.tenant.name,
        subdomain: p.tenant.subdomain.to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Wire types (shared with the workspace and ops hosts)

/// `"cookie"`: also start a browser session (HttpOnly cookie + CSRF cookie) on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    Token,
    Cookie,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// The token of the invitation link the user came from: its address needs no verification
    /// email, and `email` must be that address.
    #[serde(default)]
    pub invitation_token: Option<String>,
}

/// `POST /api/auth/invitations/preview`: what a pending invitation is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreviewView {
    /// The address the invitation was sent to.
    pub email: String,
    pub role: String,
    pub workspace_name: String,
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub user_id: String,
    pub email_verification_required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub token: String,
    #[serde(default)]
    pub session: Option<SessionMode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedResponse {
    pub verified: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub session: Option<SessionMode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub tenant_id: String,
    pub name: String,
    pub subdomain: String,
    #[schema(value_type = String, example = "owner")]
    pub role: ClientRole,
}

impl From<&Workspace> for WorkspaceView {
    fn from(w: &Workspace) -> Self {
        Self {
            tenant_id: w.tenant.id.to_string(),
            name: w.tenant.name.clone(),
            subdomain: w.tenant.subdomain.to_string(),
            role: w.role,
        }
    }
}

/// The token shape of every login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspaces: Option<Vec<WorkspaceView>>,
    /// Set for workspace tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Set for workspace tokens: the user's role there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl TokenResponse {
    pub fn new(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            user: None,
            workspaces: None,
            tenant_id: None,
            role: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    pub token: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `local` or `sso`.
    #[schema(value_type = String)]
    pub auth: AuthKind,
    pub email_verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    pub items: Vec<WorkspaceView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    pub name: String,
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWorkspace {
    pub tenant_id: String,
    pub name: String,
    pub subdomain: String,
    pub role: &'static str,
    /// `{scheme}://{slug}.{base}/app`
    pub url: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SwitchResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub tenant_id: String,
    pub subdomain: String,
    pub role: String,
    /// Where to send the browser: `{scheme}://{slug}.{base}/auth/handoff?code=…` (30 s, single use).
    pub url: String,
    pub handoff_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedInvitation {
    pub tenant_id: String,
    pub subdomain: String,
    pub role: String,
    /// `{scheme}://{slug}.{base}/app`
    pub url: String,
}

fn workspace_app_url(app: &AppState, t: &TenantRecord) -> String {
    session::workspace_url(&app.config, t.subdomain.as_str(), "/app")
}

/// Answers `body` with `status`, plus cookies when a browser session was asked for.
pub fn respond<T: Serialize>(
    status: StatusCode,
    cookies: Option<SessionCookies>,
    body: T,
) -> Response {
    match cookies {
        Some(c) => (status, c, Json(body)).into_response(),
        None => (status, Json(body)).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Local signup (flow 1B). With email verification on, a verification email is queued and login
/// waits for it.
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SignupResponse),
        (status = 409, description = "Email taken", body = Problem),
        (status = 422, description = "Invalid email, name or password", body = Problem),
        (status = 429, description = "Rate limited", body = Problem)))]
async fn signup(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(req): ApiJson<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let out = identity::signup_invited(
        &app,
        &req.email,
        req.password,
        &req.name,
        req.invitation_token.as_deref(),
        meta,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user_id: out.user.id.to_string(),
            email_verification_required: out.verification_required,
        }),
    ))
}

/// Confirms an email address with the token from the verification link.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = VerifiedResponse),
        (status = 400, description = "Invalid, used or expired token (`invalid_token`)", body = Problem)))]
async fn verify_email(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let user = identity::verify_email(&app, &req.token, meta).await?;
    let cookies = match req.session {
        Some(SessionMode::Cookie) => {
            Some(session::cookie_session(&app, Subject::User(user.id), None).await?)
        }
        _ => None,
    };
    Ok(respond(
        StatusCode::OK,
        cookies,
        VerifiedResponse { verified: true },
    ))
}

/// Sends a new verification link to an unverified local account (the previous link dies).
/// Always 202, whether or not the email has an account.
#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "auth", request_body = EmailRequest,
    responses((status = 202, description = "Accepted (always)")))]
async fn verify_email_resend(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    identity::resend_verification(&app, &req.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Password login on the apex: an account token (no tenant) and the user's workspaces.
/// Wrong password, unknown email and a locked email all answer the same 401.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = Problem),
        (status = 403, description = "`email_not_verified`", body = Problem),
        (status = 429, description = "Rate limited", body = Problem)))]
async fn login(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    login_on(&app, req, None).await
}

/// Shared by the apex and workspace-host logins.
pub async fn login_on(
    app: &AppState,
    req: LoginRequest,
    tenant: Option<TenantRecord>,
) -> Result<Response, ApiError> {
    let out = identity::login(app, &req.email, req.password, tenant).await?;
    let tid = out.tenant.as_ref().map(|(t, _)| t.id);
    let cookies = match req.session {
        Some(SessionMode::Cookie) => {
            Some(session::cookie_session(app, Subject::User(out.user.id), tid).await?)
        }
        _ => None,
    };
    let mut body = TokenResponse::new(out.tokens);
    body.user = Some(UserView::from(&out.user));
    body.workspaces = Some(out.workspaces.iter().map(WorkspaceView::from).collect());
    if let Some((t, role)) = &out.tenant {
        body.tenant_id = Some(t.id.to_string());
        body.role = Some(role.to_string());
    }
    Ok(respond(StatusCode::OK, cookies, body))
}

/// Rotates a refresh token: the old one is spent; presenting a spent one again revokes the
/// whole family. Served on every host, for that host's tokens.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, spent, revoked or expired refresh token", body = Problem)))]
pub async fn refresh(
    State(app): State<AppState>,
    axum::Extension(scope): axum::Extension<Scope>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let tokens = identity::refresh(&app, &req.refresh_token, scope).await?;
    Ok(Json(TokenResponse::new(tokens)))
}

/// Logout: revokes the refresh token's family (body `{refresh_token}`, optional) and the browser
/// session, and clears the session cookies. Served on every host.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body(content = LogoutRequest, description = "optional"),
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(app): State<AppState>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    let refresh_token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        crate::extract::json_body::<LogoutRequest>(&body)?.refresh_token
    };
    identity::logout(&app, refresh_token, session::session_cookie(&parts)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        session::clear_cookies(&app.config),
        (),
    )
        .into_response())
}

/// Asks for a password-reset link. Always 202, whether or not the email has an account.
#[utoipa::path(post, path = "/api/auth/password-reset/request", tag = "auth", request_body = EmailRequest,
    responses((status = 202, description = "Accepted (always)")))]
async fn password_reset_request(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    identity::request_password_reset(&app, &req.email, meta).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a reset token; every session of the user is revoked.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirmRequest,
    responses((status = 200, body = VerifiedResponse),
        (status = 400, description = "`invalid_token`", body = Problem),
        (status = 422, description = "Password too short", body = Problem)))]
async fn password_reset_confirm(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    ApiJson(req): ApiJson<ResetConfirmRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    identity::confirm_password_reset(&app, &req.token, req.new_password, meta).await?;
    Ok(Json(serde_json::json!({"reset": true})))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/account/me", tag = "account",
    responses((status = 200, body = AccountView), (status = 401, body = Problem)))]
async fn account_me(s: AccountSession) -> Json<AccountView> {
    Json(AccountView {
        id: s.user.id.to_string(),
        email: s.user.email.clone(),
        name: s.user.name.clone(),
        auth: s.user.auth_kind(),
        email_verified: s.user.email_verified,
    })
}

/// The account's workspaces (from memberships).
#[utoipa::path(get, path = "/api/account/workspaces", tag = "account",
    responses((status = 200, body = WorkspaceList), (status = 401, body = Problem)))]
async fn workspaces_list(
    State(app): State<AppState>,
    s: AccountSession,
) -> Result<Json<WorkspaceList>, ApiError> {
    let uid = s.user.id;
    let ws = app
        .blocking(move |st| st.control().workspaces_of(uid))
        .await?;
    Ok(Json(WorkspaceList {
        items: ws.iter().map(WorkspaceView::from).collect(),
        next_cursor: None,
    }))
}

/// Creates a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/api/account/workspaces", tag = "account", request_body = CreateWorkspaceRequest,
    responses((status = 201, body = CreatedWorkspace),
        (status = 409, description = "Subdomain taken", body = Problem),
        (status = 422, description = "Reserved or malformed subdomain", body = Problem)))]
async fn workspaces_create(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    s: AccountSession,
    ApiJson(req): ApiJson<CreateWorkspaceRequest>,
) -> Result<(StatusCode, Json<CreatedWorkspace>), ApiError> {
    let t = identity::create_workspace(&app, &s.user, &req.name, &req.subdomain, meta).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWorkspace {
            tenant_id: t.id.to_string(),
            name: t.name.clone(),
            subdomain: t.subdomain.to_string(),
            role: "owner",
            url: workspace_app_url(&app, &t),
        }),
    ))
}

/// Switches into a workspace the user belongs to: workspace tokens plus a handoff code for the
/// browser. 403 without membership (whether or not the workspace exists).
#[utoipa::path(post, path = "/api/account/switch", tag = "account", request_body = SwitchRequest,
    responses((status = 200, body = SwitchResponse), (status = 403, body = Problem)))]
async fn switch(
    State(app): State<AppState>,
    s: AccountSession,
    ApiJson(req): ApiJson<SwitchRequest>,
) -> Result<Json<SwitchResponse>, ApiError> {
    let out = identity::switch(&app, &s.user, &req.subdomain).await?;
    let slug = out.tenant.subdomain.to_string();
    Ok(Json(SwitchResponse {
        access_token: out.tokens.access_token,
        refresh_token: out.tokens.refresh_token,
        token_type: "Bearer",
        expires_in: out.tokens.expires_in,
        tenant_id: out.tenant.id.to_string(),
        url: session::workspace_url(
            &app.config,
            &slug,
            &format!("/auth/handoff?code={}", out.handoff_code),
        ),
        subdomain: slug,
        role: out.role.to_string(),
        handoff_code: out.handoff_code,
    }))
}

/// Accepts an invitation for the signed-in user: a membership in that workspace, never a new one.
#[utoipa::path(post, path = "/api/account/invitations/accept", tag = "account", request_body = TokenRequest,
    responses((status = 200, body = AcceptedInvitation),
        (status = 400, description = "`invalid_token`", body = Problem),
        (status = 409, description = "`invitation_accepted`, or already a member (`conflict`)", body = Problem),
        (status = 410, description = "`invitation_expired` or `invitation_revoked`", body = Problem)))]
async fn invitation_accept(
    State(app): State<AppState>,
    ClientMeta(meta): ClientMeta,
    s: AccountSession,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<AcceptedInvitation>, ApiError> {
    let (t, role) = identity::accept_invitation(&app, &s.user, &req.token, meta).await?;
    Ok(Json(AcceptedInvitation {
        tenant_id: t.id.to_string(),
        subdomain: t.subdomain.to_string(),
        role: role.to_string(),
        url: workspace_app_url(&app, &t),
    }))
}

/// `GET /api/auth/slug-rules`: what a workspace address may be, from the rules that check it
/// (`wrk_core::slug`), so the create-workspace form can hint before it asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlugRulesView {
    pub min_length: usize,
    pub max_length: usize,
    /// Names that can never be a workspace address.
    pub reserved: Vec<&'static str>,
}

/// The rules of a workspace address (subdomain): length and reserved names. Public: the
/// create-workspace form checks an address as it is typed; the server checks it again on create.
#[utoipa::path(get, path = "/api/auth/slug-rules", tag = "auth",
    responses((status = 200, body = SlugRulesView)))]
async fn slug_rules() -> Json<SlugRulesView> {
    use wrk_core::slug;
    Json(SlugRulesView {
        min_length: slug::MIN_LEN,
        max_length: slug::MAX_LEN,
        reserved: slug::RESERVED_SLUGS.to_vec(),
    })
}
