//! The in-memory registry: installed plugins by SHA-256, the active one per kind, per-tenant
//! pins, and the activation history.
//!
//! Hot swap: the active plugin of each kind lives in an `ArcSwapOption`. A call loads the `Arc`
//! once and runs on it; activation stores a new `Arc`. Calls in flight finish on the version they
//! started with and no call ever waits for, or fails because of, a swap.
//!
//! Persistence is the host's: every change returns an [`Activation`] record for it to store, and
//! [`Registry::restore`] rebuilds active plugins, rollback stacks and pins by replaying those
//! records at start-up (after the binaries were re-added with [`Registry::restore_plugin`]).
//! History bookkeeping sits behind one `Mutex` (changes are rare; it is never held during a call).

use crate::engine::{CompiledPlugin, PluginHost, RawRun};
use crate::error::{PluginError, RegistryError};
use crate::install::{InstallReport, validate};
use crate::output::{check_ingestion, check_output, check_pricing, check_validation};
use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use wrk_plugin_sdk::ingestion::{IngestionInput, IngestionOutput};
use wrk_plugin_sdk::pricing::{PricingInput, PricingQuote};
use wrk_plugin_sdk::validation::{ValidationInput, ValidationOutput};
use wrk_plugin_sdk::{Manifest, PluginKind};

/// An installed binary, compiled and ready.
#[derive(Debug)]
pub struct InstalledPlugin {
    pub sha256: String,
    pub manifest: Manifest,
    pub size_bytes: usize,
    pub installed_at: DateTime<Utc>,
    compiled: CompiledPlugin,
}

impl InstalledPlugin {
    fn new(compiled: CompiledPlugin, installed_at: DateTime<Utc>) -> Self {
        Self {
            sha256: compiled.sha256.clone(),
            manifest: compiled.manifest.clone(),
            size_bytes: compiled.size_bytes,
            installed_at,
            compiled,
        }
    }

    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    pub fn reference(&self) -> PluginRef {
        PluginRef {
            name: self.manifest.name.clone(),
            version: self.manifest.version.clone(),
            sha256: self.sha256.clone(),
        }
    }

    pub fn compiled(&self) -> &CompiledPlugin {
        &self.compiled
    }
}

/// Which plugin produced an answer (stored with quotes as `plugin:{name, version}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRef {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// A row of `GET /api/ops/plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    pub sha256: String,
    pub name: String,
    pub kind: PluginKind,
    pub version: String,
    pub description: String,
    pub size_bytes: usize,
    pub active: bool,
    pub installed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationAction {
    Activate,
    Rollback,
    Pin,
    Unpin,
}

/// One change of what runs: who, when, what, and what ran before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub kind: PluginKind,
    pub action: ActivationAction,
    /// The plugin now in effect (`None` after an unpin).
    pub sha256: Option<String>,
    /// What was in effect before.
    pub previous: Option<String>,
    /// `Some` for pins: the tenant (workspace) id.
    pub tenant: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A validated plugin not yet added to the registry ([`Registry::prepare_install`]).
#[derive(Debug)]
pub struct PendingInstall(Arc<InstalledPlugin>);

impl PendingInstall {
    pub fn plugin(&self) -> &InstalledPlugin {
        &self.0
    }
}

/// A checked answer plus the plugin that gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub output: T,
    pub plugin: PluginRef,
}

#[derive(Default)]
struct History {
    /// Per kind, earlier global actives (most recent last), for rollback.
    previous: HashMap<PluginKind, Vec<String>>,
    log: Vec<Activation>,
}

pub struct Registry {
    host: Arc<PluginHost>,
    plugins: RwLock<BTreeMap<String, Arc<InstalledPlugin>>>,
    /// Indexed by `kind_index`.
    active: [ArcSwapOption<InstalledPlugin>; 3],
    pins: RwLock<HashMap<(String, PluginKind), Arc<InstalledPlugin>>>,
    history: Mutex<History>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("plugins", &self.list().len())
            .finish()
    }
}

fn kind_index(kind: PluginKind) -> usize {
    match kind {
        PluginKind::Pricing => 0,
        PluginKind::Validation => 1,
        PluginKind::Ingestion => 2,
    }
}

impl Registry {
    pub fn new(host: Arc<PluginHost>) -> Self {
        Self {
            host,
            plugins: RwLock::new(BTreeMap::new()),
            active: Default::default(),
            pins: RwLock::new(HashMap::new()),
            history: Mutex::new(History::default()),
        }
    }

    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Validates and installs (not activates). Installing the same bytes again is a no-op that
    /// returns the existing plugin. `Err` carries the report with every reason.
    pub fn install(
        &self,
        bytes: &[u8],
        at: DateTime<Utc>,
    ) -> Result<(Arc<InstalledPlugin>, InstallReport), Box<InstallReport>> {
        let (pending, report) = self.prepare_install(bytes, at)?;
        Ok((self.commit_install(pending), report))
    }

