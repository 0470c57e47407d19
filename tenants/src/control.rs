//! The control-plane database (`control.db`): the workspace registry, and (as features land)
//! users, memberships, the job queue and the plugin registry.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use wrk_core::ids::TenantId;
use wrk_core::slug::Slug;

use crate::audit::{self, parse_timestamp, timestamp};
use crate::db::Db;
use crate::error::{Entity, StoreError, StoreResult};

/// A workspace as the control plane knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRecord {
    pub id: TenantId,
    pub subdomain: Slug,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// The control-plane store.
#[derive(Debug)]
pub struct ControlStore {
    pub(crate) db: Db,
}

pub(crate) fn tenant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TenantRecord> {
    let conv = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e)
    };
    Ok(TenantRecord {
        id: TenantId::parse(&r.get::<_, String>(0)?).map_err(|e| conv(e.into()))?,
        subdomain: Slug::parse(&r.get::<_, String>(1)?).map_err(|e| conv(e.into()))?,
        name: r.get(2)?,
        created_at: parse_timestamp(&r.get::<_, String>(3)?)?,
    })
}

impl ControlStore {
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<TenantRecord>> {
        self.db.read(|c| tenant_by_slug(c, slug))
    }

    pub fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<TenantRecord>> {
        self.db.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id, subdomain, name, created_at FROM tenants WHERE id = ?1",
            )?
            .query_row([id.to_string()], tenant_from_row)
            .optional()?)
        })
    }

    /// Every workspace, ordered by creation.
    pub fn list_tenants(&self) -> StoreResult<Vec<TenantRecord>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, subdomain, name, created_at FROM tenants ORDER BY id")?;
            let rows = stmt.query_map([], tenant_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The workspace `id`, or `NotFound(Tenant)`.
    pub fn tenant(&self, id: TenantId) -> StoreResult<TenantRecord> {
        require(self.tenant_by_id(id)?)
    }

    /// Records that a host fenced workspace `tenant` (`Some(retry_after_secs)`) or lifted its
    /// fence (`None`). The fence itself lives in that host's memory (`Storage::fence`); the row
    /// says who moved the workspace and when.
    pub fn record_fence(
        &self,
        tenant: &TenantRecord,
        retry_after_secs: Option<u32>,
        actor: &audit::AuditActor,
        request: &audit::RequestMeta,
    ) -> StoreResult<()> {
        let (action, before, after) = match retry_after_secs {
            Some(secs) => (
                "tenant.fenced",
                None,
                Some(serde_json::json!({ "retry_after_secs": secs })),
            ),
            None => (
                "tenant.unfenced",
                Some(serde_json::json!({ "fenced": true })),
                None,
            ),
        };
        self.db.write(|tx| {
            audit::record_workspace_audit(
                tx,
                tenant.id,
                &audit::AuditEntry {
                    actor,
                    action,
                    entity_type: "tenant",
                    entity_id: Some(tenant.id.to_string()),
                    before,
                    after,
                    request,
                },
            )?;
            Ok(())
        })
    }

    pub fn count_tenants(&self) -> StoreResult<u64> {
        self.db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))?))
    }
}

pub(crate) fn tenant_by_slug(c: &Connection, slug: &str) -> StoreResult<Option<TenantRecord>> {
    Ok(c.prepare_cached(
        "SELECT id, subdomain, name, created_at FROM tenants WHERE subdomain = ?1",
    )?
    .query_row([slug], tenant_from_row)
    .optional()?)
}

/// Inserts a workspace row and its audit row; the caller owns the transaction.
pub(crate) fn insert_tenant(
    tx: &Transaction<'_>,
    record: &TenantRecord,
    actor: &audit::AuditActor,
    request: &audit::RequestMeta,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO tenants (id, subdomain, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            record.id.to_string(),
            record.subdomain.as_str(),
            record.name,
            timestamp(record.created_at)
        ],
    )
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::Conflict(format!(
                "the workspace address {} is already taken",
                record.subdomain
            ))
        } else {
            e.into()
        }
    })?;
    audit::record_workspace_audit(
        tx,
        record.id,
        &audit::AuditEntry {
            actor,
            action: "tenant.created",
            entity_type: "tenant",
            entity_id: Some(record.id.to_string()),
            before: None,
            after: Some(
                serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ),
            request,
        },
    )?;
    Ok(())
}

/// `NotFound(Tenant)` when the row is missing.
pub fn require(t: Option<TenantRecord>) -> StoreResult<TenantRecord> {
    t.ok_or(StoreError::NotFound(Entity::Tenant))
}

impl ControlStore {
    /// Jobs queued or running: the `job_queue_depth` gauge.
    pub fn job_queue_depth(&self) -> StoreResult<u64> {
        self.db.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )?)
        })
    }
}
