//! One SQLite file: a single write connection and a pool of read connections.
//!
//! SQLite allows one writer per file. Rather than let writers fight over the file lock (and
//! surface `SQLITE_BUSY`), every write of a file queues on one connection behind a mutex and runs
//! in a `BEGIN IMMEDIATE` transaction. Reads go through an r2d2 pool and, thanks to WAL, never
//! wait for the writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::error::StoreResult;
use crate::live_events;
use crate::migrate::{self, Migration};

/// How a file is opened: which migrations it gets and how its connections are tuned.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Used in error messages and logs ("control", "tenant <id>").
    pub label: String,
    pub migrations: &'static [Migration],
    /// `synchronous=FULL` for the control plane (small, precious), `NORMAL` for tenants (WAL makes
    /// NORMAL crash-safe: a power cut may lose the last commits, never corrupt the file).
    pub synchronous_full: bool,
    pub max_readers: u32,
    /// Page cache per connection, in KiB. Kept small for tenants: a thousand open tenants times a
    /// few connections each must fit in a modest RSS.
    pub cache_kib: u32,
}

/// An open SQLite file.
pub struct Db {
    path: PathBuf,
    /// Declared before `writer` so it drops first: the writer must be the last connection to
    /// close, because only a read-write connection checkpoints the WAL back into the file.
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Why a `parking_lot` mutex and not a tokio one: the store API is synchronous and runs on
    /// blocking threads; the lock is never held across an `.await`.
    writer: Mutex<Connection>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

fn apply_pragmas(conn: &Connection, opts_cache_kib: u32) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(5000))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -(i64::from(opts_cache_kib)))?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the file at `path`, applies pending migrations, and prepares the
    /// read pool. Read connections are opened lazily, so an idle file costs one connection.
    pub fn open(
        path: &Path,
        opts: &DbOptions,
        thread_pool: Arc<ScheduledThreadPool>,
    ) -> StoreResult<Self> {
        let mut writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        apply_pragmas(&writer, opts.cache_kib)?;
        // journal_mode is persistent in the file; setting it on every open is cheap and makes a
        // file copied in from elsewhere safe too.
        let _: String = writer.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        writer.pragma_update(
            None,
            "synchronous",
            if opts.synchronous_full {
                "FULL"
            } else {
                "NORMAL"
            },
        )?;
        migrate::apply(&mut writer, &opts.label, opts.migrations)?;

        let cache_kib = opts.cache_kib;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| apply_pragmas(c, cache_kib));
        let readers = r2d2::Pool::builder()
            .max_size(opts.max_readers)
            .min_idle(Some(0))
            .idle_timeout(Some(Duration::from_secs(60)))
            .connection_timeout(Duration::from_secs(10))
            .thread_pool(thread_pool)
            .build_unchecked(manager);

        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a read connection. Never blocks on the writer (WAL).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.readers.get()?;
        f(&conn)
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the file's single writer; commits if
    /// `f` succeeds, rolls back if it fails (or panics). This is the only way to write, so a
    /// change and its audit row always share a transaction.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Live events recorded by `f` are announced only once they are committed.
        let mark = live_events::mark();
        let out = match f(&tx).and_then(|out| Ok(tx.commit().map(|()| out)?)) {
            Ok(out) => out,
            Err(e) => {
                live_events::rolled_back(mark);
                return Err(e);
            }
        };
        drop(conn);
        live_events::committed(mark);
        Ok(out)
    }

    /// Writes a consistent snapshot of the file to `dest` (`VACUUM INTO` on a read connection),
    /// while readers and the writer go on.
    pub fn backup_to(&self, dest: &Path) -> StoreResult<()> {
        let conn = self.readers.get()?;
        conn.execute("VACUUM INTO ?1", [dest.to_string_lossy()])?;
        Ok(())
    }
}
