//! Routes: automations, versions and tasks on the ops host. `{tid}` in the path is the only
//! place a tenant id ever comes from input, and only an ops session reaches these routes.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::TenantId;
use wrk_core::tasks::Assignee;
use wrk_tenants::automations::AutomationFilter;

use super::automations::{
    AutomationView, BlueprintBody, TransitionBody, VersionView, parse_automation_id, parse_status,
    parse_version_ref, transition_version,
};
use super::tasks::{
    TaskPage, TaskQuery, TaskUpdate, TaskView, parse_task_id, parse_task_status, task_filter,
};
use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, ClientMeta, Limit};
use crate::services::{Caller, automations as svc, paginate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops_automations_list))
        .routes(routes!(ops_version_get))
        .routes(routes!(ops_blueprint_put))
        .routes(routes!(ops_transition_post))
        .routes(routes!(ops_tasks_list))
        .routes(routes!(ops_task_update))
}

/// The workspace named by `{tid}`, or 404.
pub(super) async fn tenant(app: &AppState, tid: &str) -> Result<TenantId, ApiError> {
    let id = TenantId::parse(tid).map_err(|_| ApiError::not_found("workspace"))?;
    app.blocking(move |s| s.control().tenant_by_id(id))
        .await?
        .map(|t| t.id)
        .ok_or_else(|| ApiError::not_found("workspace"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpsAutomationQuery {
    pub status: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// Archived automations are hidden unless this is `true` (or `status=archived`).
    #[serde(default)]
    pub include_archived: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsAutomationPage {
    pub items: Vec<AutomationView>,
    pub next_cursor: Option<String>,
}

/// Automations across every workspace, newest first, each with its `tenant_id`. It walks the
/// workspaces through the storage's tenant LRU: fine for v1's scale, and the first thing to
/// replace with a control-plane index when it is not.
#[utoipa::path(get, path = "/api/ops/automations", tag = "ops", params(OpsAutomationQuery),
    responses((status = 200, body = OpsAutomationPage)))]
pub async fn ops_automations_list(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(query): ApiQuery<OpsAutomationQuery>,
) -> Result<Json<OpsAutomationPage>, ApiError> {
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_status("status", s))
        .transpose()?;
    let limit = Limit::or_default(query.limit);
    let include_archived = query.include_archived;
    let mut rows = app
        .blocking(move |s| {
            let mut all = Vec::new();
            for t in s.control().list_tenants()? {
                let found = s.tenant(t.id)?.list_automations(&AutomationFilter {
                    status,
                    q: None,
                    include_archived,
                    before_id: None,
                    limit,
                })?;
                all.extend(found.into_iter().map(|a| (t.id, a)));
            }
            Ok(all)
        })
        .await?;
    rows.sort_by_key(|(_, a)| std::cmp::Reverse(a.id));
    rows.truncate(limit as usize);
    Ok(Json(OpsAutomationPage {
        items: rows
            .iter()
            .map(|(t, a)| AutomationView {
                tenant_id: Some(t.to_string()),
                ..AutomationView::from(a)
            })
            .collect(),
        next_cursor: None,
    }))
}

/// One version of a workspace's automation, with what ops may do next.
#[utoipa::path(get, path = "/api/ops/tenants/{tid}/automations/{id}/versions/{n}", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path), ("n" = String, Path)),
    responses((status = 200, body = VersionView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_version_get(
    State(app): State<AppState>,
    ops: OpsSession,
    Path((tid, id, n)): Path<(String, String, String)>,
) -> Result<Json<VersionView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let v = app
        .blocking(move |s| s.tenant(tenant)?.version(id, n))
        .await?;
    Ok(Json(VersionView::new(&v, &ops.actor())))
}

/// Ops edit a blueprint (flow 10): in `intake_in_progress`, and in `needs_pricing` to fix what
/// blocks pricing.
#[utoipa::path(put, path = "/api/ops/tenants/{tid}/automations/{id}/versions/{n}/blueprint", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path), ("n" = String, Path)),
    request_body = BlueprintBody,
    responses((status = 200, body = VersionView),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_blueprint_put(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id, n)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<BlueprintBody>,
) -> Result<Json<VersionView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let (id, n) = (parse_automation_id(&id)?, parse_version_ref(&n)?);
    let caller = Caller::ops(&ops, meta);
    let v =
        svc::update_blueprint(&app, tenant, &caller, id, n, body.blueprint, body.revision).await?;
    Ok(Json(VersionView::new(&v, &caller.actor)))
}

/// Ops move a version, through the same state machine as clients.
#[utoipa::path(post, path = "/api/ops/tenants/{tid}/automations/{id}/versions/{n}/transitions", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path), ("n" = String, Path)),
    request_body = TransitionBody,
    responses((status = 200, body = VersionView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_transition_post(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id, n)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<TransitionBody>,
) -> Result<Json<VersionView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let caller = Caller::ops(&ops, meta);
    transition_version(&app, tenant, &caller, (&id, &n), body).await
}

/// A workspace's tasks, both sides'.
#[utoipa::path(get, path = "/api/ops/tenants/{tid}/tasks", tag = "ops",
    params(("tid" = String, Path), TaskQuery),
    responses((status = 200, body = TaskPage)))]
pub async fn ops_tasks_list(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path(tid): Path<String>,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<TaskPage>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let (filter, limit) = task_filter(query)?;
    let rows = app
        .blocking(move |s| s.tenant(tenant)?.tasks(&filter))
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |t| t.id.to_string());
    Ok(Json(TaskPage {
        items: rows.iter().map(TaskView::from).collect(),
        next_cursor,
    }))
}

/// Ops move an ops task (client tasks are the workspace's: 403 here).
#[utoipa::path(patch, path = "/api/ops/tenants/{tid}/tasks/{id}", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path)), request_body = TaskUpdate,
    responses((status = 200, body = TaskView),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_task_update(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<TaskUpdate>,
) -> Result<Json<TaskView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let id = parse_task_id(&id)?;
    let status = parse_task_status(&body.status)?;
    let caller = Caller::ops(&ops, meta);
    let task = svc::set_task_status(&app, tenant, &caller, Assignee::Ops, id, status).await?;
    Ok(Json(TaskView::from(&task)))
}
