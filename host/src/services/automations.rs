//! Automations, versions, transitions, auto-quotes and tasks (flows 8-13, 31, 32, 35).
//!
//! Plain Rust: no HTTP types. Every function returns [`AutomationError`], which
//! `host/src/error.rs` maps to a problem document (the only place it becomes a status).
//!
//! After a transition commits, [`after_commit`] runs what must happen outside its transaction,
//! in one `match`: the status event, and the [`AfterCommit`] work the storage handed back (the
//! pricing plugin, then the quote email). The storage side of every side effect is one `match`
//! in `wrk_tenants::automations::effects`. **Adding a side effect for a new transition** = one
//! arm there (what is written in the transaction) and/or one arm in [`after_commit`] (emails,
//! events, plugin calls), reached through a new `AfterCommit` variant.
//!
//! Two sequences live here because each spans a plugin call, which never runs inside a
//! database transaction:
//! - blueprint update (flow 10): validation plugin → one write (blueprint, revision, issues,
//!   tasks, audit). A plugin failure does not lose the edit: the blueprint is stored with a
//!   `validation_unavailable` error issue, which keeps the version from moving on until a later
//!   save validates it.
//! - move to `needs_pricing` (flow 11): the transition commits → the pricing plugin runs → one
//!   write stores project, quote, the move to `awaiting_client_approval`, message, task and audit
//!   rows. If pricing fails the version stays in `needs_pricing`, ops get a "price manually"
//!   task, and the caller still gets 200 with the version: the transition they asked for did
//!   happen; the quote is ops' job now.

use serde_json::{Value, json};
use wrk_core::automation::{
    AutomationName, Description, Requirements, WriteRefused, check_editable, check_writable,
};
use wrk_core::blueprint::{self, BoundsError};
use wrk_core::ids::{AutomationId, TaskId, TenantId};
use wrk_core::machine::{TransitionError, VersionStatus, create_version};
use wrk_core::money::{Currency, Money};
use wrk_core::quote::Recurrence;
use wrk_core::tasks::Assignee;
use wrk_core::validation::Severity;
use wrk_plugins::sdk::ABI_VERSION;
use wrk_plugins::sdk::pricing::{
    self as sdk_pricing, AutomationRef, PricingInput, PricingOverrides, PricingQuote, RunVolume,
    TenantRef, VersionRef as PricingVersion,
};
use wrk_plugins::sdk::validation::{self as sdk_validation, ValidationInput, ValidationVersion};
use wrk_tenants::automations::effects::AfterCommit;
use wrk_tenants::automations::quotes::{LineItem, NewQuote, Quote, QuoteOutcome, QuotePlugin};
use wrk_tenants::automations::tasks::{Task, TaskStatus};
use wrk_tenants::automations::versions::{
    Applied, HistoryEntry, TransitionRequest, Validation, VersionRef,
};
use wrk_tenants::automations::{
    Automation, ChecklistEntry, IssueTask, NewAutomation, StoredIssue, Version,
};
use wrk_tenants::outbox::enqueue_email;
use wrk_tenants::{Storage, StoreError};

use super::Caller;
use crate::state::AppState;

