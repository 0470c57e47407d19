//! The durable job queue in `control.db` (ARCHITECTURE "Background work").
//!
//! - [`enqueue`] takes the caller's [`Transaction`]: a job is committed together with the change
//!   that caused it, or not at all. A `unique_key` makes it idempotent (one job per cause).
//! - [`ControlStore::claim_jobs`] hands due jobs to a worker under a lease (`locked_until`). A
//!   worker that dies (kill -9, power cut) simply stops renewing nothing: when the lease runs out
//!   the job is due again and another worker takes it. Delivery is therefore *at least once*;
//!   handlers make their effects idempotent.
//! - [`ControlStore::complete_job`] / [`ControlStore::fail_job`] settle a claimed job. Both name
//!   the attempt they settle, so a worker whose lease expired (and whose job was taken over)
//!   cannot overwrite the newer attempt's outcome. Failures retry with exponential backoff and
//!   jitter until `max_attempts`, then the job is `failed` with its `last_error`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;
use wrk_core::ids::{JobId, TenantId};

use crate::audit::{parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::{Entity, StoreError, StoreResult};

/// Attempts a job gets unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Which handler runs it, e.g. `send_email`.
    pub kind: String,
    pub tenant_id: Option<TenantId>,
    /// Idempotency: a second enqueue with the same key is a no-op returning the first job's id.
    pub unique_key: Option<String>,
    pub payload: Value,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    pub max_attempts: u32,
}

