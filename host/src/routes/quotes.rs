//! Routes: projects and quotes on a workspace host (read only here; flow 11 makes them, flows
//! 14-18 act on them).

use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::QuoteId;
use wrk_core::roles::ClientRole;
use wrk_tenants::automations::quotes::{Project, Quote, QuoteFilter};

use crate::ctx::TenantCtx;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Cursor, Limit};
use crate::services::{QUOTE_STATUSES, paginate};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(projects_list))
        .routes(routes!(quotes_list))
        .routes(routes!(quote_get))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub automation_id: String,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    /// The project's current quote (newest revision).
    pub quote_id: Option<String>,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        Self {
            id: p.id.to_string(),
            automation_id: p.automation_id.to_string(),
            version: p.version,
            created_at: p.created_at,
            quote_id: p.quote_id.map(|q| q.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineItemView {
    pub code: String,
    pub description: String,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
    /// `one_time` or `monthly`.
    pub recurrence: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// Who a quote is addressed to: the workspace and its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct BilledToView {
    pub workspace_name: String,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
}

/// A quote (API.md). Money is integer cents in `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    pub id: String,
    /// The quote's number for people, e.g. `Q-2026-0001` (`-R2` for a second revision).
    pub number: Option<String>,
    /// The workspace and owner it is addressed to (on `GET /api/quotes/{id}`; null in lists).
    pub billed_to: Option<BilledToView>,
    pub project_id: String,
    pub automation_id: String,
    pub version: u32,
    pub revision: u32,
    pub status: String,
    pub currency: String,
    pub setup_fee_cents: i64,
    pub monthly_fee_cents: i64,
    pub included_runs: i64,
    pub overage_unit_cents: i64,
    pub line_items: Vec<LineItemView>,
    pub valid_until: DateTime<Utc>,
    pub plugin: PluginView,
    pub created_at: DateTime<Utc>,
}

impl From<&Quote> for QuoteView {
    fn from(q: &Quote) -> Self {
        Self {
            id: q.id.to_string(),
            number: q.number.clone(),
            billed_to: None,
            project_id: q.project_id.to_string(),
            automation_id: q.automation_id.to_string(),
            version: q.version,
            revision: q.revision,
            status: q.status.clone(),
            currency: q.currency.to_string(),
            setup_fee_cents: q.setup_fee.cents.get(),
            monthly_fee_cents: q.monthly_fee.cents.get(),
            included_runs: q.included_runs,
            overage_unit_cents: q.overage_unit.cents.get(),
            line_items: q
                .line_items
                .iter()
                .map(|l| LineItemView {
                    code: l.code.clone(),
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_cents: l.unit.cents.get(),
                    amount_cents: l.amount.cents.get(),
                    recurrence: l.recurrence.as_str().to_owned(),
                })
                .collect(),
            valid_until: q.valid_until,
            plugin: PluginView {
                name: q.plugin.name.clone(),
                version: q.plugin.version.clone(),
                sha256: q.plugin.sha256.clone(),
            },
            created_at: q.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotePage {
    pub items: Vec<QuoteView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// `draft`, `sent`, `accepted`, `signed`, `rejected`, `expired` or `superseded`.
    pub status: Option<String>,
    /// Page size: 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<Cursor>,
}

/// Projects, newest first (flow 11 creates one per version that is priced).
#[utoipa::path(get, path = "/api/projects", tag = "quotes", params(PageQuery),
    responses((status = 200, body = ProjectPage)))]
pub async fn projects_list(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ProjectPage>, ApiError> {
    let limit = Limit::or_default(query.limit);
    let rows = ctx
        .blocking(move |t| t.projects(Cursor::into_inner(query.cursor).as_deref(), limit + 1))
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |p| p.id.to_string());
    Ok(Json(ProjectPage {
        items: rows.iter().map(ProjectView::from).collect(),
        next_cursor,
    }))
}

/// Quotes, newest first, optionally by status.
#[utoipa::path(get, path = "/api/quotes", tag = "quotes", params(QuoteQuery),
    responses((status = 200, body = QuotePage)))]
pub async fn quotes_list(
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<QuoteQuery>,
) -> Result<Json<QuotePage>, ApiError> {
    let status = query.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !QUOTE_STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::validation(
            "status",
            format!("must be one of {}", QUOTE_STATUSES.join(", ")),
        ));
    }
    let limit = Limit::or_default(query.limit);
    let filter = QuoteFilter {
        status,
        before_id: Cursor::into_inner(query.cursor),
        limit: limit + 1,
    };
    let rows = ctx.blocking(move |t| t.quotes(&filter)).await?;
    let (rows, next_cursor) = paginate(rows, limit, |q| q.id.to_string());
    Ok(Json(QuotePage {
        items: rows.iter().map(QuoteView::from).collect(),
        next_cursor,
    }))
}

/// One quote.
#[utoipa::path(get, path = "/api/quotes/{id}", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_get(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<Json<QuoteView>, ApiError> {
    let id = QuoteId::parse(&id).map_err(|_| ApiError::not_found("quote"))?;
    let tenant = ctx.tenant_id();
    let (q, owner) = ctx
        .app
        .blocking(move |s| {
            let q = s.tenant(tenant)?.quote(id)?;
            let owner = s
                .control()
                .members(tenant)?
                .into_iter()
                .find(|m| m.role == ClientRole::Owner);
            Ok((q, owner))
        })
        .await?;
    let mut view = QuoteView::from(&q);
    view.billed_to = Some(BilledToView {
        workspace_name: ctx.session.tenant.name.clone(),
        owner_name: owner
            .as_ref()
            .map(|o| o.name.clone())
            .filter(|n| !n.trim().is_empty()),
        owner_email: owner.map(|o| o.email),
    });
    Ok(Json(view))
}
