//! The email outbox (`emails` in `control.db`). A message is stored by [`enqueue_email`] inside
//! the transaction of the change that causes it, together with a `send_email` job (unique key
//! `send_email:<email id>`), so "account created" and "verification email will be sent" commit
//! or roll back as one. The host's `send_email` handler delivers it and records the outcome here.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;
use wrk_core::redact::mask_secrets;

use crate::audit::{parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::{StoreError, StoreResult};
use crate::jobs::{self, NewJob};

/// The job kind that delivers one email; its payload is `{"email_id": "<id>"}`.
pub const SEND_EMAIL_JOB: &str = "send_email";

/// A message to send. `text` and `html` are the two alternative bodies (both required);
/// `kind` names the template (`verify_email`, `invitation`, `password_reset`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting for delivery or for a retry.
    Queued,
    /// No SMTP server configured: logged instead of sent; sent by a later start that has SMTP.
    Held,
    Sent,
    /// Delivery gave up.
    Failed,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Queued => "queued",
            EmailStatus::Held => "held",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => EmailStatus::Queued,
            "held" => EmailStatus::Held,
            "sent" => EmailStatus::Sent,
            "failed" => EmailStatus::Failed,
            _ => return None,
        })
    }
}

/// A stored email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailRecord {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub kind: String,
    pub status: EmailStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, to_address, subject, text, html, kind, status, attempts, last_error, created_at, sent_at";

fn email_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EmailRecord> {
    Ok(EmailRecord {
        id: r.get(0)?,
        to: r.get(1)?,
        subject: r.get(2)?,
        text: r.get(3)?,
        html: r.get(4)?,
        kind: r.get(5)?,
        status: EmailStatus::parse(&r.get::<_, String>(6)?).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                "unknown email status".into(),
            )
        })?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        created_at: parse_timestamp(&r.get::<_, String>(9)?)?,
        sent_at: r
            .get::<_, Option<String>>(10)?
            .as_deref()
            .map(parse_timestamp)
            .transpose()?,
    })
}

/// Stores `msg` in the outbox and enqueues its `send_email` job, both inside the caller's
/// transaction. Returns the email's id (a UUID v7).
pub fn enqueue_email(tx: &Transaction<'_>, msg: &OutgoingEmail) -> StoreResult<String> {
    if msg.to.trim().is_empty() || msg.to.contains(['\r', '\n']) {
        return Err(StoreError::Conflict(
            "an email needs one recipient address".into(),
        ));
    }
    let id = Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO emails (id, to_address, subject, text, html, kind, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7)",
        params![
            id,
            msg.to.trim(),
            msg.subject,
            msg.text,
            msg.html,
            msg.kind,
            timestamp(Utc::now())
        ],
    )?;
    jobs::enqueue(
        tx,
        &NewJob::new(SEND_EMAIL_JOB, json!({ "email_id": id }))
            .unique_key(format!("{SEND_EMAIL_JOB}:{id}")),
    )?;
    Ok(id)
}

/// Filter for [`ControlStore::list_emails`].
#[derive(Debug, Clone, Default)]
pub struct EmailFilter {
    pub status: Option<EmailStatus>,
    /// Exact recipient address.
    pub to: Option<String>,
    /// At most this many (newest first); 0 means 100.
    pub limit: u32,
}

fn email_by_id(c: &Connection, id: &str) -> StoreResult<Option<EmailRecord>> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM emails WHERE id = ?1"),
        [id],
        email_from_row,
    )
    .optional()?)
}

impl ControlStore {
    /// Stores and enqueues one email in its own transaction.
    pub fn enqueue_email(&self, msg: &OutgoingEmail) -> StoreResult<String> {
        self.db.write(|tx| enqueue_email(tx, msg))
    }

    pub fn email(&self, id: &str) -> StoreResult<Option<EmailRecord>> {
        self.db.read(|c| email_by_id(c, id))
    }