/// Why an automation service call failed; mapped to a problem document only in `error.rs`.
#[derive(Debug, thiserror::Error)]
pub enum AutomationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Core's state machine refused (a transition, or creating a version).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Core refused the write before any plugin ran (archived, not editable).
    #[error(transparent)]
    WriteRefused(#[from] WriteRefused),
    #[error("must be a JSON object")]
    BlueprintNotAnObject,
    #[error(transparent)]
    BlueprintBounds(#[from] BoundsError),
    /// A person may move only the tasks of their own side.
    #[error("this task is assigned to {}; only they can update it", .0.as_str())]
    NotYourTask(Assignee),
    /// The pricing plugin failed or answered a quote that does not add up (logged, then ops
    /// get a "price manually" task; never shown to a client).
    #[error("pricing plugin failed: {0}")]
    Pricing(String),
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

/// Store work on the blocking pool, in this service's error type ([`crate::blocking::store`]).
async fn blocking<T, F>(app: &AppState, f: F) -> Result<T, AutomationError>
where
    F: FnOnce(&Storage) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::store(&app.storage, f).await
}

/// The currency quotes are made in until workspaces choose one.
pub const QUOTE_CURRENCY: Currency = Currency::USD;

/// Flow 8.
pub async fn create(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    name: AutomationName,
    description: Description,
) -> Result<(Automation, Version), AutomationError> {
    create_version(&caller.actor)?;
    let c = caller.clone();
    blocking(app, move |s| {
        s.tenant(tenant)?.create_automation(
            &NewAutomation {
                name: name.as_str(),
                description: description.as_str(),
            },
            &c.actor,
            &c.audit,
            &c.request,
        )
    })
    .await
}

/// Flow 12.
pub async fn create_version_of(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
) -> Result<Version, AutomationError> {
    create_version(&caller.actor)?;
    let c = caller.clone();
    blocking(app, move |s| {
        s.tenant(tenant)?
            .create_next_version(id, &c.actor, &c.audit, &c.request)
    })
    .await
}

/// Runs the validation plugin on a version's blueprint and requirements. A plugin failure is
/// itself an `error` issue (see the module comment).
async fn validate(
    app: &AppState,
    tenant: TenantId,
    automation: &Automation,
    number: u32,
    bp: &Value,
    requirements: &str,
) -> Validation {
    let credentials = blocking(app, move |s| s.tenant(tenant)?.credential_states())
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, %tenant, "cannot read credentials for validation");
            Vec::new()
        })
        .into_iter()
        .map(|(system, status)| sdk_validation::CredentialStatus {
            system,
            status: status.as_str().to_owned(),
        })
        .collect();
    let input = ValidationInput {
        abi: ABI_VERSION,
        automation: AutomationRef {
            id: automation.id.to_string(),
            name: automation.name.clone(),
        },
        version: ValidationVersion {
            number,
            // A version with no blueprint yet is validated as the empty one, so the issues say
            // what is missing (with tasks) rather than "not an object".
            blueprint: if bp.is_null() { json!({}) } else { bp.clone() },
            requirements: requirements.to_owned(),
        },
        // The workspace's credentials as they stand: a missing one opens its
        // `credentials:<system>` task, which providing the credential closes.
        credentials,
    };
    match app.plugins.validate(tenant, input).await {
        Ok(answer) => Validation {
            issues: answer
                .output
                .issues
                .into_iter()
                .map(|i| StoredIssue {
                    code: i.code,
                    severity: severity(i.severity),
                    message: i.message,
                    path: i.path,
                    task: i.task.map(|t| IssueTask {
                        title: t.title,
                        assignee: assignee(t.assignee),
                    }),
                })
                .collect(),
            checklist: answer
                .output
                .checklist
                .into_iter()
                .map(|c| ChecklistEntry {
                    code: c.code,
                    title: c.title,
                    assignee: assignee(c.assignee),
                })
                .collect(),
        },
        Err(e) => {
            tracing::warn!(error = %e, %tenant, automation = %automation.id, "validation plugin failed");
            Validation {
                issues: vec![StoredIssue {
                    code: "validation_unavailable".into(),
                    severity: Severity::Error,
                    message: "The blueprint could not be validated right now; save it again to \
                              retry."
                        .into(),
                    path: None,
                    task: None,
                }],
                checklist: Vec::new(),
            }
        }
    }
}

// The plugin SDK keeps its own copies of these enums (guests do not depend on core); they meet
// core's here, at the plugin boundary, and nowhere else.

fn severity(s: sdk_validation::Severity) -> Severity {
    match s {
        sdk_validation::Severity::Error => Severity::Error,
        sdk_validation::Severity::Warning => Severity::Warning,
    }
}

fn assignee(a: sdk_validation::Assignee) -> Assignee {
    match a {
        sdk_validation::Assignee::Client => Assignee::Client,
        sdk_validation::Assignee::Ops => Assignee::Ops,
    }
}

