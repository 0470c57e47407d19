//! Embedded, versioned migrations. Each database kind has an ordered list of SQL files; the file's
//! `PRAGMA user_version` says how many have been applied. All pending migrations run in one
//! transaction together with the version bump, so a crash leaves the file at a whole version.

use rusqlite::Connection;

use crate::error::{StoreError, StoreResult};

/// One numbered SQL script, embedded in the binary.
#[derive(Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The control plane's migrations, in order.
pub const CONTROL: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/control/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "identity",
        sql: include_str!("../migrations/control/0002_identity.sql"),
    },
    Migration {
        version: 3,
        name: "outbox",
        sql: include_str!("../migrations/control/0003_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "plugins",
        sql: include_str!("../migrations/control/0004_plugins.sql"),
    },
    Migration {
        version: 5,
        name: "workspace_audit",
        sql: include_str!("../migrations/control/0005_workspace_audit.sql"),
    },
    Migration {
        version: 6,
        name: "clients",
        sql: include_str!("../migrations/control/0006_clients.sql"),
    },
    Migration {
        version: 7,
        name: "alert_emails",
        sql: include_str!("../migrations/control/0007_alert_emails.sql"),
    },
];

/// Every tenant database's migrations, in order.
pub const TENANT: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/tenant/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "api_keys",
        sql: include_str!("../migrations/tenant/0002_api_keys.sql"),
    },
    Migration {
        version: 3,
        name: "automations",
        sql: include_str!("../migrations/tenant/0003_automations.sql"),
    },
    Migration {
        version: 4,
        name: "documents",
        sql: include_str!("../migrations/tenant/0004_documents.sql"),
    },
    Migration {
        version: 5,
        name: "quote_numbers",
        sql: include_str!("../migrations/tenant/0005_quote_numbers.sql"),
    },
    Migration {
        version: 6,
        name: "billing",
        sql: include_str!("../migrations/tenant/0006_billing.sql"),
    },
    Migration {
        version: 7,
        name: "notifications",
        sql: include_str!("../migrations/tenant/0007_notifications.sql"),
    },
    Migration {
        version: 8,
        name: "billing_periods",
        sql: include_str!("../migrations/tenant/0008_billing_periods.sql"),
    },
    Migration {
        version: 9,
        name: "credentials",
        sql: include_str!("../migrations/tenant/0009_credentials.sql"),
    },
    Migration {
        version: 10,
        name: "inbound_events",
        sql: include_str!("../migrations/tenant/0010_inbound_events.sql"),
    },
    Migration {
        version: 11,
        name: "collab",
        sql: include_str!("../migrations/tenant/0011_collab.sql"),
    },
];

/// The version a fully migrated file of this kind has.
pub fn latest(migrations: &[Migration]) -> u32 {
    migrations.last().map_or(0, |m| m.version)
}

