//! The background job runner over the durable queue in `control.db` (`wrk_tenants::jobs`).
//!
//! Workers are tokio tasks. Each loops: claim one due job (on the blocking pool: SQLite), run its
//! kind's handler under a timeout shorter than the lease, settle it (done, or retry with backoff,
//! or failed). Idle workers sleep until the next job is due, at most [`POLL`], and wake at once
//! when [`Jobs::wake`] is called after an in-process enqueue commits.
//!
//! Delivery is at least once: a worker that dies mid-job leaves the job `running` under its lease,
//! and the job is taken over when the lease expires (after a restart, too). Handlers therefore make
//! their effects idempotent (check-then-act on their own state, unique keys for follow-up jobs).
//!
//! Handlers run as futures on the async runtime; a handler that touches SQLite (or anything else
//! blocking) wraps that part in [`crate::blocking::run`] (a panic there is a [`JobError::Retry`]).
//!
//! To add a job kind: write an `async fn(JobContext) -> Result<(), JobError>` and register it in
//! the composition root's [`crate::app::job_registry`].

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use wrk_tenants::Storage;
use wrk_tenants::jobs::{JobRecord, JobStatus};

use crate::config::Config;

/// Longest an idle worker sleeps before looking at the queue again (jobs enqueued by another
/// process, or without a [`Jobs::wake`]).
pub const POLL: Duration = Duration::from_secs(1);

/// Why a job attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again later (with backoff), until the job's `max_attempts`.
    #[error("{0}")]
    Retry(String),
    /// Retrying cannot help (bad payload, a permanent refusal): fail the job now.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retry(e: impl std::fmt::Display) -> Self {
        JobError::Retry(e.to_string())
    }

    pub fn permanent(e: impl std::fmt::Display) -> Self {
        JobError::Permanent(e.to_string())
    }
}

impl From<tokio::task::JoinError> for JobError {
    fn from(e: tokio::task::JoinError) -> Self {
        JobError::Retry(format!("blocking task failed: {e}"))
    }
}

impl From<wrk_tenants::StoreError> for JobError {
    fn from(e: wrk_tenants::StoreError) -> Self {
        JobError::Retry(e.to_string())
    }
}

/// What a handler gets: the claimed job (with its attempt number) and the shared services.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub job: JobRecord,
    pub config: Arc<Config>,
    pub storage: Arc<Storage>,
    pub services: Arc<Services>,
}

impl JobContext {
    /// Whether this is the job's last attempt (a failure now makes it `failed`).
    pub fn last_attempt(&self) -> bool {
        self.job.attempts >= self.job.max_attempts
    }
}

/// Long-lived clients handlers share (built once at start).
#[derive(Debug)]
pub struct Services {
    pub mailer: crate::email::Mailer,
    /// Set once the plugin engine has started (after the workers): handlers that need it retry
    /// until then.
    pub plugins: std::sync::OnceLock<Arc<crate::services::plugins::Plugins>>,
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> HandlerFuture + Send + Sync>;

/// Handlers by job kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds())
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `kind` (replacing any earlier one).
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F) -> &mut Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers
            .insert(kind.to_owned(), Arc::new(move |ctx| Box::pin(handler(ctx))));
        self
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<_> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }
}

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    pub workers: usize,
    /// How long a claimed job is reserved for its worker. A handler gets 4/5 of it.
    pub lease: Duration,
}

impl RunnerOptions {
    pub fn from_config(config: &Config) -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(config.job_lease.max(1)),
        }
    }
}

struct Shared {
    config: Arc<Config>,
    storage: Arc<Storage>,
    services: Arc<Services>,
    registry: Registry,
    kinds: Vec<String>,
    options: RunnerOptions,
    notify: Notify,
    stop: watch::Sender<bool>,
}

/// Handle to the running workers.
pub struct Jobs {
    shared: Option<Arc<Shared>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("running", &self.shared.is_some())
            .finish()
    }
}

impl Default for Jobs {
    /// A runner that runs nothing (for tests that build an `AppState` by hand).
    fn default() -> Self {
        Self {
            shared: None,
            workers: Mutex::new(Vec::new()),
        }
    }
}

