//! Ops users (WRK staff): created from the command line, never through the product's API.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wrk_core::ids::OpsUserId;
use wrk_core::roles::OpsRole;

use super::conv_err;
use crate::audit::{self, AuditActor, AuditEntry, RequestMeta, parse_timestamp, timestamp};
use crate::control::ControlStore;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpsUser {
    pub id: OpsUserId,
    pub email: String,
    pub role: OpsRole,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

const COLS: &str = "id, email, role, password_hash, created_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OpsUser> {
    Ok(OpsUser {
        id: OpsUserId::parse(&r.get::<_, String>(0)?).map_err(conv_err)?,
        email: r.get(1)?,
        role: OpsRole::parse(&r.get::<_, String>(2)?).map_err(conv_err)?,
        password_hash: r.get(3)?,
        created_at: parse_timestamp(&r.get::<_, String>(4)?)?,
    })
}

impl ControlStore {
    /// Creates an ops user; a taken email is a `Conflict`.
    pub fn create_ops_user(
        &self,
        email: &str,
        role: OpsRole,
        password_hash: &str,
    ) -> StoreResult<OpsUser> {
        let user = OpsUser {
            id: OpsUserId::new(),
            email: email.to_owned(),
            role,
            password_hash: password_hash.to_owned(),
            created_at: Utc::now(),
        };
        self.db.write(|tx| {
            tx.execute(
                &format!("INSERT INTO ops_users ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![
                    user.id.to_string(),
                    user.email,
                    role.as_str(),
                    user.password_hash,
                    timestamp(user.created_at)
                ],
            )
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict(format!("an ops user with email {email} already exists"))
                } else {
                    e.into()
                }
            })?;
            audit::record_audit(
                tx,
                &AuditEntry {
                    actor: &AuditActor::system(),
                    action: "ops_user.created",
                    entity_type: "ops_user",
                    entity_id: Some(user.id.to_string()),
                    before: None,
                    after: Some(super::json(&user)?),
                    request: &RequestMeta::default(),
                },
            )?;
            Ok(())
        })?;
        Ok(user)
    }

    pub fn ops_user_by_email(&self, email: &str) -> StoreResult<Option<OpsUser>> {
        self.db.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {COLS} FROM ops_users WHERE email = ?1"),
                [email],
                from_row,
            )
            .optional()?)
        })
    }

    pub fn ops_user_by_id(&self, id: OpsUserId) -> StoreResult<Option<OpsUser>> {
        self.db.read(|c| {
            Ok(
                c.prepare_cached(&format!("SELECT {COLS} FROM ops_users WHERE id = ?1"))?
                    .query_row([id.to_string()], from_row)
                    .optional()?,
            )
        })
    }
}