    /// The outbox, newest first (ops console).
    pub fn list_emails(&self, filter: &EmailFilter) -> StoreResult<Vec<EmailRecord>> {
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        self.db.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM emails
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR to_address = ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![filter.status.map(EmailStatus::as_str), filter.to, limit],
                email_from_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Counts one delivery attempt; returns the record as it stands (None if unknown).
    pub fn email_attempt_started(&self, id: &str) -> StoreResult<Option<EmailRecord>> {
        self.db.write(|tx| {
            tx.execute(
                "UPDATE emails SET attempts = attempts + 1 WHERE id = ?1 AND status IN ('queued', 'held')",
                [id],
            )?;
            email_by_id(tx, id)
        })
    }

    /// The SMTP server accepted the message. Its stored bodies are masked at the same time
    /// (`wrk_core::redact`): a delivered message is never sent again, so the outbox keeps no
    /// live link once the recipient has it.
    pub fn mark_email_sent(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.db.write(|tx| {
            let bodies: Option<(String, String)> = tx
                .query_row("SELECT text, html FROM emails WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((text, html)) = bodies else {
                return Ok(());
            };
            tx.execute(
                "UPDATE emails SET status = 'sent', sent_at = ?2, last_error = NULL,
                        text = ?3, html = ?4
                 WHERE id = ?1",
                params![id, timestamp(at), mask_secrets(&text), mask_secrets(&html)],
            )?;
            Ok(())
        })
    }

    /// A delivery attempt failed; `give_up` marks the message `failed` (its job used its last
    /// attempt), otherwise it stays `queued` for the job's retry.
    pub fn mark_email_error(&self, id: &str, error: &str, give_up: bool) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute(
                "UPDATE emails SET last_error = ?2,
                        status = CASE WHEN ?3 THEN 'failed' ELSE status END
                 WHERE id = ?1 AND status <> 'sent'",
                params![id, error, give_up],
            )?;
            Ok(())
        })
    }

    /// No SMTP server: the message was logged and is kept as `held`.
    pub fn mark_email_held(&self, id: &str) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute(
                "UPDATE emails SET status = 'held' WHERE id = ?1 AND status = 'queued'",
                [id],
            )?;
            Ok(())
        })
    }

    /// With SMTP now configured, queues every held message for delivery again. Returns how many.
    pub fn release_held_emails(&self) -> StoreResult<usize> {
        let now = Utc::now();
        self.db.write(|tx| {
            let ids: Vec<String> = {
                let mut stmt = tx.prepare("SELECT id FROM emails WHERE status = 'held'")?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for id in &ids {
                tx.execute("UPDATE emails SET status = 'queued' WHERE id = ?1", [id])?;
                jobs::enqueue(
                    tx,
                    &NewJob::new(SEND_EMAIL_JOB, json!({ "email_id": id }))
                        .unique_key(format!("{SEND_EMAIL_JOB}:{id}:released:{}", timestamp(now))),
                )?;
            }
            Ok(ids.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobStatus;
    use crate::{Storage, StorageConfig};

    fn msg(to: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: to.into(),
            subject: "Verify".into(),
            text: "Open http://x/verify?t=1".into(),
            html: "<p>Open</p>".into(),
            kind: "verify_email".into(),
        }
    }

    #[test]
    fn an_email_and_its_job_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(StorageConfig::new(dir.path())).unwrap();
        let c = s.control();
        let id = c
            .db()
            .write(|tx| enqueue_email(tx, &msg("a@example.com")))
            .unwrap();
        let email = c.email(&id).unwrap().unwrap();
        assert_eq!(email.status, EmailStatus::Queued);
        assert_eq!(email.to, "a@example.com");
        let job = c.job_by_key(&format!("send_email:{id}")).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Queued);
        assert_eq!(job.payload["email_id"], id);

        let r: StoreResult<()> = c.db().write(|tx| {
            enqueue_email(tx, &msg("b@example.com"))?;
            Err(StoreError::Conflict("rolled back".into()))
        });
        assert!(r.is_err());
        let all = c.list_emails(&EmailFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert!(
            c.db()
                .write(|tx| enqueue_email(tx, &msg("x\r\nBcc: y")))
                .is_err()
        );
    }

    #[test]
    fn held_emails_are_released_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(StorageConfig::new(dir.path())).unwrap();
        let c = s.control();
        let id = c.enqueue_email(&msg("a@example.com")).unwrap();
        c.mark_email_held(&id).unwrap();
        assert_eq!(c.email(&id).unwrap().unwrap().status, EmailStatus::Held);
        assert_eq!(c.release_held_emails().unwrap(), 1);
        assert_eq!(c.release_held_emails().unwrap(), 0);
        assert_eq!(c.email(&id).unwrap().unwrap().status, EmailStatus::Queued);
        c.mark_email_sent(&id, Utc::now()).unwrap();
        let stored = c.email(&id).unwrap().unwrap();
        assert_eq!(
            stored.text, "Open http://x/verify?t=[hidden]",
            "no live link kept"
        );
        let sent = c
            .list_emails(&EmailFilter {
                status: Some(EmailStatus::Sent),
                ..EmailFilter::default()
            })
            .unwrap();
        assert_eq!(sent.len(), 1);
    }
}
