//! Routes: automations and their versions on a workspace host (flows 8-13, 35), and the
//! blueprint's JSON Schema. The views here are shared with the ops routes.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::automation::{AutomationName, Description, Requirements};
use wrk_core::ids::{AutomationId, TenantId};
use wrk_core::machine::{Actor, VersionStatus, allowed_transitions};
use wrk_tenants::automations::versions::{HistoryEntry, VersionRef};
use wrk_tenants::automations::{Automation, AutomationFilter, StoredIssue, Version};

use crate::ctx::{TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Cursor, Limit};
use crate::services::{Caller, automations as svc, paginate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(automations_list, automation_create))
        .routes(routes!(automation_get, automation_update))
        .routes(routes!(versions_list, version_create))
        .routes(routes!(version_get))
        .routes(routes!(requirements_put))
        .routes(routes!(blueprint_put))
        .routes(routes!(transition_post))
        .routes(routes!(history_get))
        .routes(routes!(blueprint_schema))
}

// ---------------------------------------------------------------------------------------------
// Views

/// An automation (API.md): `status` is its newest non-archived version's.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub latest_version: u32,
    /// The deployed version (`live` or `paused`), if any.
    pub live_version: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on the ops host's cross-workspace list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl From<&Automation> for AutomationView {
    fn from(a: &Automation) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            description: a.description.clone(),
            status: a.status.as_str().to_owned(),
            latest_version: a.latest_version,
            live_version: a.live_version,
            created_at: a.created_at,
            updated_at: a.updated_at,
            tenant_id: None,
        }
    }
}

/// A validation issue: `{code, severity, message, path}` (plus the task it opened, if any).
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueView {
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    pub message: String,
    pub path: Option<String>,
}

impl From<&StoredIssue> for IssueView {
    fn from(i: &StoredIssue) -> Self {
        Self {
            code: i.code.clone(),
            severity: i.severity.as_str().to_owned(),
            message: i.message.clone(),
            path: i.path.clone(),
        }
    }
}

/// A version (API.md), plus `allowed_transitions`: the statuses the caller may ask for from here
/// (guards not checked), which the UI builds its buttons from.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub automation_id: String,
    pub number: u32,
    pub status: String,
    pub requirements: String,
    /// The blueprint, `null` before one was saved or proposed.
    #[schema(value_type = Option<Object>)]
    pub blueprint: Value,
    pub revision: i64,
    pub issues: Vec<IssueView>,
    pub blocked_from: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub allowed_transitions: Vec<String>,
}

