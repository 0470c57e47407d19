//! The storage layer against real SQLite files in a temp dir.

use std::time::Duration;

use wrk_core::slug::Slug;
use wrk_tenants::audit::{self, AuditActor, AuditFilter, RequestMeta};
use wrk_tenants::{Storage, StoreError};

mod support;
use support::{storage, tenant};

#[test]
fn creating_a_workspace_makes_its_file_its_row_and_one_audit_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let t = tenant(&s, "acme", "Acme");
    assert!(
        dir.path()
            .join("tenants")
            .join(format!("{}.db", t.id))
            .is_file()
    );
    assert_eq!(s.tenant_by_slug("acme").unwrap().unwrap().id, t.id);
    assert_eq!(
        s.control().tenant_by_id(t.id).unwrap().unwrap().name,
        "Acme"
    );
    let n = s
        .control()
        .db()
        .read(|c| audit::count_audit(c, "tenant", &t.id.to_string()))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_taken_slug_is_a_conflict_and_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let meta = RequestMeta::default();
    tenant(&s, "acme", "Acme");
    let err = s
        .create_tenant(
            Slug::parse("acme").unwrap(),
            "Other",
            &AuditActor::system(),
            &meta,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(s.control().count_tenants().unwrap(), 1);
    let audits = s
        .control()
        .db()
        .read(|c| {
            audit::list_audit(
                c,
                &AuditFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(
        audits.len(),
        1,
        "the failed create must not leave an audit row"
    );
}

#[test]
fn an_audit_row_rolls_back_with_its_change() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let t = tenant(&s, "acme", "Acme");
    let store = s.tenant(t.id).unwrap();
    let result: Result<(), StoreError> = store.db().write(|tx| {
        audit::record_audit(
            tx,
            &audit::AuditEntry {
                actor: &AuditActor::system(),
                action: "thing.changed",
                entity_type: "thing",
                entity_id: Some("1".into()),
                before: None,
                after: None,
                request: &RequestMeta::default(),
            },
        )?;
        Err(StoreError::Conflict("the change failed".into()))
    });
    assert!(result.is_err());
    let n = store
        .db()
        .read(|c| audit::count_audit(c, "thing", "1"))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn tenants_open_lazily_and_the_lru_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 3);
    let ids: Vec<_> = (0..6)
        .map(|i| tenant(&s, &format!("t{i:03}"), "T").id)
        .collect();
    assert!(s.open_tenants() <= 3);
    for id in &ids {
        assert_eq!(s.tenant(*id).unwrap().id(), *id);
        assert!(s.open_tenants() <= 3);
    }
    assert_eq!(s.close_idle(Duration::ZERO), 3);
    assert_eq!(s.open_tenants(), 0);
}

#[test]
fn a_tenant_file_cannot_be_opened_as_another_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let a = tenant(&s, "aaa", "A");
    let b = tenant(&s, "bbb", "B");
    s.close_idle(Duration::ZERO);
    let tenants = dir.path().join("tenants");
    std::fs::copy(
        tenants.join(format!("{}.db", a.id)),
        tenants.join(format!("{}.db", b.id)),
    )
    .unwrap();
    let _ = std::fs::remove_file(tenants.join(format!("{}.db-wal", b.id)));
    let _ = std::fs::remove_file(tenants.join(format!("{}.db-shm", b.id)));
    let err = s.tenant(b.id).unwrap_err();
    assert!(matches!(err, StoreError::WrongTenant { .. }), "{err}");
}

#[test]
fn backup_and_restore_round_trip_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    for name in ["one", "two"] {
        tenant(&s, name, name);
    }
    let out = tempfile::tempdir().unwrap();
    let backup_dir = out.path().join("b");
    assert_eq!(s.backup(&backup_dir).unwrap(), 3);
    let restored = tempfile::tempdir().unwrap();
    assert_eq!(
        wrk_tenants::storage::restore(&backup_dir, restored.path()).unwrap(),
        3
    );
    let r = storage(&restored, 10);
    let two = r.tenant_by_slug("two").unwrap().unwrap();
    assert_eq!(r.tenant(two.id).unwrap().id(), two.id);
    assert!(
        wrk_tenants::storage::restore(&backup_dir, restored.path()).is_err(),
        "restoring over live data is refused"
    );
}

#[test]
fn migrate_all_reports_each_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    for name in ["one", "two"] {
        tenant(&s, name, name);
    }
    let reports = s.migrate_all().unwrap();
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| matches!(r.outcome, Ok(0))));
}

