//! `wrk-plugins`: the wasmtime plugin host of WRK Copilot (ARCHITECTURE.md, "Plugins
//! (wasmtime)"). It owns the ABI v1 contract (schemas, sample inputs, output checks), running
//! plugins under limits, install validation, the in-memory registry with hot swap and rollback,
//! shadow runs, the drop-folder watcher, and the library side of `wrk plugin …`.
//!
//! It depends on no storage and no async runtime: the host persists binaries and
//! [`Activation`] records in its control database and replays them with [`Registry::restore`];
//! plugin calls are synchronous (tens of µs) and belong on a blocking pool in async code.
//!
//! Layout:
//! - [`engine`]: `Engine` (pooling allocator, fuel, epoch deadline), compile, `InstancePre`, run.
//! - `wasi`: the sandbox's own `wasi_snapshot_preview1` (in-memory stdio, fixed clock/random).
//! - `cache`: compiled modules on disk, HMAC-authenticated.
//! - [`manifest`], [`output`], [`schemas`]: the ABI contract.
//! - [`install`]: validation shared by every install path; [`registry`]; [`shadow`];
//!   [`inbox`]; [`cli`]; [`builtin`]: the embedded built-in plugins.
//!
//! From async code (the host), a call is one `spawn_blocking`:
//!
//! ```text
//! let registry = state.plugins.clone(); // Arc<Registry>
//! let answer = tokio::task::spawn_blocking(move || registry.price(Some(&tenant_id), &input)).await??;
//! ```
//!
//! The guest side (typed inputs/outputs, `export_plugin!`) is `wrk-plugin-sdk`, re-exported as
//! [`sdk`].

pub mod builtin;
mod cache;
pub mod cli;
pub mod engine;
mod error;
pub mod inbox;
pub mod install;
mod limits;
pub mod manifest;
pub mod output;
pub mod registry;
pub mod schemas;
pub mod shadow;
mod wasi;

pub use engine::{CallStats, CompiledPlugin, PluginHost, RawRun, sha256_hex};
pub use error::{PluginError, RegistryError};
pub use install::{InstallReport, validate};
pub use limits::{HostConfig, INGESTION_CHUNK_BYTES, Limits};
pub use registry::{
    Activation, ActivationAction, Answer, InstalledPlugin, PendingInstall, PluginInfo, PluginRef,
    Registry,
};
pub use schemas::{sample_inputs, schemas};
pub use shadow::{ShadowCase, ShadowReport, shadow_run};
pub use wrk_plugin_sdk as sdk;
pub use wrk_plugin_sdk::{Manifest, PluginKind};
