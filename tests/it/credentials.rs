//! Credentials (flow 25): provided, listed, rotated and deleted through the API, with a secret
//! that appears nowhere it should not: no answer, log line, audit row, database file, other
//! data file or backup holds it. The master key is private and stays out of backups, and
//! `wrk secrets rotate-master` re-wraps the keys while the server runs.

use std::path::{Path, PathBuf};

use wrk_tests::{StatusCode, TestApp, json};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// The files under `root` whose bytes contain `needle`.
fn holding(root: &Path, needle: &str) -> Vec<PathBuf> {
    files(root)
        .into_iter()
        .filter(|p| {
            std::fs::read(p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_planted_secret_appears_in_no_response_log_audit_row_database_file_or_backup() {
    let app = TestApp::spawn_open();
    let o = app.owner_of("owner@acme.example", "acme");
    let ops = app.ops_token("ops_admin");
    let planted = format!("planted-secret-{}", std::process::id());
    let rotated = format!("rotated-secret-{}-wxyz", std::process::id());
    let password = format!("planted-password-{}", std::process::id());
    let mut answers: Vec<String> = Vec::new();

    let (s, c) = app.post_as(
        &o.slug,
        "/api/credentials",
        &o.token,
        json!({"system": "Gmail", "kind": "api_key", "fields": {"api_key": planted}}),
    );
    assert_eq!(s, StatusCode::CREATED, "{c}");
    answers.push(c.to_string());
    assert_eq!(c["status"], "active");
    assert_eq!(c["kind"], "api_key");
    assert_eq!(c["system"], "Gmail");
    let tail: String = planted
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(c["hint"], format!("••••{tail}"), "{c}");
    let id = c["id"].as_str().unwrap().to_owned();

    let (s, b) = app.post_as(
        &o.slug,
        "/api/credentials",
        &o.token,
        json!({"system": "Bank", "kind": "basic",
               "fields": {"username": "alice", "password": password}}),
    );
    assert_eq!(s, StatusCode::CREATED, "{b}");
    answers.push(b.to_string());
    assert!(
        b["hint"].as_str().unwrap().starts_with("alice · ••••"),
        "{b}"
    );

    // A second credential for the same system (case aside) is a conflict; bad fields are 422.
    let (s, p) = app.post_as(
        &o.slug,
        "/api/credentials",
        &o.token,
        json!({"system": "gmail", "kind": "api_key", "fields": {"api_key": planted}}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
    answers.push(p.to_string());
    let (s, p) = app.post_as(
        &o.slug,
        "/api/credentials",
        &o.token,
        json!({"system": "Xero", "kind": "basic", "fields": {"password": planted}}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{p}"
    );
    answers.push(p.to_string());

    // Rotation: a new secret, still masked, status active.
    let (s, r) = app.put_as(
        &o.slug,
        &format!("/api/credentials/{id}"),
        &o.token,
        json!({"fields": {"api_key": rotated}}),
    );
    assert_eq!(s, StatusCode::OK, "{r}");
    answers.push(r.to_string());
    assert_eq!(r["status"], "active");
    assert_ne!(r["hint"], c["hint"]);

    let (s, list) = app.get_as(&o.slug, "/api/credentials", &o.token);
    assert_eq!(s, StatusCode::OK, "{list}");
    answers.push(list.to_string());
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    for path in [
        "/api/audit-logs?limit=200",
        "/api/audit-logs?format=csv&limit=200",
        "/api/tasks",
    ] {
        let res = app
            .request(wrk_tests::Method::GET, &o.slug, path)
            .bearer_auth(&o.token)
            .send()
            .unwrap();
        answers.push(res.text().unwrap());
    }
    let actions = app.audit_actions(&o.slug, &o.token, "credential", &id);
    assert_eq!(actions, ["credential.created", "credential.rotated"]);
    for path in ["/api/ops/jobs?limit=200", "/api/ops/outbox?limit=200"] {
        let (_, v) = app.get_as("ops", path, &ops);
        answers.push(v.to_string());
    }

    // Deleting: gone from the list, its secret deleted.
    let (s, _) = app.delete_as(
        &o.slug,
        &format!("/api/credentials/{}", b["id"].as_str().unwrap()),
        &o.token,
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get_as(&o.slug, "/api/credentials", &o.token);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (s, p) = app.delete_as(
        &o.slug,
        &format!("/api/credentials/{}", b["id"].as_str().unwrap()),
        &o.token,
    );
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");

    // The master key: private, made on first start.
    let master = app.data_dir().join("secrets/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&master).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_before = std::fs::read(&master).unwrap();

    // A backup while the server runs, and a master-key rotation while it runs.
    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("backup");
    wrk_tests::run_wrk(
        &["backup", "--out", backup.to_str().unwrap()],
        app.data_dir(),
    );
    assert!(
        backup.join("secrets").is_dir(),
        "the encrypted secrets are backed up"
    );
    assert!(
        !files(&backup).iter().any(|p| p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("master.key"))),
        "the master key stays out of backups"
    );
    let said = wrk_tests::run_wrk(&["secrets", "rotate-master"], app.data_dir());
    assert!(
        said.contains("workspace data keys re-wrapped: 1;"),
        "{said}"
    );
    assert_ne!(std::fs::read(&master).unwrap(), key_before);
    // The rotated-under-it credential still rotates (its data key opens with the new master).
    let (s, r) = app.put_as(
        &o.slug,
        &format!("/api/credentials/{id}"),
        &o.token,
        json!({"fields": {"api_key": rotated}}),
    );
    assert_eq!(s, StatusCode::OK, "{r}");
    answers.push(r.to_string());

    for secret in [&planted, &rotated, &password] {
        for (i, a) in answers.iter().enumerate() {
            assert!(
                !a.contains(secret.as_str()),
                "answer {i} holds the secret: {a}"
            );
        }
        assert!(
            !app.logs().contains(secret.as_str()),
            "the log holds the secret"
        );
        let found = holding(app.data_dir(), secret);
        assert!(found.is_empty(), "data files hold the secret: {found:?}");
        let found = holding(&backup, secret);
        assert!(found.is_empty(), "backup files hold the secret: {found:?}");
    }
}
