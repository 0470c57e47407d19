//! Tasks (flows 31, 32). System tasks are keyed by their cause — `validation:<code>:<path>`,
//! `credentials:<system>`, `quote:review:<quote id>`, `quote:price_manually:<version>`,
//! `checklist:<version>:<code>` — so the same cause never makes two open tasks (a partial unique
//! index guarantees it), and they are closed by the system (`closed_by = 'system'`) when the
//! cause clears. A task a person closed is not re-opened behind their back while its cause lasts.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::blueprint;
use wrk_core::ids::{AutomationId, TaskId};
use wrk_core::machine::OpsTaskKind;
use wrk_core::tasks::{Assignee, TaskKind};

use super::{StoredIssue, audit, id_col, now, time_col, writable_automation};
use crate::audit::{AuditActor, RequestMeta};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in_progress",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "todo" => Some(Self::Todo),
            "in_progress" => Some(Self::InProgress),
            "done" => Some(Self::Done),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub key: String,
    pub title: String,
    pub automation_id: AutomationId,
    pub version: Option<u32>,
    pub kind: TaskKind,
    pub assignee: Assignee,
    pub status: TaskStatus,
    /// `system` when the cause cleared; `<actor kind>:<id>` when a person closed it.
    pub closed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A system task to open unless its cause already has one.
#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    pub automation_id: AutomationId,
    pub version: Option<u32>,
    pub key: String,
    pub kind: TaskKind,
    pub title: &'a str,
    pub assignee: Assignee,
}

/// The ops task of flow 11 when the pricing plugin fails.
pub fn price_manually(id: AutomationId, number: u32) -> NewTask<'static> {
    NewTask {
        automation_id: id,
        version: Some(number),
        key: format!("quote:price_manually:{number}"),
        kind: OpsTaskKind::PriceManually.task_kind(),
        title: "Price manually: the pricing plugin could not quote this version",
        assignee: Assignee::Ops,
    }
}

pub(crate) const TASK_COLS: &str =
    "id, key, title, automation_id, version, kind, assignee, status, closed_by,
    created_at, updated_at";

pub(crate) fn task_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: TaskId::parse(&r.get::<_, String>(0)?).map_err(super::conv)?,
        key: r.get(1)?,
        title: r.get(2)?,
        automation_id: id_col(&r.get::<_, String>(3)?)?,
        version: r.get(4)?,
        kind: TaskKind::parse(&r.get::<_, String>(5)?).map_err(super::conv)?,
        assignee: Assignee::parse(&r.get::<_, String>(6)?).map_err(super::conv)?,
        status: TaskStatus::parse(&r.get::<_, String>(7)?)
            .ok_or_else(|| super::conv("unknown task status"))?,
        closed_by: r.get(8)?,
        created_at: time_col(&r.get::<_, String>(9)?)?,
        updated_at: time_col(&r.get::<_, String>(10)?)?,
    })
}

fn load_task(c: &Connection, id: TaskId) -> StoreResult<Task> {
    c.query_row(
        &format!("SELECT {TASK_COLS} FROM tasks WHERE id = ?1"),
        [id.to_string()],
        task_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound(Entity::Task))
}

/// Opens the task for `new.key` unless one is open, or a person closed one (they said it is
/// handled). Only tasks the system itself closed (their cause cleared) let the cause, once back,
/// open a new one. Returns the task it opened.
pub(crate) fn ensure(
    tx: &Transaction<'_>,
    new: &NewTask<'_>,
    request: &RequestMeta,
) -> StoreResult<Option<Task>> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE automation_id = ?1 AND key = ?2
                          AND (status <> 'done' OR coalesce(closed_by, '') <> 'system'))",
        params![new.automation_id.to_string(), new.key],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(None);
    }
    let id = TaskId::new();
    let at = now();
    tx.execute(
        "INSERT INTO tasks (id, automation_id, version, key, kind, title, assignee, status,
                            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'todo', ?8, ?8)",
        params![
            id.to_string(),
            new.automation_id.to_string(),
            new.version,
            new.key,
            new.kind.as_str(),
            new.title,
            new.assignee.as_str(),
            at
        ],
    )?;
    let task = load_task(tx, id)?;
    task_event(tx, "task.created", &task)?;
    audit(
        tx,
        &AuditActor::system(),
        request,
        "task.created",
        ("task", id.to_string()),
        None,
        Some(serde_json::to_value(&task).unwrap_or_default()),
    )?;
    Ok(Some(task))
}

