//! Looking things up across a workspace (and, for ops, across workspaces): the workspace list
//! with its counts, search over automations, tasks and members, and renaming a workspace.

use rusqlite::{OptionalExtension, params};
use serde_json::json;
use wrk_core::ids::TenantId;

use crate::audit::{self, AuditActor, RequestMeta};
use crate::automations::Automation;
use crate::automations::tasks::{TASK_COLS, Task, task_row};
use crate::control::{ControlStore, TenantRecord};
use crate::error::{Entity, StoreError, StoreResult};
use crate::identity::memberships::Member;
use crate::storage::Storage;
use crate::tenant::TenantStore;

/// The longest workspace display name.
pub const MAX_WORKSPACE_NAME_CHARS: usize = 200;

/// Trims and checks a workspace display name: 1 to 200 characters (as at creation), no control
/// characters.
pub fn parse_workspace_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        Err("the name is required")
    } else if name.chars().count() > MAX_WORKSPACE_NAME_CHARS {
        Err("the name must be at most 200 characters")
    } else if name.chars().any(char::is_control) {
        Err("the name must not contain control characters")
    } else {
        Ok(name.to_owned())
    }
}

/// A workspace with its member count (from the control plane).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantWithMembers {
    pub tenant: TenantRecord,
    pub members: u64,
}

/// What one workspace's own database holds, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkspaceCounts {
    /// Automations that are not archived.
    pub automations: u64,
    /// Tasks not done yet (either side's).
    pub open_tasks: u64,
}

/// `instr`-based matching: a case-insensitive substring, no LIKE wildcards to escape.
fn needle(q: &str) -> String {
    q.trim().to_lowercase()
}

