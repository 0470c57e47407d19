//! Flow 19: a workspace's pricing override, between the ops handlers and the stores.
//!
//! The override is one record for people (discount, fixed setup fee, fixed overage price, a
//! pinned pricing-plugin version) kept in two places, each where its rule lives: the amounts in
//! the workspace's file (`pricing_override`), the version pin in the control plane's plugin
//! pins (the registry resolves every call of the workspace through it). Setting it writes the
//! pin first (audited in the control plane's activation history) and then the amounts with an
//! audit row naming the whole change, version included, in the workspace's log.

use wrk_core::ids::TenantId;
use wrk_plugins::PluginKind;
use wrk_plugins::sdk::pricing::PricingOverrides;
use wrk_tenants::billing::{PricingOverride, StoredOverride};

use crate::services::Caller;
use crate::services::plugins::ChangeActor;
use crate::services::quotes::QuoteError;
use crate::state::AppState;

/// The override as ops read and write it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Override {
    pub values: PricingOverride,
    /// The pricing plugin version the workspace is pinned to, if any.
    pub plugin_version: Option<String>,
    pub stored: StoredOverride,
}

/// The installed pricing plugin the workspace is pinned to: `(plugin id, version)`.
async fn pinned(app: &AppState, tenant: TenantId) -> Result<Option<(String, String)>, QuoteError> {
    let pins = super::store(&app.storage, |s| s.control().list_plugin_pins()).await?;
    let Some((_, _, sha)) = pins
        .into_iter()
        .find(|(t, k, _)| *t == tenant.to_string() && k == PluginKind::Pricing.as_str())
    else {
        return Ok(None);
    };
    let listed = app.plugins.list().await?;
    Ok(listed
        .into_iter()
        .find(|(info, _)| info.sha256 == sha)
        .map(|(info, row)| (row.id, info.version)))
}

pub async fn get(app: &AppState, tenant: TenantId) -> Result<Override, QuoteError> {
    let stored = super::store(&app.storage, move |s| s.tenant(tenant)?.pricing_override()).await?;
    Ok(Override {
        values: stored.values.clone(),
        plugin_version: pinned(app, tenant).await?.map(|(_, v)| v),
        stored,
    })
}

/// What the pricing plugin gets as `tenant.overrides` (flow 19).
pub async fn plugin_overrides(
    app: &AppState,
    tenant: TenantId,
) -> Result<PricingOverrides, QuoteError> {
    let o = get(app, tenant).await?;
    Ok(PricingOverrides {
        discount_percent: o.values.discount_percent.map(u32::from),
        setup_fee_cents: o.values.setup_fee_cents,
        overage_unit_cents: o.values.overage_unit_cents,
        plugin_version: o.plugin_version,
    })
}

/// Replaces the override whole (what is left out is cleared). `plugin_version` must be the
/// version of an installed pricing plugin; `None` removes the pin.
pub async fn set(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    actor: ChangeActor,
    values: PricingOverride,
    plugin_version: Option<String>,
) -> Result<Override, QuoteError> {
    let current = pinned(app, tenant).await?;
    match &plugin_version {
        Some(version) => {
            let listed = app.plugins.list().await?;
            let Some((_, row)) = listed
                .into_iter()
                .filter(|(info, _)| info.kind == PluginKind::Pricing && &info.version == version)
                .max_by_key(|(info, _)| info.installed_at)
            else {
                return Err(QuoteError::Invalid {
                    field: "plugin_version",
                    message: format!("no installed pricing plugin has version {version}"),
                });
            };
            if current.as_ref().map(|(id, _)| id) != Some(&row.id) {
                app.plugins
                    .pin(tenant, PluginKind::Pricing, Some(&row.id), actor)
                    .await?;
            }
        }
        None if current.is_some() => {
            app.plugins
                .pin(tenant, PluginKind::Pricing, None, actor)
                .await?;
        }
        None => {}
    }
    let (c, v, pv) = (caller.clone(), values.clone(), plugin_version.clone());
    let stored = super::store(&app.storage, move |s| {
        s.tenant(tenant)?
            .set_pricing_override(&v, pv.as_deref(), &c.audit, &c.request)
    })
    .await?;
    Ok(Override {
        values,
        plugin_version,
        stored,
    })
}
