//! Versions: requirements, the blueprint (optimistic concurrency on `revision`), transitions
//! through core's state machine, and status history. A transition's side effects are not here:
//! [`apply_transition`] hands them to [`super::effects`].

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use wrk_core::automation::{check_editable, check_new_version};
use wrk_core::blueprint;
use wrk_core::ids::AutomationId;
use wrk_core::machine::{
    Actor, ActorKind, GuardInputs, Transition, VersionStatus, create_version, transition,
};

use super::effects::{self, AfterCommit};
use super::tasks;
use super::{
    ChecklistEntry, StoredIssue, audit, id_col, json_col, json_list, load_automation, now,
    status_col, time_col, writable_automation,
};
use crate::audit::{AuditActor, RequestMeta};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;
use crate::{live_events, threads};

/// One automation version as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    pub automation_id: AutomationId,
    pub number: u32,
    pub status: VersionStatus,
    pub requirements: String,
    /// `null` until first saved.
    pub blueprint: Value,
    pub revision: i64,
    pub issues: Vec<StoredIssue>,
    pub checklist: Vec<ChecklistEntry>,
    pub blocked_from: Option<VersionStatus>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Version {
    /// The entity id audit rows use for a version: `<automation id>:<number>`.
    pub fn entity_id(&self) -> String {
        version_entity(self.automation_id, self.number)
    }

    pub fn validation_error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }
}

pub fn version_entity(automation: AutomationId, number: u32) -> String {
    format!("{automation}:{number}")
}

/// One row of a version's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub from: Option<VersionStatus>,
    pub to: VersionStatus,
    pub actor: HistoryActor,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryActor {
    /// `client`, `ops` or `system`.
    pub kind: String,
    pub id: Option<String>,
}

/// Which version a request names: a number or `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRef {
    Number(u32),
    Latest,
}

const VERSION_COLS: &str = "automation_id, number, status, requirements, blueprint, revision,
    issues, checklist, blocked_from, created_at, updated_at";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    let blocked: Option<String> = r.get(8)?;
    Ok(Version {
        automation_id: id_col(&r.get::<_, String>(0)?)?,
        number: r.get(1)?,
        status: status_col(&r.get::<_, String>(2)?)?,
        requirements: r.get(3)?,
        blueprint: json_col(r.get(4)?)?,
        revision: r.get(5)?,
        issues: json_list(&r.get::<_, String>(6)?)?,
        checklist: json_list(&r.get::<_, String>(7)?)?,
        blocked_from: blocked.as_deref().map(status_col).transpose()?,
        created_at: time_col(&r.get::<_, String>(9)?)?,
        updated_at: time_col(&r.get::<_, String>(10)?)?,
    })
}

pub(crate) fn resolve(c: &Connection, id: AutomationId, n: VersionRef) -> StoreResult<u32> {
    match n {
        VersionRef::Number(n) => Ok(n),
        VersionRef::Latest => c
            .query_row(
                "SELECT max(number) FROM versions WHERE automation_id = ?1",
                [id.to_string()],
                |r| r.get::<_, Option<u32>>(0),
            )?
            .ok_or(StoreError::NotFound(Entity::Automation)),
    }
}

pub(crate) fn load_version(
    c: &Connection,
    id: AutomationId,
    n: VersionRef,
) -> StoreResult<Version> {
    // The automation first, so an unknown automation and an unknown version read the same.
    load_automation(c, id)?;
    let number = resolve(c, id, n)?;
    c.query_row(
        &format!("SELECT {VERSION_COLS} FROM versions WHERE automation_id = ?1 AND number = ?2"),
        params![id.to_string(), number],
        version_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound(Entity::Version))
}

