//! Flow 17: a client changes an automation's committed monthly runs.
//!
//! 1. The pricing plugin re-prices the automation's version at the new volume, with the
//!    workspace's overrides (flow 19), exactly as the first quote was asked
//!    (`automations::pricing_input`). Only the recurring part of its answer is the re-quote: the
//!    setup fee was paid at signing, so the one-time lines are left out.
//! 2. Core decides when it applies and what it charges now
//!    (`wrk_core::billing::volume_change`): an increase applies at once with the day-based
//!    proration of the monthly difference for the rest of the UTC month; a decrease (or a
//!    re-price that is not dearer) charges nothing and applies from the next period.
//! 3. A preview stops here. Otherwise a positive charge is claimed in `charges` (key
//!    `proration:<subscription>:<period>:<runs>`, so the same change asked again is the same
//!    charge), charged to the method on file through the provider with that key, and only then
//!    is the change stored in one tenant transaction. A declined charge changes nothing but the
//!    failed attempt.

use chrono::{DateTime, Utc};
use wrk_core::billing::{prorate_rest_of_month, volume_change};
use wrk_core::ids::{AutomationId, TenantId};
use wrk_core::money::Money;
use wrk_core::quote::Recurrence;
use wrk_tenants::automations::quotes::{NewQuote, Quote};
use wrk_tenants::automations::versions::VersionRef;
use wrk_tenants::billing::{ChargeClaim, ChargeOutcome, Subscription, VolumeChangeRequest};

use super::periods::on_file;
use crate::services::Caller;
use crate::services::payments::{Charge, IdempotencyKey, PaymentError};
use crate::services::quotes::QuoteError;
use crate::state::AppState;

/// Largest commitment a request may ask for (runs a month).
pub const MAX_MONTHLY_RUNS: u64 = 100_000_000;

/// What a change would do (the preview) or did.
#[derive(Debug, Clone)]
pub struct VolumeChange {
    pub subscription: Subscription,
    /// The commitment and fee before the change.
    pub current_runs: u64,
    pub current_fee: Money,
    pub monthly_runs: u64,
    /// The re-priced monthly fee and overage price.
    pub monthly_fee: Money,
    pub overage_unit: Money,
    /// `now` for an increase, else the first instant of the next period.
    pub effective_at: DateTime<Utc>,
    pub applies_now: bool,
    pub prorated_charge: Money,
    /// Days charged of the period's days (an increase), for people.
    pub remaining_days: u32,
    pub period_days: u32,
    /// The stored re-quote; `None` for a preview.
    pub quote: Option<Box<Quote>>,
}

/// The re-quote: the plugin's answer without its one-time lines (see the module doc).
fn recurring_only(mut q: NewQuote) -> NewQuote {
    q.line_items.retain(|l| l.recurrence == Recurrence::Monthly);
    q.setup_fee = Money::zero(q.currency);
    q
}

async fn price(
    app: &AppState,
    tenant: TenantId,
    automation: AutomationId,
    monthly_runs: u64,
) -> Result<(Subscription, NewQuote), QuoteError> {
    let (sub, a, v) = super::store(&app.storage, move |s| {
        let t = s.tenant(tenant)?;
        let sub = t.active_subscription(automation)?;
        let a = t.automation(automation)?;
        let v = t.version(automation, VersionRef::Number(sub.version))?;
        Ok((sub, a, v))
    })
    .await?;
    let overrides = super::overrides::plugin_overrides(app, tenant).await?;
    let input =
        crate::services::automations::pricing_input(tenant, overrides, &a, &v, monthly_runs);
    let answer = app
        .plugins
        .price(tenant, input.clone())
        .await
        .map_err(|e| QuoteError::Pricing(e.to_string()))?;
    let quote =
        crate::services::automations::new_quote(&input, &answer).map_err(QuoteError::Pricing)?;
    Ok((sub, recurring_only(quote)))
}

