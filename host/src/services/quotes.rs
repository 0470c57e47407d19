//! Flows 14-18 between the handlers and the store: accept, reject, the ops revision (checked by
//! the same invariants as plugin output), the quote document and its hash, signing with the
//! payment provider, marking an invoice paid, and the expiry worker.
//!
//! Signing (flow 16) never calls the provider inside a transaction: claim the charge (one
//! tenant transaction), call the provider (async, on the network), record the outcome (one
//! tenant transaction). The storage side and why each step is its own transaction are in
//! `wrk_tenants::automations::signing`. What a retry meets:
//! - the same request again after it succeeded: the signed quote, no second charge;
//! - while the first is still with the provider: 409 "a payment for this quote is in progress";
//! - after a decline: a new attempt with a new key, so another card is a new charge;
//! - after the provider charged but the signing transaction failed: the charge is recorded
//!   alone, and the retry finishes signing with it instead of charging again.
//!
//! A provider that times out *during* the charge leaves the claim `pending`: whether money moved
//! is unknown, so signing answers "in progress" until ops look (the provider's own idempotency
//! makes a later retry with the same key safe, but a different card would not be).

use chrono::Utc;
use serde_json::json;
use wrk_core::ids::{QuoteId, TenantId};
use wrk_core::money::{BasisPoints, Money};
use wrk_core::quote::Recurrence;
use wrk_plugins::sdk::pricing::{self as sdk_pricing, PricingInput, PricingQuote};
use wrk_tenants::automations::quotes::Quote;
use wrk_tenants::automations::signing::{
    Claim, Decider, Invoice, NewPaymentMethod, RejectOutcome, Revised, RevisionOutcome, Settlement,
    SignOutcome, Signing,
};
use wrk_tenants::jobs::NewJob;
use wrk_tenants::{Storage, StoreError};

use super::Caller;
use super::billing::pdf::{self, DocumentLine, QuoteDocument, SignatureBlock};
use super::payments::{Charge, IdempotencyKey, Payer, PaymentError, PaymentMethod};
use crate::jobs::{JobContext, JobError};
use crate::state::AppState;

/// Why a quote action failed.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// A field of the request that cannot be used as given.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The quote's state refuses the request in a way core does not name (a payment in progress).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Document(#[from] pdf::DocumentError),
    #[error(transparent)]
    Plugins(#[from] super::plugins::PluginsError),
    /// The pricing plugin could not re-price (flow 17): not the caller's fault.
    #[error("pricing failed: {0}")]
    Pricing(String),
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> QuoteError {
    QuoteError::Invalid {
        field,
        message: message.into(),
    }
}

async fn blocking<T, F>(app: &AppState, f: F) -> Result<T, QuoteError>
where
    F: FnOnce(&Storage) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::store(&app.storage, f).await
}

fn decider(c: &Caller) -> Decider<'_> {
    Decider {
        actor: &c.actor,
        audit: &c.audit,
        request: &c.request,
    }
}

/// Flow 15.
pub async fn accept(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: QuoteId,
) -> Result<Quote, QuoteError> {
    let caller = caller.clone();
    blocking(app, move |s| {
        s.tenant(tenant)?.accept_quote(id, decider(&caller))
    })
    .await
}

/// Flow 18.
pub async fn reject(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: QuoteId,
    reason: String,
) -> Result<RejectOutcome, QuoteError> {
    let caller = caller.clone();
    let out = blocking(app, move |s| {
        s.tenant(tenant)?
            .reject_quote(id, &reason, decider(&caller))
    })
    .await?;
    Ok(out)
}

/// One line of an ops revision as asked for.
#[derive(Debug, Clone)]
pub struct RevisedLine {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub unit_cents: u64,
    /// When given, it must equal `quantity × unit_cents` (before the discount).
    pub amount_cents: Option<u64>,
    pub recurrence: Recurrence,
}

/// What ops ask to change in a revision (flow 14); `None` keeps the revised quote's value.
#[derive(Debug, Clone, Default)]
pub struct Revision {
    pub line_items: Option<Vec<RevisedLine>>,
    /// Replaces the one-time lines by one `setup` line of this amount.
    pub setup_fee_cents: Option<u64>,
    /// Taken off every line's unit price (rounded half away from zero per unit), and said so in
    /// the line's description.
    pub discount_percent: Option<u8>,
    pub note: Option<String>,
}

fn sdk_recurrence(r: Recurrence) -> sdk_pricing::Recurrence {
    match r {
        Recurrence::OneTime => sdk_pricing::Recurrence::OneTime,
        Recurrence::Monthly => sdk_pricing::Recurrence::Monthly,
    }
}

