//! Routes: identity and team on a workspace host — login/refresh/logout for this workspace, the
//! browser handoff, `/api/me`, members, invitations and API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::{ApiKeyId, UserId};
use wrk_core::roles::{ClientRole, Scope};
use wrk_tenants::identity::api_keys::ApiKey;
use wrk_tenants::identity::invitations::Invitation;
use wrk_tenants::identity::memberships::Member;
use wrk_tenants::identity::sessions::Subject;

use super::account::{LoginRequest, UserView, login_on};
use crate::auth::session::{self, Principal};
use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, CurrentTenant};
use crate::services::identity;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(workspace_login))
        .routes(routes!(super::account::refresh))
        .routes(routes!(super::account::logout))
        .routes(routes!(handoff))
        .routes(routes!(me))
        .routes(routes!(members_list))
        .routes(routes!(member_update, member_remove))
        .routes(routes!(invitations_list, invitation_create))
        .routes(routes!(invitation_revoke))
        .routes(routes!(invitation_resend))
        .routes(routes!(api_keys_list, api_key_create))
        .routes(routes!(api_key_revoke))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyBrief {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// The member; `null` when the caller is an API key.
    pub user: Option<UserView>,
    pub tenant: TenantView,
    pub role: String,
    /// Set when the caller is an API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeyBrief>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.to_string(),
            joined_at: m.joined_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    #[schema(value_type = String, example = "admin")]
    pub role: ClientRole,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    #[schema(value_type = String, example = "member")]
    pub role: ClientRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<&Invitation> for InvitationView {
    fn from(i: &Invitation) -> Self {
        Self {
            id: i.id.to_string(),
            email: i.email.clone(),
            role: i.role.to_string(),
            status: serde_json::to_value(i.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            expires_at: i.expires_at,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    /// The secret: shown here once, never again.
    pub key: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HandoffQuery {
    pub code: String,
}

fn parse_user(id: &str) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(|_| ApiError::not_found("member"))
}

/// Password login into this workspace: a workspace token; 403 without membership.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = super::account::TokenResponse),
        (status = 401, description = "Wrong email or password", body = Problem),
        (status = 403, description = "Not a member, or `email_not_verified`", body = Problem)))]
async fn workspace_login(
    State(app): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    login_on(&app, req, Some(tenant)).await
}

/// Redeems a handoff code (from `/api/account/switch` or a login landing): sets this host's
/// session cookies and redirects to `/app`.
#[utoipa::path(get, path = "/auth/handoff", tag = "auth",
    params(("code" = String, Query, description = "The one-time handoff code (30 s)")),
    responses((status = 303, description = "Session cookie set; redirect to /app"),
        (status = 400, description = "`invalid_token`", body = Problem)))]
async fn handoff(
    State(app): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ApiQuery(q): ApiQuery<HandoffQuery>,
) -> Result<Response, ApiError> {
    let user = identity::redeem_handoff(&app, &tenant, &q.code).await?;
    let cookies = session::cookie_session(&app, Subject::User(user), Some(tenant.id)).await?;
    Ok((cookies, Redirect::to("/app")).into_response())
}

/// The caller in this workspace.
#[utoipa::path(get, path = "/api/me", tag = "team",
    responses((status = 200, body = MeView), (status = 401, body = Problem),
        (status = 403, description = "A session of another workspace", body = Problem)))]
async fn me(ctx: TenantCtx) -> Json<MeView> {
    let s = &ctx.session;
    let (user, api_key) = match &s.principal {
        Principal::User(u) => (Some(UserView::from(u)), None),
        Principal::ApiKey(k) => (
            None,
            Some(ApiKeyBrief {
                id: k.id.to_string(),
                name: k.name.clone(),
                scopes: k.scopes.clone(),
            }),
        ),
    };
    Json(MeView {
        user,
        tenant: TenantView {
            id: s.tenant.id.to_string(),
            name: s.tenant.name.clone(),
            subdomain: s.tenant.subdomain.to_string(),
        },
        role: s.role.to_string(),
        api_key,
    })
}

/// The workspace's members.
#[utoipa::path(get, path = "/api/members", tag = "team",
    responses((status = 200, body = MemberList), (status = 401, body = Problem)))]
async fn members_list(ctx: TenantCtx) -> Result<Json<MemberList>, ApiError> {
    let tid = ctx.tenant_id();
    let members = ctx
        .app
        .blocking(move |st| st.control().members(tid))
        .await?;
    Ok(Json(MemberList {
        items: members.iter().map(MemberView::from).collect(),
        next_cursor: None,
    }))
}

