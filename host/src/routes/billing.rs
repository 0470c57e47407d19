//! Routes: a workspace's billing (flows 17, 20): its subscriptions, a committed-volume change
//! (and its preview), its invoices and each invoice as a PDF.

use axum::Json;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::billing::BillingPeriod;
use wrk_core::ids::AutomationId;
use wrk_tenants::automations::signing::Invoice;
use wrk_tenants::billing::Subscription;

use crate::ctx::{Admin, TenantCtx};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::services::billing::pdf::{self, DocumentLine, InvoiceDocument};
use crate::services::billing::volume::{self, MAX_MONTHLY_RUNS};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(subscriptions_list))
        .routes(routes!(committed_volume_change))
        .routes(routes!(invoices_list))
        .routes(routes!(invoice_get))
        .routes(routes!(invoice_pdf))
}

/// A decrease waiting for the next period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingView {
    pub committed_monthly_runs: u64,
    pub monthly_fee_cents: i64,
    /// The period (`YYYY-MM`) it applies from.
    pub from: String,
}

/// A subscription (API.md). Money is integer cents in `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub automation_id: String,
    pub automation_name: String,
    pub version: u32,
    pub quote_id: String,
    pub committed_monthly_runs: u64,
    pub monthly_fee_cents: i64,
    pub overage_unit_cents: i64,
    pub currency: String,
    /// `active` or `ended`.
    pub status: String,
    pub pending: Option<PendingView>,
    pub started_at: DateTime<Utc>,
}

