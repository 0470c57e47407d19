//! Routes: projects and quotes on a workspace host: read them (flow 11 makes them), accept
//! (15), sign with payment (16), reject (18), and the quote document as a PDF.

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

use crate::ctx::{Needs, TenantCtx, Write};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Cursor, Limit};
use crate::services::payments::PaymentMethod;
use crate::services::{QUOTE_STATUSES, paginate, quotes};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(projects_list))
        .routes(routes!(quotes_list))
        .routes(routes!(quote_get))
        .routes(routes!(quote_accept))
        .routes(routes!(quote_reject))
        .routes(routes!(quote_sign))
        .routes(routes!(quote_pdf))
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
    /// The whole percentage an ops revision took off the unit prices (0 when none).
    pub discount_percent: u8,
    /// Ops' note on this revision.
    pub note: Option<String>,
    /// The client's reason, once rejected.
    pub rejected_reason: Option<String>,
    /// Once signed (on `GET /api/quotes/{id}` and the sign answer; null in lists).
    pub signature: Option<SignatureView>,
    /// Its setup-fee invoice when paid by invoice (detail only).
    pub invoices: Vec<QuoteInvoiceView>,
    /// The payment provider a signature pays through: `manual` (by invoice) or `stripe` (card);
    /// on the detail only, so the sign form asks for the right method.
    pub payment_provider: Option<String>,
}

/// Who signed a quote, and the hash of the document they signed (flow 16).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureView {
    pub signer_name: String,
    pub signer_title: String,
    pub signed_at: DateTime<Utc>,
    /// SHA-256 (hex) of the unsigned quote PDF that was signed.
    pub document_sha256: String,
}

/// An invoice of a quote (its setup fee when paid by invoice).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteInvoiceView {
    pub id: String,
    pub number: String,
    pub kind: String,
    /// `finalized` (issued, due), `paid`, ...
    pub status: String,
    pub currency: String,
    pub total_cents: i64,
    pub paid_at: Option<DateTime<Utc>>,
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
            discount_percent: q.discount_percent,
            note: q.note.clone(),
            rejected_reason: q.rejected_reason.clone(),
            signature: None,
            invoices: Vec::new(),
            payment_provider: None,
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
    Ok(Json(quote_page(&ctx.app, ctx.tenant_id(), query).await?))
}

/// A page of a workspace's quotes (the workspace host's list and the ops one).
pub(super) async fn quote_page(
    app: &AppState,
    tenant: wrk_core::ids::TenantId,
    query: QuoteQuery,
) -> Result<QuotePage, ApiError> {
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
    let rows = app
        .blocking(move |s| s.tenant(tenant)?.quotes(&filter))
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |q| q.id.to_string());
    Ok(QuotePage {
        items: rows.iter().map(QuoteView::from).collect(),
        next_cursor,
    })
}

/// One quote.
#[utoipa::path(get, path = "/api/quotes/{id}", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_get(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<Json<QuoteView>, ApiError> {
    let id = parse_quote_id(&id)?;
    Ok(Json(detail(&ctx, id).await?))
}

fn parse_quote_id(id: &str) -> Result<QuoteId, ApiError> {
    QuoteId::parse(id).map_err(|_| ApiError::not_found("quote"))
}

