//! The host side of the plugin sandbox: one [`PluginHost`] (wasmtime engine) and one
//! [`Registry`] shared by every request, persisted in `control.db` (`wrk_tenants::plugins`) with
//! the binaries under `DATA_DIR/plugins/<sha256>.wasm`.
//!
//! Layout:
//! - [`bootstrap`] — start-up ([`load_registry`]): re-adds every stored binary, replays the activation history,
//!   then makes sure the built-ins are there. A built-in is installed *and activated* only when
//!   its kind has no active plugin (first start), or when the kind's current plugin was put there
//!   by `system` itself (a newer built-in replaces an older built-in nobody chose). Once ops (or
//!   the inbox) activated something, a newer built-in is only installed: ops decide when it runs.
//! - [`calls`] — calls (`price`, `validate`, `ingest`) run on the blocking pool; each successful call's input
//!   and output go through a bounded channel to a writer task that stores them for shadow runs
//!   (latest [`KEEP_CALLS_PER_KIND`] per kind). Recording never delays or fails a call: when the
//!   channel is full the sample is dropped and counted.
//! - [`changes`] — changes (install, activate, rollback, pin) are serialised by one lock, applied to the
//!   registry, and persisted with their audit rows in one transaction.
//! - The drop folder (`DATA_DIR/plugins/inbox`) is the library's watcher; [`bootstrap`] starts
//!   it and persists its events (actor `inbox`).
//! - Reads for the ops console (list, history, shadow runs) are here.
//!
//! Errors are [`PluginsError`]; `crate::error` maps them to problem documents. Nothing here
//! knows HTTP.

mod bootstrap;
mod calls;
mod changes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use wrk_plugins::inbox::InboxWatcher;
use wrk_plugins::{InstallReport, PluginKind, Registry, RegistryError, ShadowCase, ShadowReport};
use wrk_tenants::audit::{AuditActor, RequestMeta};
use wrk_tenants::plugins::{ActivationRecord, NewPluginCall, PluginRecord};
use wrk_tenants::{Storage, StoreError};

pub use bootstrap::{install_offline, load_registry, new_host, store_binary, to_record};
pub use wrk_tenants::plugins::KEEP_CALLS_PER_KIND;

use crate::metrics::Metrics;

/// Why a plugin service call failed. `crate::error` maps each to its problem document.
#[derive(Debug, thiserror::Error)]
pub enum PluginsError {
    /// No installed plugin has this id.
    #[error("plugin not found")]
    NotFound,
    /// The registry refused the change: an unknown plugin, nothing to roll back, a kind mismatch.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A pin names a plugin of another kind than the pin's.
    #[error("is a {found} plugin, not {wanted}")]
    WrongKind { found: String, wanted: PluginKind },
    /// An uploaded binary failed validation: the report with every reason.
    #[error("the plugin failed validation")]
    Invalid(Box<InstallReport>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot store the plugin binary: {0}")]
    Io(#[from] std::io::Error),
    #[error("blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Recorded calls waiting for the writer; beyond this, samples are dropped (and counted).
const RECORD_QUEUE: usize = 1024;

/// Who makes a change: the name stored in the activation history, and the audit actor.
#[derive(Debug, Clone)]
pub struct ChangeActor {
    pub name: String,
    pub audit: AuditActor,
    pub request: RequestMeta,
}

impl ChangeActor {
    pub fn system(name: &str) -> Self {
        Self {
            name: name.into(),
            audit: AuditActor::system(),
            request: RequestMeta::default(),
        }
    }
}

/// The plugin service handlers and workers use (built by [`Plugins::start`]).
pub struct Plugins {
    registry: Arc<Registry>,
    storage: Arc<Storage>,
    metrics: Arc<Metrics>,
    dir: PathBuf,
    recorder: Option<mpsc::Sender<NewPluginCall>>,
    /// Serialises changes (registry + persistence), so the stored history replays to the
    /// in-memory state.
    changes: Arc<parking_lot::Mutex<()>>,
    inbox: parking_lot::Mutex<Option<InboxWatcher>>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins").finish_non_exhaustive()
    }
}

/// `DATA_DIR/plugins`.
pub fn plugins_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("plugins")
}

/// An installed plugin: the registry's view and the stored row (id, installed_by).
pub type Listed = (wrk_plugins::PluginInfo, PluginRecord);

impl Plugins {
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Control-plane reads and writes on the blocking pool.
    async fn store<T, F>(&self, f: F) -> Result<T, PluginsError>
    where
        F: FnOnce(&Storage) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        crate::blocking::store(&self.storage, f).await
    }

    /// Every installed plugin with its stored row (id, installed_by).
    pub async fn list(&self) -> Result<Vec<Listed>, PluginsError> {
        let rows = self.store(|s| s.control().list_plugins()).await?;
        let infos = self.registry.list();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let info = infos.iter().find(|i| i.sha256 == row.sha256)?.clone();
                Some((info, row))
            })
            .collect())
    }

    /// The stored activation history, newest first.
    pub async fn history(&self) -> Result<Vec<ActivationRecord>, PluginsError> {
        let mut rows = self
            .store(|s| s.control().list_plugin_activations())
            .await?;
        rows.reverse();
        Ok(rows)
    }

    pub async fn by_id(&self, id: &str) -> Result<PluginRecord, PluginsError> {
        let id = id.to_owned();
        self.store(move |s| s.control().plugin_by_id(&id))
            .await?
            .ok_or(PluginsError::NotFound)
    }

    pub async fn by_sha(&self, sha256: &str) -> Result<Option<PluginRecord>, PluginsError> {
        let sha = sha256.to_owned();
        let rows = self.store(|s| s.control().list_plugins()).await?;
        Ok(rows.into_iter().find(|r| r.sha256 == sha))
    }

    /// Runs the plugin over the latest `limit` recorded calls of its kind.
    pub async fn shadow_run(&self, id: &str, limit: u32) -> Result<ShadowReport, PluginsError> {
        let row = self.by_id(id).await?;
        let kind = row.kind.clone();
        let calls = self
            .store(move |s| s.control().recent_plugin_calls(&kind, limit))
            .await?;
        let cases: Vec<ShadowCase> = calls
            .into_iter()
            .rev()
            .map(|c| ShadowCase {
                id: Some(c.id.to_string()),
                input: c.input,
                output: c.output,
            })
            .collect();
        let registry = self.registry.clone();
        crate::blocking::run(move || Ok(registry.shadow_run(&row.sha256, &cases)?)).await
    }
}
