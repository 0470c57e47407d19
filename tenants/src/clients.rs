//! Clients (flow 33) and their health (flow 34), in the control plane: ops-only records that
//! group existing workspaces. Nothing here creates a workspace or an account. Every change writes
//! its control-plane audit row in the same transaction (untagged: a client record, health notes
//! included, is ops' own and never shows in a workspace's audit log).
//!
//! The signals a health suggestion is computed from live in each workspace's own file:
//! [`TenantStore::health_signals`] reads them, `wrk_core::health::suggest` decides.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wrk_core::health::{ALERT_WINDOW_DAYS, Health, Runs, Signals, TASK_OVERDUE_AFTER_DAYS};
use wrk_core::ids::{ClientId, HealthEntryId, TenantId};

use crate::audit::{self, AuditActor, RequestMeta, parse_timestamp, timestamp};
use crate::automations::conv;
use crate::control::{ControlStore, TenantRecord};
use crate::error::{Entity, StoreError, StoreResult};
use crate::tenant::TenantStore;

/// A person to talk to at the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// What they do there ("CFO", "IT lead").
    pub role: Option<String>,
}

/// What a client record holds besides its id, health and times (already checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientFields {
    pub name: String,
    pub contacts: Vec<Contact>,
    pub account_manager: Option<String>,
    pub notes: Option<String>,
}

