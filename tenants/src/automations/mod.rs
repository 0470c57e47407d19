//! Automations and everything that hangs off them in one tenant's database (flows 8-13, 31, 32,
//! 35): versions and their status history, projects and quotes, the automation thread's
//! messages, and tasks.
//!
//! Decisions are not made here: the state machine in `wrk_core::machine` decides transitions and
//! what they cause, and `wrk_core::automation` the name rules and the read-only and editable
//! checks; this module gathers the facts its guards need (inside the write transaction,
//! so they cannot change underneath), applies what it returns, and writes the status-history and
//! audit rows in the same transaction. Plugin calls happen in the host, outside any transaction;
//! their results come in here as plain values.
//!
//! Layout:
//! - this file: automations (create, list, read, rename) and the shared row helpers.
//! - [`versions`]: versions, requirements, the blueprint with optimistic concurrency,
//!   transitions (load, ask core, write status, history and audit, then [`effects`]), history.
//! - [`tasks`]: system tasks keyed by cause, and people moving them along.
//! - [`quotes`]: projects, quotes with line items, the auto-quote step of flow 11, messages.
//! - [`effects`]: the storage side of every transition's side effects, one `match`.
//! - [`signing`]: what clients and ops do with a sent quote (flows 14-18): accept, reject,
//!   revise, expire, and signing with its charge, payment method, signature and subscription.

pub mod effects;
pub mod quotes;
pub mod signing;
pub mod tasks;
pub mod versions;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wrk_core::automation::check_writable;
use wrk_core::ids::AutomationId;
use wrk_core::machine::{Actor, VersionStatus, create_version};
use wrk_core::tasks::Assignee;
use wrk_core::validation::Severity;

use crate::audit::{AuditActor, AuditEntry, RequestMeta, parse_timestamp, record_audit, timestamp};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;

pub use versions::Version;

/// An automation as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Automation {
    pub id: AutomationId,
    pub name: String,
    pub description: String,
    /// The newest non-archived version's status; `archived` when every version is.
    pub status: VersionStatus,
    pub latest_version: u32,
    /// The deployed version (`live` or `paused`), if any.
    pub live_version: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of `GET /api/automations`; newest first, cursor on the (time-ordered) id.
#[derive(Debug, Clone, Default)]
pub struct AutomationFilter {
    /// The displayed status.
    pub status: Option<VersionStatus>,
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    pub include_archived: bool,
    /// Return automations with an id strictly less than this one.
    pub before_id: Option<String>,
    pub limit: u32,
}