fn history_kind(actor: &Actor) -> &'static str {
    match actor.kind() {
        ActorKind::Client => "client",
        ActorKind::Ops => "ops",
        ActorKind::System => "system",
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_history(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    from: Option<VersionStatus>,
    to: VersionStatus,
    actor: &Actor,
    audit_actor: &AuditActor,
    reason: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO status_history (id, automation_id, version, from_status, to_status,
                                     actor_kind, actor_id, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            uuid::Uuid::now_v7().to_string(),
            id.to_string(),
            number,
            from.map(VersionStatus::as_str),
            to.as_str(),
            history_kind(actor),
            audit_actor.id,
            reason,
            now()
        ],
    )?;
    if let Some(from) = from {
        live_events::record(
            tx,
            "version.status_changed",
            json!({"automation_id": id, "version": number, "from": from, "to": to}),
            None,
        )?;
        let mut body = format!(
            "Version {number} moved from **{}** to **{}**.",
            from.label(),
            to.label()
        );
        if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
            body.push_str("\n\nReason: ");
            body.push_str(reason);
        }
        threads::insert_message(
            tx,
            id,
            &threads::Author::system(),
            &body,
            &AuditActor::system(),
            &RequestMeta::default(),
        )?;
    }
    Ok(())
}

/// Inserts a version with its creation history row and audit row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_version(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    status: VersionStatus,
    (requirements, bp): (&str, Value),
    actor: &Actor,
    audit_actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<Version> {
    insert_version_with(
        tx,
        id,
        number,
        status,
        (requirements, bp, &[], &[]),
        actor,
        audit_actor,
        request,
    )
}

#[allow(clippy::too_many_arguments)]
fn insert_version_with(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    status: VersionStatus,
    (requirements, bp, issues, checklist): (&str, Value, &[StoredIssue], &[ChecklistEntry]),
    actor: &Actor,
    audit_actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<Version> {
    let at = now();
    tx.execute(
        "INSERT INTO versions (automation_id, number, status, requirements, blueprint, revision,
                               issues, checklist, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?8)",
        params![
            id.to_string(),
            number,
            status.as_str(),
            requirements,
            (!bp.is_null()).then(|| bp.to_string()),
            serde_json::to_string(issues).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(checklist).unwrap_or_else(|_| "[]".into()),
            at
        ],
    )?;
    insert_history(tx, id, number, None, status, actor, audit_actor, None)?;
    audit(
        tx,
        audit_actor,
        request,
        "version.created",
        ("version", version_entity(id, number)),
        None,
        Some(json!({"number": number, "status": status, "blueprint": bp})),
    )?;
    load_version(tx, id, VersionRef::Number(number))
}

/// A version's current quote status (its project's newest revision), if it has a quote.
pub(crate) fn quote_status(
    c: &Connection,
    id: AutomationId,
    number: u32,
) -> StoreResult<Option<String>> {
    Ok(c.query_row(
        "SELECT status FROM quotes WHERE automation_id = ?1 AND version = ?2
         ORDER BY revision DESC LIMIT 1",
        params![id.to_string(), number],
        |r| r.get(0),
    )
    .optional()?)
}

/// The facts core's guards are checked against, read inside the transition's transaction.
///
/// - Credentials (flows 24-26, [`crate::credentials::guard_facts`]): every system the blueprint
///   names needs an `active` credential to go live; none may be `failed` to resume; a blocked
///   version's cause is cleared once none of its credential blocks is open (a block ops made by
///   hand has none, so ops decide when it is over).
/// - Billing (flow 16): a payment method is on file when the workspace has an `active` one; the
///   setup fee is paid when the current quote's setup-fee charge `succeeded` or was `invoiced`
///   (invoice terms, see [`super::signing`]), or the fee is zero.
pub(crate) fn guard_inputs(
    c: &Connection,
    v: &Version,
    reason: Option<&str>,
) -> StoreResult<GuardInputs> {
    let quote = quote_status(c, v.automation_id, v.number)?;
    let (inactive, failed, open_blocks) = crate::credentials::guard_facts(c, v)?;
    let open_qa: usize = c.query_row(
        "SELECT count(*) FROM tasks WHERE automation_id = ?1 AND version = ?2 AND kind = 'qa'
           AND assignee = 'ops' AND status <> 'done'",
        params![v.automation_id.to_string(), v.number],
        |r| r.get(0),
    )?;
    Ok(GuardInputs {
        requirements_or_blueprint_present: !v.requirements.trim().is_empty()
            || blueprint::is_present(&v.blueprint),
        validation_error_count: v.validation_error_count(),
        quote_sent: quote.as_deref() == Some("sent"),
        quote_signed: quote.as_deref() == Some("signed"),
        payment_method_on_file: super::signing::payment_method_on_file(c)?,
        setup_fee_paid: super::signing::setup_fee_settled(c, v.automation_id, v.number)?,
        quote_rejected: quote.as_deref() == Some("rejected"),
        open_qa_task_count: open_qa,
        reason: reason.map(str::to_owned),
        inactive_required_credential_count: inactive,
        failed_credential_count: failed,
        block_cause_cleared: open_blocks == 0,
    })
}