fn recurrence(r: sdk_pricing::Recurrence) -> Recurrence {
    match r {
        sdk_pricing::Recurrence::OneTime => Recurrence::OneTime,
        sdk_pricing::Recurrence::Monthly => Recurrence::Monthly,
    }
}

async fn load(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
) -> Result<(Automation, Version), AutomationError> {
    blocking(app, move |s| {
        let t = s.tenant(tenant)?;
        Ok((t.automation(id)?, t.version(id, n)?))
    })
    .await
}

/// Flow 10: validate, then store with optimistic concurrency.
pub async fn update_blueprint(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    bp: Value,
    revision: i64,
) -> Result<Version, AutomationError> {
    if !bp.is_object() {
        return Err(AutomationError::BlueprintNotAnObject);
    }
    // Every blueprint enters here (edits by clients and ops, applied ingestion proposals).
    blueprint::check_bounds(&bp)?;
    // Refused before the plugin runs; the store checks the same rules again in its transaction.
    let (automation, version) = load(app, tenant, id, n).await?;
    check_writable(automation.status)?;
    check_editable(version.number, version.status, &caller.actor)?;
    if version.revision != revision {
        return Err(StoreError::Stale {
            current: version.revision,
        }
        .into());
    }
    let validation = validate(
        app,
        tenant,
        &automation,
        version.number,
        &bp,
        &version.requirements,
    )
    .await;
    let c = caller.clone();
    let number = version.number;
    blocking(app, move |s| {
        s.tenant(tenant)?.update_blueprint(
            id,
            VersionRef::Number(number),
            &bp,
            revision,
            &validation,
            &c.actor,
            &c.audit,
            &c.request,
        )
    })
    .await
}

/// Free-text requirements; the validation re-runs because it reads them too.
pub async fn set_requirements(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    text: Requirements,
) -> Result<Version, AutomationError> {
    let (automation, version) = load(app, tenant, id, n).await?;
    check_writable(automation.status)?;
    check_editable(version.number, version.status, &caller.actor)?;
    let validation = validate(
        app,
        tenant,
        &automation,
        version.number,
        &version.blueprint,
        text.as_str(),
    )
    .await;
    let c = caller.clone();
    let (number, revision) = (version.number, version.revision);
    blocking(app, move |s| {
        s.tenant(tenant)?.set_requirements(
            id,
            VersionRef::Number(number),
            text.as_str(),
            revision,
            &validation,
            &c.actor,
            &c.audit,
            &c.request,
        )
    })
    .await
}

/// Flows 11, 13, 35: one transition through core in one transaction (status, history, audit
/// and the storage side effects), then [`after_commit`].
pub async fn transition(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    to: VersionStatus,
    reason: Option<String>,
) -> Result<Version, AutomationError> {
    let c = caller.clone();
    let applied = blocking(app, move |s| {
        // Blocking a version notifies the workspace's people (its `NotifyClient` effect).
        let people: Vec<_> = if to == VersionStatus::Blocked {
            s.control()
                .members(tenant)?
                .into_iter()
                .map(|m| m.user_id)
                .collect()
        } else {
            Vec::new()
        };
        // Through the storage, so a deploy, pause or resume enqueues its platform event's
        // delivery job with the move (`wrk_tenants::platform_events`).
        s.transition_version(
            tenant,
            id,
            n,
            &TransitionRequest {
                to,
                reason: reason.as_deref(),
                actor: &c.actor,
                audit_actor: &c.audit,
                request: &c.request,
                notify: &people,
            },
        )
    })
    .await?;
    after_commit(app, tenant, caller, applied).await
}

