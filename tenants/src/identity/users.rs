//! Client users: local signup (Argon2id hash computed by the host), SSO find-or-create, email
//! verification, password reset, and the "last workspace used" that decides where a login lands.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use wrk_core::ids::{TenantId, UserId};

use super::{Also, NewToken, conv_err};
use crate::audit::{
    self, ActorKind, AuditActor, AuditEntry, RequestMeta, parse_timestamp, timestamp,
};
use crate::control::ControlStore;
use crate::error::{Entity, Refusal, StoreError, StoreResult};

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// Email + password (may also have SSO identities linked).
    Local,
    /// Only through an identity provider: no password, no WRK-side reset.
    Sso,
}

/// A client user. `password_hash` is the Argon2id PHC string (never serialized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub last_tenant_id: Option<TenantId>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn auth_kind(&self) -> AuthKind {
        if self.password_hash.is_some() {
            AuthKind::Local
        } else {
            AuthKind::Sso
        }
    }

    /// The audit actor for changes this user makes.
    pub fn actor(&self) -> AuditActor {
        AuditActor {
            kind: ActorKind::User,
            id: Some(self.id.to_string()),
        }
    }

    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({"id": self.id, "email": self.email, "name": self.name,
            "email_verified": self.email_verified, "auth": self.auth_kind()})
    }
}

const USER_COLS: &str =
    "id, email, name, password_hash, email_verified_at, last_tenant_id, created_at";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
        email: r.get(1)?,
        name: r.get(2)?,
        password_hash: r.get(3)?,
        email_verified: r.get::<_, Option<String>>(4)?.is_some(),
        last_tenant_id: r
            .get::<_, Option<String>>(5)?
            .map(|s| TenantId::parse(&s))
            .transpose()
            .map_err(conv_err)?,
        created_at: parse_timestamp(&r.get::<_, String>(6)?)?,
    })
}

pub(crate) fn user_by_id(c: &Connection, id: UserId) -> StoreResult<Option<User>> {
    Ok(
        c.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"))?
            .query_row([id.to_string()], user_from_row)
            .optional()?,
    )
}

pub(crate) fn user_by_email(c: &Connection, email: &str) -> StoreResult<Option<User>> {
    Ok(
        c.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE email = ?1"))?
            .query_row([email], user_from_row)
            .optional()?,
    )
}

/// What a new local account is made of. The email is compared case-insensitively.
#[derive(Debug, Clone)]
pub struct NewLocalUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Verification link to store; `None` when verification is off (the user is verified at once).
    pub verification: Option<NewToken>,
}

/// Outcome of [`ControlStore::find_or_create_sso_user`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoOutcome {
    /// The `(issuer, subject)` was known.
    Existing,
    /// A user with the same (now IdP-verified) email existed; the identity was linked to it.
    Linked,
    /// A new user was created.
    Created,
}

pub(crate) fn insert_one_time(
    tx: &Transaction<'_>,
    purpose: &str,
    user: UserId,
    tenant: Option<TenantId>,
    token: &NewToken,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO one_time_tokens (hash, purpose, user_id, tenant_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            token.hash,
            purpose,
            user.to_string(),
            tenant.map(|t| t.to_string()),
            timestamp(Utc::now()),
            timestamp(token.expires_at)
        ],
    )?;
    Ok(())
}

