//! Automations, versions, transitions, auto-quotes and tasks (flows 8-13, 31, 32, 35).
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
use wrk_core::blueprint;
use wrk_core::ids::{AutomationId, TaskId, TenantId};
use wrk_core::machine::{SideEffect, TransitionError, VersionStatus, create_version};
use wrk_plugins::sdk::ABI_VERSION;
use wrk_plugins::sdk::pricing::{
    AutomationRef, PricingInput, PricingOverrides, PricingQuote, Recurrence, RunVolume, TenantRef,
    VersionRef as PricingVersion,
};
use wrk_plugins::sdk::validation::{Severity, ValidationInput, ValidationVersion};
use wrk_tenants::automations::quotes::{LineItem, NewQuote, Quote, QuoteOutcome, QuotePlugin};
use wrk_tenants::automations::tasks::{Task, TaskAssignee, TaskStatus};
use wrk_tenants::automations::versions::{
    Applied, HistoryEntry, TransitionRequest, Validation, VersionRef,
};
use wrk_tenants::automations::{
    Automation, ChecklistEntry, IssueTask, NewAutomation, StoredIssue, Version,
};
use wrk_tenants::outbox::enqueue_email;

use super::Caller;
use crate::error::ApiError;
use crate::events::{Event, bus};
use crate::state::AppState;

/// The currency quotes are made in until workspaces choose one.
pub const QUOTE_CURRENCY: &str = "USD";

fn publish_status_changed(tenant: TenantId, version: &Version, from: VersionStatus) {
    bus().publish(Event {
        tenant_id: tenant,
        kind: "version.status_changed",
        data: json!({
            "automation_id": version.automation_id,
            "version": version.number,
            "from": from,
            "to": version.status,
        }),
    });
}

