//! Routes: tasks on a workspace host (flows 31, 32).

use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::TaskId;
use wrk_core::tasks::Assignee;
use wrk_tenants::automations::tasks::{Task, TaskFilter, TaskStatus};

use super::automations::parse_automation_id;
use crate::ctx::{TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Cursor, Limit};
use crate::services::{automations as svc, paginate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tasks_list))
        .routes(routes!(task_update))
}

/// A task: `{id, key, title, automation_id, assignee, status, created_at}` and a little more.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    /// What caused it, e.g. `validation:missing_trigger:/trigger`; one open task per cause.
    pub key: String,
    pub title: String,
    pub automation_id: String,
    pub version: Option<u32>,
    pub kind: String,
    /// `client` or `ops`.
    pub assignee: String,
    /// `todo`, `in_progress` or `done`.
    pub status: String,
    pub closed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Task> for TaskView {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id.to_string(),
            key: t.key.clone(),
            title: t.title.clone(),
            automation_id: t.automation_id.to_string(),
            version: t.version,
            kind: t.kind.as_str().to_owned(),
            assignee: t.assignee.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            closed_by: t.closed_by.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    pub status: Option<String>,
    /// An automation id (empty: all automations).
    #[param(
        pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"
    )]
    pub automation_id: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    /// `todo`, `in_progress` or `done`.
    pub status: String,
}

pub fn parse_task_status(s: &str) -> Result<TaskStatus, ApiError> {
    TaskStatus::parse(s)
        .ok_or_else(|| ApiError::validation("status", "must be todo, in_progress or done"))
}

pub fn parse_task_id(s: &str) -> Result<TaskId, ApiError> {
    TaskId::parse(s).map_err(|_| ApiError::not_found("task"))
}

/// The filter of a task list query.
pub fn task_filter(query: TaskQuery) -> Result<(TaskFilter, u32), ApiError> {
    let limit = Limit::or_default(query.limit);
    Ok((
        TaskFilter {
            status: query
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_task_status)
                .transpose()?,
            automation_id: query
                .automation_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    parse_automation_id(s).map_err(|_| {
                        ApiError::validation("automation_id", "is not an automation id")
                    })
                })
                .transpose()?,
            before_id: Cursor::into_inner(query.cursor),
            limit: limit + 1,
        },
        limit,
    ))
}

/// Tasks of the workspace (both sides'), newest first.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = TaskPage)))]
pub async fn tasks_list(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<TaskPage>, ApiError> {
    let (filter, limit) = task_filter(query)?;
    let rows = ctx.blocking(move |t| t.tasks(&filter)).await?;
    let (rows, next_cursor) = paginate(rows, limit, |t| t.id.to_string());
    Ok(Json(TaskPage {
        items: rows.iter().map(TaskView::from).collect(),
        next_cursor,
    }))
}

/// Move a client task: `todo → in_progress → done`, and back to `todo`. Ops tasks are updated
/// on the ops host (403 here).
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path)), request_body = TaskUpdate,
    responses((status = 200, body = TaskView),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn task_update(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TaskUpdate>,
) -> Result<Json<TaskView>, ApiError> {
    let id = parse_task_id(&id)?;
    let status = parse_task_status(&body.status)?;
    let caller = ctx.caller();
    let task = svc::set_task_status(
        &ctx.app,
        ctx.tenant_id(),
        &caller,
        Assignee::Client,
        id,
        status,
    )
    .await?;
    Ok(Json(TaskView::from(&task)))
}
