//! The host side of the plugin sandbox: one [`PluginHost`] (wasmtime engine) and one
//! [`Registry`] shared by every request, persisted in `control.db` (`wrk_tenants::plugins`) with
//! the binaries under `DATA_DIR/plugins/<sha256>.wasm`.
//!
//! - Start-up ([`load_registry`]): re-adds every stored binary, replays the activation history,
//!   then makes sure the built-ins are there. A built-in is installed *and activated* only when
//!   its kind has no active plugin (first start), or when the kind's current plugin was put there
//!   by `system` itself (a newer built-in replaces an older built-in nobody chose). Once ops (or
//!   the inbox) activated something, a newer built-in is only installed: ops decide when it runs.
//! - Calls (`price`, `validate`, `ingest`) run on the blocking pool; each successful call's input
//!   and output go through a bounded channel to a writer task that stores them for shadow runs
//!   (latest [`KEEP_CALLS_PER_KIND`] per kind). Recording never delays or fails a call: when the
//!   channel is full the sample is dropped and counted.
//! - Changes (install, activate, rollback, pin) are serialised by one lock, applied to the
//!   registry, and persisted with their audit rows in one transaction.
//! - The drop folder (`DATA_DIR/plugins/inbox`) is the library's watcher; its events are
//!   persisted here (actor `inbox`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::mpsc;
use wrk_core::ids::TenantId;
use wrk_plugins::inbox::{InboxConfig, InboxEvent, InboxWatcher};
use wrk_plugins::sdk::ingestion::{IngestionInput, IngestionOutput};
use wrk_plugins::sdk::pricing::{PricingInput, PricingQuote};
use wrk_plugins::sdk::validation::{ValidationInput, ValidationOutput};
use wrk_plugins::{
    Activation, ActivationAction, Answer, HostConfig, InstallReport, InstalledPlugin, PluginError,
    PluginHost, PluginKind, Registry, RegistryError, ShadowCase, ShadowReport,
};
use wrk_tenants::Storage;
use wrk_tenants::audit::{AuditActor, RequestMeta};
use wrk_tenants::plugins::{ActivationRecord, NewPlugin, NewPluginCall, PluginRecord};

pub use wrk_tenants::plugins::KEEP_CALLS_PER_KIND;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

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

/// The plugin service handlers and workers use.
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

/// Starts an engine with its module cache under `DATA_DIR/plugins/cache`.
pub fn new_host(data_dir: &Path) -> anyhow::Result<PluginHost> {
    let cache_dir = plugins_dir(data_dir).join("cache");
    std::fs::create_dir_all(&cache_dir)?;
    PluginHost::new(HostConfig {
        cache_dir: Some(cache_dir),
        ..HostConfig::default()
    })
    .map_err(|e| anyhow::anyhow!("cannot start the plugin engine: {e}"))
}

fn action_str(a: ActivationAction) -> &'static str {
    match a {
        ActivationAction::Activate => "activate",
        ActivationAction::Rollback => "rollback",
        ActivationAction::Pin => "pin",
        ActivationAction::Unpin => "unpin",
    }
}

fn parse_action(s: &str) -> Option<ActivationAction> {
    Some(match s {
        "activate" => ActivationAction::Activate,
        "rollback" => ActivationAction::Rollback,
        "pin" => ActivationAction::Pin,
        "unpin" => ActivationAction::Unpin,
        _ => return None,
    })
}

pub fn to_record(a: &Activation) -> ActivationRecord {
    ActivationRecord {
        kind: a.kind.as_str().into(),
        action: action_str(a.action).into(),
        sha256: a.sha256.clone(),
        previous: a.previous.clone(),
        tenant: a.tenant.clone(),
        actor: a.actor.clone(),
        at: a.at,
    }
}

fn from_record(r: &ActivationRecord) -> Option<Activation> {
    Some(Activation {
        kind: PluginKind::parse(&r.kind)?,
        action: parse_action(&r.action)?,
        sha256: r.sha256.clone(),
        previous: r.previous.clone(),
        tenant: r.tenant.clone(),
        actor: r.actor.clone(),
        at: r.at,
    })
}

