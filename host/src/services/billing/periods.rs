//! Flow 20: billing periods, their charge and dunning, between the callers (the ops route, the
//! scheduled job, the dunning job) and the tenant stores.
//!
//! [`finalize`] is the one code path of `POST /api/ops/billing/finalize` and of the job that
//! runs early on the 1st for the month before: per workspace,
//! `TenantStore::finalize_period` makes the period invoice once (unique per workspace and
//! period) and claims its charge `invoice:<id>`; the provider is then asked with that key,
//! outside any transaction, and the answer recorded in one transaction. Run again, it finds the
//! invoice and changes nothing — except that a charge that never got an answer (a crash, the
//! provider down) is asked again with the same key, which the provider answers with the first
//! outcome, never a second charge.
//!
//! [`retry_due`] is dunning: a failed invoice is charged again 1, 3 and 7 days after the first
//! failure (core's `wrk_core::invoice::dunning`), each attempt its own key; after the last one
//! the workspace's live versions are blocked (`payment_failed`) until the invoice is paid.

use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::json;
use wrk_core::billing::BillingPeriod;
use wrk_core::ids::{TenantId, UserId};
use wrk_core::money::Money;
use wrk_tenants::audit::RequestMeta;
use wrk_tenants::automations::signing::Invoice;
use wrk_tenants::billing::{ChargeOutcome, MethodRow};
use wrk_tenants::jobs::NewJob;
use wrk_tenants::{Storage, StoreError};

use crate::jobs::{JobContext, JobError};
use crate::services::payments::{
    Charge, IdempotencyKey, MethodOnFile, PaymentError, PaymentProvider, ProviderKind,
};
use crate::services::quotes::QuoteError;

/// The method on file as the provider takes it.
pub(crate) fn on_file(m: &MethodRow) -> MethodOnFile {
    MethodOnFile {
        provider: if m.provider == "stripe" {
            ProviderKind::Stripe
        } else {
            ProviderKind::Manual
        },
        customer: m.customer.clone(),
        method: m.method.clone(),
        requested: None,
    }
}

/// One workspace's period invoice after a finalize.
#[derive(Debug, Clone)]
pub struct PeriodInvoice {
    pub tenant: TenantId,
    pub workspace_name: String,
    pub invoice: Invoice,
    /// Whether this run made it (`false`: it existed already).
    pub created: bool,
}

use super::store;

/// Who hears about a failed payment: the workspace's owners and admins.
fn billing_contacts(s: &Storage, tenant: TenantId) -> Result<Vec<UserId>, StoreError> {
    Ok(s.control()
        .members(tenant)?
        .into_iter()
        .filter(|m| m.role.can_manage_team())
        .map(|m| m.user_id)
        .collect())
}

/// Charges `amount` with `key` and records the answer on invoice `id`. A provider that cannot
/// be reached leaves the claim pending (the next finalize or retry asks again, same key).
async fn charge_invoice(
    storage: &Arc<Storage>,
    provider: &Arc<dyn PaymentProvider>,
    tenant: TenantId,
    id: String,
    key: String,
    amount: Money,
    at: DateTime<Utc>,
) -> Result<(), QuoteError> {
    let (method, users) = store(storage, move |s| {
        Ok((
            s.tenant(tenant)?.active_payment_method()?,
            billing_contacts(s, tenant)?,
        ))
    })
    .await?;
    let idem = IdempotencyKey::new(key.clone())?;
    let description = "WRK Copilot monthly invoice";
    let charged = match &method {
        Some(m) => {
            provider
                .charge(&on_file(m), amount, description, &idem)
                .await
        }
        None => Err(PaymentError::Invalid("no payment method is on file".into())),
    };
    let outcome = match charged {
        Ok(Charge::Paid { reference, .. }) => ChargeOutcome::Paid { reference },
        Ok(Charge::Invoiced { reference, .. }) => ChargeOutcome::Invoiced { reference },
        Err(PaymentError::Declined { code, message }) => ChargeOutcome::Declined { code, message },
        Err(PaymentError::Invalid(message)) => ChargeOutcome::Declined {
            code: "invalid".into(),
            message,
        },
        Err(e) => {
            tracing::warn!(error = %e, %tenant, invoice = %id,
                "the invoice charge got no answer; it is asked again with the same key");
            return Ok(());
        }
    };
    // The moves it makes (blocked, unblocked) record their own `version.status_changed` events
    // in the same transaction.
    store(storage, move |s| {
        s.tenant(tenant)?
            .invoice_charged(&id, &key, &outcome, at, &users, &RequestMeta::default())
    })
    .await?;
    Ok(())
}

/// Finalizes `period` for one workspace (`tenant`) or all of them; see the module doc.
pub async fn finalize(
    storage: &Arc<Storage>,
    provider: &Arc<dyn PaymentProvider>,
    period: BillingPeriod,
    tenant: Option<TenantId>,
) -> Result<Vec<PeriodInvoice>, QuoteError> {
    let tenants = store(storage, move |s| {
        let all = s.control().list_tenants()?;
        Ok(match tenant {
            Some(id) => all.into_iter().filter(|t| t.id == id).collect(),
            None => all,
        })
    })
    .await?;
    if let Some(id) = tenant
        && tenants.is_empty()
    {
        let _ = id;
        return Err(StoreError::NotFound(wrk_tenants::Entity::Tenant).into());
    }
    let kind = provider.kind().as_str();
    let mut out = Vec::new();
    for t in tenants {
        let at = Utc::now();
        let id = t.id;
        let made = store(storage, move |s| {
            s.tenant(id)?
                .finalize_period(period, kind, at, &RequestMeta::default())
        })
        .await?;
        let Some(made) = made else { continue };
        if let Some((key, amount)) = made.charge.clone() {
            charge_invoice(
                storage,
                provider,
                id,
                made.invoice.id.clone(),
                key,
                amount,
                at,
            )
            .await?;
        }
        let inv_id = made.invoice.id.clone();
        let invoice = store(storage, move |s| s.tenant(id)?.invoice(&inv_id)).await?;
        out.push(PeriodInvoice {
            tenant: id,
            workspace_name: t.name.clone(),
            invoice,
            created: made.created,
        });
    }
    Ok(out)
}

