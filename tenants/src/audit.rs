//! The audit log. Control plane and tenant databases share the table shape, so one writer serves
//! both. [`record_audit`] takes a [`Transaction`], not a connection: an audit row can only be
//! written inside the transaction of the change it records.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;
use wrk_core::ids::AuditId;

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
    let id = AuditId::new();
    tx.execute(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, action, entity_type, entity_id,
                                before, after, request_id, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
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
        ],
    )?;
    Ok(id)
}

/// Filters for [`list_audit`]; cursor pagination on the (time-ordered) id, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Return rows with an id strictly less than this one.
    pub before_id: Option<String>,
    pub limit: u32,
}

fn json_column(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

pub fn list_audit(conn: &Connection, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor_kind, actor_id, action, entity_type, entity_id, before, after,
                request_id, ip, user_agent
         FROM audit_log
         WHERE (?1 IS NULL OR entity_type = ?1)
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
            filter.limit.max(1)
        ],
        |r| {
            let id: String = r.get(0)?;
            Ok(AuditRecord {
                id: AuditId::parse(&id).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
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
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
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
