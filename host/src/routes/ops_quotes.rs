//! Routes: ops act on a workspace's quotes and invoices: revise a quote (flow 14) and mark an
//! invoice paid out of band (the manual provider, flow 16; any finalized or failed invoice).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::ids::QuoteId;
use wrk_core::quote::Recurrence;
use wrk_tenants::automations::signing::Invoice;

use super::ops_automations::tenant;
use super::quotes::{QuotePage, QuoteQuery, QuoteView, quote_page};
use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, ClientMeta};
use crate::services::Caller;
use crate::services::quotes::{self, RevisedLine, Revision};
use crate::state::AppState;

/// Most lines a revision may have.
pub const MAX_QUOTE_LINES: usize = 100;
/// Largest quantity of one line.
pub const MAX_LINE_QUANTITY: u64 = 10_000;
/// Largest unit price (and setup fee) of a revision: 10 million in the currency's major unit.
/// With the two bounds above, no total can pass 2^53 cents (what JSON readers keep exact).
pub const MAX_LINE_UNIT_CENTS: u64 = 1_000_000_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops_quotes_list))
        .routes(routes!(ops_quote_patch))
        .routes(routes!(ops_invoice_mark_paid))
}

/// A workspace's quotes, newest first (the ops quote editor finds a version's quote here).
#[utoipa::path(get, path = "/api/ops/tenants/{tid}/quotes", tag = "ops",
    params(("tid" = String, Path), QuoteQuery),
    responses((status = 200, body = QuotePage),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_quotes_list(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path(tid): Path<String>,
    ApiQuery(query): ApiQuery<QuoteQuery>,
) -> Result<Json<QuotePage>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    Ok(Json(quote_page(&app, tenant, query).await?))
}

/// One line of a revised quote. `amount_cents`, when given, must equal `quantity × unit_cents`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisedLineBody {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub unit_cents: u64,
    #[serde(default)]
    pub amount_cents: Option<u64>,
    /// `one_time` or `monthly`.
    pub recurrence: String,
}

/// An ops revision (flow 14); what is left out stays as in the revised quote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotePatch {
    /// The new revision's lines (replacing all of them).
    #[serde(default)]
    pub line_items: Option<Vec<RevisedLineBody>>,
    /// Replaces the one-time lines by one "Setup fee" line of this amount.
    #[serde(default)]
    pub setup_fee_cents: Option<u64>,
    /// Taken off every line's unit price, and said so on the line.
    #[serde(default)]
    pub discount_percent: Option<u8>,
    /// Shown to the client with the revision.
    #[serde(default)]
    pub note: Option<String>,
}

/// Ops revise a quote: revision n+1 of the same project, `sent`; the old one `superseded`; the
/// client gets an email and a message in the automation's thread.
#[utoipa::path(patch, path = "/api/ops/tenants/{tid}/quotes/{id}", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path)),
    request_body = QuotePatch,
    responses((status = 200, body = QuoteView),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_quote_patch(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<QuotePatch>,
) -> Result<Json<QuoteView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    let id = QuoteId::parse(&id).map_err(|_| ApiError::not_found("quote"))?;
    let line_items = body
        .line_items
        .map(|lines| {
            if lines.len() > MAX_QUOTE_LINES {
                return Err(ApiError::validation(
                    "line_items",
                    format!("at most {MAX_QUOTE_LINES} lines"),
                ));
            }
            lines
                .into_iter()
                .map(|l| {
                    let text = |field: &str, v: &str| {
                        if v.trim().is_empty() || v.chars().count() > 200 || v.contains('\0') {
                            Err(ApiError::validation(
                                field,
                                "1 to 200 characters, not blank, no NUL",
                            ))
                        } else {
                            Ok(())
                        }
                    };
                    text("line_items.code", &l.code)?;
                    text("line_items.description", &l.description)?;
                    if l.quantity > MAX_LINE_QUANTITY
                        || l.unit_cents > MAX_LINE_UNIT_CENTS
                        || l.amount_cents
                            .is_some_and(|a| a > MAX_LINE_QUANTITY * MAX_LINE_UNIT_CENTS)
                    {
                        return Err(ApiError::validation(
                            "line_items",
                            format!(
                                "a quantity is at most {MAX_LINE_QUANTITY}, a unit price at \
                                 most {MAX_LINE_UNIT_CENTS} cents, an amount at most their product"
                            ),
                        ));
                    }
                    let recurrence = Recurrence::parse(&l.recurrence).map_err(|_| {
                        ApiError::validation("line_items.recurrence", "one_time or monthly")
                    })?;
                    Ok(RevisedLine {
                        code: l.code,
                        description: l.description,
                        quantity: l.quantity,
                        unit_cents: l.unit_cents,
                        amount_cents: l.amount_cents,
                        recurrence,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    if body
        .setup_fee_cents
        .is_some_and(|f| f > MAX_LINE_UNIT_CENTS)
    {
        return Err(ApiError::validation(
            "setup_fee_cents",
            format!("at most {MAX_LINE_UNIT_CENTS}"),
        ));
    }
    if body.note.as_deref().is_some_and(|n| n.contains('\0')) {
        return Err(ApiError::validation("note", "must not contain NUL"));
    }
    let revision = Revision {
        line_items,
        setup_fee_cents: body.setup_fee_cents,
        discount_percent: body.discount_percent,
        note: body.note,
    };
    let caller = Caller::ops(&ops, meta);
    let out = quotes::revise(&app, tenant, &caller, id, revision).await?;
    Ok(Json(QuoteView::from(&*out.quote)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkPaidBody {
    /// The payment's reference (a bank transfer id), up to 200 characters.
    #[serde(default)]
    pub reference: Option<String>,
}

/// An invoice as ops see it after marking it paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: String,
    pub number: String,
    /// `setup_fee`, `proration` or `period`.
    pub kind: String,
    pub period: String,
    pub status: String,
    pub currency: String,
    pub total_cents: i64,
    pub quote_id: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        Self {
            id: i.id.clone(),
            number: i.number.clone(),
            kind: i.kind.clone(),
            period: i.period.clone(),
            status: i.status.clone(),
            currency: i.total.currency.to_string(),
            total_cents: i.total.cents.get(),
            quote_id: i.quote_id.clone(),
            paid_at: i.paid_at,
            paid_reference: i.paid_reference.clone(),
            created_at: i.created_at,
        }
    }
}

/// Ops mark an invoice paid out of band (the manual provider's invoices): a finalized or failed
/// invoice becomes `paid`, audited.
#[utoipa::path(post, path = "/api/ops/tenants/{tid}/invoices/{id}/mark-paid", tag = "ops",
    params(("tid" = String, Path), ("id" = String, Path)),
    request_body = MarkPaidBody,
    responses((status = 200, body = InvoiceView),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn ops_invoice_mark_paid(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path((tid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<MarkPaidBody>,
) -> Result<Json<InvoiceView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(ApiError::not_found("invoice"));
    }
    let caller = Caller::ops(&ops, meta);
    let inv = quotes::mark_paid(&app, tenant, &caller, id, body.reference).await?;
    Ok(Json(InvoiceView::from(&inv)))
}