pub(crate) fn conv<E: std::fmt::Display>(e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

pub(crate) fn status_col(s: &str) -> rusqlite::Result<VersionStatus> {
    VersionStatus::parse(s).map_err(conv)
}

pub(crate) fn id_col(s: &str) -> rusqlite::Result<AutomationId> {
    AutomationId::parse(s).map_err(conv)
}

pub(crate) fn time_col(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    parse_timestamp(s)
}

/// A nullable JSON column: SQL `NULL` is JSON `null`; text that is not JSON is a conversion
/// error (corrupt data is never read as "nothing there").
pub(crate) fn json_col(s: Option<String>) -> rusqlite::Result<Value> {
    s.map_or(Ok(Value::Null), |s| serde_json::from_str(&s).map_err(conv))
}

/// A JSON array column of `T` (validation issues, the build checklist); anything else is a
/// conversion error, never an empty list.
pub(crate) fn json_list<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<Vec<T>> {
    serde_json::from_str(s).map_err(conv)
}

pub(crate) fn now() -> String {
    timestamp(Utc::now())
}

/// The audit row of one change, inside its transaction.
pub(crate) fn audit(
    tx: &Transaction<'_>,
    actor: &AuditActor,
    request: &RequestMeta,
    action: &str,
    entity: (&str, String),
    before: Option<Value>,
    after: Option<Value>,
) -> StoreResult<()> {
    record_audit(
        tx,
        &AuditEntry {
            actor,
            action,
            entity_type: entity.0,
            entity_id: Some(entity.1),
            before,
            after,
            request,
        },
    )?;
    Ok(())
}

const AUTOMATION_SELECT: &str = "
    SELECT id, name, description, created_at, updated_at,
           (SELECT status FROM versions v WHERE v.automation_id = a.id AND v.status <> 'archived'
             ORDER BY v.number DESC LIMIT 1) AS current_status,
           (SELECT max(number) FROM versions v WHERE v.automation_id = a.id) AS latest,
           (SELECT number FROM versions v WHERE v.automation_id = a.id
             AND v.status IN ('live', 'paused') ORDER BY v.number DESC LIMIT 1) AS deployed
    FROM automations a";

fn automation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Automation> {
    let status: Option<String> = r.get(5)?;
    Ok(Automation {
        id: id_col(&r.get::<_, String>(0)?)?,
        name: r.get(1)?,
        description: r.get(2)?,
        created_at: time_col(&r.get::<_, String>(3)?)?,
        updated_at: time_col(&r.get::<_, String>(4)?)?,
        status: match status {
            Some(s) => status_col(&s)?,
            None => VersionStatus::Archived,
        },
        latest_version: r.get::<_, Option<u32>>(6)?.unwrap_or(0),
        live_version: r.get(7)?,
    })
}

pub(crate) fn load_automation(c: &Connection, id: AutomationId) -> StoreResult<Automation> {
    c.prepare_cached(&format!("{AUTOMATION_SELECT} WHERE a.id = ?1"))?
        .query_row([id.to_string()], automation_row)
        .optional()?
        .ok_or(StoreError::NotFound(Entity::Automation))
}

/// Loads the automation for a write, refusing archived (read-only) ones with core's
/// [`check_writable`].
pub(crate) fn writable_automation(c: &Connection, id: AutomationId) -> StoreResult<Automation> {
    let a = load_automation(c, id)?;
    check_writable(a.status)?;
    Ok(a)
}

/// What a new automation starts with: a name and description the host parsed with core's
/// `AutomationName::parse` and `Description::parse`.
#[derive(Debug, Clone)]
pub struct NewAutomation<'a> {
    pub name: &'a str,
    pub description: &'a str,
}

impl TenantStore {
    /// Creates an automation and its version 1 in the status core's `create_version` gives
    /// (flow 8): the automation row, the version row, its first status-history row and an audit
    /// row for each of the two new objects, in one transaction.
    pub fn create_automation(
        &self,
        new: &NewAutomation<'_>,
        actor: &Actor,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<(Automation, Version)> {
        let status = create_version(actor)?;
        let id = AutomationId::new();
        let at = now();
        self.db().write(|tx| {
            tx.execute(
                "INSERT INTO automations (id, name, description, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id.to_string(), new.name, new.description, at],
            )?;
            let automation = load_automation(tx, id)?;
            audit(
                tx,
                audit_actor,
                request,
                "automation.created",
                ("automation", id.to_string()),
                None,
                Some(json!({"name": new.name, "description": new.description})),
            )?;
            let version = versions::insert_version(
                tx,
                id,
                1,
                status,
                ("", Value::Null),
                actor,
                audit_actor,
                request,
            )?;
            Ok((load_automation(tx, automation.id)?, version))
        })
    }

    pub fn automation(&self, id: AutomationId) -> StoreResult<Automation> {
        self.db().read(|c| load_automation(c, id))
    }

    /// The automations matching `filter`, newest first; archived ones only when asked for
    /// (either `include_archived` or a `status` of `archived`).
    pub fn list_automations(&self, filter: &AutomationFilter) -> StoreResult<Vec<Automation>> {
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT * FROM ({AUTOMATION_SELECT}) x
                 WHERE (?1 IS NULL OR coalesce(current_status, 'archived') = ?1)
                   AND (?1 IS NOT NULL OR ?2 OR current_status IS NOT NULL)
                   AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0)
                   AND (?4 IS NULL OR id < ?4)
                 ORDER BY id DESC
                 LIMIT ?5"
            ))?;
            let rows = stmt.query_map(
                params![
                    filter.status.map(VersionStatus::as_str),
                    filter.include_archived,
                    filter.q.as_deref().filter(|q| !q.trim().is_empty()),
                    filter.before_id,
                    filter.limit.max(1)
                ],
                automation_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Renames or re-describes an automation; archived ones are read-only.
    pub fn update_automation(
        &self,
        id: AutomationId,
        name: Option<&str>,
        description: Option<&str>,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Automation> {
        self.db().write(|tx| {
            let before = writable_automation(tx, id)?;
            if name.is_none() && description.is_none() {
                return Ok(before);
            }
            let name = name.unwrap_or(&before.name);
            let description = description.unwrap_or(&before.description);
            if name == before.name && description == before.description {
                return Ok(before);
            }
            tx.execute(
                "UPDATE automations SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.to_string(), name, description, now()],
            )?;
            audit(
                tx,
                audit_actor,
                request,
                "automation.updated",
                ("automation", id.to_string()),
                Some(json!({"name": before.name, "description": before.description})),
                Some(json!({"name": name, "description": description})),
            )?;
            load_automation(tx, id)
        })
    }
}

/// A stored validation issue (the validation plugin's `Issue`, kept as the plugin gave it). The
/// stored JSON holds the snake_case names of the enums (`"severity": "error"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredIssue {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<IssueTask>,
}

