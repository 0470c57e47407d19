//! Requirements documents and AI ingestion (flow 9), through the real binary: upload real PDF
//! and DOCX files, poll the ingestion job, apply its proposal; limits, sniffing, file names and
//! workspace isolation.

use std::time::Duration;

use wrk_tests::{Method, StatusCode, TestApp, Value, eventually, json};

const PASSWORD: &str = "correct horse battery staple";
const PDF: &[u8] = include_bytes!("../fixtures/requirements.pdf");
const DOCX: &[u8] = include_bytes!("../fixtures/requirements.docx");

pub(crate) fn spawn() -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .spawn()
}

/// Signs up `email`, creates the workspace `slug`, returns a workspace access token.
pub(crate) fn owner_of(app: &TestApp, email: &str, slug: &str) -> String {
    let (s, b) = app.call(
        Method::POST,
        "",
        "/api/auth/signup",
        None,
        Some(json!({"email": email, "password": PASSWORD, "name": "Owner"})),
    );
    assert_eq!(s, 201, "{b}");
    let (s, login) = app.call(
        Method::POST,
        "",
        "/api/auth/login",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(s, 200, "{login}");
    let account = login["access_token"].as_str().unwrap().to_owned();
    let (s, b) = app.call(
        Method::POST,
        "",
        "/api/account/workspaces",
        Some(&account),
        Some(json!({"name": slug.to_uppercase(), "subdomain": slug})),
    );
    assert_eq!(s, 201, "{b}");
    let (s, login) = app.call(
        Method::POST,
        slug,
        "/api/auth/login",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(s, 200, "{login}");
    login["access_token"].as_str().unwrap().to_owned()
}

pub(crate) fn create_automation(app: &TestApp, slug: &str, token: &str) -> String {
    let (s, b) = app.call(
        Method::POST,
        slug,
        "/api/automations",
        Some(token),
        Some(json!({"name": "Invoices to bills"})),
    );
    assert_eq!(s, 201, "{b}");
    b["automation"]["id"]
        .as_str()
        .or_else(|| b["id"].as_str())
        .expect("automation id")
        .to_owned()
}

/// A `multipart/form-data` body with one field `file`.
fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "wrk-test-boundary-7d1f0c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) fn upload(
    app: &TestApp,
    slug: &str,
    token: &str,
    automation: &str,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let (ct, body) = multipart(file_name, bytes);
    let res = app
        .request(
            Method::POST,
            slug,
            &format!("/api/automations/{automation}/versions/1/documents"),
        )
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .expect("upload");
    let status = res.status();
    (status, res.json().unwrap_or(Value::Null))
}

/// Polls until the ingestion is `done` or `failed`.
pub(crate) fn ingestion_settled(app: &TestApp, slug: &str, token: &str, automation: &str) -> Value {
    let path = format!("/api/automations/{automation}/versions/1/ingestion");
    eventually(Duration::from_secs(60), "ingestion settles", || {
        let (s, b) = app.call(Method::GET, slug, &path, Some(token), None);
        assert_eq!(s, 200, "{b}");
        matches!(b["status"].as_str(), Some("done" | "failed")).then_some(b)
    })
}

fn ingestion_done(app: &TestApp, slug: &str, token: &str, automation: &str) -> Value {
    let path = format!("/api/automations/{automation}/versions/1/ingestion");
    eventually(Duration::from_secs(60), "ingestion finishes", || {
        let (s, b) = app.call(Method::GET, slug, &path, Some(token), None);
        assert_eq!(s, 200, "{b}");
        match b["status"].as_str() {
            Some("done") => Some(b),
            Some("failed") => panic!("ingestion failed: {b}"),
            _ => None,
        }
    })
}

#[test]
fn pdf_and_docx_become_a_proposal_that_applies_as_the_blueprint() {
    let app = spawn();
    let token = owner_of(&app, "owner@acme.example", "acme");
    let a = create_automation(&app, "acme", &token);

    let (s, b) = upload(&app, "acme", &token, &a, "requirements.pdf", PDF);
    assert_eq!(s, 202, "{b}");
    assert!(
        b["document_id"].is_string() && b["job_id"].is_string(),
        "{b}"
    );
    let (s, b) = upload(&app, "acme", &token, &a, "requirements.docx", DOCX);
    assert_eq!(s, 202, "{b}");

    let (s, list) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        Some(&token),
        None,
    );
    assert_eq!(s, 200, "{list}");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pdf", "docx"]);

    let ing = ingestion_done(&app, "acme", &token, &a);
    let proposal = ing["proposal"].to_string().to_lowercase();
    assert!(proposal.contains("gmail"), "{ing}");
    assert!(proposal.contains("quickbooks"), "{ing}");
    assert_eq!(ing["proposal"]["volume"]["monthly_runs"], 2000, "{ing}");
    assert!(ing["confidence"].is_number(), "{ing}");

    // The proposal is not the blueprint until applied.
    let (s, v) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1"),
        Some(&token),
        None,
    );
    assert_eq!(s, 200, "{v}");
    let revision = v["revision"].as_i64().expect("revision");

    // A stale revision is refused by the blueprint-update service.
    let (s, b) = app.call(
        Method::POST,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/apply"),
        Some(&token),
        Some(json!({"revision": revision + 5})),
    );
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["code"], "stale_revision");

    let (s, v) = app.call(
        Method::POST,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/apply"),
        Some(&token),
        Some(json!({"revision": revision})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["revision"].as_i64(), Some(revision + 1), "{v}");
    assert_eq!(v["blueprint"]["volume"]["monthly_runs"], 2000, "{v}");
    assert!(
        v["blueprint"]
            .to_string()
            .to_lowercase()
            .contains("quickbooks"),
        "{v}"
    );

    // Applied: the proposal is gone.
    let (s, _) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion"),
        Some(&token),
        None,
    );
    assert_eq!(s, 404);

    // Every change left an audit row.
    let (s, audit) = app.call(
        Method::GET,
        "acme",
        "/api/audit-logs?limit=200",
        Some(&token),
        None,
    );
    assert_eq!(s, 200, "{audit}");
    let actions = audit.to_string();
    for action in [
        "document.uploaded",
        "ingestion.queued",
        "ingestion.proposed",
        "ingestion.applied",
    ] {
        assert!(actions.contains(action), "{action} missing: {audit}");
    }
}

