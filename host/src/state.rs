//! The shared state every handler, extractor and service reaches: a few handles, cheap to clone.
//!
//! This module sits below the router: route modules, extractors and services import it, and it
//! imports none of them back (the composition root, [`crate::app`], builds the routers and the
//! OpenAPI documents stored here).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wrk_tenants::Storage;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// What every handler can reach. A few handles, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<Storage>,
    pub metrics: Arc<Metrics>,
    /// Set once start-up work (plugins, workers) is done; `/readyz` answers 503 until then.
    pub ready: Arc<AtomicBool>,
    pub docs: Arc<Docs>,
    pub auth: Arc<crate::auth::AuthState>,
    pub jobs: Arc<crate::jobs::Jobs>,
    /// OpenID Connect providers and their sign-in flows.
    pub oidc: Arc<crate::oidc::Oidc>,
    pub plugins: Arc<crate::services::plugins::Plugins>,
    /// The payment provider `WRK_PAYMENT_PROVIDER` names (flows 16, 17, 20): a trait object so
    /// the sign flow is the same code for both.
    pub payments: Arc<dyn crate::services::payments::PaymentProvider>,
    /// Where credential secrets live (flow 25): the built-in encrypted file store unless a
    /// deployment plugs in another.
    pub secrets: Arc<dyn crate::secrets::SecretStore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("base_domain", &self.config.base_domain)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Runs storage work on the blocking pool ([`crate::blocking::run`]): the store API is
    /// synchronous SQLite.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Storage) -> Result<T, wrk_tenants::StoreError> + Send + 'static,
        T: Send + 'static,
    {
        crate::blocking::store(&self.storage, f).await
    }
}

/// The OpenAPI document of each host, serialized once at start-up.
#[derive(Debug)]
pub struct Docs {
    pub apex: String,
    pub tenant: String,
    pub ops: String,
}
