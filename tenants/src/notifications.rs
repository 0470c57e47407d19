//! Per-user in-app notifications of one workspace (PRODUCT.md "Notifications"), stored in the
//! workspace's own file (`notifications`, migration 0007).
//!
//! A notification is written by the change that causes it, inside that change's transaction, with
//! [`insert`]: a message posted, an alert fired, a credential failing, a version blocked. Who gets
//! one is the caller's decision (the members are in `control.db`); this module stores, lists and
//! marks rows and keeps each user's email preference per [`NotificationKind`].

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::ids::{AutomationId, NotificationId, UserId};
use wrk_core::notifications::NotificationKind;

use crate::audit::{parse_timestamp, timestamp};
use crate::error::{Entity, StoreError, StoreResult};
use crate::live_events;
use crate::tenant::TenantStore;

/// A notification to store for one user.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub user_id: UserId,
    pub kind: NotificationKind,
    /// One line for the list and the badge's menu.
    pub title: &'a str,
    /// More detail; may be empty.
    pub body: &'a str,
    pub automation_id: Option<AutomationId>,
    /// A path in the workspace UI that the notification opens (`/app/automations/{id}`).
    pub link: Option<&'a str>,
}

/// Stores one notification inside the caller's transaction and returns its id. Its
/// `notification.created` live event, seen only by its user's streams, is written with it.
pub fn insert(tx: &Transaction<'_>, n: &NewNotification<'_>) -> StoreResult<NotificationId> {
    let id = NotificationId::new();
    live_events::record(
        tx,
        "notification.created",
        json!({
            "id": id,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "automation_id": n.automation_id,
            "link": n.link,
        }),
        Some(n.user_id),
    )?;
    tx.prepare_cached(
        "INSERT INTO notifications (id, user_id, kind, title, body, automation_id, link, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id.to_string(),
        n.user_id.to_string(),
        n.kind.as_str(),
        n.title,
        n.body,
        n.automation_id.map(|a| a.to_string()),
        n.link,
        timestamp(Utc::now()),
    ])?;
    Ok(id)
}

/// Stores the same notification for each of `users` (every member of the workspace, say) inside
/// the caller's transaction.
pub fn insert_for_each(
    tx: &Transaction<'_>,
    users: &[UserId],
    template: &NewNotification<'_>,
) -> StoreResult<Vec<NotificationId>> {
    users
        .iter()
        .map(|&user_id| {
            insert(
                tx,
                &NewNotification {
                    user_id,
                    ..template.clone()
                },
            )
        })
        .collect()
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub automation_id: Option<AutomationId>,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub emailed_at: Option<DateTime<Utc>>,
}

const COLS: &str =
    "id, user_id, kind, title, body, automation_id, link, created_at, read_at, emailed_at";

fn conv(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::from(e.to_string()),
    )
}

fn opt_time(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_timestamp).transpose()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: NotificationId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        user_id: UserId::parse(&r.get::<_, String>(1)?).map_err(conv)?,
        kind: NotificationKind::parse(&r.get::<_, String>(2)?).map_err(conv)?,
        title: r.get(3)?,
        body: r.get(4)?,
        automation_id: r
            .get::<_, Option<String>>(5)?
            .map(|a| AutomationId::parse(&a).map_err(conv))
            .transpose()?,
        link: r.get(6)?,
        created_at: parse_timestamp(&r.get::<_, String>(7)?)?,
        read_at: opt_time(r.get(8)?)?,
        emailed_at: opt_time(r.get(9)?)?,
    })
}

/// A user's email preference for one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pref {
    pub kind: NotificationKind,
    pub email: bool,
}

