//! The storage side of every transition's side effects: one `match` in [`perform`].
//!
//! Core decides which [`SideEffect`]s a move has (its table, `wrk_core::machine::RULES`, is
//! PRODUCT.md's state machine row by row). [`super::versions::apply_transition`] loads the
//! version, asks core, writes the status, the history row and the audit row, and then calls
//! [`apply`] in the same transaction; nothing else in this crate performs a side effect.
//!
//! The match is on the `SideEffect`, not on the (from, to) pair: core's table already maps each
//! move to its effects, so a second map here could drift from it, and a match on the effect is
//! exhaustive, so a new effect in core does not compile until it has its arm here. Every arm says
//! what it did ([`Done`]): written in this transaction, left to the host for after the commit
//! ([`AfterCommit`]), or not built yet, naming the flow that builds it (nothing is faked). No arm
//! is empty.
//!
//! Reading every side effect of a move, e.g. `ready_to_launch → live`: its row in core's table
//! names `RecordDeployment`, `ArchivePreviousLive` and `NotifyPlatform(Deploy)`; their arms here
//! are the storage side; the host's `services::automations::after_commit` is the rest (the
//! status event, and the [`AfterCommit`] work).
//!
//! **Recipe: adding a side effect for a new transition** = name it in the rule's `effects` in
//! core's table (a new [`SideEffect`] variant if it is a new kind of work), then one match arm
//! here for what is written in the transaction, and/or one arm in the host's `after_commit` for
//! what runs after it (emails, events, plugin calls), reached through an [`AfterCommit`] variant.
//!
//! [`quote_sent`] is the storage side of flow 11's second step: the host priced the version
//! after [`AfterCommit::PriceQuote`], and `record_quote` stored the quote; the move on to
//! `awaiting_client_approval` and what comes with it happen here, in that same transaction.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use wrk_core::ids::{AutomationId, PlatformEventId};
use wrk_core::machine::{Actor, OpsTaskKind, SideEffect, Transition, VersionStatus};

use super::quotes::{Quote, announce_quote, ready_message};
use super::tasks::{self, NewTask};
use super::versions::{
    Applied, TransitionRequest, Version, apply_transition, insert_history, version_entity,
};
use super::{Automation, audit, load_automation, now, status_col};
use crate::audit::{AuditActor, RequestMeta};
use crate::error::StoreResult;
use crate::notifications::{NewNotification, insert_for_each};
use wrk_core::notifications::NotificationKind;
use wrk_core::tasks::{Assignee, TaskKind};

/// Work a side effect leaves to the host, to run once the transition's transaction committed
/// (a plugin call never runs inside a transaction; the email outbox is another database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCommit {
    /// Flow 11 (and a scope change from QA): run the pricing plugin on the version, then store
    /// its quote with `record_quote` (which ends in [`quote_sent`]), or open "price manually".
    PriceQuote,
    /// Flows 24, 24A, 24B: the event was stored in the transaction and its delivery job
    /// enqueued with it (`wrk_tenants::platform_events`); the host wakes the job workers.
    DeliverPlatformEvent(PlatformEventId),
    /// Flow 26: the in-app notifications were written in the transaction; the host emails the
    /// workspace's people (the outbox is in `control.db`).
    EmailClient,
}

/// What the storage did with one side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    /// Written in the transition's transaction.
    Stored,
    /// Left to the host, after the commit.
    AfterCommit(AfterCommit),
    /// Not built yet, on purpose: names the flow that builds it. Nothing is faked meanwhile.
    NotBuilt(&'static str),
}

/// Performs `t`'s side effects on version `before` (as it was before the move), in order, and
/// returns what is left for the host after the commit.
pub(crate) fn apply(
    tx: &Transaction<'_>,
    t: &Transition,
    before: &Version,
    req: &TransitionRequest<'_>,
) -> StoreResult<Vec<AfterCommit>> {
    let mut after = Vec::new();
    for &effect in &t.effects {
        let done = perform(tx, effect, t, before, req)?;
        if let Done::AfterCommit(work) = done {
            after.push(work);
        } else if let Done::NotBuilt(flow) = done {
            tracing::debug!(effect = %effect.code(), flow, "side effect not built yet");
        }
    }
    Ok(after)
}

