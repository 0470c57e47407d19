//! The audit log. Control plane and tenant databases share the table shape, so one writer serves
//! both. [`record_audit`] takes a [`Transaction`], not a connection: an audit row can only be
//! written inside the transaction of the change it records.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;
use wrk_core::ids::{AuditId, TenantId};

use crate::error::StoreResult;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Ops,
    ApiKey,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Ops => "ops",
            ActorKind::ApiKey => "api_key",
            ActorKind::System => "system",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "user" => ActorKind::User,
            "ops" => ActorKind::Ops,
            "api_key" => ActorKind::ApiKey,
            _ => ActorKind::System,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditActor {
    pub kind: ActorKind,
    pub id: Option<String>,
}

impl AuditActor {
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
        }
    }
}

/// Where a change came from: copied into every audit row of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: &'a AuditActor,
    /// `<entity>.<verb>`, e.g. `tenant.created`, `version.transitioned`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request: &'a RequestMeta,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// RFC 3339 UTC with microseconds: sorts as text in time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_timestamp(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
}

/// Writes one audit row inside `tx`, the transaction of the change it records.
pub fn record_audit(tx: &Transaction<'_>, entry: &AuditEntry<'_>) -> StoreResult<AuditId> {
    insert_row(tx, None, entry)
}

/// Writes one control-plane audit row that belongs to a workspace (the workspace itself, its
/// memberships and invitations) inside `tx`, the control-plane transaction of the change. The
/// row is tagged with the workspace, so the workspace's audit log ([`list_workspace_audit`])
/// shows it next to the rows of the tenant database.
pub fn record_workspace_audit(
    tx: &Transaction<'_>,
    tenant: TenantId,
    entry: &AuditEntry<'_>,
) -> StoreResult<AuditId> {
    insert_row(tx, Some(tenant), entry)
}

fn insert_row(
    tx: &Transaction<'_>,
    tenant: Option<TenantId>,
    entry: &AuditEntry<'_>,
) -> StoreResult<AuditId> {
    let id = AuditId::new();
    let values = params![
        id.to_string(),
        timestamp(Utc::now()),
        entry.actor.kind.as_str(),
        entry.actor.id,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.before.as_ref().map(Value::to_string),
        entry.after.as_ref().map(Value::to_string),
        entry.request.request_id,
        entry.request.ip,
        entry.request.user_agent,
        tenant.map(|t| t.to_string()),
    ];
    // Only the control plane's table has `tenant_id` (a tenant database is one workspace).
    let sql = if tenant.is_some() {
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, action, entity_type, entity_id,
                                before, after, request_id, ip, user_agent, tenant_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    } else {
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, action, entity_type, entity_id,
                                before, after, request_id, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    };
    tx.execute(sql, &values[..if tenant.is_some() { 13 } else { 12 }])?;
    Ok(id)
}

/// Filters for [`list_audit`]; cursor pagination on the (time-ordered) id, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Keeps the rows of one automation: the automation's own, and those of its versions,
    /// projects, quotes, tasks, messages and documents. Control-plane rows never concern an
    /// automation, so with this set [`list_workspace_audit`] finds none.
    pub automation_id: Option<String>,
    /// Return rows with an id strictly less than this one.
    pub before_id: Option<String>,
    pub limit: u32,
}

fn json_column(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// The rows of automation `?6` in a tenant database: the automation's own, and those whose entity
/// belongs to it. Versions and their document readings are audited as `{automation}:{number}`;
/// the other entities are looked up by id in their own tables, which keep every row.
const OF_AUTOMATION: &str = "(
      (entity_type = 'automation' AND entity_id = ?6)
   OR (entity_type IN ('version', 'ingestion')
       AND substr(entity_id, 1, length(?6) + 1) = ?6 || ':')
   OR (entity_type = 'project' AND entity_id IN (SELECT id FROM projects WHERE automation_id = ?6))
   OR (entity_type = 'quote' AND entity_id IN (SELECT id FROM quotes WHERE automation_id = ?6))
   OR (entity_type = 'task' AND entity_id IN (SELECT id FROM tasks WHERE automation_id = ?6))
   OR (entity_type = 'message' AND entity_id IN (SELECT id FROM messages WHERE automation_id = ?6))
   OR (entity_type = 'document' AND entity_id IN (SELECT id FROM documents WHERE automation_id = ?6)))";

