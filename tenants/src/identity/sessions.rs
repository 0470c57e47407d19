//! Sessions: refresh-token families (rotating, with reuse detection), cookie sessions (backing a
//! browser's HttpOnly cookie), and the 30-second workspace handoff codes.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;
use wrk_core::ids::{TenantId, UserId};

use super::NewToken;
use super::users::{insert_one_time, spend_one_time};
use crate::audit::{parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::{Refusal, StoreError, StoreResult};

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    /// An ops user (WRK staff); id as stored in `ops_users`.
    Ops(wrk_core::ids::OpsUserId),
}

impl Subject {
    fn kind(self) -> &'static str {
        match self {
            Subject::User(_) => "user",
            Subject::Ops(_) => "ops",
        }
    }

    fn id(self) -> String {
        match self {
            Subject::User(u) => u.to_string(),
            Subject::Ops(o) => o.to_string(),
        }
    }
}

/// Bearer refresh tokens rotate; cookie sessions don't (the cookie is HttpOnly and never leaves
/// the browser's cookie jar, so there is nothing to rotate against).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Bearer,
    Cookie,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Bearer => "bearer",
            SessionKind::Cookie => "cookie",
        }
    }
}

/// A live session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub family_id: String,
    pub subject: Subject,
    /// `None`: an account (apex) or ops session; `Some`: a workspace session.
    pub tenant_id: Option<TenantId>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a bearer refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now spent and the new one (same family) replaces it.
    Rotated(Session),
    /// The token was already spent: someone replayed it, so the whole family is now revoked.
    ReuseDetected,
    /// Unknown, revoked or expired.
    Invalid,
}

fn session_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    let kind: String = r.get(1)?;
    let id: String = r.get(2)?;
    let subject = match kind.as_str() {
        "ops" => Subject::Ops(wrk_core::ids::OpsUserId::parse(&id).map_err(super::conv_err)?),
        _ => Subject::User(UserId::parse(&id).map_err(super::conv_err)?),
    };
    Ok(Session {
        family_id: r.get(0)?,
        subject,
        tenant_id: r
            .get::<_, Option<String>>(3)?
            .map(|t| TenantId::parse(&t))
            .transpose()
            .map_err(super::conv_err)?,
        expires_at: parse_timestamp(&r.get::<_, String>(4)?)?,
    })
}

fn insert(
    tx: &Transaction<'_>,
    token: &NewToken,
    family: &str,
    kind: SessionKind,
    subject: Subject,
    tenant: Option<TenantId>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (hash, family_id, kind, subject_kind, subject_id, tenant_id,
                                     created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            token.hash,
            family,
            kind.as_str(),
            subject.kind(),
            subject.id(),
            tenant.map(|t| t.to_string()),
            timestamp(Utc::now()),
            timestamp(token.expires_at)
        ],
    )?;
    Ok(())
}

/// Revokes every session of a subject (password reset, account removal).
pub(crate) fn revoke_subject(tx: &Transaction<'_>, kind: &str, id: &str) -> StoreResult<usize> {
    Ok(tx.execute(
        "UPDATE refresh_tokens SET revoked_at = ?3
         WHERE subject_kind = ?1 AND subject_id = ?2 AND revoked_at IS NULL",
        params![kind, id, timestamp(Utc::now())],
    )?)
}

fn live(c: &Connection, hash: &str, kind: SessionKind) -> StoreResult<Option<Session>> {
    Ok(c.prepare_cached(
        "SELECT family_id, subject_kind, subject_id, tenant_id, expires_at FROM refresh_tokens
         WHERE hash = ?1 AND kind = ?2 AND revoked_at IS NULL AND spent_at IS NULL
           AND expires_at > ?3",
    )?
    .query_row(
        params![hash, kind.as_str(), timestamp(Utc::now())],
        session_from_row,
    )
    .optional()?)
}

impl ControlStore {
    /// Starts a session (a new family) for `subject`, scoped to `tenant` or to the account.
    pub fn create_session(
        &self,
        token: &NewToken,
        kind: SessionKind,
        subject: Subject,
        tenant: Option<TenantId>,
    ) -> StoreResult<Session> {
        let family = Uuid::now_v7().to_string();
        self.db
            .write(|tx| insert(tx, token, &family, kind, subject, tenant))?;
        Ok(Session {
            family_id: family,
            subject,
            tenant_id: tenant,
            expires_at: token.expires_at,
        })
    }

    /// The live session behind a token, if any (cookie authentication).
    pub fn live_session(&self, hash: &str, kind: SessionKind) -> StoreResult<Option<Session>> {
        self.db.read(|c| live(c, hash, kind))
    }

