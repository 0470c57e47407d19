//! What a client and ops do with a sent quote (flows 14-18), in storage: accept, reject, the ops
//! revision, the expiry sweep, and signing with its charge, payment method, signature,
//! subscription and setup-fee invoice.
//!
//! Every decision is core's (`wrk_core::quote::transition` / `revise` for the quote,
//! `wrk_core::machine` for the version, both through the facts read here inside the write
//! transaction); this module writes what they decide, with an audit row per change, in one
//! transaction per step.
//!
//! Signing is three steps because the payment provider is called over the network and never
//! inside a transaction:
//! 1. [`TenantStore::claim_setup_fee`]: one transaction that checks the quote may be signed and
//!    claims a `charges` row (`pending`). A second request (a retry, a double click, a concurrent
//!    one) finds the claim: `pending` → [`Claim::InProgress`]; settled → [`Claim::Charged`]. A
//!    declined attempt is `failed`, and the next attempt claims a new key (`…:setup_fee:2`, `:3`,
//!    …), so a retry with another card is a new charge at the provider, never a replay of the
//!    declined one.
//! 2. The host calls the provider with the claimed key.
//! 3. [`TenantStore::sign_quote`]: one transaction: the charge settled, the payment method on
//!    file, the quote `signed`, the signature row, for the manual provider the setup-fee invoice,
//!    and the version → `ready_to_build` by the machine (guards `quote_signed`,
//!    `payment_method_on_file`, `setup_fee_paid`; its `CreateSubscription` effect makes the
//!    subscription in [`create_subscription`]). A decline instead ends in
//!    [`TenantStore::charge_failed`] and nothing else changes.
//!
//! **"Setup fee paid" for the invoice method.** With the manual provider the setup fee is not
//! paid at signing: an invoice is issued (`finalized`, charge `invoiced`) and ops mark it paid
//! out of band. The product's terms for that method are invoice terms: an issued, unpaid
//! setup-fee invoice is what "paid" means at signing, so [`setup_fee_settled`] counts a charge
//! `invoiced` like one `succeeded`. It never counts a `pending` or `failed` one, and it reads the
//! charge of the version's current quote, so the guard stays a fact, not a constant.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::billing::BillingPeriod;
use wrk_core::ids::{AutomationId, QuoteId};
use wrk_core::machine::{Actor, VersionStatus, Who};
use wrk_core::money::{Currency, Money};
use wrk_core::quote::{QuoteFacts, QuoteStatus, QuoteTransitionError, revise, transition};

use super::quotes::{NewQuote, Quote, announce_quote, insert_quote, load_quote};
use super::tasks;
use super::versions::{Applied, TransitionRequest, VersionRef, apply_transition};
use super::{Automation, audit, load_automation, now, time_col};
use crate::audit::{AuditActor, RequestMeta, parse_timestamp, timestamp};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;

/// Who decides, and the request they decide in.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    pub actor: &'a Actor,
    pub audit: &'a AuditActor,
    pub request: &'a RequestMeta,
}

fn facts<'a>(q: &Quote, now: DateTime<Utc>, reason: Option<&'a str>) -> QuoteFacts<'a> {
    QuoteFacts {
        now,
        valid_until: q.valid_until,
        reason,
    }
}