/// Rows of one database's log. The automation filter names tenant tables, so it is only part of
/// the statement when it is set (the control plane's log is read through here too).
pub fn list_audit(conn: &Connection, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let of_automation = if filter.automation_id.is_some() {
        format!("\n           AND {OF_AUTOMATION}")
    } else {
        String::new()
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, at, actor_kind, actor_id, action, entity_type, entity_id, before, after,
                request_id, ip, user_agent
         FROM audit_log
         WHERE (?1 IS NULL OR entity_type = ?1)
           AND (?2 IS NULL OR entity_id = ?2)
           AND (?3 IS NULL OR action = ?3)
           AND (?4 IS NULL OR id < ?4){of_automation}
         ORDER BY id DESC
         LIMIT ?5",
    ))?;
    let values = params![
        filter.entity_type,
        filter.entity_id,
        filter.action,
        filter.before_id,
        filter.limit.max(1),
        filter.automation_id,
    ];
    let bound = if filter.automation_id.is_some() { 6 } else { 5 };
    let rows = stmt.query_map(&values[..bound], audit_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The control plane's audit rows that belong to `tenant` (see [`record_workspace_audit`]),
/// with the same filters and order as [`list_audit`].
pub fn list_workspace_audit(
    control: &Connection,
    tenant: TenantId,
    filter: &AuditFilter,
) -> StoreResult<Vec<AuditRecord>> {
    if filter.automation_id.is_some() {
        return Ok(vec![]);
    }
    let mut stmt = control.prepare_cached(
        "SELECT id, at, actor_kind, actor_id, action, entity_type, entity_id, before, after,
                request_id, ip, user_agent
         FROM audit_log
         WHERE tenant_id = ?6
           AND (?1 IS NULL OR entity_type = ?1)
           AND (?2 IS NULL OR entity_id = ?2)
           AND (?3 IS NULL OR action = ?3)
           AND (?4 IS NULL OR id < ?4)
         ORDER BY id DESC
         LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![
            filter.entity_type,
            filter.entity_id,
            filter.action,
            filter.before_id,
            filter.limit.max(1),
            tenant.to_string()
        ],
        audit_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Two lists that are each newest first, merged newest first and cut to `limit`: one page of
/// the union (the first `limit` of the union are among the first `limit` of each side).
pub fn merge_newest_first(
    a: Vec<AuditRecord>,
    b: Vec<AuditRecord>,
    limit: u32,
) -> Vec<AuditRecord> {
    let mut all: Vec<AuditRecord> = a.into_iter().chain(b).collect();
    // UUID v7 ids sort in time order, as text and as bytes alike.
    all.sort_by_key(|r| std::cmp::Reverse(r.id.to_string()));
    all.truncate(limit.max(1) as usize);
    all
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let id: String = r.get(0)?;
    Ok(AuditRecord {
        id: AuditId::parse(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        at: parse_timestamp(&r.get::<_, String>(1)?)?,
        actor: AuditActor {
            kind: ActorKind::parse(&r.get::<_, String>(2)?),
            id: r.get(3)?,
        },
        action: r.get(4)?,
        entity_type: r.get(5)?,
        entity_id: r.get(6)?,
        before: json_column(r.get(7)?),
        after: json_column(r.get(8)?),
        request_id: r.get(9)?,
        ip: r.get(10)?,
        user_agent: r.get(11)?,
    })
}

/// How many audit rows mention an entity; used by tests that check "one row per change".
pub fn count_audit(conn: &Connection, entity_type: &str, entity_id: &str) -> StoreResult<u64> {
    Ok(conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE entity_type = ?1 AND entity_id = ?2",
            params![entity_type, entity_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Who the actors of some audit rows are, for people reading the log.
#[derive(Debug, Clone, Default)]
pub struct ActorDirectory {
    /// user id → (name, email).
    pub users: std::collections::HashMap<String, (String, String)>,
    /// API key id → the key's name.
    pub api_keys: std::collections::HashMap<String, String>,
}

/// The ids of `kind` actors, and for users also the members a membership row is about.
fn ids_of(records: &[AuditRecord], kind: ActorKind) -> String {
    let mut ids: std::collections::BTreeSet<&str> = records
        .iter()
        .filter(|r| r.actor.kind == kind)
        .filter_map(|r| r.actor.id.as_deref())
        .collect();
    if kind == ActorKind::User {
        ids.extend(
            records
                .iter()
                .filter(|r| r.entity_type == "membership")
                .filter_map(|r| r.after.as_ref().or(r.before.as_ref()))
                .filter_map(|v| v.get("user_id")?.as_str()),
        );
    }
    Value::from(ids.into_iter().collect::<Vec<_>>()).to_string()
}

impl crate::storage::Storage {
    /// One page of a workspace's audit log, newest first: the tenant database's rows merged with
    /// the control plane's rows about the workspace (its members and invitations).
    pub fn workspace_audit(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
    ) -> StoreResult<Vec<AuditRecord>> {
        let local = self.tenant(tenant)?.db().read(|c| list_audit(c, filter))?;
        let control = self
            .control()
            .db
            .read(|c| list_workspace_audit(c, tenant, filter))?;
        Ok(merge_newest_first(local, control, filter.limit))
    }

    /// Names for the user and API key actors of `records` (users from the control plane, keys
    /// from the workspace). Unknown ids are simply absent.
    pub fn audit_actors(
        &self,
        tenant: TenantId,
        records: &[AuditRecord],
    ) -> StoreResult<ActorDirectory> {
        let mut dir = ActorDirectory::default();
        let users = ids_of(records, ActorKind::User);
        self.control().db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, email FROM users WHERE id IN (SELECT value FROM json_each(?1))",
            )?;
            let rows = stmt.query_map([&users], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
            })?;
            for row in rows {
                let (id, who) = row?;
                dir.users.insert(id, who);
            }
            Ok(())
        })?;
        let keys = ids_of(records, ActorKind::ApiKey);
        self.tenant(tenant)?.db().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name FROM api_keys WHERE id IN (SELECT value FROM json_each(?1))",
            )?;
            let rows = stmt.query_map([&keys], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            for row in rows {
                let (id, name) = row?;
                dir.api_keys.insert(id, name);
            }
            Ok(())
        })?;
        Ok(dir)
    }
}
