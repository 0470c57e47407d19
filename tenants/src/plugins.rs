//! The plugin registry in `control.db` (`0004_plugins.sql`): installed plugins, the activation
//! history (replayed by the host at start-up), per-workspace pins and recorded calls for shadow
//! runs. Kinds, actions and manifests are plain strings and JSON here: this crate knows nothing of
//! the plugin engine. Every install and every change of what runs writes its audit row in the same
//! transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, AuditActor, RequestMeta, parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::{StoreError, StoreResult};

/// How many recorded calls of each kind are kept for shadow runs.
pub const KEEP_CALLS_PER_KIND: u32 = 1000;

/// An installed plugin binary (the bytes are in `DATA_DIR/plugins/<sha256>.wasm`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginRecord {
    pub id: String,
    pub sha256: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub manifest: Value,
    pub size_bytes: u64,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
}

/// A plugin to record as installed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlugin {
    pub sha256: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub manifest: Value,
    pub size_bytes: u64,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
}

/// One change of what runs (`activate`, `rollback`, `pin`, `unpin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivationRecord {
    pub kind: String,
    pub action: String,
    pub sha256: Option<String>,
    pub previous: Option<String>,
    pub tenant: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A recorded real call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginCall {
    pub id: i64,
    pub kind: String,
    pub tenant: Option<String>,
    pub sha256: String,
    pub input: Value,
    pub output: Value,
    pub at: DateTime<Utc>,
}

/// A call to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPluginCall {
    pub kind: String,
    pub tenant: Option<String>,
    pub sha256: String,
    pub input: Value,
    pub output: Value,
    pub at: DateTime<Utc>,
}

const PLUGIN_COLUMNS: &str =
    "id, sha256, name, kind, version, manifest, size_bytes, installed_at, installed_by";

fn json_col(s: &str, col: usize) -> rusqlite::Result<Value> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, e.into())
    })
}

fn plugin_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PluginRecord> {
    Ok(PluginRecord {
        id: r.get(0)?,
        sha256: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        version: r.get(4)?,
        manifest: json_col(&r.get::<_, String>(5)?, 5)?,
        size_bytes: r.get(6)?,
        installed_at: parse_timestamp(&r.get::<_, String>(7)?)?,
        installed_by: r.get(8)?,
    })
}

fn activation_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActivationRecord> {
    Ok(ActivationRecord {
        kind: r.get(0)?,
        action: r.get(1)?,
        sha256: r.get(2)?,
        previous: r.get(3)?,
        tenant: r.get(4)?,
        actor: r.get(5)?,
        at: parse_timestamp(&r.get::<_, String>(6)?)?,
    })
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Inserts the plugin (or returns the row already stored for its SHA-256) with its audit row.
fn insert_plugin(
    tx: &Transaction<'_>,
    plugin: &NewPlugin,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<PluginRecord> {
    let existing = tx
        .query_row(
            &format!("SELECT {PLUGIN_COLUMNS} FROM plugins WHERE sha256 = ?1"),
            [&plugin.sha256],
            plugin_from_row,
        )
        .optional()?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let record = PluginRecord {
        id: Uuid::now_v7().to_string(),
        sha256: plugin.sha256.clone(),
        name: plugin.name.clone(),
        kind: plugin.kind.clone(),
        version: plugin.version.clone(),
        manifest: plugin.manifest.clone(),
        size_bytes: plugin.size_bytes,
        installed_at: plugin.installed_at,
        installed_by: plugin.installed_by.clone(),
    };
    tx.execute(
        &format!(
            "INSERT INTO plugins ({PLUGIN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            record.id,
            record.sha256,
            record.name,
            record.kind,
            record.version,
            record.manifest.to_string(),
            record.size_bytes,
            timestamp(record.installed_at),
            record.installed_by,
        ],
    )
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::Conflict(format!(
                "{} {} is already installed with different bytes; bump the version",
                record.name, record.version
            ))
        } else {
            e.into()
        }
    })?;
    audit::record_audit(
        tx,
        &audit::AuditEntry {
            actor,
            action: "plugin.installed",
            entity_type: "plugin",
            entity_id: Some(record.id.clone()),
            before: None,
            after: Some(to_json(&record)?),
            request,
        },
    )?;
    Ok(record)
}