/// Writes a quote's new status with its audit row.
fn set_status(
    tx: &Transaction<'_>,
    q: &Quote,
    to: QuoteStatus,
    extra: &[(&str, Option<String>)],
    who: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<()> {
    let at = now();
    let decided = matches!(
        to,
        QuoteStatus::Signed
            | QuoteStatus::Rejected
            | QuoteStatus::Expired
            | QuoteStatus::Superseded
    );
    tx.execute(
        "UPDATE quotes SET status = ?2, updated_at = ?3,
                decided_at = CASE WHEN ?4 THEN ?3 ELSE decided_at END
         WHERE id = ?1",
        params![q.id.to_string(), to.as_str(), at, decided],
    )?;
    for (col, value) in extra {
        // Column names are this module's constants, never input.
        tx.execute(
            &format!("UPDATE quotes SET {col} = ?2 WHERE id = ?1"),
            params![q.id.to_string(), value],
        )?;
    }
    let mut after = json!({"status": to});
    for (col, value) in extra {
        after[*col] = json!(value);
    }
    audit(
        tx,
        who,
        request,
        &format!("quote.{to}"),
        ("quote", q.id.to_string()),
        Some(json!({"status": q.status})),
        Some(after),
    )?;
    if to != QuoteStatus::Accepted {
        tasks::close_key(
            tx,
            q.automation_id,
            &format!("quote:review:{}", q.id),
            request,
        )?;
    }
    Ok(())
}

/// The base key of a quote revision's setup-fee charge; attempt `n` > 1 adds `:<n>`.
pub fn setup_fee_key(q: &Quote) -> String {
    format!("quote:{}:r{}:setup_fee", q.id, q.revision)
}

/// A charge row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChargeRow {
    pub key: String,
    pub amount: Money,
    pub provider: String,
    /// `pending`, `succeeded`, `invoiced` or `failed`.
    pub status: String,
    pub reference: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn charges_of(c: &Connection, base: &str) -> StoreResult<Vec<ChargeRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT key, amount_cents, currency, provider, status, reference, failure_code,
                failure_message, created_at
         FROM charges WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || ':'
         ORDER BY created_at, key",
    )?;
    let rows = stmt.query_map([base], |r| {
        let currency = Currency::parse(&r.get::<_, String>(2)?).map_err(super::conv)?;
        Ok(ChargeRow {
            key: r.get(0)?,
            amount: Money::new(r.get(1)?, currency),
            provider: r.get(3)?,
            status: r.get(4)?,
            reference: r.get(5)?,
            failure_code: r.get(6)?,
            failure_message: r.get(7)?,
            created_at: time_col(&r.get::<_, String>(8)?)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What [`TenantStore::claim_setup_fee`] found or made.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// A new attempt is claimed: charge `amount` with this key.
    New { key: String, amount: Money },
    /// The quote has no setup fee: only the payment method goes on file.
    NothingToCharge,
    /// An earlier attempt is still with the provider.
    InProgress,
    /// An earlier attempt was charged (`succeeded` or `invoiced`) but its signing did not
    /// commit (the final transaction failed): finish signing with that charge, never charge
    /// again.
    Charged(ChargeRow),
    /// The quote is already signed: the answer is the quote as it is.
    Signed(Box<Quote>),
}

/// How a charge ended at the provider, for [`TenantStore::sign_quote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The money was taken; `reference` is the provider's payment id.
    Paid { key: String, reference: String },
    /// An invoice was issued for the setup fee (the manual provider).
    Invoiced { key: String, reference: String },
    /// Nothing was charged: the quote has no setup fee.
    Free,
}

/// The payment method the provider put on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPaymentMethod {
    /// `manual` or `stripe`.
    pub provider: String,
    pub customer: Option<String>,
    pub method: Option<String>,
    /// For people: "Invoice", "Card".
    pub label: String,
}

/// Everything the signing transaction records.
#[derive(Debug, Clone)]
pub struct Signing {
    pub quote: QuoteId,
    pub signer_name: String,
    pub signer_title: String,
    pub user_id: String,
    /// SHA-256 (hex) of the rendered, unsigned quote document the signer agreed to.
    pub document_sha256: String,
    pub method: NewPaymentMethod,
    pub settlement: Settlement,
    /// When the claim was made: validity was checked then, before any money moved.
    pub claimed_at: DateTime<Utc>,
}

/// A stored signature (flow 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub signer_name: String,
    pub signer_title: String,
    pub signed_by: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub document_sha256: String,
    pub signed_at: DateTime<Utc>,
}

/// An invoice as stored (flows 16, 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub id: String,
    pub number: String,
    /// `setup_fee`, `proration` or `period`.
    pub kind: String,
    pub period: String,
    /// `draft`, `finalized`, `paid` or `failed`.
    pub status: String,
    pub total: Money,
    pub quote_id: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLineRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLineRow {
    pub code: String,
    pub description: String,
    pub quantity: i64,
    pub unit: Money,
    pub amount: Money,
}

/// What an ops revision asks for (flow 14), already checked by the host against the invariants
/// of plugin output.
#[derive(Debug, Clone)]
pub struct Revised {
    pub quote: NewQuote,
    pub discount_percent: u8,
    pub note: Option<String>,
}

/// An ops revision, stored.
#[derive(Debug, Clone)]
pub struct RevisionOutcome {
    pub quote: Box<Quote>,
    pub superseded: QuoteId,
    pub automation: Box<Automation>,
    /// The version's move back to `awaiting_client_approval`, when it was in `needs_pricing`.
    pub applied: Option<Box<Applied>>,
}

/// A signed quote, stored.
#[derive(Debug, Clone)]
pub struct SignOutcome {
    pub quote: Box<Quote>,
    pub applied: Box<Applied>,
}

/// A rejected quote, stored.
#[derive(Debug, Clone)]
pub struct RejectOutcome {
    pub quote: Box<Quote>,
    pub applied: Box<Applied>,
}

/// Whether the workspace has a payment method on file (the `payment_method_on_file` guard).
pub(crate) fn payment_method_on_file(c: &Connection) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT EXISTS (SELECT 1 FROM payment_methods WHERE status = 'active')",
        [],
        |r| r.get(0),
    )?)
}