/// Everything a committed transition causes outside its transaction, in one place; returns the
/// version as it is once they ran.
///
/// - [`AfterCommit::PriceQuote`] (flow 11, and a scope change from QA): the pricing plugin runs;
///   its quote is stored with the move on to `awaiting_client_approval` (one transaction), which
///   emails the workspace admins. If pricing fails, ops get a
///   "price manually" task and the version stays in `needs_pricing`: the caller still gets the
///   move they asked for, the quote is ops' job now.
pub async fn after_commit(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    applied: Applied,
) -> Result<Version, AutomationError> {
    let mut version = applied.version;
    for work in applied.after_commit {
        version = match work {
            // Event and job were committed with the move; the workers need only a nudge.
            AfterCommit::DeliverPlatformEvent(_) => {
                app.jobs.wake();
                version
            }
            AfterCommit::EmailClient => {
                email_blocked(app, tenant, &version, applied.transition.from).await;
                version
            }
            AfterCommit::PriceQuote => {
                let (id, number) = (version.automation_id, version.number);
                match auto_quote(app, tenant, caller, &version).await {
                    Ok(QuoteOutcome::Sent {
                        quote,
                        applied,
                        automation,
                    }) => {
                        email_admins(app, tenant, &automation, &quote).await;
                        applied.version
                    }
                    Ok(QuoteOutcome::Skipped(v)) => *v,
                    Err(e) => {
                        tracing::warn!(error = %e, %tenant, automation = %id, version = number,
                            "automatic quote failed; opening a price-manually task");
                        let request = caller.request.clone();
                        blocking(app, move |s| {
                            s.tenant(tenant)?.pricing_failed(id, number, &request)
                        })
                        .await?
                    }
                }
            }
        };
    }
    Ok(version)
}

/// Flow 26's email when a version is blocked (by ops; a credential failure sends its own, see
/// `services::credentials`): to every member, queued after the block committed. A failure is
/// logged, not returned: the block is made.
async fn email_blocked(app: &AppState, tenant: TenantId, version: &Version, from: VersionStatus) {
    let config = app.config.clone();
    let (id, number) = (version.automation_id, version.number);
    let result = blocking(app, move |s| {
        let control = s.control();
        let Some(record) = control.tenant_by_id(tenant)? else {
            return Ok(());
        };
        let automation = s.tenant(tenant)?.automation(id)?;
        let link = crate::auth::session::workspace_url(
            &config,
            record.subdomain.as_str(),
            &format!("/app/automations/{id}"),
        );
        let intro = format!(
            "{} (version {number}) was {} and is now blocked.",
            automation.name,
            from.label().to_lowercase()
        );
        let members = control.members(tenant)?;
        control.db().write(|tx| {
            for m in &members {
                let mail = crate::email::outgoing(
                    &m.email,
                    "version_blocked",
                    crate::email::notification(
                        &format!("{} is blocked", automation.name),
                        &[&intro],
                        Some(("See why", &link)),
                        &m.name,
                    ),
                );
                enqueue_email(tx, &mail)?;
            }
            Ok(())
        })
    })
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, %tenant, "could not queue the blocked-version email");
    }
}

