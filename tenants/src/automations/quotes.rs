//! Projects, quotes and the automation thread's messages. Quotes are only ever created for a
//! project, from a pricing plugin's answer (flow 11; revisions in flows 14 and 17 build on
//! [`TenantStore::record_quote`]); there is no way to make one from nothing.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use wrk_core::ids::{AutomationId, ProjectId, QuoteId};
use wrk_core::machine::VersionStatus;
use wrk_core::money::{Currency, Money};
use wrk_core::quote::{QuoteStatus, Recurrence, default_valid_until};
use wrk_core::tasks::{Assignee, TaskKind};

use super::effects;
use super::tasks;
use super::versions::{Applied, Version, VersionRef, load_version};
use super::{Automation, audit, id_col, now, time_col};
use crate::audit::{AuditActor, RequestMeta, timestamp};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;
use crate::threads;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub automation_id: AutomationId,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    /// The project's current quote (newest revision), if any.
    pub quote_id: Option<QuoteId>,
}

/// One line of a quote, in the quote's currency. Serialized (for the audit row) as the columns
/// are: `unit_cents` and `amount_cents` integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    pub code: String,
    pub description: String,
    pub quantity: i64,
    #[serde(rename = "unit_cents", serialize_with = "cents")]
    pub unit: Money,
    #[serde(rename = "amount_cents", serialize_with = "cents")]
    pub amount: Money,
    pub recurrence: Recurrence,
}

/// An amount as the audit row has always shown it: integer cents (the quote names the currency
/// once).
fn cents<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(m.cents.get())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotePlugin {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub id: QuoteId,
    pub project_id: ProjectId,
    pub automation_id: AutomationId,
    pub version: u32,
    pub revision: u32,
    pub status: String,
    /// The one currency of every amount of the quote and its lines.
    pub currency: Currency,
    /// The sum of the one-time line items.
    #[serde(rename = "setup_fee_cents", serialize_with = "cents")]
    pub setup_fee: Money,
    /// The sum of the monthly line items.
    #[serde(rename = "monthly_fee_cents", serialize_with = "cents")]
    pub monthly_fee: Money,
    pub included_runs: i64,
    /// The price of each run beyond `included_runs`.
    #[serde(rename = "overage_unit_cents", serialize_with = "cents")]
    pub overage_unit: Money,
    pub line_items: Vec<LineItem>,
    pub valid_until: DateTime<Utc>,
    pub plugin: QuotePlugin,
    /// The exact plugin input and output, for audit and shadow runs.
    pub plugin_input: Value,
    pub plugin_output: Value,
    pub created_at: DateTime<Utc>,
    /// The quote's number for people: `Q-<year>-<nnnn>` per project in the workspace, numbered
    /// in order of the project's first quote, with `-R<n>` for revision `n` > 1. Stored, so it
    /// never changes.
    pub number: Option<String>,
    /// The whole percentage an ops revision took off its lines' unit prices (flow 14).
    pub discount_percent: u8,
    /// Ops' note on a revision, shown to the client with it.
    pub note: Option<String>,
    /// Why the client rejected it (flow 18).
    pub rejected_reason: Option<String>,
}

