//! Routes: ops billing: a workspace's pricing override (flow 19; `ops_admin` changes it) and
//! the finalization of a billing period (flow 20), which the scheduled job runs too.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wrk_core::billing::BillingPeriod;
use wrk_core::ids::TenantId;
use wrk_tenants::billing::PricingOverride;

use super::billing::BillingInvoiceView;
use super::ops_automations::tenant;
use crate::auth::session::OpsSession;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientMeta};
use crate::services::Caller;
use crate::services::billing::overrides::{self, Override};
use crate::services::billing::periods;
use crate::services::plugins::ChangeActor;
use crate::state::AppState;

/// Largest fixed setup fee or overage price an override may set (cents), as for revisions.
pub const MAX_OVERRIDE_CENTS: u64 = 1_000_000_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pricing_override_get, pricing_override_put))
        .routes(routes!(billing_finalize))
}

/// A workspace's pricing override; a field left null is the pricing plugin's own price.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideView {
    pub discount_percent: Option<u8>,
    pub setup_fee_cents: Option<u64>,
    pub overage_unit_cents: Option<u64>,
    /// The pricing plugin version the workspace is pinned to.
    pub plugin_version: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&Override> for OverrideView {
    fn from(o: &Override) -> Self {
        Self {
            discount_percent: o.values.discount_percent,
            setup_fee_cents: o.values.setup_fee_cents,
            overage_unit_cents: o.values.overage_unit_cents,
            plugin_version: o.plugin_version.clone(),
            updated_at: o.stored.updated_at,
        }
    }
}

/// The whole override: what is left out is cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// Taken off every unit price by the pricing plugin.
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    #[schema(minimum = 0, maximum = 100)]
    pub discount_percent: Option<u8>,
    /// A fixed setup fee in place of the computed one.
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub setup_fee_cents: Option<u64>,
    /// A fixed price per run over the commitment.
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub overage_unit_cents: Option<u64>,
    /// The version of an installed pricing plugin to pin the workspace to; null removes the pin.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub plugin_version: Option<String>,
}

/// The workspace's pricing override (flow 19).
#[utoipa::path(get, path = "/api/ops/tenants/{tid}/pricing-override", tag = "ops",
    params(("tid" = String, Path)),
    responses((status = 200, body = OverrideView),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pricing_override_get(
    State(app): State<AppState>,
    _ops: OpsSession,
    Path(tid): Path<String>,
) -> Result<Json<OverrideView>, ApiError> {
    let tenant = tenant(&app, &tid).await?;
    Ok(Json(OverrideView::from(
        &overrides::get(&app, tenant).await?,
    )))
}

/// Sets the workspace's pricing override (`ops_admin` only), passed to the pricing plugin as
/// `tenant.overrides` by every later quote and re-price; audited in the workspace's log (and
/// a version pin in the plugin activation history).
#[utoipa::path(put, path = "/api/ops/tenants/{tid}/pricing-override", tag = "ops",
    params(("tid" = String, Path)), request_body = OverrideBody,
    responses((status = 200, body = OverrideView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn pricing_override_put(
    State(app): State<AppState>,
    ops: OpsSession,
    meta: ClientMeta,
    Path(tid): Path<String>,
    ApiJson(body): ApiJson<OverrideBody>,
) -> Result<Json<OverrideView>, ApiError> {
    ops.require_admin()?;
    let tenant = tenant(&app, &tid).await?;
    if body.discount_percent.is_some_and(|d| d > 100) {
        return Err(ApiError::validation("discount_percent", "must be 0 to 100"));
    }
    for (field, v) in [
        ("setup_fee_cents", body.setup_fee_cents),
        ("overage_unit_cents", body.overage_unit_cents),
    ] {
        if v.is_some_and(|c| c > MAX_OVERRIDE_CENTS) {
            return Err(ApiError::validation(
                field,
                format!("at most {MAX_OVERRIDE_CENTS}"),
            ));
        }
    }
    let version = body
        .plugin_version
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if version
        .as_ref()
        .is_some_and(|v| v.chars().count() > 100 || v.chars().any(char::is_control))
    {
        return Err(ApiError::validation(
            "plugin_version",
            "at most 100 characters, no control characters",
        ));
    }
    let change = ChangeActor {
        name: ops.user.email.clone(),
        audit: ops.audit_actor(),
        request: meta.0.clone(),
    };
    let caller = Caller::ops(&ops, meta);
    let o = overrides::set(
        &app,
        tenant,
        &caller,
        change,
        PricingOverride {
            discount_percent: body.discount_percent,
            setup_fee_cents: body.setup_fee_cents,
            overage_unit_cents: body.overage_unit_cents,
        },
        version,
    )
    .await?;
    Ok(Json(OverrideView::from(&o)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalizeBody {
    /// The UTC month, `YYYY-MM`, up to the current one.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: String,
    /// One workspace; all of them when left out.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub tenant_id: Option<String>,
}

/// A workspace's period invoice after a finalize.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinalizedView {
    pub tenant_id: String,
    pub workspace_name: String,
    /// Whether this run made it (false: it existed, nothing changed).
    pub created: bool,
    #[serde(flatten)]
    pub invoice: BillingInvoiceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinalizeView {
    pub period: String,
    pub invoices: Vec<FinalizedView>,
}

/// Finalizes a billing period (flow 20) for one workspace or all: per workspace with a
/// subscription in the period, an invoice of its monthly fees, overage and prorations, charged
/// through the payment provider. Idempotent: run again, it answers the same invoices and
/// charges nothing new. The job that runs on the 1st for the month before is the same code.
#[utoipa::path(post, path = "/api/ops/billing/finalize", tag = "ops",
    request_body = FinalizeBody,
    responses((status = 200, body = FinalizeView),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn billing_finalize(
    State(app): State<AppState>,
    _ops: OpsSession,
    ApiJson(body): ApiJson<FinalizeBody>,
) -> Result<Json<FinalizeView>, ApiError> {
    let period = BillingPeriod::parse(&body.period)
        .map_err(|_| ApiError::validation("period", "a month written YYYY-MM"))?;
    if period > BillingPeriod::containing(Utc::now()) {
        return Err(ApiError::validation(
            "period",
            "a period that has not started cannot be finalized",
        ));
    }
    let tenant_id = match body.tenant_id.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(
            TenantId::parse(t).map_err(|_| ApiError::validation("tenant_id", "a workspace id"))?,
        ),
        None => None,
    };
    if let Some(t) = tenant_id {
        tenant(&app, &t.to_string()).await?;
    }
    let made = periods::finalize(&app.storage, &app.payments, period, tenant_id).await?;
    Ok(Json(FinalizeView {
        period: period.to_string(),
        invoices: made
            .iter()
            .map(|m| FinalizedView {
                tenant_id: m.tenant.to_string(),
                workspace_name: m.workspace_name.clone(),
                created: m.created,
                invoice: BillingInvoiceView::from(&m.invoice),
            })
            .collect(),
    }))
}
