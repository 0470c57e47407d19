//! Credentials (flows 25, 26): the secrets manager and the tenant store, in the right order.
//!
//! Providing a credential: the fields are checked by core, encrypted into the secrets manager
//! (a new blob, a new reference), and only then is the row written with that reference and the
//! masked hint. If the row cannot be written, the blob is deleted again; after a rotation or a
//! delete, the blob the row no longer names is deleted once the change committed. A crash in
//! between leaves at worst an unreferenced encrypted blob, never a row pointing at nothing it can
//! read. The versions a provided credential unblocks publish their status events here.
//!
//! [`credential_failed`] is flow 26 as the inbound platform webhook's fold calls it: see its
//! comment for the contract.

use std::collections::BTreeMap;
use std::sync::Arc;

use wrk_core::credentials::{CredentialFields, CredentialInputError, CredentialKind, SystemName};
use wrk_core::ids::{AutomationId, CredentialId, TenantId};
use wrk_tenants::audit::RequestMeta;
use wrk_tenants::automations::effects::AfterCommit;
use wrk_tenants::credentials::{Credential, CredentialFailure, FailureOutcome, NewCredential};
use wrk_tenants::outbox::enqueue_email;
use wrk_tenants::{Storage, StoreError};

use super::Caller;
use crate::config::Config;
use crate::secrets::{SecretError, SecretStore};
use crate::state::AppState;

/// Why a credential call failed; mapped to a problem document only in `error.rs`.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Input(#[from] CredentialInputError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

/// Flow 25: a new credential for a system with none (`409` if it has one).
pub async fn create(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    system: &str,
    kind: CredentialKind,
    fields: BTreeMap<String, String>,
) -> Result<Credential, CredentialError> {
    let system = SystemName::parse(system)?;
    let fields = CredentialFields::parse(kind, fields)?;
    let hint = fields.hint(kind);
    let (storage, secrets, c) = (app.storage.clone(), app.secrets.clone(), caller.clone());
    let provided = crate::blocking::run(move || {
        let reference = secrets.put(tenant, &fields.to_secret_bytes())?;
        let stored = storage.tenant(tenant).and_then(|t| {
            t.create_credential(
                &NewCredential {
                    system: &system,
                    kind,
                    hint: &hint,
                    secret_ref: &reference,
                },
                &c.audit,
                &c.request,
            )
        });
        if stored.is_err() {
            forget(secrets.as_ref(), tenant, &reference);
        }
        Ok::<_, CredentialError>(stored?)
    })
    .await?;
    Ok(provided.credential)
}

/// Flow 25, rotation: new fields for a credential (of its kind); it is `active` again and the
/// versions its failure blocked go back to where they were.
pub async fn rotate(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: CredentialId,
    fields: BTreeMap<String, String>,
) -> Result<Credential, CredentialError> {
    let (storage, secrets, c) = (app.storage.clone(), app.secrets.clone(), caller.clone());
    let provided = crate::blocking::run(move || {
        let t = storage.tenant(tenant)?;
        let kind = t.credential(id)?.kind;
        let fields = CredentialFields::parse(kind, fields)?;
        let reference = secrets.put(tenant, &fields.to_secret_bytes())?;
        let stored = t.rotate_credential(id, &fields.hint(kind), &reference, &c.audit, &c.request);
        match &stored {
            Ok(p) => {
                if let Some(old) = &p.replaced_ref {
                    forget(secrets.as_ref(), tenant, old);
                }
            }
            Err(_) => forget(secrets.as_ref(), tenant, &reference),
        }
        Ok::<_, CredentialError>(stored?)
    })
    .await?;
    Ok(provided.credential)
}

/// Deletes a credential: revoked in the database, its secret deleted from the secrets manager.
pub async fn delete(
    app: &AppState,
    tenant: TenantId,
    caller: &Caller,
    id: CredentialId,
) -> Result<(), CredentialError> {
    let (storage, secrets, c) = (app.storage.clone(), app.secrets.clone(), caller.clone());
    crate::blocking::run(move || {
        let before = storage
            .tenant(tenant)?
            .revoke_credential(id, &c.audit, &c.request)?;
        if let Some(r) = before.secret_ref {
            forget(secrets.as_ref(), tenant, &r);
        }
        Ok::<_, CredentialError>(())
    })
    .await
}