/// Dunning: charges every failed invoice whose retry is due, in every workspace.
pub async fn retry_due(
    storage: &Arc<Storage>,
    provider: &Arc<dyn PaymentProvider>,
    at: DateTime<Utc>,
) -> Result<usize, QuoteError> {
    let tenants = store(storage, |s| s.control().list_tenants()).await?;
    let kind = provider.kind().as_str();
    let mut n = 0;
    for t in tenants {
        let id = t.id;
        let due = store(storage, move |s| {
            s.tenant(id)?
                .claim_due_retries(at, kind, &RequestMeta::default())
        })
        .await?;
        for d in due {
            charge_invoice(storage, provider, id, d.invoice, d.key, d.amount, at).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The job that finalizes a period (payload `{"period": "YYYY-MM"}`).
pub const FINALIZE_JOB: &str = "finalize_billing_period";
/// The dunning job, once an hour.
pub const DUNNING_JOB: &str = "retry_failed_invoices";

/// When the finalization of `period` runs: 01:00 UTC on the 1st of the month after it.
fn finalize_at(period: BillingPeriod) -> DateTime<Utc> {
    period.end() + chrono::TimeDelta::hours(1)
}

fn finalize_job(period: BillingPeriod) -> NewJob {
    NewJob::new(FINALIZE_JOB, json!({"period": period}))
        .unique_key(format!("{FINALIZE_JOB}:{period}"))
        .run_at(finalize_at(period))
        .max_attempts(10)
}

fn dunning_job(after: DateTime<Utc>) -> NewJob {
    let next = Utc
        .with_ymd_and_hms(after.year(), after.month(), after.day(), 0, 0, 0)
        .single()
        .unwrap_or(after)
        + chrono::TimeDelta::hours(i64::from(chrono::Timelike::hour(&after)) + 1);
    NewJob::new(DUNNING_JOB, json!({}))
        .unique_key(format!("{DUNNING_JOB}:{}", next.format("%Y-%m-%dT%H")))
        .run_at(next)
        .max_attempts(3)
}

/// Start-up: the previous month's finalization (due already: a no-op if it ran), the current
/// month's (on the 1st of the next), and the next hourly dunning run.
pub fn schedule(storage: &Storage) -> Result<(), StoreError> {
    let now = Utc::now();
    let current = BillingPeriod::containing(now);
    if let Some(previous) = current.previous() {
        storage.control().enqueue_job(&finalize_job(previous))?;
    }
    storage.control().enqueue_job(&finalize_job(current))?;
    storage.control().enqueue_job(&dunning_job(now))?;
    Ok(())
}

fn job_error(e: QuoteError) -> JobError {
    JobError::Retry(e.to_string())
}

/// The scheduled finalization of the period in its payload, then the next month's is queued.
pub async fn finalize_job_handler(ctx: JobContext) -> Result<(), JobError> {
    let period = ctx
        .job
        .payload
        .get("period")
        .and_then(|p| p.as_str())
        .and_then(|p| BillingPeriod::parse(p).ok())
        .ok_or_else(|| JobError::Retry("the job has no period".into()))?;
    let provider = crate::services::payments::from_config(&ctx.config)
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let made = finalize(&ctx.storage, &provider, period, None)
        .await
        .map_err(job_error)?;
    tracing::info!(%period, invoices = made.len(), "billing period finalized");
    if let Some(next) = period.next() {
        let storage = ctx.storage.clone();
        crate::blocking::run(move || -> Result<_, JobError> {
            Ok(storage.control().enqueue_job(&finalize_job(next))?)
        })
        .await?;
    }
    Ok(())
}

/// Dunning, then the next hour's run is queued.
pub async fn dunning_job_handler(ctx: JobContext) -> Result<(), JobError> {
    let provider = crate::services::payments::from_config(&ctx.config)
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let now = Utc::now();
    let n = retry_due(&ctx.storage, &provider, now)
        .await
        .map_err(job_error)?;
    if n > 0 {
        tracing::info!(retried = n, "retried failed invoices");
    }
    let storage = ctx.storage.clone();
    crate::blocking::run(move || -> Result<_, JobError> {
        Ok(storage.control().enqueue_job(&dunning_job(now))?)
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_finalized_at_one_on_the_first_of_the_next_month() {
        let p = BillingPeriod::parse("2026-12").unwrap();
        assert_eq!(
            finalize_at(p),
            Utc.with_ymd_and_hms(2027, 1, 1, 1, 0, 0).unwrap()
        );
    }

    #[test]
    fn dunning_runs_at_the_top_of_the_next_hour() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
        let job = dunning_job(at);
        assert_eq!(
            job.run_at,
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }
}