    /// Validates `bytes` like [`Self::install`] without adding them: the host stores the binary
    /// and its row first, then calls [`Self::commit_install`], so the running registry is never
    /// ahead of what a restart would rebuild.
    pub fn prepare_install(
        &self,
        bytes: &[u8],
        at: DateTime<Utc>,
    ) -> Result<(PendingInstall, InstallReport), Box<InstallReport>> {
        let (mut report, compiled) = validate(&self.host, bytes);
        let Some(compiled) = compiled else {
            return Err(Box::new(report));
        };
        let m = &compiled.manifest;
        if let Some(other) = self.find_version(m.kind, &m.name, &m.version)
            && other.sha256 != compiled.sha256
        {
            // One (name, version) names one binary, so quotes that record `plugin:{name,
            // version}` stay traceable.
            report.reasons.push(format!(
                "{} {} is already installed with different bytes (sha256 {}); bump the version",
                m.name, m.version, other.sha256
            ));
            return Err(Box::new(report));
        }
        let plugin = self
            .get(&compiled.sha256)
            .unwrap_or_else(|| Arc::new(InstalledPlugin::new(compiled, at)));
        Ok((PendingInstall(plugin), report))
    }

    /// Adds a prepared plugin (or returns the one already installed with the same bytes).
    pub fn commit_install(&self, pending: PendingInstall) -> Arc<InstalledPlugin> {
        let plugin = pending.0;
        let mut plugins = self.plugins.write().unwrap_or_else(|p| p.into_inner());
        plugins
            .entry(plugin.sha256.clone())
            .or_insert(plugin)
            .clone()
    }

    /// Re-adds a binary installed earlier (start-up): compiles (from the module cache) and
    /// checks the module and manifest, without the sample runs it already passed.
    pub fn restore_plugin(
        &self,
        bytes: &[u8],
        installed_at: DateTime<Utc>,
    ) -> Result<Arc<InstalledPlugin>, PluginError> {
        let compiled = self.host.compile(bytes)?;
        Ok(self.insert(compiled, installed_at))
    }

    fn insert(&self, compiled: CompiledPlugin, at: DateTime<Utc>) -> Arc<InstalledPlugin> {
        let mut plugins = self.plugins.write().unwrap_or_else(|p| p.into_inner());
        plugins
            .entry(compiled.sha256.clone())
            .or_insert_with(|| Arc::new(InstalledPlugin::new(compiled, at)))
            .clone()
    }

    pub fn get(&self, sha256: &str) -> Option<Arc<InstalledPlugin>> {
        self.plugins
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(sha256)
            .cloned()
    }

    fn require(&self, sha256: &str) -> Result<Arc<InstalledPlugin>, RegistryError> {
        self.get(sha256)
            .ok_or_else(|| RegistryError::UnknownPlugin(sha256.to_string()))
    }

    /// The installed plugin of a kind with this name and version (e.g. to turn a tenant's
    /// `plugin_version` override into a pin).
    pub fn find_version(
        &self,
        kind: PluginKind,
        name: &str,
        version: &str,
    ) -> Option<Arc<InstalledPlugin>> {
        let plugins = self.plugins.read().unwrap_or_else(|p| p.into_inner());
        plugins
            .values()
            .find(|p| {
                p.manifest.kind == kind && p.manifest.name == name && p.manifest.version == version
            })
            .cloned()
    }

    /// The globally active plugin of a kind.
    pub fn active(&self, kind: PluginKind) -> Option<Arc<InstalledPlugin>> {
        self.active[kind_index(kind)].load_full()
    }

