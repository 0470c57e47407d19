//! [`Storage`]: the data directory as a whole — the control plane plus a bounded LRU of open
//! tenant databases that open lazily on first use and close when evicted or idle.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use lru::LruCache;
use parking_lot::{Mutex, RwLock};
use scheduled_thread_pool::ScheduledThreadPool;
use wrk_core::ids::{TenantId, UserId};
use wrk_core::slug::Slug;

use crate::audit::{AuditActor, RequestMeta};
use crate::control::{self, ControlStore, TenantRecord};
use crate::db::{Db, DbOptions};
use crate::error::{StoreError, StoreResult};
use crate::migrate;
use crate::tenant::{TenantStore, ms_since};

/// Where the data lives and how many tenants may be open at once.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// Upper bound on open tenant databases (each costs a write connection and up to
    /// `tenant_readers` read connections). Default 1,000.
    pub max_open_tenants: NonZeroUsize,
    pub tenant_readers: u32,
}

impl StorageConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_open_tenants: NonZeroUsize::new(1000).expect("non-zero"),
            tenant_readers: 4,
        }
    }
}

/// The storage handle the host shares across requests (cheap to clone behind an `Arc`).
pub struct Storage {
    config: StorageConfig,
    control: ControlStore,
    open: Mutex<LruCache<TenantId, Arc<TenantStore>>>,
    /// slug → workspace: the host → tenant resolution of every request, with no `control.db`
    /// query once a slug was seen. Filled on lookup and on creation; addresses never change and
    /// workspaces are not deleted or suspended in v1, so the only change to follow is a display
    /// name ([`Storage::refresh_cached`]). Whatever adds deletion or suspension must remove the
    /// entry in the same place it commits.
    slugs: RwLock<HashMap<String, TenantRecord>>,
    /// Slugs known to be free, so an unknown host costs one query, not one per request. Bounded
    /// (made-up hosts must not grow it) and invalidated by creation: see [`Absent`].
    absent: Mutex<Absent>,
    /// Workspaces this host must not serve now (being moved to another host), with the seconds a
    /// client is told to wait. Held in memory: a fence belongs to this process, not to the
    /// `control.db` other hosts may share (see [`Storage::fence`]).
    fences: RwLock<HashMap<TenantId, Fence>>,
    /// One timer thread pool shared by every r2d2 pool (r2d2 would otherwise start three
    /// threads per pool, i.e. thousands for a thousand open tenants).
    timers: Arc<ScheduledThreadPool>,
    epoch: Instant,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("data_dir", &self.config.data_dir)
            .field("open_tenants", &self.open_tenants())
            .finish()
    }
}

fn control_options() -> DbOptions {
    DbOptions {
        label: "control".into(),
        migrations: migrate::CONTROL,
        synchronous_full: true,
        max_readers: 8,
        cache_kib: 8 * 1024,
    }
}

fn tenant_options(id: TenantId, readers: u32) -> DbOptions {
    DbOptions {
        label: format!("tenant {id}"),
        migrations: migrate::TENANT,
        synchronous_full: false,
        max_readers: readers,
        cache_kib: 512,
    }
}

/// How many free slugs [`Storage`] remembers.
const ABSENT_SLUGS: usize = 4096;

/// The negative side of the slug cache. `creations` counts workspace creations: a lookup that
/// found nothing caches its miss only if no creation happened since it started, so a miss read
/// just before a concurrent creation committed is never cached after that creation cleared it.
struct Absent {
    slugs: LruCache<String, ()>,
    creations: u64,
}

/// A workspace this host refuses to serve while it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    /// What clients are told in `Retry-After`.
    pub retry_after_secs: u32,
    pub since: chrono::DateTime<Utc>,
}

/// Whether [`Storage::fence`] saw the last in-flight user of the workspace finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceOutcome {
    /// Nothing of this host uses the file any more.
    Drained,
    /// A request or job still held the store when the drain time ran out.
    StillInUse,
}