/// Inserts a workspace row behind the store's back (as another process would), to tell an answer
/// from memory from one read in `control.db`.
fn raw_tenant_row(s: &Storage, subdomain: &str) {
    s.control()
        .db()
        .write(|tx| {
            tx.execute(
                "INSERT INTO tenants (id, subdomain, name, created_at)
                 VALUES (?1, ?2, 'Raw', '2026-01-01T00:00:00Z')",
                [
                    wrk_core::ids::TenantId::new().to_string(),
                    subdomain.to_owned(),
                ],
            )?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_slug_missed_before_its_workspace_exists_resolves_as_soon_as_it_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    assert!(s.tenant_by_slug("acme").unwrap().is_none());
    assert!(
        s.tenant_by_slug("acme").unwrap().is_none(),
        "the miss, from memory"
    );
    let t = tenant(&s, "acme", "Acme");
    assert_eq!(s.tenant_by_slug("acme").unwrap().unwrap().id, t.id);
    assert_eq!(
        s.cached_slug("acme").unwrap().id,
        t.id,
        "in memory from creation on"
    );
}

#[test]
fn a_renamed_workspace_resolves_to_its_new_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let t = tenant(&s, "acme", "Acme");
    assert_eq!(s.tenant_by_slug("acme").unwrap().unwrap().name, "Acme");
    s.rename_tenant(
        t.id,
        "Acme Ltd",
        &AuditActor::system(),
        &RequestMeta::default(),
    )
    .unwrap();
    assert_eq!(s.tenant_by_slug("acme").unwrap().unwrap().name, "Acme Ltd");
    assert_eq!(s.cached_slug("acme").unwrap().name, "Acme Ltd");
}

#[test]
fn slug_lookups_are_answered_from_memory_and_remembered_misses_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    tenant(&s, "acme", "Acme");
    assert!(s.tenant_by_slug("ghost").unwrap().is_none());
    raw_tenant_row(&s, "ghost");
    // No control.db query for either: the hit and the miss both come from memory.
    s.control()
        .db()
        .write(|tx| {
            tx.execute("UPDATE tenants SET name = 'Changed behind its back'", [])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(s.tenant_by_slug("acme").unwrap().unwrap().name, "Acme");
    assert!(s.tenant_by_slug("ghost").unwrap().is_none());
    // Thousands of made-up hosts push the oldest miss out; it is read again, and found.
    for i in 0..5000 {
        assert!(s.tenant_by_slug(&format!("nobody{i}")).unwrap().is_none());
    }
    assert_eq!(
        s.tenant_by_slug("ghost").unwrap().unwrap().name,
        "Changed behind its back"
    );
}

#[test]
fn a_fence_refuses_the_workspace_waits_for_its_users_and_lifts() {
    let dir = tempfile::tempdir().unwrap();
    let s = storage(&dir, 10);
    let t = tenant(&s, "acme", "Acme");
    let other = tenant(&s, "beta", "Beta");
    let (who, req) = (AuditActor::system(), RequestMeta::default());

    // A request still holds the open store: the fence is set, but says the file is in use.
    let held = s.tenant(t.id).unwrap();
    let outcome = s
        .fence(t.id, 5, Duration::from_millis(50), &who, &req)
        .unwrap();
    assert_eq!(outcome, wrk_tenants::FenceOutcome::StillInUse);
    assert!(matches!(
        s.tenant(t.id),
        Err(StoreError::Fenced {
            retry_after_secs: 5
        })
    ));
    assert!(
        s.tenant(other.id).is_ok(),
        "only the fenced workspace is refused"
    );

    // Once its users are gone, fencing again drains at once.
    drop(held);
    let outcome = s
        .fence(t.id, 7, Duration::from_secs(5), &who, &req)
        .unwrap();
    assert_eq!(outcome, wrk_tenants::FenceOutcome::Drained);
    assert_eq!(s.fenced(t.id).unwrap().retry_after_secs, 7);
    assert_eq!(s.open_tenants(), 1, "the fenced file is closed");

    assert!(s.unfence(t.id, &who, &req).unwrap());
    assert!(
        !s.unfence(t.id, &who, &req).unwrap(),
        "nothing left to lift"
    );
    assert!(s.fenced(t.id).is_none());
    assert!(s.tenant(t.id).is_ok());
    assert!(matches!(
        s.fence(
            wrk_core::ids::TenantId::new(),
            5,
            Duration::ZERO,
            &who,
            &req
        ),
        Err(StoreError::NotFound(_))
    ));
}