/// The `setup_fee_paid` guard for version `number`: its current quote's setup fee is zero, or a
/// charge of it `succeeded` (card), or was `invoiced` (invoice terms: see the module doc).
pub(crate) fn setup_fee_settled(
    c: &Connection,
    id: AutomationId,
    number: u32,
) -> StoreResult<bool> {
    let quote: Option<(String, u32, i64)> = c
        .query_row(
            "SELECT id, revision, setup_fee_cents FROM quotes
             WHERE automation_id = ?1 AND version = ?2 ORDER BY revision DESC LIMIT 1",
            params![id.to_string(), number],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((quote, revision, fee)) = quote else {
        return Ok(false);
    };
    if fee == 0 {
        return Ok(true);
    }
    let base = format!("quote:{quote}:r{revision}:setup_fee");
    Ok(charges_of(c, &base)?
        .iter()
        .any(|ch| matches!(ch.status.as_str(), "succeeded" | "invoiced")))
}

/// The storage side of the machine's `CreateSubscription` (flow 16, `→ ready_to_build`): the
/// subscription of version `number`'s signed quote — its monthly fee, committed runs (the
/// quote's included runs) and overage unit price. An automation has one active subscription: a
/// previous one (an earlier version's) ends here, with its own audit row, because the signed
/// quote of the new version is the contract from now on.
pub(crate) fn create_subscription(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    request: &RequestMeta,
) -> StoreResult<()> {
    let quote: Option<String> = tx
        .query_row(
            "SELECT id FROM quotes WHERE automation_id = ?1 AND version = ?2 AND status = 'signed'
             ORDER BY revision DESC LIMIT 1",
            params![id.to_string(), number],
            |r| r.get(0),
        )
        .optional()?;
    let Some(quote) = quote else {
        return Err(StoreError::Conflict(
            "a subscription needs a signed quote".into(),
        ));
    };
    let q = load_quote(
        tx,
        QuoteId::parse(&quote).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    )?;
    let system = AuditActor::system();
    let at = now();
    let ended: Option<String> = tx
        .query_row(
            "SELECT id FROM subscriptions WHERE automation_id = ?1 AND status = 'active'",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(old) = ended {
        tx.execute(
            "UPDATE subscriptions SET status = 'ended', ended_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![old, at],
        )?;
        audit(
            tx,
            &system,
            request,
            "subscription.ended",
            ("subscription", old),
            Some(json!({"status": "active"})),
            Some(json!({"status": "ended", "replaced_by_quote": q.id})),
        )?;
    }
    let sub = uuid::Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO subscriptions (id, automation_id, version, quote_id, status, currency,
                                    monthly_fee_cents, committed_monthly_runs, overage_unit_cents,
                                    started_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9, ?9, ?9)",
        params![
            sub,
            id.to_string(),
            number,
            q.id.to_string(),
            q.currency.as_str(),
            q.monthly_fee.cents.get(),
            q.included_runs,
            q.overage_unit.cents.get(),
            at
        ],
    )?;
    audit(
        tx,
        &system,
        request,
        "subscription.created",
        ("subscription", sub),
        None,
        Some(json!({
            "automation_id": id, "version": number, "quote_id": q.id,
            "currency": q.currency, "monthly_fee_cents": q.monthly_fee.cents.get(),
            "committed_monthly_runs": q.included_runs,
            "overage_unit_cents": q.overage_unit.cents.get(),
        })),
    )?;
    Ok(())
}

/// The next invoice number for people, `INV-<yyyy>-<nnnn>`, counted per year in this workspace.
pub(crate) fn next_invoice_number(tx: &Transaction<'_>, at: DateTime<Utc>) -> StoreResult<String> {
    let prefix = format!("INV-{}-", at.format("%Y"));
    let taken: u32 = tx.query_row(
        "SELECT count(*) FROM invoices WHERE substr(number, 1, 9) = ?1",
        [&prefix],
        |r| r.get(0),
    )?;
    Ok(format!("{prefix}{:04}", taken + 1))
}

const INVOICE_COLS: &str = "id, number, kind, period, status, currency, total_cents, quote_id,
    paid_at, paid_reference, created_at";

pub(crate) fn load_invoice(c: &Connection, id: &str) -> StoreResult<Invoice> {
    let mut inv = c
        .query_row(
            &format!("SELECT {INVOICE_COLS} FROM invoices WHERE id = ?1"),
            [id],
            |r| {
                let currency = Currency::parse(&r.get::<_, String>(5)?).map_err(super::conv)?;
                Ok(Invoice {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    kind: r.get(2)?,
                    period: r.get(3)?,
                    status: r.get(4)?,
                    total: Money::new(r.get(6)?, currency),
                    quote_id: r.get(7)?,
                    paid_at: r
                        .get::<_, Option<String>>(8)?
                        .map(|s| parse_timestamp(&s))
                        .transpose()?,
                    paid_reference: r.get(9)?,
                    created_at: time_col(&r.get::<_, String>(10)?)?,
                    lines: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound(Entity::Invoice))?;
    let currency = inv.total.currency;
    let mut stmt = c.prepare_cached(
        "SELECT code, description, quantity, unit_cents, amount_cents FROM invoice_lines
         WHERE invoice_id = ?1 ORDER BY position",
    )?;
    inv.lines = stmt
        .query_map([id], |r| {
            Ok(InvoiceLineRow {
                code: r.get(0)?,
                description: r.get(1)?,
                quantity: r.get(2)?,
                unit: Money::new(r.get(3)?, currency),
                amount: Money::new(r.get(4)?, currency),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(inv)
}

/// The setup-fee invoice of a quote paid by invoice: `finalized` at once, one line.
fn issue_setup_fee_invoice(
    tx: &Transaction<'_>,
    q: &Quote,
    charge_key: &str,
    request: &RequestMeta,
) -> StoreResult<String> {
    let at = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_invoice_number(tx, at)?;
    let fee = q.setup_fee.cents.get();
    tx.execute(
        "INSERT INTO invoices (id, number, kind, period, status, currency, total_cents, quote_id,
                               charge_key, finalized_at, created_at, updated_at)
         VALUES (?1, ?2, 'setup_fee', ?3, 'finalized', ?4, ?5, ?6, ?7, ?8, ?8, ?8)",
        params![
            id,
            number,
            BillingPeriod::containing(at).to_string(),
            q.currency.as_str(),
            fee,
            q.id.to_string(),
            charge_key,
            timestamp(at)
        ],
    )?;
    tx.execute(
        "INSERT INTO invoice_lines (invoice_id, position, code, description, automation_id,
                                    quantity, unit_cents, amount_cents)
         VALUES (?1, 0, 'setup_fee', ?2, ?3, 1, ?4, ?4)",
        params![
            id,
            format!(
                "Setup fee, quote {}",
                q.number
                    .clone()
                    .unwrap_or_else(|| format!("revision {}", q.revision))
            ),
            q.automation_id.to_string(),
            fee
        ],
    )?;
    audit(
        tx,
        &AuditActor::system(),
        request,
        "invoice.finalized",
        ("invoice", id.clone()),
        None,
        Some(
            json!({"number": number, "kind": "setup_fee", "quote_id": q.id,
                    "currency": q.currency, "total_cents": fee}),
        ),
    )?;
    Ok(id)
}

/// The newest revision of the quote's project, to refuse acting on an older one.
fn newest_revision(c: &Connection, q: &Quote) -> StoreResult<u32> {
    Ok(c.query_row(
        "SELECT max(revision) FROM quotes WHERE project_id = ?1",
        [q.project_id.to_string()],
        |r| r.get(0),
    )?)
}

/// A client move (accept, sign, reject) is only on the newest revision: an older one that is
/// still open in storage (it should not be) answers `Superseded` like a superseded one.
fn check_current(c: &Connection, q: &Quote) -> StoreResult<()> {
    if newest_revision(c, q)? > q.revision {
        return Err(QuoteTransitionError::Superseded.into());
    }
    Ok(())
}

impl TenantStore {
    /// Flow 15: a client owner or admin accepts a `sent` quote within its validity.
    pub fn accept_quote(&self, id: QuoteId, who: Decider<'_>) -> StoreResult<Quote> {
        self.db().write(|tx| {
            let q = load_quote(tx, id)?;
            check_current(tx, &q)?;
            let t = transition(
                q.quote_status()?,
                QuoteStatus::Accepted,
                who.actor,
                &facts(&q, Utc::now(), None),
            )?;
            set_status(
                tx,
                &q,
                t.to,
                &[("accepted_at", Some(now()))],
                who.audit,
                who.request,
            )?;
            load_quote(tx, id)
        })
    }

    /// Flow 18: a client owner or admin rejects a `sent` or `accepted` quote with a reason; the
    /// version goes back to `needs_pricing` by the machine (actor system, guard
    /// `quote_rejected`), whose effect opens the keyed "revise quote" ops task.
    pub fn reject_quote(
        &self,
        id: QuoteId,
        reason: &str,
        who: Decider<'_>,
    ) -> StoreResult<RejectOutcome> {
        self.db().write(|tx| {
            let q = load_quote(tx, id)?;
            check_current(tx, &q)?;
            let reason = reason.trim();
            let t = transition(
                q.quote_status()?,
                QuoteStatus::Rejected,
                who.actor,
                &facts(&q, Utc::now(), Some(reason)),
            )?;
            set_status(
                tx,
                &q,
                t.to,
                &[("rejected_reason", Some(reason.to_owned()))],
                who.audit,
                who.request,
            )?;
            let applied = apply_transition(
                tx,
                q.automation_id,
                q.version,
                &TransitionRequest {
                    to: VersionStatus::NeedsPricing,
                    reason: Some(reason),
                    actor: &Actor::System,
                    audit_actor: &AuditActor::system(),
                    request: who.request,
                },
            )?;
            Ok(RejectOutcome {
                quote: Box::new(load_quote(tx, id)?),
                applied: Box::new(applied),
            })
        })
    }

    /// Flow 14: ops revise a quote. In one transaction: core decides (`revise`); the revised
    /// quote is `superseded` (unless it already ended rejected or expired); revision n+1 of the
    /// same project is stored `sent` with its discount and note; the client is told (a thread
    /// message and a review task); and a version that went back to `needs_pricing` (after a
    /// rejection) returns to `awaiting_client_approval` by the machine (guard `quote_sent`).
    pub fn revise_quote(
        &self,
        id: QuoteId,
        revised: &Revised,
        who: Decider<'_>,
    ) -> StoreResult<RevisionOutcome> {
        self.db().write(|tx| {
            let old = load_quote(tx, id)?;
            if newest_revision(tx, &old)? > old.revision {
                return Err(QuoteTransitionError::Superseded.into());
            }
            let decided = revise(old.quote_status()?, who.actor)?;
            let version = super::versions::load_version(tx, old.automation_id, VersionRef::Number(old.version))?;
            if !matches!(
                version.status,
                VersionStatus::AwaitingClientApproval | VersionStatus::NeedsPricing
            ) {
                return Err(StoreError::Conflict(format!(
                    "the quote's version is {}: only a version awaiting approval or pricing can get a revised quote",
                    version.status
                )));
            }
            if let Some(t) = decided.supersede {
                set_status(tx, &old, t.to, &[], who.audit, who.request)?;
            }
            let stored = insert_quote(
                tx,
                old.project_id,
                (old.automation_id, old.version),
                &revised.quote,
                who.audit,
                who.request,
            )?;
            tx.execute(
                "UPDATE quotes SET discount_percent = ?2, note = ?3 WHERE id = ?1",
                params![stored.id.to_string(), revised.discount_percent, revised.note],
            )?;
            audit(
                tx,
                who.audit,
                who.request,
                "quote.revised",
                ("quote", stored.id.to_string()),
                Some(json!({"quote_id": old.id, "revision": old.revision})),
                Some(json!({"revision": stored.revision, "discount_percent": revised.discount_percent,
                            "note": revised.note})),
            )?;
            let stored = load_quote(tx, stored.id)?;
            let automation = load_automation(tx, old.automation_id)?;
            let message = revision_message(&stored);
            let applied = if version.status == VersionStatus::NeedsPricing {
                tasks::close_key(tx, old.automation_id, &format!("quote:revise:{}", old.id), who.request)?;
                let applied = apply_transition(
                    tx,
                    old.automation_id,
                    old.version,
                    &TransitionRequest {
                        to: VersionStatus::AwaitingClientApproval,
                        reason: None,
                        actor: &Actor::System,
                        audit_actor: &AuditActor::system(),
                        request: who.request,
                    },
                )?;
                Some(Box::new(applied))
            } else {
                None
            };
            announce_quote(tx, &stored, &automation, &message, who.request)?;
            Ok(RevisionOutcome {
                quote: Box::new(stored),
                superseded: old.id,
                automation: Box::new(automation),
                applied,
            })
        })
    }

    /// The expiry worker's sweep: every `sent` or `accepted` quote whose `valid_until` is before
    /// `now` becomes `expired` (core decides, actor system, guard `validity_passed`), each with
    /// its audit row. Returns the quotes it expired.
    pub fn expire_quotes(&self, now_at: DateTime<Utc>) -> StoreResult<Vec<QuoteId>> {
        self.db().write(|tx| {
            let due: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT id FROM quotes WHERE status IN ('sent', 'accepted') AND valid_until < ?1",
                )?;
                stmt.query_map([timestamp(now_at)], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            let system = AuditActor::system();
            let request = RequestMeta::default();
            let mut expired = Vec::new();
            for id in due {
                let id = QuoteId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let q = load_quote(tx, id)?;
                let t = transition(q.quote_status()?, QuoteStatus::Expired, &Actor::System, &facts(&q, now_at, None))?;
                set_status(tx, &q, t.to, &[], &system, &request)?;
                expired.push(id);
            }
            Ok(expired)
        })
    }

    /// Signing, step 1 (see the module doc): checks that `who` may sign quote `id` now (core:
    /// `accepted → signed`, within validity, newest revision) and claims its setup-fee charge.
    pub fn claim_setup_fee(
        &self,
        id: QuoteId,
        provider: &str,
        who: Decider<'_>,
    ) -> StoreResult<Claim> {
        self.db().write(|tx| {
            let q = load_quote(tx, id)?;
            if q.quote_status()? == QuoteStatus::Signed {
                // The same request again gets the signed quote, but only from someone who may
                // sign it.
                if !Who::ClientManager.admits(who.actor) {
                    return Err(QuoteTransitionError::NotPermitted {
                        from: QuoteStatus::Accepted,
                        to: QuoteStatus::Signed,
                        actor: who.actor.kind(),
                    }
                    .into());
                }
                return Ok(Claim::Signed(Box::new(q)));
            }
            check_current(tx, &q)?;
            transition(
                q.quote_status()?,
                QuoteStatus::Signed,
                who.actor,
                &facts(&q, Utc::now(), None),
            )?;
            if q.setup_fee.cents.get() == 0 {
                return Ok(Claim::NothingToCharge);
            }
            let base = setup_fee_key(&q);
            let earlier = charges_of(tx, &base)?;
            if earlier.iter().any(|c| c.status == "pending") {
                return Ok(Claim::InProgress);
            }
            if let Some(done) = earlier
                .iter()
                .find(|c| matches!(c.status.as_str(), "succeeded" | "invoiced"))
            {
                return Ok(Claim::Charged(done.clone()));
            }
            let key = match earlier.len() {
                0 => base,
                n => format!("{base}:{}", n + 1),
            };
            let at = now();
            tx.execute(
                "INSERT INTO charges (key, purpose, amount_cents, currency, provider, status,
                                      created_at, updated_at)
                 VALUES (?1, 'setup_fee', ?2, ?3, ?4, 'pending', ?5, ?5)",
                params![
                    key,
                    q.setup_fee.cents.get(),
                    q.currency.as_str(),
                    provider,
                    at
                ],
            )?;
            audit(
                tx,
                who.audit,
                who.request,
                "charge.claimed",
                ("charge", key.clone()),
                None,
                Some(json!({"purpose": "setup_fee", "quote_id": q.id,
                            "amount_cents": q.setup_fee.cents.get(), "currency": q.currency,
                            "provider": provider})),
            )?;
            Ok(Claim::New {
                key,
                amount: q.setup_fee,
            })
        })
    }

    /// Signing after a failed charge: the attempt is `failed` with the provider's reason, so the
    /// next attempt is a new one. Nothing else changes.
    pub fn charge_failed(
        &self,
        key: &str,
        code: &str,
        message: &str,
        who: Decider<'_>,
    ) -> StoreResult<()> {
        self.db().write(|tx| {
            let n = tx.execute(
                "UPDATE charges SET status = 'failed', failure_code = ?2, failure_message = ?3,
                        updated_at = ?4 WHERE key = ?1 AND status = 'pending'",
                params![key, code, message, now()],
            )?;
            if n > 0 {
                audit(
                    tx,
                    who.audit,
                    who.request,
                    "charge.failed",
                    ("charge", key.to_owned()),
                    Some(json!({"status": "pending"})),
                    Some(json!({"status": "failed", "failure_code": code,
                                "failure_message": message})),
                )?;
            }
            Ok(())
        })
    }

    /// Records how a claimed charge ended at the provider, alone: used when the signing
    /// transaction could not commit after the money moved, so the next attempt finds the charge
    /// ([`Claim::Charged`]) instead of charging again.
    pub fn charge_settled(&self, settlement: &Settlement) -> StoreResult<()> {
        self.db().write(|tx| settle(tx, settlement))
    }

    /// Signing, step 3 (see the module doc): one transaction after the provider answered.
    pub fn sign_quote(&self, s: &Signing, who: Decider<'_>) -> StoreResult<SignOutcome> {
        self.db().write(|tx| {
            let q = load_quote(tx, s.quote)?;
            check_current(tx, &q)?;
            let t = transition(q.quote_status()?, QuoteStatus::Signed, who.actor, &facts(&q, s.claimed_at, None))?;
            settle(tx, &s.settlement)?;
            let at = now();
            let replaced = tx.execute(
                "UPDATE payment_methods SET status = 'replaced', updated_at = ?1 WHERE status = 'active'",
                [&at],
            )?;
            let method = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO payment_methods (id, provider, customer, method, label, status,
                                              created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?6)",
                params![method, s.method.provider, s.method.customer, s.method.method, s.method.label, at],
            )?;
            audit(
                tx,
                who.audit,
                who.request,
                "payment_method.added",
                ("payment_method", method),
                None,
                Some(json!({"provider": s.method.provider, "label": s.method.label,
                            "replaced": replaced})),
            )?;
            set_status(tx, &q, t.to, &[], who.audit, who.request)?;
            tx.execute(
                "INSERT INTO quote_signatures (quote_id, signer_name, signer_title, signed_by, ip,
                                               user_agent, document_sha256, signed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    q.id.to_string(),
                    s.signer_name,
                    s.signer_title,
                    s.user_id,
                    who.request.ip,
                    who.request.user_agent,
                    s.document_sha256,
                    at
                ],
            )?;
            audit(
                tx,
                who.audit,
                who.request,
                "quote_signature.created",
                ("quote", q.id.to_string()),
                None,
                Some(json!({"signer_name": s.signer_name, "signer_title": s.signer_title,
                            "signed_by": s.user_id, "document_sha256": s.document_sha256})),
            )?;
            if let Settlement::Invoiced { key, .. } = &s.settlement {
                issue_setup_fee_invoice(tx, &q, key, who.request)?;
            }
            let applied = apply_transition(
                tx,
                q.automation_id,
                q.version,
                &TransitionRequest {
                    to: VersionStatus::ReadyToBuild,
                    reason: None,
                    actor: &Actor::System,
                    audit_actor: &AuditActor::system(),
                    request: who.request,
                },
            )?;
            Ok(SignOutcome {
                quote: Box::new(load_quote(tx, s.quote)?),
                applied: Box::new(applied),
            })
        })
    }

    /// A quote's signature, once signed.
    pub fn quote_signature(&self, id: QuoteId) -> StoreResult<Option<Signature>> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT signer_name, signer_title, signed_by, ip, user_agent, document_sha256,
                        signed_at FROM quote_signatures WHERE quote_id = ?1",
                [id.to_string()],
                |r| {
                    Ok(Signature {
                        signer_name: r.get(0)?,
                        signer_title: r.get(1)?,
                        signed_by: r.get(2)?,
                        ip: r.get(3)?,
                        user_agent: r.get(4)?,
                        document_sha256: r.get(5)?,
                        signed_at: time_col(&r.get::<_, String>(6)?)?,
                    })
                },
            )
            .optional()?)
        })
    }

    /// Every charge attempt of a quote's setup fee, oldest first.
    pub fn setup_fee_charges(&self, q: &Quote) -> StoreResult<Vec<ChargeRow>> {
        self.db().read(|c| charges_of(c, &setup_fee_key(q)))
    }

    pub fn invoice(&self, id: &str) -> StoreResult<Invoice> {
        self.db().read(|c| load_invoice(c, id))
    }

    /// The invoices of a quote (its setup-fee invoice, when paid by invoice).
    pub fn quote_invoices(&self, id: QuoteId) -> StoreResult<Vec<Invoice>> {
        self.db().read(|c| {
            let ids: Vec<String> = {
                let mut stmt =
                    c.prepare_cached("SELECT id FROM invoices WHERE quote_id = ?1 ORDER BY id")?;
                stmt.query_map([id.to_string()], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            ids.iter().map(|i| load_invoice(c, i)).collect()
        })
    }

    /// Ops mark an invoice paid out of band (the manual provider; any invoice kind): a
    /// `finalized` or `failed` invoice becomes `paid`, with the reference and an audit row. A
    /// draft is not due yet and a paid one is paid: both are a conflict.
    pub fn mark_invoice_paid(
        &self,
        id: &str,
        reference: Option<&str>,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Invoice> {
        Ok(self
            .mark_invoice_paid_unblocking(id, reference, who, request)?
            .0)
    }

    /// [`Self::mark_invoice_paid`], and in the same transaction, when it was a `failed` invoice
    /// and no other one is, the versions dunning blocked go back where they were (flow 20);
    /// returns them too, for the host to publish.
    pub fn mark_invoice_paid_unblocking(
        &self,
        id: &str,
        reference: Option<&str>,
        who: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<(Invoice, Vec<super::versions::Applied>)> {
        self.db().write(|tx| {
            let inv = load_invoice(tx, id)?;
            if !matches!(inv.status.as_str(), "finalized" | "failed") {
                return Err(StoreError::Conflict(format!(
                    "the invoice is {}: only a finalized or failed invoice can be marked paid",
                    inv.status
                )));
            }
            let at = now();
            tx.execute(
                "UPDATE invoices SET status = 'paid', paid_at = ?2, paid_reference = ?3,
                        next_attempt_at = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, at, reference],
            )?;
            audit(
                tx,
                who,
                request,
                "invoice.paid",
                ("invoice", id.to_owned()),
                Some(json!({"status": inv.status})),
                Some(json!({"status": "paid", "reference": reference})),
            )?;
            let moved = if inv.status == "failed" {
                crate::billing::unblock_paid(tx, request)?
            } else {
                Vec::new()
            };
            Ok((load_invoice(tx, id)?, moved))
        })
    }
}

/// Settles a claimed charge (`pending` → `succeeded` / `invoiced`) with its reference.
pub(crate) fn settle(tx: &Transaction<'_>, s: &Settlement) -> StoreResult<()> {
    let (key, status, reference) = match s {
        Settlement::Paid { key, reference } => (key, "succeeded", reference),
        Settlement::Invoiced { key, reference } => (key, "invoiced", reference),
        Settlement::Free => return Ok(()),
    };
    tx.execute(
        "UPDATE charges SET status = ?2, reference = ?3, updated_at = ?4
         WHERE key = ?1 AND status IN ('pending', ?2)",
        params![key, status, reference, now()],
    )?;
    Ok(())
}

/// The thread message of an ops revision (flow 14).
fn revision_message(q: &Quote) -> String {
    let mut m = format!(
        "Ops revised the quote for version {}: revision {} has setup fee {}, monthly fee {} \
         including {} runs, valid until {}.",
        q.version,
        q.revision,
        q.setup_fee,
        q.monthly_fee,
        q.included_runs,
        q.valid_until.format("%Y-%m-%d"),
    );
    if q.discount_percent > 0 {
        m.push_str(&format!(
            " It includes a {} % discount.",
            q.discount_percent
        ));
    }
    if let Some(note) = q.note.as_deref().filter(|n| !n.trim().is_empty()) {
        m.push_str(&format!(" Note from ops: {note}"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::super::quotes::tests::{needs_pricing, sent};
    use super::super::tasks::TaskFilter;
    use super::*;
    use crate::testing::*;

    fn decider<'a>(
        actor: &'a Actor,
        audit: &'a AuditActor,
        request: &'a RequestMeta,
    ) -> Decider<'a> {
        Decider {
            actor,
            audit,
            request,
        }
    }

    fn status_of(s: &TenantStore, a: AutomationId) -> VersionStatus {
        s.version(a, VersionRef::Number(1)).unwrap().status
    }

    fn signing(q: &Quote, settlement: Settlement) -> Signing {
        Signing {
            quote: q.id,
            signer_name: "Grace Hopper".into(),
            signer_title: "CEO".into(),
            user_id: "u1".into(),
            document_sha256: "ab".repeat(32),
            method: NewPaymentMethod {
                provider: "manual".into(),
                customer: None,
                method: None,
                label: "Invoice".into(),
            },
            settlement,
            claimed_at: Utc::now(),
        }
    }

    #[test]
    fn accept_claim_and_sign_by_invoice_make_the_version_ready_to_build_with_a_subscription() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let q = sent(&s, a);
        let (actor, audit, request) = (owner(), who(), req());
        let d = decider(&actor, &audit, &request);
        // Signing before accepting is refused by core.
        assert!(matches!(
            s.claim_setup_fee(q.id, "manual", d),
            Err(StoreError::Quote(QuoteTransitionError::NotAllowed { .. }))
        ));
        assert_eq!(s.accept_quote(q.id, d).unwrap().status, "accepted");
        let Claim::New { key, amount } = s.claim_setup_fee(q.id, "manual", d).unwrap() else {
            panic!("no new claim")
        };
        assert_eq!(key, setup_fee_key(&q));
        assert_eq!(amount, q.setup_fee);
        // A second request while the first is with the provider finds the claim.
        assert_eq!(
            s.claim_setup_fee(q.id, "manual", d).unwrap(),
            Claim::InProgress
        );
        let reference = format!("manual:{key}");
        let out = s
            .sign_quote(&signing(&q, Settlement::Invoiced { key, reference }), d)
            .unwrap();
        assert_eq!(out.quote.status, "signed");
        assert_eq!(out.applied.version.status, VersionStatus::ReadyToBuild);
        let invoices = s.quote_invoices(q.id).unwrap();
        assert_eq!(invoices.len(), 1);
        assert_eq!(
            (invoices[0].kind.as_str(), invoices[0].status.as_str()),
            ("setup_fee", "finalized")
        );
        assert_eq!(invoices[0].total, q.setup_fee);
        let subs: (i64, i64, i64) = s
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT monthly_fee_cents, committed_monthly_runs, overage_unit_cents
                     FROM subscriptions WHERE status = 'active'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!(subs, (5_900, 100, 15));
        assert!(matches!(
            s.claim_setup_fee(q.id, "manual", d).unwrap(),
            Claim::Signed(_)
        ));
        // Ops mark the invoice paid, once.
        let paid = s
            .mark_invoice_paid(&invoices[0].id, Some("bank 1"), &audit, &request)
            .unwrap();
        assert_eq!(paid.status, "paid");
        assert!(matches!(
            s.mark_invoice_paid(&invoices[0].id, None, &audit, &request),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn a_failed_charge_changes_nothing_and_the_next_attempt_has_its_own_key() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let q = sent(&s, a);
        let (actor, audit, request) = (owner(), who(), req());
        let d = decider(&actor, &audit, &request);
        s.accept_quote(q.id, d).unwrap();
        let Claim::New { key, .. } = s.claim_setup_fee(q.id, "stripe", d).unwrap() else {
            panic!("no claim")
        };
        s.charge_failed(&key, "card_declined", "Your card was declined.", d)
            .unwrap();
        assert_eq!(s.quote(q.id).unwrap().status, "accepted");
        assert_eq!(status_of(&s, a), VersionStatus::AwaitingClientApproval);
        let Claim::New { key: second, .. } = s.claim_setup_fee(q.id, "stripe", d).unwrap() else {
            panic!("no second claim")
        };
        assert_eq!(second, format!("{key}:2"));
        // Paid, but the signing transaction did not happen: the retry finishes with that charge.
        s.charge_settled(&Settlement::Paid {
            key: second.clone(),
            reference: "pi_1".into(),
        })
        .unwrap();
        let Claim::Charged(row) = s.claim_setup_fee(q.id, "stripe", d).unwrap() else {
            panic!("the charge is not found")
        };
        assert_eq!(
            (row.key.as_str(), row.status.as_str()),
            (second.as_str(), "succeeded")
        );
        let charges = s.setup_fee_charges(&q).unwrap();
        assert_eq!(
            charges
                .iter()
                .map(|c| c.status.as_str())
                .collect::<Vec<_>>(),
            ["failed", "succeeded"]
        );
    }

    #[test]
    fn a_quote_past_its_validity_is_refused_at_once_and_the_sweep_expires_it() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let q = sent(&s, a);
        s.db()
            .write(|tx| {
                tx.execute(
                    "UPDATE quotes SET valid_until = '2020-01-01T00:00:00Z' WHERE id = ?1",
                    [q.id.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        let (actor, audit, request) = (owner(), who(), req());
        let d = decider(&actor, &audit, &request);
        assert!(matches!(
            s.accept_quote(q.id, d),
            Err(StoreError::Quote(QuoteTransitionError::Expired { .. }))
        ));
        assert_eq!(s.quote(q.id).unwrap().status, "sent");
        assert_eq!(s.expire_quotes(Utc::now()).unwrap(), vec![q.id]);
        assert_eq!(s.quote(q.id).unwrap().status, "expired");
        assert!(s.expire_quotes(Utc::now()).unwrap().is_empty());
    }

    #[test]
    fn rejecting_moves_the_version_back_to_pricing_with_one_revise_task_and_a_member_may_not() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let q = sent(&s, a);
        let (audit, request) = (who(), req());
        let m = member();
        assert!(matches!(
            s.reject_quote(q.id, "no", decider(&m, &audit, &request)),
            Err(StoreError::Quote(QuoteTransitionError::NotPermitted { .. }))
        ));
        let o = owner();
        let d = decider(&o, &audit, &request);
        assert!(matches!(
            s.reject_quote(q.id, "  ", d),
            Err(StoreError::Quote(QuoteTransitionError::ReasonRequired))
        ));
        let out = s.reject_quote(q.id, "Too much", d).unwrap();
        assert_eq!(out.quote.status, "rejected");
        assert_eq!(out.applied.version.status, VersionStatus::NeedsPricing);
        assert!(s.reject_quote(q.id, "Again", d).is_err());
        let tasks = s
            .tasks(&TaskFilter {
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            tasks
                .iter()
                .filter(|t| t.key.starts_with("quote:revise:"))
                .count(),
            1
        );
    }
}
