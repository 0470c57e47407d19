//! The background job runner over the durable queue in `control.db` (email work fills this in).

use std::sync::Arc;

use wrk_tenants::Storage;

use crate::config::Config;

/// Handle to the running workers.
#[derive(Debug, Default)]
pub struct Jobs {}

impl Jobs {
    pub fn start(_config: Arc<Config>, _storage: Arc<Storage>) -> anyhow::Result<Self> {
        Ok(Self {})
    }
}