/// Changes a member's role (owner/admin; the last owner cannot be demoted: 409).
#[utoipa::path(patch, path = "/api/members/{user_id}", tag = "team", request_body = RoleRequest,
    params(("user_id" = String, Path)),
    responses((status = 200, body = MemberView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Last owner", body = Problem)))]
async fn member_update(
    ctx: TenantCtx<Admin>,
    Path(user_id): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> Result<Json<MemberView>, ApiError> {
    let user = parse_user(&user_id)?;
    let m = identity::change_member_role(&ctx.app, &ctx.session, user, req.role, ctx.meta).await?;
    Ok(Json(MemberView::from(&m)))
}

/// Removes a member (owner/admin, or yourself; never the last owner).
#[utoipa::path(delete, path = "/api/members/{user_id}", tag = "team", params(("user_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Last owner", body = Problem)))]
async fn member_remove(
    ctx: TenantCtx,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    identity::remove_member(&ctx.app, &ctx.session, parse_user(&user_id)?, ctx.meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's invitations (owner/admin).
#[utoipa::path(get, path = "/api/invitations", tag = "team",
    responses((status = 200, body = InvitationList), (status = 403, body = Problem)))]
async fn invitations_list(ctx: TenantCtx<Admin>) -> Result<Json<InvitationList>, ApiError> {
    let tid = ctx.tenant_id();
    let items = ctx
        .app
        .blocking(move |st| st.control().invitations(tid))
        .await?;
    Ok(Json(InvitationList {
        items: items.iter().map(InvitationView::from).collect(),
        next_cursor: None,
    }))
}

/// Invites an email into this workspace; the invitee gets a single-use 7-day link.
#[utoipa::path(post, path = "/api/invitations", tag = "team", request_body = InviteRequest,
    responses((status = 201, body = InvitationView), (status = 403, body = Problem),
        (status = 409, description = "Already a member", body = Problem)))]
async fn invitation_create(
    ctx: TenantCtx<Admin>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    let inv = identity::invite(&ctx.app, &ctx.session, &req.email, req.role, ctx.meta).await?;
    Ok((StatusCode::CREATED, Json(InvitationView::from(&inv))))
}

fn parse_invitation(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found("invitation"))
}

/// Revokes an invitation; its link stops working at once.
#[utoipa::path(delete, path = "/api/invitations/{id}", tag = "team", params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn invitation_revoke(
    ctx: TenantCtx<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_invitation(&id)?;
    let (tid, actor, meta) = (ctx.tenant_id(), ctx.audit_actor(), ctx.meta.clone());
    ctx.app
        .blocking(move |st| st.control().revoke_invitation(tid, id, &actor, &meta))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends an invitation again with a new link; the old link stops working.
#[utoipa::path(post, path = "/api/invitations/{id}/resend", tag = "team", params(("id" = String, Path)),
    responses((status = 200, body = InvitationView), (status = 404, body = Problem),
        (status = 409, description = "`invitation_accepted`", body = Problem),
        (status = 410, description = "`invitation_revoked`", body = Problem)))]
async fn invitation_resend(
    ctx: TenantCtx<Admin>,
    Path(id): Path<String>,
) -> Result<Json<InvitationView>, ApiError> {
    let id = parse_invitation(&id)?;
    let inv = identity::resend_invitation(&ctx.app, &ctx.session, id, ctx.meta).await?;
    Ok(Json(InvitationView::from(&inv)))
}

/// The workspace's API keys (prefix only, never the key).
#[utoipa::path(get, path = "/api/api-keys", tag = "api keys",
    responses((status = 200, body = ApiKeyList), (status = 403, body = Problem)))]
async fn api_keys_list(ctx: TenantCtx<Admin>) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = ctx.blocking(|t| t.api_keys()).await?;
    Ok(Json(ApiKeyList {
        items: keys.iter().map(ApiKeyView::from).collect(),
        next_cursor: None,
    }))
}

/// Creates an API key (owner/admin). The key is in this answer only.
#[utoipa::path(post, path = "/api/api-keys", tag = "api keys", request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn api_key_create(
    ctx: TenantCtx<Admin>,
    ApiJson(req): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let (name, scopes, expires_at) = (&req.name, req.scopes, req.expires_at);
    let created =
        identity::create_api_key(&ctx.app, &ctx.session, name, scopes, expires_at, ctx.meta)
            .await?;
    let k = created.record;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            key: created.key,
            scopes: k.scopes,
            expires_at: k.expires_at,
        }),
    ))
}

/// Revokes an API key; the very next request with it is refused.
#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "api keys", params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
async fn api_key_revoke(
    ctx: TenantCtx<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ApiKeyId::parse(&id).map_err(|_| ApiError::not_found("API key"))?;
    let (actor, meta) = (ctx.audit_actor(), ctx.meta.clone());
    ctx.blocking(move |t| t.revoke_api_key(id, &actor, &meta))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
