//! The numbers behind the ops console's home queues that are not a plain automation list:
//! overdue tasks of one side (tenant) and undelivered emails (control plane). Which queues exist
//! and what they link to is the host's business.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use wrk_core::health::TASK_OVERDUE_AFTER_DAYS;
use wrk_core::machine::VersionStatus;
use wrk_core::tasks::Assignee;

use crate::audit::timestamp;
use crate::automations::tasks::{TASK_COLS, Task, task_row};
use crate::control::ControlStore;
use crate::error::StoreResult;
use crate::tenant::TenantStore;

impl TenantStore {
    /// How many automations show `status` (their newest non-archived version's, as in the
    /// automation list).
    pub fn count_automations_in(&self, status: VersionStatus) -> StoreResult<u64> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM automations a
                 WHERE (SELECT status FROM versions v WHERE v.automation_id = a.id
                          AND v.status <> 'archived' ORDER BY v.number DESC LIMIT 1) = ?1",
                [status.as_str()],
                |r| r.get(0),
            )?)
        })
    }

    /// How many open tasks of `side` have waited more than [`TASK_OVERDUE_AFTER_DAYS`] days at
    /// `now`, and the oldest `limit` of them.
    pub fn overdue_tasks(
        &self,
        side: Assignee,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<(u64, Vec<Task>)> {
        let before = timestamp(now - Duration::days(TASK_OVERDUE_AFTER_DAYS));
        self.db().read(|c| {
            let n: u64 = c.query_row(
                "SELECT count(*) FROM tasks
                 WHERE status <> 'done' AND assignee = ?1 AND created_at < ?2",
                params![side.as_str(), before],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM tasks
                 WHERE status <> 'done' AND assignee = ?1 AND created_at < ?2
                 ORDER BY created_at, id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![side.as_str(), before, limit], task_row)?;
            Ok((n, rows.collect::<Result<_, _>>()?))
        })
    }
}

impl ControlStore {
    /// Emails not delivered: held (no SMTP configured), given up on, or waiting for a retry
    /// after a failed attempt.
    pub fn undelivered_emails(&self) -> StoreResult<u64> {
        self.db.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM emails
                 WHERE status IN ('held', 'failed') OR (status = 'queued' AND attempts > 0)",
                [],
                |r| r.get(0),
            )?)
        })
    }
}
