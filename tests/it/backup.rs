//! `wrk backup` while the server takes writes, then `wrk restore` into a fresh data directory:
//! the restored server has every write acknowledged before the backup began, nothing it never
//! acknowledged, sessions that still work (the signing keys came along), and the uploaded
//! document's bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wrk_tests::{Method, StatusCode, TestApp, version_path};

fn automation_names(app: &TestApp, slug: &str, token: &str) -> Vec<String> {
    let (s, b) = app.get_as(
        slug,
        "/api/automations?limit=200&include_archived=true",
        token,
    );
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_backup_taken_while_writing_restores_every_acknowledged_write_the_keys_and_the_documents() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("grace@example.com", "acme");
    let first = app.create_automation(&owner.slug, &owner.token, "Before the backup");
    let doc = b"Invoices arrive by email as PDF; post them to QuickBooks.\n".repeat(20);
    let (s, uploaded) = app.upload_document(&owner.slug, &owner.token, &first, "notes.txt", &doc);
    assert_eq!(s, StatusCode::ACCEPTED, "{uploaded}");
    let doc_id = uploaded["document_id"]
        .as_str()
        .expect("document id")
        .to_owned();

    // A writer keeps creating automations for the whole backup; each acknowledged name is kept.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let app = Arc::new(app);
    let writer = {
        let (app, acked, stop, owner) = (app.clone(), acked.clone(), stop.clone(), owner.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("Written during the backup {i}");
                let (s, b) = app.post_as(
                    &owner.slug,
                    "/api/automations",
                    &owner.token,
                    wrk_tests::json!({"name": name}),
                );
                assert_eq!(s, StatusCode::CREATED, "{b}");
                acked.lock().unwrap().push(name);
                i += 1;
            }
        })
    };
    // The backup starts once writes are flowing, and is known to overlap them.
    wrk_tests::eventually(std::time::Duration::from_secs(30), "writes flowing", || {
        (acked.lock().unwrap().len() >= 5).then_some(())
    });
    // Whether a given backup overlaps a write is up to the scheduler (a backup of this small
    // directory takes milliseconds), so backups are taken until one provably did: a write was
    // acknowledged between its start and its end. Each try is a complete backup taken while
    // writing; the one checked below is the first that overlapped.
    let out = tempfile::tempdir().unwrap();
    let mut taken = None;
    for attempt in 0..50 {
        let before: Vec<String> = acked.lock().unwrap().clone();
        let backup_dir = out.path().join(format!("backup-{attempt}"));
        let said = wrk_tests::run_wrk(
            &["backup", "--out", backup_dir.to_str().unwrap()],
            app.data_dir(),
        );
        if acked.lock().unwrap().len() > before.len() {
            taken = Some((before, backup_dir, said));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let all: Vec<String> = acked.lock().unwrap().clone();
    let (before, backup_dir, _said) =
        taken.expect("50 backups in a row overlapped no acknowledged write");

    let restored = tempfile::tempdir().unwrap();
    wrk_tests::run_wrk(
        &["restore", "--from", backup_dir.to_str().unwrap()],
        restored.path(),
    );
    let copy = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .data_dir(restored)
        .spawn();

    // The old token still works: the signing keys were restored.
    let names = automation_names(&copy, &owner.slug, &owner.token);
    assert!(names.iter().any(|n| n == "Before the backup"), "{names:?}");
    for name in &before {
        assert!(
            names.contains(name),
            "{name} was acknowledged before the backup: {names:?}"
        );
    }
    for name in &names {
        assert!(
            name == "Before the backup" || all.contains(name),
            "{name} was never acknowledged"
        );
    }

    // The document's bytes came along with its row.
    let res = copy
        .request(
            Method::GET,
            &owner.slug,
            &format!("{}/documents/{doc_id}", version_path(&first)),
        )
        .bearer_auth(&owner.token)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().unwrap().as_ref(), doc.as_slice());
}
