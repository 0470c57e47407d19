//! Start-up: the registry rebuilt from `control.db` and the stored binaries, the built-ins
//! installed (and, where nobody chose otherwise, activated), the call recorder started, and the
//! drop-folder watcher whose events are persisted here. Also the offline install of
//! `wrk plugin install`.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use tokio::sync::mpsc;
use wrk_plugins::inbox::{InboxConfig, InboxEvent, InboxWatcher};
use wrk_plugins::{
    Activation, ActivationAction, HostConfig, InstalledPlugin, PendingInstall, PluginHost,
    PluginKind, Registry,
};
use wrk_tenants::Storage;
use wrk_tenants::plugins::{ActivationRecord, NewPlugin, PluginRecord};

use super::calls::record_calls;
use super::{ChangeActor, Plugins, RECORD_QUEUE, plugins_dir};
use crate::config::Config;
use crate::metrics::Metrics;

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

pub(super) fn new_plugin(p: &InstalledPlugin, by: &str) -> NewPlugin {
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

    /// Watches `DATA_DIR/plugins/inbox`: a valid file is stored (binary, row, activation and
    /// audit), then installed and activated (actor `inbox`), under the same change lock as ops
    /// changes; an invalid one, or one the store refuses, goes to `inbox/rejected/` with its
    /// `.error.txt`.
    pub fn watch_inbox(&self, data_dir: &Path) -> anyhow::Result<()> {
        let storage = self.storage.clone();
        let dir = self.dir.clone();
        let changes = self.changes.clone();
        let config = InboxConfig::for_data_dir(data_dir);
        let commit =
            move |registry: &Registry, pending: PendingInstall, bytes: &[u8], actor: &str| {
                let _guard = changes.lock();
                let planned = registry.plan_activate_new(&pending, actor, Utc::now());
                let plugin = pending.plugin();
                let who = ChangeActor::system(actor);
                store_binary(&dir, &plugin.sha256, bytes)
                    .map_err(anyhow::Error::from)
                    .and_then(|()| {
                        storage
                            .control()
                            .install_plugin(
                                &new_plugin(plugin, actor),
                                &[to_record(&planned)],
                                &who.audit,
                                &who.request,
                            )
                            .map_err(anyhow::Error::from)
                    })
                    .map_err(|e| format!("could not be stored, so it was not installed: {e:#}"))?;
                let plugin = registry.commit_install(pending);
                let activation = registry.apply(planned).map_err(|e| e.to_string())?;
                Ok((plugin, activation))
            };
        let watcher = InboxWatcher::start(
            self.registry.clone(),
            config,
            Box::new(commit),
            log_inbox_event,
        )?;
        *self.inbox.lock() = Some(watcher);
        Ok(())
    }

    /// Stops the drop-folder watcher (at shutdown).
    pub fn stop_inbox(&self) {
        self.inbox.lock().take();
    }
}

fn log_inbox_event(event: InboxEvent) {
    match event {
        InboxEvent::Installed { file, plugin, .. } => tracing::info!(file = %file.display(),
            plugin = %plugin.manifest.name, version = %plugin.manifest.version,
            "inbox plugin stored, installed and activated"),
        InboxEvent::Rejected { file, reasons, .. } => {
            tracing::warn!(file = %file.display(), reasons = %reasons.join("; "),
                "inbox plugin rejected");
        }
    }
}
