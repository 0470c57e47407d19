//! Usage (flow 28) and threshold alerts (flow 29), folded from the stored platform events
//! ([`crate::inbound_events`]).
//!
//! [`TenantStore::fold_events`] takes unfolded events in arrival order, a batch per transaction.
//! In that one transaction it marks each event folded and applies it: the run it finishes is
//! counted in `runs`, `usage_daily` and `usage_counters`; the volume and failure-rate alerts that
//! the batch made true are inserted (unique per automation, kind, threshold and period) with an
//! in-app notification for each recipient. An event is marked folded only by the transaction that
//! counted it, and a run is counted only once (`runs` is keyed by run id), so the counts are
//! exactly once whatever the order of arrival, duplicates, concurrent folds or a kill between
//! batches.
//!
//! Emails of alerts go through the control plane's outbox, a different file: the fold leaves
//! `alerts.emailed_at` unset, and the caller mails [`TenantStore::alerts_to_email`] with
//! [`ControlStore::enqueue_alert_emails`] (idempotent per alert) and then
//! [`TenantStore::mark_alert_emailed`].

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use wrk_core::ids::{AlertId, AutomationId, CredentialId, TenantId, UserId};
use wrk_core::notifications::NotificationKind;
use wrk_core::usage::{AlertSettings, EventType, day_of, percent, period_of};

use crate::audit::{AuditActor, AuditEntry, RequestMeta, parse_timestamp, record_audit, timestamp};
use crate::automations::effects::AfterCommit;
use crate::control::ControlStore;
use crate::error::{Entity, StoreError, StoreResult};
use crate::notifications::{self, NewNotification};
use crate::outbox::{self, OutgoingEmail};
use crate::tenant::TenantStore;

/// Events folded per transaction.
pub const FOLD_BATCH: u32 = 500;

/// What a fold did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldReport {
    pub events: u64,
    pub runs_counted: u64,
    pub alerts: Vec<AlertId>,
    /// The `credential.failed` events that changed something, for the caller's emails.
    pub credential_failures: Vec<CredentialFailureReport>,
}

/// What one `credential.failed` event did (flow 26), as the caller needs it to email people
/// after the fold's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFailureReport {
    /// The failing credential's system, when the event named a credential.
    pub system: Option<String>,
    /// How many versions the event blocked.
    pub blocked: usize,
    /// The platform's words.
    pub error: Option<String>,
    /// Whether the people are told by email (a new failure, or a block that emails the client).
    pub email: bool,
}

/// An event as the fold reads it.
#[derive(Debug, Clone)]
pub struct FoldedEvent {
    pub id: String,
    pub kind: EventType,
    pub automation_id: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
}