fn new_plugin(p: &InstalledPlugin, by: &str) -> NewPlugin {
    NewPlugin {
        sha256: p.sha256.clone(),
        name: p.manifest.name.clone(),
        kind: p.manifest.kind.as_str().into(),
        version: p.manifest.version.clone(),
        manifest: serde_json::to_value(&p.manifest).unwrap_or(Value::Null),
        size_bytes: p.size_bytes as u64,
        installed_at: p.installed_at,
        installed_by: by.into(),
    }
}

/// Writes the binary to `DATA_DIR/plugins/<sha256>.wasm` (write, fsync, rename).
pub fn store_binary(dir: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(format!("{sha256}.wasm"));
    if path.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{sha256}.wasm.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)
}

/// Rebuilds the registry from `control.db` and the stored binaries, and installs (and where
/// no choice was made, activates) the built-ins. Synchronous: the server calls it on the
/// blocking pool, `wrk plugin install` directly.
pub fn load_registry(data_dir: &Path, storage: &Storage) -> anyhow::Result<Registry> {
    let dir = plugins_dir(data_dir);
    let registry = Registry::new(Arc::new(new_host(data_dir)?));
    let control = storage.control();
    for row in control.list_plugins()? {
        let path = dir.join(format!("{}.wasm", row.sha256));
        let restored = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                registry
                    .restore_plugin(&bytes, row.installed_at)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = restored {
            tracing::error!(plugin = %row.name, version = %row.version, sha256 = %row.sha256,
                error = %e, "cannot restore an installed plugin; it is left out");
        }
    }
    let stored = control.list_plugin_activations()?;
    let records: Vec<Activation> = stored.iter().filter_map(from_record).collect();
    for skipped in registry.restore(records) {
        tracing::warn!(kind = %skipped.kind, sha256 = ?skipped.sha256,
            "activation record names a plugin that is not installed; skipped");
    }
    // Kinds whose current global plugin was chosen by `system` (or nobody yet).
    let system_chose = |kind: PluginKind| {
        stored
            .iter()
            .rev()
            .find(|r| r.kind == kind.as_str() && r.tenant.is_none())
            .is_none_or(|r| r.actor == "system")
    };
    let system = ChangeActor::system("system");
    for (kind, bytes) in wrk_plugins::builtin::all() {
        let sha = wrk_plugins::sha256_hex(bytes);
        if registry.active(kind).is_some_and(|a| a.sha256 == sha) {
            continue;
        }
        let now = Utc::now();
        let plugin = match registry.get(&sha) {
            // Installed earlier and not active: ops chose another plugin, or it is pending.
            Some(_) if registry.active(kind).is_some() && !system_chose(kind) => continue,
            Some(p) => p,
            None => match registry.install(bytes, now) {
                Ok((p, _)) => {
                    store_binary(&dir, &p.sha256, bytes)?;
                    control.install_plugin(
                        &new_plugin(&p, "system"),
                        &[],
                        &system.audit,
                        &system.request,
                    )?;
                    p
                }
                Err(report) if registry.active(kind).is_some() => {
                    tracing::warn!(kind = %kind, reasons = %report.reasons.join("; "),
                        "built-in plugin not installed; the active one stays");
                    continue;
                }
                Err(report) => anyhow::bail!(
                    "built-in {kind} plugin failed validation: {}",
                    report.reasons.join("; ")
                ),
            },
        };
        if registry.active(kind).is_none() || system_chose(kind) {
            let a = registry
                .activate(&plugin.sha256, "system", now)
                .map_err(|e| anyhow::anyhow!("cannot activate built-in plugin: {e}"))?;
            control.record_plugin_activations(&[to_record(&a)], &system.audit, &system.request)?;
            tracing::info!(kind = %kind, version = %plugin.manifest.version, "built-in plugin activated");
        } else {
            tracing::info!(kind = %kind, version = %plugin.manifest.version,
                "newer built-in plugin installed; not activated over the ops choice");
        }
    }
    Ok(registry)
}