/// The `task.created` or `task.updated` live event of a task as it now is.
fn task_event(tx: &Transaction<'_>, kind: &str, task: &Task) -> StoreResult<()> {
    crate::live_events::record(
        tx,
        kind,
        json!({
            "id": task.id,
            "automation_id": task.automation_id,
            "title": task.title,
            "assignee": task.assignee,
            "status": task.status,
        }),
        None,
    )?;
    Ok(())
}

/// Closes an open task because its cause cleared.
fn close_by_system(tx: &Transaction<'_>, task: &Task, request: &RequestMeta) -> StoreResult<()> {
    tx.execute(
        "UPDATE tasks SET status = 'done', closed_by = 'system', closed_at = ?2, updated_at = ?2
         WHERE id = ?1",
        params![task.id.to_string(), now()],
    )?;
    task_event(tx, "task.updated", &load_task(tx, task.id)?)?;
    audit(
        tx,
        &AuditActor::system(),
        request,
        "task.closed",
        ("task", task.id.to_string()),
        Some(json!({"status": task.status})),
        Some(json!({"status": TaskStatus::Done, "closed_by": "system"})),
    )
}

fn open_tasks(tx: &Connection, id: AutomationId, filter: &str) -> StoreResult<Vec<Task>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {TASK_COLS} FROM tasks WHERE automation_id = ?1 AND status <> 'done' AND {filter}"
    ))?;
    let rows = stmt.query_map([id.to_string()], task_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Closes the open task with `key`, if any, because its cause cleared.
pub(crate) fn close_key(
    tx: &Transaction<'_>,
    id: AutomationId,
    key: &str,
    request: &RequestMeta,
) -> StoreResult<()> {
    let open = tx
        .query_row(
            &format!(
                "SELECT {TASK_COLS} FROM tasks WHERE automation_id = ?1 AND key = ?2
                 AND status <> 'done'"
            ),
            params![id.to_string(), key],
            task_row,
        )
        .optional()?;
    match open {
        Some(task) => close_by_system(tx, &task, request),
        None => Ok(()),
    }
}

/// Closes every open task of a version (it was archived: nothing about it changes any more).
pub(crate) fn close_version_tasks(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    request: &RequestMeta,
) -> StoreResult<()> {
    for task in open_tasks(tx, id, &format!("version = {number}"))? {
        close_by_system(tx, &task, request)?;
    }
    Ok(())
}

/// The system the credentials issue is about: the blueprint's system named in its message.
fn issue_system(issue: &StoredIssue, names: &[String]) -> String {
    let text = format!(
        "{} {}",
        issue.message,
        issue.task.as_ref().map_or("", |t| t.title.as_str())
    )
    .to_lowercase();
    names
        .iter()
        .filter(|n| text.contains(&n.to_lowercase()))
        .max_by_key(|n| n.len())
        .cloned()
        .unwrap_or_else(|| issue.path.clone().unwrap_or_default())
}

/// The task key and title a validation issue makes, if it makes one: every `error`, and every
/// warning the plugin attached a task to.
pub fn issue_task(
    issue: &StoredIssue,
    names: &[String],
) -> Option<(String, TaskKind, String, Assignee)> {
    if !issue.is_error() && issue.task.is_none() {
        return None;
    }
    let (title, assignee) = match &issue.task {
        Some(t) => (t.title.clone(), t.assignee),
        None => (issue.message.clone(), Assignee::Client),
    };
    if issue.is_credentials() {
        let system = issue_system(issue, names);
        return Some((
            format!("credentials:{}", system.to_lowercase()),
            TaskKind::Credentials,
            title,
            assignee,
        ));
    }
    Some((
        format!(
            "validation:{}:{}",
            issue.code,
            issue.path.as_deref().unwrap_or("")
        ),
        TaskKind::Validation,
        title,
        assignee,
    ))
}

/// Flow 31: makes the open validation and credentials tasks of an automation match `issues`:
/// opens one per new cause, closes those whose cause is gone.
pub(crate) fn sync_validation(
    tx: &Transaction<'_>,
    id: AutomationId,
    number: u32,
    issues: &[StoredIssue],
    request: &RequestMeta,
) -> StoreResult<()> {
    let bp: Option<String> = tx.query_row(
        "SELECT blueprint FROM versions WHERE automation_id = ?1 AND number = ?2",
        params![id.to_string(), number],
        |r| r.get(0),
    )?;
    let names = bp
        .and_then(|s| serde_json::from_str(&s).ok())
        .map(|v| blueprint::system_names(&v))
        .unwrap_or_default();
    let mut wanted: Vec<(String, TaskKind, String, Assignee)> = Vec::new();
    for issue in issues {
        if let Some(t) = issue_task(issue, &names)
            && !wanted.iter().any(|w| w.0 == t.0)
        {
            wanted.push(t);
        }
    }
    for task in open_tasks(tx, id, "kind IN ('validation', 'credentials')")? {
        if !wanted.iter().any(|w| w.0 == task.key) {
            close_by_system(tx, &task, request)?;
        }
    }
    for (key, kind, title, assignee) in &wanted {
        ensure(
            tx,
            &NewTask {
                automation_id: id,
                version: Some(number),
                key: key.clone(),
                kind: *kind,
                title,
                assignee: *assignee,
            },
            request,
        )?;
    }
    Ok(())
}

/// Filters of `GET /api/tasks`; newest first, cursor on the id.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub automation_id: Option<AutomationId>,
    pub before_id: Option<String>,
    pub limit: u32,
}

