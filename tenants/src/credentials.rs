//! Credentials of one workspace (flows 25, 26): the reference to each secret, never the secret.
//!
//! A row holds the system, the kind, a masked hint, a status (`active | failed | revoked`) and
//! `secret_ref`, the name of the encrypted blob in the host's secrets manager. The host encrypts
//! the fields before it calls in here and deletes a replaced blob after the commit, so nothing in
//! this file ever sees a secret value.
//!
//! What a credential changes elsewhere happens here, in the same transaction:
//! - **Provided** (created, or rotated with new fields): the `credentials:<system>` tasks of every
//!   automation close (their cause is gone), the blocks its failure caused are released, and every
//!   version left with no block returns to its `blocked_from` through core's machine (actor
//!   system), with history and audit rows.
//! - **Failed** ([`record_failure`], what a `credential.failed` platform event carries): the
//!   credential becomes `failed`, every version that uses its system and can be blocked is
//!   blocked through the machine (its `NotifyClient` effect notifies the people the caller
//!   names), a client task asks for working credentials, and each person gets a
//!   `credential_failed` notification.
//!
//! The guards of the machine read the same rows ([`guard_facts`]): a version can go live only
//! when every system its blueprint names has an `active` credential, resume only when none is
//! `failed`, and leave `blocked` only when none of its credential blocks is open.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::blueprint;
use wrk_core::credentials::{CredentialKind, CredentialStatus, SystemName, system_key};
use wrk_core::ids::{AutomationId, CredentialId, UserId};
use wrk_core::machine::{Actor, BLOCKABLE, VersionStatus};
use wrk_core::notifications::NotificationKind;
use wrk_core::tasks::{Assignee, TaskKind};

use crate::audit::{AuditActor, RequestMeta};
use crate::automations::tasks::{self, NewTask};
use crate::automations::versions::{
    Applied, TransitionRequest, Version, VersionRef, apply_transition, load_version,
};
use crate::automations::{audit, conv, id_col, load_automation, now, time_col};
use crate::error::{Entity, StoreError, StoreResult};
use crate::notifications::{self, NewNotification};
use crate::tenant::TenantStore;

/// Longest platform error text kept with a failed credential (it is shown to people).
const MAX_ERROR: usize = 500;

/// A stored credential: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub id: CredentialId,
    pub system: String,
    pub kind: CredentialKind,
    pub hint: String,
    pub status: CredentialStatus,
    /// The secrets manager's name for the encrypted fields; `None` once revoked. Not a secret,
    /// but no business of an API client either: never serialized.
    #[serde(skip)]
    pub secret_ref: Option<String>,
    /// What the platform said when it reported the credential failing.
    pub last_error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Credential {
    pub fn system_key(&self) -> String {
        system_key(&self.system)
    }
}

const COLS: &str = "id, system, kind, hint, status, secret_ref, last_error, failed_at, \
                    created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Credential> {
    let failed_at: Option<String> = r.get(7)?;
    Ok(Credential {
        id: CredentialId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        system: r.get(1)?,
        kind: CredentialKind::parse(&r.get::<_, String>(2)?).map_err(conv)?,
        hint: r.get(3)?,
        status: CredentialStatus::parse(&r.get::<_, String>(4)?).map_err(conv)?,
        secret_ref: r.get(5)?,
        last_error: r.get(6)?,
        failed_at: failed_at.as_deref().map(time_col).transpose()?,
        created_at: time_col(&r.get::<_, String>(8)?)?,
        updated_at: time_col(&r.get::<_, String>(9)?)?,
    })
}

/// A credential that is not revoked (revoked ones are history, not something to act on).
fn load(c: &Connection, id: CredentialId) -> StoreResult<Credential> {
    c.query_row(
        &format!("SELECT {COLS} FROM credentials WHERE id = ?1 AND status <> 'revoked'"),
        [id.to_string()],
        row,
    )
    .optional()?
    .ok_or(StoreError::NotFound(Entity::Credential))
}

fn by_system(c: &Connection, key: &str) -> StoreResult<Option<Credential>> {
    Ok(c.query_row(
        &format!("SELECT {COLS} FROM credentials WHERE system_key = ?1 AND status <> 'revoked'"),
        [key],
        row,
    )
    .optional()?)
}

