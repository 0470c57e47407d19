//! Flow 30: the thread of an automation between the workspace and ops, and the notifications and
//! email digests it causes.
//!
//! A message from ops (or the system) notifies every member of the workspace, in the message's
//! transaction. A member with no event stream open is offline: instead of one email per message,
//! their unread message notifications are gathered into one digest, sent at the end of the
//! current `WRK_DIGEST_INTERVAL` window — so at most one per window per person — through the
//! durable job queue and the email outbox.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use wrk_core::ids::{AutomationId, TenantId, UserId};
use wrk_core::threads::{AuthorKind, MessageBody};
use wrk_tenants::StoreResult;
use wrk_tenants::jobs::NewJob;
use wrk_tenants::outbox::enqueue_email;
use wrk_tenants::threads::{Author, Post, Posted};

use super::Caller;
use crate::events::bus;
use crate::jobs::{JobContext, JobError};
use crate::state::AppState;

/// The job that emails one person their message digest.
pub const DIGEST_JOB: &str = "message_digest";

/// Who posts: a member (or API key) of the workspace, or an ops user.
#[derive(Debug, Clone)]
pub struct Poster {
    pub author: Author,
    pub caller: Caller,
}

/// Posts a message; a message by ops notifies the workspace's members, and schedules the digest
/// of those who are offline.
pub async fn post(
    app: &AppState,
    tenant: TenantId,
    automation: AutomationId,
    poster: Poster,
    body: MessageBody,
) -> Result<Posted, crate::error::ApiError> {
    let notify_members = poster.author.kind != AuthorKind::User;
    let posted = app
        .blocking(move |s| {
            let notify: Vec<UserId> = if notify_members {
                s.control()
                    .members(tenant)?
                    .into_iter()
                    .map(|m| m.user_id)
                    .collect()
            } else {
                Vec::new()
            };
            s.tenant(tenant)?.post_message(
                &Post {
                    automation,
                    author: &poster.author,
                    body: body.as_str(),
                    notify: &notify,
                },
                &poster.caller.audit,
                &poster.caller.request,
            )
        })
        .await?;
    let offline: Vec<UserId> = posted
        .notified
        .iter()
        .copied()
        .filter(|u| !bus().is_online(tenant, *u))
        .collect();
    if !offline.is_empty() {
        let interval = app.config.digest_interval;
        let scheduled = app
            .blocking(move |s| schedule_digests(s, tenant, &offline, interval, Utc::now()))
            .await;
        if let Err(e) = scheduled {
            tracing::error!(error = %e, %tenant, "could not schedule message digests");
        }
        app.jobs.wake();
    }
    Ok(posted)
}

/// The end of the digest window `now` falls in: windows are `interval` seconds long from the
/// Unix epoch, and a person's digest for a window is one job keyed by it.
pub fn window_end(now: DateTime<Utc>, interval: u64) -> (i64, DateTime<Utc>) {
    let interval = i64::try_from(interval.max(1)).unwrap_or(i64::MAX);
    let slot = now.timestamp().div_euclid(interval);
    let end = Utc
        .timestamp_opt((slot + 1).saturating_mul(interval), 0)
        .single()
        .unwrap_or(now);
    (slot, end)
}

/// Enqueues, once per window, the digest job of each of `users`.
fn schedule_digests(
    s: &wrk_tenants::Storage,
    tenant: TenantId,
    users: &[UserId],
    interval: u64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (slot, end) = window_end(now, interval);
    s.control().db().write(|tx| {
        for u in users {
            wrk_tenants::jobs::enqueue(
                tx,
                &NewJob::new(DIGEST_JOB, json!({"user_id": u}))
                    .tenant(tenant)
                    .unique_key(format!("{DIGEST_JOB}:{tenant}:{u}:{slot}"))
                    .run_at(end),
            )?;
        }
        Ok(())
    })
}

/// The digest job: one email with every unread message notification the person has not been
/// emailed about yet (none: nothing to send). A person who turned message emails off gets none.
pub async fn digest_job(ctx: JobContext) -> Result<(), JobError> {
    let tenant = ctx
        .job
        .tenant_id
        .ok_or_else(|| JobError::permanent("a digest job needs its workspace"))?;
    let user = ctx
        .job
        .payload
        .get("user_id")
        .and_then(|u| u.as_str())
        .and_then(|u| UserId::parse(u).ok())
        .ok_or_else(|| JobError::permanent("a digest job needs its user"))?;
    let storage = ctx.storage.clone();
    let config = ctx.config.clone();
    crate::blocking::run(move || -> Result<(), JobError> {
        let control = storage.control();
        let (Some(record), Some(person)) =
            (control.tenant_by_id(tenant)?, control.user_by_id(user)?)
        else {
            return Ok(());
        };
        let store = storage.tenant(tenant)?;
        let pending = store.digest_pending(user)?;
        if pending.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = pending
            .iter()
            .map(|n| {
                if n.body.is_empty() {
                    n.title.clone()
                } else {
                    format!("{}: “{}”", n.title, n.body)
                }
            })
            .collect();
        let intro = if pending.len() == 1 {
            format!("You have a new message in {}.", record.name)
        } else {
            format!(
                "You have {} new messages in {}.",
                pending.len(),
                record.name
            )
        };
        let mut paragraphs: Vec<&str> = vec![&intro];
        paragraphs.extend(lines.iter().map(String::as_str));
        let link = crate::auth::session::workspace_url(
            &config,
            record.subdomain.as_str(),
            "/app/notifications",
        );
        let title = if pending.len() == 1 {
            "A new message".to_owned()
        } else {
            format!("{} new messages", pending.len())
        };
        let mail = crate::email::outgoing(
            &person.email,
            "message_digest",
            crate::email::notification(
                &title,
                &paragraphs,
                Some(("Open your notifications", &link)),
                &person.name,
            ),
        );
        control
            .db()
            .write(|tx| enqueue_email(tx, &mail).map(|_| ()))?;
        let ids: Vec<_> = pending.iter().map(|n| n.id).collect();
        store.digest_sent(user, &ids)?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_end_after_now() {
        let now = Utc.timestamp_opt(1_000_000_123, 0).unwrap();
        let (slot, end) = window_end(now, 900);
        assert_eq!(slot, 1_000_000_123 / 900);
        assert_eq!(end.timestamp(), (slot + 1) * 900);
        assert!(end > now);
        let (next, _) = window_end(end, 900);
        assert_eq!(next, slot + 1);
    }
}