/// Spends a one-time token of `purpose`: returns its user (and tenant) if it exists, is unused and
/// unexpired; marks it used. Anything else is `Refused(InvalidToken)`.
pub(crate) fn spend_one_time(
    tx: &Transaction<'_>,
    purpose: &str,
    hash: &str,
) -> StoreResult<(UserId, Option<TenantId>)> {
    let now = timestamp(Utc::now());
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "UPDATE one_time_tokens SET used_at = ?3
             WHERE hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3
             RETURNING user_id, tenant_id",
            params![hash, purpose, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (user, tenant) = row.ok_or(StoreError::Refused(Refusal::InvalidToken))?;
    Ok((
        UserId::parse(&user).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        tenant
            .map(|t| TenantId::parse(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    ))
}

fn audit_user(
    tx: &Transaction<'_>,
    actor: &AuditActor,
    action: &str,
    user: &User,
    before: Option<serde_json::Value>,
    request: &RequestMeta,
) -> StoreResult<()> {
    audit::record_audit(
        tx,
        &AuditEntry {
            actor,
            action,
            entity_type: "user",
            entity_id: Some(user.id.to_string()),
            before,
            after: Some(user.audit_view()),
            request,
        },
    )?;
    Ok(())
}

impl ControlStore {
    pub fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        self.db.read(|c| user_by_id(c, id))
    }

    pub fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.db.read(|c| user_by_email(c, email))
    }

    /// Creates a local (email + password) user, its verification token if any, the audit row, and
    /// runs `also` (e.g. enqueue the verification email) — all in one transaction. A taken email
    /// is a `Conflict`.
    pub fn create_local_user(
        &self,
        new: &NewLocalUser<'_>,
        request: &RequestMeta,
        also: impl Also,
    ) -> StoreResult<User> {
        let now = Utc::now();
        let user = User {
            id: UserId::new(),
            email: new.email.to_owned(),
            name: new.name.to_owned(),
            password_hash: Some(new.password_hash.to_owned()),
            email_verified: new.verification.is_none(),
            last_tenant_id: None,
            created_at: now,
        };
        self.db.write(|tx| {
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    user.id.to_string(),
                    user.email,
                    user.name,
                    user.password_hash,
                    user.email_verified.then(|| timestamp(now)),
                    timestamp(now)
                ],
            )
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict("an account with this email already exists".into())
                } else {
                    e.into()
                }
            })?;
            if let Some(token) = &new.verification {
                insert_one_time(tx, "verify_email", user.id, None, token)?;
            }
            audit_user(tx, &user.actor(), "user.signed_up", &user, None, request)?;
            also(tx)?;
            Ok(())
        })?;
        Ok(user)
    }

    /// Replaces a user's pending verification link (e.g. "send it again") and runs `also`.
    pub fn reissue_verification(
        &self,
        user: UserId,
        token: &NewToken,
        also: impl Also,
    ) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute(
                "DELETE FROM one_time_tokens WHERE user_id = ?1 AND purpose = 'verify_email'",
                [user.to_string()],
            )?;
            insert_one_time(tx, "verify_email", user, None, token)?;
            also(tx)
        })
    }

    /// Spends a verification token and marks its user's email verified.
    pub fn verify_email(&self, token_hash: &str, request: &RequestMeta) -> StoreResult<User> {
        self.db.write(|tx| {
            let (id, _) = spend_one_time(tx, "verify_email", token_hash)?;
            let now = timestamp(Utc::now());
            tx.execute(
                "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?2), updated_at = ?2
                 WHERE id = ?1",
                params![id.to_string(), now],
            )?;
            let user = user_by_id(tx, id)?.ok_or(StoreError::NotFound(Entity::User))?;
            audit_user(tx, &user.actor(), "user.email_verified", &user, None, request)?;
            Ok(user)
        })
    }

    /// Finds the user of an OpenID Connect identity `(issuer, subject)`, or creates one with the
    /// IdP's email (marked verified, no password). When a user with that email already exists the
    /// identity is linked to it: the IdP has verified the address, so it is the same person.
    /// The caller must have refused `email_verified = false` already.
    pub fn find_or_create_sso_user(
        &self,
        issuer: &str,
        subject: &str,
        email: &str,
        name: &str,
        request: &RequestMeta,
    ) -> StoreResult<(User, SsoOutcome)> {
        self.db.write(|tx| {
            let known: Option<String> = tx
                .query_row(
                    "SELECT user_id FROM identities WHERE issuer = ?1 AND subject = ?2",
                    params![issuer, subject],
                    |r| r.get(0),
                )
                .optional()?;
            let now = Utc::now();
            if let Some(id) = known {
                let id = UserId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let user = user_by_id(tx, id)?.ok_or(StoreError::NotFound(Entity::User))?;
                return Ok((user, SsoOutcome::Existing));
            }
            let (user, outcome) = match user_by_email(tx, email)? {
                Some(existing) => {
                    tx.execute(
                        "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?2),
                                          updated_at = ?2 WHERE id = ?1",
                        params![existing.id.to_string(), timestamp(now)],
                    )?;
                    let user =
                        user_by_id(tx, existing.id)?.ok_or(StoreError::NotFound(Entity::User))?;
                    (user, SsoOutcome::Linked)
                }
                None => {
                    let user = User {
                        id: UserId::new(),
                        email: email.to_owned(),
                        name: if name.trim().is_empty() { email.to_owned() } else { name.to_owned() },
                        password_hash: None,
                        email_verified: true,
                        last_tenant_id: None,
                        created_at: now,
                    };
                    tx.execute(
                        "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at)
                         VALUES (?1, ?2, ?3, NULL, ?4, ?4, ?4)",
                        params![user.id.to_string(), user.email, user.name, timestamp(now)],
                    )?;
                    audit_user(tx, &user.actor(), "user.signed_up", &user, None, request)?;
                    (user, SsoOutcome::Created)
                }
            };
            tx.execute(
                "INSERT INTO identities (issuer, subject, user_id, email, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![issuer, subject, user.id.to_string(), email, timestamp(now)],
            )?;
            audit::record_audit(
                tx,
                &AuditEntry {
                    actor: &user.actor(),
                    action: "identity.linked",
                    entity_type: "user",
                    entity_id: Some(user.id.to_string()),
                    before: None,
                    after: Some(serde_json::json!({"issuer": issuer, "subject": subject})),
                    request,
                },
            )?;
            Ok((user, outcome))
        })
    }

    /// Records a password-reset request for `user`: stores the reset link (local users; `None`
    /// for SSO users, who get an "managed by your identity provider" email instead), drops older
    /// reset links, writes the audit row and runs `also` (the email), in one transaction.
    pub fn request_password_reset(
        &self,
        user: &User,
        token: Option<&NewToken>,
        request: &RequestMeta,
        also: impl Also,
    ) -> StoreResult<()> {
        self.db.write(|tx| {
            if let Some(token) = token {
                tx.execute(
                    "DELETE FROM one_time_tokens WHERE user_id = ?1 AND purpose = 'password_reset'",
                    [user.id.to_string()],
                )?;
                insert_one_time(tx, "password_reset", user.id, None, token)?;
            }
            audit::record_audit(
                tx,
                &AuditEntry {
                    actor: &user.actor(),
                    action: "user.password_reset_requested",
                    entity_type: "user",
                    entity_id: Some(user.id.to_string()),
                    before: None,
                    after: None,
                    request,
                },
            )?;
            also(tx)
        })
    }

    /// Spends a reset link, sets the new password hash, marks the email verified (the link
    /// proved it), and revokes every session of the user, in one transaction.
    pub fn confirm_password_reset(
        &self,
        token_hash: &str,
        new_password_hash: &str,
        request: &RequestMeta,
    ) -> StoreResult<User> {
        self.db.write(|tx| {
            let (id, _) = spend_one_time(tx, "password_reset", token_hash)?;
            let now = timestamp(Utc::now());
            let changed = tx.execute(
                "UPDATE users SET password_hash = ?2, updated_at = ?3,
                        email_verified_at = coalesce(email_verified_at, ?3)
                 WHERE id = ?1 AND password_hash IS NOT NULL",
                params![id.to_string(), new_password_hash, now],
            )?;
            if changed == 0 {
                return Err(StoreError::Refused(Refusal::InvalidToken));
            }
            super::sessions::revoke_subject(tx, "user", &id.to_string())?;
            let user = user_by_id(tx, id)?.ok_or(StoreError::NotFound(Entity::User))?;
            audit_user(
                tx,
                &user.actor(),
                "user.password_reset",
                &user,
                None,
                request,
            )?;
            Ok(user)
        })
    }

    /// Remembers the workspace a user used last (where the next login lands).
    pub fn set_last_tenant(&self, user: UserId, tenant: TenantId) -> StoreResult<()> {
        self.db.write(|tx| {
            tx.execute(
                "UPDATE users SET last_tenant_id = ?2 WHERE id = ?1",
                params![user.to_string(), tenant.to_string()],
            )?;
            Ok(())
        })
    }
}

