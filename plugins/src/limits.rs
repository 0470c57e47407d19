//! Per-call resource limits (ARCHITECTURE.md: 10,000,000 fuel, 32 MiB memory, 1 MiB input,
//! 256 KiB output, 100 ms of time) and the host-wide configuration.
//!
//! The 100 ms is charged as the calling thread's CPU time, not as time on the clock: on a busy
//! machine the operating system may run other threads for longer than a whole call takes, and a
//! plugin must not fail (nor a built-in fail its start-up check) for time it never ran. Fuel
//! bounds the instructions; the CPU-time budget bounds what fuel undercounts (bulk memory
//! operations cost one unit of fuel each); `wall_time` caps how long a caller can wait at all.

use std::path::PathBuf;
use std::time::Duration;

/// The most text (requirements plus documents, in bytes of UTF-8) the host passes to one
/// ingestion call. Longer text is split into chunks of at most this size, each ingested by its
/// own call (each with the full per-call limits). The built-in ingestion plugin is tested to
/// stay well within its fuel on a chunk of this size of dense text (`tests/ingestion_documents.rs`).
pub const INGESTION_CHUNK_BYTES: usize = 6 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel units (≈ wasm instructions) per call.
    pub fuel: u64,
    /// Largest linear memory a plugin may grow to, in bytes.
    pub memory_bytes: usize,
    /// Largest JSON input accepted, in bytes.
    pub input_bytes: usize,
    /// Largest stdout a plugin may write, in bytes; writing more traps the call.
    pub output_bytes: usize,
    /// CPU time the call's thread may spend, checked at epoch deadlines (see the module docs).
    /// Where the platform cannot tell a thread's CPU time, it is a wall-time deadline.
    pub cpu_time: Duration,
    /// Hard deadline on the clock, however little CPU the call got: bounds a caller's wait.
    pub wall_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 10_000_000,
            memory_bytes: 32 << 20,
            input_bytes: 1 << 20,
            output_bytes: 256 << 10,
            cpu_time: Duration::from_millis(100),
            wall_time: Duration::from_secs(1),
        }
    }
}

/// How to build a [`crate::PluginHost`].
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub limits: Limits,
    /// Where compiled modules are cached (`None`: compile on every start).
    pub cache_dir: Option<PathBuf>,
    /// Instance slots in the pooling allocator = calls that can run at the same moment. A call
    /// beyond that fails with a `Trap("instance pool exhausted …")`; size it above the blocking
    /// pool that runs plugin calls.
    pub max_concurrent_calls: u32,
    /// Granularity of the time limits (the epoch ticker's period).
    pub epoch_tick: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            cache_dir: None,
            max_concurrent_calls: 128,
            epoch_tick: Duration::from_millis(1),
        }
    }
}
