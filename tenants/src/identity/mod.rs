//! Identity & access storage.
//!
//! Control plane (`control.db`): [`users`] (local and SSO users, email verification, password
//! reset), [`sessions`] (refresh-token families, cookie sessions, workspace handoff codes),
//! [`memberships`] (who is in which workspace, with which role), [`invitations`], [`lockout`]
//! (failed password logins) and [`ops`] (WRK staff). Tenant databases: [`api_keys`].
//!
//! Secrets never reach this layer in clear: callers pass the SHA-256 of every token ([`token_hash`])
//! and the Argon2id PHC string of every password. Every change writes its audit row in its own
//! transaction. Functions that must send an email take an `also` closure that runs inside the
//! same transaction (the host enqueues the message into the outbox there), so a change and its
//! email commit together or not at all.

pub mod api_keys;
pub mod invitations;
pub mod lockout;
pub mod memberships;
pub mod ops;
pub mod sessions;
pub mod users;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use sha2::{Digest, Sha256};

use crate::error::{StoreError, StoreResult};

/// The SHA-256 (lowercase hex) under which a token, code or API key is stored.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A side effect that must commit with the change (typically: enqueue an email in the outbox).
pub trait Also: FnOnce(&Transaction<'_>) -> StoreResult<()> {}
impl<F: FnOnce(&Transaction<'_>) -> StoreResult<()>> Also for F {}

/// No side effect.
pub fn nothing(_: &Transaction<'_>) -> StoreResult<()> {
    Ok(())
}

/// A one-time token to store: its hash and when it stops working.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) fn conv_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

pub(crate) fn json(v: &impl serde::Serialize) -> StoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}