impl VersionView {
    pub fn new(v: &Version, actor: &Actor) -> Self {
        Self {
            automation_id: v.automation_id.to_string(),
            number: v.number,
            status: v.status.as_str().to_owned(),
            requirements: v.requirements.clone(),
            blueprint: v.blueprint.clone(),
            revision: v.revision,
            issues: v.issues.iter().map(IssueView::from).collect(),
            blocked_from: v.blocked_from.map(|s| s.as_str().to_owned()),
            created_at: v.created_at,
            updated_at: v.updated_at,
            allowed_transitions: allowed_transitions(v.status, v.blocked_from, actor)
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryActorView {
    /// `client`, `ops` or `system`.
    pub kind: String,
    pub id: Option<String>,
}

/// One status change: `{from, to, actor, reason, at}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// `null` for the version's creation.
    pub from: Option<String>,
    pub to: String,
    pub actor: HistoryActorView,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> Self {
        Self {
            from: h.from.map(|s| s.as_str().to_owned()),
            to: h.to.as_str().to_owned(),
            actor: HistoryActorView {
                kind: h.actor.kind.clone(),
                id: h.actor.id.clone(),
            },
            reason: h.reason.clone(),
            at: h.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationPage {
    pub items: Vec<AutomationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryList {
    pub items: Vec<HistoryView>,
    pub next_cursor: Option<String>,
}

/// `POST /api/automations` answers the automation with its first version.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAutomation {
    #[serde(flatten)]
    pub automation: AutomationView,
    pub version: VersionView,
}

// ---------------------------------------------------------------------------------------------
// Requests

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAutomation {
    /// Required, at most 200 characters (trimmed).
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAutomation {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementsBody {
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlueprintBody {
    /// The whole blueprint (see `GET /api/schemas/blueprint`).
    #[schema(value_type = Object)]
    pub blueprint: Value,
    /// The revision this edit is based on; a stale one is `409 stale_revision`.
    #[serde(deserialize_with = "crate::extract::integer")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The status to move to.
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AutomationQuery {
    /// Displayed status to filter on.
    pub status: Option<String>,
    /// Search in names (case-insensitive).
    pub q: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
    /// Archived automations are hidden unless this is `true`.
    #[serde(default)]
    pub include_archived: bool,
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers, shared with the ops routes

pub fn parse_automation_id(s: &str) -> Result<AutomationId, ApiError> {
    AutomationId::parse(s).map_err(|_| ApiError::not_found("automation"))
}

pub fn parse_version_ref(s: &str) -> Result<VersionRef, ApiError> {
    if s == "latest" {
        return Ok(VersionRef::Latest);
    }
    s.parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .map(VersionRef::Number)
        .ok_or_else(|| ApiError::not_found("version"))
}

pub fn parse_status(field: &str, s: &str) -> Result<VersionStatus, ApiError> {
    VersionStatus::parse(s).map_err(|_| {
        ApiError::validation(
            field,
            format!(
                "must be one of {}",
                VersionStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The body the workspace and ops transition handlers share: parse the path and the target,
/// move the version through the service, answer it as `caller` sees it.
pub async fn transition_version(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    (id, n): (&str, &str),
    body: TransitionBody,
) -> Result<Json<VersionView>, ApiError> {
    let (id, n) = (parse_automation_id(id)?, parse_version_ref(n)?);
    let to = parse_status("to", &body.to)?;
    let v = svc::transition(app, tenant, caller, id, n, to, body.reason).await?;
    Ok(Json(VersionView::new(&v, &caller.actor)))
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// List automations: filter by displayed status, search by name, newest first.
#[utoipa::path(get, path = "/api/automations", tag = "automations", params(AutomationQuery),
    responses((status = 200, body = AutomationPage)))]
pub async fn automations_list(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<AutomationQuery>,
) -> Result<Json<AutomationPage>, ApiError> {
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_status("status", s))
        .transpose()?;
    let limit = Limit::or_default(query.limit);
    let filter = AutomationFilter {
        status,
        q: query.q,
        include_archived: query.include_archived,
        before_id: Cursor::into_inner(query.cursor),
        limit: limit + 1,
    };
    let rows = ctx.blocking(move |t| t.list_automations(&filter)).await?;
    let (rows, next_cursor) = paginate(rows, limit, |a| a.id.to_string());
    Ok(Json(AutomationPage {
        items: rows.iter().map(AutomationView::from).collect(),
        next_cursor,
    }))
}

/// Create an automation (flow 8): version 1 starts in `intake_in_progress`.
#[utoipa::path(post, path = "/api/automations", tag = "automations", request_body = CreateAutomation,
    responses((status = 201, body = CreatedAutomation),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn automation_create(
    ctx: TenantCtx<Write>,
    ApiJson(body): ApiJson<CreateAutomation>,
) -> Result<(StatusCode, Json<CreatedAutomation>), ApiError> {
    let name = AutomationName::parse(&body.name)?;
    let description = body
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()?
        .unwrap_or_default();
    let caller = ctx.caller();
    let (a, v) = svc::create(&ctx.app, ctx.tenant_id(), &caller, name, description).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAutomation {
            automation: AutomationView::from(&a),
            version: VersionView::new(&v, &caller.actor),
        }),
    ))
}

/// One automation.
#[utoipa::path(get, path = "/api/automations/{id}", tag = "automations",
    params(("id" = String, Path)),
    responses((status = 200, body = AutomationView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn automation_get(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<Json<AutomationView>, ApiError> {
    let id = parse_automation_id(&id)?;
    let a = ctx.blocking(move |t| t.automation(id)).await?;
    Ok(Json(AutomationView::from(&a)))
}

/// Rename or re-describe an automation; archived ones are read-only (409).
#[utoipa::path(patch, path = "/api/automations/{id}", tag = "automations",
    params(("id" = String, Path)), request_body = UpdateAutomation,
    responses((status = 200, body = AutomationView),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn automation_update(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAutomation>,
) -> Result<Json<AutomationView>, ApiError> {
    let id = parse_automation_id(&id)?;
    let name = body
        .name
        .as_deref()
        .map(AutomationName::parse)
        .transpose()?;
    let description = body
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()?;
    let caller = ctx.caller();
    let a = ctx
        .blocking(move |t| {
            t.update_automation(
                id,
                name.as_ref().map(AutomationName::as_str),
                description.as_ref().map(Description::as_str),
                &caller.audit,
                &caller.request,
            )
        })
        .await?;
    Ok(Json(AutomationView::from(&a)))
}

/// Every version of an automation, newest first.
#[utoipa::path(get, path = "/api/automations/{id}/versions", tag = "automations",
    params(("id" = String, Path)),
    responses((status = 200, body = VersionList)))]
pub async fn versions_list(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let id = parse_automation_id(&id)?;
    let versions = ctx.blocking(move |t| t.versions(id)).await?;
    let actor = ctx.actor();
    Ok(Json(VersionList {
        items: versions
            .iter()
            .map(|v| VersionView::new(v, &actor))
            .collect(),
        next_cursor: None,
    }))
}

/// Start a new version (flow 12): only when the newest is `live` or `paused`; copies its
/// blueprint; 409 `conflict` while a version is in flight.
#[utoipa::path(post, path = "/api/automations/{id}/versions", tag = "automations",
    params(("id" = String, Path)),
    responses((status = 201, body = VersionView),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn version_create(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let id = parse_automation_id(&id)?;
    let caller = ctx.caller();
    let v = svc::create_version_of(&ctx.app, ctx.tenant_id(), &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(VersionView::new(&v, &caller.actor)),
    ))
}

/// One version; `{n}` may be `latest`.
#[utoipa::path(get, path = "/api/automations/{id}/versions/{n}", tag = "automations",
    params(("id" = String, Path), ("n" = String, Path, description = "number or `latest`")),
    responses((status = 200, body = VersionView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn version_get(
    ctx: TenantCtx,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<VersionView>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let v = ctx.blocking(move |t| t.version(id, n)).await?;
    Ok(Json(VersionView::new(&v, &ctx.actor())))
}

/// Replace the free-text requirements (re-runs validation).
#[utoipa::path(put, path = "/api/automations/{id}/versions/{n}/requirements", tag = "automations",
    params(("id" = String, Path), ("n" = String, Path)), request_body = RequirementsBody,
    responses((status = 200, body = VersionView),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn requirements_put(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
    ApiJson(body): ApiJson<RequirementsBody>,
) -> Result<Json<VersionView>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let text = Requirements::parse(&body.text)?;
    let caller = ctx.caller();
    let v = svc::set_requirements(&ctx.app, ctx.tenant_id(), &caller, id, n, text).await?;
    Ok(Json(VersionView::new(&v, &caller.actor)))
}

/// Update the blueprint (flow 10) from the last seen `revision`; runs the validation plugin and
/// stores its issues (and their tasks) with the version.
#[utoipa::path(put, path = "/api/automations/{id}/versions/{n}/blueprint", tag = "automations",
    params(("id" = String, Path), ("n" = String, Path)), request_body = BlueprintBody,
    responses((status = 200, body = VersionView),
              (status = 409, description = "`stale_revision`, or not editable in this status", body = Problem, content_type = "application/problem+json")))]
pub async fn blueprint_put(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
    ApiJson(body): ApiJson<BlueprintBody>,
) -> Result<Json<VersionView>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = ctx.caller();
    let v = svc::update_blueprint(
        &ctx.app,
        ctx.tenant_id(),
        &caller,
        id,
        n,
        body.blueprint,
        body.revision,
    )
    .await?;
    Ok(Json(VersionView::new(&v, &caller.actor)))
}

/// Move a version (flows 11, 13, 35), enforcing the state machine: 409 `invalid_transition`
/// with `allowed`, 403 `transition_not_permitted`, 422 `guard_failed` with `failed`.
#[utoipa::path(post, path = "/api/automations/{id}/versions/{n}/transitions", tag = "automations",
    params(("id" = String, Path), ("n" = String, Path)), request_body = TransitionBody,
    responses((status = 200, body = VersionView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn transition_post(
    ctx: TenantCtx<Write>,
    Path((id, n)): Path<(String, String)>,
    ApiJson(body): ApiJson<TransitionBody>,
) -> Result<Json<VersionView>, ApiError> {
    let caller = ctx.caller();
    transition_version(&ctx.app, ctx.tenant_id(), &caller, (&id, &n), body).await
}

/// A version's status history, oldest first.
#[utoipa::path(get, path = "/api/automations/{id}/versions/{n}/history", tag = "automations",
    params(("id" = String, Path), ("n" = String, Path)),
    responses((status = 200, body = HistoryList)))]
pub async fn history_get(
    ctx: TenantCtx,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<HistoryList>, ApiError> {
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let rows = svc::history(&ctx.app, ctx.tenant_id(), id, n).await?;
    Ok(Json(HistoryList {
        items: rows.iter().map(HistoryView::from).collect(),
        next_cursor: None,
    }))
}

/// The blueprint's JSON Schema (draft 2020-12).
#[utoipa::path(get, path = "/api/schemas/blueprint", tag = "automations",
    responses((status = 200, description = "JSON Schema", body = Object)))]
pub async fn blueprint_schema(_ctx: TenantCtx) -> Result<Json<Value>, ApiError> {
    Ok(Json(wrk_core::blueprint::schema()))
}