/// Installs and optionally activates a binary (used by `wrk plugin install`, server stopped).
pub fn install_offline(
    data_dir: &Path,
    storage: &Storage,
    bytes: &[u8],
    activate: bool,
) -> anyhow::Result<(Arc<InstalledPlugin>, PluginRecord, Option<Activation>)> {
    let registry = load_registry(data_dir, storage)?;
    let now = Utc::now();
    let (plugin, _) = registry
        .install(bytes, now)
        .map_err(|report| anyhow::anyhow!("{}", report.render()))?;
    store_binary(&plugins_dir(data_dir), &plugin.sha256, bytes)?;
    let activation = if activate {
        Some(registry.activate(&plugin.sha256, "cli", now)?)
    } else {
        None
    };
    let actor = ChangeActor::system("cli");
    let record = storage.control().install_plugin(
        &new_plugin(&plugin, "cli"),
        &activation.iter().map(to_record).collect::<Vec<_>>(),
        &actor.audit,
        &actor.request,
    )?;
    Ok((plugin, record, activation))
}

/// One typed registry call (`Registry::price`, `validate`, `ingest`).
type RegistryCall<I, O> = fn(&Registry, Option<&str>, &I) -> Result<Answer<O>, PluginError>;

/// An installed plugin: the registry's view and the stored row (id, installed_by).
pub type Listed = (wrk_plugins::PluginInfo, PluginRecord);

/// Why an upload was refused: the report with every reason.
#[derive(Debug)]
pub enum InstallError {
    Invalid(Box<InstallReport>),
    Other(ApiError),
}

impl From<ApiError> for InstallError {
    fn from(e: ApiError) -> Self {
        Self::Other(e)
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::UnknownPlugin(_) => ApiError::not_found("plugin"),
            RegistryError::NothingToRollBack(_) => ApiError::Conflict(e.to_string()),
            RegistryError::KindMismatch { .. } => ApiError::BadRequest(e.to_string()),
        }
    }
}