/// How long links live (PRODUCT.md flows 1B, 4).
pub fn verification_ttl() -> Duration {
    Duration::hours(24)
}

pub fn password_reset_ttl() -> Duration {
    Duration::hours(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{nothing, token_hash};
    use crate::testing;

    fn new_user<'a>(email: &'a str, verification: Option<NewToken>) -> NewLocalUser<'a> {
        NewLocalUser {
            email,
            name: "Ada",
            password_hash: "$argon2id$fake",
            verification,
        }
    }

    #[test]
    fn a_taken_email_is_a_conflict_whatever_its_case() {
        let (_d, s) = testing::storage();
        let c = s.control();
        c.create_local_user(
            &new_user("ada@example.com", None),
            &RequestMeta::default(),
            nothing,
        )
        .unwrap();
        let err = c
            .create_local_user(
                &new_user("ADA@example.com", None),
                &RequestMeta::default(),
                nothing,
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
    }

    #[test]
    fn a_verification_token_works_once() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let token = NewToken {
            hash: token_hash("t1"),
            expires_at: Utc::now() + verification_ttl(),
        };
        let u = c
            .create_local_user(
                &new_user("a@example.com", Some(token)),
                &RequestMeta::default(),
                nothing,
            )
            .unwrap();
        assert!(!u.email_verified);
        let v = c
            .verify_email(&token_hash("t1"), &RequestMeta::default())
            .unwrap();
        assert!(v.email_verified);
        assert!(matches!(
            c.verify_email(&token_hash("t1"), &RequestMeta::default()),
            Err(StoreError::Refused(Refusal::InvalidToken))
        ));
    }

    #[test]
    fn an_expired_reset_link_is_refused() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let u = c
            .create_local_user(
                &new_user("a@example.com", None),
                &RequestMeta::default(),
                nothing,
            )
            .unwrap();
        let old = NewToken {
            hash: token_hash("r"),
            expires_at: Utc::now() - Duration::seconds(1),
        };
        c.request_password_reset(&u, Some(&old), &RequestMeta::default(), nothing)
            .unwrap();
        assert!(matches!(
            c.confirm_password_reset(&token_hash("r"), "$new", &RequestMeta::default()),
            Err(StoreError::Refused(Refusal::InvalidToken))
        ));
    }

    #[test]
    fn sso_identities_find_the_same_user_and_link_by_email() {
        let (_d, s) = testing::storage();
        let c = s.control();
        let local = c
            .create_local_user(
                &new_user("a@example.com", None),
                &RequestMeta::default(),
                nothing,
            )
            .unwrap();
        let (u, o) = c
            .find_or_create_sso_user(
                "https://idp",
                "sub1",
                "a@example.com",
                "A",
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!((u.id, o), (local.id, SsoOutcome::Linked));
        let (u2, o2) = c
            .find_or_create_sso_user(
                "https://idp",
                "sub1",
                "a@example.com",
                "A",
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!((u2.id, o2), (local.id, SsoOutcome::Existing));
        let (n, o3) = c
            .find_or_create_sso_user(
                "https://idp",
                "sub2",
                "b@example.com",
                "B",
                &RequestMeta::default(),
            )
            .unwrap();
        assert_eq!(o3, SsoOutcome::Created);
        assert_eq!(n.auth_kind(), AuthKind::Sso);
        assert!(n.email_verified);
    }
}