/// The audit view of a credential: no reference, no secret.
fn audit_view(c: &Credential) -> serde_json::Value {
    json!({"system": c.system, "kind": c.kind, "hint": c.hint, "status": c.status})
}

/// A credential to store: the host already put its fields in the secrets manager.
#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    pub system: &'a SystemName,
    pub kind: CredentialKind,
    pub hint: &'a str,
    pub secret_ref: &'a str,
}

/// A credential provided (created or rotated), with what it set right.
#[derive(Debug, Clone)]
pub struct Provided {
    pub credential: Credential,
    /// The reference the rotation replaced: the host deletes that blob after the commit.
    pub replaced_ref: Option<String>,
    /// Versions that went back to their `blocked_from` because this credential works again.
    pub returned: Vec<Applied>,
}

/// What a `credential.failed` platform event carries (API.md: `data:{automation_id,
/// credential_id?, error?}`), plus who to tell.
#[derive(Debug, Clone)]
pub struct CredentialFailure<'a> {
    /// The automation the platform was running.
    pub automation_id: AutomationId,
    /// The credential that failed. Without it the platform named only the automation: its
    /// versions are blocked, no credential is marked, and providing any credential of one of
    /// its systems releases the block.
    pub credential_id: Option<CredentialId>,
    /// The platform's words (kept up to 500 characters, shown to people).
    pub error: Option<&'a str>,
    /// The workspace's people to notify in app (the members, from `control.db`; this file
    /// cannot read them).
    pub recipients: &'a [UserId],
    pub request: &'a RequestMeta,
}

/// What [`record_failure`] did.
#[derive(Debug, Clone)]
pub struct FailureOutcome {
    /// The credential as it is now (`failed`), when the event named one.
    pub credential: Option<Credential>,
    /// Whether this event changed the credential (a repeat of a known failure does not).
    pub newly_failed: bool,
    /// The versions this event blocked (each through the machine, with its history and audit
    /// rows and its `version_blocked` notifications).
    pub blocked: Vec<Applied>,
    /// How many `credential_failed` notifications were written.
    pub notified: usize,
}

/// The facts the machine's credential guards need about version `v`: how many systems its
/// blueprint names that have no `active` credential, how many have a `failed` one, and how many
/// of its credential blocks are still open.
pub(crate) fn guard_facts(c: &Connection, v: &Version) -> StoreResult<(usize, usize, usize)> {
    let states = states(c)?;
    let mut inactive = 0;
    let mut failed = 0;
    for name in blueprint::system_names(&v.blueprint) {
        let key = system_key(&name);
        match states.iter().find(|(k, _)| *k == key).map(|(_, s)| *s) {
            Some(CredentialStatus::Active) => {}
            Some(CredentialStatus::Failed) => {
                inactive += 1;
                failed += 1;
            }
            _ => inactive += 1,
        }
    }
    let open: usize = c.query_row(
        "SELECT count(*) FROM credential_blocks WHERE automation_id = ?1 AND version = ?2
           AND released_at IS NULL",
        params![v.automation_id.to_string(), v.number],
        |r| r.get(0),
    )?;
    Ok((inactive, failed, open))
}