/// The plugin's quote as stored values, refusing one whose lines do not add up to its totals
/// (the quote must never say something its lines do not explain).
pub(crate) fn new_quote(
    input: &PricingInput,
    answer: &wrk_plugins::Answer<PricingQuote>,
) -> Result<NewQuote, String> {
    let q = &answer.output;
    if q.currency != input.currency {
        return Err(format!("asked for {}, got {}", input.currency, q.currency));
    }
    let currency = Currency::parse(&q.currency).map_err(|e| e.to_string())?;
    let count = |v: u64| i64::try_from(v).map_err(|_| format!("{v} is out of range"));
    let money = |v: u64| count(v).map(|c| Money::new(c, currency));
    let lines = q
        .line_items
        .iter()
        .map(|l| {
            Ok(LineItem {
                code: l.code.clone(),
                description: l.description.clone(),
                quantity: count(l.quantity)?,
                unit: money(l.unit_cents)?,
                amount: money(l.amount_cents)?,
                recurrence: recurrence(l.recurrence),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let total = |r: Recurrence| {
        let amounts = lines.iter().filter(|l| l.recurrence == r).map(|l| l.amount);
        Money::sum(currency, amounts).map_err(|e| format!("line items: {e}"))
    };
    let (one_time, monthly) = (total(Recurrence::OneTime)?, total(Recurrence::Monthly)?);
    let (setup_fee, monthly_fee) = (money(q.setup_fee_cents)?, money(q.monthly_fee_cents)?);
    if one_time != setup_fee || monthly != monthly_fee {
        return Err(format!(
            "line items sum to {one_time} one-time and {monthly} monthly, but the quote says \
             {setup_fee} and {monthly_fee}"
        ));
    }
    Ok(NewQuote {
        currency,
        setup_fee,
        monthly_fee,
        included_runs: count(q.included_runs)?,
        overage_unit: money(q.overage_unit_cents)?,
        line_items: lines,
        plugin: QuotePlugin {
            name: answer.plugin.name.clone(),
            version: answer.plugin.version.clone(),
            sha256: answer.plugin.sha256.clone(),
        },
        plugin_input: serde_json::to_value(input).unwrap_or_default(),
        plugin_output: serde_json::to_value(q).unwrap_or_default(),
    })
}

/// What the pricing plugin is asked for version `version` of `automation` at `monthly_runs`,
/// with the workspace's overrides (flow 19): the first quote (flow 11) and every re-price
/// (flow 17) ask the same way.
pub(crate) fn pricing_input(
    tenant: TenantId,
    overrides: PricingOverrides,
    automation: &Automation,
    version: &Version,
    monthly_runs: u64,
) -> PricingInput {
    PricingInput {
        abi: ABI_VERSION,
        tenant: TenantRef {
            id: tenant.to_string(),
            overrides,
        },
        automation: AutomationRef {
            id: automation.id.to_string(),
            name: automation.name.clone(),
        },
        version: PricingVersion {
            number: version.number,
            blueprint: version.blueprint.clone(),
        },
        volume: RunVolume { monthly_runs },
        currency: QUOTE_CURRENCY.into(),
    }
}

/// Flow 11 after the transition committed: price outside any transaction, then store the quote
/// and move on in one transaction ([`after_commit`] handles the outcome).
async fn auto_quote(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    version: &Version,
) -> Result<QuoteOutcome, AutomationError> {
    let id = version.automation_id;
    let number = version.number;
    let automation = blocking(app, move |s| s.tenant(tenant)?.automation(id)).await?;
    let overrides = super::billing::overrides::plugin_overrides(app, tenant)
        .await
        .map_err(|e| AutomationError::Pricing(e.to_string()))?;
    let input = pricing_input(
        tenant,
        overrides,
        &automation,
        version,
        blueprint::monthly_runs(&version.blueprint).unwrap_or(0),
    );
    let new = match app.plugins.price(tenant, input.clone()).await {
        Ok(answer) => new_quote(&input, &answer),
        Err(e) => Err(e.to_string()),
    }
    .map_err(AutomationError::Pricing)?;
    let request = caller.request.clone();
    blocking(app, move |s| {
        s.tenant(tenant)?.record_quote(id, number, &new, &request)
    })
    .await
}

/// Flow 11's email to the workspace admins (owners and admins, from control-plane memberships).
/// The email outbox lives in `control.db`, a different file from the tenant's, so it cannot
/// share the quote's transaction: it is queued right after the quote commits (a crash in between
/// loses this one email, never the quote). A failure is logged, not returned: the quote is made.
pub(crate) async fn email_admins(
    app: &AppState,
    tenant: TenantId,
    automation: &Automation,
    quote: &Quote,
) {
    let config = app.config.clone();
    let automation = automation.clone();
    let quote = quote.clone();
    let result = blocking(app, move |s| {
        let control = s.control();
        let Some(record) = control.tenant_by_id(tenant)? else {
            return Ok(());
        };
        let admins: Vec<_> = control
            .members(tenant)?
            .into_iter()
            .filter(|m| m.role.can_manage_team())
            .collect();
        let link = crate::auth::session::workspace_url(
            &config,
            record.subdomain.as_str(),
            &format!("/app/automations/{}", automation.id),
        );
        let setup = format!(
            "Setup fee: {}; monthly fee: {} including {} runs.",
            quote.setup_fee, quote.monthly_fee, quote.included_runs
        );
        let intro = format!(
            "Your quote for {} (version {}) is ready to review.",
            automation.name, quote.version
        );
        let valid = format!(
            "It is valid until {}.",
            quote.valid_until.format("%Y-%m-%d")
        );
        control.db().write(|tx| {
            for m in &admins {
                let mail = crate::email::outgoing(
                    &m.email,
                    "quote_sent",
                    crate::email::notification(
                        "Your quote is ready",
                        &[&intro, &setup, &valid],
                        Some(("Review the quote", &link)),
                        &m.name,
                    ),
                );
                enqueue_email(tx, &mail)?;
            }
            Ok(())
        })
    })
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, %tenant, "could not queue the quote email");
    }
}

pub async fn history(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
) -> Result<Vec<HistoryEntry>, AutomationError> {
    blocking(app, move |s| s.tenant(tenant)?.history(id, n)).await
}

/// Flow 32: a person moves a task; only the task's side may (clients on the workspace host, ops
/// on the ops host).
pub async fn set_task_status(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    side: Assignee,
    id: TaskId,
    status: TaskStatus,
) -> Result<Task, AutomationError> {
    let c = caller.clone();
    let task = blocking(app, move |s| s.tenant(tenant)?.task(id)).await?;
    if task.assignee != side {
        return Err(AutomationError::NotYourTask(task.assignee));
    }
    let task = blocking(app, move |s| {
        s.tenant(tenant)?
            .set_task_status(id, status, &c.audit, &c.request)
    })
    .await?;
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrk_plugins::PluginRef;
    use wrk_plugins::sdk::pricing::{LineItem as PluginLine, Recurrence as PluginRecurrence};

    fn input() -> PricingInput {
        PricingInput {
            abi: 1,
            tenant: TenantRef {
                id: "t".into(),
                overrides: PricingOverrides::default(),
            },
            automation: AutomationRef {
                id: "a".into(),
                name: "A".into(),
            },
            version: PricingVersion {
                number: 1,
                blueprint: json!({}),
            },
            volume: RunVolume { monthly_runs: 10 },
            currency: "USD".into(),
        }
    }

    fn answer(setup: u64) -> wrk_plugins::Answer<PricingQuote> {
        wrk_plugins::Answer {
            output: PricingQuote {
                currency: "USD".into(),
                setup_fee_cents: setup,
                monthly_fee_cents: 100,
                included_runs: 10,
                overage_unit_cents: 2,
                line_items: vec![
                    PluginLine {
                        code: "setup".into(),
                        description: "Setup".into(),
                        quantity: 1,
                        unit_cents: 500,
                        amount_cents: 500,
                        recurrence: PluginRecurrence::OneTime,
                    },
                    PluginLine {
                        code: "platform".into(),
                        description: "Platform".into(),
                        quantity: 1,
                        unit_cents: 100,
                        amount_cents: 100,
                        recurrence: PluginRecurrence::Monthly,
                    },
                ],
                notes: vec![],
            },
            plugin: PluginRef {
                name: "p".into(),
                version: "1".into(),
                sha256: "s".into(),
            },
        }
    }

    #[test]
    fn a_quote_whose_lines_do_not_add_up_is_refused() {
        assert!(new_quote(&input(), &answer(500)).is_ok());
        let err = new_quote(&input(), &answer(501)).unwrap_err();
        assert_eq!(
            err,
            "line items sum to 5.00 USD one-time and 1.00 USD monthly, but the quote says \
             5.01 USD and 1.00 USD"
        );
    }

    #[test]
    fn a_quote_is_stored_as_money_in_the_currency_asked_for() {
        let new = new_quote(&input(), &answer(500)).unwrap();
        let usd = |c| Money::new(c, Currency::USD);
        assert_eq!(new.currency, Currency::USD);
        assert_eq!(
            (new.setup_fee, new.monthly_fee, new.overage_unit),
            (usd(500), usd(100), usd(2))
        );
        assert_eq!(new.line_items[0].unit, usd(500));
        assert_eq!(new.line_items[1].recurrence, Recurrence::Monthly);
        let mut eur = answer(500);
        eur.output.currency = "EUR".into();
        assert_eq!(
            new_quote(&input(), &eur).unwrap_err(),
            "asked for USD, got EUR"
        );
    }
}