impl Quote {
    /// The stored status as core's type (the column's CHECK keeps it one of them).
    pub fn quote_status(&self) -> StoreResult<QuoteStatus> {
        QuoteStatus::parse(&self.status).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A pricing plugin's answer, ready to store. Every amount must be in `currency`: the row keeps
/// one currency, so [`TenantStore::record_quote`] refuses an amount in another.
#[derive(Debug, Clone)]
pub struct NewQuote {
    pub currency: Currency,
    pub setup_fee: Money,
    pub monthly_fee: Money,
    pub included_runs: i64,
    pub overage_unit: Money,
    pub line_items: Vec<LineItem>,
    pub plugin: QuotePlugin,
    pub plugin_input: Value,
    pub plugin_output: Value,
}

/// What [`TenantStore::record_quote`] did.
#[derive(Debug, Clone)]
pub enum QuoteOutcome {
    /// The quote is stored as `sent` and the version moved on to `awaiting_client_approval`.
    Sent {
        quote: Box<Quote>,
        applied: Box<Applied>,
        automation: Box<Automation>,
    },
    /// The version left `needs_pricing` while the plugin ran (e.g. it was archived): nothing
    /// was stored.
    Skipped(Box<Version>),
}

const QUOTE_COLS: &str = "id, project_id, automation_id, version, revision, status, currency,
    setup_fee_cents, monthly_fee_cents, included_runs, overage_unit_cents, valid_until,
    plugin_name, plugin_version, plugin_sha256, plugin_input, plugin_output, created_at";

fn quote_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Quote> {
    let currency = Currency::parse(&r.get::<_, String>(6)?).map_err(super::conv)?;
    let money = |i: usize| Ok::<_, rusqlite::Error>(Money::new(r.get(i)?, currency));
    Ok(Quote {
        id: QuoteId::parse(&r.get::<_, String>(0)?).map_err(super::conv)?,
        project_id: ProjectId::parse(&r.get::<_, String>(1)?).map_err(super::conv)?,
        automation_id: id_col(&r.get::<_, String>(2)?)?,
        version: r.get(3)?,
        revision: r.get(4)?,
        status: r.get(5)?,
        currency,
        setup_fee: money(7)?,
        monthly_fee: money(8)?,
        included_runs: r.get(9)?,
        overage_unit: money(10)?,
        line_items: Vec::new(),
        valid_until: time_col(&r.get::<_, String>(11)?)?,
        plugin: QuotePlugin {
            name: r.get(12)?,
            version: r.get(13)?,
            sha256: r.get(14)?,
        },
        plugin_input: super::json_col(r.get(15)?)?,
        plugin_output: super::json_col(r.get(16)?)?,
        created_at: time_col(&r.get::<_, String>(17)?)?,
        number: r.get(18)?,
        discount_percent: r.get(19)?,
        note: r.get(20)?,
        rejected_reason: r.get(21)?,
    })
}

/// What a quote reads back: its columns and its number.
const QUOTE_READ: &str = "id, project_id, automation_id, version, revision, status, currency,
    setup_fee_cents, monthly_fee_cents, included_runs, overage_unit_cents, valid_until,
    plugin_name, plugin_version, plugin_sha256, plugin_input, plugin_output, created_at, number,
    discount_percent, note, rejected_reason";

/// The number of a project's revision `revision` created at `at` (see [`Quote::number`]).
fn quote_number(
    tx: &Transaction<'_>,
    project: ProjectId,
    revision: u32,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let first: Option<String> = tx
        .query_row(
            "SELECT number FROM quotes WHERE project_id = ?1 AND revision = 1",
            [project.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if let Some(base) = first.filter(|_| revision > 1) {
        return Ok(format!("{base}-R{revision}"));
    }
    let prefix = format!("Q-{}-", at.format("%Y"));
    let taken: u32 = tx.query_row(
        "SELECT count(DISTINCT project_id) FROM quotes WHERE substr(number, 1, 7) = ?1",
        [&prefix],
        |r| r.get(0),
    )?;
    Ok(format!("{prefix}{:04}", taken + 1))
}

fn with_lines(c: &Connection, mut q: Quote) -> StoreResult<Quote> {
    let mut stmt = c.prepare_cached(
        "SELECT code, description, quantity, unit_cents, amount_cents, recurrence
         FROM quote_line_items WHERE quote_id = ?1 ORDER BY position",
    )?;
    let currency = q.currency;
    q.line_items = stmt
        .query_map([q.id.to_string()], |r| {
            Ok(LineItem {
                code: r.get(0)?,
                description: r.get(1)?,
                quantity: r.get(2)?,
                unit: Money::new(r.get(3)?, currency),
                amount: Money::new(r.get(4)?, currency),
                recurrence: Recurrence::parse(&r.get::<_, String>(5)?).map_err(super::conv)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(q)
}

pub(crate) fn load_quote(c: &Connection, id: QuoteId) -> StoreResult<Quote> {
    let q = c
        .query_row(
            &format!("SELECT {QUOTE_READ} FROM quotes WHERE id = ?1"),
            [id.to_string()],
            quote_row,
        )
        .optional()?
        .ok_or(StoreError::NotFound(Entity::Quote))?;
    with_lines(c, q)
}

pub(crate) fn project_for(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    request: &RequestMeta,
) -> StoreResult<ProjectId> {
    let found: Option<String> = tx
        .query_row(
            "SELECT id FROM projects WHERE automation_id = ?1 AND version = ?2",
            params![id.to_string(), number],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(found) = found {
        return ProjectId::parse(&found).map_err(|e| StoreError::Corrupt(e.to_string()));
    }
    let project = ProjectId::new();
    tx.execute(
        "INSERT INTO projects (id, automation_id, version, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![project.to_string(), id.to_string(), number, now()],
    )?;
    audit(
        tx,
        &AuditActor::system(),
        request,
        "project.created",
        ("project", project.to_string()),
        None,
        Some(json!({"automation_id": id, "version": number})),
    )?;
    Ok(project)
}

/// Tells the client about a `sent` quote inside its transaction: a system message in the
/// automation's thread and a "review the quote" task (flows 11 and 14).
pub(crate) fn announce_quote(
    tx: &Transaction<'_>,
    quote: &Quote,
    automation: &Automation,
    message: &str,
    request: &RequestMeta,
) -> StoreResult<()> {
    let (id, number) = (quote.automation_id, quote.version);
    threads::insert_message(
        tx,
        id,
        &threads::Author::system(),
        message,
        &AuditActor::system(),
        request,
    )?;
    tasks::ensure(
        tx,
        &tasks::NewTask {
            automation_id: id,
            version: Some(number),
            key: format!("quote:review:{}", quote.id),
            kind: TaskKind::Quote,
            title: &format!(
                "Review the quote for {} (version {number})",
                automation.name
            ),
            assignee: Assignee::Client,
        },
        request,
    )?;
    Ok(())
}

/// The thread message that announces a `sent` quote (flow 11).
pub(crate) fn ready_message(q: &Quote) -> String {
    format!(
        "Quote revision {} for version {} is ready: setup fee {}, monthly fee {} including {} runs. \
         It is valid until {}.",
        q.revision,
        q.version,
        q.setup_fee,
        q.monthly_fee,
        q.included_runs,
        q.valid_until.format("%Y-%m-%d"),
    )
}

/// Stores `new` as the next revision (`sent`) of `project` (version `number` of automation `id`),
/// with its line items, number, `valid_until` (core's default validity) and its `quote.created`
/// audit row. Shared by flow 11 and the ops revision of flow 14, so both store the same shape.
pub(crate) fn insert_quote(
    tx: &Transaction<'_>,
    project: ProjectId,
    (id, number): (AutomationId, u32),
    new: &NewQuote,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<Quote> {
    let revision: u32 = tx.query_row(
        "SELECT coalesce(max(revision), 0) + 1 FROM quotes WHERE project_id = ?1",
        [project.to_string()],
        |r| r.get(0),
    )?;
    let quote = QuoteId::new();
    let at = Utc::now();
    // The row has one currency column: an amount in another would be relabelled.
    let cents = |m: Money| m.cents_in(new.currency).map(|c| c.get());
    tx.execute(
        &format!(
            "INSERT INTO quotes ({QUOTE_COLS}, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'sent', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, ?17, ?17)"
        ),
        params![
            quote.to_string(),
            project.to_string(),
            id.to_string(),
            number,
            revision,
            new.currency.as_str(),
            cents(new.setup_fee)?,
            cents(new.monthly_fee)?,
            new.included_runs,
            cents(new.overage_unit)?,
            timestamp(default_valid_until(at)),
            new.plugin.name,
            new.plugin.version,
            new.plugin.sha256,
            new.plugin_input.to_string(),
            new.plugin_output.to_string(),
            timestamp(at)
        ],
    )?;
    tx.execute(
        "UPDATE quotes SET number = ?2 WHERE id = ?1",
        params![quote.to_string(), quote_number(tx, project, revision, at)?],
    )?;
    for (i, line) in new.line_items.iter().enumerate() {
        tx.execute(
            "INSERT INTO quote_line_items (quote_id, position, code, description, quantity,
                                           unit_cents, amount_cents, recurrence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                quote.to_string(),
                i,
                line.code,
                line.description,
                line.quantity,
                cents(line.unit)?,
                cents(line.amount)?,
                line.recurrence.as_str()
            ],
        )?;
    }
    let stored = load_quote(tx, quote)?;
    let mut after = serde_json::to_value(&stored).unwrap_or_default();
    if let Some(o) = after.as_object_mut() {
        // The full plugin input and output live in the quote row; the audit row names it.
        o.remove("plugin_input");
        o.remove("plugin_output");
    }
    audit(
        tx,
        actor,
        request,
        "quote.created",
        ("quote", quote.to_string()),
        None,
        Some(after),
    )?;
    Ok(stored)
}

/// Filters of `GET /api/quotes`; newest first, cursor on the id.
#[derive(Debug, Clone, Default)]
pub struct QuoteFilter {
    pub status: Option<String>,
    pub before_id: Option<String>,
    pub limit: u32,
}

impl TenantStore {
    /// Flow 11, the step after the pricing plugin answered: in ONE transaction, the project (if
    /// new), the quote as `sent` with its line items, `valid_until`, the plugin's identity and its
    /// exact input and output; earlier open revisions superseded; then [`effects::quote_sent`]:
    /// the version moved to `awaiting_client_approval` through core's `transition` (actor
    /// system, guard `quote_sent`) with its history and audit rows, a system message in the
    /// thread, a "review the quote" task for the client. Any failure rolls all of it back: never
    /// a half-made quote.
    pub fn record_quote(
        &self,
        id: AutomationId,
        number: u32,
        new: &NewQuote,
        request: &RequestMeta,
    ) -> StoreResult<QuoteOutcome> {
        self.db().write(|tx| {
            let version = load_version(tx, id, VersionRef::Number(number))?;
            if version.status != VersionStatus::NeedsPricing {
                return Ok(QuoteOutcome::Skipped(Box::new(version)));
            }
            let system = AuditActor::system();
            let project = project_for(tx, id, number, request)?;
            let superseded: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT id FROM quotes WHERE project_id = ?1 AND status IN ('draft', 'sent', 'accepted')",
                )?;
                stmt.query_map([project.to_string()], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for old in &superseded {
                tx.execute(
                    "UPDATE quotes SET status = 'superseded', updated_at = ?2 WHERE id = ?1",
                    params![old, now()],
                )?;
                audit(tx, &system, request, "quote.superseded", ("quote", old.clone()),
                      None, Some(json!({"status": "superseded"})))?;
                tasks::close_key(tx, id, &format!("quote:review:{old}"), request)?;
            }
            let stored = insert_quote(tx, project, (id, number), new, &system, request)?;
            let (applied, automation) = effects::quote_sent(tx, &stored, request)?;
            Ok(QuoteOutcome::Sent {
                quote: Box::new(stored),
                applied: Box::new(applied),
                automation: Box::new(automation),
            })
        })
    }

    /// Flow 11 when the pricing plugin fails: the version stays in `needs_pricing` and ops get a
    /// "price manually" task (once per version). Returns the version as it is now.
    pub fn pricing_failed(
        &self,
        id: AutomationId,
        number: u32,
        request: &RequestMeta,
    ) -> StoreResult<Version> {
        self.db().write(|tx| {
            let version = load_version(tx, id, VersionRef::Number(number))?;
            if version.status == VersionStatus::NeedsPricing {
                tasks::ensure(tx, &tasks::price_manually(id, number), request)?;
            }
            Ok(version)
        })
    }

    pub fn quote(&self, id: QuoteId) -> StoreResult<Quote> {
        self.db().read(|c| load_quote(c, id))
    }

    pub fn quotes(&self, filter: &QuoteFilter) -> StoreResult<Vec<Quote>> {
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {QUOTE_READ} FROM quotes
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows: Vec<Quote> = stmt
                .query_map(
                    params![filter.status, filter.before_id, filter.limit.max(1)],
                    quote_row,
                )?
                .collect::<Result<_, _>>()?;
            rows.into_iter().map(|q| with_lines(c, q)).collect()
        })
    }

    /// Projects, newest first, each with its current quote.
    pub fn projects(&self, before_id: Option<&str>, limit: u32) -> StoreResult<Vec<Project>> {
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT p.id, p.automation_id, p.version, p.created_at,
                        (SELECT q.id FROM quotes q WHERE q.project_id = p.id
                          ORDER BY q.revision DESC LIMIT 1)
                 FROM projects p WHERE (?1 IS NULL OR p.id < ?1) ORDER BY p.id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before_id, limit.max(1)], |r| {
                let quote: Option<String> = r.get(4)?;
                Ok(Project {
                    id: ProjectId::parse(&r.get::<_, String>(0)?).map_err(super::conv)?,
                    automation_id: id_col(&r.get::<_, String>(1)?)?,
                    version: r.get(2)?,
                    created_at: time_col(&r.get::<_, String>(3)?)?,
                    quote_id: quote
                        .as_deref()
                        .map(QuoteId::parse)
                        .transpose()
                        .map_err(super::conv)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many messages an automation's thread has (tests; the messages API comes with flow 30).
    pub fn message_count(&self, id: AutomationId) -> StoreResult<u64> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM messages WHERE automation_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )?)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::versions::{TransitionRequest, Validation};
    use super::*;
    use crate::testing::*;
    use wrk_core::machine::Actor;
    use wrk_core::money::MoneyError;

    pub(crate) fn new_quote() -> NewQuote {
        let usd = |c| Money::new(c, Currency::USD);
        NewQuote {
            currency: Currency::USD,
            setup_fee: usd(150_000),
            monthly_fee: usd(5_900),
            included_runs: 100,
            overage_unit: usd(15),
            line_items: vec![
                LineItem {
                    code: "setup_base".into(),
                    description: "Base".into(),
                    quantity: 1,
                    unit: usd(150_000),
                    amount: usd(150_000),
                    recurrence: Recurrence::OneTime,
                },
                LineItem {
                    code: "platform".into(),
                    description: "Platform".into(),
                    quantity: 1,
                    unit: usd(5_900),
                    amount: usd(5_900),
                    recurrence: Recurrence::Monthly,
                },
            ],
            plugin: QuotePlugin {
                name: "p".into(),
                version: "1.0.0".into(),
                sha256: "ab".into(),
            },
            plugin_input: json!({"in": 1}),
            plugin_output: json!({"out": 1}),
        }
    }

    /// A new automation whose version 1 `actor` moved to `needs_pricing`.
    pub(crate) fn needs_pricing(s: &TenantStore, actor: &Actor) -> AutomationId {
        let a = automation(s, "A");
        save_blueprint(s, a.id, &json!({"x": 1}), 0, &Validation::default()).unwrap();
        s.transition_version(
            a.id,
            VersionRef::Latest,
            &TransitionRequest {
                to: VersionStatus::NeedsPricing,
                reason: None,
                actor,
                audit_actor: &who(),
                request: &req(),
                notify: &[],
            },
        )
        .unwrap();
        a.id
    }

    #[test]
    fn a_quote_is_stored_sent_and_the_version_awaits_approval() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let before = s.message_count(a).unwrap();
        let QuoteOutcome::Sent { quote, applied, .. } =
            s.record_quote(a, 1, &new_quote(), &req()).unwrap()
        else {
            panic!("not sent")
        };
        assert_eq!(quote.status, "sent");
        assert_eq!(quote.line_items.len(), 2);
        assert_eq!(quote.plugin_input, json!({"in": 1}));
        assert_eq!(
            applied.version.status,
            VersionStatus::AwaitingClientApproval
        );
        // The quote's message and the system's note of the move to awaiting approval.
        assert_eq!(s.message_count(a).unwrap(), before + 2);
        let projects = s.projects(None, 10).unwrap();
        assert_eq!(projects[0].quote_id, Some(quote.id));
        // A second answer arriving late changes nothing.
        assert!(matches!(
            s.record_quote(a, 1, &new_quote(), &req()).unwrap(),
            QuoteOutcome::Skipped(_)
        ));
        assert_eq!(
            s.quotes(&QuoteFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn a_pricing_failure_opens_one_price_manually_task() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &ops());
        s.pricing_failed(a, 1, &req()).unwrap();
        s.pricing_failed(a, 1, &req()).unwrap();
        let tasks = s
            .tasks(&super::super::tasks::TaskFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].key, "quote:price_manually:1");
        assert!(
            s.quotes(&QuoteFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .is_empty()
        );
    }

    /// The quote of [`new_quote`], recorded for version 1 of `a`.
    pub(crate) fn sent(s: &TenantStore, a: AutomationId) -> Quote {
        match s.record_quote(a, 1, &new_quote(), &req()).unwrap() {
            QuoteOutcome::Sent { quote, .. } => *quote,
            QuoteOutcome::Skipped(v) => panic!("not sent: {v:?}"),
        }
    }

    #[test]
    fn a_quote_reads_back_as_money_and_its_message_and_audit_row_show_it_as_before() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let quote = sent(&s, a);
        let read = s.quote(quote.id).unwrap();
        assert_eq!(read.currency, Currency::USD);
        assert_eq!(read.setup_fee, Money::new(150_000, Currency::USD));
        assert_eq!(read.monthly_fee, Money::new(5_900, Currency::USD));
        assert_eq!(read.overage_unit, Money::new(15, Currency::USD));
        assert_eq!(read.line_items, new_quote().line_items);
        let body: String = s
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT body FROM messages WHERE automation_id = ?1 AND body LIKE 'Quote revision%'",
                    [a.to_string()],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(
            body.contains("setup fee 1500.00 USD, monthly fee 59.00 USD including 100 runs"),
            "{body}"
        );
        let created = s
            .db()
            .read(|c| {
                crate::audit::list_audit(
                    c,
                    &crate::audit::AuditFilter {
                        action: Some("quote.created".into()),
                        limit: 1,
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        let after = created[0].after.as_ref().unwrap();
        assert_eq!(after["currency"], "USD");
        assert_eq!(after["setup_fee_cents"], 150_000);
        assert_eq!(after["overage_unit_cents"], 15);
        assert_eq!(after["line_items"][1]["amount_cents"], 5_900);
        assert_eq!(after["line_items"][1]["recurrence"], "monthly");
    }

    #[test]
    fn an_amount_in_another_currency_than_the_quote_is_refused_and_nothing_is_stored() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let mut new = new_quote();
        new.line_items[1].amount = Money::new(5_900, Currency::EUR);
        assert!(matches!(
            s.record_quote(a, 1, &new, &req()),
            Err(StoreError::Money(MoneyError::CurrencyMismatch { .. }))
        ));
        let all = QuoteFilter {
            limit: 10,
            ..Default::default()
        };
        assert!(s.quotes(&all).unwrap().is_empty());
        assert_eq!(
            s.version(a, VersionRef::Number(1)).unwrap().status,
            VersionStatus::NeedsPricing
        );
    }

    #[test]
    fn an_unknown_stored_recurrence_is_an_error_not_a_default() {
        let (_d, s) = store();
        let a = needs_pricing(&s, &owner());
        let quote = sent(&s, a);
        // The table's CHECK refuses the value; corrupt data gets past it.
        s.db()
            .write(|tx| {
                tx.execute_batch(
                    "PRAGMA ignore_check_constraints = ON;
                     UPDATE quote_line_items SET recurrence = 'yearly';
                     PRAGMA ignore_check_constraints = OFF;",
                )?;
                Ok(())
            })
            .unwrap();
        let err = s.quote(quote.id).unwrap_err().to_string();
        assert!(err.contains("unknown recurrence `yearly`"), "{err}");
    }
}
