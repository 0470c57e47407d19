//! An automation's thread between the workspace and WRK ops (flow 30): its messages, each side's
//! read marker, and the unread count per thread and side.
//!
//! Every message of the product, a person's or the system's (a transition, a quote), is written
//! by [`insert_message`] inside the transaction of the change that causes it, together with its
//! audit row and its `message.created` live event.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use wrk_core::ids::{AutomationId, MessageId, UserId};
use wrk_core::notifications::NotificationKind;
use wrk_core::threads::{AuthorKind, Side};

use crate::audit::{AuditActor, RequestMeta, parse_timestamp, timestamp};
use crate::automations::{audit, load_automation, writable_automation};
use crate::error::{StoreError, StoreResult};
use crate::live_events;
use crate::notifications::{self, NewNotification};
use crate::tenant::TenantStore;

/// Who writes a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub kind: AuthorKind,
    /// A user's or ops user's id; `None` for the system.
    pub id: Option<String>,
    /// The name shown above the message.
    pub name: String,
}

impl Author {
    /// WRK Copilot itself.
    pub fn system() -> Self {
        Self {
            kind: AuthorKind::System,
            id: None,
            name: "WRK Copilot".to_owned(),
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: MessageId,
    pub automation_id: AutomationId,
    pub author_kind: AuthorKind,
    pub author_id: Option<String>,
    pub author_name: String,
    /// The markdown source as written.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

const MESSAGE_COLS: &str =
    "id, automation_id, author_kind, author_id, author_name, body, created_at";

fn corrupt(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::from(e.to_string()),
    )
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId::parse(&r.get::<_, String>(0)?).map_err(corrupt)?,
        automation_id: AutomationId::parse(&r.get::<_, String>(1)?).map_err(corrupt)?,
        author_kind: AuthorKind::parse(&r.get::<_, String>(2)?).map_err(corrupt)?,
        author_id: r.get(3)?,
        author_name: r.get(4)?,
        body: r.get(5)?,
        created_at: parse_timestamp(&r.get::<_, String>(6)?)?,
    })
}

/// The `message.created` event's data: what a stream shows without another request.
pub fn event_data(m: &Message) -> serde_json::Value {
    json!({
        "id": m.id,
        "automation_id": m.automation_id,
        "author": {"kind": m.author_kind, "name": m.author_name},
        "body": m.body,
        "created_at": m.created_at,
    })
}

