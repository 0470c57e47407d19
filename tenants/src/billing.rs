//! Billing after signing (flows 17, 19, 20), in storage: the workspace's pricing override, its
//! subscriptions, committed-volume changes with their prorated charges, period invoices and
//! their dunning.
//!
//! Every number is core's (`wrk_core::billing` assembles an invoice, `wrk_core::invoice` decides
//! each invoice move and the dunning schedule); this module reads the facts, writes what core
//! decided, and writes an audit row with each change in the same transaction.
//!
//! Like signing (`automations::signing`), anything that moves money is three steps, because the
//! payment provider is called over the network and never inside a transaction: claim a
//! `charges` row (`pending`, keyed), let the host call the provider with that key, then record
//! the outcome in one transaction. A retry finds the claim: never two charges for one key.
//!
//! **Prorations and the period invoice.** A committed-volume increase is charged at once. A
//! card (Stripe) pays it then (`succeeded`): it is not billed again. Paid by invoice (the manual
//! provider) the charge is `invoiced`: it is billed as a `proration` line on the period invoice
//! of the month it was made in ([`TenantStore::finalize_period`]), and marked with that invoice
//! so it is billed once.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::billing::{
    BillingPeriod, InvoiceDraft, ProratedCharge, SubscriptionUsage, assemble_invoice,
};
use wrk_core::ids::{AutomationId, QuoteId, UserId};
use wrk_core::invoice::{Dunning, InvoiceEffect, InvoiceStatus, dunning, transition};
use wrk_core::machine::{Actor, VersionStatus};
use wrk_core::money::{Currency, Money};
use wrk_core::notifications::NotificationKind;

use crate::audit::{AuditActor, RequestMeta, parse_timestamp, timestamp};
use crate::automations::quotes::{NewQuote, Quote, insert_quote, load_quote};
use crate::automations::signing::{
    ChargeRow, Invoice, charges_of, load_invoice, next_invoice_number,
};
use crate::automations::versions::{Applied, TransitionRequest, apply_transition};
use crate::automations::{audit, conv, id_col, now, time_col};
use crate::error::{Entity, StoreError, StoreResult};
use crate::notifications::{NewNotification, insert_for_each};
use crate::tenant::TenantStore;

/// The block reason dunning gives a live version (flow 20), and looks for when unblocking.
pub const PAYMENT_FAILED: &str = "payment_failed";

/// The workspace's pricing override (flow 19). Amounts are cents in the quote's currency, as the
/// pricing plugin's `tenant.overrides` takes them; `None` leaves the plugin's own price.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PricingOverride {
    pub discount_percent: Option<u8>,
    pub setup_fee_cents: Option<u64>,
    pub overage_unit_cents: Option<u64>,
}

/// The stored override and who set it last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoredOverride {
    pub values: PricingOverride,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn u64_col(v: Option<i64>) -> Option<u64> {
    v.and_then(|c| u64::try_from(c).ok())
}

fn i64_of(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Conflict("an amount is too large".into()))
}

fn read_override(c: &Connection) -> StoreResult<StoredOverride> {
    Ok(c.query_row(
        "SELECT discount_percent, setup_fee_cents, overage_unit_cents, updated_by, updated_at
         FROM pricing_override WHERE id = 1",
        [],
        |r| {
            Ok(StoredOverride {
                values: PricingOverride {
                    discount_percent: r
                        .get::<_, Option<i64>>(0)?
                        .and_then(|d| u8::try_from(d).ok()),
                    setup_fee_cents: u64_col(r.get(1)?),
                    overage_unit_cents: u64_col(r.get(2)?),
                },
                updated_by: Some(r.get(3)?),
                updated_at: Some(time_col(&r.get::<_, String>(4)?)?),
            })
        },
    )
    .optional()?
    .unwrap_or_default())
}

