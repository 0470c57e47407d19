//! Routes: finding things. On a workspace host, `GET /api/search` over the workspace's
//! automations, tasks and members, and `PATCH /api/workspace` to rename it; on the ops host,
//! `GET /api/ops/tenants` (every workspace with its counts) and `GET /api/ops/search` across
//! workspaces. The SQL is in `wrk_tenants::directory`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::TenantId;
use wrk_tenants::directory::parse_workspace_name;

use super::automations::AutomationView;
use super::tasks::TaskView;
use super::team::{MemberView, TenantView};
use crate::auth::session::OpsSession;
use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Cursor, Limit};
use crate::services::paginate;
use crate::state::AppState;

/// Most hits of each kind one search returns.
const HITS_PER_KIND: u32 = 20;
/// The longest query searched for.
const MAX_QUERY_CHARS: usize = 200;

pub fn tenant() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(workspace_get, workspace_rename))
}

pub fn ops() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops_tenants))
        .routes(routes!(ops_search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: a case-insensitive part of a name, title, description or email (at most
    /// 200 characters, no control characters).
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub q: Option<String>,
}

fn query_text(q: Option<String>) -> Result<String, ApiError> {
    let q = q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation("q", "must be at most 200 characters"));
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "q",
            "must not contain control characters",
        ));
    }
    Ok(q)
}

/// What a workspace search found, by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub q: String,
    pub automations: Vec<AutomationView>,
    pub tasks: Vec<TaskView>,
    pub members: Vec<MemberView>,
}

/// Searches this workspace's automations (name, description), tasks (title) and members (name,
/// email). A blank `q` finds nothing.
#[utoipa::path(get, path = "/api/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchResults),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn search(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let q = query_text(query.q)?;
    let tid = ctx.tenant_id();
    let needle = q.clone();
    let (automations, tasks, members) = ctx
        .app
        .blocking(move |st| {
            let t = st.tenant(tid)?;
            Ok((
                t.search_automations(&needle, HITS_PER_KIND)?,
                t.search_tasks(&needle, HITS_PER_KIND)?,
                st.control().search_members(tid, &needle, HITS_PER_KIND)?,
            ))
        })
        .await?;
    Ok(Json(SearchResults {
        q,
        automations: automations.iter().map(AutomationView::from).collect(),
        tasks: tasks.iter().map(TaskView::from).collect(),
        members: members.iter().map(MemberView::from).collect(),
    }))
}

/// This workspace: its id, display name and address.
#[utoipa::path(get, path = "/api/workspace", tag = "team",
    responses((status = 200, body = TenantView),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn workspace_get(ctx: TenantCtx) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(tenant_view(&ctx.session.tenant)))
}