/// The revised quote as a pricing plugin would have answered it, checked by the very check
/// plugin output passes (`wrk_plugins::output::check_pricing`: amount = quantity × unit, totals
/// = sums by recurrence, one currency, nothing negative by type).
fn revised_output(
    old: &Quote,
    lines: &[sdk_pricing::LineItem],
) -> Result<PricingQuote, QuoteError> {
    let sum = |r: sdk_pricing::Recurrence| {
        lines
            .iter()
            .filter(|l| l.recurrence == r)
            .try_fold(0u64, |acc, l| acc.checked_add(l.amount_cents))
            .ok_or_else(|| invalid("line_items", "the line items' total is too large"))
    };
    let answer = PricingQuote {
        currency: old.currency.to_string(),
        setup_fee_cents: sum(sdk_pricing::Recurrence::OneTime)?,
        monthly_fee_cents: sum(sdk_pricing::Recurrence::Monthly)?,
        included_runs: u64::try_from(old.included_runs).unwrap_or(0),
        overage_unit_cents: u64::try_from(old.overage_unit.cents.get()).unwrap_or(0),
        line_items: lines.to_vec(),
        notes: Vec::new(),
    };
    let bytes = serde_json::to_vec(&answer).map_err(|e| invalid("line_items", e.to_string()))?;
    wrk_plugins::output::check_pricing(old.currency.as_str(), &bytes)
        .map_err(|e| invalid("line_items", e.to_string()))
}

/// Builds the new revision's lines from `old` and `r`, and checks them twice (as asked, and
/// after the discount) with the plugin-output check.
fn revised_lines(
    old: &Quote,
    r: &Revision,
) -> Result<(Vec<sdk_pricing::LineItem>, u8), QuoteError> {
    if r.discount_percent.is_some_and(|d| d > 100) {
        return Err(invalid("discount_percent", "must be 0 to 100"));
    }
    let given = r.line_items.is_some();
    if !given && old.discount_percent > 0 && r.discount_percent.is_some() {
        return Err(invalid(
            "discount_percent",
            "this quote is already discounted: send its line_items at their undiscounted prices \
             with the new discount",
        ));
    }
    let mut lines: Vec<sdk_pricing::LineItem> = match &r.line_items {
        Some(lines) => lines
            .iter()
            .map(|l| sdk_pricing::LineItem {
                code: l.code.trim().to_owned(),
                description: l.description.trim().to_owned(),
                quantity: l.quantity,
                unit_cents: l.unit_cents,
                amount_cents: l
                    .amount_cents
                    .or_else(|| l.quantity.checked_mul(l.unit_cents))
                    .unwrap_or(u64::MAX),
                recurrence: sdk_recurrence(l.recurrence),
            })
            .collect(),
        None => old
            .line_items
            .iter()
            .map(|l| sdk_pricing::LineItem {
                code: l.code.clone(),
                description: l.description.clone(),
                quantity: u64::try_from(l.quantity).unwrap_or(0),
                unit_cents: u64::try_from(l.unit.cents.get()).unwrap_or(0),
                amount_cents: u64::try_from(l.amount.cents.get()).unwrap_or(0),
                recurrence: sdk_recurrence(l.recurrence),
            })
            .collect(),
    };
    if let Some(fee) = r.setup_fee_cents {
        lines.retain(|l| l.recurrence != sdk_pricing::Recurrence::OneTime);
        lines.insert(
            0,
            sdk_pricing::LineItem {
                code: "setup".into(),
                description: "Setup fee".into(),
                quantity: 1,
                unit_cents: fee,
                amount_cents: fee,
                recurrence: sdk_pricing::Recurrence::OneTime,
            },
        );
    }
    revised_output(old, &lines)?;
    // Without a new discount the lines keep what they say: an untouched discounted quote its
    // discount, new line items none.
    let Some(percent) = r.discount_percent else {
        return Ok((lines, if given { 0 } else { old.discount_percent }));
    };
    if percent > 0 {
        let bps = BasisPoints::from_percent(u32::from(percent))
            .map_err(|e| invalid("discount_percent", e.to_string()))?;
        for l in &mut lines {
            let unit = i64::try_from(l.unit_cents)
                .map_err(|_| invalid("line_items", "a unit price is too large"))?;
            let off = Money::new(unit, old.currency)
                .apply_discount(bps)
                .map_err(|e| invalid("line_items", e.to_string()))?;
            l.unit_cents = u64::try_from(off.cents.get()).unwrap_or(0);
            l.amount_cents = l
                .quantity
                .checked_mul(l.unit_cents)
                .ok_or_else(|| invalid("line_items", "a line amount is too large"))?;
            l.description = format!("{} (−{percent} %)", l.description);
        }
        revised_output(old, &lines)?;
    }
    Ok((lines, percent))
}