/// A subscription (flows 16, 17): what an automation's signed quote commits to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub id: String,
    pub automation_id: AutomationId,
    pub automation_name: String,
    pub version: u32,
    pub quote_id: QuoteId,
    /// `active` or `ended`.
    pub status: String,
    pub currency: Currency,
    pub monthly_fee: Money,
    pub committed_runs: u64,
    pub overage_unit: Money,
    /// A decrease waiting for the next period.
    pub pending: Option<PendingChange>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A committed-volume decrease that applies from `from` (flow 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingChange {
    pub monthly_fee: Money,
    pub committed_runs: u64,
    pub quote_id: QuoteId,
    pub from: BillingPeriod,
}

impl Subscription {
    /// The fee and commitment that hold for `period`: the pending decrease once its period
    /// has come.
    pub fn terms_for(&self, period: BillingPeriod) -> (Money, u64) {
        match &self.pending {
            Some(p) if p.from <= period => (p.monthly_fee, p.committed_runs),
            _ => (self.monthly_fee, self.committed_runs),
        }
    }
}

const SUB_COLS: &str = "s.id, s.automation_id, a.name, s.version, s.quote_id, s.status,
    s.currency, s.monthly_fee_cents, s.committed_monthly_runs, s.overage_unit_cents,
    s.pending_monthly_fee_cents, s.pending_committed_runs, s.pending_quote_id, s.pending_from,
    s.started_at, s.ended_at";

fn quote_col(s: &str) -> rusqlite::Result<QuoteId> {
    QuoteId::parse(s).map_err(conv)
}

fn sub_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    let currency = Currency::parse(&r.get::<_, String>(6)?).map_err(conv)?;
    let money = |c: i64| Money::new(c, currency);
    let pending = match (
        r.get::<_, Option<i64>>(10)?,
        r.get::<_, Option<i64>>(11)?,
        r.get::<_, Option<String>>(12)?,
        r.get::<_, Option<String>>(13)?,
    ) {
        (Some(fee), Some(runs), Some(quote), Some(from)) => Some(PendingChange {
            monthly_fee: money(fee),
            committed_runs: u64::try_from(runs).map_err(conv)?,
            quote_id: quote_col(&quote)?,
            from: BillingPeriod::parse(&from).map_err(conv)?,
        }),
        _ => None,
    };
    Ok(Subscription {
        id: r.get(0)?,
        automation_id: id_col(&r.get::<_, String>(1)?)?,
        automation_name: r.get(2)?,
        version: r.get(3)?,
        quote_id: quote_col(&r.get::<_, String>(4)?)?,
        status: r.get(5)?,
        currency,
        monthly_fee: money(r.get(7)?),
        committed_runs: u64::try_from(r.get::<_, i64>(8)?).map_err(conv)?,
        overage_unit: money(r.get(9)?),
        pending,
        started_at: time_col(&r.get::<_, String>(14)?)?,
        ended_at: r
            .get::<_, Option<String>>(15)?
            .map(|s| time_col(&s))
            .transpose()?,
    })
}

fn subscriptions_where(c: &Connection, clause: &str, p: &[&str]) -> StoreResult<Vec<Subscription>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {SUB_COLS} FROM subscriptions s JOIN automations a ON a.id = s.automation_id
         WHERE {clause} ORDER BY a.name COLLATE NOCASE, s.id"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(p.iter()), sub_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn active_subscription(c: &Connection, id: AutomationId) -> StoreResult<Subscription> {
    subscriptions_where(
        c,
        "s.automation_id = ?1 AND s.status = 'active'",
        &[&id.to_string()],
    )?
    .pop()
    .ok_or(StoreError::NotFound(Entity::Subscription))
}

/// What the host gets back from a claim of a charge (a proration, an invoice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeClaim {
    /// A new attempt: charge `amount` with this key.
    New { key: String, amount: Money },
    /// An earlier attempt with this base key is still with the provider.
    InProgress,
    /// An earlier attempt was charged (`succeeded` or `invoiced`): never charge again.
    Charged(ChargeRow),
}

/// Claims a charge with base key `base` (attempt `n` > 1 is `base:n`, like the setup fee), in
/// the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn claim_charge(
    tx: &Transaction<'_>,
    base: &str,
    purpose: &str,
    amount: Money,
    provider: &str,
    automation: Option<AutomationId>,
    who: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<ChargeClaim> {
    let earlier = charges_of(tx, base)?;
    if earlier.iter().any(|c| c.status == "pending") {
        return Ok(ChargeClaim::InProgress);
    }
    if let Some(done) = earlier
        .iter()
        .find(|c| matches!(c.status.as_str(), "succeeded" | "invoiced"))
    {
        return Ok(ChargeClaim::Charged(done.clone()));
    }
    let key = match earlier.len() {
        0 => base.to_owned(),
        n => format!("{base}:{}", n + 1),
    };
    let at = now();
    tx.execute(
        "INSERT INTO charges (key, purpose, amount_cents, currency, provider, status,
                              automation_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7)",
        params![
            key,
            purpose,
            amount.cents.get(),
            amount.currency.as_str(),
            provider,
            automation.map(|a| a.to_string()),
            at
        ],
    )?;
    audit(
        tx,
        who,
        request,
        "charge.claimed",
        ("charge", key.clone()),
        None,
        Some(
            json!({"purpose": purpose, "amount_cents": amount.cents.get(),
                    "currency": amount.currency, "provider": provider}),
        ),
    )?;
    Ok(ChargeClaim::New { key, amount })
}

/// How a claimed charge ended at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money was taken (`reference`: the provider's payment id).
    Paid { reference: String },
    /// An invoice reference was issued, to be paid out of band (manual provider).
    Invoiced { reference: String },
    /// The provider refused: nothing moved.
    Declined { code: String, message: String },
}

