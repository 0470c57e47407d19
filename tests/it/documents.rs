//! Requirements documents and AI ingestion (flow 9), through the real binary: upload real PDF
//! and DOCX files, poll the ingestion job, apply its proposal; limits, sniffing, file names and
//! workspace isolation.

use wrk_tests::{Method, TestApp, json};

const PDF: &[u8] = include_bytes!("../fixtures/requirements.pdf");
const DOCX: &[u8] = include_bytes!("../fixtures/requirements.docx");

#[test]
fn pdf_and_docx_become_a_proposal_that_applies_as_the_blueprint() {
    let app = TestApp::spawn_open();
    let token = app.owner_of("owner@acme.example", "acme").token;
    let a = app.create_automation("acme", &token, "Invoices to bills");

    let (s, b) = app.upload_document("acme", &token, &a, "requirements.pdf", PDF);
    assert_eq!(s, 202, "{b}");
    assert!(
        b["document_id"].is_string() && b["job_id"].is_string(),
        "{b}"
    );
    let (s, b) = app.upload_document("acme", &token, &a, "requirements.docx", DOCX);
    assert_eq!(s, 202, "{b}");

    let (s, list) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        &token,
    );
    assert_eq!(s, 200, "{list}");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pdf", "docx"]);

    let ing = app.ingestion_settled("acme", &token, &a);
    assert_eq!(ing["status"], "done", "ingestion failed: {ing}");
    let proposal = ing["proposal"].to_string().to_lowercase();
    assert!(proposal.contains("gmail"), "{ing}");
    assert!(proposal.contains("quickbooks"), "{ing}");
    assert_eq!(ing["proposal"]["volume"]["monthly_runs"], 2000, "{ing}");
    assert!(ing["confidence"].is_number(), "{ing}");

    // The proposal is not the blueprint until applied.
    let (s, v) = app.get_as("acme", &format!("/api/automations/{a}/versions/1"), &token);
    assert_eq!(s, 200, "{v}");
    let revision = v["revision"].as_i64().expect("revision");

    // A stale revision is refused by the blueprint-update service.
    let (s, b) = app.post_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/apply"),
        &token,
        json!({"revision": revision + 5}),
    );
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["code"], "stale_revision");

    let (s, v) = app.post_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/apply"),
        &token,
        json!({"revision": revision}),
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
    let (s, _) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion"),
        &token,
    );
    assert_eq!(s, 404);

    // Every change left an audit row.
    let (s, audit) = app.get_as("acme", "/api/audit-logs?limit=200", &token);
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
    let app = TestApp::spawn_open();
    let token = app.owner_of("owner@acme.example", "acme").token;
    let beta = app.owner_of("owner@beta.example", "beta").token;
    let a = app.create_automation("acme", &token, "Invoices to bills");

    // Over 20 MiB: 413 problem, even though the default JSON limit is 1 MiB.
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    let (s, b) = app.upload_document("acme", &token, &a, "big.txt", &big);
    assert_eq!(s, 413, "{b}");
    assert_eq!(b["code"], "payload_too_large");

    // Between 1 MiB and 20 MiB is fine (the default limit does not apply here).
    let mid = "requirement line\n".repeat(120_000);
    let (s, b) = app.upload_document("acme", &token, &a, "notes.md", mid.as_bytes());
    assert_eq!(s, 202, "{b}");

    // A Windows executable renamed .pdf is refused: the type comes from the bytes.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend_from_slice(&[0u8; 256]);
    let (s, b) = app.upload_document("acme", &token, &a, "invoice.pdf", &exe);
    assert_eq!(s, 415, "{b}");
    assert_eq!(b["code"], "unsupported_media_type");

    // A file name with a control character (NUL, an escape) is refused as a problem, and
    // nothing is stored.
    for bad in ["note\u{0}.txt", "note\u{1b}[31m.txt"] {
        let (s, b) = app.upload_document("acme", &token, &a, bad, b"hello");
        assert!(s == 400 || s == 422, "{bad:?}: {s} {b}");
        assert!(
            b["code"].is_string(),
            "{bad:?}: not a problem document: {b}"
        );
    }
    let (_, listed) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        &token,
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
    let (s, b) = app.upload_document(
        "acme",
        &token,
        &a,
        "../../etc/passwd",
        b"When an invoice arrives in Gmail, create a bill in QuickBooks.",
    );
    assert_eq!(s, 202, "{b}");
    let doc_id = b["document_id"].as_str().unwrap().to_owned();
    let (s, list) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/documents"),
        &token,
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
        let (s, b) = app.get_as("beta", &path, &beta);
        assert_eq!(s, 404, "{path}: {b}");
    }
    let (s, _) = app.upload_document("beta", &beta, &a, "x.txt", b"hello");
    assert_eq!(s, 404);
    // acme's token is not valid on beta's host.
    let (s, _) = app.get_as(
        "beta",
        &format!("/api/automations/{a}/versions/1/documents"),
        &token,
    );
    assert!(s == 401 || s == 403 || s == 404, "{s}");

    // Discard clears the ingestion (done, or failed with its reason: the 2 MiB Markdown file
    // may exhaust the built-in plugin's fuel).
    let settled = app.ingestion_settled("acme", &token, &a);
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
    let (s, _) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion"),
        &token,
    );
    assert_eq!(s, 404);

    // Archived: read-only, uploads refused with 409.
    let (s, b) = app.post_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/transitions"),
        &token,
        json!({"to": "archived"}),
    );
    if s == 200 {
        let (s, b) = app.upload_document("acme", &token, &a, "late.txt", b"more text");
        assert_eq!(s, 409, "{b}");
    } else {
        panic!("archiving failed: {s} {b}");
    }
}
