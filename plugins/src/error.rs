//! The crate's error types: [`PluginError`] for everything a plugin call or install can end in,
//! [`RegistryError`] for registry bookkeeping. The host maps each to a status and problem `code`
//! once, with [`PluginError::code`].

use wrk_plugin_sdk::PluginKind;

/// Why a plugin could not be installed or did not produce a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// Refused before running: bad module, forbidden import, bad manifest, input too large…
    /// Every reason is listed.
    #[error("invalid plugin: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// Used up its fuel (instruction budget).
    #[error("plugin ran out of fuel")]
    OutOfFuel,
    /// Tried to grow its linear memory past the limit.
    #[error("plugin exceeded its memory limit")]
    MemoryLimit,
    /// Spent its CPU-time budget, or ran into the hard wall-time cap (epoch interruption).
    #[error("plugin exceeded its time limit")]
    Timeout,
    /// Any other trap (unreachable, out-of-bounds access, a call to an unsupported WASI function…).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// Output too large, not JSON, not the kind's shape, or breaking an invariant.
    #[error("plugin output is invalid: {0}")]
    BadOutput(String),
    /// The plugin ran fine and declined its input (SDK error written to stderr, exit status 1).
    #[error("plugin rejected the input: {code}: {message}")]
    Rejected { code: String, message: String },
    /// No plugin is active (or pinned) for this kind.
    #[error("no active {0} plugin")]
    NoActivePlugin(PluginKind),
}

impl PluginError {
    /// Stable machine code for problem details and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "plugin_invalid",
            Self::OutOfFuel => "plugin_out_of_fuel",
            Self::MemoryLimit => "plugin_memory_limit",
            Self::Timeout => "plugin_timeout",
            Self::Trap(_) => "plugin_trap",
            Self::BadOutput(_) => "plugin_bad_output",
            Self::Rejected { .. } => "plugin_rejected_input",
            Self::NoActivePlugin(_) => "plugin_unavailable",
        }
    }
}

/// Registry bookkeeping failures (the plugin itself is fine).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no installed plugin with sha256 {0}")]
    UnknownPlugin(String),
    #[error(
        "There is no earlier {0} plugin to roll back to: no other {0} plugin was active before this one."
    )]
    NothingToRollBack(PluginKind),
    #[error("plugin {sha256} is a {actual} plugin, not {expected}")]
    KindMismatch {
        sha256: String,
        expected: PluginKind,
        actual: PluginKind,
    },
}