pub fn current_version(conn: &Connection) -> StoreResult<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Applies every pending migration; returns how many ran. The version is read inside the same
/// `BEGIN IMMEDIATE` transaction that applies them, so two processes (or two threads racing to
/// open the same tenant) can never both apply one migration. A file newer than this binary is an
/// error rather than something to guess about.
pub fn apply(conn: &mut Connection, db: &str, migrations: &[Migration]) -> StoreResult<usize> {
    let latest = latest(migrations);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current = current_version(&tx)?;
    if current > latest {
        return Err(StoreError::Corrupt(format!(
            "{db} is at schema version {current}, newer than this binary's {latest}"
        )));
    }
    let mut applied = 0;
    for m in migrations.iter().filter(|m| m.version > current) {
        let wrap = |source| StoreError::Migration {
            db: db.to_owned(),
            version: m.version,
            source,
        };
        tx.execute_batch(m.sql).map_err(wrap)?;
        tx.pragma_update(None, "user_version", m.version)
            .map_err(wrap)?;
        applied += 1;
    }
    tx.commit()?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_from_one() {
        for set in [CONTROL, TENANT] {
            for (i, m) in set.iter().enumerate() {
                assert_eq!(m.version as usize, i + 1, "{}", m.name);
            }
        }
    }

    #[test]
    fn applying_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(apply(&mut conn, "t", TENANT).unwrap(), TENANT.len());
        assert_eq!(apply(&mut conn, "t", TENANT).unwrap(), 0);
        assert_eq!(current_version(&conn).unwrap(), latest(TENANT));
    }

    #[test]
    fn a_file_from_a_newer_binary_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            apply(&mut conn, "t", TENANT),
            Err(StoreError::Corrupt(_))
        ));
    }

    /// Quotes stored before numbers existed get them: per project, in order of the project's
    /// first quote within its year, with `-R<n>` for later revisions.
    #[test]
    fn existing_quotes_are_numbered_per_project_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, "t", &TENANT[..4]).unwrap();
        // Bare quote rows, without the automations and projects they would belong to.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let quote = |id: &str, project: &str, revision: u32, at: &str| {
            conn.execute(
                "INSERT INTO quotes (id, project_id, automation_id, version, revision, status,
                    currency, setup_fee_cents, monthly_fee_cents, included_runs,
                    overage_unit_cents, valid_until, plugin_name, plugin_version, plugin_sha256,
                    plugin_input, plugin_output, created_at, updated_at)
                 VALUES (?1, ?2, 'a', 1, ?3, 'sent', 'USD', 0, 0, 0, 0, ?4, 'p', '1', 's',
                    '{}', '{}', ?4, ?4)",
                rusqlite::params![id, project, revision, at],
            )
            .unwrap();
        };
        quote("q1", "p-b", 1, "2025-12-30T10:00:00.000000Z");
        quote("q2", "p-a", 1, "2026-01-02T10:00:00.000000Z");
        quote("q3", "p-b", 2, "2026-01-03T10:00:00.000000Z");
        quote("q4", "p-c", 1, "2026-01-04T10:00:00.000000Z");
        apply(&mut conn, "t", TENANT).unwrap();
        let number = |id: &str| -> String {
            conn.query_row("SELECT number FROM quotes WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(number("q1"), "Q-2025-0001");
        assert_eq!(number("q3"), "Q-2025-0001-R2");
        assert_eq!(number("q2"), "Q-2026-0001");
        assert_eq!(number("q4"), "Q-2026-0002");
    }

    /// Control-plane audit rows written before they carried the workspace get it from the row.
    #[test]
    fn existing_workspace_audit_rows_are_tagged_with_their_workspace() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, "c", &CONTROL[..4]).unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let row = |id: &str,
                   entity_type: &str,
                   entity_id: &str,
                   before: Option<&str>,
                   after: Option<&str>| {
            conn.execute(
                "INSERT INTO audit_log (id, at, actor_kind, action, entity_type, entity_id, before, after)
                 VALUES (?1, '2026-01-01T00:00:00Z', 'user', 'x.y', ?2, ?3, ?4, ?5)",
                rusqlite::params![id, entity_type, entity_id, before, after],
            )
            .unwrap();
        };
        row("1", "tenant", "t1", None, Some(r#"{"id":"t1"}"#));
        row(
            "2",
            "membership",
            "t1:u",
            None,
            Some(r#"{"tenant_id":"t1","user_id":"u"}"#),
        );
        row(
            "3",
            "membership",
            "t2:u",
            Some(r#"{"tenant_id":"t2","user_id":"u"}"#),
            None,
        );
        row("4", "invitation", "i", None, Some(r#"{"tenant_id":"t2"}"#));
        row("5", "user", "u", None, Some(r#"{"tenant_id":"t9"}"#));
        apply(&mut conn, "c", CONTROL).unwrap();
        let tenant = |id: &str| -> Option<String> {
            conn.query_row("SELECT tenant_id FROM audit_log WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(tenant("1").as_deref(), Some("t1"));
        assert_eq!(tenant("2").as_deref(), Some("t1"));
        assert_eq!(tenant("3").as_deref(), Some("t2"));
        assert_eq!(tenant("4").as_deref(), Some("t2"));
        assert_eq!(tenant("5"), None, "account rows belong to no workspace");
    }
}
