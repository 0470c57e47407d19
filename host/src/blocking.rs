//! The one way to run synchronous work from async code: [`run`].
//!
//! The store API is synchronous SQLite, and so are file writes, argon2 hashing and plugin calls
//! (wasmtime). Running any of them on a runtime worker would stall every other request on that
//! thread, so each goes through [`run`], which moves the closure to tokio's blocking pool. The
//! typed front doors all call it: [`crate::state::AppState::blocking`] (a closure over the whole
//! [`wrk_tenants::Storage`]) and [`crate::ctx::TenantCtx::blocking`] (a closure over the
//! request's own tenant store). Job handlers, start-up and the plugin service call it directly.
//!
//! The one exception is a producer nobody awaits (the audit CSV export streams pages into the
//! response body from the blocking pool): it calls `tokio::task::spawn_blocking` itself.
//!
//! A closure that panics comes back as the caller's error type through `From<JoinError>`
//! (a 500 for handlers, a retry for jobs), never as a panic of the awaiting task.

use std::sync::Arc;

use tokio::task::JoinError;
use wrk_tenants::{Storage, StoreError, StoreResult};

/// Runs `f` on the blocking pool and returns its result; a panic inside `f` becomes `E`.
pub async fn run<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<JoinError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}

/// [`run`] for a closure over the whole store, in any error type a store error converts into.
/// Each service wraps it once with its own error type (inference needs the type named).
pub async fn store<T, E, F>(storage: &Arc<Storage>, f: F) -> Result<T, E>
where
    F: FnOnce(&Storage) -> StoreResult<T> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + From<JoinError> + Send + 'static,
{
    let storage = storage.clone();
    run(move || Ok(f(&storage)?)).await
}