/// `(system key, status)` of every credential that is not revoked.
fn states(c: &Connection) -> StoreResult<Vec<(String, CredentialStatus)>> {
    let mut stmt =
        c.prepare_cached("SELECT system_key, status FROM credentials WHERE status <> 'revoked'")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            CredentialStatus::parse(&r.get::<_, String>(1)?).map_err(conv)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The versions (not archived) whose blueprint names the system `key`, optionally only those
/// of one automation.
fn versions_using(
    c: &Connection,
    key: Option<&str>,
    only: Option<AutomationId>,
) -> StoreResult<Vec<Version>> {
    let mut stmt = c.prepare(
        "SELECT automation_id, number FROM versions WHERE status <> 'archived'
         AND (?1 IS NULL OR automation_id = ?1) ORDER BY automation_id, number",
    )?;
    let refs: Vec<(String, u32)> = stmt
        .query_map([only.map(|a| a.to_string())], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (id, number) in refs {
        let v = load_version(c, id_col(&id)?, VersionRef::Number(number))?;
        let uses = key.is_none_or(|key| {
            blueprint::system_names(&v.blueprint)
                .iter()
                .any(|n| system_key(n) == key)
        });
        if uses {
            out.push(v);
        }
    }
    Ok(out)
}

fn credentials_task_key(key: &str) -> String {
    format!("credentials:{key}")
}

fn unnamed_task_key(automation: AutomationId) -> String {
    format!("credentials:unnamed:{automation}")
}

/// Flow 25's consequences of a working credential for system `key`, in the caller's
/// transaction: its tasks close, its blocks are released, and the versions left unblocked return
/// to where they were.
fn provided(tx: &Transaction<'_>, key: &str, request: &RequestMeta) -> StoreResult<Vec<Applied>> {
    let task_key = credentials_task_key(key);
    let with_task: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT DISTINCT automation_id FROM tasks WHERE key = ?1 AND status <> 'done'",
        )?;
        stmt.query_map([&task_key], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for a in with_task {
        tasks::close_key(tx, id_col(&a)?, &task_key, request)?;
    }

    // Blocks of this system, and blocks that named no credential on an automation using it.
    let open: Vec<(String, String, u32, Option<String>)> = {
        let mut stmt = tx.prepare(
            "SELECT id, automation_id, version, system_key FROM credential_blocks
             WHERE released_at IS NULL AND (system_key = ?1 OR system_key IS NULL)",
        )?;
        stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut touched: Vec<(AutomationId, u32)> = Vec::new();
    for (block, automation, number, block_key) in open {
        let automation = id_col(&automation)?;
        if block_key.is_none() {
            let v = load_version(tx, automation, VersionRef::Number(number))?;
            let uses = blueprint::system_names(&v.blueprint)
                .iter()
                .any(|n| system_key(n) == key);
            if !uses {
                continue;
            }
            tasks::close_key(tx, automation, &unnamed_task_key(automation), request)?;
        }
        tx.execute(
            "UPDATE credential_blocks SET released_at = ?2 WHERE id = ?1",
            params![block, now()],
        )?;
        if !touched.contains(&(automation, number)) {
            touched.push((automation, number));
        }
    }

    let mut returned = Vec::new();
    for (automation, number) in touched {
        let v = load_version(tx, automation, VersionRef::Number(number))?;
        let (_, _, still_open) = guard_facts(tx, &v)?;
        let Some(back) = v.blocked_from else { continue };
        if v.status != VersionStatus::Blocked || still_open > 0 {
            continue;
        }
        let reason = "the credentials work again";
        returned.push(apply_transition(
            tx,
            automation,
            number,
            &TransitionRequest {
                to: back,
                reason: Some(reason),
                actor: &Actor::System,
                audit_actor: &AuditActor::system(),
                request,
                notify: &[],
            },
        )?);
    }
    Ok(returned)
}

/// Flow 26: what a `credential.failed` platform event does, inside the caller's transaction
/// (the inbound webhook's fold calls this with the event's `data`).
///
/// - The named credential becomes `failed` with the platform's error (audit row
///   `credential.failed`). Unknown or revoked: `NotFound(Credential)`, nothing written.
/// - Every version that uses its system (any automation; without a credential id, the
///   automation's own versions) and is `build_in_progress`, `qa_testing`, `ready_to_launch`,
///   `live` or `paused` is moved to `blocked` through core's machine (actor system, with a
///   reason; `blocked_from` remembered; history and audit rows; `version_blocked`
///   notifications for `recipients`). A version already blocked gets the extra block recorded,
///   so it returns only once every cause is cleared.
/// - Each automation concerned gets one client task "Provide working credentials for X"
///   (keyed `credentials:<system>`, the key a provided credential closes).
/// - Each recipient gets one `credential_failed` notification, when the event changed something.
///
/// Idempotent: the same event again changes nothing and notifies no one. The host sends the
/// emails after the commit (the outbox is in `control.db`).
pub fn record_failure(
    tx: &Transaction<'_>,
    f: &CredentialFailure<'_>,
) -> StoreResult<FailureOutcome> {
    let automation = load_automation(tx, f.automation_id)?;
    let error = f
        .error
        .map(|e| e.trim().chars().take(MAX_ERROR).collect::<String>())
        .filter(|e| !e.is_empty());
    let credential = f.credential_id.map(|id| load(tx, id)).transpose()?;
    let system = AuditActor::system();
    let mut newly_failed = false;
    if let Some(c) = &credential
        && c.status != CredentialStatus::Failed
    {
        let at = now();
        tx.execute(
            "UPDATE credentials SET status = 'failed', last_error = ?2, failed_at = ?3,
                                    updated_at = ?3
             WHERE id = ?1",
            params![c.id.to_string(), error, at],
        )?;
        audit(
            tx,
            &system,
            f.request,
            "credential.failed",
            ("credential", c.id.to_string()),
            Some(audit_view(c)),
            Some(json!({"status": CredentialStatus::Failed, "error": error})),
        )?;
        newly_failed = true;
    }
    let credential = credential.map(|c| load(tx, c.id)).transpose()?;
    let key = credential.as_ref().map(Credential::system_key);
    let label = credential
        .as_ref()
        .map_or_else(|| automation.name.clone(), |c| c.system.clone());
    let reason = match &error {
        Some(e) => format!("the credentials for {label} failed: {e}"),
        None => format!("the credentials for {label} failed"),
    };

    let versions = versions_using(tx, key.as_deref(), key.is_none().then_some(f.automation_id))?;
    let mut blocked = Vec::new();
    let mut automations: Vec<AutomationId> = Vec::new();
    for v in versions {
        let blockable = BLOCKABLE.contains(&v.status) || v.status == VersionStatus::Blocked;
        if !blockable {
            continue;
        }
        if !automations.contains(&v.automation_id) {
            automations.push(v.automation_id);
        }
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM credential_blocks WHERE automation_id = ?1
               AND version = ?2 AND released_at IS NULL AND system_key IS ?3)",
            params![v.automation_id.to_string(), v.number, key],
            |r| r.get(0),
        )?;
        if exists {
            continue;
        }
        tx.execute(
            "INSERT INTO credential_blocks (id, automation_id, version, system_key,
                                            credential_id, reason, blocked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                uuid::Uuid::now_v7().to_string(),
                v.automation_id.to_string(),
                v.number,
                key,
                credential.as_ref().map(|c| c.id.to_string()),
                reason,
                now()
            ],
        )?;
        if v.status == VersionStatus::Blocked {
            continue;
        }
        blocked.push(apply_transition(
            tx,
            v.automation_id,
            v.number,
            &TransitionRequest {
                to: VersionStatus::Blocked,
                reason: Some(&reason),
                actor: &Actor::System,
                audit_actor: &system,
                request: f.request,
                notify: f.recipients,
            },
        )?);
    }
    if automations.is_empty() {
        automations.push(f.automation_id);
    }
    let title = format!("Provide working credentials for {label}");
    for a in &automations {
        tasks::ensure(
            tx,
            &NewTask {
                automation_id: *a,
                version: None,
                key: key
                    .as_deref()
                    .map_or_else(|| unnamed_task_key(*a), credentials_task_key),
                kind: TaskKind::Credentials,
                title: &title,
                assignee: Assignee::Client,
            },
            f.request,
        )?;
    }
    let mut notified = 0;
    if newly_failed || !blocked.is_empty() {
        let body = match &error {
            Some(e) => format!("The WRK Platform reported: {e}"),
            None => "The WRK Platform reported that they no longer work.".to_owned(),
        };
        let title = format!("The credentials for {label} stopped working");
        notified = notifications::insert_for_each(
            tx,
            f.recipients,
            &NewNotification {
                user_id: UserId::new(),
                kind: NotificationKind::CredentialFailed,
                title: &title,
                body: &body,
                automation_id: Some(f.automation_id),
                link: Some("/app/credentials"),
            },
        )?
        .len();
    }
    Ok(FailureOutcome {
        credential,
        newly_failed,
        blocked,
        notified,
    })
}