impl NewJob {
    /// A job of `kind` due now, with the default number of attempts.
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: kind.into(),
            tenant_id: None,
            unique_key: None,
            payload,
            run_at: Utc::now(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn tenant(mut self, id: TenantId) -> Self {
        self.tenant_id = Some(id);
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = at;
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }
}

/// A stored job, for workers and the ops console.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub tenant_id: Option<TenantId>,
    pub unique_key: Option<String>,
    pub payload: Value,
    pub run_at: DateTime<Utc>,
    /// Attempts started so far (a claim counts as an attempt).
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, tenant_id, unique_key, payload, run_at, attempts, max_attempts, \
                       last_error, locked_until, status, created_at, updated_at";

fn conv(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let opt_ts = |s: Option<String>| s.as_deref().map(parse_timestamp).transpose();
    Ok(JobRecord {
        id: JobId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        kind: r.get(1)?,
        tenant_id: r
            .get::<_, Option<String>>(2)?
            .map(|s| TenantId::parse(&s))
            .transpose()
            .map_err(conv)?,
        unique_key: r.get(3)?,
        payload: serde_json::from_str(&r.get::<_, String>(4)?).map_err(conv)?,
        run_at: parse_timestamp(&r.get::<_, String>(5)?)?,
        attempts: r.get(6)?,
        max_attempts: r.get(7)?,
        last_error: r.get(8)?,
        locked_until: opt_ts(r.get(9)?)?,
        status: JobStatus::parse(&r.get::<_, String>(10)?)
            .ok_or_else(|| conv("unknown job status"))?,
        created_at: parse_timestamp(&r.get::<_, String>(11)?)?,
        updated_at: parse_timestamp(&r.get::<_, String>(12)?)?,
    })
}

/// Enqueues `job` inside the caller's transaction and returns its id. With a `unique_key` that
/// is already taken (by a job in any status) nothing is inserted and the existing id is returned.
pub fn enqueue(tx: &Transaction<'_>, job: &NewJob) -> StoreResult<JobId> {
    if let Some(key) = &job.unique_key
        && let Some(id) = job_id_by_key(tx, key)?
    {
        return Ok(id);
    }
    let id = JobId::new();
    let now = timestamp(Utc::now());
    tx.execute(
        "INSERT INTO jobs (id, kind, tenant_id, unique_key, payload, run_at, max_attempts, \
                           status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?8)",
        params![
            id.to_string(),
            job.kind,
            job.tenant_id.map(|t| t.to_string()),
            job.unique_key,
            job.payload.to_string(),
            timestamp(job.run_at),
            job.max_attempts.max(1),
            now,
        ],
    )?;
    Ok(id)
}

fn job_id_by_key(c: &Connection, key: &str) -> StoreResult<Option<JobId>> {
    let id: Option<String> = c
        .query_row("SELECT id FROM jobs WHERE unique_key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    id.map(|s| JobId::parse(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The delay before retry number `attempt + 1` after attempt `attempt` (1-based) failed:
/// 2 s doubling per attempt, capped at one hour, then spread by `jitter` (a number in [0, 1),
/// mapped to ±25 %) so jobs that failed together do not retry together.
pub fn backoff_delay(attempt: u32, jitter: f64) -> Duration {
    const BASE_MS: u64 = 2_000;
    const CAP_MS: u64 = 3_600_000;
    let exp = attempt.saturating_sub(1).min(20);
    let base = BASE_MS.saturating_mul(1u64 << exp).min(CAP_MS);
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::from_millis((base as f64 * factor) as u64)
}

/// Filter for [`ControlStore::list_jobs`].
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    /// At most this many (newest first); 0 means 100.
    pub limit: u32,
}

/// Counts per status, for metrics and the ops console.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl ControlStore {
    /// Enqueues one job in its own transaction (for callers with no change of their own).
    pub fn enqueue_job(&self, job: &NewJob) -> StoreResult<JobId> {
        self.db.write(|tx| enqueue(tx, job))
    }

    /// Claims up to `limit` due jobs of the given kinds: `queued` ones whose `run_at` has come, and
    /// `running` ones whose lease expired (their worker died). Each claimed job becomes `running`
    /// with `locked_until = now + lease` and one more attempt. A lease-expired job that already
    /// used its last attempt is marked `failed` instead of being handed out again.
    pub fn claim_jobs(
        &self,
        kinds: &[&str],
        limit: u32,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<JobRecord>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now_s = timestamp(now);
        let until = timestamp(now + to_chrono(lease));
        let kinds_json =
            serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.db.write(|tx| {
            // A job whose worker vanished on its last attempt: give up rather than loop forever
            // on a job that kills its worker.
            tx.execute(
                "UPDATE jobs SET status = 'failed', locked_until = NULL, updated_at = ?1,
                        last_error = coalesce(last_error || '; ', '') || 'lease expired on the last attempt (worker stopped?)'
                 WHERE status = 'running' AND locked_until <= ?1 AND attempts >= max_attempts
                   AND kind IN (SELECT value FROM json_each(?2))",
                params![now_s, kinds_json],
            )?;
            let ids: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT id FROM jobs
                     WHERE kind IN (SELECT value FROM json_each(?2))
                       AND ((status = 'queued' AND run_at <= ?1)
                         OR (status = 'running' AND locked_until <= ?1))
                     ORDER BY run_at, id
                     LIMIT ?3",
                )?;
                stmt.query_map(params![now_s, kinds_json, limit], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let job = tx.query_row(
                    &format!(
                        "UPDATE jobs SET status = 'running', attempts = attempts + 1,
                                locked_until = ?2, updated_at = ?3
                         WHERE id = ?1 RETURNING {COLUMNS}"
                    ),
                    params![id, until, now_s],
                    job_from_row,
                )?;
                out.push(job);
            }
            Ok(out)
        })
    }