/// The one dispatch point of a `credential.failed` event inside the fold's transaction: flow 26
/// through [`crate::credentials::record_failure`] (the credential `failed`, every version using
/// it blocked, a task, the recipients' notifications), in this same transaction, so the event is
/// applied exactly when it is marked folded. Returns the event's outcome for the
/// `inbound_events` row and, when it changed something, what the caller mails after the commit.
/// An event naming no known automation or credential (or a revoked one) is recorded as ignored:
/// retrying it could never succeed.
pub fn on_credential_failed(
    tx: &Transaction<'_>,
    event: &FoldedEvent,
    recipients: &[UserId],
) -> StoreResult<(String, Option<CredentialFailureReport>)> {
    let Ok(automation_id) = AutomationId::parse(&event.automation_id) else {
        return Ok(("ignored: no such automation".into(), None));
    };
    let credential_id = match event.data.get("credential_id").and_then(Value::as_str) {
        None | Some("") => None,
        Some(s) => match CredentialId::parse(s) {
            Ok(id) => Some(id),
            Err(_) => return Ok(("ignored: no such credential".into(), None)),
        },
    };
    let error = event.data.get("error").and_then(Value::as_str);
    let request = RequestMeta::default();
    // A savepoint around flow 26: an event the domain refuses (an unknown automation or
    // credential, a move core does not allow) is recorded as ignored with nothing of it written,
    // instead of failing the whole batch on every retry. Storage errors still fail the batch,
    // which the job retries.
    tx.execute_batch("SAVEPOINT credential_failed")?;
    let mark = crate::live_events::mark();
    let outcome = match crate::credentials::record_failure(
        tx,
        &crate::credentials::CredentialFailure {
            automation_id,
            credential_id,
            error,
            recipients,
            request: &request,
        },
    ) {
        Ok(o) => {
            tx.execute_batch("RELEASE credential_failed")?;
            o
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO credential_failed; RELEASE credential_failed")?;
            // Its live events were rolled back with it: never announce them.
            crate::live_events::rolled_back(mark);
            return match e {
                StoreError::NotFound(entity) => {
                    Ok((format!("ignored: no such {}", entity.as_str()), None))
                }
                StoreError::Transition(_)
                | StoreError::WriteRefused(_)
                | StoreError::Conflict(_)
                | StoreError::Corrupt(_) => Ok((format!("ignored: {e}"), None)),
                e => Err(e),
            };
        }
    };
    let email = outcome
        .blocked
        .iter()
        .any(|a| a.after_commit.contains(&AfterCommit::EmailClient))
        || outcome.newly_failed;
    let report = (email || !outcome.blocked.is_empty()).then(|| CredentialFailureReport {
        system: outcome.credential.as_ref().map(|c| c.system.clone()),
        blocked: outcome.blocked.len(),
        error: error.map(str::to_owned),
        email,
    });
    Ok(("recorded".into(), report))
}

fn conv(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

/// The committed monthly runs of `automation` in `period`: from its active subscription (a
/// pending decrease applies from its `pending_from` period). `None` without one.
fn committed_runs(
    c: &rusqlite::Connection,
    automation: &str,
    period: &str,
) -> StoreResult<Option<u64>> {
    Ok(c.prepare_cached(
        "SELECT CASE WHEN pending_committed_runs IS NOT NULL AND pending_from <= ?2
                     THEN pending_committed_runs ELSE committed_monthly_runs END
         FROM subscriptions WHERE automation_id = ?1 AND status = 'active'",
    )?
    .query_row(params![automation, period], |r| r.get::<_, i64>(0))
    .optional()?
    .map(|n| n.max(0) as u64))
}

fn automation_name(tx: &Transaction<'_>, automation: &str) -> StoreResult<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT name FROM automations WHERE id = ?1")?
        .query_row([automation], |r| r.get(0))
        .optional()?)
}

fn settings_of(c: &rusqlite::Connection) -> StoreResult<AlertSettings> {
    let row: Option<(String, u32, u32)> = c
        .query_row(
            "SELECT volume_thresholds_percent, failure_rate_percent, failure_window_runs
             FROM alert_settings WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => AlertSettings::default(),
        Some((t, rate, window)) => AlertSettings {
            volume_thresholds_percent: serde_json::from_str(&t)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            failure_rate_percent: rate,
            failure_window_runs: window,
        },
    })
}

/// One fired alert, for the list and emails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub id: AlertId,
    /// `volume` or `failure_rate`.
    pub kind: String,
    pub automation_id: AutomationId,
    pub automation_name: String,
    pub threshold: u32,
    pub period: String,
    /// The percentage that crossed the threshold (of committed volume, or failed runs).
    pub observed: u32,
    pub created_at: DateTime<Utc>,
}

impl AlertRecord {
    /// One line for people.
    pub fn title(&self) -> String {
        match self.kind.as_str() {
            "volume" => format!(
                "{} reached {} % of its committed runs for {}",
                self.automation_name, self.threshold, self.period
            ),
            _ => format!(
                "{}: more than {} % of its recent runs failed",
                self.automation_name, self.threshold
            ),
        }
    }

