//! Identity: signup, verification, login (client and ops), refresh and logout, password
//! reset, workspace creation and switching, invitations, members and API keys — one function
//! per endpoint, so handlers stay parse → call → map — and the minting of bearer sessions
//! (access and refresh tokens, handoff codes) those flows end with.
//!
//! Password hashing runs on blocking threads together with the store calls it belongs to.
//! What stays in `crate::auth`: the session extractors, cookies and CSRF (HTTP), the JWT keys,
//! password hashing and the identity emails.
//!
//! Access: the team and API-key functions trust the caller's access level (handlers take them
//! with `TenantCtx<Admin>`); the finer rules (only an owner touches owners, a member may leave)
//! are checked here. Errors are [`IdentityError`], mapped to problem documents in `crate::error`.

use chrono::{DateTime, Utc};
use wrk_core::ids::{TenantId, UserId};
use wrk_core::roles::{ClientRole, OpsRole, Scope};
use wrk_core::slug::Slug;
use wrk_tenants::audit::RequestMeta;
use wrk_tenants::control::TenantRecord;
use wrk_tenants::identity::api_keys::{ApiKey, NewApiKey};
use wrk_tenants::identity::invitations::{Invitation, NewInvitation, invitation_ttl};
use wrk_tenants::identity::memberships::Workspace;
use wrk_tenants::identity::ops::OpsUser;
use wrk_tenants::identity::sessions::{Rotation, SessionKind, Subject};
use wrk_tenants::identity::users::{
    AuthKind, NewLocalUser, User, password_reset_ttl, verification_ttl,
};
use wrk_tenants::identity::{NewToken, nothing, token_hash};
use wrk_tenants::{Refusal, StoreError};

use crate::auth::keys::{ACCESS_TTL_SECS, Audience, Claims};
use crate::auth::session::{Principal, WorkspaceSession, handoff_ttl, refresh_ttl};
use crate::auth::{mail, password, secret};
use crate::blocking;
use crate::state::AppState;

/// Why an identity flow was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A field breaks its rule (the field's name, and the rule).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Unknown, wrong or expired credentials, all answered alike.
    #[error("authentication required")]
    Unauthenticated,
    /// A correct password for an address that is not verified yet.
    #[error("the email address is not verified yet")]
    EmailNotVerified,
    /// The caller may not do this; the reason is safe to show.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing is at capacity (429) or failed.
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    /// Signing a token failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
    #[error("blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl IdentityError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Store work on the blocking pool, in this service's error type.
async fn store<T, F>(app: &AppState, f: F) -> Result<T, IdentityError>
where
    F: FnOnce(&wrk_tenants::Storage) -> wrk_tenants::StoreResult<T> + Send + 'static,
    T: Send + 'static,
{
    blocking::store(&app.storage, f).await
}

/// Lower-cases and trims an email, and checks its shape: one `@`, a local part without spaces or
/// control characters, and a domain of two or more dot-separated labels of letters, digits and
/// hyphens (the OpenAPI documents publish the same rule as a pattern).
pub fn normalize_email(field: &str, raw: &str) -> Result<String, IdentityError> {
    let email = raw.trim().to_ascii_lowercase();
    let ok = email.len() <= 254
        && email.split('@').count() == 2
        && email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && d.split('.').count() >= 2
                && d.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(email)
    } else {
        Err(IdentityError::invalid(
            field,
            "is not a valid email address",
        ))
    }
}