fn tenant_view(t: &wrk_tenants::control::TenantRecord) -> TenantView {
    TenantView {
        id: t.id.to_string(),
        name: t.name.clone(),
        subdomain: t.subdomain.to_string(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameWorkspace {
    /// The new display name, 1 to 200 characters. The address (subdomain) never changes.
    pub name: String,
}

/// Renames this workspace (owner or admin). The address stays; the change is audited as
/// `tenant.renamed`.
#[utoipa::path(patch, path = "/api/workspace", tag = "team", request_body = RenameWorkspace,
    responses((status = 200, body = TenantView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn workspace_rename(
    ctx: TenantCtx<Admin>,
    ApiJson(body): ApiJson<RenameWorkspace>,
) -> Result<Json<TenantView>, ApiError> {
    let name = parse_workspace_name(&body.name).map_err(|m| ApiError::validation("name", m))?;
    let (tid, actor, meta) = (ctx.tenant_id(), ctx.audit_actor(), ctx.meta.clone());
    let record = ctx
        .app
        .blocking(move |st| st.rename_tenant(tid, &name, &actor, &meta))
        .await?;
    Ok(Json(tenant_view(&record)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpsTenantQuery {
    /// Keeps workspaces whose name or address contains this (at most 200 characters, no control
    /// characters).
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub q: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// What one workspace holds, in numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantCounts {
    pub members: u64,
    /// Automations that are not archived.
    pub automations: u64,
    /// Tasks not done yet, either side's.
    pub open_tasks: u64,
}

/// A workspace as ops see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpsTenantView {
    pub id: String,
    pub name: String,
    pub subdomain: String,
    pub created_at: DateTime<Utc>,
    /// The client the workspace belongs to (`{id, name}`); `null` when it has none.
    #[schema(value_type = Option<Object>)]
    pub client: Option<serde_json::Value>,
    pub counts: TenantCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsTenantPage {
    pub items: Vec<OpsTenantView>,
    pub next_cursor: Option<String>,
}

/// Every workspace, newest first, with its client and counts.
#[utoipa::path(get, path = "/api/ops/tenants", tag = "ops", params(OpsTenantQuery),
    responses((status = 200, body = OpsTenantPage),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn ops_tenants(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(query): ApiQuery<OpsTenantQuery>,
) -> Result<Json<OpsTenantPage>, ApiError> {
    let limit = Limit::or_default(query.limit);
    let q = query_text(query.q)?;
    let before = Cursor::into_inner(query.cursor)
        .map(|c| TenantId::parse(&c).map_err(|_| ApiError::validation("cursor", "is not valid")))
        .transpose()?;
    let rows = app
        .blocking(move |st| {
            let found = st
                .control()
                .tenants_with_members(Some(q.as_str()), before, limit + 1)?;
            let clients = st.control().tenant_clients()?;
            let mut out = Vec::with_capacity(found.len());
            for t in found {
                let counts = st.tenant(t.tenant.id)?.counts()?;
                let client = clients.get(&t.tenant.id).cloned();
                out.push((t, counts, client));
            }
            Ok(out)
        })
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |(t, _, _)| t.tenant.id.to_string());
    Ok(Json(OpsTenantPage {
        items: rows
            .into_iter()
            .map(|(t, c, client)| OpsTenantView {
                id: t.tenant.id.to_string(),
                name: t.tenant.name,
                subdomain: t.tenant.subdomain.to_string(),
                created_at: t.tenant.created_at,
                client: client.map(|(id, name)| serde_json::json!({"id": id, "name": name})),
                counts: TenantCounts {
                    members: t.members,
                    automations: c.automations,
                    open_tasks: c.open_tasks,
                },
            })
            .collect(),
        next_cursor,
    }))
}

/// A workspace a hit belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitWorkspace {
    pub id: String,
    pub name: String,
    pub subdomain: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsAutomationHit {
    pub workspace: HitWorkspace,
    pub automation: AutomationView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsTaskHit {
    pub workspace: HitWorkspace,
    pub task: TaskView,
}

/// What an ops search found, by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpsSearchResults {
    pub q: String,
    pub workspaces: Vec<HitWorkspace>,
    pub automations: Vec<OpsAutomationHit>,
    pub tasks: Vec<OpsTaskHit>,
}

/// Searches every workspace: workspaces by name or address, automations by name or description,
/// tasks by title. A blank `q` finds nothing.
#[utoipa::path(get, path = "/api/ops/search", tag = "ops", params(SearchQuery),
    responses((status = 200, body = OpsSearchResults),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn ops_search(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<OpsSearchResults>, ApiError> {
    let q = query_text(query.q)?;
    let needle = q.clone();
    let (workspaces, automations, tasks) = app
        .blocking(move |st| {
            let (mut ws, mut autos, mut tasks) = (vec![], vec![], vec![]);
            if needle.is_empty() {
                return Ok((ws, autos, tasks));
            }
            let hit = |t: &wrk_tenants::control::TenantRecord| HitWorkspace {
                id: t.id.to_string(),
                name: t.name.clone(),
                subdomain: t.subdomain.to_string(),
            };
            ws = st
                .control()
                .tenants_with_members(Some(&needle), None, HITS_PER_KIND)?
                .iter()
                .map(|t| hit(&t.tenant))
                .collect();
            for t in st.control().list_tenants()? {
                let store = st.tenant(t.id)?;
                for a in store.search_automations(&needle, HITS_PER_KIND)? {
                    autos.push((a.id, hit(&t), AutomationView::from(&a)));
                }
                for k in store.search_tasks(&needle, HITS_PER_KIND)? {
                    tasks.push((k.id.to_string(), hit(&t), TaskView::from(&k)));
                }
            }
            Ok((ws, autos, tasks))
        })
        .await?;
    let mut automations = automations;
    automations.sort_by_key(|(id, _, _)| std::cmp::Reverse(*id));
    automations.truncate(HITS_PER_KIND as usize);
    let mut tasks = tasks;
    tasks.sort_by(|a, b| b.0.cmp(&a.0));
    tasks.truncate(HITS_PER_KIND as usize);
    Ok(Json(OpsSearchResults {
        q,
        workspaces,
        automations: automations
            .into_iter()
            .map(|(_, workspace, automation)| OpsAutomationHit {
                workspace,
                automation,
            })
            .collect(),
        tasks: tasks
            .into_iter()
            .map(|(_, workspace, task)| OpsTaskHit { workspace, task })
            .collect(),
    }))
}