    /// Marks attempt `attempt` of job `id` done. Returns false when that attempt no longer owns
    /// the job (its lease expired and another attempt took over, or it was settled already).
    pub fn complete_job(&self, id: JobId, attempt: u32) -> StoreResult<bool> {
        let now = timestamp(Utc::now());
        self.db.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = ?3
                 WHERE id = ?1 AND attempts = ?2 AND status = 'running'",
                params![id.to_string(), attempt, now],
            )?;
            Ok(n == 1)
        })
    }

    /// Records that attempt `attempt` of job `id` failed with `error`. The job is queued again
    /// after [`backoff_delay`]`(attempt, jitter)`, or becomes `failed` when this was its last
    /// attempt or `permanent` is set. Returns the new status, or None when the attempt no longer
    /// owns the job.
    pub fn fail_job(
        &self,
        id: JobId,
        attempt: u32,
        error: &str,
        permanent: bool,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> StoreResult<Option<JobStatus>> {
        let retry_at = timestamp(now + to_chrono(backoff_delay(attempt, jitter)));
        let now_s = timestamp(now);
        let error: String = error.chars().take(2000).collect();
        self.db.write(|tx| {
            let status: Option<String> = tx
                .query_row(
                    "UPDATE jobs SET
                        status = CASE WHEN ?4 OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                        run_at = CASE WHEN ?4 OR attempts >= max_attempts THEN run_at ELSE ?5 END,
                        last_error = ?3, locked_until = NULL, updated_at = ?6
                     WHERE id = ?1 AND attempts = ?2 AND status = 'running'
                     RETURNING status",
                    params![id.to_string(), attempt, error, permanent, retry_at, now_s],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(status.as_deref().and_then(JobStatus::parse))
        })
    }

    /// Puts a failed job back in the queue with fresh attempts (ops "retry").
    pub fn retry_job(&self, id: JobId) -> StoreResult<()> {
        let now = timestamp(Utc::now());
        self.db.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?2, locked_until = NULL,
                        updated_at = ?2
                 WHERE id = ?1 AND status = 'failed'",
                params![id.to_string(), now],
            )?;
            if n == 1 {
                Ok(())
            } else if job_by_id(tx, id)?.is_some() {
                Err(StoreError::Conflict(
                    "only a failed job can be retried".into(),
                ))
            } else {
                Err(StoreError::NotFound(Entity::Job))
            }
        })
    }

    /// Makes a job due now (ops "retry now"): a queued one jumps its backoff; a done or failed
    /// one is queued again with fresh attempts. A running one is left to its worker (`Conflict`).
    pub fn run_job_now(&self, id: JobId) -> StoreResult<()> {
        let now = timestamp(Utc::now());
        self.db.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET run_at = ?2, locked_until = NULL, updated_at = ?2,
                        attempts = CASE WHEN status = 'queued' THEN attempts ELSE 0 END,
                        status = 'queued'
                 WHERE id = ?1 AND status <> 'running'",
                params![id.to_string(), now],
            )?;
            if n == 1 {
                Ok(())
            } else if job_by_id(tx, id)?.is_some() {
                Err(StoreError::Conflict(
                    "the job is running right now; try again in a moment".into(),
                ))
            } else {
                Err(StoreError::NotFound(Entity::Job))
            }
        })
    }

    pub fn job(&self, id: JobId) -> StoreResult<Option<JobRecord>> {
        self.db.read(|c| job_by_id(c, id))
    }

    pub fn job_by_key(&self, key: &str) -> StoreResult<Option<JobRecord>> {
        self.db.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE unique_key = ?1"),
                [key],
                job_from_row,
            )
            .optional()?)
        })
    }

    /// Jobs, newest first.
    pub fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        self.db.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM jobs
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![filter.status.map(JobStatus::as_str), filter.kind, limit],
                job_from_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn count_jobs(&self) -> StoreResult<JobCounts> {
        self.db.read(|c| {
            let mut counts = JobCounts::default();
            let mut stmt = c.prepare("SELECT status, count(*) FROM jobs GROUP BY status")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let n: u64 = r.get(1)?;
                match JobStatus::parse(&r.get::<_, String>(0)?) {
                    Some(JobStatus::Queued) => counts.queued = n,
                    Some(JobStatus::Running) => counts.running = n,
                    Some(JobStatus::Done) => counts.done = n,
                    Some(JobStatus::Failed) => counts.failed = n,
                    None => {}
                }
            }
            Ok(counts)
        })
    }

    /// When the next queued job of these kinds is due, so an idle worker can sleep until then.
    pub fn next_job_due(&self, kinds: &[&str]) -> StoreResult<Option<DateTime<Utc>>> {
        let kinds_json =
            serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.db.read(|c| {
            let at: Option<String> = c.query_row(
                "SELECT min(CASE status WHEN 'queued' THEN run_at ELSE locked_until END) FROM jobs
                 WHERE status IN ('queued', 'running') AND kind IN (SELECT value FROM json_each(?1))",
                [kinds_json],
                |r| r.get(0),
            )?;
            at.as_deref()
                .map(parse_timestamp)
                .transpose()
                .map_err(Into::into)
        })
    }
}

