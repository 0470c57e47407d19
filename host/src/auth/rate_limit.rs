//! The per-IP rate limit of the auth endpoints (`/api/auth/*`, `/api/ops/auth/*`):
//! `WRK_AUTH_RATE_LIMIT` requests per minute per client IP (default 60; 0 turns it off), with a
//! burst of the same size. Over the limit: 429 `rate_limited` with `Retry-After`.
//! Account lockout (5 wrong passwords per email) is separate: see `wrk_tenants::identity::lockout`.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::scope::{PeerAddr, client_ip};
use crate::state::AppState;

pub struct AuthLimiter {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Checks since the last sweep of idle keys (the keyed store would otherwise only grow).
    checks: AtomicU64,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish()
    }
}

impl AuthLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when `ip` may make one more auth request now; otherwise the seconds to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// Whether `path` is an auth endpoint the limit applies to.
pub fn is_auth_path(path: &str) -> bool {
    path.starts_with("/api/auth/") || path.starts_with("/api/ops/auth/")
}

/// Middleware: applies the limit to auth paths on every host.
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if is_auth_path(req.uri().path()) {
        let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
        let ip = client_ip(req.headers(), peer, &app.config.trusted_proxies)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if let Err(retry_after) = app.auth.limiter.check(ip) {
            tracing::info!(%ip, path = %req.uri().path(), "auth rate limit hit");
            return ApiError::RateLimited {
                retry_after: retry_after.max(1),
            }
            .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_ip_and_says_when_to_retry() {
        let l = AuthLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check(a).is_ok() && l.check(a).is_ok());
        let wait = l.check(a).unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(l.check(b).is_ok());
        assert!(AuthLimiter::new(0).check(a).is_ok());
    }
}