#[test]
fn limits_sniffing_file_names_and_isolation() {
    let app = spawn();
    let token = owner_of(&app, "owner@acme.example", "acme");
    let beta = owner_of(&app, "owner@beta.example", "beta");
    let a = create_automation(&app, "acme", &token);

    // Over 20 MiB: 413 problem, even though the default JSON limit is 1 MiB.
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    let (s, b) = upload(&app, "acme", &token, &a, "big.txt", &big);
    assert_eq!(s, 413, "{b}");
    assert_eq!(b["code"], "payload_too_large");

    // Between 1 MiB and 20 MiB is fine (the default limit does not apply here).
    let mid = "requirement line\n".repeat(120_000);
    let (s, b) = upload(&app, "acme", &token, &a, "notes.md", mid.as_bytes());
    assert_eq!(s, 202, "{b}");

    // A Windows executable renamed .pdf is refused: the type comes from the bytes.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend_from_slice(&[0u8; 256]);
    let (s, b) = upload(&app, "acme", &token, &a, "invoice.pdf", &exe);
    assert_eq!(s, 415, "{b}");
    assert_eq!(b["code"], "unsupported_media_type");

    // A file name with a control character (NUL, an escape) is refused as a problem, and
    // nothing is stored.
    for bad in ["note\u{0}.txt", "note\u{1b}[31m.txt"] {
        let (s, b) = upload(&app, "acme", &token, &a, bad, b"hello");
        assert!(s == 400 || s == 422, "{bad:?}: {s} {b}");
        assert!(
            b["code"].is_string(),
            "{bad:?}: not a problem document: {b}"
        );
    }
    let (_, listed) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        Some(&token),
        None,
    );
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| !d["file_name"]
                .as_str()
                .unwrap()
                .chars()
                .any(char::is_control)),
        "{listed}"
    );

    // A path-traversal name is metadata only; the file is stored under its id.
    let (s, b) = upload(
        &app,
        "acme",
        &token,
        &a,
        "../../etc/passwd",
        b"When an invoice arrives in Gmail, create a bill in QuickBooks.",
    );
    assert_eq!(s, 202, "{b}");
    let doc_id = b["document_id"].as_str().unwrap().to_owned();
    let (s, list) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        Some(&token),
        None,
    );
    assert_eq!(s, 200);
    let doc = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == doc_id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(doc["file_name"], "../../etc/passwd");
    assert_eq!(doc["kind"], "txt");
    let files = app.data_dir().join("files");
    let tenant_dirs: Vec<_> = std::fs::read_dir(&files).unwrap().flatten().collect();
    assert_eq!(tenant_dirs.len(), 1);
    let stored = tenant_dirs[0].path().join(&doc_id);
    assert!(stored.is_file(), "{}", stored.display());
    assert!(!app.data_dir().join("etc").exists());
    assert!(!files.join("etc").exists());

    // Another workspace can't see acme's automation or its documents.
    for path in [
        format!("/api/automations/{a}/versions/1/documents"),
        format!("/api/automations/{a}/versions/1/ingestion"),
    ] {
        let (s, b) = app.call(Method::GET, "beta", &path, Some(&beta), None);
        assert_eq!(s, 404, "{path}: {b}");
    }
    let (s, _) = upload(&app, "beta", &beta, &a, "x.txt", b"hello");
    assert_eq!(s, 404);
    // acme's token is not valid on beta's host.
    let (s, _) = app.call(
        Method::GET,
        "beta",
        &format!("/api/automations/{a}/versions/1/documents"),
        Some(&token),
        None,
    );
    assert!(s == 401 || s == 403 || s == 404, "{s}");

    // Discard clears the ingestion (done, or failed with its reason: the 2 MiB Markdown file
    // may exhaust the built-in plugin's fuel).
    let settled = ingestion_settled(&app, "acme", &token, &a);
    if settled["status"] == "failed" {
        assert!(
            settled["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{settled}"
        );
    }
    let (s, _) = app.call(
        Method::POST,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/discard"),
        Some(&token),
        None,
    );
    assert_eq!(s, 204);
    let (s, _) = app.call(
        Method::GET,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion"),
        Some(&token),
        None,
    );
    assert_eq!(s, 404);

    // Archived: read-only, uploads refused with 409.
    let (s, b) = app.call(
        Method::POST,
        "acme",
        &format!("/api/automations/{a}/versions/1/transitions"),
        Some(&token),
        Some(json!({"to": "archived"})),
    );
    if s == 200 {
        let (s, b) = upload(&app, "acme", &token, &a, "late.txt", b"more text");
        assert_eq!(s, 409, "{b}");
    } else {
        panic!("archiving failed: {s} {b}");
    }
}
