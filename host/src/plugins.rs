//! The host side of the plugin sandbox: one [`PluginHost`] (wasmtime engine) and one
//! [`Registry`] shared by every request, with the built-in plugins installed and active from the
//! first start.
//!
//! Plugin calls are synchronous and CPU-bound (tens of microseconds), so the async methods here
//! run them on the blocking pool; handlers never call the registry directly.
//! Persistence of installs and activations in `control.db`, the ops API, the drop folder and
//! call recording for shadow runs build on this type.

use std::sync::Arc;

use chrono::Utc;
use wrk_core::ids::TenantId;
use wrk_plugins::sdk::ingestion::{IngestionInput, IngestionOutput};
use wrk_plugins::sdk::pricing::{PricingInput, PricingQuote};
use wrk_plugins::sdk::validation::{ValidationInput, ValidationOutput};
use wrk_plugins::{Answer, HostConfig, PluginError, PluginHost, Registry};

use crate::config::Config;

/// The plugin service handlers and workers use.
pub struct Plugins {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins").finish_non_exhaustive()
    }
}

impl Plugins {
    /// Starts the engine (compiled modules cached under `DATA_DIR/plugins/cache`) and installs
    /// the built-in plugins, activating each one whose kind has no active plugin yet.
    pub fn start(config: &Config) -> anyhow::Result<Self> {
        let cache_dir = config.data_dir.join("plugins").join("cache");
        std::fs::create_dir_all(&cache_dir)?;
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(cache_dir),
            ..HostConfig::default()
        })
        .map_err(|e| anyhow::anyhow!("cannot start the plugin engine: {e}"))?;
        let registry = Registry::new(Arc::new(host));
        for (kind, bytes) in wrk_plugins::builtin::all() {
            let now = Utc::now();
            let (plugin, _) = registry.install(bytes, now).map_err(|report| {
                anyhow::anyhow!(
                    "built-in {} plugin failed validation: {}",
                    kind.as_str(),
                    report.reasons.join("; ")
                )
            })?;
            if registry.active(kind).is_none() {
                registry
                    .activate(&plugin.sha256, "system", now)
                    .map_err(|e| anyhow::anyhow!("cannot activate built-in plugin: {e}"))?;
            }
        }
        Ok(Self {
            registry: Arc::new(registry),
        })
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Prices with the workspace's pinned plugin, or the active one.
    pub async fn price(
        &self,
        tenant: TenantId,
        input: PricingInput,
    ) -> Result<Answer<PricingQuote>, PluginError> {
        let registry = self.registry.clone();
        blocking(move || registry.price(Some(&tenant.to_string()), &input)).await
    }

    /// Validates a blueprint with the workspace's validation plugin.
    pub async fn validate(
        &self,
        tenant: TenantId,
        input: ValidationInput,
    ) -> Result<Answer<ValidationOutput>, PluginError> {
        let registry = self.registry.clone();
        blocking(move || registry.validate(Some(&tenant.to_string()), &input)).await
    }

    /// Turns requirement text and documents into a blueprint draft.
    pub async fn ingest(
        &self,
        tenant: TenantId,
        input: IngestionInput,
    ) -> Result<Answer<IngestionOutput>, PluginError> {
        let registry = self.registry.clone();
        blocking(move || registry.ingest(Some(&tenant.to_string()), &input)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PluginError> + Send + 'static,
) -> Result<T, PluginError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PluginError::Trap(format!("plugin call task failed: {e}")))?
}