/// A `name` field trimmed, 1 to `max` characters.
fn trimmed_name(raw: &str, max: usize) -> Result<String, IdentityError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max {
        return Err(IdentityError::invalid(
            "name",
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A fresh secret token and what is stored of it (its hash, and when it expires).
pub fn new_token(ttl: chrono::Duration) -> (String, NewToken) {
    let t = secret::token();
    let stored = NewToken {
        hash: token_hash(&t),
        expires_at: Utc::now() + ttl,
    };
    (t, stored)
}

// ----------------------------------------------------------------------------------------------
// Accounts

pub struct Signup {
    pub user: User,
    pub verification_required: bool,
}

/// Flow 1B: a local account. With verification on, the verification email is queued in the same
/// transaction and login waits for the link.
pub async fn signup(
    app: &AppState,
    email: &str,
    password: String,
    name: &str,
    meta: RequestMeta,
) -> Result<Signup, IdentityError> {
    signup_invited(app, email, password, name, None, meta).await
}

/// Flow 1B from an invitation link: with the invitation's token, the address it was sent to
/// needs no verification email (following the link proved it). Another address, or a token that
/// is no longer pending, is refused.
pub async fn signup_invited(
    app: &AppState,
    email: &str,
    password: String,
    name: &str,
    invitation_token: Option<&str>,
    meta: RequestMeta,
) -> Result<Signup, IdentityError> {
    let email = normalize_email("email", email)?;
    // Without an invitation, the deployment decides; with one, the link proved the address
    // unless the workspace asks its invitees to verify separately.
    let verify = match invitation_token.map(str::trim).filter(|t| !t.is_empty()) {
        None => app.config.email_verification,
        Some(token) => {
            let invited = invitation_preview(app, token).await?;
            if !invited.email.eq_ignore_ascii_case(&email) {
                return Err(IdentityError::invalid(
                    "email",
                    "must be the address the invitation was sent to",
                ));
            }
            let tenant = invited.tenant.id;
            store(app, move |s| s.control().invitees_must_verify(tenant)).await?
        }
    };
    let name = trimmed_name(name, 200)?;
    password::check_policy(&password).map_err(|m| IdentityError::invalid("password", m))?;
    let state = app.clone();
    let user = blocking::run(move || -> Result<_, IdentityError> {
        let hash = password::hash(&password)?;
        let (token, stored) = new_token(verification_ttl());
        let new = NewLocalUser {
            email: &email,
            name: &name,
            password_hash: &hash,
            verification: verify.then_some(stored),
        };
        let c = state.storage.control();
        let user = if verify {
            let msg = mail::verify_email(&state.config, &email, &name, &token);
            c.create_local_user(&new, &meta, mail::queue(msg))?
        } else {
            c.create_local_user(&new, &meta, nothing)?
        };
        Ok(user)
    })
    .await?;
    Ok(Signup {
        user,
        verification_required: verify,
    })
}

/// The pending invitation behind a link's token (refused when unknown, expired, revoked or used).
pub async fn invitation_preview(
    app: &AppState,
    token: &str,
) -> Result<wrk_tenants::directory::InvitationPreview, IdentityError> {
    let hash = token_hash(token.trim());
    store(app, move |s| s.control().pending_invitation(&hash)).await
}

/// Sends a fresh verification link to an unverified local account (the old link dies). Always
/// succeeds, whatever the email, so it reveals nothing about accounts.
pub async fn resend_verification(app: &AppState, email: &str) -> Result<(), IdentityError> {
    let email = email.trim().to_ascii_lowercase();
    let state = app.clone();
    blocking::run(move || -> Result<_, IdentityError> {
        let c = state.storage.control();
        let Some(user) = c.user_by_email(&email)? else {
            return Ok(());
        };
        if user.email_verified || user.auth_kind() != AuthKind::Local {
            return Ok(());
        }
        let (token, stored) = new_token(verification_ttl());
        let msg = mail::verify_email(&state.config, &user.email, &user.name, &token);
        c.reissue_verification(user.id, &stored, mail::queue(msg))?;
        Ok(())
    })
    .await
}

pub async fn verify_email(
    app: &AppState,
    token: &str,
    meta: RequestMeta,
) -> Result<User, IdentityError> {
    let hash = token_hash(token.trim());
    store(app, move |s| s.control().verify_email(&hash, &meta)).await
}

/// 401 while password logins for `lock_key` are locked out, after the same hashing time a
/// password check costs (a locked account answers no faster than a wrong password).
fn refuse_locked(
    c: &wrk_tenants::control::ControlStore,
    lock_key: &str,
    password: &str,
) -> Result<(), IdentityError> {
    if c.login_locked(lock_key)? {
        password::waste_time(password)?;
        return Err(IdentityError::Unauthenticated);
    }
    Ok(())
}

/// Whether `password` matches the stored hash; with no hash (unknown account, SSO-only user) it
/// spends the hashing time anyway and says no.
fn password_matches(password: &str, phc: Option<&str>) -> Result<bool, IdentityError> {
    Ok(match phc {
        Some(phc) => password::verify(password, phc)?,
        None => {
            password::waste_time(password)?;
            false
        }
    })
}

/// What a successful password login yields.
pub struct Login {
    pub user: User,
    pub tokens: Tokens,
    pub workspaces: Vec<Workspace>,
    /// The workspace the tokens are for (workspace-host login), with the user's role there.
    pub tenant: Option<(TenantRecord, ClientRole)>,
}

/// Checks email + password with the lockout; every refusal looks the same (401) except an
/// unverified email (403 `email_not_verified`, only after a correct password).
async fn check_password(
    app: &AppState,
    email: &str,
    password: String,
) -> Result<User, IdentityError> {
    let email = email.trim().to_ascii_lowercase();
    let state = app.clone();
    blocking::run(move || -> Result<_, IdentityError> {
        let c = state.storage.control();
        refuse_locked(c, &email, &password)?;
        let user = c.user_by_email(&email)?;
        let ok = password_matches(
            &password,
            user.as_ref().and_then(|u| u.password_hash.as_deref()),
        )?;
        match user {
            Some(user) if ok => {
                c.clear_login_failures(&email)?;
                // An account sent a verification link (the deployment's rule, or a workspace's
                // rule for its invitees) waits for it.
                if !user.email_verified
                    && (state.config.email_verification || c.verification_pending(user.id)?)
                {
                    return Err(IdentityError::EmailNotVerified);
                }
                Ok(user)
            }
            _ => {
                if c.record_login_failure(&email)? {
                    tracing::warn!("password logins locked for an email after repeated failures");
                }
                Err(IdentityError::Unauthenticated)
            }
        }
    })
    .await
}

/// Flow 3: password login. On the apex (`tenant = None`) an account token; on a workspace host a
/// workspace token, refused with 403 when the user is not a member there.
pub async fn login(
    app: &AppState,
    email: &str,
    password: String,
    tenant: Option<TenantRecord>,
) -> Result<Login, IdentityError> {
    let user = check_password(app, email, password).await?;
    let uid = user.id;
    let workspaces = store(app, move |s| s.control().workspaces_of(uid)).await?;
    let tenant = match tenant {
        None => None,
        Some(t) => {
            let role = workspaces
                .iter()
                .find(|w| w.tenant.id == t.id)
                .map(|w| w.role)
                .ok_or_else(|| {
                    IdentityError::Forbidden("you are not a member of this workspace".into())
                })?;
            let tid = t.id;
            store(app, move |s| s.control().set_last_tenant(uid, tid)).await?;
            Some((t, role))
        }
    };
    let tokens = match &tenant {
        None => issue_tokens(app, Subject::User(uid), None, vec![]).await?,
        Some((t, role)) => {
            issue_tokens(app, Subject::User(uid), Some(t.id), vec![role.to_string()]).await?
        }
    };
    Ok(Login {
        user,
        tokens,
        workspaces,
        tenant,
    })
}

/// Rotates a bearer refresh token. The token must belong to this host: an account token on the
/// apex, a workspace token on that workspace's host, an ops token on the ops host.
pub async fn refresh(
    app: &AppState,
    refresh_token: &str,
    host: crate::scope::Scope,
) -> Result<Tokens, IdentityError> {
    let (new, stored) = new_token(refresh_ttl());
    let old = token_hash(refresh_token.trim());
    let outcome = store(app, move |s| s.control().rotate_refresh(&old, &stored)).await?;
    let session = match outcome {
        Rotation::Rotated(s) => s,
        Rotation::ReuseDetected | Rotation::Invalid => return Err(IdentityError::Unauthenticated),
    };
    let host_ok = match (&host, session.subject, session.tenant_id) {
        (crate::scope::Scope::Apex, Subject::User(_), None) => true,
        (crate::scope::Scope::Tenant(t), Subject::User(_), Some(tid)) => t.id == tid,
        (crate::scope::Scope::Ops, Subject::Ops(_), None) => true,
        _ => false,
    };
    if !host_ok {
        store(app, move |s| s.control().revoke_session(&token_hash(&new))).await?;
        return Err(IdentityError::Unauthenticated);
    }
    let roles = match (session.subject, session.tenant_id) {
        (Subject::User(u), Some(t)) => {
            let role = store(app, move |s| s.control().role_of(t, u))
                .await?
                .ok_or(IdentityError::Unauthenticated)?;
            vec![role.to_string()]
        }
        (Subject::Ops(o), _) => {
            let user = store(app, move |s| s.control().ops_user_by_id(o))
                .await?
                .ok_or(IdentityError::Unauthenticated)?;
            vec![user.role.to_string()]
        }
        (Subject::User(_), None) => vec![],
    };
    Ok(Tokens {
        access_token: access_token(app, session.subject, session.tenant_id, roles)?,
        refresh_token: new,
        expires_in: ACCESS_TTL_SECS,
    })
}

/// Logout: revokes the family of the refresh token and of the session cookie, if given.
pub async fn logout(
    app: &AppState,
    refresh_token: Option<String>,
    cookie: Option<String>,
) -> Result<(), IdentityError> {
    store(app, move |s| {
        for t in refresh_token.iter().chain(cookie.iter()) {
            s.control().revoke_session(&token_hash(t.trim()))?;
        }
        Ok(())
    })
    .await
}

/// Flow 4: always succeeds (202) whatever the email. A local user gets a reset link (1 h); an
/// SSO-only user an email saying their password is managed by their IdP; an unknown email nothing.
pub async fn request_password_reset(
    app: &AppState,
    email: &str,
    meta: RequestMeta,
) -> Result<(), IdentityError> {
    let email = email.trim().to_ascii_lowercase();
    let state = app.clone();
    blocking::run(move || -> Result<_, IdentityError> {
        let c = state.storage.control();
        let Some(user) = c.user_by_email(&email)? else {
            return Ok(());
        };
        match user.auth_kind() {
            AuthKind::Local => {
                let (token, stored) = new_token(password_reset_ttl());
                let msg = mail::password_reset(&state.config, &user.email, &user.name, &token);
                c.request_password_reset(&user, Some(&stored), &meta, mail::queue(msg))?;
            }
            AuthKind::Sso => {
                let msg = mail::password_managed_by_idp(&state.config, &user.email, &user.name);
                c.request_password_reset(&user, None, &meta, mail::queue(msg))?;
            }
        }
        Ok(())
    })
    .await
}

/// Sets a new password from a reset link and revokes every session of the user.
pub async fn confirm_password_reset(
    app: &AppState,
    token: &str,
    new_password: String,
    meta: RequestMeta,
) -> Result<User, IdentityError> {
    password::check_policy(&new_password).map_err(|m| IdentityError::invalid("new_password", m))?;
    let hash_of_token = token_hash(token.trim());
    let state = app.clone();
    blocking::run(move || -> Result<_, IdentityError> {
        let phc = password::hash(&new_password)?;
        let user = state
            .storage
            .control()
            .confirm_password_reset(&hash_of_token, &phc, &meta)?;
        state.storage.control().clear_login_failures(&user.email)?;
        Ok(user)
    })
    .await
}

// ----------------------------------------------------------------------------------------------
// Workspaces

/// Flow 1 step 2: a new workspace owned by `user`.
pub async fn create_workspace(
    app: &AppState,
    user: &User,
    name: &str,
    subdomain: &str,
    meta: RequestMeta,
) -> Result<TenantRecord, IdentityError> {
    let name = trimmed_name(name, 200)?;
    let slug = Slug::parse(subdomain.trim())
        .map_err(|e| IdentityError::invalid("subdomain", e.to_string()))?;
    let owner = user.id;
    store(app, move |s| s.create_workspace(slug, &name, owner, &meta)).await
}

/// What switching into a workspace yields.
pub struct Switch {
    pub tenant: TenantRecord,
    pub role: ClientRole,
    pub tokens: Tokens,
    pub handoff_code: String,
}

/// Flow 6: tokens for the target workspace plus a one-time handoff code for the browser.
pub async fn switch(app: &AppState, user: &User, subdomain: &str) -> Result<Switch, IdentityError> {
    let slug = subdomain.trim().to_owned();
    let uid = user.id;
    let (tenant, role) = store(app, move |s| {
        let Some(t) = s.tenant_by_slug(&slug)? else {
            return Ok((None, None));
        };
        let role = s.control().role_of(t.id, uid)?;
        Ok((Some(t), role))
    })
    .await?;
    let (Some(tenant), Some(role)) = (tenant, role) else {
        // Same answer whether the workspace exists or not.
        return Err(IdentityError::Forbidden(
            "you are not a member of this workspace".into(),
        ));
    };
    let tid = tenant.id;
    store(app, move |s| s.control().set_last_tenant(uid, tid)).await?;
    let tokens = issue_tokens(app, Subject::User(uid), Some(tid), vec![role.to_string()]).await?;
    let handoff_code = handoff_code(app, uid, tid).await?;
    Ok(Switch {
        tenant,
        role,
        tokens,
        handoff_code,
    })
}

/// Redeems a handoff code on the workspace host; returns whom it signs in (the handler sets
/// that host's session cookies).
pub async fn redeem_handoff(
    app: &AppState,
    tenant: &TenantRecord,
    code: &str,
) -> Result<UserId, IdentityError> {
    let hash = token_hash(code.trim());
    let tid = tenant.id;
    store(app, move |s| {
        let user = s.control().redeem_handoff(&hash, tid)?;
        if s.control().role_of(tid, user)?.is_none() {
            return Err(StoreError::Refused(Refusal::InvalidToken));
        }
        Ok(user)
    })
    .await
}

// ----------------------------------------------------------------------------------------------
// Team

/// Flow 2: invites `email` into the session's workspace with `role`. Only owners may invite
/// owners.
pub async fn invite(
    app: &AppState,
    by: &WorkspaceSession,
    email: &str,
    role: ClientRole,
    meta: RequestMeta,
) -> Result<Invitation, IdentityError> {
    if role == ClientRole::Owner && by.role != ClientRole::Owner {
        return Err(IdentityError::Forbidden(
            "only an owner may invite an owner".into(),
        ));
    }
    let email = normalize_email("email", email)?;
    let (token, stored) = new_token(invitation_ttl());
    let inviter = inviter_name(by);
    let msg = mail::invitation(
        &app.config,
        &email,
        &token,
        &by.tenant.name,
        &inviter,
        role.as_str(),
    );
    let actor = by.audit_actor();
    let tenant = by.tenant.id;
    store(app, move |s| {
        s.control().create_invitation(
            &NewInvitation {
                tenant,
                email: &email,
                role,
                token: stored,
            },
            &actor,
            &meta,
            mail::queue(msg),
        )
    })
    .await
}

fn inviter_name(by: &WorkspaceSession) -> String {
    match &by.principal {
        Principal::User(u) => u.name.clone(),
        Principal::ApiKey(_) => String::new(),
    }
}

/// Issues a new link for an invitation; the old one stops working.
pub async fn resend_invitation(
    app: &AppState,
    by: &WorkspaceSession,
    id: uuid::Uuid,
    meta: RequestMeta,
) -> Result<Invitation, IdentityError> {
    let tenant = by.tenant.id;
    let current = store(app, move |s| s.control().invitation(tenant, id)).await?;
    let (token, stored) = new_token(invitation_ttl());
    let msg = mail::invitation(
        &app.config,
        &current.email,
        &token,
        &by.tenant.name,
        &inviter_name(by),
        current.role.as_str(),
    );
    let actor = by.audit_actor();
    store(app, move |s| {
        s.control()
            .resend_invitation(tenant, id, &stored, &actor, &meta, mail::queue(msg))
    })
    .await
}

/// Accepts an invitation for the signed-in user: a membership in that workspace.
pub async fn accept_invitation(
    app: &AppState,
    user: &User,
    token: &str,
    meta: RequestMeta,
) -> Result<(TenantRecord, ClientRole), IdentityError> {
    let hash = token_hash(token.trim());
    let (uid, verified) = (user.id, user.email_verified);
    let state = app.clone();
    blocking::run(move || -> Result<_, IdentityError> {
        let c = state.storage.control();
        // A workspace that asks its invitees to verify takes no unverified account.
        if !verified && c.invitees_must_verify(c.pending_invitation(&hash)?.tenant.id)? {
            return Err(IdentityError::EmailNotVerified);
        }
        Ok(c.accept_invitation(&hash, uid, &meta)?)
    })
    .await
}

// ----------------------------------------------------------------------------------------------
// API keys

/// A key just created: the secret is in `key`, and nowhere else, ever again.
pub struct CreatedKey {
    pub record: ApiKey,
    pub key: String,
}

pub async fn create_api_key(
    app: &AppState,
    by: &WorkspaceSession,
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
    meta: RequestMeta,
) -> Result<CreatedKey, IdentityError> {
    let name = trimmed_name(name, 100)?;
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(IdentityError::invalid(
            "scopes",
            "give at least one of read, write, admin",
        ));
    }
    if let Some(scopes_of_key) = &by.scopes
        && scopes
            .iter()
            .any(|s| !scopes_of_key.contains(s) && *s == Scope::Admin)
    {
        return Err(IdentityError::Forbidden(
            "a key cannot create a key with more power than itself".into(),
        ));
    }
    if expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(IdentityError::invalid(
            "expires_at",
            "must be in the future",
        ));
    }
    let (key, prefix) = secret::api_key();
    let hash = token_hash(&key);
    let created_by = by.user_id();
    let actor = by.audit_actor();
    let tenant = by.tenant.id;
    let record = store(app, move |s| {
        s.tenant(tenant)?.create_api_key(
            &NewApiKey {
                name: &name,
                prefix: &prefix,
                key_hash: &hash,
                scopes: &scopes,
                created_by,
                expires_at,
            },
            &actor,
            &meta,
        )
    })
    .await?;
    Ok(CreatedKey { record, key })
}

// ----------------------------------------------------------------------------------------------
// Ops

/// Ops login (ops host): same lockout and answers as client logins.
pub async fn ops_login(
    app: &AppState,
    email: &str,
    password: String,
) -> Result<(OpsUser, Tokens), IdentityError> {
    let email = email.trim().to_ascii_lowercase();
    // The lockout is keyed by email; prefix it so ops and client accounts never share a counter.
    let lock_key = format!("ops:{email}");
    let state = app.clone();
    let user = blocking::run(move || -> Result<_, IdentityError> {
        let c = state.storage.control();
        refuse_locked(c, &lock_key, &password)?;
        let user = c.ops_user_by_email(&email)?;
        let ok = password_matches(&password, user.as_ref().map(|u| u.password_hash.as_str()))?;
        match user {
            Some(u) if ok => {
                c.clear_login_failures(&lock_key)?;
                Ok(u)
            }
            _ => {
                c.record_login_failure(&lock_key)?;
                Err(IdentityError::Unauthenticated)
            }
        }
    })
    .await?;
    let tokens = issue_tokens(
        app,
        Subject::Ops(user.id),
        None,
        vec![user.role.to_string()],
    )
    .await?;
    Ok((user, tokens))
}

/// `wrk ops create-user`: returns the user and the password (generated when none was given).
pub fn create_ops_user(
    storage: &wrk_tenants::Storage,
    email: &str,
    role: OpsRole,
    password: Option<String>,
) -> anyhow::Result<(OpsUser, Option<String>)> {
    let email = normalize_email("email", email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (password, generated) = match password {
        Some(p) => {
            password::check_policy(&p).map_err(|m| anyhow::anyhow!("the password {m}"))?;
            (p, false)
        }
        None => (secret::token()[..24].to_owned(), true),
    };
    let phc = password::hash(&password)?;
    let user = storage.control().create_ops_user(&email, role, &phc)?;
    Ok((user, generated.then_some(password)))
}

// ----------------------------------------------------------------------------------------------
// Members

/// Changes a member's role (admin/owner only; only an owner may touch owners; the last owner
/// stays).
pub async fn change_member_role(
    app: &AppState,
    by: &WorkspaceSession,
    user: wrk_core::ids::UserId,
    role: ClientRole,
    meta: RequestMeta,
) -> Result<wrk_tenants::identity::memberships::Member, IdentityError> {
    let tenant = by.tenant.id;
    let current = store(app, move |s| s.control().role_of(tenant, user)).await?;
    let current = current.ok_or_else(|| IdentityError::NotFound("member"))?;
    if (current == ClientRole::Owner || role == ClientRole::Owner) && by.role != ClientRole::Owner {
        return Err(IdentityError::Forbidden(
            "only an owner may grant or change the owner role".into(),
        ));
    }
    let actor = by.audit_actor();
    store(app, move |s| {
        s.control()
            .set_member_role(tenant, user, role, &actor, &meta)?;
        s.control()
            .members(tenant)?
            .into_iter()
            .find(|m| m.user_id == user)
            .ok_or(StoreError::NotFound(wrk_tenants::Entity::Membership))
    })
    .await
}

/// Removes a member (admin/owner, or a member leaving); the last owner stays.
pub async fn remove_member(
    app: &AppState,
    by: &WorkspaceSession,
    user: wrk_core::ids::UserId,
    meta: RequestMeta,
) -> Result<(), IdentityError> {
    let leaving = matches!(&by.principal, Principal::User(u) if u.id == user);
    if !leaving && let Some(why) = by.refusal(wrk_core::roles::Access::Admin) {
        return Err(IdentityError::Forbidden(why));
    }
    let tenant = by.tenant.id;
    let current = store(app, move |s| s.control().role_of(tenant, user)).await?;
    let current = current.ok_or_else(|| IdentityError::NotFound("member"))?;
    if current == ClientRole::Owner && by.role != ClientRole::Owner {
        return Err(IdentityError::Forbidden(
            "only an owner may remove an owner".into(),
        ));
    }
    let actor = by.audit_actor();
    store(app, move |s| {
        s.control().remove_member(tenant, user, &actor, &meta)
    })
    .await
}

// ----------------------------------------------------------------------------------------------
// Minting bearer sessions

/// An access token and a rotating refresh token.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Signs an access token for `subject` (a workspace token when `tenant` is set).
pub fn access_token(
    app: &AppState,
    subject: Subject,
    tenant: Option<TenantId>,
    roles: Vec<String>,
) -> Result<String, IdentityError> {
    let now = Utc::now().timestamp();
    let (sub, aud) = match subject {
        Subject::User(u) => (
            u.to_string(),
            if tenant.is_some() {
                Audience::Workspace
            } else {
                Audience::Account
            },
        ),
        Subject::Ops(o) => (o.to_string(), Audience::Ops),
    };
    Ok(app.auth.keys.sign(&Claims {
        sub,
        tid: tenant.map(|t| t.to_string()),
        roles,
        aud,
        iat: now,
        exp: now + ACCESS_TTL_SECS,
    })?)
}

/// Starts a bearer session: a new refresh-token family and an access token.
pub async fn issue_tokens(
    app: &AppState,
    subject: Subject,
    tenant: Option<TenantId>,
    roles: Vec<String>,
) -> Result<Tokens, IdentityError> {
    let (refresh, stored) = new_token(refresh_ttl());
    store(app, move |s| {
        s.control()
            .create_session(&stored, SessionKind::Bearer, subject, tenant)
    })
    .await?;
    Ok(Tokens {
        access_token: access_token(app, subject, tenant, roles)?,
        refresh_token: refresh,
        expires_in: ACCESS_TTL_SECS,
    })
}

/// Mints a single-use 30-second handoff code for `user` into `tenant` and returns it.
pub async fn handoff_code(
    app: &AppState,
    user: UserId,
    tenant: TenantId,
) -> Result<String, IdentityError> {
    let (code, stored) = new_token(handoff_ttl());
    store(app, move |s| {
        s.control().create_handoff(user, tenant, &stored)
    })
    .await?;
    Ok(code)
}