    /// Detail for people.
    pub fn body(&self) -> String {
        match self.kind.as_str() {
            "volume" => format!(
                "It has used {} % of the runs committed for {}. Runs beyond the commitment are \
                 billed as overage.",
                self.observed, self.period
            ),
            _ => format!(
                "{} % of its latest runs failed (the alert threshold is {} %). Check the runs \
                 and the credentials it uses.",
                self.observed, self.threshold
            ),
        }
    }
}

const ALERT_COLUMNS: &str = "a.id, a.kind, a.automation_id, coalesce(m.name, ''), a.threshold, \
                             a.period, a.observed, a.created_at";

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        id: AlertId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        kind: r.get(1)?,
        automation_id: AutomationId::parse(&r.get::<_, String>(2)?).map_err(conv)?,
        automation_name: r.get(3)?,
        threshold: r.get(4)?,
        period: r.get(5)?,
        observed: r.get(6)?,
        created_at: parse_timestamp(&r.get::<_, String>(7)?)?,
    })
}

/// Inserts the alert unless it fired already; with its notifications when new.
#[allow(clippy::too_many_arguments)]
fn fire(
    tx: &Transaction<'_>,
    kind: &str,
    automation: &str,
    threshold: u32,
    period: &str,
    observed: u32,
    recipients: &[UserId],
) -> StoreResult<Option<AlertId>> {
    let id = AlertId::new();
    let inserted = tx
        .prepare_cached(
            "INSERT INTO alerts (id, kind, automation_id, threshold, period, observed, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (automation_id, kind, threshold, period) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            kind,
            automation,
            threshold,
            period,
            observed,
            timestamp(Utc::now())
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let alert = tx.query_row(
        &format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN automations m ON m.id = a.automation_id
             WHERE a.id = ?1"
        ),
        [id.to_string()],
        alert_from_row,
    )?;
    let (title, body) = (alert.title(), alert.body());
    let link = format!("/app/automations/{automation}?tab=usage");
    notifications::insert_for_each(
        tx,
        recipients,
        &NewNotification {
            user_id: UserId::default(),
            kind: NotificationKind::Alert,
            title: &title,
            body: &body,
            automation_id: Some(alert.automation_id),
            link: Some(&link),
        },
    )?;
    Ok(Some(id))
}

fn parse_event(
    id: String,
    kind: String,
    automation_id: String,
    occurred_at: String,
    data: String,
) -> StoreResult<FoldedEvent> {
    Ok(FoldedEvent {
        id,
        kind: EventType::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("event type {kind}")))?,
        automation_id,
        occurred_at: parse_timestamp(&occurred_at)?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
    })
}