    /// Spends bearer refresh token `old` and issues `new` in the same family. Presenting a spent
    /// token revokes the whole family (the legitimate holder's newer token included): one of the
    /// two holders is a thief, and we can't tell which.
    pub fn rotate_refresh(&self, old: &str, new: &NewToken) -> StoreResult<Rotation> {
        self.db.write(|tx| {
            let row: Option<(Option<String>, Option<String>, Session)> = tx
                .query_row(
                    "SELECT family_id, subject_kind, subject_id, tenant_id, expires_at,
                            spent_at, revoked_at
                     FROM refresh_tokens WHERE hash = ?1 AND kind = 'bearer'",
                    [old],
                    |r| Ok((r.get(5)?, r.get(6)?, session_from_row(r)?)),
                )
                .optional()?;
            let Some((spent, revoked, session)) = row else {
                return Ok(Rotation::Invalid);
            };
            let now = Utc::now();
            if revoked.is_some() || session.expires_at <= now {
                return Ok(Rotation::Invalid);
            }
            if spent.is_some() {
                tx.execute(
                    "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL",
                    params![session.family_id, timestamp(now)],
                )?;
                tracing::warn!(family = %session.family_id, "refresh token reuse: family revoked");
                return Ok(Rotation::ReuseDetected);
            }
            tx.execute(
                "UPDATE refresh_tokens SET spent_at = ?2 WHERE hash = ?1",
                params![old, timestamp(now)],
            )?;
            insert(
                tx,
                new,
                &session.family_id,
                SessionKind::Bearer,
                session.subject,
                session.tenant_id,
            )?;
            Ok(Rotation::Rotated(Session {
                expires_at: new.expires_at,
                ..session
            }))
        })
    }

    /// Logout: revokes the family of the presented token (bearer or cookie). Unknown tokens are
    /// ignored (logging out twice is fine).
    pub fn revoke_session(&self, hash: &str) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute(
                "UPDATE refresh_tokens SET revoked_at = ?2
                 WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE hash = ?1)
                   AND revoked_at IS NULL",
                params![hash, timestamp(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Stores a workspace handoff code (30 s, single use) for `user` into `tenant`.
    pub fn create_handoff(
        &self,
        user: UserId,
        tenant: TenantId,
        code: &NewToken,
    ) -> StoreResult<()> {
        self.db
            .write(|tx| insert_one_time(tx, "handoff", user, Some(tenant), code))
    }

    /// Redeems a handoff code on `tenant`'s host: the code must be live and minted for `tenant`.
    pub fn redeem_handoff(&self, code_hash: &str, tenant: TenantId) -> StoreResult<UserId> {
        self.db.write(|tx| {
            let (user, for_tenant) = spend_one_time(tx, "handoff", code_hash)?;
            if for_tenant != Some(tenant) {
                return Err(StoreError::Refused(Refusal::InvalidToken));
            }
            Ok(user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::token_hash;
    use crate::testing;

    fn tok(s: &str) -> NewToken {
        NewToken {
            hash: token_hash(s),
            expires_at: Utc::now() + chrono::Duration::days(1),
        }
    }

    #[test]
    fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let user = Subject::User(UserId::new());
        c.create_session(&tok("a"), SessionKind::Bearer, user, None)
            .unwrap();
        assert!(matches!(
            c.rotate_refresh(&token_hash("a"), &tok("b")).unwrap(),
            Rotation::Rotated(_)
        ));
        assert_eq!(
            c.rotate_refresh(&token_hash("a"), &tok("c")).unwrap(),
            Rotation::ReuseDetected
        );
        assert_eq!(
            c.rotate_refresh(&token_hash("b"), &tok("d")).unwrap(),
            Rotation::Invalid
        );
    }

    #[test]
    fn cookie_sessions_do_not_rotate_and_logout_ends_them() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let user = Subject::User(UserId::new());
        c.create_session(&tok("k"), SessionKind::Cookie, user, None)
            .unwrap();
        assert_eq!(
            c.rotate_refresh(&token_hash("k"), &tok("x")).unwrap(),
            Rotation::Invalid
        );
        assert!(
            c.live_session(&token_hash("k"), SessionKind::Cookie)
                .unwrap()
                .is_some()
        );
        c.revoke_session(&token_hash("k")).unwrap();
        assert!(
            c.live_session(&token_hash("k"), SessionKind::Cookie)
                .unwrap()
                .is_none()
        );
    }
}
