//! Changes ops (and the drop folder) make: install an upload, activate, roll back, pin and
//! unpin. Each is serialised by the service's change lock, applied to the registry, and stored
//! with its audit row in one transaction, so the stored history replays to the running state.

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
            let (plugin, report) = registry
                .install(&bytes, Utc::now())
                .map_err(PluginsError::Invalid)?;
            store_binary(&dir, &plugin.sha256, &bytes)?;
            let row = storage.control().install_plugin(
                &new_plugin(&plugin, &actor.name),
                &[],
                &actor.audit,
                &actor.request,
            )?;
            Ok((row, Box::new(report)))
        })
        .await
    }

    /// Applies a registry change and stores its record with the audit row.
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
            let a = f(&registry, &actor.name, Utc::now())?;
            if let Err(e) = storage.control().record_plugin_activations(
                &[to_record(&a)],
                &actor.audit,
                &actor.request,
            ) {
                // The registry already runs the change; it is lost at the next restart.
                tracing::error!(error = %e, kind = %a.kind, "plugin activation not persisted");
                return Err(e.into());
            }
            Ok(a)
        })
        .await
    }

    pub async fn activate(&self, id: &str, actor: ChangeActor) -> Result<Activation, PluginsError> {
        let row = self.by_id(id).await?;
        self.change(actor, move |r, who, at| r.activate(&row.sha256, who, at))
            .await
    }

    pub async fn rollback(
        &self,
        kind: PluginKind,
        actor: ChangeActor,
    ) -> Result<Activation, PluginsError> {
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