impl TenantStore {
    /// The workspace's credentials that are not revoked, by system.
    pub fn credentials(&self) -> StoreResult<Vec<Credential>> {
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLS} FROM credentials WHERE status <> 'revoked' ORDER BY system_key"
            ))?;
            let rows = stmt.query_map([], row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn credential(&self, id: CredentialId) -> StoreResult<Credential> {
        self.db().read(|c| load(c, id))
    }

    /// `(system, status)` of every credential that is not revoked: what the validation plugin
    /// is told (ARCHITECTURE "ABI shapes": `credentials:[{system, status}]`).
    pub fn credential_states(&self) -> StoreResult<Vec<(String, CredentialStatus)>> {
        Ok(self
            .credentials()?
            .into_iter()
            .map(|c| (c.system, c.status))
            .collect())
    }

    /// Flow 25: stores a new credential (`active`) for a system that has none; a second one for
    /// the same system is a `Conflict` (rotate that one instead).
    pub fn create_credential(
        &self,
        new: &NewCredential<'_>,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Provided> {
        self.db().write(|tx| {
            let key = new.system.key();
            if by_system(tx, &key)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "{} already has a credential; rotate it instead",
                    new.system.as_str()
                )));
            }
            let id = CredentialId::new();
            let at = now();
            tx.execute(
                "INSERT INTO credentials (id, system, system_key, kind, hint, status, secret_ref,
                                          created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?7)",
                params![
                    id.to_string(),
                    new.system.as_str(),
                    key,
                    new.kind.as_str(),
                    new.hint,
                    new.secret_ref,
                    at
                ],
            )?;
            let credential = load(tx, id)?;
            audit(
                tx,
                audit_actor,
                request,
                "credential.created",
                ("credential", id.to_string()),
                None,
                Some(audit_view(&credential)),
            )?;
            let returned = provided(tx, &key, request)?;
            Ok(Provided {
                credential,
                replaced_ref: None,
                returned,
            })
        })
    }

    /// Flow 25, rotation: new fields (a new blob) for a credential, which is `active` again
    /// whatever it was; a failure's blocks are released as for a new credential.
    pub fn rotate_credential(
        &self,
        id: CredentialId,
        hint: &str,
        secret_ref: &str,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Provided> {
        self.db().write(|tx| {
            let before = load(tx, id)?;
            tx.execute(
                "UPDATE credentials SET hint = ?2, secret_ref = ?3, status = 'active',
                                        last_error = NULL, failed_at = NULL, updated_at = ?4
                 WHERE id = ?1",
                params![id.to_string(), hint, secret_ref, now()],
            )?;
            let credential = load(tx, id)?;
            audit(
                tx,
                audit_actor,
                request,
                "credential.rotated",
                ("credential", id.to_string()),
                Some(audit_view(&before)),
                Some(audit_view(&credential)),
            )?;
            let returned = provided(tx, &credential.system_key(), request)?;
            Ok(Provided {
                credential,
                replaced_ref: before.secret_ref,
                returned,
            })
        })
    }

    /// Deletes a credential: it becomes `revoked` and loses its reference. Returns it as it
    /// was, so the host can delete the blob its reference names.
    pub fn revoke_credential(
        &self,
        id: CredentialId,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Credential> {
        self.db().write(|tx| {
            let before = load(tx, id)?;
            tx.execute(
                "UPDATE credentials SET status = 'revoked', secret_ref = NULL, updated_at = ?2
                 WHERE id = ?1",
                params![id.to_string(), now()],
            )?;
            audit(
                tx,
                audit_actor,
                request,
                "credential.revoked",
                ("credential", id.to_string()),
                Some(audit_view(&before)),
                Some(json!({"status": CredentialStatus::Revoked})),
            )?;
            Ok(before)
        })
    }

    /// [`record_failure`] in its own transaction.
    pub fn record_credential_failure(
        &self,
        f: &CredentialFailure<'_>,
    ) -> StoreResult<FailureOutcome> {
        self.db().write(|tx| record_failure(tx, f))
    }

    /// Every secret reference in use, for the secrets manager's housekeeping.
    pub fn secret_refs(&self) -> StoreResult<Vec<String>> {
        self.db().read(|c| {
            let mut stmt =
                c.prepare("SELECT secret_ref FROM credentials WHERE secret_ref IS NOT NULL")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::versions::Validation;
    use crate::testing::*;
    use serde_json::json;

    fn gmail() -> SystemName {
        SystemName::parse("Gmail").unwrap()
    }

    fn add(s: &TenantStore, system: &SystemName, r: &str) -> Provided {
        s.create_credential(
            &NewCredential {
                system,
                kind: CredentialKind::ApiKey,
                hint: "••••abcd",
                secret_ref: r,
            },
            &who(),
            &req(),
        )
        .unwrap()
    }

    fn force(s: &TenantStore, id: AutomationId, status: VersionStatus) {
        s.db()
            .write(|tx| {
                tx.execute(
                    "UPDATE versions SET status = ?2 WHERE automation_id = ?1",
                    params![id.to_string(), status.as_str()],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn uses_gmail(s: &TenantStore) -> AutomationId {
        automation_with_blueprint(
            s,
            &json!({"systems": [{"name": "Gmail"}], "trigger": {"kind": "email", "system": "gmail"}}),
            &Validation::default(),
        )
        .id
    }

    fn count(s: &TenantStore, sql: &str) -> i64 {
        s.db()
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    #[test]
    fn one_credential_per_system_and_revoked_ones_make_room() {
        let (_d, s) = store();
        let first = add(&s, &gmail(), "ref-1").credential;
        assert_eq!(first.status, CredentialStatus::Active);
        let again = s.create_credential(
            &NewCredential {
                system: &SystemName::parse("GMAIL").unwrap(),
                kind: CredentialKind::Basic,
                hint: "x",
                secret_ref: "ref-2",
            },
            &who(),
            &req(),
        );
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        let gone = s.revoke_credential(first.id, &who(), &req()).unwrap();
        assert_eq!(gone.secret_ref.as_deref(), Some("ref-1"));
        assert!(matches!(
            s.credential(first.id),
            Err(StoreError::NotFound(Entity::Credential))
        ));
        add(&s, &gmail(), "ref-3");
        assert_eq!(s.secret_refs().unwrap(), vec!["ref-3".to_owned()]);
    }

    #[test]
    fn a_failure_blocks_every_version_using_it_notifies_and_the_rotation_returns_them() {
        let (_d, s) = store();
        let live = uses_gmail(&s);
        let paused = uses_gmail(&s);
        let other = automation_with_blueprint(
            &s,
            &json!({"systems": [{"name": "Xero"}]}),
            &Validation::default(),
        )
        .id;
        force(&s, live, VersionStatus::Live);
        force(&s, paused, VersionStatus::Paused);
        force(&s, other, VersionStatus::Live);
        let cred = add(&s, &gmail(), "ref-1").credential;
        let people = [UserId::new(), UserId::new()];
        let failure = CredentialFailure {
            automation_id: live,
            credential_id: Some(cred.id),
            error: Some("401 from Gmail"),
            recipients: &people,
            request: &req(),
        };
        let out = s.record_credential_failure(&failure).unwrap();
        assert!(out.newly_failed);
        assert_eq!(out.credential.unwrap().status, CredentialStatus::Failed);
        assert_eq!(out.blocked.len(), 2);
        assert_eq!(out.notified, 2);
        for (id, from) in [(live, VersionStatus::Live), (paused, VersionStatus::Paused)] {
            let v = s.version(id, VersionRef::Latest).unwrap();
            assert_eq!(
                (v.status, v.blocked_from),
                (VersionStatus::Blocked, Some(from))
            );
            let h = s.history(id, VersionRef::Latest).unwrap();
            assert_eq!(h.last().unwrap().actor.kind, "system");
            assert!(h.last().unwrap().reason.as_deref().unwrap().contains("401"));
        }
        assert_eq!(
            s.version(other, VersionRef::Latest).unwrap().status,
            VersionStatus::Live
        );
        // Two credential_failed (one per person) and four version_blocked (two versions).
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM notifications WHERE kind = 'credential_failed'"
            ),
            2
        );
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM notifications WHERE kind = 'version_blocked'"
            ),
            4
        );
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM tasks WHERE key = 'credentials:gmail' AND status = 'todo'"
            ),
            2
        );
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM audit_log WHERE action = 'credential.failed'"
            ),
            1
        );

        // The same event again changes nothing.
        let again = s.record_credential_failure(&failure).unwrap();
        assert!(!again.newly_failed && again.blocked.is_empty() && again.notified == 0);

        // Rotating returns each version to where it was and closes the tasks.
        let rotated = s
            .rotate_credential(cred.id, "••••wxyz", "ref-2", &who(), &req())
            .unwrap();
        assert_eq!(rotated.replaced_ref.as_deref(), Some("ref-1"));
        assert_eq!(rotated.credential.status, CredentialStatus::Active);
        assert_eq!(rotated.returned.len(), 2);
        assert_eq!(
            s.version(live, VersionRef::Latest).unwrap().status,
            VersionStatus::Live
        );
        assert_eq!(
            s.version(paused, VersionRef::Latest).unwrap().status,
            VersionStatus::Paused
        );
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM tasks WHERE key = 'credentials:gmail' AND status <> 'done'"
            ),
            0
        );
    }

    #[test]
    fn a_version_blocked_by_ops_stays_blocked_when_a_credential_is_provided() {
        let (_d, s) = store();
        let id = uses_gmail(&s);
        force(&s, id, VersionStatus::Live);
        s.transition_version(
            id,
            VersionRef::Latest,
            &TransitionRequest {
                to: VersionStatus::Blocked,
                reason: Some("unpaid invoice"),
                actor: &ops(),
                audit_actor: &who(),
                request: &req(),
                notify: &[],
            },
        )
        .unwrap();
        let p = add(&s, &gmail(), "ref");
        assert!(p.returned.is_empty());
        assert_eq!(
            s.version(id, VersionRef::Latest).unwrap().status,
            VersionStatus::Blocked
        );
    }

    #[test]
    fn a_failure_naming_no_credential_blocks_the_automation_until_one_of_its_systems_is_provided() {
        let (_d, s) = store();
        let id = uses_gmail(&s);
        force(&s, id, VersionStatus::ReadyToLaunch);
        let out = s
            .record_credential_failure(&CredentialFailure {
                automation_id: id,
                credential_id: None,
                error: None,
                recipients: &[UserId::new()],
                request: &req(),
            })
            .unwrap();
        assert!(out.credential.is_none());
        assert_eq!(out.blocked.len(), 1);
        let p = add(&s, &gmail(), "ref");
        assert_eq!(p.returned.len(), 1);
        assert_eq!(
            s.version(id, VersionRef::Latest).unwrap().status,
            VersionStatus::ReadyToLaunch
        );
    }

    #[test]
    fn an_unknown_credential_or_automation_writes_nothing() {
        let (_d, s) = store();
        let id = uses_gmail(&s);
        let err = s
            .record_credential_failure(&CredentialFailure {
                automation_id: id,
                credential_id: Some(CredentialId::new()),
                error: None,
                recipients: &[],
                request: &req(),
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(Entity::Credential)));
        let err = s
            .record_credential_failure(&CredentialFailure {
                automation_id: AutomationId::new(),
                credential_id: None,
                error: None,
                recipients: &[],
                request: &req(),
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(Entity::Automation)));
        assert_eq!(count(&s, "SELECT count(*) FROM tasks"), 0);
    }

    #[test]
    fn going_live_needs_an_active_credential_for_every_system() {
        let (_d, s) = store();
        let id = uses_gmail(&s);
        force(&s, id, VersionStatus::ReadyToLaunch);
        let live = |s: &TenantStore| {
            s.transition_version(
                id,
                VersionRef::Latest,
                &TransitionRequest {
                    to: VersionStatus::Live,
                    reason: None,
                    actor: &ops(),
                    audit_actor: &who(),
                    request: &req(),
                    notify: &[],
                },
            )
        };
        assert!(matches!(
            live(&s),
            Err(StoreError::Transition(
                wrk_core::machine::TransitionError::GuardFailed(_)
            ))
        ));
        add(&s, &gmail(), "ref");
        assert_eq!(live(&s).unwrap().version.status, VersionStatus::Live);
    }
}
