//! The login lockout (flow 3): five failed passwords for an email within 15 minutes lock that
//! email's password logins for 15 minutes. Per-IP abuse is the rate limiter's job, not this.

use chrono::{Duration, Utc};
use rusqlite::{OptionalExtension, params};

use crate::audit::{parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::StoreResult;

/// Failures within [`WINDOW`] that trigger a lock.
pub const MAX_FAILURES: i64 = 5;

/// The counting window, and how long a lock lasts.
pub fn window() -> Duration {
    Duration::minutes(15)
}

impl ControlStore {
    /// Whether password logins for `email` are locked now.
    pub fn login_locked(&self, email: &str) -> StoreResult<bool> {
        self.db.read(|c| {
            let until: Option<String> = c
                .query_row(
                    "SELECT locked_until FROM login_locks WHERE email = ?1",
                    [email],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(match until {
                Some(u) => parse_timestamp(&u)? > Utc::now(),
                None => false,
            })
        })
    }

    /// Records a failed password for `email`; returns whether the email is now locked.
    pub fn record_login_failure(&self, email: &str) -> StoreResult<bool> {
        self.db.write(|tx| {
            let now = Utc::now();
            let since = timestamp(now - window());
            tx.execute(
                "DELETE FROM login_failures WHERE email = ?1 AND at <= ?2",
                params![email, since],
            )?;
            tx.execute(
                "INSERT INTO login_failures (email, at) VALUES (?1, ?2)",
                params![email, timestamp(now)],
            )?;
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM login_failures WHERE email = ?1",
                [email],
                |r| r.get(0),
            )?;
            if n >= MAX_FAILURES {
                tx.execute(
                    "INSERT INTO login_locks (email, locked_until) VALUES (?1, ?2)
                     ON CONFLICT (email) DO UPDATE SET locked_until = excluded.locked_until",
                    params![email, timestamp(now + window())],
                )?;
                tx.execute("DELETE FROM login_failures WHERE email = ?1", [email])?;
                return Ok(true);
            }
            Ok(false)
        })
    }

    /// A successful login forgets earlier failures.
    pub fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute("DELETE FROM login_failures WHERE email = ?1", [email])?;
            tx.execute("DELETE FROM login_locks WHERE email = ?1", [email])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing;

    #[test]
    fn the_fifth_failure_locks_the_email_whatever_its_case() {
        let (_d, s) = testing::storage();
        let c = s.control();
        for _ in 0..4 {
            assert!(!c.record_login_failure("a@example.com").unwrap());
        }
        assert!(!c.login_locked("A@example.com").unwrap());
        assert!(c.record_login_failure("A@EXAMPLE.com").unwrap());
        assert!(c.login_locked("a@example.com").unwrap());
        assert!(!c.login_locked("b@example.com").unwrap());
    }
}