/// Appends one activation record, updates the pins, and writes the audit row.
fn insert_activation(
    tx: &Transaction<'_>,
    a: &ActivationRecord,
    actor: &AuditActor,
    request: &RequestMeta,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO plugin_activations (kind, action, sha256, previous, tenant_id, actor, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.kind,
            a.action,
            a.sha256,
            a.previous,
            a.tenant,
            a.actor,
            timestamp(a.at)
        ],
    )?;
    match (a.action.as_str(), &a.tenant, &a.sha256) {
        ("pin", Some(t), Some(sha)) => {
            tx.execute(
                "INSERT INTO plugin_pins (tenant_id, kind, sha256, pinned_by, pinned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id, kind) DO UPDATE SET sha256 = excluded.sha256,
                     pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at",
                params![t, a.kind, sha, a.actor, timestamp(a.at)],
            )?;
        }
        ("unpin", Some(t), _) => {
            tx.execute(
                "DELETE FROM plugin_pins WHERE tenant_id = ?1 AND kind = ?2",
                params![t, a.kind],
            )?;
        }
        _ => {}
    }
    let action = match a.action.as_str() {
        "activate" => "plugin.activated",
        "rollback" => "plugin.rolled_back",
        "pin" => "plugin.pinned",
        "unpin" => "plugin.unpinned",
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown plugin activation action {other}"
            )));
        }
    };
    let entity_id = a
        .sha256
        .as_deref()
        .map(|sha| {
            tx.query_row("SELECT id FROM plugins WHERE sha256 = ?1", [sha], |r| {
                r.get::<_, String>(0)
            })
            .optional()
        })
        .transpose()?
        .flatten();
    audit::record_audit(
        tx,
        &audit::AuditEntry {
            actor,
            action,
            entity_type: "plugin",
            entity_id,
            before: a.previous.as_ref().map(|p| json!({"sha256": p})),
            after: Some(to_json(a)?),
            request,
        },
    )?;
    Ok(())
}

