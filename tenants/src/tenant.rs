//! One workspace's database (`tenants/<tenant_id>.db`). Everything a workspace owns lives in its
//! own file, so isolation is structural: a handle can only ever reach its own tenant's rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use wrk_core::ids::TenantId;

use crate::audit::timestamp;
use crate::db::Db;
use crate::error::{StoreError, StoreResult};

/// An open tenant database.
#[derive(Debug)]
pub struct TenantStore {
    id: TenantId,
    db: Db,
    /// Milliseconds since the pool set's epoch when this store was last handed out; read by the
    /// idle sweeper. Atomic so a hot read path never takes a lock to touch it.
    last_used_ms: AtomicU64,
}

impl TenantStore {
    /// Wraps a freshly opened file, stamping it with its tenant id on first open and refusing a
    /// file that belongs to another tenant.
    pub(crate) fn new(id: TenantId, db: Db, now_ms: u64) -> StoreResult<Self> {
        let found: Option<String> = db.read(|c| {
            Ok(
                c.query_row("SELECT tenant_id FROM tenant_meta WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })?;
        match found {
            Some(found) if found != id.to_string() => {
                return Err(StoreError::WrongTenant {
                    path: db.path().display().to_string(),
                    expected: id.to_string(),
                    found,
                });
            }
            Some(_) => {}
            None => db.write(|tx| {
                tx.execute(
                    "INSERT OR IGNORE INTO tenant_meta (id, tenant_id, created_at) VALUES (1, ?1, ?2)",
                    params![id.to_string(), timestamp(Utc::now())],
                )?;
                Ok(())
            })?,
        }
        Ok(Self {
            id,
            db,
            last_used_ms: AtomicU64::new(now_ms),
        })
    }

    pub fn id(&self) -> TenantId {
        self.id
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn touch(&self, now_ms: u64) {
        self.last_used_ms.store(now_ms, Ordering::Relaxed);
    }

    pub(crate) fn idle_since(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_used_ms.load(Ordering::Relaxed))
    }
}

/// Milliseconds since `epoch`, for cheap idle bookkeeping.
pub(crate) fn ms_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}