impl StoredIssue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Issues about a system's credentials (`credentials_missing`, `_pending`, `_expired`).
    pub fn is_credentials(&self) -> bool {
        self.code.starts_with("credentials_")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueTask {
    pub title: String,
    pub assignee: Assignee,
}

/// One item of the validation plugin's build checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistEntry {
    pub code: String,
    pub title: String,
    pub assignee: Assignee,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn new<'a>(name: &'a str) -> NewAutomation<'a> {
        NewAutomation {
            name,
            description: "",
        }
    }

    #[test]
    fn a_new_automation_starts_with_version_one_in_intake() {
        let (_d, s) = store();
        let (a, v) = s
            .create_automation(&new("Invoices"), &owner(), &who(), &req())
            .unwrap();
        assert_eq!(a.status, VersionStatus::IntakeInProgress);
        assert_eq!(a.latest_version, 1);
        assert_eq!(a.live_version, None);
        assert_eq!(v.number, 1);
        assert_eq!(v.revision, 0);
        let audit = s
            .db()
            .read(|c| crate::audit::count_audit(c, "automation", &a.id.to_string()))
            .unwrap();
        assert_eq!(audit, 1);
    }

    #[test]
    fn ops_cannot_create_an_automation() {
        let (_d, s) = store();
        assert!(matches!(
            s.create_automation(&new("x"), &ops(), &who(), &req()),
            Err(StoreError::Transition(
                wrk_core::machine::TransitionError::CreationNotPermitted { .. }
            ))
        ));
        assert!(
            s.list_automations(&AutomationFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn lists_filter_by_name_and_status_and_paginate() {
        let (_d, s) = store();
        for name in ["Alpha invoices", "Beta payroll", "Gamma invoices"] {
            s.create_automation(&new(name), &owner(), &who(), &req())
                .unwrap();
        }
        let all = s
            .list_automations(&AutomationFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].name, "Gamma invoices");
        let found = s
            .list_automations(&AutomationFilter {
                q: Some("INVOICES".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.len(), 2);
        let page = s
            .list_automations(&AutomationFilter {
                limit: 1,
                before_id: Some(all[0].id.to_string()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page[0].id, all[1].id);
        let none = s
            .list_automations(&AutomationFilter {
                status: Some(VersionStatus::Live),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(none.is_empty());
    }
}