impl TenantStore {
    pub fn tasks(&self, filter: &TaskFilter) -> StoreResult<Vec<Task>> {
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM tasks
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR automation_id = ?2)
                   AND (?3 IS NULL OR id < ?3)
                 ORDER BY id DESC LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![
                    filter.status.map(TaskStatus::as_str),
                    filter.automation_id.map(|a| a.to_string()),
                    filter.before_id,
                    filter.limit.max(1)
                ],
                task_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn task(&self, id: TaskId) -> StoreResult<Task> {
        self.db().read(|c| load_task(c, id))
    }

    /// Flow 32: a person moves a task (`todo`, `in_progress`, `done`, and back to `todo`). The
    /// caller has checked that the person is on the task's side. Re-opening a task whose cause
    /// already has another open task is a `Conflict`.
    pub fn set_task_status(
        &self,
        id: TaskId,
        status: TaskStatus,
        audit_actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Task> {
        self.db().write(|tx| {
            let before = load_task(tx, id)?;
            writable_automation(tx, before.automation_id)?;
            if before.status == status {
                return Ok(before);
            }
            let closed_by = (status == TaskStatus::Done).then(|| {
                format!(
                    "{}:{}",
                    audit_actor.kind.as_str(),
                    audit_actor.id.as_deref().unwrap_or("")
                )
            });
            tx.execute(
                "UPDATE tasks SET status = ?2, closed_by = ?3,
                        closed_at = CASE WHEN ?2 = 'done' THEN ?4 END, updated_at = ?4
                 WHERE id = ?1",
                params![id.to_string(), status.as_str(), closed_by, now()],
            )
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict(
                        "another open task already tracks the same cause; update that one".into(),
                    )
                } else {
                    e.into()
                }
            })?;
            audit(
                tx,
                audit_actor,
                request,
                "task.updated",
                ("task", id.to_string()),
                Some(json!({"status": before.status})),
                Some(json!({"status": status})),
            )?;
            let task = load_task(tx, id)?;
            task_event(tx, "task.updated", &task)?;
            Ok(task)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::IssueTask;
    use super::super::versions::Validation;
    use super::*;
    use crate::testing::*;
    use wrk_core::validation::Severity;

    fn issue(code: &str, severity: &str, path: &str, message: &str) -> StoredIssue {
        StoredIssue {
            code: code.into(),
            severity: Severity::parse(severity).unwrap(),
            message: message.into(),
            path: Some(path.into()),
            task: None,
        }
    }

    #[test]
    fn validation_tasks_are_created_once_and_closed_when_fixed() {
        let (_d, s) = store();
        let a = automation(&s, "A");
        let bp = serde_json::json!({"systems": [{"name": "Gmail"}, {"name": "Slack"}]});
        let bad = Validation {
            issues: vec![
                issue("missing_trigger", "error", "/trigger", "no trigger"),
                issue("unused_system", "warning", "/systems/0", "unused"),
                StoredIssue {
                    task: Some(IssueTask {
                        title: "Provide credentials for Gmail".into(),
                        assignee: Assignee::Client,
                    }),
                    ..issue(
                        "credentials_missing",
                        "warning",
                        "/systems",
                        "No credentials for Gmail yet.",
                    )
                },
                StoredIssue {
                    task: Some(IssueTask {
                        title: "Provide credentials for Slack".into(),
                        assignee: Assignee::Client,
                    }),
                    ..issue(
                        "credentials_missing",
                        "warning",
                        "/systems",
                        "No credentials for Slack yet.",
                    )
                },
            ],
            checklist: vec![],
        };
        save_blueprint(&s, a.id, &bp, 0, &bad).unwrap();
        save_blueprint(&s, a.id, &bp, 1, &bad).unwrap();
        let open = s
            .tasks(&TaskFilter {
                status: Some(TaskStatus::Todo),
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        let mut keys: Vec<&str> = open.iter().map(|t| t.key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "credentials:gmail",
                "credentials:slack",
                "validation:missing_trigger:/trigger"
            ]
        );

        let fixed = Validation {
            issues: vec![bad.issues[2].clone()],
            checklist: vec![],
        };
        save_blueprint(&s, a.id, &bp, 2, &fixed).unwrap();
        let open = s
            .tasks(&TaskFilter {
                status: Some(TaskStatus::Todo),
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].key, "credentials:gmail");
        let done = s
            .tasks(&TaskFilter {
                status: Some(TaskStatus::Done),
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        assert!(
            done.iter()
                .all(|t| t.closed_by.as_deref() == Some("system"))
        );
        assert_eq!(done.len(), 2);
    }

    /// A new automation whose blueprint was saved with one error issue (so one open task), and
    /// that validation.
    fn missing_trigger(s: &TenantStore) -> (AutomationId, Validation) {
        let a = automation(s, "A");
        let bad = Validation {
            issues: vec![issue("missing_trigger", "error", "/trigger", "no trigger")],
            checklist: vec![],
        };
        save_blueprint(s, a.id, &serde_json::json!({}), 0, &bad).unwrap();
        (a.id, bad)
    }

    #[test]
    fn an_unknown_stored_task_kind_is_an_error_not_a_default() {
        let (_d, s) = store();
        missing_trigger(&s);
        s.db()
            .write(|tx| Ok(tx.execute("UPDATE tasks SET kind = 'review'", [])?))
            .unwrap();
        let all = TaskFilter {
            limit: 5,
            ..Default::default()
        };
        let err = s.tasks(&all).unwrap_err().to_string();
        assert!(err.contains("unknown task kind `review`"), "{err}");
    }

    #[test]
    fn a_person_can_move_a_task_and_reopen_it() {
        let (_d, s) = store();
        let (a, bad) = missing_trigger(&s);
        let t = &s
            .tasks(&TaskFilter {
                limit: 5,
                ..Default::default()
            })
            .unwrap()[0];
        let t = s
            .set_task_status(t.id, TaskStatus::InProgress, &who(), &req())
            .unwrap();
        assert_eq!(t.status, TaskStatus::InProgress);
        let t = s
            .set_task_status(t.id, TaskStatus::Done, &who(), &req())
            .unwrap();
        assert_eq!(t.closed_by.as_deref(), Some("system:"));
        // A person closed it: the same cause does not open a new one behind their back.
        save_blueprint(&s, a, &serde_json::json!({}), 1, &bad).unwrap();
        assert_eq!(
            s.tasks(&TaskFilter {
                limit: 5,
                ..Default::default()
            })
            .unwrap()
            .len(),
            1
        );
        let t = s
            .set_task_status(t.id, TaskStatus::Todo, &who(), &req())
            .unwrap();
        assert_eq!(t.closed_by, None);
    }
}