/// An edit: `None` leaves a field as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub contacts: Option<Vec<Contact>>,
    pub account_manager: Option<Option<String>>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRecord {
    pub id: ClientId,
    pub name: String,
    pub contacts: Vec<Contact>,
    pub account_manager: Option<String>,
    pub notes: Option<String>,
    /// The latest status ops set; `None` until they set one.
    pub health: Option<Health>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One status ops set, kept for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthEntry {
    pub id: HealthEntryId,
    pub status: Health,
    pub note: String,
    /// The ops user who set it.
    pub set_by: Option<String>,
    pub at: DateTime<Utc>,
}

const CLIENT_COLS: &str =
    "id, name, contacts, account_manager, notes, health, created_at, updated_at";

fn client_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClientRecord> {
    let health: Option<String> = r.get(5)?;
    Ok(ClientRecord {
        id: ClientId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
        name: r.get(1)?,
        contacts: serde_json::from_str(&r.get::<_, String>(2)?).map_err(conv)?,
        account_manager: r.get(3)?,
        notes: r.get(4)?,
        health: health
            .map(|h| Health::parse(&h))
            .transpose()
            .map_err(conv)?,
        created_at: parse_timestamp(&r.get::<_, String>(6)?)?,
        updated_at: parse_timestamp(&r.get::<_, String>(7)?)?,
    })
}

fn load_client(c: &Connection, id: ClientId) -> StoreResult<ClientRecord> {
    c.prepare_cached(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id = ?1"))?
        .query_row([id.to_string()], client_row)
        .optional()?
        .ok_or(StoreError::NotFound(Entity::Client))
}

fn contacts_json(contacts: &[Contact]) -> String {
    serde_json::to_string(contacts).unwrap_or_else(|_| "[]".into())
}

/// The audit view of a client: what people changed, never more.
fn audited(c: &ClientRecord) -> serde_json::Value {
    json!({
        "name": c.name,
        "contacts": c.contacts,
        "account_manager": c.account_manager,
        "notes": c.notes,
    })
}

fn client_audit(
    tx: &Transaction<'_>,
    actor: &AuditActor,
    request: &RequestMeta,
    action: &str,
    id: ClientId,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> StoreResult<()> {
    audit::record_audit(
        tx,
        &audit::AuditEntry {
            actor,
            action,
            entity_type: "client",
            entity_id: Some(id.to_string()),
            before,
            after,
            request,
        },
    )?;
    Ok(())
}

impl ControlStore {
    pub fn create_client(
        &self,
        fields: &ClientFields,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<ClientRecord> {
        let id = ClientId::new();
        self.db.write(|tx| {
            let now = timestamp(Utc::now());
            tx.execute(
                "INSERT INTO clients (id, name, contacts, account_manager, notes, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    id.to_string(),
                    fields.name,
                    contacts_json(&fields.contacts),
                    fields.account_manager,
                    fields.notes,
                    now
                ],
            )?;
            let client = load_client(tx, id)?;
            client_audit(tx, actor, request, "client.created", id, None, Some(audited(&client)))?;
            Ok(client)
        })
    }

    pub fn update_client(
        &self,
        id: ClientId,
        patch: &ClientPatch,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<ClientRecord> {
        self.db.write(|tx| {
            let before = load_client(tx, id)?;
            let name = patch.name.as_ref().unwrap_or(&before.name);
            let contacts = patch.contacts.as_ref().unwrap_or(&before.contacts);
            let manager = patch
                .account_manager
                .as_ref()
                .unwrap_or(&before.account_manager);
            let notes = patch.notes.as_ref().unwrap_or(&before.notes);
            tx.execute(
                "UPDATE clients SET name = ?2, contacts = ?3, account_manager = ?4, notes = ?5,
                        updated_at = ?6
                 WHERE id = ?1",
                params![
                    id.to_string(),
                    name,
                    contacts_json(contacts),
                    manager,
                    notes,
                    timestamp(Utc::now())
                ],
            )?;
            let after = load_client(tx, id)?;
            client_audit(
                tx,
                actor,
                request,
                "client.updated",
                id,
                Some(audited(&before)),
                Some(audited(&after)),
            )?;
            Ok(after)
        })
    }

    /// Clients, newest first, from before the id `before` (a cursor) when given.
    pub fn clients(&self, before: Option<ClientId>, limit: u32) -> StoreResult<Vec<ClientRecord>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CLIENT_COLS} FROM clients WHERE (?1 IS NULL OR id < ?1)
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let before = before.map(|b| b.to_string());
            let rows = stmt.query_map(params![before, limit.max(1)], client_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many workspaces each client has.
    pub fn client_workspace_counts(&self) -> StoreResult<std::collections::HashMap<ClientId, u64>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT client_id, count(*) FROM tenants WHERE client_id IS NOT NULL
                 GROUP BY client_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    ClientId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
                    r.get::<_, u64>(1)?,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn client(&self, id: ClientId) -> StoreResult<ClientRecord> {
        self.db.read(|c| load_client(c, id))
    }

    /// The workspaces linked to a client, by name.
    pub fn client_workspaces(&self, id: ClientId) -> StoreResult<Vec<TenantRecord>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, subdomain, name, created_at FROM tenants WHERE client_id = ?1
                 ORDER BY lower(name), id",
            )?;
            let rows = stmt.query_map([id.to_string()], crate::control::tenant_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every workspace's client id and name, for lists of workspaces.
    pub fn tenant_clients(
        &self,
    ) -> StoreResult<std::collections::HashMap<TenantId, (ClientId, String)>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.id, c.id, c.name FROM tenants t JOIN clients c ON c.id = t.client_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    TenantId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
                    (
                        ClientId::parse(&r.get::<_, String>(1)?).map_err(conv)?,
                        r.get::<_, String>(2)?,
                    ),
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Links an existing workspace to a client (moving it from another client if it had one).
    /// Linking it again to the same client changes nothing and writes no audit row.
    pub fn link_workspace(
        &self,
        client: ClientId,
        tenant: TenantId,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<TenantRecord> {
        self.db.write(|tx| {
            load_client(tx, client)?;
            let before: Option<Option<String>> = tx
                .query_row(
                    "SELECT client_id FROM tenants WHERE id = ?1",
                    [tenant.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let before = before.ok_or(StoreError::NotFound(Entity::Tenant))?;
            if before.as_deref() != Some(client.to_string().as_str()) {
                tx.execute(
                    "UPDATE tenants SET client_id = ?2 WHERE id = ?1",
                    params![tenant.to_string(), client.to_string()],
                )?;
                client_audit(
                    tx,
                    actor,
                    request,
                    "client.workspace_linked",
                    client,
                    Some(json!({"tenant_id": tenant, "client_id": before})),
                    Some(json!({"tenant_id": tenant, "client_id": client})),
                )?;
            }
            Ok(tx.query_row(
                "SELECT id, subdomain, name, created_at FROM tenants WHERE id = ?1",
                [tenant.to_string()],
                crate::control::tenant_from_row,
            )?)
        })
    }

    /// Sets a client's health: a new history entry, and the client's current status.
    pub fn set_health(
        &self,
        client: ClientId,
        status: Health,
        note: &str,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<HealthEntry> {
        let id = HealthEntryId::new();
        self.db.write(|tx| {
            let before = load_client(tx, client)?;
            let now = timestamp(Utc::now());
            tx.execute(
                "INSERT INTO client_health (id, client_id, status, note, set_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.to_string(),
                    client.to_string(),
                    status.as_str(),
                    note,
                    actor.id,
                    now
                ],
            )?;
            tx.execute(
                "UPDATE clients SET health = ?2, updated_at = ?3 WHERE id = ?1",
                params![client.to_string(), status.as_str(), now],
            )?;
            client_audit(
                tx,
                actor,
                request,
                "client.health_set",
                client,
                Some(json!({"health": before.health})),
                Some(json!({"health": status, "note": note})),
            )?;
            Ok(HealthEntry {
                id,
                status,
                note: note.to_owned(),
                set_by: actor.id.clone(),
                at: parse_timestamp(&now)?,
            })
        })
    }

    /// A client's health history, newest first.
    pub fn health_history(&self, client: ClientId, limit: u32) -> StoreResult<Vec<HealthEntry>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, status, note, set_by, created_at FROM client_health
                 WHERE client_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![client.to_string(), limit.max(1)], |r| {
                Ok(HealthEntry {
                    id: HealthEntryId::parse(&r.get::<_, String>(0)?).map_err(conv)?,
                    status: Health::parse(&r.get::<_, String>(1)?).map_err(conv)?,
                    note: r.get(2)?,
                    set_by: r.get(3)?,
                    at: parse_timestamp(&r.get::<_, String>(4)?)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

fn table_has_column(c: &Connection, table: &str, column: &str) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
        params![table, column],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

impl TenantStore {
    /// What this workspace shows of its health at `now`. Each signal is `None` when the
    /// workspace does not record it: no alerts table (alerts not built on this installation),
    /// no runs counted this month, no invoice or charge ever.
    pub fn health_signals(&self, now: DateTime<Utc>) -> StoreResult<Signals> {
        let overdue_before = timestamp(now - Duration::days(TASK_OVERDUE_AFTER_DAYS));
        let alerts_since = timestamp(now - Duration::days(ALERT_WINDOW_DAYS));
        let period = now.format("%Y-%m").to_string();
        self.db().read(|c| {
            let overdue_tasks: u64 = c.query_row(
                "SELECT count(*) FROM tasks WHERE status <> 'done' AND created_at < ?1",
                [&overdue_before],
                |r| r.get(0),
            )?;
            let (runs, failed): (u64, u64) = c.query_row(
                "SELECT coalesce(sum(runs), 0), coalesce(sum(failed), 0) FROM usage_counters
                 WHERE period = ?1",
                [&period],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let (billed, payment_failures): (u64, u64) = c.query_row(
                "SELECT (SELECT count(*) FROM invoices) + (SELECT count(*) FROM charges),
                        (SELECT count(*) FROM invoices WHERE status = 'failed')
                      + (SELECT count(*) FROM charges WHERE status = 'failed' AND purpose <> 'invoice')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let alerts = if table_has_column(c, "alerts", "created_at")? {
                Some(c.query_row(
                    "SELECT count(*) FROM alerts WHERE created_at >= ?1",
                    [&alerts_since],
                    |r| r.get(0),
                )?)
            } else {
                None
            };
            Ok(Signals {
                alerts,
                runs: (runs > 0).then_some(Runs { runs, failed }),
                overdue_tasks: Some(overdue_tasks),
                payment_failures: (billed > 0).then_some(payment_failures),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn ops() -> AuditActor {
        AuditActor {
            kind: audit::ActorKind::Ops,
            id: Some("ops-1".into()),
        }
    }

    #[test]
    fn a_client_links_an_existing_workspace_and_keeps_every_health_change() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let meta = RequestMeta::default();
        let (t, _owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let client = c
            .create_client(
                &ClientFields {
                    name: "Acme Corp".into(),
                    ..Default::default()
                },
                &ops(),
                &meta,
            )
            .unwrap();
        c.link_workspace(client.id, t.id, &ops(), &meta).unwrap();
        c.link_workspace(client.id, t.id, &ops(), &meta).unwrap();
        assert_eq!(c.client_workspaces(client.id).unwrap()[0].id, t.id);
        assert_eq!(c.tenant_clients().unwrap()[&t.id].1, "Acme Corp");
        c.set_health(client.id, Health::Yellow, "slow replies", &ops(), &meta)
            .unwrap();
        c.set_health(client.id, Health::Green, "back on track", &ops(), &meta)
            .unwrap();
        let history = c.health_history(client.id, 10).unwrap();
        assert_eq!(
            history.iter().map(|h| h.status).collect::<Vec<_>>(),
            vec![Health::Green, Health::Yellow]
        );
        assert_eq!(c.client(client.id).unwrap().health, Some(Health::Green));
        let rows = c
            .db()
            .read(|x| audit::count_audit(x, "client", &client.id.to_string()))
            .unwrap();
        assert_eq!(rows, 4, "created, linked once, two health changes");
        assert!(matches!(
            c.link_workspace(client.id, TenantId::new(), &ops(), &meta),
            Err(StoreError::NotFound(Entity::Tenant))
        ));
    }

    #[test]
    fn a_fresh_workspace_knows_its_overdue_tasks_and_has_no_data_for_the_rest() {
        let (_d, s) = testing::storage();
        let (t, _owner) = testing::workspace_with_owner(&s, "acme", "o@example.com");
        let signals = s.tenant(t.id).unwrap().health_signals(Utc::now()).unwrap();
        assert_eq!(signals.overdue_tasks, Some(0));
        assert_eq!(signals.runs, None);
        assert_eq!(signals.payment_failures, None);
        // Alerts are recorded (migration 0008): none yet is a count of 0, not "no data".
        assert_eq!(signals.alerts, Some(0));
    }
}
