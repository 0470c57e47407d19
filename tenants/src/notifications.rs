//! Per-user in-app notifications of one workspace (PRODUCT.md "Notifications"), stored in the
//! workspace's own file (`notifications`, migration 0007).
//!
//! A notification is written by the change that causes it, inside that change's transaction, with
//! [`insert`]: a message posted, an alert fired, a credential failing, a version blocked. Who gets
//! one is the caller's decision (the members are in `control.db`); this module stores, lists and
//! marks rows and keeps each user's email preference per [`NotificationKind`].

use chrono::Utc;
use rusqlite::{Transaction, params};
use wrk_core::ids::{AutomationId, NotificationId, UserId};
use wrk_core::notifications::NotificationKind;

use crate::audit::timestamp;
use crate::error::StoreResult;

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

/// Stores one notification inside the caller's transaction and returns its id.
pub fn insert(tx: &Transaction<'_>, n: &NewNotification<'_>) -> StoreResult<NotificationId> {
    let id = NotificationId::new();
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
}