impl Jobs {
    /// Starts the workers with the handlers of `registry` (the composition root's
    /// [`crate::app::job_registry`]). Must be called inside the runtime.
    pub fn start(
        config: Arc<Config>,
        storage: Arc<Storage>,
        registry: Registry,
    ) -> anyhow::Result<Self> {
        let options = RunnerOptions::from_config(&config);
        let services = Arc::new(Services {
            mailer: crate::email::Mailer::from_config(&config)?,
            plugins: std::sync::OnceLock::new(),
        });
        let jobs = Self::start_with(config, storage, services, registry, options);
        jobs.after_start();
        Ok(jobs)
    }

    pub fn start_with(
        config: Arc<Config>,
        storage: Arc<Storage>,
        services: Arc<Services>,
        registry: Registry,
        options: RunnerOptions,
    ) -> Self {
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            kinds: registry.kinds(),
            config,
            storage,
            services,
            registry,
            options,
            notify: Notify::new(),
            stop,
        });
        let workers = (0..shared.options.workers.max(1))
            .map(|n| tokio::spawn(worker(shared.clone(), n)))
            .collect();
        Self {
            shared: Some(shared),
            workers: Mutex::new(workers),
        }
    }

    /// One-off work at start: with SMTP configured, queue mail held while it was not.
    fn after_start(&self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        if !shared.services.mailer.is_configured() {
            return;
        }
        tokio::spawn(async move {
            let storage = shared.storage.clone();
            let released = crate::blocking::run(move || {
                Ok::<_, anyhow::Error>(storage.control().release_held_emails()?)
            })
            .await;
            match released {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(emails = n, "queued held emails now that SMTP is configured");
                    shared.notify.notify_waiters();
                }
                Err(e) => tracing::warn!(error = %e, "cannot release held emails"),
            }
        });
    }

    /// Hands the started plugin engine to job handlers.
    pub fn set_plugins(&self, plugins: Arc<crate::services::plugins::Plugins>) {
        if let Some(s) = &self.shared {
            let _ = s.services.plugins.set(plugins);
        }
    }

    /// Wakes idle workers: call after committing a transaction that enqueued jobs.
    pub fn wake(&self) {
        if let Some(s) = &self.shared {
            s.notify.notify_waiters();
        }
    }

    /// Stops claiming new jobs and waits up to `grace` for in-flight ones. Jobs still running
    /// after that are abandoned under their lease and retried after the next start.
    pub async fn shutdown(&self, grace: Duration) {
        let Some(shared) = &self.shared else { return };
        let _ = shared.stop.send(true);
        shared.notify.notify_waiters();
        let mut handles: Vec<_> = std::mem::take(&mut *self.workers.lock());
        let all = futures_join_all(&mut handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "jobs still running at shutdown; they will be retried after their lease"
            );
            for h in &handles {
                h.abort();
            }
        }
    }
}

/// Awaits every handle in turn (no extra dependency for `join_all`).
async fn futures_join_all(handles: &mut [JoinHandle<()>]) {
    for h in handles.iter_mut() {
        let _ = h.await;
    }
}

/// A number in [0, 1) from the process's random hasher keys (for backoff jitter).
fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

async fn worker(shared: Arc<Shared>, n: usize) {
    let mut stop = shared.stop.subscribe();
    let kinds: Vec<String> = shared.kinds.clone();
    tracing::debug!(worker = n, ?kinds, "job worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        // Register interest before looking, so a wake between the look and the sleep is kept.
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        let claimed = {
            let storage = shared.storage.clone();
            let kinds = kinds.clone();
            let lease = shared.options.lease;
            crate::blocking::run(move || {
                let refs: Vec<&str> = kinds.iter().map(String::as_str).collect();
                let job = storage.control().claim_jobs(&refs, 1, lease, Utc::now())?;
                let next = if job.is_empty() {
                    storage.control().next_job_due(&refs)?
                } else {
                    None
                };
                Ok::<_, anyhow::Error>((job, next))
            })
            .await
        };
        let (jobs, next) = match claimed {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim jobs");
                (Vec::new(), None)
            }
        };
        if jobs.is_empty() {
            let sleep = next
                .and_then(|at| (at - Utc::now()).to_std().ok())
                .map_or(POLL, |d| d.min(POLL));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(sleep) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        for job in jobs {
            let span =
                tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
            run_one(&shared, job).instrument(span).await;
        }
    }
    tracing::debug!(worker = n, "job worker stopped");
}