impl From<&Subscription> for SubscriptionView {
    fn from(s: &Subscription) -> Self {
        Self {
            id: s.id.clone(),
            automation_id: s.automation_id.to_string(),
            automation_name: s.automation_name.clone(),
            version: s.version,
            quote_id: s.quote_id.to_string(),
            committed_monthly_runs: s.committed_runs,
            monthly_fee_cents: s.monthly_fee.cents.get(),
            overage_unit_cents: s.overage_unit.cents.get(),
            currency: s.currency.to_string(),
            status: s.status.clone(),
            pending: s.pending.as_ref().map(|p| PendingView {
                committed_monthly_runs: p.committed_runs,
                monthly_fee_cents: p.monthly_fee.cents.get(),
                from: p.from.to_string(),
            }),
            started_at: s.started_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionPage {
    pub items: Vec<SubscriptionView>,
    pub next_cursor: Option<String>,
}

/// The workspace's subscriptions: active ones first, then ended ones, by automation name.
#[utoipa::path(get, path = "/api/billing/subscriptions", tag = "billing",
    responses((status = 200, body = SubscriptionPage)))]
pub async fn subscriptions_list(ctx: TenantCtx) -> Result<Json<SubscriptionPage>, ApiError> {
    let subs = ctx.blocking(|t| t.subscriptions()).await?;
    Ok(Json(SubscriptionPage {
        items: subs.iter().map(SubscriptionView::from).collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommittedVolumeBody {
    pub automation_id: String,
    /// The new commitment, runs a month.
    #[schema(minimum = 0, maximum = 100_000_000)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub monthly_runs: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommittedVolumeQuery {
    /// `true`: price the change and say what it would charge, changing nothing.
    pub dry_run: Option<bool>,
}

/// What a committed-volume change does (API.md), with the re-price for the preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommittedVolumeView {
    /// When the new commitment applies: now (an increase) or the next period's first instant.
    pub effective_at: DateTime<Utc>,
    /// Charged now for the rest of this month (an increase); 0 otherwise.
    pub prorated_charge_cents: i64,
    /// The re-quote; null for a preview.
    pub quote_id: Option<String>,
    pub currency: String,
    pub automation_id: String,
    pub current_monthly_runs: u64,
    pub current_monthly_fee_cents: i64,
    pub monthly_runs: u64,
    pub monthly_fee_cents: i64,
    pub overage_unit_cents: i64,
    /// `now` or `next_period`.
    pub applies: String,
    /// Days charged of this month's days (0 when nothing is charged now).
    pub remaining_days: u32,
    pub period_days: u32,
    pub dry_run: bool,
}

/// Flow 17: change an automation's committed monthly runs (owner or admin). The pricing plugin
/// re-prices it with the workspace's overrides. An increase applies now, charging through the
/// payment provider the day-based proration of the monthly difference for the rest of the UTC
/// month (the day of the change included); a decrease applies from the next period. A declined
/// charge is 402 `payment_failed` and changes nothing. With `?dry_run=true` nothing is charged
/// or stored: the answer is the preview.
#[utoipa::path(post, path = "/api/billing/committed-volume", tag = "billing",
    params(CommittedVolumeQuery), request_body = CommittedVolumeBody,
    responses((status = 200, body = CommittedVolumeView),
              (status = 402, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn committed_volume_change(
    ctx: TenantCtx<Admin>,
    ApiQuery(query): ApiQuery<CommittedVolumeQuery>,
    ApiJson(body): ApiJson<CommittedVolumeBody>,
) -> Result<Json<CommittedVolumeView>, ApiError> {
    let automation = AutomationId::parse(&body.automation_id)
        .map_err(|_| ApiError::not_found("subscription"))?;
    if body.monthly_runs > MAX_MONTHLY_RUNS {
        return Err(ApiError::validation(
            "monthly_runs",
            format!("at most {MAX_MONTHLY_RUNS}"),
        ));
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let c = volume::change(
        &ctx.app,
        ctx.tenant_id(),
        &ctx.caller(),
        automation,
        body.monthly_runs,
        dry_run,
    )
    .await?;
    Ok(Json(CommittedVolumeView {
        effective_at: c.effective_at,
        prorated_charge_cents: c.prorated_charge.cents.get(),
        quote_id: c.quote.as_ref().map(|q| q.id.to_string()),
        currency: c.monthly_fee.currency.to_string(),
        automation_id: automation.to_string(),
        current_monthly_runs: c.current_runs,
        current_monthly_fee_cents: c.current_fee.cents.get(),
        monthly_runs: c.monthly_runs,
        monthly_fee_cents: c.monthly_fee.cents.get(),
        overage_unit_cents: c.overage_unit.cents.get(),
        applies: if c.applies_now { "now" } else { "next_period" }.to_owned(),
        remaining_days: c.remaining_days,
        period_days: c.period_days,
        dry_run,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    /// `monthly_fee`, `overage`, `proration` or `setup_fee`.
    pub code: String,
    pub description: String,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

/// An invoice (API.md). Money is integer cents in `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingInvoiceView {
    pub id: String,
    /// For people: `INV-<yyyy>-<nnnn>`.
    pub number: String,
    /// `setup_fee`, `proration` or `period`.
    pub kind: String,
    /// `YYYY-MM`.
    pub period: String,
    /// `draft`, `finalized`, `paid` or `failed`.
    pub status: String,
    pub currency: String,
    pub lines: Vec<InvoiceLineView>,
    pub total_cents: i64,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Invoice> for BillingInvoiceView {
    fn from(i: &Invoice) -> Self {
        Self {
            id: i.id.clone(),
            number: i.number.clone(),
            kind: i.kind.clone(),
            period: i.period.clone(),
            status: i.status.clone(),
            currency: i.total.currency.to_string(),
            lines: i
                .lines
                .iter()
                .map(|l| InvoiceLineView {
                    code: l.code.clone(),
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_cents: l.unit.cents.get(),
                    amount_cents: l.amount.cents.get(),
                })
                .collect(),
            total_cents: i.total.cents.get(),
            paid_at: i.paid_at,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<BillingInvoiceView>,
    pub next_cursor: Option<String>,
}

/// The workspace's invoices (setup fees and periods), newest first.
#[utoipa::path(get, path = "/api/billing/invoices", tag = "billing",
    responses((status = 200, body = InvoicePage)))]
pub async fn invoices_list(ctx: TenantCtx) -> Result<Json<InvoicePage>, ApiError> {
    let rows = ctx.blocking(|t| t.invoices()).await?;
    Ok(Json(InvoicePage {
        items: rows.iter().map(BillingInvoiceView::from).collect(),
        next_cursor: None,
    }))
}

fn invoice_id(id: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::not_found("invoice"))
}

/// One invoice with its lines.
#[utoipa::path(get, path = "/api/billing/invoices/{id}", tag = "billing",
    params(("id" = String, Path)),
    responses((status = 200, body = BillingInvoiceView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn invoice_get(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<Json<BillingInvoiceView>, ApiError> {
    let id = invoice_id(&id)?;
    let inv = ctx.blocking(move |t| t.invoice(&id)).await?;
    Ok(Json(BillingInvoiceView::from(&inv)))
}

/// The invoice as a PDF: its period, lines and total, and how it is paid.
#[utoipa::path(get, path = "/api/billing/invoices/{id}/pdf", tag = "billing",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn invoice_pdf(
    ctx: TenantCtx,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let id = invoice_id(&id)?;
    let inv = ctx.blocking(move |t| t.invoice(&id)).await?;
    let period = BillingPeriod::parse(&inv.period)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored period: {e}")))?;
    let note = match (inv.status.as_str(), ctx.app.payments.kind().as_str()) {
        ("paid", _) => "Paid, thank you.".to_owned(),
        (_, "stripe") => "Charged to the card on file.".to_owned(),
        _ => format!("Please pay by bank transfer quoting {}.", inv.number),
    };
    let doc = InvoiceDocument {
        number: inv.number.clone(),
        client: ctx.session.tenant.name.clone(),
        period,
        status: inv.status.clone(),
        issued_at: inv.created_at,
        currency: inv.total.currency,
        lines: inv
            .lines
            .iter()
            .map(|l| DocumentLine {
                description: l.description.clone(),
                quantity: u64::try_from(l.quantity).unwrap_or(0),
                unit: l.unit,
                amount: l.amount,
            })
            .collect(),
        payment_note: Some(note),
    };
    let bytes = pdf::render_invoice(&doc)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("invoice document: {e}")))?;
    let name = inv
        .number
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
