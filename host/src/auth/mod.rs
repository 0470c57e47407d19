//! Authentication and sessions.
//!
//! - [`password`]: Argon2id hashing and verification (always on a blocking thread).
//! - [`secret`]: random tokens, `wrk_` API keys (base62), SHA-256 at rest.
//! - [`keys`]: JWT signing keys in `DATA_DIR/keys/jwt/<kid>.key` (0600; newest signs, all
//!   verify; `wrk keys rotate-jwt` adds one), and the access-token claims.
//! - [`session`]: the extractors handlers use — [`session::AccountSession`] (apex),
//!   [`session::WorkspaceSession`] (workspace host; user or API key), [`session::OpsSession`]
//!   (ops host) — plus cookies + CSRF and browser sessions. The identity flows and bearer
//!   tokens are `crate::services::identity`.
//! - [`mail`]: the identity emails, rendered with `crate::email` templates and queued in the
//!   outbox inside the change's transaction.
//! - [`rate_limit`]: the per-IP limit on `/api/auth/*` and `/api/ops/auth/*`.

pub mod keys;
pub mod mail;
pub mod password;
pub mod rate_limit;
pub mod secret;
pub mod session;

use crate::config::Config;

/// Everything auth needs at run time: the JWT keys and the auth rate limiter.
#[derive(Debug)]
pub struct AuthState {
    pub keys: keys::JwtKeys,
    pub limiter: rate_limit::AuthLimiter,
}

impl AuthState {
    /// Loads (creating on first start) the JWT keys under the data dir and builds the limiter.
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            keys: keys::JwtKeys::load(&config.data_dir)?,
            limiter: rate_limit::AuthLimiter::new(config.auth_rate_limit),
        })
    }
}