/// Deletes a blob nothing refers to any more; a failure only leaves an unreadable orphan.
fn forget(secrets: &dyn SecretStore, tenant: TenantId, reference: &str) {
    if let Err(e) = secrets.delete(tenant, reference) {
        tracing::warn!(error = %e, %tenant, "could not delete an unused secret");
    }
}

/// The data of a `credential.failed` platform event (API.md: `data:{automation_id,
/// credential_id?, error?}`).
#[derive(Debug, Clone)]
pub struct FailedEvent {
    pub automation_id: AutomationId,
    pub credential_id: Option<CredentialId>,
    pub error: Option<String>,
}

/// Flow 26, for the inbound webhook's fold (synchronous: call it on a blocking thread, as job
/// handlers do with `crate::blocking::run`).
///
/// Contract:
/// - Reads the workspace's members from `control.db`, then runs
///   [`wrk_tenants::credentials::record_failure`] in one tenant transaction: the credential is
///   marked `failed`, every version using it is blocked through the machine (history, audit,
///   `version_blocked` notifications), a client task is opened, and each member gets a
///   `credential_failed` notification.
/// - After that commit, one email per member goes to the outbox (a crash in between loses the
///   emails, never the block). The status events are in the live-event log, written by each
///   transition in its own transaction.
/// - Idempotent: a repeat of the same failure changes nothing, notifies and emails no one.
/// - An unknown automation or credential (or a revoked one) is `StoreError::NotFound`, with
///   nothing written: the fold should record the event as not applicable rather than retry.
pub fn credential_failed(
    storage: &Storage,
    config: &Config,
    tenant: TenantId,
    event: &FailedEvent,
    request: &RequestMeta,
) -> Result<FailureOutcome, CredentialError> {
    let members = storage.control().members(tenant)?;
    let people: Vec<_> = members.iter().map(|m| m.user_id).collect();
    let t = storage.tenant(tenant)?;
    let outcome = t.record_credential_failure(&CredentialFailure {
        automation_id: event.automation_id,
        credential_id: event.credential_id,
        error: event.error.as_deref(),
        recipients: &people,
        request,
    })?;
    if failure_needs_email(&outcome) {
        let people: Vec<(&str, &str)> = members
            .iter()
            .map(|m| (m.email.as_str(), m.name.as_str()))
            .collect();
        email_failure(
            storage,
            config,
            tenant,
            &people,
            outcome.credential.as_ref().map(|c| c.system.as_str()),
            outcome.blocked.len(),
            event.error.as_deref(),
        )?;
    }
    Ok(outcome)
}

/// Whether a recorded failure is news for people: it blocked a version that emails its client,
/// or it changed the credential. A repeat of a known failure is not.
pub fn failure_needs_email(outcome: &FailureOutcome) -> bool {
    outcome
        .blocked
        .iter()
        .any(|a| a.after_commit.contains(&AfterCommit::EmailClient))
        || outcome.newly_failed
}

/// The email of flow 26 to each of `people` (address, name), queued in the outbox after the
/// failure's own commit: which credentials stopped working, how many versions that blocked, and
/// the platform's words.
pub fn email_failure(
    storage: &Storage,
    config: &Config,
    tenant: TenantId,
    people: &[(&str, &str)],
    system: Option<&str>,
    blocked: usize,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let system = system.unwrap_or("one of your systems");
    let slug = storage
        .control()
        .tenant_by_id(tenant)?
        .map(|r| r.subdomain.as_str().to_owned())
        .unwrap_or_default();
    let link = crate::auth::session::workspace_url(config, &slug, "/app/credentials");
    let intro =
        format!("The WRK Platform reported that the credentials for {system} no longer work.");
    let blocked = match blocked {
        0 => "No automation had to be stopped.".to_owned(),
        1 => "One automation version is blocked until they are provided again.".to_owned(),
        n => format!("{n} automation versions are blocked until they are provided again."),
    };
    let said = error.map(|e| format!("It said: {}", e.chars().take(300).collect::<String>()));
    let mut lines = vec![intro.as_str(), blocked.as_str()];
    if let Some(s) = &said {
        lines.push(s);
    }
    storage.control().db().write(|tx| {
        for (email, name) in people {
            let mail = crate::email::outgoing(
                email,
                "credential_failed",
                crate::email::notification(
                    &format!("The credentials for {system} stopped working"),
                    &lines,
                    Some(("Provide them again", &link)),
                    name,
                ),
            );
            enqueue_email(tx, &mail)?;
        }
        Ok(())
    })
}