/// Posts a message in an automation's thread inside the caller's transaction, with its audit row
/// and its `message.created` live event. The author's own side has read its thread up to here.
pub fn insert_message(
    tx: &Transaction<'_>,
    automation: AutomationId,
    author: &Author,
    body: &str,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<Message> {
    let m = Message {
        id: MessageId::new(),
        automation_id: automation,
        author_kind: author.kind,
        author_id: author.id.clone(),
        author_name: author.name.clone(),
        body: body.to_owned(),
        created_at: Utc::now(),
    };
    tx.prepare_cached(&format!(
        "INSERT INTO messages ({MESSAGE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        m.id.to_string(),
        automation.to_string(),
        author.kind.as_str(),
        author.id,
        author.name,
        body,
        timestamp(m.created_at),
    ])?;
    audit(
        tx,
        actor,
        request,
        "message.created",
        ("message", m.id.to_string()),
        None,
        Some(json!({"automation_id": automation, "author_kind": author.kind, "body": body})),
    )?;
    if author.kind != AuthorKind::System {
        set_read(tx, automation, Side::of(author.kind), m.id)?;
    }
    live_events::record(tx, "message.created", event_data(&m), None)?;
    Ok(m)
}

fn set_read(
    tx: &Transaction<'_>,
    automation: AutomationId,
    side: Side,
    upto: MessageId,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO thread_reads (automation_id, side, last_read_id, read_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (automation_id, side) DO UPDATE SET
            last_read_id = max(last_read_id, excluded.last_read_id), read_at = excluded.read_at",
    )?
    .execute(params![
        automation.to_string(),
        side.as_str(),
        upto.to_string(),
        timestamp(Utc::now())
    ])?;
    Ok(())
}

/// The authors whose messages are news to `side`, as an SQL list.
fn unread_authors(side: Side) -> String {
    AuthorKind::ALL
        .iter()
        .filter(|a| side.is_unread_for(**a))
        .map(|a| format!("'{}'", a.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unread_in(c: &Connection, automation: AutomationId, side: Side) -> StoreResult<u64> {
    Ok(c.query_row(
        &format!(
            "SELECT count(*) FROM messages m WHERE m.automation_id = ?1
               AND m.author_kind IN ({})
               AND m.id > coalesce((SELECT last_read_id FROM thread_reads r
                                     WHERE r.automation_id = ?1 AND r.side = ?2), '')",
            unread_authors(side)
        ),
        params![automation.to_string(), side.as_str()],
        |r| r.get(0),
    )?)
}

/// A message to post, and who of the workspace to notify (the host knows the members).
#[derive(Debug, Clone)]
pub struct Post<'a> {
    pub automation: AutomationId,
    pub author: &'a Author,
    pub body: &'a str,
    /// Workspace members to notify (kind `message`) in the same transaction.
    pub notify: &'a [UserId],
}

/// A posted message and the notifications it made.
#[derive(Debug, Clone)]
pub struct Posted {
    pub message: Message,
    pub notified: Vec<UserId>,
}

/// The first line of a body, shortened for a notification.
fn excerpt(body: &str) -> String {
    let line = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut out: String = line.chars().take(140).collect();
    if line.chars().count() > 140 {
        out.push('…');
    }
    out
}

impl TenantStore {
    /// Posts a person's message (flow 30) in an automation's thread: refused on an archived
    /// (read-only) automation. Notifies `notify` in the same transaction.
    pub fn post_message(
        &self,
        post: &Post<'_>,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<Posted> {
        self.db().write(|tx| {
            let automation = writable_automation(tx, post.automation)?;
            let message =
                insert_message(tx, post.automation, post.author, post.body, actor, request)?;
            let title = format!("{} wrote on {}", post.author.name, automation.name);
            let body = excerpt(post.body);
            let link = format!("/app/automations/{}#messages", post.automation);
            notifications::insert_for_each(
                tx,
                post.notify,
                &NewNotification {
                    user_id: UserId::new(), // each recipient's id replaces it
                    kind: NotificationKind::Message,
                    title: &title,
                    body: &body,
                    automation_id: Some(post.automation),
                    link: Some(&link),
                },
            )?;
            Ok(Posted {
                message,
                notified: post.notify.to_vec(),
            })
        })
    }

    /// An automation's messages, oldest first, after the message `after` (all when `None`), at
    /// most `limit`.
    pub fn messages(
        &self,
        automation: AutomationId,
        after: Option<MessageId>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.db().read(|c| {
            load_automation(c, automation)?;
            let mut st = c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE automation_id = ?1 AND id > ?2
                 ORDER BY id LIMIT ?3"
            ))?;
            let rows = st.query_map(
                params![
                    automation.to_string(),
                    after.map(|a| a.to_string()).unwrap_or_default(),
                    limit
                ],
                message_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many of the other side's messages `side` has not read in an automation's thread.
    pub fn unread_messages(&self, automation: AutomationId, side: Side) -> StoreResult<u64> {
        self.db().read(|c| {
            load_automation(c, automation)?;
            unread_in(c, automation, side)
        })
    }

    /// Threads of this workspace with messages `side` has not read: (automation, unread, the
    /// newest unread message's time), newest first.
    pub fn unread_threads(
        &self,
        side: Side,
    ) -> StoreResult<Vec<(AutomationId, u64, DateTime<Utc>)>> {
        self.db().read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT m.automation_id, count(*), max(m.created_at) FROM messages m
                 WHERE m.author_kind IN ({})
                   AND m.id > coalesce((SELECT last_read_id FROM thread_reads r
                                         WHERE r.automation_id = m.automation_id AND r.side = ?1), '')
                 GROUP BY m.automation_id ORDER BY max(m.id) DESC",
                unread_authors(side)
            ))?;
            let rows = st.query_map([side.as_str()], |r| {
                Ok((
                    AutomationId::parse(&r.get::<_, String>(0)?).map_err(corrupt)?,
                    r.get::<_, u64>(1)?,
                    parse_timestamp(&r.get::<_, String>(2)?)?,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// `side` has read an automation's thread up to its newest message. Not an audited change:
    /// a read marker is bookkeeping, like a notification's `read_at`.
    pub fn mark_thread_read(&self, automation: AutomationId, side: Side) -> StoreResult<()> {
        self.db().write(|tx| {
            load_automation(tx, automation)?;
            let newest: Option<String> = tx
                .query_row(
                    "SELECT max(id) FROM messages WHERE automation_id = ?1",
                    [automation.to_string()],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            if let Some(newest) = newest {
                let id =
                    MessageId::parse(&newest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                set_read(tx, automation, side, id)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_message_is_unread_for_the_other_side_until_it_reads_the_thread() {
        let (_dir, tenant) = testing::store();
        let a = testing::automation(&tenant, "Invoices").id;
        let member = UserId::new();
        let ops = Author {
            kind: AuthorKind::Ops,
            id: Some("ops-1".into()),
            name: "Olga".into(),
        };
        let posted = tenant
            .post_message(
                &Post {
                    automation: a,
                    author: &ops,
                    body: "Can you **share** the sheet?",
                    notify: &[member],
                },
                &AuditActor::system(),
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!(posted.notified, [member]);
        assert_eq!(tenant.unread_messages(a, Side::Workspace).unwrap(), 1);
        assert_eq!(tenant.unread_messages(a, Side::Ops).unwrap(), 0);
        assert_eq!(tenant.unread_threads(Side::Workspace).unwrap()[0].1, 1);
        let listed = tenant.messages(a, None, 50).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].author_name, "Olga");
        assert!(
            tenant
                .messages(a, Some(listed[0].id), 50)
                .unwrap()
                .is_empty()
        );
        tenant.mark_thread_read(a, Side::Workspace).unwrap();
        assert_eq!(tenant.unread_messages(a, Side::Workspace).unwrap(), 0);
        let client = Author {
            kind: AuthorKind::User,
            id: Some(member.to_string()),
            name: "Cleo".into(),
        };
        tenant
            .post_message(
                &Post {
                    automation: a,
                    author: &client,
                    body: "Sure",
                    notify: &[],
                },
                &AuditActor::system(),
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!(tenant.unread_messages(a, Side::Ops).unwrap(), 1);
        assert_eq!(tenant.unread_messages(a, Side::Workspace).unwrap(), 0);
        let n = tenant.notifications_of(member, None, 10).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "Olga wrote on Invoices");
        assert_eq!(n[0].body, "Can you **share** the sheet?");
    }

    #[test]
    fn excerpts_take_the_first_line_and_shorten_it() {
        assert_eq!(excerpt("\n\nhello\nworld"), "hello");
        assert_eq!(excerpt(&"a".repeat(200)).chars().count(), 141);
    }
}
