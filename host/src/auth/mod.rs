//! Authentication and sessions (identity work fills this in): passwords, JWTs, refresh tokens,
//! API keys, cookies + CSRF, rate limits, and the extractors handlers use to get the actor.

use crate::config::Config;

/// Everything auth needs at run time (signing keys, rate limiters, ...).
#[derive(Debug, Default)]
pub struct AuthState {}

impl AuthState {
    pub fn load(_config: &Config) -> anyhow::Result<Self> {
        Ok(Self {})
    }
}