impl Plugins {
    /// Restores the registry from `control.db` (installing the built-ins on a first start) and
    /// starts the call recorder. Call from the blocking pool inside the runtime.
    pub fn start(
        config: &Config,
        storage: Arc<Storage>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let registry = Arc::new(load_registry(&config.data_dir, &storage)?);
        let recorder = tokio::runtime::Handle::try_current().ok().map(|rt| {
            let (tx, rx) = mpsc::channel(RECORD_QUEUE);
            rt.spawn(record_calls(rx, storage.clone()));
            tx
        });
        Ok(Self {
            registry,
            storage,
            metrics,
            dir: plugins_dir(&config.data_dir),
            recorder,
            changes: Arc::new(parking_lot::Mutex::new(())),
            inbox: parking_lot::Mutex::new(None),
        })
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Watches `DATA_DIR/plugins/inbox`: a valid file is installed, activated and persisted
    /// (actor `inbox`); an invalid one goes to `inbox/rejected/` with its `.error.txt`.
    pub fn watch_inbox(&self, data_dir: &Path) -> anyhow::Result<()> {
        let storage = self.storage.clone();
        let dir = self.dir.clone();
        let changes = self.changes.clone();
        let config = InboxConfig::for_data_dir(data_dir);
        // The watcher's worker changes the registry before calling back; holding the change
        // lock while persisting keeps the stored order equal to the applied order as far as
        // ops changes are concerned.
        let watcher = InboxWatcher::start(self.registry.clone(), config, move |event| {
            let _guard = changes.lock();
            persist_inbox_event(&storage, &dir, event);
        })?;
        *self.inbox.lock() = Some(watcher);
        Ok(())
    }

    /// Stops the drop-folder watcher (at shutdown).
    pub fn stop_inbox(&self) {
        self.inbox.lock().take();
    }

    fn observe<T>(&self, kind: PluginKind, result: &Result<T, PluginError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        self.metrics.plugin_call(kind.as_str(), outcome);
    }

    fn record(
        &self,
        kind: PluginKind,
        tenant: TenantId,
        sha256: &str,
        input: Value,
        output: Value,
    ) {
        let Some(tx) = &self.recorder else { return };
        let call = NewPluginCall {
            kind: kind.as_str().into(),
            tenant: Some(tenant.to_string()),
            sha256: sha256.into(),
            input,
            output,
            at: Utc::now(),
        };
        if tx.try_send(call).is_err() {
            self.metrics.plugin_record_dropped();
        }
    }

    async fn call<I, O>(
        &self,
        kind: PluginKind,
        tenant: TenantId,
        input: I,
        f: RegistryCall<I, O>,
    ) -> Result<Answer<O>, PluginError>
    where
        I: serde::Serialize + Send + 'static,
        O: serde::Serialize + Send + 'static,
    {
        let registry = self.registry.clone();
        let result = tokio::task::spawn_blocking(move || {
            let answer = f(&registry, Some(&tenant.to_string()), &input)?;
            // Serialized here, off the async workers; recording itself is a channel send.
            let sample = serde_json::to_value(&input)
                .ok()
                .zip(serde_json::to_value(&answer.output).ok());
            Ok((answer, sample))
        })
        .await
        .map_err(|e| PluginError::Trap(format!("plugin call task failed: {e}")))
        .and_then(|r| r);
        self.observe(kind, &result);
        let (answer, sample) = result?;
        if let Some((input, output)) = sample {
            self.record(kind, tenant, &answer.plugin.sha256, input, output);
        }
        Ok(answer)
    }

    /// Prices with the workspace's pinned plugin, or the active one.
    pub async fn price(
        &self,
        tenant: TenantId,
        input: PricingInput,
    ) -> Result<Answer<PricingQuote>, PluginError> {
        self.call(PluginKind::Pricing, tenant, input, |r, t, i| r.price(t, i))
            .await
    }

    /// Validates a blueprint with the workspace's validation plugin.
    pub async fn validate(
        &self,
        tenant: TenantId,
        input: ValidationInput,
    ) -> Result<Answer<ValidationOutput>, PluginError> {
        self.call(PluginKind::Validation, tenant, input, |r, t, i| {
            r.validate(t, i)
        })
        .await
    }

    /// Turns requirement text and documents into a blueprint draft.
    pub async fn ingest(
        &self,
        tenant: TenantId,
        input: IngestionInput,
    ) -> Result<Answer<IngestionOutput>, PluginError> {
        self.call(PluginKind::Ingestion, tenant, input, |r, t, i| {
            r.ingest(t, i)
        })
        .await
    }

    // ---- ops: reads ----

    /// Every installed plugin with its stored row (id, installed_by).
    pub async fn list(&self) -> Result<Vec<Listed>, ApiError> {
        let storage = self.storage.clone();
        let rows = tokio::task::spawn_blocking(move || storage.control().list_plugins()).await??;
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
    pub async fn history(&self) -> Result<Vec<ActivationRecord>, ApiError> {
        let storage = self.storage.clone();
        let mut rows =
            tokio::task::spawn_blocking(move || storage.control().list_plugin_activations())
                .await??;
        rows.reverse();
        Ok(rows)
    }

    pub async fn by_id(&self, id: &str) -> Result<PluginRecord, ApiError> {
        let storage = self.storage.clone();
        let id = id.to_owned();
        tokio::task::spawn_blocking(move || storage.control().plugin_by_id(&id))
            .await??
            .ok_or_else(|| ApiError::not_found("plugin"))
    }

    pub async fn by_sha(&self, sha256: &str) -> Result<Option<PluginRecord>, ApiError> {
        let storage = self.storage.clone();
        let sha = sha256.to_owned();
        let rows = tokio::task::spawn_blocking(move || storage.control().list_plugins()).await??;
        Ok(rows.into_iter().find(|r| r.sha256 == sha))
    }

    /// Runs the plugin over the latest `limit` recorded calls of its kind.
    pub async fn shadow_run(&self, id: &str, limit: u32) -> Result<ShadowReport, ApiError> {
        let row = self.by_id(id).await?;
        let storage = self.storage.clone();
        let kind = row.kind.clone();
        let calls = tokio::task::spawn_blocking(move || {
            storage.control().recent_plugin_calls(&kind, limit)
        })
        .await??;
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
        Ok(tokio::task::spawn_blocking(move || registry.shadow_run(&row.sha256, &cases)).await??)
    }

    // ---- ops: changes ----

    /// Validates and installs an uploaded binary (not activated).
    pub async fn install(
        &self,
        bytes: Vec<u8>,
        actor: ChangeActor,
    ) -> Result<(PluginRecord, Box<InstallReport>), InstallError> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        let dir = self.dir.clone();
        let changes = self.changes.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = changes.lock();
            let (plugin, report) = registry
                .install(&bytes, Utc::now())
                .map_err(InstallError::Invalid)?;
            store_binary(&dir, &plugin.sha256, &bytes)
                .map_err(|e| ApiError::Unexpected(e.into()))?;
            let row = storage
                .control()
                .install_plugin(
                    &new_plugin(&plugin, &actor.name),
                    &[],
                    &actor.audit,
                    &actor.request,
                )
                .map_err(ApiError::from)?;
            Ok((row, Box::new(report)))
        })
        .await
        .map_err(|e| InstallError::Other(e.into()))?
    }

    /// Applies a registry change and stores its record with the audit row.
    async fn change(
        &self,
        actor: ChangeActor,
        f: impl FnOnce(&Registry, &str, DateTime<Utc>) -> Result<Activation, RegistryError>
        + Send
        + 'static,
    ) -> Result<Activation, ApiError> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        let changes = self.changes.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = changes.lock();
            let a = f(&registry, &actor.name, Utc::now())?;
            if let Err(e) = storage.control().record_plugin_activations(
                &[to_record(&a)],
                &actor.audit,
                &actor.request,
            ) {
                // The registry already runs the change; it is lost at the next restart.
                tracing::error!(error = %e, kind = %a.kind, "plugin activation not persisted");
                return Err(ApiError::from(e));
            }
            Ok(a)
        })
        .await?
    }

    pub async fn activate(&self, id: &str, actor: ChangeActor) -> Result<Activation, ApiError> {
        let row = self.by_id(id).await?;
        self.change(actor, move |r, who, at| r.activate(&row.sha256, who, at))
            .await
    }

    pub async fn rollback(
        &self,
        kind: PluginKind,
        actor: ChangeActor,
    ) -> Result<Activation, ApiError> {
        self.change(actor, move |r, who, at| r.rollback(kind, who, at))
            .await
    }

    /// Pins a workspace to a plugin (`Some(id)`) or removes its pin of `kind` (`None`).
    pub async fn pin(
        &self,
        tenant: TenantId,
        kind: PluginKind,
        plugin_id: Option<&str>,
        actor: ChangeActor,
    ) -> Result<Activation, ApiError> {
        let tenant = tenant.to_string();
        match plugin_id {
            Some(id) => {
                let row = self.by_id(id).await?;
                if row.kind != kind.as_str() {
                    return Err(ApiError::validation(
                        "plugin_id",
                        format!("is a {} plugin, not {kind}", row.kind),
                    ));
                }
                self.change(actor, move |r, who, at| {
                    r.pin(&tenant, &row.sha256, who, at)
                })
                .await
            }
            None => {
                self.change(actor, move |r, who, at| Ok(r.unpin(&tenant, kind, who, at)))
                    .await
            }
        }
    }
}