/// Outcome of migrating one tenant file with [`Storage::migrate_all`].
#[derive(Debug)]
pub struct MigrationReport {
    pub tenant: TenantRecord,
    pub outcome: Result<usize, StoreError>,
}

impl Storage {
    /// Opens the data directory, creating its layout and migrating `control.db`.
    pub fn open(config: StorageConfig) -> StoreResult<Self> {
        std::fs::create_dir_all(config.data_dir.join("tenants"))?;
        let timers = Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("wrk-sqlite-pool-{}")
                .build(),
        );
        let control = ControlStore {
            db: Db::open(
                &config.data_dir.join("control.db"),
                &control_options(),
                timers.clone(),
            )?,
        };
        Ok(Self {
            open: Mutex::new(LruCache::new(config.max_open_tenants)),
            slugs: RwLock::new(HashMap::new()),
            absent: Mutex::new(Absent {
                slugs: LruCache::new(NonZeroUsize::new(ABSENT_SLUGS).expect("non-zero")),
                creations: 0,
            }),
            fences: RwLock::new(HashMap::new()),
            control,
            config,
            timers,
            epoch: Instant::now(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    pub fn control(&self) -> &ControlStore {
        &self.control
    }

    fn tenant_path(&self, id: TenantId) -> PathBuf {
        self.config
            .data_dir
            .join("tenants")
            .join(format!("{id}.db"))
    }

    /// Creates a workspace: the control-plane row and its audit row in one transaction, then the
    /// tenant file. A crash between the two leaves a row whose file is created on first open.
    pub fn create_tenant(
        &self,
        slug: Slug,
        name: &str,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<TenantRecord> {
        let record = TenantRecord {
            id: TenantId::new(),
            subdomain: slug,
            name: name.to_owned(),
            created_at: Utc::now(),
        };
        self.control
            .db
            .write(|tx| control::insert_tenant(tx, &record, actor, request))?;
        self.created(&record);
        self.tenant(record.id)?;
        Ok(record)
    }

    /// Creates a workspace for `owner` (flow 1A/1B step 2): the workspace row, the owner's
    /// membership and both audit rows in one control-plane transaction, then the tenant file.
    /// A taken slug is a `Conflict`.
    pub fn create_workspace(
        &self,
        slug: Slug,
        name: &str,
        owner: UserId,
        request: &RequestMeta,
    ) -> StoreResult<TenantRecord> {
        let record = TenantRecord {
            id: TenantId::new(),
            subdomain: slug,
            name: name.to_owned(),
            created_at: Utc::now(),
        };
        let actor = AuditActor {
            kind: crate::audit::ActorKind::User,
            id: Some(owner.to_string()),
        };
        self.control.db.write(|tx| {
            control::insert_tenant(tx, &record, &actor, request)?;
            crate::identity::memberships::insert_membership(
                tx,
                record.id,
                owner,
                wrk_core::roles::ClientRole::Owner,
                &actor,
                request,
            )?;
            tx.execute(
                "UPDATE users SET last_tenant_id = ?2 WHERE id = ?1",
                rusqlite::params![owner.to_string(), record.id.to_string()],
            )?;
            Ok(())
        })?;
        self.created(&record);
        self.tenant(record.id)?;
        Ok(record)
    }

    /// The workspace served at `slug`, if any: from memory after the first lookup, hit or miss.
    pub fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<TenantRecord>> {
        if let Some(hit) = self.cached_slug(slug) {
            return Ok(Some(hit));
        }
        let creations = {
            let mut absent = self.absent.lock();
            if absent.slugs.get(slug).is_some() {
                return Ok(None);
            }
            absent.creations
        };
        let found = self.control.db.read(|c| control::tenant_by_slug(c, slug))?;
        match &found {
            Some(t) => {
                self.slugs.write().insert(slug.to_owned(), t.clone());
            }
            None => {
                let mut absent = self.absent.lock();
                if absent.creations == creations {
                    absent.slugs.put(slug.to_owned(), ());
                }
            }
        }
        Ok(found)
    }

    /// Makes a just-committed workspace resolvable from memory, and forgets that its slug was
    /// free.
    fn created(&self, record: &TenantRecord) {
        let slug = record.subdomain.as_str();
        self.slugs.write().insert(slug.to_owned(), record.clone());
        let mut absent = self.absent.lock();
        absent.creations += 1;
        absent.slugs.pop(slug);
    }

    /// Replaces the cached record of a workspace after a change to it (its display name).
    pub(crate) fn refresh_cached(&self, record: &TenantRecord) {
        let mut slugs = self.slugs.write();
        if let Some(hit) = slugs.get_mut(record.subdomain.as_str()) {
            *hit = record.clone();
        }
    }

    /// A cache-only lookup, cheap enough for the async request path.
    pub fn cached_slug(&self, slug: &str) -> Option<TenantRecord> {
        self.slugs.read().get(slug).cloned()
    }

    /// The open store of tenant `id`, opening (and migrating) its file on first use and evicting
    /// the least recently used one when the bound is reached. An evicted store closes when its
    /// last in-flight user drops it.
    /// A fenced workspace is refused (`StoreError::Fenced`), so no request or job of this host
    /// opens its file while it moves.
    pub fn tenant(&self, id: TenantId) -> StoreResult<Arc<TenantStore>> {
        let now = ms_since(self.epoch);
        {
            // The fence is read under the `open` lock: `fence` sets it before taking this lock to
            // close the store, so no caller can open the file again after that.
            let mut open = self.open.lock();
            self.refuse_fenced(id)?;
            if let Some(store) = open.get(&id) {
                store.touch(now);
                return Ok(store.clone());
            }
        }
        // Open outside the lock so one slow open never stalls every other tenant. Two threads
        // racing to open the same file is harmless: migrations check the version inside their
        // own transaction, and the loser's handle is simply dropped.
        let db = Db::open(
            &self.tenant_path(id),
            &tenant_options(id, self.config.tenant_readers),
            self.timers.clone(),
        )?;
        let store = Arc::new(TenantStore::new(id, db, now)?);
        let mut open = self.open.lock();
        self.refuse_fenced(id)?;
        if let Some(existing) = open.get(&id) {
            return Ok(existing.clone());
        }
        open.put(id, store.clone());
        Ok(store)
    }

    fn refuse_fenced(&self, id: TenantId) -> StoreResult<()> {
        match self.fenced(id) {
            Some(fence) => Err(StoreError::Fenced {
                retry_after_secs: fence.retry_after_secs,
            }),
            None => Ok(()),
        }
    }

    /// Fences workspace `id` on this host, for a move to another one: from now on every request
    /// and job of this process is refused with [`StoreError::Fenced`]; the open store is closed,
    /// and this waits (at most `drain`) until the requests already holding it have finished, so
    /// that when it returns [`FenceOutcome::Drained`] nothing writes to the file any more and a
    /// replica that has caught up with it has every acknowledged write. The audit row is written
    /// first: a fence that could not be recorded is not set.
    ///
    /// The fence is held in memory only: `control.db` may be shared by every host, and the
    /// fence is this host's (the new owner serves the workspace while the old one still refuses
    /// it). A restarted host serves the workspace again, so the proxy must no longer route it
    /// there by then (a finished move flips the placement map first).
    pub fn fence(
        &self,
        id: TenantId,
        retry_after_secs: u32,
        drain: Duration,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<FenceOutcome> {
        let tenant = self.control.tenant(id)?;
        self.control
            .record_fence(&tenant, Some(retry_after_secs), actor, request)?;
        self.fences.write().insert(
            id,
            Fence {
                retry_after_secs,
                since: Utc::now(),
            },
        );
        let Some(store) = self.open.lock().pop(&id) else {
            return Ok(FenceOutcome::Drained);
        };
        let deadline = Instant::now() + drain;
        // Ours is the last handle once every in-flight request and job has dropped theirs.
        while Arc::strong_count(&store) > 1 {
            if Instant::now() >= deadline {
                return Ok(FenceOutcome::StillInUse);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(FenceOutcome::Drained)
    }

    /// Lifts this host's fence of workspace `id`; whether there was one.
    pub fn unfence(
        &self,
        id: TenantId,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<bool> {
        let tenant = self.control.tenant(id)?;
        if self.fenced(id).is_none() {
            return Ok(false);
        }
        self.control.record_fence(&tenant, None, actor, request)?;
        Ok(self.fences.write().remove(&id).is_some())
    }

    /// This host's fence of workspace `id`, if any: cheap enough for the request path.
    pub fn fenced(&self, id: TenantId) -> Option<Fence> {
        self.fences.read().get(&id).copied()
    }

    /// How many tenant databases are open now.
    pub fn open_tenants(&self) -> usize {
        self.open.lock().len()
    }

    /// Closes every tenant store unused for at least `idle`; returns how many were closed.
    pub fn close_idle(&self, idle: Duration) -> usize {
        let now = ms_since(self.epoch);
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let mut open = self.open.lock();
        let stale: Vec<TenantId> = open
            .iter()
            .filter(|(_, s)| s.idle_since(now) >= idle_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            open.pop(id);
        }
        stale.len()
    }

    /// Applies pending migrations to every tenant file. A tenant whose migration fails is reported
    /// and left as it was; the others proceed.
    pub fn migrate_all(&self) -> StoreResult<Vec<MigrationReport>> {
        let tenants = self.control.list_tenants()?;
        Ok(tenants
            .into_iter()
            .map(|tenant| {
                let outcome = (|| {
                    let mut conn = rusqlite::Connection::open(self.tenant_path(tenant.id))?;
                    conn.busy_timeout(Duration::from_secs(5))?;
                    migrate::apply(&mut conn, &format!("tenant {}", tenant.id), migrate::TENANT)
                })();
                MigrationReport { tenant, outcome }
            })
            .collect())
    }

    /// Writes a consistent copy of `control.db` and every tenant file into `out` (which must not
    /// exist or be empty), without stopping writers. Returns the number of files written.
    pub fn backup(&self, out: &Path) -> StoreResult<usize> {
        if out.exists() && std::fs::read_dir(out)?.next().is_some() {
            return Err(StoreError::Conflict(format!(
                "backup target {} is not empty",
                out.display()
            )));
        }
        std::fs::create_dir_all(out.join("tenants"))?;
        self.control.db.backup_to(&out.join("control.db"))?;
        let mut files = 1;
        for tenant in self.control.list_tenants()? {
            let store = self.tenant(tenant.id)?;
            store
                .db()
                .backup_to(&out.join("tenants").join(format!("{}.db", tenant.id)))?;
            files += 1;
        }
        Ok(files)
    }
}

/// Copies a backup made by [`Storage::backup`] into an empty data directory. The server must not
/// be running on `data_dir`.
pub fn restore(from: &Path, data_dir: &Path) -> StoreResult<usize> {
    if !from.join("control.db").is_file() {
        return Err(StoreError::Conflict(format!(
            "{} holds no control.db: not a backup",
            from.display()
        )));
    }
    if data_dir.join("control.db").exists() {
        return Err(StoreError::Conflict(format!(
            "{} already holds a control.db; restore only into an empty data directory",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(data_dir.join("tenants"))?;
    std::fs::copy(from.join("control.db"), data_dir.join("control.db"))?;
    let mut files = 1;
    if let Ok(entries) = std::fs::read_dir(from.join("tenants")) {
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            // Only `<uuid>.db` files: never copy something a tampered backup smuggled in.
            let is_tenant_file = name_str
                .strip_suffix(".db")
                .is_some_and(|id| TenantId::parse(id).is_ok());
            if is_tenant_file {
                std::fs::copy(entry.path(), data_dir.join("tenants").join(&name))?;
                files += 1;
            }
        }
    }
    Ok(files)
}