/// Flow 14: an ops revision. The new lines pass the plugin-output check, become the stored
/// quote the same way a plugin's answer does (`new_quote`), and are stored in one transaction
/// that supersedes the old one; then the workspace admins get the quote email.
pub async fn revise(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: QuoteId,
    revision: Revision,
) -> Result<RevisionOutcome, QuoteError> {
    if let Some(note) = &revision.note
        && note.chars().count() > 2000
    {
        return Err(invalid("note", "at most 2000 characters"));
    }
    let old = blocking(app, move |s| s.tenant(tenant)?.quote(id)).await?;
    let (lines, discount) = revised_lines(&old, &revision)?;
    let output = revised_output(&old, &lines)?;
    let input: PricingInput = serde_json::from_value(old.plugin_input.clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "the quote's stored plugin input does not parse: {e}"
        ))
    })?;
    let answer = wrk_plugins::Answer {
        output,
        plugin: wrk_plugins::registry::PluginRef {
            name: old.plugin.name.clone(),
            version: old.plugin.version.clone(),
            sha256: old.plugin.sha256.clone(),
        },
    };
    let new =
        super::automations::new_quote(&input, &answer).map_err(|e| invalid("line_items", e))?;
    let revised = Revised {
        quote: new,
        discount_percent: discount,
        note: revision
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    };
    let c = caller.clone();
    let outcome = blocking(app, move |s| {
        s.tenant(tenant)?.revise_quote(id, &revised, decider(&c))
    })
    .await?;
    super::automations::email_admins(app, tenant, &outcome.automation, &outcome.quote).await;
    Ok(outcome)
}

/// The document a signer agrees to (without a signature block) or, with `signature`, the signed
/// copy: everything it shows comes from the stored quote, so the same quote always renders the
/// same bytes.
pub fn document(
    q: &Quote,
    client: &str,
    automation: &str,
    signature: Option<SignatureBlock>,
) -> QuoteDocument {
    let lines = |r: Recurrence| {
        q.line_items
            .iter()
            .filter(|l| l.recurrence == r)
            .map(|l| DocumentLine {
                description: l.description.clone(),
                quantity: u64::try_from(l.quantity).unwrap_or(0),
                unit: l.unit,
                amount: l.amount,
            })
            .collect()
    };
    QuoteDocument {
        number: q
            .number
            .clone()
            .unwrap_or_else(|| format!("revision {}", q.revision)),
        revision: q.revision,
        client: client.to_owned(),
        automation: format!("{automation} (version {})", q.version),
        issued_at: q.created_at,
        valid_until: q.valid_until,
        currency: q.currency,
        one_time: lines(Recurrence::OneTime),
        monthly: lines(Recurrence::Monthly),
        included_runs: u64::try_from(q.included_runs).unwrap_or(0),
        overage_unit: q.overage_unit,
        plugin_name: q.plugin.name.clone(),
        plugin_version: q.plugin.version.clone(),
        signature,
    }
}

/// The quote as a PDF: the signed copy (with its signature block) once signed.
pub async fn pdf(
    app: &AppState,
    tenant: TenantId,
    client: String,
    id: QuoteId,
) -> Result<(Quote, Vec<u8>), QuoteError> {
    let (q, automation, signature) = blocking(app, move |s| {
        let t = s.tenant(tenant)?;
        let q = t.quote(id)?;
        let a = t.automation(q.automation_id)?;
        let sig = t.quote_signature(id)?;
        Ok((q, a.name, sig))
    })
    .await?;
    let unsigned = pdf::render_quote(&document(&q, &client, &automation, None))?;
    let bytes = match signature {
        None => unsigned,
        Some(sig) => pdf::render_quote(&document(
            &q,
            &client,
            &automation,
            Some(SignatureBlock {
                signer_name: sig.signer_name,
                signer_title: sig.signer_title,
                signed_at: sig.signed_at,
                document_sha256: sig.document_sha256,
            }),
        ))?,
    };
    Ok((q, bytes))
}

/// A sign request (flow 16), checked.
#[derive(Debug, Clone)]
pub struct SignRequest {
    pub signer_name: String,
    pub signer_title: String,
    pub agree: bool,
    pub payment_method: PaymentMethod,
}