    /// The sha256 of the plugin a rollback of `kind` would re-activate, if there is one.
    pub fn rollback_target(&self, kind: PluginKind) -> Option<String> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history
            .previous
            .get(&kind)
            .and_then(|stack| stack.last().cloned())
    }

    /// The plugin a tenant's call uses: its pin, else the global active one.
    pub fn resolve(&self, kind: PluginKind, tenant: Option<&str>) -> Option<Arc<InstalledPlugin>> {
        if let Some(t) = tenant {
            let pins = self.pins.read().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = pins.get(&(t.to_string(), kind)) {
                return Some(p.clone());
            }
        }
        self.active(kind)
    }

    /// The `GET /api/ops/plugins` row of one plugin.
    pub fn info(&self, sha256: &str) -> Option<PluginInfo> {
        self.list().into_iter().find(|p| p.sha256 == sha256)
    }

    pub fn list(&self) -> Vec<PluginInfo> {
        let plugins = self.plugins.read().unwrap_or_else(|p| p.into_inner());
        plugins
            .values()
            .map(|p| PluginInfo {
                sha256: p.sha256.clone(),
                name: p.manifest.name.clone(),
                kind: p.manifest.kind,
                version: p.manifest.version.clone(),
                description: p.manifest.description.clone(),
                size_bytes: p.size_bytes,
                active: self
                    .active(p.manifest.kind)
                    .is_some_and(|a| a.sha256 == p.sha256),
                installed_at: p.installed_at,
            })
            .collect()
    }

    pub fn history(&self) -> Vec<Activation> {
        self.history
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .log
            .clone()
    }

    /// Makes an installed plugin the active one of its kind (atomic swap).
    pub fn activate(
        &self,
        sha256: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        self.apply(self.plan_activate(sha256, actor, at)?)
    }

    /// Re-activates the plugin that was active before the current one.
    pub fn rollback(
        &self,
        kind: PluginKind,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        self.apply(self.plan_rollback(kind, actor, at)?)
    }

    /// Pins a tenant to an installed plugin of that plugin's kind (flow 19).
    pub fn pin(
        &self,
        tenant: &str,
        sha256: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        self.apply(self.plan_pin(tenant, sha256, actor, at)?)
    }

    pub fn unpin(
        &self,
        tenant: &str,
        kind: PluginKind,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Activation {
        let record = self.plan_unpin(tenant, kind, actor, at);
        self.apply(record.clone()).unwrap_or(record)
    }

    // Store first, then swap: each change is planned (its record computed from the running state,
    // nothing changed), the host stores the record, and only then [`Self::apply`]s it, so a
    // crash or a storage error never leaves the running registry ahead of what a restart
    // replays. The host serialises plan, store and apply under one change lock.

    /// The record [`Self::activate`] would make, changing nothing.
    pub fn plan_activate(
        &self,
        sha256: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        let kind = self.require(sha256)?.kind();
        Ok(Activation {
            kind,
            action: ActivationAction::Activate,
            sha256: Some(sha256.to_string()),
            previous: self.active(kind).map(|p| p.sha256.clone()),
            tenant: None,
            actor: actor.to_string(),
            at,
        })
    }

    /// The record activating a prepared plugin would make once it is committed, changing
    /// nothing (the drop folder installs and activates in one stored change).
    pub fn plan_activate_new(
        &self,
        pending: &PendingInstall,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Activation {
        let kind = pending.0.kind();
        Activation {
            kind,
            action: ActivationAction::Activate,
            sha256: Some(pending.0.sha256.clone()),
            previous: self.active(kind).map(|p| p.sha256.clone()),
            tenant: None,
            actor: actor.to_string(),
            at,
        }
    }

    /// The record [`Self::rollback`] would make, changing nothing.
    pub fn plan_rollback(
        &self,
        kind: PluginKind,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        let target = self
            .rollback_target(kind)
            .ok_or(RegistryError::NothingToRollBack(kind))?;
        self.require(&target)?;
        Ok(Activation {
            kind,
            action: ActivationAction::Rollback,
            sha256: Some(target),
            previous: self.active(kind).map(|p| p.sha256.clone()),
            tenant: None,
            actor: actor.to_string(),
            at,
        })
    }

    /// The record [`Self::pin`] would make, changing nothing.
    pub fn plan_pin(
        &self,
        tenant: &str,
        sha256: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Activation, RegistryError> {
        let kind = self.require(sha256)?.kind();
        Ok(Activation {
            kind,
            action: ActivationAction::Pin,
            sha256: Some(sha256.to_string()),
            previous: self.pinned(tenant, kind),
            tenant: Some(tenant.to_string()),
            actor: actor.to_string(),
            at,
        })
    }

    /// The record [`Self::unpin`] would make, changing nothing.
    pub fn plan_unpin(
        &self,
        tenant: &str,
        kind: PluginKind,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Activation {
        Activation {
            kind,
            action: ActivationAction::Unpin,
            sha256: None,
            previous: self.pinned(tenant, kind),
            tenant: Some(tenant.to_string()),
            actor: actor.to_string(),
            at,
        }
    }

    fn pinned(&self, tenant: &str, kind: PluginKind) -> Option<String> {
        self.pins
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tenant.to_string(), kind))
            .map(|p| p.sha256.clone())
    }

    /// Carries out a planned record (the same replay as [`Self::restore`]) and returns it.
    pub fn apply(&self, record: Activation) -> Result<Activation, RegistryError> {
        match self.restore(vec![record.clone()]).pop() {
            None => Ok(record),
            Some(skipped) => Err(RegistryError::UnknownPlugin(
                skipped.sha256.unwrap_or_default(),
            )),
        }
    }

    /// Rebuilds active plugins, rollback stacks, pins and the history by replaying stored
    /// activation records (oldest first). Records naming a plugin that is not installed are
    /// skipped and returned, so the host can log them; the rest still apply.
    pub fn restore(&self, records: Vec<Activation>) -> Vec<Activation> {
        let mut skipped = Vec::new();
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        for record in records {
            let plugin = match &record.sha256 {
                Some(sha) => match self.get(sha) {
                    Some(p) if p.kind() == record.kind => Some(p),
                    _ => {
                        skipped.push(record);
                        continue;
                    }
                },
                None => None,
            };
            match (record.action, &record.tenant, plugin) {
                (ActivationAction::Activate, None, Some(p)) => {
                    if let Some(prev) = self.active(record.kind)
                        && prev.sha256 != p.sha256
                    {
                        history
                            .previous
                            .entry(record.kind)
                            .or_default()
                            .push(prev.sha256.clone());
                    }
                    self.active[kind_index(record.kind)].store(Some(p));
                }
                (ActivationAction::Rollback, None, Some(p)) => {
                    history.previous.entry(record.kind).or_default().pop();
                    self.active[kind_index(record.kind)].store(Some(p));
                }
                (ActivationAction::Pin, Some(t), Some(p)) => {
                    self.pins
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((t.clone(), record.kind), p);
                }
                (ActivationAction::Unpin, Some(t), _) => {
                    self.pins
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&(t.clone(), record.kind));
                }
                _ => {
                    skipped.push(record);
                    continue;
                }
            }
            history.log.push(record);
        }
        skipped
    }

    /// First start (or after restore): installs the embedded built-ins and activates each one
    /// whose kind has no active plugin. Returns the activations for the host to persist.
    pub fn ensure_builtins(
        &self,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Activation>, Box<InstallReport>> {
        let mut done = Vec::new();
        for (kind, bytes) in crate::builtin::all() {
            let (plugin, _) = self.install(bytes, at)?;
            if self.active(kind).is_none() {
                // Cannot fail: the plugin was just installed.
                if let Ok(a) = self.activate(&plugin.sha256, actor, at) {
                    done.push(a);
                }
            }
        }
        Ok(done)
    }

    /// Shadow run of an installed candidate (`POST /api/ops/plugins/{id}/shadow-run`).
    pub fn shadow_run(
        &self,
        sha256: &str,
        cases: &[crate::shadow::ShadowCase],
    ) -> Result<crate::shadow::ShadowReport, RegistryError> {
        let candidate = self.require(sha256)?;
        Ok(crate::shadow::shadow_run(&self.host, &candidate, cases))
    }

    fn run(
        &self,
        kind: PluginKind,
        tenant: Option<&str>,
        input: &[u8],
    ) -> Result<(RawRun, Arc<InstalledPlugin>), PluginError> {
        let plugin = self
            .resolve(kind, tenant)
            .ok_or(PluginError::NoActivePlugin(kind))?;
        let raw = self.host.run(&plugin.compiled, input)?;
        Ok((raw, plugin))
    }

    fn encode<T: Serialize>(input: &T) -> Result<Vec<u8>, PluginError> {
        serde_json::to_vec(input)
            .map_err(|e| PluginError::Invalid(vec![format!("input does not serialize: {e}")]))
    }

    /// Prices with the tenant's plugin (pin or active). Synchronous; call it from a blocking
    /// pool (`spawn_blocking`) in async code.
    pub fn price(
        &self,
        tenant: Option<&str>,
        input: &PricingInput,
    ) -> Result<Answer<PricingQuote>, PluginError> {
        let (raw, plugin) = self.run(PluginKind::Pricing, tenant, &Self::encode(input)?)?;
        Ok(Answer {
            output: check_pricing(&input.currency, &raw.stdout)?,
            plugin: plugin.reference(),
        })
    }

    pub fn validate(
        &self,
        tenant: Option<&str>,
        input: &ValidationInput,
    ) -> Result<Answer<ValidationOutput>, PluginError> {
        let (raw, plugin) = self.run(PluginKind::Validation, tenant, &Self::encode(input)?)?;
        Ok(Answer {
            output: check_validation(&raw.stdout)?,
            plugin: plugin.reference(),
        })
    }

    pub fn ingest(
        &self,
        tenant: Option<&str>,
        input: &IngestionInput,
    ) -> Result<Answer<IngestionOutput>, PluginError> {
        let (raw, plugin) = self.run(PluginKind::Ingestion, tenant, &Self::encode(input)?)?;
        Ok(Answer {
            output: check_ingestion(&raw.stdout)?,
            plugin: plugin.reference(),
        })
    }

    /// Untyped call of any kind (input and checked output as JSON).
    pub fn call(
        &self,
        kind: PluginKind,
        tenant: Option<&str>,
        input: &serde_json::Value,
    ) -> Result<Answer<serde_json::Value>, PluginError> {
        let (raw, plugin) = self.run(kind, tenant, &Self::encode(input)?)?;
        Ok(Answer {
            output: check_output(kind, input, &raw.stdout)?,
            plugin: plugin.reference(),
        })
    }
}