/// A transition applied: the version after it, what core decided, and what the host must run
/// once the transaction committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub version: Version,
    pub transition: Transition,
    pub after_commit: Vec<AfterCommit>,
}

/// Who asks for a transition, and why.
#[derive(Debug, Clone)]
pub struct TransitionRequest<'a> {
    pub to: VersionStatus,
    pub reason: Option<&'a str>,
    pub actor: &'a Actor,
    pub audit_actor: &'a AuditActor,
    pub request: &'a RequestMeta,
    /// Who gets an in-app notification when the move names `NotifyClient` (blocking a version,
    /// flow 26): the workspace's members, which only the caller can read (`control.db`).
    pub notify: &'a [wrk_core::ids::UserId],
}

/// Applies `to` to version `number` inside `tx`: loads the version and gathers the guard facts,
/// asks core, writes the status (spending any `blocked_from`), the history row and the audit row,
/// then performs the side effects core named through [`effects::apply`]. A refusal by core is
/// [`StoreError::Transition`], with nothing written.
pub(crate) fn apply_transition(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    req: &TransitionRequest<'_>,
) -> StoreResult<Applied> {
    // No read-only check here: an archived version can make no move at all, so the machine
    // itself answers `invalid_transition` (with the empty `allowed` list).
    let before = load_version(tx, id, VersionRef::Number(number))?;
    let reason = req.reason.map(str::trim).filter(|r| !r.is_empty());
    let guards = guard_inputs(tx, &before, reason)?;
    let t = transition(
        before.status,
        before.blocked_from,
        req.to,
        req.actor,
        &guards,
    )?;
    tx.execute(
        "UPDATE versions SET status = ?3, blocked_from = NULL, updated_at = ?4
         WHERE automation_id = ?1 AND number = ?2",
        params![id.to_string(), number, t.to.as_str(), now()],
    )?;
    insert_history(
        tx,
        id,
        number,
        Some(t.from),
        t.to,
        req.actor,
        req.audit_actor,
        reason,
    )?;
    audit(
        tx,
        req.audit_actor,
        req.request,
        "version.transitioned",
        ("version", version_entity(id, number)),
        Some(json!({"status": t.from, "blocked_from": before.blocked_from})),
        Some(
            json!({"status": t.to, "blocked_from": t.blocked_from, "reason": reason,
                    "effects": t.effects.iter().map(|e| e.code()).collect::<Vec<_>>()}),
        ),
    )?;
    let after_commit = effects::apply(tx, &t, &before, req)?;
    Ok(Applied {
        version: load_version(tx, id, VersionRef::Number(number))?,
        transition: t,
        after_commit,
    })
}

/// The outcome of validating a blueprint, as the host got it from the validation plugin.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    pub issues: Vec<StoredIssue>,
    pub checklist: Vec<ChecklistEntry>,
}

fn store_validation(
    tx: &Transaction<'_>,
    v: &Version,
    validation: &Validation,
    request: &RequestMeta,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE versions SET issues = ?3, checklist = ?4 WHERE automation_id = ?1 AND number = ?2",
        params![
            v.automation_id.to_string(),
            v.number,
            serde_json::to_string(&validation.issues).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&validation.checklist).unwrap_or_else(|_| "[]".into()),
        ],
    )?;
    tasks::sync_validation(tx, v.automation_id, v.number, &validation.issues, request)
}

impl TenantStore {
    pub fn version(&self, id: AutomationId, n: VersionRef) -> StoreResult<Version> {
        self.db().read(|c| load_version(c, id, n))
    }