/// [`credential_failed`] from async code (the ops or test paths), on the blocking pool.
pub async fn credential_failed_async(
    storage: Arc<Storage>,
    config: Arc<Config>,
    tenant: TenantId,
    event: FailedEvent,
    request: RequestMeta,
) -> Result<FailureOutcome, CredentialError> {
    crate::blocking::run(move || credential_failed(&storage, &config, tenant, &event, &request))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wrk_core::machine::{Actor, VersionStatus};
    use wrk_core::roles::ClientRole;
    use wrk_core::slug::Slug;
    use wrk_tenants::audit::AuditActor;
    use wrk_tenants::automations::NewAutomation;
    use wrk_tenants::automations::versions::{Validation, VersionRef};
    use wrk_tenants::identity::nothing;
    use wrk_tenants::identity::users::NewLocalUser;
    use wrk_tenants::outbox::EmailFilter;

    /// Flow 26 through the service the inbound webhook's fold calls: the live version is
    /// blocked, the owner notified in app and by email, once however often the event comes;
    /// rotating the credential returns the version to live.
    #[test]
    fn a_credential_failure_blocks_the_live_version_notifies_and_emails_the_members_once() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(wrk_tenants::StorageConfig::new(dir.path())).expect("storage");
        let config = Config::load(&crate::config::Settings::default(), None, &[]).unwrap();
        let request = RequestMeta::default();
        let user = storage
            .control()
            .create_local_user(
                &NewLocalUser {
                    email: "owner@acme.example",
                    name: "Owner",
                    password_hash: "h",
                    verification: None,
                },
                &request,
                nothing,
            )
            .unwrap();
        let tenant = storage
            .create_workspace(Slug::parse("acme").unwrap(), "Acme", user.id, &request)
            .unwrap()
            .id;
        let t = storage.tenant(tenant).unwrap();
        let owner = Actor::Client {
            role: ClientRole::Owner,
        };
        let system = AuditActor::system();
        let (automation, _) = t
            .create_automation(
                &NewAutomation {
                    name: "Invoices",
                    description: "",
                },
                &owner,
                &system,
                &request,
            )
            .unwrap();
        t.update_blueprint(
            automation.id,
            VersionRef::Latest,
            &json!({"systems": [{"name": "Gmail"}]}),
            0,
            &Validation::default(),
            &owner,
            &system,
            &request,
        )
        .unwrap();
        t.db()
            .write(|tx| {
                tx.execute("UPDATE versions SET status = 'live'", [])?;
                Ok(())
            })
            .unwrap();
        let gmail = SystemName::parse("Gmail").unwrap();
        let cred = t
            .create_credential(
                &NewCredential {
                    system: &gmail,
                    kind: CredentialKind::ApiKey,
                    hint: "••••",
                    secret_ref: "r",
                },
                &system,
                &request,
            )
            .unwrap()
            .credential;
        let event = FailedEvent {
            automation_id: automation.id,
            credential_id: Some(cred.id),
            error: Some("invalid_grant".into()),
        };
        let out = credential_failed(&storage, &config, tenant, &event, &request).unwrap();
        assert_eq!(out.blocked.len(), 1);
        assert_eq!(out.notified, 1);
        let v = t.version(automation.id, VersionRef::Latest).unwrap();
        assert_eq!(
            (v.status, v.blocked_from),
            (VersionStatus::Blocked, Some(VersionStatus::Live))
        );
        let mails = || {
            storage
                .control()
                .list_emails(&EmailFilter {
                    to: Some("owner@acme.example".into()),
                    ..Default::default()
                })
                .unwrap()
        };
        let sent = mails();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].kind, "credential_failed");
        assert!(sent[0].text.contains("invalid_grant"), "{}", sent[0].text);

        // The same event again: nothing new, no second email.
        let again = credential_failed(&storage, &config, tenant, &event, &request).unwrap();
        assert!(again.blocked.is_empty() && !again.newly_failed && again.notified == 0);
        assert_eq!(mails().len(), 1);

        t.rotate_credential(cred.id, "••••", "r2", &system, &request)
            .unwrap();
        assert_eq!(
            t.version(automation.id, VersionRef::Latest).unwrap().status,
            VersionStatus::Live
        );
    }
}