/// Flow 8.
pub async fn create(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    name: String,
    description: String,
) -> Result<(Automation, Version), ApiError> {
    create_version(&caller.actor)?;
    let c = caller.clone();
    app.blocking(move |s| {
        s.tenant(tenant)?.create_automation(
            &NewAutomation {
                name: &name,
                description: &description,
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
) -> Result<Version, ApiError> {
    create_version(&caller.actor)?;
    let c = caller.clone();
    app.blocking(move |s| {
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
        // No credentials table yet (the credentials issue adds it): every system's credential
        // is reported missing, which opens its `credentials:<system>` task.
        credentials: Vec::new(),
    };
    match app.plugins.validate(tenant, input).await {
        Ok(answer) => Validation {
            issues: answer
                .output
                .issues
                .into_iter()
                .map(|i| StoredIssue {
                    code: i.code,
                    severity: match i.severity {
                        Severity::Error => "error".into(),
                        Severity::Warning => "warning".into(),
                    },
                    message: i.message,
                    path: i.path,
                    task: i.task.map(|t| IssueTask {
                        title: t.title,
                        assignee: assignee_str(t.assignee).into(),
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
                    assignee: assignee_str(c.assignee).into(),
                })
                .collect(),
        },
        Err(e) => {
            tracing::warn!(error = %e, %tenant, automation = %automation.id, "validation plugin failed");
            Validation {
                issues: vec![StoredIssue {
                    code: "validation_unavailable".into(),
                    severity: "error".into(),
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

fn assignee_str(a: wrk_plugins::sdk::validation::Assignee) -> &'static str {
    match a {
        wrk_plugins::sdk::validation::Assignee::Client => "client",
        wrk_plugins::sdk::validation::Assignee::Ops => "ops",
    }
}

async fn load(
    app: &AppState,
    tenant: TenantId,
    id: AutomationId,
    n: VersionRef,
) -> Result<(Automation, Version), ApiError> {
    app.blocking(move |s| {
        let t = s.tenant(tenant)?;
        Ok((t.automation(id)?, t.version(id, n)?))
    })
    .await
}

/// Refuses writes to an archived automation before any plugin runs.
fn writable(a: &Automation) -> Result<(), ApiError> {
    if a.is_read_only() {
        return Err(ApiError::Conflict(
            "this automation is archived and read-only; create a new automation instead".into(),
        ));
    }
    Ok(())
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
) -> Result<Version, ApiError> {
    if !bp.is_object() {
        return Err(ApiError::validation("blueprint", "must be a JSON object"));
    }
    // Every blueprint enters here (edits by clients and ops, applied ingestion proposals).
    wrk_core::blueprint::check_bounds(&bp)
        .map_err(|e| ApiError::validation("blueprint", e.to_string()))?;
    let (automation, version) = load(app, tenant, id, n).await?;
    writable(&automation)?;
    if !version.status.is_editable_blueprint_by(&caller.actor) {
        return Err(ApiError::Conflict(format!(
            "version {} is {}: the blueprint is editable only in intake_in_progress (and in \
             needs_pricing by ops)",
            version.number, version.status
        )));
    }
    if version.revision != revision {
        return Err(ApiError::StaleRevision {
            current: version.revision,
        });
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
    app.blocking(move |s| {
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
    text: String,
) -> Result<Version, ApiError> {
    let (automation, version) = load(app, tenant, id, n).await?;
    writable(&automation)?;
    let validation = validate(
        app,
        tenant,
        &automation,
        version.number,
        &version.blueprint,
        &text,
    )
    .await;
    let c = caller.clone();
    let (number, revision) = (version.number, version.revision);
    app.blocking(move |s| {
        s.tenant(tenant)?.set_requirements(
            id,
            VersionRef::Number(number),
            &text,
            revision,
            &validation,
            &c.actor,
            &c.audit,
            &c.request,
        )
    })
    .await
}

/// Flows 11, 13, 35: one transition through core, then what must follow it outside the
/// transaction (the auto-quote of flow 11).
pub async fn transition(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: AutomationId,
    n: VersionRef,
    to: VersionStatus,
    reason: Option<String>,
) -> Result<Version, ApiError> {
    let c = caller.clone();
    let applied: Result<Applied, TransitionError> = app
        .blocking(move |s| {
            s.tenant(tenant)?.transition_version(
                id,
                n,
                &TransitionRequest {
                    to,
                    reason: reason.as_deref(),
                    actor: &c.actor,
                    audit_actor: &c.audit,
                    request: &c.request,
                },
            )
        })
        .await?;
    let applied = applied?;
    publish_status_changed(tenant, &applied.version, applied.transition.from);
    let quote_now = applied.transition.effects.iter().any(|e| {
        matches!(
            e,
            SideEffect::CreateProjectAndQuote | SideEffect::RegenerateQuote
        )
    });
    if quote_now {
        return auto_quote(app, tenant, caller, applied.version).await;
    }
    Ok(applied.version)
}

/// The plugin's quote as stored values, refusing one whose lines do not add up to its totals
/// (the quote must never say something its lines do not explain).
fn new_quote(
    input: &PricingInput,
    answer: &wrk_plugins::Answer<PricingQuote>,
) -> Result<NewQuote, String> {
    let q = &answer.output;
    let cents = |v: u64| i64::try_from(v).map_err(|_| format!("amount {v} is out of range"));
    let mut one_time: u64 = 0;
    let mut monthly: u64 = 0;
    let mut lines = Vec::with_capacity(q.line_items.len());
    for l in &q.line_items {
        let sum = match l.recurrence {
            Recurrence::OneTime => &mut one_time,
            Recurrence::Monthly => &mut monthly,
        };
        *sum = sum
            .checked_add(l.amount_cents)
            .ok_or("line items overflow")?;
        lines.push(LineItem {
            code: l.code.clone(),
            description: l.description.clone(),
            quantity: cents(l.quantity)?,
            unit_cents: cents(l.unit_cents)?,
            amount_cents: cents(l.amount_cents)?,
            recurrence: match l.recurrence {
                Recurrence::OneTime => "one_time".into(),
                Recurrence::Monthly => "monthly".into(),
            },
        });
    }
    if one_time != q.setup_fee_cents || monthly != q.monthly_fee_cents {
        return Err(format!(
            "line items sum to {one_time} one-time and {monthly} monthly, but the quote says {} and {}",
            q.setup_fee_cents, q.monthly_fee_cents
        ));
    }
    if q.currency != input.currency {
        return Err(format!("asked for {}, got {}", input.currency, q.currency));
    }
    Ok(NewQuote {
        currency: q.currency.clone(),
        setup_fee_cents: cents(q.setup_fee_cents)?,
        monthly_fee_cents: cents(q.monthly_fee_cents)?,
        included_runs: cents(q.included_runs)?,
        overage_unit_cents: cents(q.overage_unit_cents)?,
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

/// Flow 11 after the transition committed: price outside any transaction, then store the quote
/// and move on in one transaction — or open the "price manually" task.
async fn auto_quote(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    version: Version,
) -> Result<Version, ApiError> {
    let id = version.automation_id;
    let number = version.number;
    let automation = app
        .blocking(move |s| s.tenant(tenant)?.automation(id))
        .await?;
    let input = PricingInput {
        abi: ABI_VERSION,
        tenant: TenantRef {
            id: tenant.to_string(),
            // Per-workspace overrides arrive with flow 19.
            overrides: PricingOverrides::default(),
        },
        automation: AutomationRef {
            id: id.to_string(),
            name: automation.name.clone(),
        },
        version: PricingVersion {
            number,
            blueprint: version.blueprint.clone(),
        },
        volume: RunVolume {
            monthly_runs: blueprint::monthly_runs(&version.blueprint).unwrap_or(0),
        },
        currency: QUOTE_CURRENCY.into(),
    };
    let priced = match app.plugins.price(tenant, input.clone()).await {
        Ok(answer) => new_quote(&input, &answer),
        Err(e) => Err(e.to_string()),
    };
    let request = caller.request.clone();
    let outcome = match priced {
        Ok(new) => {
            let request = request.clone();
            app.blocking(move |s| s.tenant(tenant)?.record_quote(id, number, &new, &request))
                .await
        }
        Err(reason) => Err(ApiError::Unexpected(anyhow::anyhow!(
            "pricing plugin failed: {reason}"
        ))),
    };
    match outcome {
        Ok(QuoteOutcome::Sent {
            quote,
            applied,
            automation,
        }) => {
            publish_status_changed(tenant, &applied.version, applied.transition.from);
            email_admins(app, tenant, &automation, &quote).await;
            Ok(applied.version)
        }
        Ok(QuoteOutcome::Skipped(v)) => Ok(*v),
        Err(e) => {
            tracing::warn!(error = %e, %tenant, automation = %id, version = number,
                "automatic quote failed; opening a price-manually task");
            app.blocking(move |s| s.tenant(tenant)?.pricing_failed(id, number, &request))
                .await
        }
    }
}

/// Flow 11's email to the workspace admins (owners and admins, from control-plane memberships).
/// The email outbox lives in `control.db`, a different file from the tenant's, so it cannot
/// share the quote's transaction: it is queued right after the quote commits (a crash in between
/// loses this one email, never the quote). A failure is logged, not returned: the quote is made.
async fn email_admins(app: &AppState, tenant: TenantId, automation: &Automation, quote: &Quote) {
    let config = app.config.clone();
    let automation = automation.clone();
    let quote = quote.clone();
    let result = app
        .blocking(move |s| {
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
                "Setup fee: {}.{:02} {}; monthly fee: {}.{:02} {} including {} runs.",
                quote.setup_fee_cents / 100,
                quote.setup_fee_cents % 100,
                quote.currency,
                quote.monthly_fee_cents / 100,
                quote.monthly_fee_cents % 100,
                quote.currency,
                quote.included_runs
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
) -> Result<Vec<HistoryEntry>, ApiError> {
    app.blocking(move |s| s.tenant(tenant)?.history(id, n))
        .await
}

/// Flow 32: a person moves a task; only the task's side may (clients on the workspace host, ops
/// on the ops host).
pub async fn set_task_status(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    side: TaskAssignee,
    id: TaskId,
    status: TaskStatus,
) -> Result<Task, ApiError> {
    let c = caller.clone();
    let task = app.blocking(move |s| s.tenant(tenant)?.task(id)).await?;
    if task.assignee != side {
        return Err(ApiError::Forbidden(format!(
            "this task is assigned to {}; only they can update it",
            task.assignee.as_str()
        )));
    }
    let task = app
        .blocking(move |s| {
            s.tenant(tenant)?
                .set_task_status(id, status, &c.audit, &c.request)
        })
        .await?;
    bus().publish(Event {
        tenant_id: tenant,
        kind: "task.updated",
        data: json!({"id": task.id, "status": task.status}),
    });
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrk_plugins::PluginRef;
    use wrk_plugins::sdk::pricing::LineItem as PluginLine;

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
                        recurrence: Recurrence::OneTime,
                    },
                    PluginLine {
                        code: "platform".into(),
                        description: "Platform".into(),
                        quantity: 1,
                        unit_cents: 100,
                        amount_cents: 100,
                        recurrence: Recurrence::Monthly,
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
        assert!(new_quote(&input(), &answer(501)).is_err());
    }
}
