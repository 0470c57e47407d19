//! Workspace API keys (flow 5), in the tenant's own database: a key of one workspace can't even
//! be looked up from another. Only the SHA-256 of the key is stored; lists show its prefix.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wrk_core::ids::{ApiKeyId, UserId};
use wrk_core::roles::Scope;

use super::conv_err;
use crate::audit::{self, AuditActor, AuditEntry, RequestMeta, parse_timestamp, timestamp};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key to store: everything but the secret, plus its hash.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub scopes: &'a [Scope],
    pub created_by: UserId,
    pub expires_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, name, prefix, scopes, created_by, created_at, expires_at, revoked_at";

fn opt_time(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.map(|s| parse_timestamp(&s)).transpose()
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
        name: r.get(1)?,
        prefix: r.get(2)?,
        scopes: serde_json::from_str(&r.get::<_, String>(3)?).map_err(conv_err)?,
        created_by: UserId::parse(&r.get::<_, String>(4)?).map_err(conv_err)?,
        created_at: parse_timestamp(&r.get::<_, String>(5)?)?,
        expires_at: opt_time(r.get(6)?)?,
        revoked_at: opt_time(r.get(7)?)?,
    })
}

impl TenantStore {
    pub fn create_api_key(
        &self,
        new: &NewApiKey<'_>,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<ApiKey> {
        let key = ApiKey {
            id: ApiKeyId::new(),
            name: new.name.to_owned(),
            prefix: new.prefix.to_owned(),
            scopes: new.scopes.to_vec(),
            created_by: new.created_by,
            created_at: Utc::now(),
            expires_at: new.expires_at,
            revoked_at: None,
        };
        self.db().write(|tx| {
            tx.execute(
                "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    key.id.to_string(),
                    key.name,
                    key.prefix,
                    new.key_hash,
                    serde_json::to_string(&key.scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    key.created_by.to_string(),
                    timestamp(key.created_at),
                    key.expires_at.map(timestamp)
                ],
            )?;
            audit::record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "api_key.created",
                    entity_type: "api_key",
                    entity_id: Some(key.id.to_string()),
                    before: None,
                    after: Some(super::json(&key)?),
                    request,
                },
            )?;
            Ok(())
        })?;
        Ok(key)
    }

    /// Every key of the workspace (revoked ones included, marked), newest first.
    pub fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.db().read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLS} FROM api_keys ORDER BY id DESC"))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The live (not revoked, not expired) key with this hash.
    pub fn live_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        self.db().read(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL
                       AND (expires_at IS NULL OR expires_at > ?2)"
            ))?
            .query_row(params![key_hash, timestamp(Utc::now())], from_row)
            .optional()?)
        })
    }

    /// Revokes a key; effective for the very next request. Revoking twice is fine.
    pub fn revoke_api_key(
        &self,
        id: ApiKeyId,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        self.db().write(|tx| {
            let before = tx
                .query_row(
                    &format!("SELECT {COLS} FROM api_keys WHERE id = ?1"),
                    [id.to_string()],
                    from_row,
                )
                .optional()?
                .ok_or(StoreError::NotFound(Entity::ApiKey))?;
            if before.revoked_at.is_some() {
                return Ok(());
            }
            tx.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
                params![id.to_string(), timestamp(Utc::now())],
            )?;
            audit::record_audit(
                tx,
                &AuditEntry {
                    actor,
                    action: "api_key.revoked",
                    entity_type: "api_key",
                    entity_id: Some(id.to_string()),
                    before: Some(super::json(&before)?),
                    after: None,
                    request,
                },
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::token_hash;
    use crate::testing;
    use wrk_core::slug::Slug;

    #[test]
    fn a_revoked_or_expired_key_is_not_live() {
        let (_d, s) = testing::storage();
        let t = s
            .create_tenant(
                Slug::parse("acme").unwrap(),
                "Acme",
                &AuditActor::system(),
                &RequestMeta::default(),
            )
            .unwrap();
        let store = s.tenant(t.id).unwrap();
        let new = |hash: &'static str, expires_at| NewApiKey {
            name: "ci",
            prefix: "wrk_abc",
            key_hash: hash,
            scopes: &[Scope::Read],
            created_by: UserId::new(),
            expires_at,
        };
        let h1 = token_hash("k1");
        let h1: &'static str = Box::leak(h1.into_boxed_str());
        let k = store
            .create_api_key(
                &new(h1, None),
                &AuditActor::system(),
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!(
            store.live_api_key(h1).unwrap().unwrap().scopes,
            vec![Scope::Read]
        );
        store
            .revoke_api_key(k.id, &AuditActor::system(), &RequestMeta::default())
            .unwrap();
        assert!(store.live_api_key(h1).unwrap().is_none());
        let past = Some(Utc::now() - chrono::Duration::seconds(1));
        store
            .create_api_key(
                &new("h2", past),
                &AuditActor::system(),
                &RequestMeta::default(),
            )
            .unwrap();
        assert!(store.live_api_key("h2").unwrap().is_none());
        assert_eq!(store.api_keys().unwrap().len(), 2);
    }
}