fn job_by_id(c: &Connection, id: JobId) -> StoreResult<Option<JobRecord>> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id.to_string()],
        job_from_row,
    )
    .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Storage, StorageConfig};
    use serde_json::json;

    fn storage() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(StorageConfig::new(dir.path())).unwrap();
        (dir, s)
    }

    const LEASE: Duration = Duration::from_secs(30);

    #[test]
    fn a_unique_key_makes_enqueue_idempotent() {
        let (_d, s) = storage();
        let c = s.control();
        let job = NewJob::new("k", json!({"a": 1})).unique_key("cause-1");
        let a = c.enqueue_job(&job).unwrap();
        let b = c.enqueue_job(&job).unwrap();
        assert_eq!(a, b);
        let other = c.enqueue_job(&NewJob::new("k", json!({}))).unwrap();
        assert_ne!(a, other);
        assert_eq!(c.list_jobs(&JobFilter::default()).unwrap().len(), 2);
        // Still a no-op once the first job is done.
        let claimed = c.claim_jobs(&["k"], 10, LEASE, Utc::now()).unwrap();
        for j in &claimed {
            assert!(c.complete_job(j.id, j.attempts).unwrap());
        }
        assert_eq!(c.enqueue_job(&job).unwrap(), a);
        assert_eq!(c.job(a).unwrap().unwrap().status, JobStatus::Done);
    }

    #[test]
    fn enqueue_rolls_back_with_the_callers_transaction() {
        let (_d, s) = storage();
        let c = s.control();
        let r: StoreResult<()> = c.db().write(|tx| {
            enqueue(tx, &NewJob::new("k", json!({})))?;
            Err(StoreError::Conflict("boom".into()))
        });
        assert!(r.is_err());
        assert!(c.list_jobs(&JobFilter::default()).unwrap().is_empty());
    }

    #[test]
    fn claim_takes_due_jobs_of_known_kinds_once() {
        let (_d, s) = storage();
        let c = s.control();
        let due = c.enqueue_job(&NewJob::new("k", json!(1))).unwrap();
        let now = Utc::now();
        let later = c
            .enqueue_job(&NewJob::new("k", json!(2)).run_at(now + chrono::Duration::hours(1)))
            .unwrap();
        let other_kind = c.enqueue_job(&NewJob::new("other", json!(3))).unwrap();
        let claimed = c.claim_jobs(&["k"], 10, LEASE, now).unwrap();
        assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![due]);
        assert_eq!(claimed[0].attempts, 1);
        assert_eq!(claimed[0].status, JobStatus::Running);
        // Held under lease: a second claim gets nothing.
        assert!(c.claim_jobs(&["k"], 10, LEASE, now).unwrap().is_empty());
        assert_eq!(c.job(later).unwrap().unwrap().status, JobStatus::Queued);
        assert_eq!(
            c.job(other_kind).unwrap().unwrap().status,
            JobStatus::Queued
        );
        assert_eq!(
            c.next_job_due(&["k"]).unwrap().unwrap(),
            claimed[0].locked_until.unwrap()
        );
    }

    #[test]
    fn an_expired_lease_hands_the_job_to_another_worker() {
        let (_d, s) = storage();
        let c = s.control();
        let id = c.enqueue_job(&NewJob::new("k", json!({}))).unwrap();
        let now = Utc::now();
        let first = c.claim_jobs(&["k"], 1, LEASE, now).unwrap();
        assert_eq!(first.len(), 1);
        // The worker dies; after the lease the job is claimable again, as attempt 2.
        let after = now + chrono::Duration::seconds(31);
        let second = c.claim_jobs(&["k"], 1, LEASE, after).unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].id, id);
        assert_eq!(second[0].attempts, 2);
        // The stale first worker cannot settle the job any more.
        assert!(!c.complete_job(id, 1).unwrap());
        assert_eq!(c.fail_job(id, 1, "late", false, after, 0.5).unwrap(), None);
        assert!(c.complete_job(id, 2).unwrap());
        assert_eq!(c.job(id).unwrap().unwrap().status, JobStatus::Done);
    }

    #[test]
    fn failures_back_off_then_give_up_with_the_last_error() {
        let (_d, s) = storage();
        let c = s.control();
        let id = c
            .enqueue_job(&NewJob::new("k", json!({})).max_attempts(3))
            .unwrap();
        let mut now = Utc::now();
        for attempt in 1..=3u32 {
            let claimed = c.claim_jobs(&["k"], 1, LEASE, now).unwrap();
            assert_eq!(claimed.len(), 1, "attempt {attempt}");
            assert_eq!(claimed[0].attempts, attempt);
            let status = c
                .fail_job(id, attempt, &format!("error {attempt}"), false, now, 0.5)
                .unwrap()
                .unwrap();
            let job = c.job(id).unwrap().unwrap();
            if attempt < 3 {
                assert_eq!(status, JobStatus::Queued);
                assert_eq!(
                    job.run_at,
                    parse_timestamp(&timestamp(now + to_chrono(backoff_delay(attempt, 0.5))))
                        .unwrap()
                );
                // Not due before the backoff.
                assert!(c.claim_jobs(&["k"], 1, LEASE, now).unwrap().is_empty());
                now = job.run_at;
            } else {
                assert_eq!(status, JobStatus::Failed);
                assert_eq!(job.last_error.as_deref(), Some("error 3"));
            }
        }
        assert!(
            c.claim_jobs(&["k"], 1, LEASE, now + chrono::Duration::days(1))
                .unwrap()
                .is_empty()
        );
        assert_eq!(c.count_jobs().unwrap().failed, 1);
        c.retry_job(id).unwrap();
        assert_eq!(c.claim_jobs(&["k"], 1, LEASE, Utc::now()).unwrap().len(), 1);
    }

    #[test]
    fn a_permanent_failure_does_not_retry() {
        let (_d, s) = storage();
        let c = s.control();
        let id = c.enqueue_job(&NewJob::new("k", json!({}))).unwrap();
        let now = Utc::now();
        c.claim_jobs(&["k"], 1, LEASE, now).unwrap();
        assert_eq!(
            c.fail_job(id, 1, "bad payload", true, now, 0.0).unwrap(),
            Some(JobStatus::Failed)
        );
    }

    #[test]
    fn a_job_whose_worker_dies_on_its_last_attempt_fails() {
        let (_d, s) = storage();
        let c = s.control();
        let id = c
            .enqueue_job(&NewJob::new("k", json!({})).max_attempts(1))
            .unwrap();
        let now = Utc::now();
        assert_eq!(c.claim_jobs(&["k"], 1, LEASE, now).unwrap().len(), 1);
        let after = now + chrono::Duration::minutes(5);
        assert!(c.claim_jobs(&["k"], 1, LEASE, after).unwrap().is_empty());
        let job = c.job(id).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Failed);
        assert!(job.last_error.unwrap().contains("lease expired"));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff_delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(backoff_delay(2, 0.5), Duration::from_secs(4));
        assert_eq!(backoff_delay(5, 0.5), Duration::from_secs(32));
        assert_eq!(backoff_delay(1, 0.0), Duration::from_millis(1500));
        assert_eq!(backoff_delay(1, 1.0), Duration::from_millis(2500));
        assert_eq!(backoff_delay(40, 0.5), Duration::from_secs(3600));
        assert_eq!(
            backoff_delay(u32::MAX, 1.0),
            Duration::from_millis(4_500_000)
        );
    }
}