fn record_charge(
    tx: &Transaction<'_>,
    key: &str,
    outcome: &ChargeOutcome,
    who: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<()> {
    let (status, reference, code, message) = match outcome {
        ChargeOutcome::Paid { reference } => ("succeeded", Some(reference), None, None),
        ChargeOutcome::Invoiced { reference } => ("invoiced", Some(reference), None, None),
        ChargeOutcome::Declined { code, message } => ("failed", None, Some(code), Some(message)),
    };
    let n = tx.execute(
        "UPDATE charges SET status = ?2, reference = ?3, failure_code = ?4, failure_message = ?5,
                updated_at = ?6 WHERE key = ?1 AND status = 'pending'",
        params![key, status, reference, code, message, now()],
    )?;
    if n > 0 {
        audit(
            tx,
            who,
            request,
            &format!("charge.{status}"),
            ("charge", key.to_owned()),
            Some(json!({"status": "pending"})),
            Some(json!({"status": status, "reference": reference, "failure_code": code})),
        )?;
    }
    Ok(())
}

/// A committed-volume change the host has priced (flow 17): the re-quote's recurring part and
/// what core decided (`wrk_core::billing::volume_change`).
#[derive(Debug, Clone)]
pub struct VolumeChangeRequest {
    pub automation: AutomationId,
    /// The subscription the change was priced against: a change made meanwhile is a conflict.
    pub subscription: String,
    pub monthly_runs: u64,
    /// The re-price: its monthly fee, included runs and overage price become the terms.
    pub quote: NewQuote,
    pub effective_at: DateTime<Utc>,
    pub prorated_charge: Money,
}

/// A committed-volume change, stored.
#[derive(Debug, Clone)]
pub struct VolumeChangeOutcome {
    pub quote: Box<Quote>,
    pub subscription: Subscription,
    pub effective_at: DateTime<Utc>,
    pub prorated_charge: Money,
}

/// The base key of a proration charge: one per subscription, period and new commitment, so the
/// same change asked again is the same charge.
pub fn proration_key(subscription: &str, period: BillingPeriod, runs: u64) -> String {
    format!("proration:{subscription}:{period}:{runs}")
}

/// The key of an invoice's charge attempt `attempt` (1-based): `invoice:<id>`, then
/// `invoice:<id>:2`, … so a retry after a decline is a new charge at the provider.
pub fn invoice_charge_key(id: &str, attempt: u32) -> String {
    if attempt <= 1 {
        format!("invoice:{id}")
    } else {
        format!("invoice:{id}:{attempt}")
    }
}

/// A period invoice and the charge, if any, the host must now ask the provider for.
#[derive(Debug, Clone)]
pub struct Finalized {
    pub invoice: Invoice,
    /// `Some((key, amount))` when a charge is claimed and waits for the provider.
    pub charge: Option<(String, Money)>,
    /// Whether this call made the invoice (`false`: it existed, the call changed nothing).
    pub created: bool,
}

/// What recording an invoice charge did to the workspace's versions.
#[derive(Debug, Clone, Default)]
pub struct InvoiceSettled {
    pub invoice: Option<Invoice>,
    /// Versions moved (blocked by dunning, or unblocked once paid): the host publishes them.
    pub moved: Vec<Applied>,
}

/// A failed invoice whose retry is due.
#[derive(Debug, Clone)]
pub struct DueRetry {
    pub invoice: String,
    pub key: String,
    pub amount: Money,
}

fn invoice_status(inv: &Invoice) -> StoreResult<InvoiceStatus> {
    InvoiceStatus::parse(&inv.status).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Moves an invoice by core's rule (actor `actor`), with its audit row; returns the effects.
fn move_invoice(
    tx: &Transaction<'_>,
    inv: &Invoice,
    to: InvoiceStatus,
    actor: &Actor,
    who: &AuditActor,
    request: &RequestMeta,
    extra: serde_json::Value,
) -> StoreResult<Vec<InvoiceEffect>> {
    let from = invoice_status(inv)?;
    let t = transition(from, to, actor).map_err(|e| StoreError::Conflict(e.to_string()))?;
    tx.execute(
        "UPDATE invoices SET status = ?2, updated_at = ?3,
                finalized_at = CASE WHEN ?2 = 'finalized' THEN ?3 ELSE finalized_at END
         WHERE id = ?1",
        params![inv.id, to.as_str(), now()],
    )?;
    let mut after = json!({"status": to});
    if let (Some(a), Some(e)) = (after.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    audit(
        tx,
        who,
        request,
        &format!("invoice.{to}"),
        ("invoice", inv.id.clone()),
        Some(json!({"status": from})),
        Some(after),
    )?;
    Ok(t.effects)
}

/// Versions blocked by dunning, back where they were (the invoice is paid), unless another
/// invoice of the workspace is still failed.
pub(crate) fn unblock_paid(
    tx: &Transaction<'_>,
    request: &RequestMeta,
) -> StoreResult<Vec<Applied>> {
    let still_failed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM invoices WHERE status = 'failed')",
        [],
        |r| r.get(0),
    )?;
    if still_failed {
        return Ok(Vec::new());
    }
    let blocked: Vec<(String, u32, String)> = {
        let mut stmt = tx.prepare(
            "SELECT v.automation_id, v.number, v.blocked_from FROM versions v
             WHERE v.status = 'blocked' AND v.blocked_from IS NOT NULL
               AND (SELECT h.reason FROM status_history h
                    WHERE h.automation_id = v.automation_id AND h.version = v.number
                    ORDER BY h.id DESC LIMIT 1) = ?1",
        )?;
        stmt.query_map([PAYMENT_FAILED], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    let system = AuditActor::system();
    blocked
        .into_iter()
        .map(|(id, number, from)| {
            let to = VersionStatus::parse(&from).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            apply_transition(
                tx,
                id_col(&id)?,
                number,
                &TransitionRequest {
                    to,
                    reason: Some("the invoice is paid"),
                    actor: &Actor::System,
                    audit_actor: &system,
                    request,
                },
            )
        })
        .collect()
}

/// Every `live` version to `blocked` with reason [`PAYMENT_FAILED`] (core decides each move).
fn block_live(tx: &Transaction<'_>, request: &RequestMeta) -> StoreResult<Vec<Applied>> {
    let live: Vec<(String, u32)> = {
        let mut stmt =
            tx.prepare("SELECT automation_id, number FROM versions WHERE status = 'live'")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let system = AuditActor::system();
    live.into_iter()
        .map(|(id, number)| {
            apply_transition(
                tx,
                id_col(&id)?,
                number,
                &TransitionRequest {
                    to: VersionStatus::Blocked,
                    reason: Some(PAYMENT_FAILED),
                    actor: &Actor::System,
                    audit_actor: &system,
                    request,
                },
            )
        })
        .collect()
}

fn notify_billing(
    tx: &Transaction<'_>,
    users: &[UserId],
    title: &str,
    body: &str,
) -> StoreResult<()> {
    insert_for_each(
        tx,
        users,
        &NewNotification {
            user_id: UserId::new(),
            kind: NotificationKind::Billing,
            title,
            body,
            automation_id: None,
            link: Some("/app/billing"),
        },
    )?;
    Ok(())
}

/// The period invoice of `period`, if it was made.
fn period_invoice(c: &Connection, period: BillingPeriod) -> StoreResult<Option<Invoice>> {
    let id: Option<String> = c
        .query_row(
            "SELECT id FROM invoices WHERE kind = 'period' AND period = ?1",
            [period.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|i| load_invoice(c, &i)).transpose()
}

/// The provider's decline of a period invoice's charge: core's `→ failed` (or a failed retry),
/// the dunning schedule, the notification, and once every retry failed the blocking.
fn invoice_declined(
    tx: &Transaction<'_>,
    inv: &Invoice,
    at: DateTime<Utc>,
    users: &[UserId],
    request: &RequestMeta,
) -> StoreResult<Vec<Applied>> {
    let system = AuditActor::system();
    let (first_failed, attempts): (Option<String>, u32) = tx.query_row(
        "SELECT first_failed_at, attempts FROM invoices WHERE id = ?1",
        [&inv.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let first = match first_failed {
        Some(f) => parse_timestamp(&f)?,
        None => at,
    };
    if invoice_status(inv)? == InvoiceStatus::Finalized {
        move_invoice(
            tx,
            inv,
            InvoiceStatus::Failed,
            &Actor::System,
            &system,
            request,
            json!({}),
        )?;
    }
    // `attempts` counts charge attempts: the first one and each retry.
    let retries_made = attempts.saturating_sub(1) as usize;
    let (next, moved) = match dunning(first, retries_made) {
        Dunning::RetryAt { at } => (Some(timestamp(at)), Vec::new()),
        Dunning::BlockLiveVersions => (None, block_live(tx, request)?),
    };
    tx.execute(
        "UPDATE invoices SET first_failed_at = ?2, next_attempt_at = ?3, updated_at = ?4
         WHERE id = ?1",
        params![inv.id, timestamp(first), next, now()],
    )?;
    let (title, body) = if moved.is_empty() && next.is_none() {
        (
            "A payment failed".to_owned(),
            format!("Invoice {} could not be charged.", inv.number),
        )
    } else if next.is_none() {
        (
            "Automations paused for a failed payment".to_owned(),
            format!(
                "Invoice {} could not be charged after every retry; live automations are \
                 blocked until it is paid.",
                inv.number
            ),
        )
    } else {
        (
            "A payment failed".to_owned(),
            format!(
                "Invoice {} ({}) could not be charged; it is retried automatically.",
                inv.number, inv.total
            ),
        )
    };
    notify_billing(tx, users, &title, &body)?;
    Ok(moved)
}

/// The workspace's active payment method, as the provider put it on file at signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRow {
    /// `manual` or `stripe`.
    pub provider: String,
    pub customer: Option<String>,
    pub method: Option<String>,
    pub label: String,
}

impl TenantStore {
    /// The payment method on file (flows 17, 20 charge it), if any.
    pub fn active_payment_method(&self) -> StoreResult<Option<MethodRow>> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT provider, customer, method, label FROM payment_methods
                 WHERE status = 'active'",
                [],
                |r| {
                    Ok(MethodRow {
                        provider: r.get(0)?,
                        customer: r.get(1)?,
                        method: r.get(2)?,
                        label: r.get(3)?,
                    })
                },
            )
            .optional()?)
        })
    }

    /// The workspace's pricing override (flow 19); all `None` when none was set.
    pub fn pricing_override(&self) -> StoreResult<StoredOverride> {
        self.db().read(read_override)
    }

    /// Flow 19: ops set the override, replacing the previous one whole; audited with before and
    /// after (`plugin_version`, whose pin lives in the control plane, is recorded in the same
    /// audit row so the workspace's log shows the whole change).
    pub fn set_pricing_override(
        &self,
        o: &PricingOverride,
        plugin_version: Option<&str>,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<StoredOverride> {
        if o.discount_percent.is_some_and(|d| d > 100) {
            return Err(StoreError::Conflict("a discount is 0 to 100 %".into()));
        }
        self.db().write(|tx| {
            let before = read_override(tx)?;
            let by = who.id.clone().unwrap_or_else(|| "system".to_owned());
            tx.execute(
                "INSERT INTO pricing_override (id, discount_percent, setup_fee_cents,
                                               overage_unit_cents, updated_by, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET discount_percent = excluded.discount_percent,
                     setup_fee_cents = excluded.setup_fee_cents,
                     overage_unit_cents = excluded.overage_unit_cents,
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                params![
                    o.discount_percent,
                    o.setup_fee_cents.map(i64_of).transpose()?,
                    o.overage_unit_cents.map(i64_of).transpose()?,
                    by,
                    now()
                ],
            )?;
            let mut after = serde_json::to_value(o).unwrap_or_default();
            after["plugin_version"] = json!(plugin_version);
            audit(
                tx,
                who,
                request,
                "pricing_override.updated",
                ("pricing_override", "1".into()),
                Some(serde_json::to_value(&before.values).unwrap_or_default()),
                Some(after),
            )?;
            read_override(tx)
        })
    }

    /// The workspace's subscriptions, active first, then ended, by automation name.
    pub fn subscriptions(&self) -> StoreResult<Vec<Subscription>> {
        self.db().read(|c| {
            let mut all = subscriptions_where(c, "s.status = 'active'", &[])?;
            all.extend(subscriptions_where(c, "s.status = 'ended'", &[])?);
            Ok(all)
        })
    }

    /// The active subscription of an automation (404 `subscription` when it has none).
    pub fn active_subscription(&self, id: AutomationId) -> StoreResult<Subscription> {
        self.db().read(|c| active_subscription(c, id))
    }

    /// Flow 17, step 1: claims the prorated charge of an increase (`key` from
    /// [`proration_key`]), checking first that the subscription is still the one priced.
    pub fn claim_proration(
        &self,
        req: &VolumeChangeRequest,
        provider: &str,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<ChargeClaim> {
        self.db().write(|tx| {
            let sub = active_subscription(tx, req.automation)?;
            if sub.id != req.subscription {
                return Err(StoreError::Conflict(
                    "the subscription changed meanwhile; look at it again".into(),
                ));
            }
            let base = proration_key(
                &sub.id,
                BillingPeriod::containing(req.effective_at),
                req.monthly_runs,
            );
            claim_charge(
                tx,
                &base,
                "proration",
                req.prorated_charge,
                provider,
                Some(req.automation),
                who,
                request,
            )
        })
    }

    /// Flow 17 after a declined proration: the attempt is `failed`, nothing else changes.
    pub fn proration_declined(
        &self,
        key: &str,
        code: &str,
        message: &str,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        let outcome = ChargeOutcome::Declined {
            code: code.to_owned(),
            message: message.to_owned(),
        };
        self.db()
            .write(|tx| record_charge(tx, key, &outcome, who, request))
    }

    /// Flow 17, the last step, in one transaction: the charge's outcome (when there was one),
    /// the re-quote as a new revision of the version's project — recorded `signed`, because the
    /// client's request is the decision and it carries no new setup fee — and the new terms: an
    /// increase replaces the subscription's fee, commitment and overage price at once (and
    /// drops a waiting decrease); a decrease waits in `pending_*` until the next period.
    pub fn apply_volume_change(
        &self,
        req: &VolumeChangeRequest,
        charge: Option<(&str, &ChargeOutcome)>,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<VolumeChangeOutcome> {
        self.db().write(|tx| {
            if let Some((key, outcome)) = charge {
                record_charge(tx, key, outcome, who, request)?;
            }
            let sub = active_subscription(tx, req.automation)?;
            if sub.id != req.subscription {
                return Err(StoreError::Conflict(
                    "the subscription changed meanwhile; look at it again".into(),
                ));
            }
            let project: String = tx.query_row(
                "SELECT project_id FROM quotes WHERE id = ?1",
                [sub.quote_id.to_string()],
                |r| r.get(0),
            )?;
            let project = wrk_core::ids::ProjectId::parse(&project)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let q = insert_quote(
                tx,
                project,
                (sub.automation_id, sub.version),
                &req.quote,
                who,
                request,
            )?;
            tx.execute(
                "UPDATE quotes SET status = 'signed', accepted_at = ?2, decided_at = ?2,
                        note = 'Committed-volume change requested by the client', updated_at = ?2
                 WHERE id = ?1",
                params![q.id.to_string(), now()],
            )?;
            audit(
                tx,
                who,
                request,
                "quote.signed",
                ("quote", q.id.to_string()),
                Some(json!({"status": "sent"})),
                Some(json!({"status": "signed", "committed_volume": req.monthly_runs})),
            )?;
            let runs = i64_of(req.monthly_runs)?;
            let increase = req.monthly_runs > sub.committed_runs;
            let before = json!({"monthly_fee_cents": sub.monthly_fee.cents.get(),
                                "committed_monthly_runs": sub.committed_runs,
                                "pending": sub.pending.as_ref().map(|p| p.committed_runs)});
            if increase {
                tx.execute(
                    "UPDATE subscriptions SET monthly_fee_cents = ?2, committed_monthly_runs = ?3,
                            overage_unit_cents = ?4, quote_id = ?5,
                            pending_monthly_fee_cents = NULL, pending_committed_runs = NULL,
                            pending_quote_id = NULL, pending_from = NULL, updated_at = ?6
                     WHERE id = ?1",
                    params![
                        sub.id,
                        q.monthly_fee.cents_in(sub.currency)?.get(),
                        runs,
                        q.overage_unit.cents_in(sub.currency)?.get(),
                        q.id.to_string(),
                        now()
                    ],
                )?;
            } else {
                tx.execute(
                    "UPDATE subscriptions SET pending_monthly_fee_cents = ?2,
                            pending_committed_runs = ?3, pending_quote_id = ?4, pending_from = ?5,
                            updated_at = ?6
                     WHERE id = ?1",
                    params![
                        sub.id,
                        q.monthly_fee.cents_in(sub.currency)?.get(),
                        runs,
                        q.id.to_string(),
                        BillingPeriod::containing(req.effective_at).to_string(),
                        now()
                    ],
                )?;
            }
            audit(
                tx,
                who,
                request,
                "subscription.committed_volume_changed",
                ("subscription", sub.id.clone()),
                Some(before),
                Some(json!({"committed_monthly_runs": req.monthly_runs,
                            "monthly_fee_cents": q.monthly_fee.cents.get(),
                            "quote_id": q.id, "effective_at": timestamp(req.effective_at),
                            "prorated_charge_cents": req.prorated_charge.cents.get(),
                            "applies": if increase { "now" } else { "next_period" }})),
            )?;
            Ok(VolumeChangeOutcome {
                quote: Box::new(load_quote(tx, q.id)?),
                subscription: active_subscription(tx, req.automation)?,
                effective_at: req.effective_at,
                prorated_charge: req.prorated_charge,
            })
        })
    }

    /// Flow 20, one workspace and period, idempotent: the period invoice if it exists (and its
    /// claimed charge if that never reached the provider), else, in one transaction, the
    /// invoice core assembles — per subscription active in the period its monthly fee (the
    /// terms of the period: a decrease from its period on) and overage from the usage counters,
    /// plus the prorations paid by invoice and not yet billed — made `draft` and then
    /// `finalized` by core's rule, with its charge claimed under [`invoice_charge_key`] (a zero
    /// total is `paid` at once). Decreases whose period has come (`now`'s) become the terms.
    /// A workspace with nothing to bill gets no invoice (`None`).
    pub fn finalize_period(
        &self,
        period: BillingPeriod,
        provider: &str,
        at: DateTime<Utc>,
        request: &RequestMeta,
    ) -> StoreResult<Option<Finalized>> {
        self.db().write(|tx| {
            let system = AuditActor::system();
            apply_due_decreases(tx, BillingPeriod::containing(at), request)?;
            if let Some(inv) = period_invoice(tx, period)? {
                let pending = match inv.status.as_str() {
                    "finalized" => tx
                        .query_row(
                            "SELECT c.key, c.amount_cents, c.currency FROM invoices i
                             JOIN charges c ON c.key = i.charge_key
                             WHERE i.id = ?1 AND c.status = 'pending'",
                            [&inv.id],
                            |r| {
                                let cur = Currency::parse(&r.get::<_, String>(2)?).map_err(conv)?;
                                Ok((r.get::<_, String>(0)?, Money::new(r.get(1)?, cur)))
                            },
                        )
                        .optional()?,
                    _ => None,
                };
                return Ok(Some(Finalized {
                    invoice: inv,
                    charge: pending,
                    created: false,
                }));
            }
            let (start, end) = (timestamp(period.first_instant()), timestamp(period.end()));
            let subs = subscriptions_where(
                tx,
                "s.started_at < ?1 AND (s.ended_at IS NULL OR s.ended_at >= ?2)",
                &[&end, &start],
            )?;
            let mut usage = Vec::new();
            let mut currency = None;
            for s in &subs {
                let runs: i64 = tx
                    .query_row(
                        "SELECT runs FROM usage_counters WHERE automation_id = ?1 AND period = ?2",
                        params![s.automation_id.to_string(), period.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0);
                let (fee, committed) = s.terms_for(period);
                currency.get_or_insert(s.currency);
                usage.push(SubscriptionUsage {
                    label: s.automation_name.clone(),
                    committed_runs: committed,
                    monthly_fee: fee,
                    overage_unit: s.overage_unit,
                    runs: u64::try_from(runs).unwrap_or(0),
                });
            }
            let prorations: Vec<(String, ProratedCharge)> = {
                let mut stmt = tx.prepare(
                    "SELECT c.key, c.amount_cents, c.currency, coalesce(a.name, 'Automation')
                     FROM charges c LEFT JOIN automations a ON a.id = c.automation_id
                     WHERE c.purpose = 'proration' AND c.status = 'invoiced'
                       AND c.billed_invoice_id IS NULL AND c.created_at < ?1
                     ORDER BY c.created_at, c.key",
                )?;
                stmt.query_map([&end], |r| {
                    let cur = Currency::parse(&r.get::<_, String>(2)?).map_err(conv)?;
                    Ok((
                        r.get::<_, String>(0)?,
                        ProratedCharge {
                            label: r.get(3)?,
                            amount: Money::new(r.get(1)?, cur),
                        },
                    ))
                })?
                .collect::<Result<_, _>>()?
            };
            if usage.is_empty() && prorations.is_empty() {
                return Ok(None);
            }
            let currency = currency
                .or_else(|| prorations.first().map(|p| p.1.amount.currency))
                .unwrap_or(Currency::USD);
            let charges: Vec<ProratedCharge> = prorations.iter().map(|p| p.1.clone()).collect();
            let draft = assemble_invoice(period, currency, &usage, &charges)?;
            let id = insert_draft(tx, &draft, at, request)?;
            for (key, _) in &prorations {
                tx.execute(
                    "UPDATE charges SET billed_invoice_id = ?2 WHERE key = ?1",
                    params![key, id],
                )?;
            }
            let inv = load_invoice(tx, &id)?;
            move_invoice(
                tx,
                &inv,
                InvoiceStatus::Finalized,
                &Actor::System,
                &system,
                request,
                json!({"total_cents": draft.total.cents.get()}),
            )?;
            let mut charge = None;
            if draft.total.cents.get() > 0 {
                if let ChargeClaim::New { key, amount } = claim_charge(
                    tx,
                    &invoice_charge_key(&id, 1),
                    "invoice",
                    draft.total,
                    provider,
                    None,
                    &system,
                    request,
                )? {
                    tx.execute(
                        "UPDATE invoices SET charge_key = ?2, attempts = 1 WHERE id = ?1",
                        params![id, key],
                    )?;
                    charge = Some((key, amount));
                }
            } else {
                let inv = load_invoice(tx, &id)?;
                move_invoice(
                    tx,
                    &inv,
                    InvoiceStatus::Paid,
                    &Actor::System,
                    &system,
                    request,
                    json!({"reason": "nothing to pay"}),
                )?;
                tx.execute(
                    "UPDATE invoices SET paid_at = ?2 WHERE id = ?1",
                    params![id, now()],
                )?;
            }
            Ok(Some(Finalized {
                invoice: load_invoice(tx, &id)?,
                charge,
                created: true,
            }))
        })
    }

    /// Flow 20 after the provider answered an invoice charge (the first or a dunning retry), in
    /// one transaction: `Paid` → the invoice `paid` (and versions dunning blocked unblocked);
    /// `Invoiced` → the invoice stays `finalized` for ops to mark paid; `Declined` → `failed`,
    /// the next retry scheduled by core's [`dunning`] (after the last, every live version
    /// `blocked` with reason [`PAYMENT_FAILED`]), and the `users` notified.
    pub fn invoice_charged(
        &self,
        id: &str,
        key: &str,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
        users: &[UserId],
        request: &RequestMeta,
    ) -> StoreResult<InvoiceSettled> {
        self.db().write(|tx| {
            let system = AuditActor::system();
            record_charge(tx, key, outcome, &system, request)?;
            let inv = load_invoice(tx, id)?;
            let moved = match outcome {
                ChargeOutcome::Paid { reference } => {
                    let effects = move_invoice(
                        tx,
                        &inv,
                        InvoiceStatus::Paid,
                        &Actor::System,
                        &system,
                        request,
                        json!({"reference": reference}),
                    )?;
                    tx.execute(
                        "UPDATE invoices SET paid_at = ?2, paid_reference = ?3,
                                next_attempt_at = NULL WHERE id = ?1",
                        params![id, timestamp(at), reference],
                    )?;
                    if effects.contains(&InvoiceEffect::UnblockVersions) {
                        unblock_paid(tx, request)?
                    } else {
                        Vec::new()
                    }
                }
                ChargeOutcome::Invoiced { .. } => Vec::new(),
                ChargeOutcome::Declined { .. } => invoice_declined(tx, &inv, at, users, request)?,
            };
            Ok(InvoiceSettled {
                invoice: Some(load_invoice(tx, id)?),
                moved,
            })
        })
    }

    /// Dunning (flow 20): claims the next attempt of every `failed` invoice whose retry is due
    /// at `at` (key `invoice:<id>:<n>`), so the host can charge them.
    pub fn claim_due_retries(
        &self,
        at: DateTime<Utc>,
        provider: &str,
        request: &RequestMeta,
    ) -> StoreResult<Vec<DueRetry>> {
        self.db().write(|tx| {
            let due: Vec<(String, u32, i64, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, attempts, total_cents, currency FROM invoices
                     WHERE status = 'failed' AND next_attempt_at IS NOT NULL
                       AND next_attempt_at <= ?1 ORDER BY id",
                )?;
                stmt.query_map([timestamp(at)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?
            };
            let system = AuditActor::system();
            let mut out = Vec::new();
            for (id, attempts, cents, cur) in due {
                let currency =
                    Currency::parse(&cur).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let attempt = attempts + 1;
                let key = invoice_charge_key(&id, attempt);
                let amount = Money::new(cents, currency);
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM charges WHERE key = ?1)",
                    [&key],
                    |r| r.get(0),
                )?;
                if !exists {
                    tx.execute(
                        "INSERT INTO charges (key, purpose, amount_cents, currency, provider,
                                              status, created_at, updated_at)
                         VALUES (?1, 'invoice', ?2, ?3, ?4, 'pending', ?5, ?5)",
                        params![key, cents, cur, provider, now()],
                    )?;
                    audit(
                        tx,
                        &system,
                        request,
                        "charge.claimed",
                        ("charge", key.clone()),
                        None,
                        Some(
                            json!({"purpose": "invoice", "invoice_id": id, "attempt": attempt,
                                    "amount_cents": cents, "currency": cur}),
                        ),
                    )?;
                }
                tx.execute(
                    "UPDATE invoices SET attempts = ?2, charge_key = ?3, next_attempt_at = NULL,
                            updated_at = ?4 WHERE id = ?1",
                    params![id, attempt, key, now()],
                )?;
                out.push(DueRetry {
                    invoice: id,
                    key,
                    amount,
                });
            }
            Ok(out)
        })
    }

    /// The workspace's invoices, newest first.
    pub fn invoices(&self) -> StoreResult<Vec<Invoice>> {
        self.db().read(|c| {
            let ids: Vec<String> = {
                let mut stmt = c.prepare_cached("SELECT id FROM invoices ORDER BY id DESC")?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            ids.iter().map(|i| load_invoice(c, i)).collect()
        })
    }
}

/// Decreases whose period has come become the subscription's terms.
fn apply_due_decreases(
    tx: &Transaction<'_>,
    current: BillingPeriod,
    request: &RequestMeta,
) -> StoreResult<()> {
    let due = subscriptions_where(
        tx,
        "s.status = 'active' AND s.pending_from IS NOT NULL AND s.pending_from <= ?1",
        &[&current.to_string()],
    )?;
    for s in due {
        tx.execute(
            "UPDATE subscriptions SET monthly_fee_cents = pending_monthly_fee_cents,
                    committed_monthly_runs = pending_committed_runs, quote_id = pending_quote_id,
                    pending_monthly_fee_cents = NULL, pending_committed_runs = NULL,
                    pending_quote_id = NULL, pending_from = NULL, updated_at = ?2
             WHERE id = ?1",
            params![s.id, now()],
        )?;
        audit(
            tx,
            &AuditActor::system(),
            request,
            "subscription.pending_applied",
            ("subscription", s.id.clone()),
            Some(json!({"committed_monthly_runs": s.committed_runs})),
            Some(json!({"committed_monthly_runs": s.pending.as_ref().map(|p| p.committed_runs)})),
        )?;
    }
    Ok(())
}

/// Stores an assembled invoice as a `draft` with its lines and audit row; returns its id.
fn insert_draft(
    tx: &Transaction<'_>,
    draft: &InvoiceDraft,
    at: DateTime<Utc>,
    request: &RequestMeta,
) -> StoreResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_invoice_number(tx, at)?;
    tx.execute(
        "INSERT INTO invoices (id, number, kind, period, status, currency, total_cents,
                               created_at, updated_at)
         VALUES (?1, ?2, 'period', ?3, 'draft', ?4, ?5, ?6, ?6)",
        params![
            id,
            number,
            draft.period.to_string(),
            draft.currency.as_str(),
            draft.total.cents.get(),
            timestamp(at)
        ],
    )?;
    for (i, l) in draft.lines.iter().enumerate() {
        tx.execute(
            "INSERT INTO invoice_lines (invoice_id, position, code, description, quantity,
                                        unit_cents, amount_cents)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                i,
                l.kind.as_str(),
                l.description,
                i64_of(l.quantity)?,
                l.unit.cents.get(),
                l.amount.cents.get()
            ],
        )?;
    }
    audit(
        tx,
        &AuditActor::system(),
        request,
        "invoice.draft",
        ("invoice", id.clone()),
        None,
        Some(
            json!({"number": number, "kind": "period", "period": draft.period,
                    "currency": draft.currency, "total_cents": draft.total.cents.get(),
                    "lines": draft.lines.len()}),
        ),
    )?;
    Ok(id)
}

/// Test support: writes a usage counter as the execution flow's fold does (the fold itself
/// belongs to that flow); for tests of overage here and in the host.
#[doc(hidden)]
pub fn write_usage_for_tests(
    store: &TenantStore,
    automation: AutomationId,
    period: BillingPeriod,
    runs: u64,
) -> StoreResult<()> {
    store.db().write(|tx| {
        tx.execute(
            "INSERT INTO usage_counters (automation_id, period, runs, succeeded, updated_at)
             VALUES (?1, ?2, ?3, ?3, ?4)
             ON CONFLICT (automation_id, period) DO UPDATE SET runs = excluded.runs,
                 succeeded = excluded.succeeded, updated_at = excluded.updated_at",
            params![
                automation.to_string(),
                period.to_string(),
                i64_of(runs)?,
                now()
            ],
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