impl ControlStore {
    /// Every workspace with its member count, newest first, from before the id `before` (a
    /// cursor) when given; `q` (when not blank) keeps those whose name or address contains it.
    pub fn tenants_with_members(
        &self,
        q: Option<&str>,
        before: Option<TenantId>,
        limit: u32,
    ) -> StoreResult<Vec<TenantWithMembers>> {
        let q = q.map(needle).filter(|q| !q.is_empty());
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.id, t.subdomain, t.name, t.created_at,
                        (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id)
                 FROM tenants t
                 WHERE (?1 IS NULL OR instr(lower(t.name), ?1) > 0 OR instr(t.subdomain, ?1) > 0)
                   AND (?2 IS NULL OR t.id < ?2)
                 ORDER BY t.id DESC LIMIT ?3",
            )?;
            let before = before.map(|b| b.to_string());
            let rows = stmt.query_map(params![q, before, limit.max(1)], |r| {
                Ok(TenantWithMembers {
                    tenant: crate::control::tenant_from_row(r)?,
                    members: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The members of `tenant` whose name or email contains `q` (case-insensitive).
    pub fn search_members(
        &self,
        tenant: TenantId,
        q: &str,
        limit: u32,
    ) -> StoreResult<Vec<Member>> {
        let q = needle(q);
        if q.is_empty() {
            return Ok(vec![]);
        }
        let mut found: Vec<Member> = self
            .members(tenant)?
            .into_iter()
            .filter(|m| m.name.to_lowercase().contains(&q) || m.email.to_lowercase().contains(&q))
            .collect();
        found.truncate(limit as usize);
        Ok(found)
    }
}

impl TenantStore {
    /// Automation and open-task counts of this workspace.
    pub fn counts(&self) -> StoreResult<WorkspaceCounts> {
        self.db().read(|c| {
            let automations: u64 = c.query_row(
                "SELECT count(*) FROM automations a WHERE EXISTS
                   (SELECT 1 FROM versions v WHERE v.automation_id = a.id AND v.status <> 'archived')",
                [],
                |r| r.get(0),
            )?;
            let open_tasks: u64 = c.query_row(
                "SELECT count(*) FROM tasks WHERE status <> 'done'",
                [],
                |r| r.get(0),
            )?;
            Ok(WorkspaceCounts {
                automations,
                open_tasks,
            })
        })
    }

    /// Automations (archived ones too) whose name or description contains `q`, newest first.
    pub fn search_automations(&self, q: &str, limit: u32) -> StoreResult<Vec<Automation>> {
        let q = needle(q);
        if q.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<String> = self.db().read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM automations
                 WHERE instr(lower(name), ?1) > 0 OR instr(lower(description), ?1) > 0
                 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![q, limit.max(1)], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let id = wrk_core::ids::AutomationId::parse(&id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push(self.automation(id)?);
        }
        Ok(out)
    }

    /// Tasks whose title contains `q`, open ones first, then newest first.
    pub fn search_tasks(&self, q: &str, limit: u32) -> StoreResult<Vec<Task>> {
        let q = needle(q);
        if q.is_empty() {
            return Ok(vec![]);
        }
        self.db().read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM tasks WHERE instr(lower(title), ?1) > 0
                 ORDER BY status = 'done', id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![q, limit.max(1)], task_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

impl Storage {
    /// Renames a workspace's display name (its address never changes): the row and its
    /// `tenant.renamed` audit row in one control-plane transaction. `name` is already checked
    /// with [`parse_workspace_name`]. Returns the new record.
    pub fn rename_tenant(
        &self,
        id: TenantId,
        name: &str,
        actor: &AuditActor,
        request: &RequestMeta,
    ) -> StoreResult<TenantRecord> {
        let record = self.control().db().write(|tx| {
            let before: Option<String> = tx
                .query_row(
                    "SELECT name FROM tenants WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let before = before.ok_or(StoreError::NotFound(Entity::Tenant))?;
            tx.execute(
                "UPDATE tenants SET name = ?2 WHERE id = ?1",
                params![id.to_string(), name],
            )?;
            audit::record_workspace_audit(
                tx,
                id,
                &audit::AuditEntry {
                    actor,
                    action: "tenant.renamed",
                    entity_type: "tenant",
                    entity_id: Some(id.to_string()),
                    before: Some(json!({ "name": before })),
                    after: Some(json!({ "name": name })),
                    request,
                },
            )?;
            let record = tx.query_row(
                "SELECT id, subdomain, name, created_at FROM tenants WHERE id = ?1",
                [id.to_string()],
                crate::control::tenant_from_row,
            )?;
            Ok(record)
        })?;
        self.refresh_cached(&record);
        Ok(record)
    }
}

/// A pending invitation as its link's holder may see it: for the invitee's signup form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationPreview {
    pub email: String,
    pub role: wrk_core::roles::ClientRole,
    pub tenant: TenantRecord,
}

impl ControlStore {
    /// The pending invitation whose token hashes to `token_hash`. An unknown token, and an
    /// expired, revoked or accepted invitation, are refused with their own reason.
    pub fn pending_invitation(&self, token_hash: &str) -> StoreResult<InvitationPreview> {
        use crate::error::Refusal;
        self.db.read(|c| {
            let row: Option<(String, String, String, String, String)> = c
                .query_row(
                    "SELECT email, role, status, expires_at, tenant_id FROM invitations
                     WHERE token_hash = ?1",
                    [token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let (email, role, status, expires_at, tenant) =
                row.ok_or(StoreError::Refused(Refusal::InvalidToken))?;
            match status.as_str() {
                "accepted" => return Err(StoreError::Refused(Refusal::InvitationAccepted)),
                "revoked" => return Err(StoreError::Refused(Refusal::InvitationRevoked)),
                _ => {}
            }
            if audit::parse_timestamp(&expires_at)? <= chrono::Utc::now() {
                return Err(StoreError::Refused(Refusal::InvitationExpired));
            }
            let role = wrk_core::roles::ClientRole::parse(&role)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let tenant = c.query_row(
                "SELECT id, subdomain, name, created_at FROM tenants WHERE id = ?1",
                [tenant],
                crate::control::tenant_from_row,
            )?;
            Ok(InvitationPreview {
                email,
                role,
                tenant,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::NewAutomation;
    use crate::testing::*;

    #[test]
    fn search_matches_parts_of_names_and_titles_case_insensitively_and_never_a_blank() {
        let (_dir, store) = store();
        let (a, _) = store
            .create_automation(
                &NewAutomation {
                    name: "Invoice intake",
                    description: "Book supplier bills in Xero",
                },
                &owner(),
                &who(),
                &req(),
            )
            .unwrap();
        automation(&store, "Stock sync");
        store
            .db()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO tasks (id, automation_id, version, key, kind, title, assignee, status,
                                        created_at, updated_at)
                     VALUES (?1, ?2, 1, 'k', 'credentials', 'Add the Xero credentials', 'client',
                             'todo', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                    params![wrk_core::ids::TaskId::new().to_string(), a.id.to_string()],
                )?;
                Ok(())
            })
            .unwrap();

        let found = store.search_automations("INVOICE", 20).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, a.id);
        // The description counts too.
        assert_eq!(store.search_automations("xero", 20).unwrap().len(), 1);
        // LIKE wildcards are plain characters.
        assert!(store.search_automations("%", 20).unwrap().is_empty());
        assert!(store.search_automations("   ", 20).unwrap().is_empty());

        let tasks = store.search_tasks("credentials xero", 20).unwrap();
        assert!(tasks.is_empty(), "a substring, not words");
        let tasks = store.search_tasks("XERO", 20).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].title, "Add the Xero credentials");

        let counts = store.counts().unwrap();
        assert_eq!(
            counts,
            WorkspaceCounts {
                automations: 2,
                open_tasks: 1
            }
        );
    }

    #[test]
    fn workspace_names_are_trimmed_and_bounded() {
        assert_eq!(parse_workspace_name("  Acme  ").unwrap(), "Acme");
        assert!(parse_workspace_name(" ").is_err());
        assert!(parse_workspace_name(&"x".repeat(201)).is_err());
        assert!(parse_workspace_name(&"é".repeat(200)).is_ok());
        assert!(parse_workspace_name("a\nb").is_err());
    }
}
