//! Changes ops (and the drop folder) make: install an upload, activate, roll back, pin and
//! unpin. Each is serialised by the service's change lock and is **stored first** (binary, row,
//! activation record and audit row), then applied to the registry, so the running state is never
//! ahead of the stored history a restart replays. The drop folder does the same under the same
//! lock (`bootstrap::watch_inbox`). The built-ins at a first start and `wrk plugin install` (no
//! server running) still apply first and store right after: a failure there stops the command
//! or the start-up, so nothing keeps running ahead of the store.

use chrono::{DateTime, Utc};
use wrk_core::ids::TenantId;
use wrk_plugins::{Activation, InstallReport, PluginKind, Registry, RegistryError};
use wrk_tenants::plugins::PluginRecord;

use super::bootstrap::{new_plugin, store_binary, to_record};
use super::{ChangeActor, Plugins, PluginsError};

impl Plugins {
    /// Validates and installs an uploaded binary (not activated).
    pub async fn install(
        &self,
        bytes: Vec<u8>,
        actor: ChangeActor,
    ) -> Result<(PluginRecord, Box<InstallReport>), PluginsError> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        let dir = self.dir.clone();
        let changes = self.changes.clone();
        crate::blocking::run(move || {
            let _guard = changes.lock();
            let (pending, report) = registry
                .prepare_install(&bytes, Utc::now())
                .map_err(PluginsError::Invalid)?;
            let plugin = pending.plugin();
            store_binary(&dir, &plugin.sha256, &bytes)?;
            let row = storage.control().install_plugin(
                &new_plugin(plugin, &actor.name),
                &[],
                &actor.audit,
                &actor.request,
            )?;
            registry.commit_install(pending);
            Ok((row, Box::new(report)))
        })
        .await
    }

    /// Plans a registry change, stores its record with the audit row, and only then applies it:
    /// a storage error leaves the running plugins as they were (store first, then swap).
    async fn change(
        &self,
        actor: ChangeActor,
        f: impl FnOnce(&Registry, &str, DateTime<Utc>) -> Result<Activation, RegistryError>
        + Send
        + 'static,
    ) -> Result<Activation, PluginsError> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        let changes = self.changes.clone();
        crate::blocking::run(move || {
            let _guard = changes.lock();
            let planned = f(&registry, &actor.name, Utc::now())?;
            storage.control().record_plugin_activations(
                &[to_record(&planned)],
                &actor.audit,
                &actor.request,
            )?;
            // Stored: a restart replays it. Applying cannot fail under the change lock (the plugin
            // set only grows), but if it did, the stored record would still win at the restart.
            Ok(registry.apply(planned)?)
        })
        .await
    }

    pub async fn activate(&self, id: &str, actor: ChangeActor) -> Result<Activation, PluginsError> {
        let row = self.by_id(id).await?;
        self.change(actor, move |r, who, at| {
            r.plan_activate(&row.sha256, who, at)
        })
        .await
    }

    pub async fn rollback(
        &self,
        kind: PluginKind,
        actor: ChangeActor,
    ) -> Result<Activation, PluginsError> {
        self.change(actor, move |r, who, at| r.plan_rollback(kind, who, at))
            .await
    }

    /// Pins a workspace to a plugin (`Some(id)`) or removes its pin of `kind` (`None`).
    pub async fn pin(
        &self,
        tenant: TenantId,
        kind: PluginKind,
        plugin_id: Option<&str>,
        actor: ChangeActor,
    ) -> Result<Activation, PluginsError> {
        let tenant = tenant.to_string();
        match plugin_id {
            Some(id) => {
                let row = self.by_id(id).await?;
                if row.kind != kind.as_str() {
                    return Err(PluginsError::WrongKind {
                        found: row.kind,
                        wanted: kind,
                    });
                }
                self.change(actor, move |r, who, at| {
                    r.plan_pin(&tenant, &row.sha256, who, at)
                })
                .await
            }
            None => {
                self.change(actor, move |r, who, at| {
                    Ok(r.plan_unpin(&tenant, kind, who, at))
                })
                .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wrk_plugins::PluginKind;
    use wrk_tenants::{Storage, StorageConfig};

    use super::super::{ChangeActor, Plugins};
    use crate::config::{Config, Settings};
    use crate::metrics::Metrics;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_that_cannot_be_stored_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::load(&Settings::default(), None, &[]).unwrap();
        config.data_dir = dir.path().to_path_buf();
        let storage = Arc::new(Storage::open(StorageConfig::new(dir.path())).unwrap());
        let plugins = {
            let storage = storage.clone();
            tokio::task::spawn_blocking(move || {
                Plugins::start(&config, storage, Arc::new(Metrics::new()))
            })
            .await
            .unwrap()
            .unwrap()
        };
        let pricing = plugins.registry().active(PluginKind::Pricing).unwrap();
        let (_, row) = plugins
            .list()
            .await
            .unwrap()
            .into_iter()
            .find(|(info, _)| info.sha256 == pricing.sha256)
            .expect("the active pricing plugin is listed");
        let tenant = wrk_core::ids::TenantId::new();

        // The store refuses every new activation record, as a full disk would.
        storage
            .control()
            .db()
            .write(|tx| {
                tx.execute_batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON plugin_activations
                     BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
                )?;
                Ok(())
            })
            .unwrap();
        let pinned = plugins
            .pin(
                tenant,
                PluginKind::Pricing,
                Some(&row.id),
                ChangeActor::system("test"),
            )
            .await;
        assert!(pinned.is_err(), "{pinned:?}");
        // Nothing of the refused change runs: no pin in the running history.
        assert!(
            plugins
                .registry()
                .history()
                .iter()
                .all(|a| a.tenant.is_none()),
            "a pin that was never stored is in the running history"
        );
    }
}