/// Applies one event; returns its outcome and whether it counted a run.
fn apply(
    tx: &Transaction<'_>,
    e: &FoldedEvent,
    recipients: &[UserId],
    failures: &mut Vec<CredentialFailureReport>,
) -> StoreResult<(String, bool)> {
    if e.kind == EventType::CredentialFailed {
        let (outcome, report) = on_credential_failed(tx, e, recipients)?;
        failures.extend(report);
        return Ok((outcome, false));
    }
    if automation_name(tx, &e.automation_id)?.is_none() {
        return Ok(("ignored: no such automation".into(), false));
    }
    let run_id = e.data["run_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or(&e.id)
        .to_owned();
    let at = timestamp(e.occurred_at);
    if e.kind == EventType::RunStarted {
        tx.prepare_cached(
            "INSERT INTO runs (automation_id, run_id, started_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (automation_id, run_id) DO UPDATE SET
                 started_at = coalesce(min(runs.started_at, excluded.started_at), excluded.started_at)",
        )?
        .execute(params![e.automation_id, run_id, at])?;
        return Ok(("recorded".into(), false));
    }
    let outcome = if e.kind == EventType::RunSucceeded {
        "succeeded"
    } else {
        "failed"
    };
    let existing: Option<(Option<String>, Option<String>)> = tx
        .prepare_cached(
            "SELECT started_at, outcome FROM runs WHERE automation_id = ?1 AND run_id = ?2",
        )?
        .query_row(params![e.automation_id, run_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((_, Some(_))) = existing {
        return Ok(("ignored: the run was already counted".into(), false));
    }
    let started = existing
        .and_then(|(s, _)| s)
        .map(|s| parse_timestamp(&s))
        .transpose()?;
    let duration_ms = e.data["duration_ms"]
        .as_u64()
        .or_else(|| started.map(|s| (e.occurred_at - s).num_milliseconds().max(0) as u64))
        .unwrap_or(0)
        .min(i64::MAX as u64) as i64;
    tx.prepare_cached(
        "INSERT INTO runs (automation_id, run_id, outcome, finished_at, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (automation_id, run_id) DO UPDATE SET
             outcome = excluded.outcome, finished_at = excluded.finished_at,
             duration_ms = excluded.duration_ms",
    )?
    .execute(params![e.automation_id, run_id, outcome, at, duration_ms])?;
    let (ok, failed) = if outcome == "succeeded" {
        (1, 0)
    } else {
        (0, 1)
    };
    let now = timestamp(Utc::now());
    tx.prepare_cached(
        "INSERT INTO usage_daily (automation_id, day, runs, succeeded, failed, duration_ms, updated_at)
         VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)
         ON CONFLICT (automation_id, day) DO UPDATE SET
             runs = runs + 1, succeeded = succeeded + excluded.succeeded,
             failed = failed + excluded.failed, duration_ms = duration_ms + excluded.duration_ms,
             updated_at = excluded.updated_at",
    )?
    .execute(params![e.automation_id, day_of(e.occurred_at), ok, failed, duration_ms, now])?;
    tx.prepare_cached(
        "INSERT INTO usage_counters (automation_id, period, runs, succeeded, failed, duration_ms, updated_at)
         VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)
         ON CONFLICT (automation_id, period) DO UPDATE SET
             runs = runs + 1, succeeded = succeeded + excluded.succeeded,
             failed = failed + excluded.failed, duration_ms = duration_ms + excluded.duration_ms,
             updated_at = excluded.updated_at",
    )?
    .execute(params![e.automation_id, period_of(e.occurred_at), ok, failed, duration_ms, now])?;
    Ok(("counted".into(), true))
}

/// The alerts that the counts of `touched` (automation, period) now make true.
fn check_alerts(
    tx: &Transaction<'_>,
    touched: &BTreeSet<(String, String)>,
    recipients: &[UserId],
) -> StoreResult<Vec<AlertId>> {
    let settings = settings_of(tx)?;
    let mut fired = Vec::new();
    let mut automations = BTreeSet::new();
    for (automation, period) in touched {
        automations.insert(automation.clone());
        let Some(committed) = committed_runs(tx, automation, period)? else {
            continue;
        };
        let runs: i64 = tx
            .prepare_cached(
                "SELECT runs FROM usage_counters WHERE automation_id = ?1 AND period = ?2",
            )?
            .query_row(params![automation, period], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let runs = runs.max(0) as u64;
        let observed = percent(runs, committed).unwrap_or(0);
        for t in settings.volume_crossed(runs, committed) {
            fired.extend(fire(
                tx, "volume", automation, t, period, observed, recipients,
            )?);
        }
    }
    for automation in automations {
        let window: Vec<(String, String)> = tx
            .prepare_cached(
                "SELECT outcome, finished_at FROM runs
                 WHERE automation_id = ?1 AND outcome IS NOT NULL
                 ORDER BY finished_at DESC LIMIT ?2",
            )?
            .query_map(params![automation, settings.failure_window_runs], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let failed = window.iter().filter(|(o, _)| o == "failed").count() as u64;
        let n = window.len() as u64;
        if settings.failure_rate_exceeded(failed, n) {
            let newest = parse_timestamp(&window[0].1)?;
            let observed = percent(failed, n).unwrap_or(0);
            fired.extend(fire(
                tx,
                "failure_rate",
                &automation,
                settings.failure_rate_percent,
                &period_of(newest),
                observed,
                recipients,
            )?);
        }
    }
    Ok(fired)
}

impl TenantStore {
    /// Folds every unfolded event (see the module doc), [`FOLD_BATCH`] per transaction, and
    /// notifies `recipients` (the workspace's owners and admins) of each alert that fires.
    pub fn fold_events(&self, recipients: &[UserId]) -> StoreResult<FoldReport> {
        let mut report = FoldReport::default();
        loop {
            let batch = self.db().write(|tx| {
                let rows: Vec<(String, String, String, String, String)> = tx
                    .prepare_cached(
                        "SELECT id, type, automation_id, occurred_at, data FROM inbound_events
                         WHERE folded_at IS NULL ORDER BY rowid LIMIT ?1",
                    )?
                    .query_map([FOLD_BATCH], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<_, _>>()?;
                let mut part = FoldReport::default();
                let mut touched = BTreeSet::new();
                let now = timestamp(Utc::now());
                for (id, kind, automation, at, data) in rows {
                    let e = parse_event(id, kind, automation, at, data)?;
                    // Marking first, guarded on `folded_at IS NULL`: an event is applied only by
                    // the transaction that marks it.
                    let marked = tx
                        .prepare_cached(
                            "UPDATE inbound_events SET folded_at = ?2
                             WHERE id = ?1 AND folded_at IS NULL",
                        )?
                        .execute(params![e.id, now])?;
                    if marked == 0 {
                        continue;
                    }
                    let (outcome, counted) =
                        apply(tx, &e, recipients, &mut part.credential_failures)?;
                    tx.prepare_cached("UPDATE inbound_events SET outcome = ?2 WHERE id = ?1")?
                        .execute(params![e.id, outcome])?;
                    part.events += 1;
                    if counted {
                        part.runs_counted += 1;
                        touched.insert((e.automation_id.clone(), period_of(e.occurred_at)));
                    }
                }
                part.alerts = check_alerts(tx, &touched, recipients)?;
                Ok(part)
            })?;
            if batch.events == 0 {
                return Ok(report);
            }
            report.events += batch.events;
            report.runs_counted += batch.runs_counted;
            report.alerts.extend(batch.alerts);
            report.credential_failures.extend(batch.credential_failures);
        }
    }

    /// The workspace's alert settings (the defaults until changed).
    pub fn alert_settings(&self) -> StoreResult<AlertSettings> {
        self.db().read(settings_of)
    }

    /// Replaces the alert settings (already validated by core); audited as
    /// `alert_settings.updated` with before and after.
    pub fn set_alert_settings(
        &self,
        settings: &AlertSettings,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<AlertSettings> {
        self.db().write(|tx| {
            let before = settings_of(tx)?;
            tx.execute(
                "INSERT INTO alert_settings (id, volume_thresholds_percent, failure_rate_percent,
                                             failure_window_runs, updated_by, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET
                     volume_thresholds_percent = excluded.volume_thresholds_percent,
                     failure_rate_percent = excluded.failure_rate_percent,
                     failure_window_runs = excluded.failure_window_runs,
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                params![
                    serde_json::to_string(&settings.volume_thresholds_percent)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    settings.failure_rate_percent,
                    settings.failure_window_runs,
                    actor.id,
                    timestamp(Utc::now()),
                ],
            )?;
            record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "alert_settings.updated",
                    entity_type: "alert_settings",
                    entity_id: None,
                    before: Some(json!(before)),
                    after: Some(json!(settings)),
                    request,
                },
            )?;
            Ok(settings.clone())
        })
    }

    /// Alerts, newest first, after `cursor` (an alert id) when given.
    pub fn list_alerts(
        &self,
        automation: Option<AutomationId>,
        cursor: Option<AlertId>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>> {
        self.db().read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN automations m ON m.id = a.automation_id
                 WHERE (?1 IS NULL OR a.automation_id = ?1) AND (?2 IS NULL OR a.id < ?2)
                 ORDER BY a.id DESC LIMIT ?3"
            ))?;
            let rows = st
                .query_map(
                    params![
                        automation.map(|a| a.to_string()),
                        cursor.map(|a| a.to_string()),
                        limit
                    ],
                    alert_from_row,
                )?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Alerts whose emails are not in the outbox yet.
    pub fn alerts_to_email(&self) -> StoreResult<Vec<AlertRecord>> {
        self.db().read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN automations m ON m.id = a.automation_id
                 WHERE a.emailed_at IS NULL ORDER BY a.id"
            ))?;
            let rows = st.query_map([], alert_from_row)?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    pub fn mark_alert_emailed(&self, id: AlertId) -> StoreResult<()> {
        self.db().write(|tx| {
            tx.execute(
                "UPDATE alerts SET emailed_at = ?2 WHERE id = ?1 AND emailed_at IS NULL",
                params![id.to_string(), timestamp(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Usage per automation in `period`: every automation of the workspace, or only `automation`
    /// (`NotFound` when it does not exist).
    pub fn usage(
        &self,
        period: &str,
        automation: Option<AutomationId>,
    ) -> StoreResult<Vec<UsageRow>> {
        self.db().read(|c| {
            let mut st = c.prepare(
                "SELECT m.id, coalesce(u.runs, 0), coalesce(u.succeeded, 0), coalesce(u.failed, 0),
                        coalesce(u.duration_ms, 0)
                 FROM automations m
                 LEFT JOIN usage_counters u ON u.automation_id = m.id AND u.period = ?1
                 WHERE ?2 IS NULL OR m.id = ?2
                 ORDER BY m.id",
            )?;
            let rows: Vec<(String, i64, i64, i64, i64)> = st
                .query_map(params![period, automation.map(|a| a.to_string())], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?;
            if automation.is_some() && rows.is_empty() {
                return Err(StoreError::NotFound(Entity::Automation));
            }
            rows.into_iter()
                .map(|(id, runs, ok, failed, dur)| {
                    let committed = committed_runs(c, &id, period)?;
                    let runs = runs.max(0) as u64;
                    Ok(UsageRow {
                        automation_id: AutomationId::parse(&id)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        runs,
                        succeeded: ok.max(0) as u64,
                        failed: failed.max(0) as u64,
                        duration_ms: dur.max(0) as u64,
                        committed,
                        percent: committed.and_then(|c| percent(runs, c)),
                    })
                })
                .collect()
        })
    }

    /// Runs per UTC day of `period` (every day of the month, zeros included) of `automation`.
    pub fn usage_by_day(&self, automation: AutomationId, period: &str) -> StoreResult<Vec<DayRow>> {
        let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.db().read(|c| {
            let exists: Option<i64> = c
                .query_row(
                    "SELECT 1 FROM automations WHERE id = ?1",
                    [automation.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::NotFound(Entity::Automation));
            }
            let mut st = c.prepare(
                "SELECT day, runs, succeeded, failed, duration_ms FROM usage_daily
                 WHERE automation_id = ?1 AND day LIKE ?2 || '-%'",
            )?;
            let stored: HashMap<String, (i64, i64, i64, i64)> = st
                .query_map(params![automation.to_string(), period], |r| {
                    Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            let mut d = first;
            while d.month() == first.month() {
                let day = d.format("%Y-%m-%d").to_string();
                let (runs, ok, failed, dur) = stored.get(&day).copied().unwrap_or_default();
                out.push(DayRow {
                    day,
                    runs: runs.max(0) as u64,
                    succeeded: ok.max(0) as u64,
                    failed: failed.max(0) as u64,
                    duration_ms: dur.max(0) as u64,
                });
                d = d.succ_opt().unwrap_or(d);
                if d == first {
                    break;
                }
            }
            Ok(out)
        })
    }
}

/// One automation's usage in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    pub automation_id: AutomationId,
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub duration_ms: u64,
    /// The period's committed runs; `None` without an active subscription.
    pub committed: Option<u64>,
    /// `runs` as a rounded percentage of `committed`.
    pub percent: Option<u32>,
}

/// One day's usage of an automation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRow {
    pub day: String,
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub duration_ms: u64,
}

impl ControlStore {
    /// Puts the emails of alert `alert` of workspace `tenant` in the outbox, once: a second call
    /// for the same alert does nothing and returns false.
    pub fn enqueue_alert_emails(
        &self,
        tenant: TenantId,
        alert: AlertId,
        emails: &[OutgoingEmail],
    ) -> StoreResult<bool> {
        self.db.write(|tx| {
            let n = tx.execute(
                "INSERT INTO alert_emails (tenant_id, alert_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![tenant.to_string(), alert.to_string(), timestamp(Utc::now())],
            )?;
            if n == 0 {
                return Ok(false);
            }
            for e in emails {
                outbox::enqueue_email(tx, e)?;
            }
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound_events::NewPlatformEvent;
    use crate::testing;

    fn automation(tenant: &TenantStore, name: &str) -> String {
        let id = AutomationId::new().to_string();
        let now = timestamp(Utc::now());
        tenant
            .db()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO automations (id, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                    params![id, name, now],
                )?;
                Ok(())
            })
            .unwrap();
        id
    }

    fn event(id: &str, kind: EventType, automation: &str, run: &str, at: &str) -> NewPlatformEvent {
        NewPlatformEvent {
            id: id.into(),
            kind,
            automation_id: automation.into(),
            occurred_at: parse_timestamp(at).unwrap(),
            data: json!({"automation_id": automation, "run_id": run, "duration_ms": 1000})
                .to_string(),
        }
    }

    #[test]
    fn runs_count_once_whatever_the_order_and_duplicates() {
        let (_dir, tenant) = testing::store();
        let a = automation(&tenant, "Invoices");
        let evs = [
            event(
                "e2",
                EventType::RunSucceeded,
                &a,
                "r1",
                "2026-03-31T23:59:59Z",
            ),
            event(
                "e1",
                EventType::RunStarted,
                &a,
                "r1",
                "2026-03-31T23:59:58Z",
            ),
            event("e3", EventType::RunFailed, &a, "r2", "2026-04-01T00:00:01Z"),
            event(
                "e4",
                EventType::RunSucceeded,
                &a,
                "r2",
                "2026-04-01T00:00:02Z",
            ),
            event(
                "e5",
                EventType::RunSucceeded,
                "not-an-automation",
                "r3",
                "2026-04-01T00:00:02Z",
            ),
            event(
                "e6",
                EventType::CredentialFailed,
                &a,
                "",
                "2026-04-01T00:00:02Z",
            ),
        ];
        for e in &evs {
            tenant.store_platform_event(e).unwrap();
        }
        let r = tenant.fold_events(&[]).unwrap();
        assert_eq!((r.events, r.runs_counted), (6, 2));
        // Duplicates arriving later change nothing.
        for e in &evs {
            assert!(!tenant.store_platform_event(e).unwrap());
        }
        assert_eq!(tenant.fold_events(&[]).unwrap().events, 0);
        let id = AutomationId::parse(&a).unwrap();
        let march = tenant.usage("2026-03", Some(id)).unwrap();
        assert_eq!(
            (march[0].runs, march[0].succeeded, march[0].failed),
            (1, 1, 0)
        );
        let april = tenant.usage("2026-04", Some(id)).unwrap();
        assert_eq!(
            (april[0].runs, april[0].succeeded, april[0].failed),
            (1, 0, 1)
        );
        assert_eq!(april[0].duration_ms, 1000);
        assert_eq!(april[0].committed, None);
        let days = tenant.usage_by_day(id, "2026-04").unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!(days[0].runs, 1);
        assert_eq!(
            tenant
                .inbound_event("e4")
                .unwrap()
                .unwrap()
                .outcome
                .as_deref(),
            Some("ignored: the run was already counted")
        );
        assert_eq!(
            tenant
                .inbound_event("e6")
                .unwrap()
                .unwrap()
                .outcome
                .as_deref(),
            Some("recorded")
        );
        assert_eq!(
            tenant
                .inbound_event("e5")
                .unwrap()
                .unwrap()
                .outcome
                .as_deref(),
            Some("ignored: no such automation")
        );
        assert!(matches!(
            tenant.usage("2026-04", Some(AutomationId::new())),
            Err(StoreError::NotFound(Entity::Automation))
        ));
    }

    #[test]
    fn a_failure_rate_alert_fires_once_per_period_with_a_notification() {
        let (_dir, tenant) = testing::store();
        let a = automation(&tenant, "Invoices");
        let user = UserId::new();
        let mut n = 0;
        let mut send = |failed: bool, count: usize| {
            for _ in 0..count {
                n += 1;
                let kind = if failed {
                    EventType::RunFailed
                } else {
                    EventType::RunSucceeded
                };
                let at = format!("2026-05-01T00:{:02}:{:02}Z", n / 60, n % 60);
                tenant
                    .store_platform_event(&event(&format!("e{n}"), kind, &a, &format!("r{n}"), &at))
                    .unwrap();
            }
        };
        send(false, 40);
        send(true, 10);
        assert!(tenant.fold_events(&[user]).unwrap().alerts.is_empty()); // exactly 20 %
        send(true, 1);
        let r = tenant.fold_events(&[user]).unwrap();
        assert_eq!(r.alerts.len(), 1);
        send(true, 5);
        assert!(tenant.fold_events(&[user]).unwrap().alerts.is_empty());
        let alerts = tenant.list_alerts(None, None, 50).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (alerts[0].kind.as_str(), alerts[0].threshold),
            ("failure_rate", 20)
        );
        let notes: i64 = tenant
            .db()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM notifications WHERE kind = 'alert'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(notes, 1);
        assert_eq!(tenant.alerts_to_email().unwrap().len(), 1);
        tenant.mark_alert_emailed(alerts[0].id).unwrap();
        assert!(tenant.alerts_to_email().unwrap().is_empty());
    }

    #[test]
    fn a_credential_failure_for_nothing_known_is_ignored_and_the_fold_goes_on() {
        let (_dir, tenant) = testing::store();
        let a = automation(&tenant, "Invoices");
        let unknown = AutomationId::new().to_string();
        let mut failed = event(
            "c1",
            EventType::CredentialFailed,
            &unknown,
            "",
            "2026-06-01T00:00:00Z",
        );
        failed.data = json!({"automation_id": unknown, "error": "401"}).to_string();
        tenant.store_platform_event(&failed).unwrap();
        tenant
            .store_platform_event(&event(
                "e1",
                EventType::RunSucceeded,
                &a,
                "r1",
                "2026-06-01T00:00:01Z",
            ))
            .unwrap();
        let report = tenant.fold_events(&[UserId::new()]).unwrap();
        assert_eq!((report.events, report.runs_counted), (2, 1));
        assert!(report.credential_failures.is_empty());
        let c1 = tenant.inbound_event("c1").unwrap().unwrap();
        assert!(c1.folded, "{c1:?}");
        assert_eq!(c1.outcome.as_deref(), Some("ignored: no such automation"));
        assert_eq!(tenant.unfolded_event_count().unwrap(), 0);
    }

    #[test]
    fn settings_default_and_change_with_an_audit_row() {
        let (_dir, tenant) = testing::store();
        assert_eq!(tenant.alert_settings().unwrap(), AlertSettings::default());
        let s = AlertSettings {
            volume_thresholds_percent: vec![50],
            failure_rate_percent: 5,
            failure_window_runs: 10,
        };
        tenant
            .set_alert_settings(&s, &AuditActor::system(), &RequestMeta::default())
            .unwrap();
        assert_eq!(tenant.alert_settings().unwrap(), s);
    }
}