/// Flow 17: previews (`dry_run`) or makes a committed-volume change.
pub async fn change(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    automation: AutomationId,
    monthly_runs: u64,
    dry_run: bool,
) -> Result<VolumeChange, QuoteError> {
    if monthly_runs > MAX_MONTHLY_RUNS {
        return Err(QuoteError::Invalid {
            field: "monthly_runs",
            message: format!("at most {MAX_MONTHLY_RUNS}"),
        });
    }
    let (sub, quote) = price(app, tenant, automation, monthly_runs).await?;
    let at = Utc::now();
    let waiting = sub.pending.as_ref().map(|p| p.committed_runs);
    if monthly_runs == sub.committed_runs && waiting.is_none() || waiting == Some(monthly_runs) {
        return Err(QuoteError::Invalid {
            field: "monthly_runs",
            message: format!("{monthly_runs} runs a month is already the commitment"),
        });
    }
    let decided = volume_change(
        sub.committed_runs,
        monthly_runs,
        sub.monthly_fee,
        quote.monthly_fee,
        at,
    )
    .map_err(|e| QuoteError::Pricing(e.to_string()))?;
    let applies_now = monthly_runs > sub.committed_runs;
    let days = prorate_rest_of_month(Money::zero(quote.currency), at)
        .map_err(|e| QuoteError::Pricing(e.to_string()))?;
    let mut out = VolumeChange {
        subscription: sub.clone(),
        current_runs: sub.committed_runs,
        current_fee: sub.monthly_fee,
        monthly_runs,
        monthly_fee: quote.monthly_fee,
        overage_unit: quote.overage_unit,
        effective_at: decided.effective_at,
        applies_now,
        prorated_charge: decided.prorated_charge,
        remaining_days: if applies_now { days.remaining_days } else { 0 },
        period_days: days.period_days,
        quote: None,
    };
    if dry_run {
        return Ok(out);
    }
    let req = VolumeChangeRequest {
        automation,
        subscription: sub.id.clone(),
        monthly_runs,
        quote,
        effective_at: decided.effective_at,
        prorated_charge: decided.prorated_charge,
    };
    let provider = app.payments.clone();
    let mut settled: Option<(String, ChargeOutcome)> = None;
    if decided.prorated_charge.cents.get() > 0 {
        let (r, c) = (req.clone(), caller.clone());
        let kind = provider.kind().as_str();
        let claim = super::store(&app.storage, move |s| {
            s.tenant(tenant)?
                .claim_proration(&r, kind, &c.audit, &c.request)
        })
        .await?;
        match claim {
            ChargeClaim::InProgress => {
                return Err(QuoteError::Conflict(
                    "a payment for this change is in progress; try again in a few minutes".into(),
                ));
            }
            ChargeClaim::Charged(_) => {}
            ChargeClaim::New { key, amount } => {
                let method = super::store(&app.storage, move |s| {
                    s.tenant(tenant)?.active_payment_method()
                })
                .await?;
                let idem = IdempotencyKey::new(key.clone())?;
                let description = format!("Committed volume change to {monthly_runs} runs a month");
                let charged = match method {
                    Some(m) => {
                        provider
                            .charge(&on_file(&m), amount, &description, &idem)
                            .await
                    }
                    None => Err(PaymentError::Invalid(
                        "no payment method is on file; sign a quote first".into(),
                    )),
                };
                match charged {
                    Ok(Charge::Paid { reference, .. }) => {
                        settled = Some((key, ChargeOutcome::Paid { reference }));
                    }
                    Ok(Charge::Invoiced { reference, .. }) => {
                        settled = Some((key, ChargeOutcome::Invoiced { reference }));
                    }
                    Err(e @ (PaymentError::Declined { .. } | PaymentError::Invalid(_))) => {
                        let (code, message) = match &e {
                            PaymentError::Declined { code, message } => {
                                (code.clone(), message.clone())
                            }
                            other => ("invalid".to_owned(), other.to_string()),
                        };
                        let c = caller.clone();
                        super::store(&app.storage, move |s| {
                            s.tenant(tenant)?
                                .proration_declined(&key, &code, &message, &c.audit, &c.request)
                        })
                        .await?;
                        return Err(e.into());
                    }
                    // Unknown whether money moved: the claim stays pending for a retry.
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let c = caller.clone();
    let stored = super::store(&app.storage, move |s| {
        s.tenant(tenant)?.apply_volume_change(
            &req,
            settled.as_ref().map(|(k, o)| (k.as_str(), o)),
            &c.audit,
            &c.request,
        )
    })
    .await?;
    out.subscription = stored.subscription;
    out.quote = Some(stored.quote);
    Ok(out)
}