/// The one match: what each side effect writes.
fn perform(
    tx: &Transaction<'_>,
    effect: SideEffect,
    t: &Transition,
    before: &Version,
    req: &TransitionRequest<'_>,
) -> StoreResult<Done> {
    let (id, number) = (before.automation_id, before.number);
    Ok(match effect {
        // The pricing plugin runs outside any transaction; the project is made with the quote.
        SideEffect::CreateProjectAndQuote | SideEffect::RegenerateQuote => {
            Done::AfterCommit(AfterCommit::PriceQuote)
        }
        SideEffect::CreateSubscription => {
            super::signing::create_subscription(tx, id, number, req.request)?;
            Done::Stored
        }
        SideEffect::CreateOpsTask(OpsTaskKind::ReviseQuote) => {
            let quote: Option<String> = tx
                .query_row(
                    "SELECT id FROM quotes WHERE automation_id = ?1 AND version = ?2
                     ORDER BY revision DESC LIMIT 1",
                    params![id.to_string(), number],
                    |r| r.get(0),
                )
                .optional()?;
            tasks::ensure(
                tx,
                &NewTask {
                    automation_id: id,
                    version: Some(number),
                    key: format!(
                        "quote:revise:{}",
                        quote.unwrap_or_else(|| number.to_string())
                    ),
                    kind: OpsTaskKind::ReviseQuote.task_kind(),
                    title: "Revise the rejected quote",
                    assignee: Assignee::Ops,
                },
                req.request,
            )?;
            Done::Stored
        }
        SideEffect::CreateOpsTask(OpsTaskKind::PriceManually) => {
            tasks::ensure(tx, &tasks::price_manually(id, number), req.request)?;
            Done::Stored
        }
        SideEffect::CreateBuildChecklistTasks => {
            for item in &before.checklist {
                let qa = item.code.starts_with("test_");
                tasks::ensure(
                    tx,
                    &NewTask {
                        automation_id: id,
                        version: Some(number),
                        key: format!("checklist:{number}:{}", item.code),
                        kind: if qa { TaskKind::Qa } else { TaskKind::Build },
                        title: &item.title,
                        assignee: item.assignee,
                    },
                    req.request,
                )?;
            }
            Done::Stored
        }
        SideEffect::RecordDeployment => Done::NotBuilt("the deployments table, flow 24"),
        SideEffect::ArchivePreviousLive => {
            archive_previous_live(tx, id, number, req.request)?;
            Done::Stored
        }
        SideEffect::NotifyPlatform(notice) => {
            let event = crate::platform_events::record(tx, notice, (id, number, t.to), req.reason)?;
            Done::AfterCommit(AfterCommit::DeliverPlatformEvent(event))
        }
        SideEffect::RememberBlockedFrom => {
            // `apply_transition` cleared the memory with the status; entering `blocked` stores
            // where the version was, so leaving it can go back there.
            tx.execute(
                "UPDATE versions SET blocked_from = ?3 WHERE automation_id = ?1 AND number = ?2",
                params![
                    id.to_string(),
                    number,
                    t.blocked_from.map(VersionStatus::as_str)
                ],
            )?;
            Done::Stored
        }
        SideEffect::NotifyClient => {
            notify_blocked(tx, before, req)?;
            Done::AfterCommit(AfterCommit::EmailClient)
        }
        SideEffect::MakeReadOnly => {
            // Nothing about the version changes any more: the causes of its open tasks are moot,
            // so the system closes them.
            tasks::close_version_tasks(tx, id, number, req.request)?;
            Done::Stored
        }
    })
}

/// Flow 26: each person the request names gets a `version_blocked` notification.
fn notify_blocked(
    tx: &Transaction<'_>,
    before: &Version,
    req: &TransitionRequest<'_>,
) -> StoreResult<()> {
    if req.notify.is_empty() {
        return Ok(());
    }
    let automation = load_automation(tx, before.automation_id)?;
    let title = format!("{} (version {}) is blocked", automation.name, before.number);
    let body = req.reason.unwrap_or_default();
    let link = format!("/app/automations/{}", before.automation_id);
    insert_for_each(
        tx,
        req.notify,
        &NewNotification {
            user_id: req.notify[0],
            kind: NotificationKind::VersionBlocked,
            title: &title,
            body,
            automation_id: Some(before.automation_id),
            link: Some(&link),
        },
    )?;
    Ok(())
}

/// Flow 24: the automation's previously deployed version (live or paused) goes to `archived`,
/// with its own history and audit rows, and its open tasks closed.
fn archive_previous_live(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    request: &RequestMeta,
) -> StoreResult<()> {
    let previous: Vec<(u32, String)> = {
        let mut stmt = tx.prepare(
            "SELECT number, status FROM versions
             WHERE automation_id = ?1 AND number <> ?2 AND status IN ('live', 'paused')",
        )?;
        stmt.query_map(params![id.to_string(), number], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let reason = format!("version {number} went live");
    for (n, status) in previous {
        tx.execute(
            "UPDATE versions SET status = 'archived', blocked_from = NULL, updated_at = ?3
             WHERE automation_id = ?1 AND number = ?2",
            params![id.to_string(), n, now()],
        )?;
        let from = status_col(&status)?;
        insert_history(
            tx,
            id,
            n,
            Some(from),
            VersionStatus::Archived,
            &Actor::System,
            &AuditActor::system(),
            Some(&reason),
        )?;
        audit(
            tx,
            &AuditActor::system(),
            request,
            "version.transitioned",
            ("version", version_entity(id, n)),
            Some(json!({"status": from})),
            Some(json!({"status": VersionStatus::Archived, "reason": reason})),
        )?;
        tasks::close_version_tasks(tx, id, n, request)?;
    }
    Ok(())
}

/// Flow 11's second step, in the transaction that stored `quote` as `sent`: the version moves to
/// `awaiting_client_approval` through core (actor system, guard `quote_sent`), the "price
/// manually" task's cause is gone, the thread gets a system message, and the client a "review the
/// quote" task. Returns the applied move and the automation as it is now.
pub(crate) fn quote_sent(
    tx: &Transaction<'_>,
    quote: &Quote,
    request: &RequestMeta,
) -> StoreResult<(Applied, Automation)> {
    let (id, number) = (quote.automation_id, quote.version);
    let system = AuditActor::system();
    let applied = apply_transition(
        tx,
        id,
        number,
        &TransitionRequest {
            to: VersionStatus::AwaitingClientApproval,
            reason: None,
            actor: &Actor::System,
            audit_actor: &system,
            request,
            notify: &[],
        },
    )?;
    let automation = load_automation(tx, id)?;
    tasks::close_key(tx, id, &format!("quote:price_manually:{number}"), request)?;
    announce_quote(tx, quote, &automation, &ready_message(quote), request)?;
    Ok((applied, automation))
}
