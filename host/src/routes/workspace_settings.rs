//! Routes: the workspace's sign-up setting (flow 1B, "configurable per deployment and per
//! workspace"): whether people joining it by invitation must verify their email address with a
//! separate link. Reading is for any member; changing it is for owners and admins. The setting
//! lives in the control plane (`wrk_tenants::workspace_settings`), where sign-up reads it.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verification_get, verification_put))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerificationView {
    /// People joining this workspace by invitation get a verification email and must follow
    /// it before they can log in (the invitation link alone is not enough).
    pub invitees_must_verify: bool,
    /// The deployment's setting (`WRK_EMAIL_VERIFICATION`): local sign-ups without an
    /// invitation verify their address.
    pub deployment_requires_verification: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerificationBody {
    pub invitees_must_verify: bool,
}

fn view(app: &AppState, on: bool) -> EmailVerificationView {
    EmailVerificationView {
        invitees_must_verify: on,
        deployment_requires_verification: app.config.email_verification,
    }
}

/// Whether invitees of this workspace must verify their email address.
#[utoipa::path(get, path = "/api/settings/email-verification", tag = "team",
    responses((status = 200, body = EmailVerificationView),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn verification_get(ctx: TenantCtx) -> Result<Json<EmailVerificationView>, ApiError> {
    let tid = ctx.tenant_id();
    let on = ctx
        .app
        .blocking(move |s| s.control().invitees_must_verify(tid))
        .await?;
    Ok(Json(view(&ctx.app, on)))
}

/// Sets whether invitees of this workspace must verify their email address (owner or admin);
/// a change is audited as `tenant.email_verification_changed`.
#[utoipa::path(put, path = "/api/settings/email-verification", tag = "team",
    request_body = EmailVerificationBody,
    responses((status = 200, body = EmailVerificationView),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn verification_put(
    ctx: TenantCtx<Admin>,
    ApiJson(body): ApiJson<EmailVerificationBody>,
) -> Result<Json<EmailVerificationView>, ApiError> {
    let (tid, actor, meta) = (ctx.tenant_id(), ctx.audit_actor(), ctx.meta.clone());
    let on = body.invitees_must_verify;
    let on = ctx
        .app
        .blocking(move |s| s.control().set_invitees_must_verify(tid, on, &actor, &meta))
        .await?;
    Ok(Json(view(&ctx.app, on)))
}
