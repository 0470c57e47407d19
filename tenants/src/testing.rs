//! Set-up shared by this crate's unit tests (compiled for tests only): a fresh storage or tenant
//! store in a temp dir, the actors and request of a change, a workspace with its owner, and an
//! automation with a blueprint. Keep the returned `TempDir` alive as long as the store.

use std::sync::Arc;

use serde_json::Value;
use wrk_core::ids::{AutomationId, TenantId};
use wrk_core::machine::Actor;
use wrk_core::roles::{ClientRole, OpsRole};
use wrk_core::slug::Slug;

use crate::audit::{AuditActor, RequestMeta};
use crate::automations::versions::{Validation, Version, VersionRef};
use crate::automations::{Automation, NewAutomation};
use crate::control::TenantRecord;
use crate::error::StoreResult;
use crate::identity::nothing;
use crate::identity::users::{NewLocalUser, User};
use crate::storage::{Storage, StorageConfig};
use crate::tenant::TenantStore;

/// A fresh data directory with its storage.
pub fn storage() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(StorageConfig::new(dir.path())).unwrap();
    (dir, s)
}

/// A fresh tenant store (no control-plane row: the tenant store alone is under test).
pub fn store() -> (tempfile::TempDir, Arc<TenantStore>) {
    let (dir, storage) = storage();
    let store = storage.tenant(TenantId::new()).unwrap();
    (dir, store)
}

pub fn owner() -> Actor {
    Actor::Client {
        role: ClientRole::Owner,
    }
}

pub fn member() -> Actor {
    Actor::Client {
        role: ClientRole::Member,
    }
}

pub fn ops() -> Actor {
    Actor::Ops { role: OpsRole::Ops }
}

pub fn who() -> AuditActor {
    AuditActor::system()
}

pub fn req() -> RequestMeta {
    RequestMeta::default()
}

/// A verified local user `email` (no real password hash: nothing here logs in).
pub fn local_user(s: &Storage, email: &str) -> User {
    s.control()
        .create_local_user(
            &NewLocalUser {
                email,
                name: "x",
                password_hash: "h",
                verification: None,
            },
            &req(),
            nothing,
        )
        .unwrap()
}

/// The workspace `slug` (named `Acme`) and the local user `owner_email` who owns it.
pub fn workspace_with_owner(s: &Storage, slug: &str, owner_email: &str) -> (TenantRecord, User) {
    let owner = local_user(s, owner_email);
    let t = s
        .create_workspace(Slug::parse(slug).unwrap(), "Acme", owner.id, &req())
        .unwrap();
    (t, owner)
}

/// An automation `name` made by its owner, version 1 in intake.
pub fn automation(s: &TenantStore, name: &str) -> Automation {
    s.create_automation(
        &NewAutomation {
            name,
            description: "",
        },
        &owner(),
        &who(),
        &req(),
    )
    .unwrap()
    .0
}

/// Saves `blueprint` on the automation's newest version as its owner, over `revision`.
pub fn save_blueprint(
    s: &TenantStore,
    id: AutomationId,
    blueprint: &Value,
    revision: i64,
    validation: &Validation,
) -> StoreResult<Version> {
    s.update_blueprint(
        id,
        VersionRef::Latest,
        blueprint,
        revision,
        validation,
        &owner(),
        &who(),
        &req(),
    )
}

/// An automation `A` whose version 1 holds `blueprint` (saved by its owner at revision 0 with
/// `validation`), still in intake.
pub fn automation_with_blueprint(
    s: &TenantStore,
    blueprint: &Value,
    validation: &Validation,
) -> Automation {
    let a = automation(s, "A");
    save_blueprint(s, a.id, blueprint, 0, validation).unwrap();
    a
}

mod tests {
    use serde_json::json;
    use wrk_core::machine::VersionStatus;

    use super::*;

    #[test]
    fn an_automation_with_a_blueprint_holds_it_in_intake_at_revision_one() {
        let (_d, s) = store();
        let a = automation_with_blueprint(&s, &json!({"x": 1}), &Validation::default());
        let v = s.version(a.id, VersionRef::Latest).unwrap();
        assert_eq!(
            (v.number, v.status, v.revision, v.blueprint),
            (1, VersionStatus::IntakeInProgress, 1, json!({"x": 1}))
        );
    }

    #[test]
    fn a_workspace_with_an_owner_has_that_owner_as_its_only_member() {
        let (_d, s) = storage();
        let (t, owner) = workspace_with_owner(&s, "acme", "o@example.com");
        let members = s.control().members(t.id).unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(
            s.control().role_of(t.id, owner.id).unwrap(),
            Some(ClientRole::Owner)
        );
    }
}