fn persist_inbox_event(storage: &Storage, dir: &Path, event: InboxEvent) {
    match event {
        InboxEvent::Installed {
            file,
            plugin,
            activation,
            bytes,
            ..
        } => {
            let actor = ChangeActor::system("inbox");
            let stored = store_binary(dir, &plugin.sha256, &bytes)
                .map_err(anyhow::Error::from)
                .and_then(|()| {
                    storage
                        .control()
                        .install_plugin(
                            &new_plugin(&plugin, "inbox"),
                            &[to_record(&activation)],
                            &actor.audit,
                            &actor.request,
                        )
                        .map_err(anyhow::Error::from)
                });
            match stored {
                Ok(row) => tracing::info!(file = %file.display(), plugin = %row.name,
                    version = %row.version, "inbox plugin installed and activated"),
                Err(e) => tracing::error!(file = %file.display(), error = %format!("{e:#}"),
                    "inbox plugin activated but not persisted; it is lost at the next restart"),
            }
        }
        InboxEvent::Rejected { file, reasons, .. } => {
            tracing::warn!(file = %file.display(), reasons = %reasons.join("; "),
                "inbox plugin rejected");
        }
    }
}

/// The writer of recorded calls: batches what the channel holds and prunes per kind.
async fn record_calls(mut rx: mpsc::Receiver<NewPluginCall>, storage: Arc<Storage>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let storage = storage.clone();
        let stored = tokio::task::spawn_blocking(move || {
            storage
                .control()
                .record_plugin_calls(&batch, KEEP_CALLS_PER_KIND)
        })
        .await;
        match stored {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "plugin calls not recorded"),
            Err(e) => tracing::warn!(error = %e, "plugin call recorder task failed"),
        }
    }
}