/// Who signs: the workspace as payer, and the user signing.
#[derive(Debug, Clone)]
pub struct Signer {
    pub workspace_name: String,
    pub user_id: String,
    pub email: String,
}

fn check_text(field: &'static str, value: &str) -> Result<String, QuoteError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(field, "must not be blank"));
    }
    if v.chars().count() > 200 {
        return Err(invalid(field, "at most 200 characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// Flow 16: sign an accepted quote, paying its setup fee (see the module doc for the steps).
pub async fn sign(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    signer: Signer,
    id: QuoteId,
    req: SignRequest,
) -> Result<Quote, QuoteError> {
    let signer_name = check_text("signer_name", &req.signer_name)?;
    let signer_title = check_text("signer_title", &req.signer_title)?;
    if !req.agree {
        return Err(invalid(
            "agree",
            "must be true: signing needs your explicit agreement",
        ));
    }
    let provider = app.payments.clone();
    let kind = provider.kind().as_str();
    let claimed_at = Utc::now();
    let c = caller.clone();
    let claim = blocking(app, move |s| {
        s.tenant(tenant)?.claim_setup_fee(id, kind, decider(&c))
    })
    .await?;
    let payer = Payer {
        reference: tenant.to_string(),
        name: signer.workspace_name.clone(),
        email: signer.email.clone(),
    };
    let setup_key = |k: &str| IdempotencyKey::new(k.to_owned());
    let (on_file, settlement) = match claim {
        Claim::Signed(q) => return Ok(*q),
        Claim::InProgress => {
            return Err(QuoteError::Conflict(
                "a payment for this quote is in progress; try again in a few minutes".into(),
            ));
        }
        Claim::NothingToCharge => {
            let key = setup_key(&format!("quote:{id}:method"))?;
            let on_file = provider.set_up(&payer, &req.payment_method, &key).await?;
            (on_file, Settlement::Free)
        }
        Claim::Charged(row) => {
            let key = setup_key(&row.key)?;
            let on_file = provider.set_up(&payer, &req.payment_method, &key).await?;
            let reference = row.reference.clone().unwrap_or_default();
            let settlement = if row.status == "invoiced" {
                Settlement::Invoiced {
                    key: row.key,
                    reference,
                }
            } else {
                Settlement::Paid {
                    key: row.key,
                    reference,
                }
            };
            (on_file, settlement)
        }
        Claim::New { key, amount } => {
            let fail = |e: PaymentError| {
                let (code, message) = match &e {
                    PaymentError::Declined { code, message } => (code.clone(), message.clone()),
                    PaymentError::Invalid(m) => ("invalid".to_owned(), m.clone()),
                    PaymentError::Unavailable(m) => ("unavailable".to_owned(), m.clone()),
                    PaymentError::Provider(m) => ("provider".to_owned(), m.clone()),
                };
                (e, code, message)
            };
            let idem = setup_key(&key)?;
            // Setting the method up moves no money: any failure ends this attempt.
            let on_file = match provider.set_up(&payer, &req.payment_method, &idem).await {
                Ok(m) => m,
                Err(e) => {
                    let (e, code, message) = fail(e);
                    record_failure(app, tenant, caller, &key, &code, &message).await?;
                    return Err(e.into());
                }
            };
            let description = format!("Setup fee, quote {id}");
            match provider.charge(&on_file, amount, &description, &idem).await {
                Ok(Charge::Paid { reference, .. }) => {
                    (on_file, Settlement::Paid { key, reference })
                }
                Ok(Charge::Invoiced { reference, .. }) => {
                    (on_file, Settlement::Invoiced { key, reference })
                }
                // A refusal moved no money: the attempt is over and the next one is new.
                Err(e @ (PaymentError::Declined { .. } | PaymentError::Invalid(_))) => {
                    let (e, code, message) = fail(e);
                    record_failure(app, tenant, caller, &key, &code, &message).await?;
                    return Err(e.into());
                }
                // Unknown whether money moved: the claim stays pending (see the module doc).
                Err(e) => return Err(e.into()),
            }
        }
    };
    let unsigned = {
        let (q, automation) = blocking(app, move |s| {
            let t = s.tenant(tenant)?;
            let q = t.quote(id)?;
            let a = t.automation(q.automation_id)?;
            Ok((q, a.name))
        })
        .await?;
        pdf::render_quote(&document(&q, &signer.workspace_name, &automation, None))?
    };
    let signing = Signing {
        quote: id,
        signer_name,
        signer_title,
        user_id: signer.user_id,
        document_sha256: pdf::sha256_hex(&unsigned),
        method: NewPaymentMethod {
            provider: on_file.provider.as_str().to_owned(),
            customer: on_file.customer.clone(),
            method: on_file.method.clone(),
            label: match provider.method_name() {
                "invoice" => "Invoice".to_owned(),
                _ => "Card".to_owned(),
            },
        },
        settlement: settlement.clone(),
        claimed_at,
    };
    let c = caller.clone();
    let signed: Result<SignOutcome, QuoteError> = blocking(app, move |s| {
        s.tenant(tenant)?.sign_quote(&signing, decider(&c))
    })
    .await;
    match signed {
        Ok(out) => Ok(*out.quote),
        Err(e) => {
            // The money moved: keep that fact, so a retry finishes signing instead of charging.
            if settlement != Settlement::Free {
                let kept =
                    blocking(app, move |s| s.tenant(tenant)?.charge_settled(&settlement)).await;
                if let Err(k) = kept {
                    tracing::error!(error = %k, %tenant, quote = %id,
                        "a charge succeeded but could not be recorded; reconcile with the provider");
                }
            }
            Err(e)
        }
    }
}

async fn record_failure(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    key: &str,
    code: &str,
    message: &str,
) -> Result<(), QuoteError> {
    let (c, key, code, message) = (
        caller.clone(),
        key.to_owned(),
        code.to_owned(),
        message.to_owned(),
    );
    blocking(app, move |s| {
        s.tenant(tenant)?
            .charge_failed(&key, &code, &message, decider(&c))
    })
    .await
}

/// Ops mark an invoice paid out of band (manual provider, or a failed period invoice paid
/// another way): versions blocked for `payment_failed` are unblocked in the same transaction.
pub async fn mark_paid(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: String,
    reference: Option<String>,
) -> Result<Invoice, QuoteError> {
    let reference = reference
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reference
        && (r.chars().count() > 200 || r.chars().any(char::is_control))
    {
        return Err(invalid(
            "reference",
            "at most 200 characters, no control characters",
        ));
    }
    let c = caller.clone();
    // A failed period invoice paid out of band: the versions dunning blocked are back (each move
    // records its own `version.status_changed` event in the same transaction).
    let (invoice, _moved) = blocking(app, move |s| {
        s.tenant(tenant)?.mark_invoice_paid_unblocking(
            &id,
            reference.as_deref(),
            &c.audit,
            &c.request,
        )
    })
    .await?;
    Ok(invoice)
}

/// The job kind of the expiry sweep.
pub const EXPIRE_JOB: &str = "expire_quotes";

/// How often the sweep runs. A quote past `valid_until` is refused at request time anyway; the
/// sweep makes its stored status say so.
pub const EXPIRY_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// The sweep's next run: one job per slot of [`EXPIRY_EVERY`], keyed by the slot, so start-up
/// and the previous run enqueue it at most once.
fn expiry_job(after: chrono::DateTime<Utc>) -> NewJob {
    let every = EXPIRY_EVERY.num_seconds();
    let slot = after.timestamp().div_euclid(every) + 1;
    let at = chrono::DateTime::<Utc>::from_timestamp(slot * every, 0).unwrap_or(after);
    NewJob::new(EXPIRE_JOB, json!({}))
        .unique_key(format!("{EXPIRE_JOB}:{slot}"))
        .run_at(at)
        .max_attempts(3)
}

/// Start-up: one sweep now (for what expired while the server was down), and the next slot's.
pub fn schedule_expiry(storage: &Storage) -> Result<(), StoreError> {
    storage
        .control()
        .enqueue_job(&NewJob::new(EXPIRE_JOB, json!({})).max_attempts(3))?;
    storage.control().enqueue_job(&expiry_job(Utc::now()))?;
    Ok(())
}

/// The expiry worker (flow 15): in every workspace, `sent` and `accepted` quotes past their
/// `valid_until` become `expired` (core decides; an audit row each), then the next sweep is
/// queued.
pub async fn expire_quotes_job(ctx: JobContext) -> Result<(), JobError> {
    let storage = ctx.storage.clone();
    let expired = crate::blocking::run(move || -> Result<usize, JobError> {
        let now = Utc::now();
        let mut n = 0;
        for t in storage.control().list_tenants()? {
            n += storage.tenant(t.id)?.expire_quotes(now)?.len();
        }
        storage.control().enqueue_job(&expiry_job(now))?;
        Ok(n)
    })
    .await?;
    if expired > 0 {
        tracing::info!(expired, "expired quotes past their validity");
    }
    Ok(())
}
