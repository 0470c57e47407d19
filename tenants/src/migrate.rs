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
}