/// The quote as `GET /api/quotes/{id}` shows it: addressed, with its signature, invoices and
/// the active payment provider.
async fn detail<A: Needs>(ctx: &TenantCtx<A>, id: QuoteId) -> Result<QuoteView, ApiError> {
    let tenant = ctx.tenant_id();
    let (q, owner, signature, invoices) = ctx
        .app
        .blocking(move |s| {
            let t = s.tenant(tenant)?;
            let q = t.quote(id)?;
            let owner = s
                .control()
                .members(tenant)?
                .into_iter()
                .find(|m| m.role == ClientRole::Owner);
            Ok((q, owner, t.quote_signature(id)?, t.quote_invoices(id)?))
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
    view.signature = signature.map(|s| SignatureView {
        signer_name: s.signer_name,
        signer_title: s.signer_title,
        signed_at: s.signed_at,
        document_sha256: s.document_sha256,
    });
    view.invoices = invoices
        .iter()
        .map(|i| QuoteInvoiceView {
            id: i.id.clone(),
            number: i.number.clone(),
            kind: i.kind.clone(),
            status: i.status.clone(),
            currency: i.total.currency.to_string(),
            total_cents: i.total.cents.get(),
            paid_at: i.paid_at,
        })
        .collect();
    view.payment_provider = Some(ctx.app.payments.kind().as_str().to_owned());
    Ok(view)
}

/// Flow 15: accept a `sent` quote within its validity (owner or admin). An expired or
/// superseded quote is a 409 whose detail says which.
#[utoipa::path(post, path = "/api/quotes/{id}/accept", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_accept(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
) -> Result<Json<QuoteView>, ApiError> {
    let id = parse_quote_id(&id)?;
    quotes::accept(&ctx.app, ctx.tenant_id(), &ctx.caller(), id).await?;
    Ok(Json(detail(&ctx, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why the quote does not work for you (1 to 2000 characters).
    pub reason: String,
}

/// Flow 18: reject a `sent` or `accepted` quote with a reason (owner or admin). The version goes
/// back to `needs_pricing` and ops get one "revise the quote" task.
#[utoipa::path(post, path = "/api/quotes/{id}/reject", tag = "quotes", params(("id" = String, Path)),
    request_body = RejectBody,
    responses((status = 200, body = QuoteView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_reject(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<QuoteView>, ApiError> {
    let id = parse_quote_id(&id)?;
    if body.reason.chars().count() > 2000 || body.reason.contains('\0') {
        return Err(ApiError::validation(
            "reason",
            "at most 2000 characters, no NUL",
        ));
    }
    quotes::reject(&ctx.app, ctx.tenant_id(), &ctx.caller(), id, body.reason).await?;
    Ok(Json(detail(&ctx, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    pub signer_name: String,
    pub signer_title: String,
    /// Must be `true`: the signer agrees to the quote.
    pub agree: bool,
    /// `{"type":"manual"}` (pay by invoice) or `{"type":"stripe","payment_method_id":"pm_..."}`,
    /// whichever the workspace's provider (`payment_provider` on the quote) takes.
    #[schema(value_type = Object)]
    pub payment_method: PaymentMethod,
}

/// Flow 16: sign an `accepted` quote: the setup fee is charged through the payment provider
/// (or invoiced, with the manual provider), the signature recorded, and the version moves to
/// `ready_to_build`. A declined payment is a 402 `payment_failed` and changes nothing. The same
/// request again answers the signed quote without charging twice.
#[utoipa::path(post, path = "/api/quotes/{id}/sign", tag = "quotes", params(("id" = String, Path)),
    request_body = SignBody,
    responses((status = 200, body = QuoteView),
              (status = 402, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_sign(
    ctx: TenantCtx<Write>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SignBody>,
) -> Result<Json<QuoteView>, ApiError> {
    let id = parse_quote_id(&id)?;
    let tenant = ctx.tenant_id();
    let user = ctx.session.user_id();
    let email = ctx
        .app
        .blocking(move |s| {
            let members = s.control().members(tenant)?;
            Ok(members
                .iter()
                .find(|m| m.user_id == user)
                .or_else(|| members.iter().find(|m| m.role == ClientRole::Owner))
                .map(|m| m.email.clone())
                .unwrap_or_default())
        })
        .await?;
    let signer = quotes::Signer {
        workspace_name: ctx.session.tenant.name.clone(),
        user_id: user.to_string(),
        email,
    };
    let req = quotes::SignRequest {
        signer_name: body.signer_name,
        signer_title: body.signer_title,
        agree: body.agree,
        payment_method: body.payment_method,
    };
    quotes::sign(&ctx.app, tenant, &ctx.caller(), signer, id, req).await?;
    Ok(Json(detail(&ctx, id).await?))
}

/// The quote as a PDF: line items, one-time and monthly totals, validity, the plugin that priced
/// it, and the signature block once signed.
#[utoipa::path(get, path = "/api/quotes/{id}/pdf", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn quote_pdf(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let id = parse_quote_id(&id)?;
    let client = ctx.session.tenant.name.clone();
    let (q, bytes) = quotes::pdf(&ctx.app, ctx.tenant_id(), client, id).await?;
    let name = q
        .number
        .clone()
        .unwrap_or_else(|| format!("quote-r{}", q.revision))
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.pdf\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