impl ControlStore {
    /// Records an installed plugin, and optionally its activations, in one transaction.
    /// Installing a SHA-256 that is already stored returns the stored row.
    pub fn install_plugin(
        &self,
        plugin: &NewPlugin,
        activations: &[ActivationRecord],
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<PluginRecord> {
        self.db.write(|tx| {
            let record = insert_plugin(tx, plugin, actor, request)?;
            for a in activations {
                insert_activation(tx, a, actor, request)?;
            }
            Ok(record)
        })
    }

    /// Records changes of what runs (activate, rollback, pin, unpin), each with its audit row,
    /// in one transaction.
    pub fn record_plugin_activations(
        &self,
        activations: &[ActivationRecord],
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<()> {
        self.db.write(|tx| {
            for a in activations {
                insert_activation(tx, a, actor, request)?;
            }
            Ok(())
        })
    }

    /// Every installed plugin, oldest first.
    pub fn list_plugins(&self) -> StoreResult<Vec<PluginRecord>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {PLUGIN_COLUMNS} FROM plugins ORDER BY installed_at, id"
            ))?;
            let rows = stmt.query_map([], plugin_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn plugin_by_id(&self, id: &str) -> StoreResult<Option<PluginRecord>> {
        self.db.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {PLUGIN_COLUMNS} FROM plugins WHERE id = ?1"),
                [id],
                plugin_from_row,
            )
            .optional()?)
        })
    }

    /// The activation history, oldest first (the order to replay it in).
    pub fn list_plugin_activations(&self) -> StoreResult<Vec<ActivationRecord>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT kind, action, sha256, previous, tenant_id, actor, at
                 FROM plugin_activations ORDER BY seq",
            )?;
            let rows = stmt.query_map([], activation_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The current pins: `(tenant_id, kind, sha256)`.
    pub fn list_plugin_pins(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT tenant_id, kind, sha256 FROM plugin_pins ORDER BY tenant_id, kind",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Stores recorded calls and prunes each touched kind to its latest `keep` calls.
    pub fn record_plugin_calls(&self, calls: &[NewPluginCall], keep: u32) -> StoreResult<()> {
        if calls.is_empty() {
            return Ok(());
        }
        self.db.write(|tx| {
            let mut kinds: Vec<&str> = Vec::new();
            for c in calls {
                tx.execute(
                    "INSERT INTO plugin_calls (kind, tenant_id, sha256, input, output, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        c.kind,
                        c.tenant,
                        c.sha256,
                        c.input.to_string(),
                        c.output.to_string(),
                        timestamp(c.at)
                    ],
                )?;
                if !kinds.contains(&c.kind.as_str()) {
                    kinds.push(&c.kind);
                }
            }
            for kind in kinds {
                tx.execute(
                    "DELETE FROM plugin_calls WHERE kind = ?1 AND id <= (
                         SELECT id FROM plugin_calls WHERE kind = ?1
                         ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                    params![kind, keep],
                )?;
            }
            Ok(())
        })
    }

    /// The latest `limit` recorded calls of `kind`, newest first.
    pub fn recent_plugin_calls(&self, kind: &str, limit: u32) -> StoreResult<Vec<PluginCall>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, kind, tenant_id, sha256, input, output, at FROM plugin_calls
                 WHERE kind = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![kind, limit], |r| {
                Ok(PluginCall {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    tenant: r.get(2)?,
                    sha256: r.get(3)?,
                    input: json_col(&r.get::<_, String>(4)?, 4)?,
                    output: json_col(&r.get::<_, String>(5)?, 5)?,
                    at: parse_timestamp(&r.get::<_, String>(6)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Storage, StorageConfig};

    fn plugin(sha: &str, version: &str) -> NewPlugin {
        NewPlugin {
            sha256: sha.into(),
            name: "p".into(),
            kind: "pricing".into(),
            version: version.into(),
            manifest: json!({"name": "p"}),
            size_bytes: 10,
            installed_at: Utc::now(),
            installed_by: "system".into(),
        }
    }

    fn activation(action: &str, sha: Option<&str>, tenant: Option<&str>) -> ActivationRecord {
        ActivationRecord {
            kind: "pricing".into(),
            action: action.into(),
            sha256: sha.map(Into::into),
            previous: None,
            tenant: tenant.map(Into::into),
            actor: "ops@x".into(),
            at: Utc::now(),
        }
    }

    #[test]
    fn installs_activations_pins_and_audit_share_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(StorageConfig::new(dir.path())).unwrap();
        let c = storage.control();
        let actor = AuditActor::system();
        let req = RequestMeta::default();
        let a = c
            .install_plugin(
                &plugin("aa", "1.0.0"),
                &[activation("activate", Some("aa"), None)],
                &actor,
                &req,
            )
            .unwrap();
        // Same bytes again: the stored row.
        let again = c
            .install_plugin(&plugin("aa", "1.0.0"), &[], &actor, &req)
            .unwrap();
        assert_eq!(a.id, again.id);
        // Same name and version, other bytes: refused.
        assert!(matches!(
            c.install_plugin(&plugin("bb", "1.0.0"), &[], &actor, &req),
            Err(StoreError::Conflict(_))
        ));
        c.install_plugin(&plugin("bb", "2.0.0"), &[], &actor, &req)
            .unwrap();
        c.record_plugin_activations(&[activation("pin", Some("bb"), Some("t1"))], &actor, &req)
            .unwrap();
        assert_eq!(
            c.list_plugin_pins().unwrap(),
            vec![("t1".into(), "pricing".into(), "bb".into())]
        );
        c.record_plugin_activations(&[activation("unpin", None, Some("t1"))], &actor, &req)
            .unwrap();
        assert!(c.list_plugin_pins().unwrap().is_empty());
        let history = c.list_plugin_activations().unwrap();
        assert_eq!(
            history
                .iter()
                .map(|h| h.action.as_str())
                .collect::<Vec<_>>(),
            ["activate", "pin", "unpin"]
        );
        let audits: i64 = c
            .db()
            .read(|conn| {
                Ok(conn.query_row(
                    "SELECT count(*) FROM audit_log WHERE entity_type = 'plugin'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(audits, 5); // 2 installs + activate + pin + unpin
    }

    #[test]
    fn recorded_calls_are_pruned_to_the_latest_per_kind() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(StorageConfig::new(dir.path())).unwrap();
        let c = storage.control();
        let call = |kind: &str, n: i64| NewPluginCall {
            kind: kind.into(),
            tenant: None,
            sha256: "aa".into(),
            input: json!({"n": n}),
            output: json!({}),
            at: Utc::now(),
        };
        let batch: Vec<_> = (0..10).map(|n| call("pricing", n)).collect();
        c.record_plugin_calls(&batch, 4).unwrap();
        c.record_plugin_calls(&[call("validation", 0)], 4).unwrap();
        let recent = c.recent_plugin_calls("pricing", 100).unwrap();
        assert_eq!(
            recent
                .iter()
                .map(|r| r.input["n"].clone())
                .collect::<Vec<_>>(),
            [json!(9), json!(8), json!(7), json!(6)]
        );
        assert_eq!(c.recent_plugin_calls("validation", 100).unwrap().len(), 1);
    }
}