async fn run_one(shared: &Arc<Shared>, job: JobRecord) {
    let (id, attempt, kind) = (job.id, job.attempts, job.kind.clone());
    let outcome = match shared.registry.handlers.get(&kind) {
        None => Err(JobError::Retry(format!("no handler for job kind {kind}"))),
        Some(handler) => {
            let ctx = JobContext {
                job,
                config: shared.config.clone(),
                storage: shared.storage.clone(),
                services: shared.services.clone(),
            };
            let budget = shared.options.lease * 4 / 5;
            // A task of its own: a panicking handler fails its job instead of killing the worker.
            let task = tokio::spawn(handler(ctx));
            match tokio::time::timeout(budget, task).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => Err(JobError::Retry(format!("handler panicked: {e}"))),
                Err(_) => Err(JobError::Retry(format!(
                    "timed out after {} s",
                    budget.as_secs()
                ))),
            }
        }
    };
    let error = outcome.as_ref().err().map(ToString::to_string);
    let storage = shared.storage.clone();
    let settled = crate::blocking::run(move || {
        Ok::<_, anyhow::Error>(match &outcome {
            Ok(()) => storage
                .control()
                .complete_job(id, attempt)?
                .then_some(JobStatus::Done),
            Err(e) => storage.control().fail_job(
                id,
                attempt,
                &e.to_string(),
                matches!(e, JobError::Permanent(_)),
                Utc::now(),
                jitter(),
            )?,
        })
    })
    .await;
    match settled {
        Ok(Some(JobStatus::Done)) => tracing::debug!("job done"),
        Ok(Some(JobStatus::Failed)) => {
            tracing::error!(
                error = error.as_deref().unwrap_or(""),
                "job failed for good"
            );
        }
        Ok(Some(_)) => tracing::warn!(
            error = error.as_deref().unwrap_or(""),
            "job attempt failed; will retry"
        ),
        Ok(None) => tracing::warn!("job lease lost before it was settled"),
        Err(e) => tracing::error!(error = %e, "cannot settle job"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use wrk_tenants::jobs::NewJob;

    async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handlers_run_retry_fail_and_stop_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(wrk_tenants::StorageConfig::new(dir.path())).unwrap());
        let config =
            Arc::new(Config::load(&crate::config::Settings::default(), None, &[]).unwrap());
        let services = Arc::new(Services {
            mailer: crate::email::Mailer::from_config(&config).unwrap(),
            plugins: std::sync::OnceLock::new(),
        });
        let calls = Arc::new(AtomicU32::new(0));
        let mut registry = Registry::new();
        let counter = calls.clone();
        registry
            .register("flaky", move |_ctx| {
                let counter = counter.clone();
                async move {
                    if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(JobError::retry("the first attempt fails"))
                    } else {
                        Ok(())
                    }
                }
            })
            .register("bad", |_ctx| async {
                Err(JobError::permanent("bad payload"))
            })
            .register("panics", |_ctx| async { panic!("handler bug") });
        let jobs = Jobs::start_with(
            config,
            storage.clone(),
            services,
            registry,
            RunnerOptions {
                workers: 2,
                lease: Duration::from_secs(30),
            },
        );
        let c = storage.control();
        let flaky = c
            .enqueue_job(&NewJob::new("flaky", serde_json::json!({})))
            .unwrap();
        let bad = c
            .enqueue_job(&NewJob::new("bad", serde_json::json!({})))
            .unwrap();
        let panics = c
            .enqueue_job(&NewJob::new("panics", serde_json::json!({})).max_attempts(1))
            .unwrap();
        let unknown = c
            .enqueue_job(&NewJob::new("not_registered", serde_json::json!({})))
            .unwrap();
        jobs.wake();

        let done = until("the flaky job done", || {
            let j = c.job(flaky).unwrap()?;
            (j.status == JobStatus::Done).then_some(j)
        })
        .await;
        assert_eq!(done.attempts, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let failed = c.job(bad).unwrap().unwrap();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.attempts, 1);
        assert_eq!(failed.last_error.as_deref(), Some("bad payload"));
        let panicked = c.job(panics).unwrap().unwrap();
        assert_eq!(panicked.status, JobStatus::Failed);
        assert!(panicked.last_error.unwrap().contains("panicked"));
        // A kind this binary has no handler for is left alone (a newer binary may run it).
        let left = c.job(unknown).unwrap().unwrap();
        assert_eq!((left.status, left.attempts), (JobStatus::Queued, 0));

        tokio::time::timeout(
            Duration::from_secs(10),
            jobs.shutdown(Duration::from_secs(5)),
        )
        .await
        .expect("shutdown in time");
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