    /// Every version of an automation, newest first.
    pub fn versions(&self, id: AutomationId) -> StoreResult<Vec<Version>> {
        self.db().read(|c| {
            load_automation(c, id)?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {VERSION_COLS} FROM versions WHERE automation_id = ?1 ORDER BY number DESC"
            ))?;
            let rows = stmt.query_map([id.to_string()], version_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Flow 12: a new version, allowed only when the newest non-archived version is `live` or
    /// `paused`; it copies that version's blueprint (and its validation) and starts in intake.
    pub fn create_next_version(
        &self,
        id: AutomationId,
        actor: &Actor,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Version> {
        let status = create_version(actor)?;
        self.db().write(|tx| {
            writable_automation(tx, id)?;
            let current = tx.query_row(
                &format!(
                    "SELECT {VERSION_COLS} FROM versions WHERE automation_id = ?1
                     AND status <> 'archived' ORDER BY number DESC LIMIT 1"
                ),
                [id.to_string()],
                version_row,
            )?;
            check_new_version(current.number, current.status)?;
            let number = resolve(tx, id, VersionRef::Latest)? + 1;
            insert_version_with(
                tx,
                id,
                number,
                status,
                (
                    "",
                    current.blueprint.clone(),
                    &current.issues,
                    &current.checklist,
                ),
                actor,
                audit_actor,
                request,
            )
        })
    }

    /// Replaces the free-text requirements and, when the blueprint was not changed meanwhile
    /// (`validated_revision`), stores the validation re-run with the new text.
    #[allow(clippy::too_many_arguments)]
    pub fn set_requirements(
        &self,
        id: AutomationId,
        n: VersionRef,
        text: &str,
        validated_revision: i64,
        validation: &Validation,
        actor: &Actor,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Version> {
        self.db().write(|tx| {
            writable_automation(tx, id)?;
            let v = load_version(tx, id, n)?;
            check_editable(v.number, v.status, actor)?;
            if v.requirements != text {
                tx.execute(
                    "UPDATE versions SET requirements = ?3, updated_at = ?4
                     WHERE automation_id = ?1 AND number = ?2",
                    params![id.to_string(), v.number, text, now()],
                )?;
                audit(
                    tx,
                    audit_actor,
                    request,
                    "version.requirements_updated",
                    ("version", v.entity_id()),
                    Some(json!({"requirements": v.requirements})),
                    Some(json!({"requirements": text})),
                )?;
            }
            if v.revision == validated_revision {
                store_validation(tx, &v, validation, request)?;
            }
            load_version(tx, id, VersionRef::Number(v.number))
        })
    }

    /// Flow 10: stores a new blueprint if `revision` is still the stored one (else
    /// `Stale`), bumps the revision, stores the validation issues and syncs their tasks — one
    /// transaction. The compare-and-set is the `UPDATE … WHERE revision = ?` itself, so of two
    /// concurrent updates from the same revision exactly one wins.
    #[allow(clippy::too_many_arguments)]
    pub fn update_blueprint(
        &self,
        id: AutomationId,
        n: VersionRef,
        bp: &Value,
        revision: i64,
        validation: &Validation,
        actor: &Actor,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Version> {
        self.db().write(|tx| {
            writable_automation(tx, id)?;
            let v = load_version(tx, id, n)?;
            check_editable(v.number, v.status, actor)?;
            let changed = tx.execute(
                "UPDATE versions SET blueprint = ?4, revision = revision + 1, updated_at = ?5
                 WHERE automation_id = ?1 AND number = ?2 AND revision = ?3",
                params![id.to_string(), v.number, revision, bp.to_string(), now()],
            )?;
            if changed == 0 {
                return Err(StoreError::Stale {
                    current: v.revision,
                });
            }
            audit(
                tx,
                audit_actor,
                request,
                "version.blueprint_updated",
                ("version", v.entity_id()),
                Some(json!({"revision": v.revision, "blueprint": v.blueprint})),
                Some(json!({"revision": v.revision + 1, "blueprint": bp,
                            "validation_errors": validation.issues.iter().filter(|i| i.is_error()).count()})),
            )?;
            store_validation(tx, &v, validation, request)?;
            load_version(tx, id, VersionRef::Number(v.number))
        })
    }

    /// Flows 11, 13, 35: one transition through core's `transition`, in one transaction.
    pub fn transition_version(
        &self,
        id: AutomationId,
        n: VersionRef,
        req: &TransitionRequest<'_>,
    ) -> StoreResult<Applied> {
        self.db().write(|tx| {
            let number = resolve(tx, id, n)?;
            apply_transition(tx, id, number, req)
        })
    }

    /// A version's status history, oldest first.
    pub fn history(&self, id: AutomationId, n: VersionRef) -> StoreResult<Vec<HistoryEntry>> {
        self.db().read(|c| {
            let v = load_version(c, id, n)?;
            let mut stmt = c.prepare_cached(
                "SELECT from_status, to_status, actor_kind, actor_id, reason, at
                 FROM status_history WHERE automation_id = ?1 AND version = ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![id.to_string(), v.number], |r| {
                let from: Option<String> = r.get(0)?;
                Ok(HistoryEntry {
                    from: from.as_deref().map(status_col).transpose()?,
                    to: status_col(&r.get::<_, String>(1)?)?,
                    actor: HistoryActor {
                        kind: r.get(2)?,
                        id: r.get(3)?,
                    },
                    reason: r.get(4)?,
                    at: time_col(&r.get::<_, String>(5)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use wrk_core::automation::WriteRefused;
    use wrk_core::machine::{SideEffect, TransitionError};
    use wrk_core::tasks::{Assignee, TaskKind};

    fn issue(code: &str, severity: &str, path: &str, task: Option<(&str, &str)>) -> StoredIssue {
        StoredIssue {
            code: code.into(),
            severity: wrk_core::validation::Severity::parse(severity).unwrap(),
            message: format!("{code} at {path}"),
            path: Some(path.into()),
            task: task.map(|(t, a)| super::super::IssueTask {
                title: t.into(),
                assignee: Assignee::parse(a).unwrap(),
            }),
        }
    }

    fn setup() -> (tempfile::TempDir, std::sync::Arc<TenantStore>, AutomationId) {
        let (d, s) = store();
        let a = automation(&s, "A");
        (d, s, a.id)
    }

    fn transition(
        s: &TenantStore,
        id: AutomationId,
        status: VersionStatus,
        actor: &Actor,
        reason: Option<&str>,
    ) -> StoreResult<Applied> {
        s.transition_version(
            id,
            VersionRef::Latest,
            &TransitionRequest {
                to: status,
                reason,
                actor,
                audit_actor: &who(),
                request: &req(),
                notify: &[],
            },
        )
    }

    /// [`transition`], for tests where only core may refuse.
    fn to(
        s: &TenantStore,
        id: AutomationId,
        status: VersionStatus,
        actor: &Actor,
        reason: Option<&str>,
    ) -> Result<Applied, TransitionError> {
        match transition(s, id, status, actor, reason) {
            Ok(applied) => Ok(applied),
            Err(StoreError::Transition(refused)) => Err(refused),
            Err(other) => panic!("not a refusal by core: {other}"),
        }
    }

    #[test]
    fn a_stale_revision_is_refused_and_the_winner_is_kept() {
        let (_d, s, id) = setup();
        let one = json!({"steps": [1]});
        let v = save_blueprint(&s, id, &one, 0, &Validation::default()).unwrap();
        assert_eq!(v.revision, 1);
        let err =
            save_blueprint(&s, id, &json!({"steps": [2]}), 0, &Validation::default()).unwrap_err();
        assert!(matches!(err, StoreError::Stale { current: 1 }));
        assert_eq!(s.version(id, VersionRef::Latest).unwrap().blueprint, one);
    }

    #[test]
    fn guards_read_the_stored_validation_errors() {
        let (_d, s, id) = setup();
        let validation = Validation {
            issues: vec![issue(
                "missing_trigger",
                "error",
                "/trigger",
                Some(("Describe", "client")),
            )],
            checklist: vec![],
        };
        save_blueprint(&s, id, &json!({"steps": []}), 0, &validation).unwrap();
        let err = to(&s, id, VersionStatus::NeedsPricing, &owner(), None).unwrap_err();
        assert_eq!(err.code(), "guard_failed");
        let ok = save_blueprint(&s, id, &json!({"steps": [1]}), 1, &Validation::default()).unwrap();
        assert_eq!(ok.issues, vec![]);
        let applied = to(&s, id, VersionStatus::NeedsPricing, &owner(), None).unwrap();
        assert_eq!(applied.version.status, VersionStatus::NeedsPricing);
        assert_eq!(
            applied.transition.effects,
            vec![SideEffect::CreateProjectAndQuote]
        );
        assert_eq!(applied.after_commit, vec![AfterCommit::PriceQuote]);
        let history = s.history(id, VersionRef::Latest).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].from, Some(VersionStatus::IntakeInProgress));
    }

    #[test]
    fn corrupt_stored_issues_refuse_the_transition_with_an_error_instead_of_passing_the_guard() {
        let (_d, s, id) = setup();
        s.db()
            .write(|tx| {
                tx.execute(
                    "UPDATE versions SET blueprint = '{\"steps\": [1]}',
                                         issues = '[{\"code\": \"missing_trig'
                     WHERE automation_id = ?1",
                    [id.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        let refused = transition(&s, id, VersionStatus::NeedsPricing, &owner(), None);
        assert!(
            matches!(
                refused,
                Err(StoreError::Sqlite(
                    rusqlite::Error::FromSqlConversionFailure(..)
                ))
            ),
            "{refused:?}"
        );
        let (status, moves): (String, u32) = s
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT status, (SELECT count(*) FROM status_history) FROM versions",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert_eq!((status.as_str(), moves), ("intake_in_progress", 1));
    }

    #[test]
    fn the_blueprint_is_read_only_for_clients_after_intake() {
        let (_d, s) = store();
        let id = automation_with_blueprint(&s, &json!({"a": 1}), &Validation::default()).id;
        to(&s, id, VersionStatus::NeedsPricing, &owner(), None).unwrap();
        let err = save_blueprint(&s, id, &json!({"a": 2}), 1, &Validation::default()).unwrap_err();
        assert!(matches!(
            err,
            StoreError::WriteRefused(WriteRefused::NotEditable {
                number: 1,
                status: VersionStatus::NeedsPricing
            })
        ));
        s.update_blueprint(
            id,
            VersionRef::Latest,
            &json!({"a": 2}),
            1,
            &Validation::default(),
            &ops(),
            &who(),
            &req(),
        )
        .unwrap();
    }

    #[test]
    fn archiving_makes_the_automation_read_only() {
        let (_d, s, id) = setup();
        assert_eq!(
            to(&s, id, VersionStatus::Archived, &member(), None)
                .unwrap_err()
                .code(),
            "transition_not_permitted"
        );
        to(&s, id, VersionStatus::Archived, &owner(), None).unwrap();
        assert_eq!(s.automation(id).unwrap().status, VersionStatus::Archived);
        assert!(matches!(
            s.update_automation(id, Some("B"), None, &who(), &req()),
            Err(StoreError::WriteRefused(WriteRefused::ReadOnly))
        ));
        assert!(matches!(
            s.create_next_version(id, &owner(), &who(), &req()),
            Err(StoreError::WriteRefused(WriteRefused::ReadOnly))
        ));
    }

    /// Puts version `n` in `status` directly (statuses reachable only through later flows).
    fn force(s: &TenantStore, id: AutomationId, n: u32, status: VersionStatus) {
        s.db()
            .write(|tx| {
                tx.execute(
                    "UPDATE versions SET status = ?3 WHERE automation_id = ?1 AND number = ?2",
                    params![id.to_string(), n, status.as_str()],
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn deploying_a_new_version_archives_the_previous_live_one() {
        let (_d, s) = store();
        let id = automation_with_blueprint(&s, &json!({"a": 1}), &Validation::default()).id;
        force(&s, id, 1, VersionStatus::Live);
        let v2 = s.create_next_version(id, &owner(), &who(), &req()).unwrap();
        assert_eq!((v2.number, v2.status), (2, VersionStatus::IntakeInProgress));
        assert_eq!(v2.blueprint, json!({"a": 1}));
        assert_eq!(s.automation(id).unwrap().live_version, Some(1));
        assert!(matches!(
            s.create_next_version(id, &owner(), &who(), &req()),
            Err(StoreError::WriteRefused(WriteRefused::InFlight {
                number: 2,
                ..
            }))
        ));
        force(&s, id, 2, VersionStatus::ReadyToLaunch);
        let applied = to(&s, id, VersionStatus::Live, &ops(), None).unwrap();
        assert_eq!(applied.version.status, VersionStatus::Live);
        assert_eq!(
            s.version(id, VersionRef::Number(1)).unwrap().status,
            VersionStatus::Archived
        );
        assert_eq!(s.automation(id).unwrap().live_version, Some(2));
        let h1 = s.history(id, VersionRef::Number(1)).unwrap();
        assert_eq!(h1.last().unwrap().to, VersionStatus::Archived);
        assert_eq!(h1.last().unwrap().actor.kind, "system");
    }

    #[test]
    fn a_missing_credential_keeps_a_version_from_going_live() {
        let (_d, s, id) = setup();
        let validation = Validation {
            issues: vec![issue(
                "credentials_missing",
                "warning",
                "/systems",
                Some(("Provide credentials for X", "client")),
            )],
            checklist: vec![],
        };
        save_blueprint(&s, id, &json!({"systems": [{"name": "X"}]}), 0, &validation).unwrap();
        force(&s, id, 1, VersionStatus::ReadyToLaunch);
        let err = to(&s, id, VersionStatus::Live, &ops(), None).unwrap_err();
        assert_eq!(
            err,
            TransitionError::GuardFailed(vec![wrk_core::machine::Guard::CredentialsActive])
        );
    }

    #[test]
    fn a_blocked_version_remembers_and_returns_to_where_it_was() {
        let (_d, s, id) = setup();
        force(&s, id, 1, VersionStatus::BuildInProgress);
        assert_eq!(
            to(&s, id, VersionStatus::Blocked, &ops(), None)
                .unwrap_err()
                .code(),
            "guard_failed"
        );
        let blocked = to(
            &s,
            id,
            VersionStatus::Blocked,
            &ops(),
            Some("credential failed"),
        )
        .unwrap();
        assert_eq!(
            blocked.version.blocked_from,
            Some(VersionStatus::BuildInProgress)
        );
        let back = to(&s, id, VersionStatus::BuildInProgress, &ops(), None).unwrap();
        assert_eq!(
            (back.version.status, back.version.blocked_from),
            (VersionStatus::BuildInProgress, None)
        );
        let history = s.history(id, VersionRef::Latest).unwrap();
        assert_eq!(history[1].reason.as_deref(), Some("credential failed"));
    }

    #[test]
    fn requesting_a_build_opens_the_checklist_and_qa_tasks_gate_the_launch() {
        let (_d, s, id) = setup();
        let validation = Validation {
            issues: vec![],
            checklist: vec![
                ChecklistEntry {
                    code: "build_step_read".into(),
                    title: "Build read".into(),
                    assignee: Assignee::Ops,
                },
                ChecklistEntry {
                    code: "test_end_to_end".into(),
                    title: "Test it".into(),
                    assignee: Assignee::Ops,
                },
            ],
        };
        save_blueprint(&s, id, &json!({"a": 1}), 0, &validation).unwrap();
        force(&s, id, 1, VersionStatus::ReadyToBuild);
        to(&s, id, VersionStatus::BuildInProgress, &owner(), None).unwrap();
        let open = s
            .tasks(&tasks::TaskFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(open.len(), 2);
        assert_eq!(
            to(&s, id, VersionStatus::QaTesting, &owner(), None)
                .unwrap_err()
                .code(),
            "transition_not_permitted"
        );
        to(&s, id, VersionStatus::QaTesting, &ops(), None).unwrap();
        let err = to(&s, id, VersionStatus::ReadyToLaunch, &ops(), None).unwrap_err();
        assert_eq!(
            err,
            TransitionError::GuardFailed(vec![wrk_core::machine::Guard::NoOpenQaTasks])
        );
        let qa = open.iter().find(|t| t.kind == TaskKind::Qa).unwrap();
        s.set_task_status(qa.id, tasks::TaskStatus::Done, &who(), &req())
            .unwrap();
        to(&s, id, VersionStatus::ReadyToLaunch, &ops(), None).unwrap();
    }

    #[test]
    fn a_new_version_needs_the_newest_to_be_live_or_paused() {
        let (_d, s, id) = setup();
        assert!(matches!(
            s.create_next_version(id, &owner(), &who(), &req()),
            Err(StoreError::WriteRefused(WriteRefused::InFlight {
                number: 1,
                status: VersionStatus::IntakeInProgress
            }))
        ));
    }
}