impl TenantStore {
    /// A user's notifications, newest first, older than `before` (a notification id) when given.
    pub fn notifications_of(
        &self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        self.db().read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLS} FROM notifications WHERE user_id = ?1
                   AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = st.query_map(
                params![user.to_string(), before.map(|b| b.to_string()), limit],
                row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many of a user's notifications are unread.
    pub fn unread_notifications(&self, user: UserId) -> StoreResult<u64> {
        self.db().read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
                [user.to_string()],
                |r| r.get(0),
            )?)
        })
    }

    /// Marks one of `user`'s notifications read (again is fine). Another user's is not found.
    pub fn mark_notification_read(&self, user: UserId, id: NotificationId) -> StoreResult<()> {
        self.db().write(|tx| {
            let found: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM notifications WHERE id = ?1 AND user_id = ?2",
                    params![id.to_string(), user.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_none() {
                return Err(StoreError::NotFound(Entity::Notification));
            }
            tx.execute(
                "UPDATE notifications SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL",
                params![id.to_string(), timestamp(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Marks every notification of `user` read; returns how many were unread.
    pub fn mark_all_notifications_read(&self, user: UserId) -> StoreResult<usize> {
        self.db().write(|tx| {
            Ok(tx.execute(
                "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL",
                params![user.to_string(), timestamp(Utc::now())],
            )?)
        })
    }

    /// A user's email preference for every kind (on unless they turned it off).
    pub fn notification_prefs(&self, user: UserId) -> StoreResult<Vec<Pref>> {
        self.db().read(|c| {
            let mut st = c.prepare_cached(
                "SELECT email FROM notification_prefs WHERE user_id = ?1 AND kind = ?2",
            )?;
            NotificationKind::ALL
                .iter()
                .map(|&kind| {
                    let email: Option<bool> = st
                        .query_row(params![user.to_string(), kind.as_str()], |r| r.get(0))
                        .optional()?;
                    Ok(Pref {
                        kind,
                        email: email.unwrap_or(true),
                    })
                })
                .collect()
        })
    }

    /// Sets a user's email preference for the given kinds (the others keep theirs).
    pub fn set_notification_prefs(&self, user: UserId, prefs: &[Pref]) -> StoreResult<Vec<Pref>> {
        self.db().write(|tx| {
            for p in prefs {
                tx.execute(
                    "INSERT INTO notification_prefs (user_id, kind, email) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email",
                    params![user.to_string(), p.kind.as_str(), p.email],
                )?;
            }
            Ok(())
        })?;
        self.notification_prefs(user)
    }

    /// The message notifications a digest for `user` would carry: unread, never emailed, and
    /// only if the user wants message emails. Oldest first.
    pub fn digest_pending(&self, user: UserId) -> StoreResult<Vec<Notification>> {
        self.db().read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLS} FROM notifications n WHERE user_id = ?1 AND kind = 'message'
                   AND read_at IS NULL AND emailed_at IS NULL
                   AND coalesce((SELECT email FROM notification_prefs p
                                 WHERE p.user_id = n.user_id AND p.kind = n.kind), 1) = 1
                 ORDER BY id"
            ))?;
            let rows = st.query_map([user.to_string()], row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The digest carrying `ids` was queued: they are emailed, and this is the user's last
    /// digest.
    pub fn digest_sent(&self, user: UserId, ids: &[NotificationId]) -> StoreResult<()> {
        self.db().write(|tx| {
            let at = timestamp(Utc::now());
            for id in ids {
                tx.execute(
                    "UPDATE notifications SET emailed_at = ?2 WHERE id = ?1",
                    params![id.to_string(), at],
                )?;
            }
            tx.execute(
                "INSERT INTO notification_digests (user_id, last_sent_at) VALUES (?1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET last_sent_at = excluded.last_sent_at",
                params![user.to_string(), at],
            )?;
            Ok(())
        })
    }

    /// When `user` last got a digest.
    pub fn last_digest_at(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        self.db().read(|c| {
            opt_time(
                c.query_row(
                    "SELECT last_sent_at FROM notification_digests WHERE user_id = ?1",
                    [user.to_string()],
                    |r| r.get(0),
                )
                .optional()?,
            )
            .map_err(Into::into)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_notification_is_stored_for_each_user_in_the_callers_transaction() {
        let (_dir, tenant) = testing::store();
        let (a, b) = (UserId::new(), UserId::new());
        let ids = tenant
            .db()
            .write(|tx| {
                insert_for_each(
                    tx,
                    &[a, b],
                    &NewNotification {
                        user_id: a,
                        kind: NotificationKind::Alert,
                        title: "Failure rate above 10%",
                        body: "",
                        automation_id: None,
                        link: Some("/app/alerts"),
                    },
                )
            })
            .unwrap();
        assert_eq!(ids.len(), 2);
        let mut rows: Vec<(String, String)> = tenant
            .db()
            .read(|c| {
                let mut st = c.prepare("SELECT user_id, kind FROM notifications")?;
                let rows = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .unwrap();
        rows.sort();
        let mut want = vec![
            (a.to_string(), "alert".to_owned()),
            (b.to_string(), "alert".to_owned()),
        ];
        want.sort();
        assert_eq!(rows, want);
    }

    #[test]
    fn users_read_their_own_notifications_and_choose_their_emails() {
        let (_dir, tenant) = testing::store();
        let (a, b) = (UserId::new(), UserId::new());
        let n = |title: &'static str| NewNotification {
            user_id: a,
            kind: NotificationKind::Message,
            title,
            body: "",
            automation_id: None,
            link: None,
        };
        let ids = tenant
            .db()
            .write(|tx| Ok(vec![insert(tx, &n("one"))?, insert(tx, &n("two"))?]))
            .unwrap();
        let listed = tenant.notifications_of(a, None, 10).unwrap();
        assert_eq!(
            listed.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
            ["two", "one"]
        );
        assert_eq!(
            tenant.notifications_of(a, Some(ids[1]), 10).unwrap().len(),
            1
        );
        assert_eq!(tenant.unread_notifications(a).unwrap(), 2);
        assert!(matches!(
            tenant.mark_notification_read(b, ids[0]),
            Err(StoreError::NotFound(Entity::Notification))
        ));
        tenant.mark_notification_read(a, ids[0]).unwrap();
        tenant.mark_notification_read(a, ids[0]).unwrap();
        assert_eq!(tenant.unread_notifications(a).unwrap(), 1);
        assert_eq!(tenant.digest_pending(a).unwrap().len(), 1);
        let prefs = tenant
            .set_notification_prefs(
                a,
                &[Pref {
                    kind: NotificationKind::Message,
                    email: false,
                }],
            )
            .unwrap();
        assert!(
            prefs
                .iter()
                .all(|p| p.email == (p.kind != NotificationKind::Message))
        );
        assert!(tenant.digest_pending(a).unwrap().is_empty());
        assert_eq!(tenant.mark_all_notifications_read(a).unwrap(), 1);
        assert_eq!(tenant.unread_notifications(a).unwrap(), 0);
        assert!(tenant.last_digest_at(a).unwrap().is_none());
        tenant.digest_sent(a, &ids).unwrap();
        assert!(tenant.last_digest_at(a).unwrap().is_some());
    }
}
