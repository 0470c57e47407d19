//! The durable log of live events of one workspace (`live_events`, migration 0008): what the
//! server-sent-events stream (`GET /api/events`) shows, written by [`record`] inside the
//! transaction of the change it reports, so an event exists exactly when its change does.
//!
//! Ids are monotonic per workspace. A stream that reconnects with the last id it saw is replayed
//! everything after it ([`TenantStore::live_events_after`]), so it never has a gap.
//!
//! Streams learn about new rows without polling: [`record`] also notes the event for the
//! current thread, and [`crate::db::Db::write`] hands the notes to the process's listener
//! ([`set_listener`]) once the transaction has committed (and drops them if it rolls back).

use std::cell::RefCell;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;
use wrk_core::ids::{TenantId, UserId};

use crate::audit::{parse_timestamp, timestamp};
use crate::error::{StoreError, StoreResult};
use crate::tenant::TenantStore;

/// How many events a workspace keeps for reconnecting streams; older ones are pruned as new ones
/// arrive (a stream away for longer reloads what it shows instead).
pub const RETAINED: i64 = 10_000;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveEvent {
    pub tenant_id: TenantId,
    /// Monotonic within the workspace.
    pub id: i64,
    /// `message.created`, `version.status_changed`, `task.created`, `task.updated`,
    /// `notification.created`.
    pub kind: String,
    pub data: Value,
    /// Set when only this user may see the event (their own notification).
    pub user_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl LiveEvent {
    /// Whether a stream of `user` (a workspace member) shows this event.
    pub fn visible_to_user(&self, user: UserId) -> bool {
        self.user_id.is_none_or(|u| u == user)
    }

    /// Whether an ops stream shows this event (everything not meant for one member).
    pub fn visible_to_ops(&self) -> bool {
        self.user_id.is_none()
    }
}

type Listener = Box<dyn Fn(&[LiveEvent]) + Send + Sync>;

static LISTENER: OnceLock<Listener> = OnceLock::new();

thread_local! {
    /// Events recorded by the transactions running on this thread, not yet committed.
    static PENDING: RefCell<Vec<LiveEvent>> = const { RefCell::new(Vec::new()) };
}

/// Sets the process's listener, called with the events of each committed transaction. The first
/// call wins (one process, one bus).
pub fn set_listener(f: impl Fn(&[LiveEvent]) + Send + Sync + 'static) {
    let _ = LISTENER.set(Box::new(f));
}

/// How many events are pending on this thread: [`crate::db::Db::write`] takes this mark before
/// its transaction and settles everything after it.
pub(crate) fn mark() -> usize {
    PENDING.with(|p| p.borrow().len())
}

/// The transaction that began at `mark` committed: hand its events to the listener.
pub(crate) fn committed(mark: usize) {
    let events: Vec<LiveEvent> = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() > mark {
            p.split_off(mark)
        } else {
            Vec::new()
        }
    });
    if !events.is_empty()
        && let Some(listener) = LISTENER.get()
    {
        listener(&events);
    }
}

/// The transaction that began at `mark` rolled back: forget its events.
pub(crate) fn rolled_back(mark: usize) {
    PENDING.with(|p| p.borrow_mut().truncate(mark));
}

/// Records an event inside the caller's transaction (the change it reports) and returns its id.
pub fn record(
    tx: &Transaction<'_>,
    kind: &str,
    data: Value,
    user_id: Option<UserId>,
) -> StoreResult<i64> {
    let tenant: String = tx
        .prepare_cached("SELECT tenant_id FROM tenant_meta WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let tenant_id = TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let at = Utc::now();
    tx.prepare_cached(
        "INSERT INTO live_events (kind, data, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        kind,
        data.to_string(),
        user_id.map(|u| u.to_string()),
        timestamp(at)
    ])?;
    let id = tx.last_insert_rowid();
    if id % 100 == 0 {
        tx.prepare_cached("DELETE FROM live_events WHERE id <= ?1")?
            .execute([id - RETAINED])?;
    }
    PENDING.with(|p| {
        p.borrow_mut().push(LiveEvent {
            tenant_id,
            id,
            kind: kind.to_owned(),
            data,
            user_id,
            created_at: at,
        });
    });
    Ok(id)
}

impl TenantStore {
    /// The events after `after` (oldest first, at most `limit`).
    pub fn live_events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<LiveEvent>> {
        let tenant_id = self.id();
        self.db().read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, kind, data, user_id, created_at FROM live_events
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = st.query_map(params![after, limit], |r| {
                let data: String = r.get(2)?;
                let user: Option<String> = r.get(3)?;
                Ok(LiveEvent {
                    tenant_id,
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                    user_id: user.and_then(|u| UserId::parse(&u).ok()),
                    created_at: parse_timestamp(&r.get::<_, String>(4)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The events recorded after `at` (oldest first, at most `limit`): how an ops stream that
    /// spans every workspace resumes in the workspaces other than the one its last id names.
    pub fn live_events_since(&self, at: DateTime<Utc>, limit: u32) -> StoreResult<Vec<LiveEvent>> {
        let after: i64 = self.db().read(|c| {
            Ok(c.query_row(
                "SELECT coalesce(max(id), 0) FROM live_events WHERE created_at <= ?1",
                [timestamp(at)],
                |r| r.get(0),
            )?)
        })?;
        self.live_events_after(after, limit)
    }

    /// When event `id` was recorded, if it is still kept.
    pub fn live_event_time(&self, id: i64) -> StoreResult<Option<DateTime<Utc>>> {
        self.db().read(|c| {
            let at: Option<String> = c
                .query_row(
                    "SELECT created_at FROM live_events WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(at.as_deref().map(parse_timestamp).transpose()?)
        })
    }

    /// The newest event's id (0 when there is none): where a fresh stream starts.
    pub fn live_events_head(&self) -> StoreResult<i64> {
        self.db().read(|c| {
            Ok(
                c.query_row("SELECT coalesce(max(id), 0) FROM live_events", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::testing;

    #[test]
    fn events_are_kept_in_order_and_announced_only_when_their_transaction_commits() {
        let seen: Arc<Mutex<Vec<(TenantId, i64, String)>>> = Arc::default();
        let s = seen.clone();
        set_listener(move |evs| {
            for e in evs {
                s.lock().unwrap().push((e.tenant_id, e.id, e.kind.clone()));
            }
        });
        let (_dir, tenant) = testing::store();
        let t = tenant.id();
        let first = tenant
            .db()
            .write(|tx| record(tx, "task.created", serde_json::json!({"n": 1}), None))
            .unwrap();
        let failed: StoreResult<()> = tenant.db().write(|tx| {
            record(tx, "task.updated", serde_json::json!({}), None)?;
            Err(StoreError::Conflict("no".into()))
        });
        assert!(failed.is_err());
        let user = UserId::new();
        let second = tenant
            .db()
            .write(|tx| {
                record(
                    tx,
                    "notification.created",
                    serde_json::json!({}),
                    Some(user),
                )
            })
            .unwrap();
        assert!(second > first);
        let mine: Vec<_> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.0 == t)
            .map(|e| e.2.clone())
            .collect();
        assert_eq!(mine, ["task.created", "notification.created"]);
        let after = tenant.live_events_after(first, 10).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].id, second);
        assert!(after[0].visible_to_user(user));
        assert!(!after[0].visible_to_user(UserId::new()));
        assert!(!after[0].visible_to_ops());
        assert_eq!(tenant.live_events_head().unwrap(), second);
    }
}
