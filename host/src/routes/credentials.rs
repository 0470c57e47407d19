//! Routes: credentials on a workspace host (flow 25). Any member reads the list; owners and
//! admins (API keys with the `admin` scope) provide, rotate and delete. No answer ever holds a secret: a
//! credential is shown by its system, kind, masked hint and status.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::credentials::CredentialKind;
use wrk_core::ids::CredentialId;
use wrk_tenants::credentials::Credential;

use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::services::credentials as svc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credentials_list, credential_create))
        .routes(routes!(credential_rotate, credential_delete))
}

/// A credential: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    pub id: String,
    /// The system it opens, as the blueprint names it (matched case-insensitively).
    pub system: String,
    /// `api_key`, `oauth` or `basic`.
    pub kind: String,
    /// The masked form, e.g. `••••f00d` or `alice · ••••`.
    pub hint: String,
    /// `active` or `failed` (revoked credentials are not listed).
    pub status: String,
    /// What the WRK Platform said when it reported the credential failing.
    pub last_error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Credential> for CredentialView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.to_string(),
            system: c.system.clone(),
            kind: c.kind.as_str().to_owned(),
            hint: c.hint.clone(),
            status: c.status.as_str().to_owned(),
            last_error: c.last_error.clone(),
            failed_at: c.failed_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialPage {
    pub items: Vec<CredentialView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindBody {
    ApiKey,
    Oauth,
    Basic,
}

impl From<KindBody> for CredentialKind {
    fn from(k: KindBody) -> Self {
        match k {
            KindBody::ApiKey => Self::ApiKey,
            KindBody::Oauth => Self::Oauth,
            KindBody::Basic => Self::Basic,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The system, as the blueprint names it (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub system: String,
    pub kind: KindBody,
    /// `api_key`: `{api_key}`; `oauth`: `{client_id, client_secret, ...}`; `basic`:
    /// `{username, password}`. Names of `a-z 0-9 _`, at most 20 fields of 8 KiB.
    #[schema(value_type = BTreeMap<String, String>)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// The new fields, for the credential's kind.
    #[schema(value_type = BTreeMap<String, String>)]
    pub fields: BTreeMap<String, String>,
}

fn parse_id(id: &str) -> Result<CredentialId, ApiError> {
    CredentialId::parse(id).map_err(|_| ApiError::not_found("credential"))
}

/// The workspace's credentials, by system; never a secret.
#[utoipa::path(get, path = "/api/credentials", tag = "credentials",
    responses((status = 200, body = CredentialPage)))]
pub async fn credentials_list(ctx: TenantCtx) -> Result<Json<CredentialPage>, ApiError> {
    let rows = ctx.blocking(|t| t.credentials()).await?;
    Ok(Json(CredentialPage {
        items: rows.iter().map(CredentialView::from).collect(),
        next_cursor: None,
    }))
}

/// Flow 25: provide a credential for a system. The fields go to the secrets manager,
/// encrypted; the answer shows only the masked hint. Its "provide credentials" tasks close, and
/// versions its failure blocked return to where they were. A second credential for the same
/// system is a 409 (rotate that one).
#[utoipa::path(post, path = "/api/credentials", tag = "credentials", request_body = CreateBody,
    responses((status = 201, body = CredentialView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn credential_create(
    ctx: TenantCtx<Admin>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<CredentialView>), ApiError> {
    let c = svc::create(
        &ctx.app,
        ctx.tenant_id(),
        &ctx.caller(),
        &body.system,
        body.kind.into(),
        body.fields,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CredentialView::from(&c))))
}

/// Rotation: new fields for a credential; its status is `active` again.
#[utoipa::path(put, path = "/api/credentials/{id}", tag = "credentials",
    params(("id" = String, Path)), request_body = RotateBody,
    responses((status = 200, body = CredentialView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn credential_rotate(
    ctx: TenantCtx<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateBody>,
) -> Result<Json<CredentialView>, ApiError> {
    let id = parse_id(&id)?;
    let c = svc::rotate(&ctx.app, ctx.tenant_id(), &ctx.caller(), id, body.fields).await?;
    Ok(Json(CredentialView::from(&c)))
}

/// Deletes a credential: its secret is destroyed; it is no longer listed.
#[utoipa::path(delete, path = "/api/credentials/{id}", tag = "credentials",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn credential_delete(
    ctx: TenantCtx<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    svc::delete(&ctx.app, ctx.tenant_id(), &ctx.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
