//! Flow 9 beyond uploads, through the real binary: typed requirements alone become a proposal
//! (`POST …/ingestion`), documents are listed after a reload, downloaded as safe attachments and
//! deleted (audited, file removed), and 2 MB of text is cut to what the plugin can read, with
//! the cut named in the result.

use wrk_tests::{Method, StatusCode, TestApp, Value, json};

const REQUIREMENTS: &str = "When an email arrives in the Outlook inbox with a supplier \
invoice, extract the invoice data. Invoices over 5,000 EUR must be approved by the finance lead \
in Slack. Then book the invoice in DATEV. We get 500 invoices weekly.";

fn save_requirements(app: &TestApp, token: &str, a: &str, text: &str) {
    let (s, b) = app.put_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/requirements"),
        token,
        json!({ "text": text }),
    );
    assert_eq!(s, 200, "{b}");
}

fn request_ingestion(app: &TestApp, token: &str, a: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion"),
        Some(token),
        None,
    )
}

#[test]
fn typed_requirements_alone_become_a_proposal() {
    let app = TestApp::spawn_open();
    let token = app.owner_of("owner@acme.example", "acme").token;
    let a = app.create_automation("acme", &token, "Invoices to bills");

    // Nothing saved and no document: nothing to read.
    let (s, b) = request_ingestion(&app, &token, &a);
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["status"], 409);
    assert!(
        b["detail"].as_str().unwrap().contains("nothing to read"),
        "{b}"
    );

    save_requirements(&app, &token, &a, REQUIREMENTS);
    let (s, b) = request_ingestion(&app, &token, &a);
    assert_eq!(s, 202, "{b}");
    assert!(b["job_id"].as_str().is_some_and(|j| !j.is_empty()), "{b}");

    let ing = app.ingestion_settled("acme", &token, &a);
    assert_eq!(ing["status"], "done", "{ing}");
    let p = &ing["proposal"];
    assert_eq!(
        p["trigger"],
        json!({"kind": "email", "system": "Outlook"}),
        "{p}"
    );
    assert_eq!(p["volume"]["monthly_runs"], 2166, "{p}");
    let steps = p["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["action"] == "approve" && s["system"] == "Slack" && s["human"] == true),
        "{p}"
    );
    assert!(steps.iter().any(|s| s["system"] == "DATEV"), "{p}");

    // The request and its outcome are audited.
    let actions = app.audit_actions("acme", &token, "ingestion", &format!("{a}:1"));
    assert!(
        actions.iter().any(|x| x == "ingestion.queued"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|x| x == "ingestion.proposed"),
        "{actions:?}"
    );

    // Applying it works like a document's proposal.
    let (s, v) = app.get_as("acme", &format!("/api/automations/{a}/versions/1"), &token);
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.post_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/ingestion/apply"),
        &token,
        json!({ "revision": v["revision"] }),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["blueprint"]["trigger"]["system"], "Outlook", "{v}");
}

#[test]
fn documents_are_listed_downloaded_as_safe_attachments_and_deleted() {
    let app = TestApp::spawn_open();
    let token = app.owner_of("owner@acme.example", "acme").token;
    let a = app.create_automation("acme", &token, "Invoices to bills");
    let body = "Every night, sync stock from Shopify to SAP.\n";
    let (s, up) = app.upload_document("acme", &token, &a, "../Böse Datei; x=1.md", body.as_bytes());
    assert_eq!(s, 202, "{up}");
    let doc = up["document_id"].as_str().unwrap().to_owned();

    // A reload lists it.
    let list_path = format!("/api/automations/{a}/versions/1/documents");
    let (s, list) = app.get_as("acme", &list_path, &token);
    assert_eq!(s, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], doc.as_str());
    assert_eq!(items[0]["kind"], "md");

    // Download: the bytes, the sniffed type, an attachment with a safe name, nosniff.
    let path = format!("/api/automations/{a}/versions/1/documents/{doc}");
    let res = app
        .request(Method::GET, "acme", &path)
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let cd = h["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        cd.starts_with("attachment; filename=\"B_se_Datei__x_1.md\"; filename*=UTF-8''"),
        "{cd}"
    );
    assert!(cd.ends_with("B%C3%B6se%20Datei%3B%20x%3D1.md"), "{cd}");
    assert_eq!(res.text().unwrap(), body);

    // Another workspace can't reach it; an unknown id is a problem+json 404.
    let other = app.owner_of("owner@beta.example", "beta").token;
    let res = app
        .request(Method::GET, "beta", &path)
        .bearer_auth(&other)
        .send()
        .unwrap();
    assert_eq!(res.status(), 404);
    let (s, b) = app.get_as(
        "acme",
        &format!("/api/automations/{a}/versions/1/documents/not-a-uuid"),
        &token,
    );
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["status"], 404);

    // Delete: gone from the list, from disk, and audited.
    let files: Vec<_> = walk(&app.data_dir().join("files"));
    assert!(files.iter().any(|f| f.ends_with(&doc)), "{files:?}");
    let (s, b) = app.delete_as("acme", &path, &token);
    assert_eq!(s, 204, "{b}");
    let (_, list) = app.get_as("acme", &list_path, &token);
    assert_eq!(list["items"], json!([]), "{list}");
    let files: Vec<_> = walk(&app.data_dir().join("files"));
    assert!(!files.iter().any(|f| f.ends_with(&doc)), "{files:?}");
    let actions = app.audit_actions("acme", &token, "document", &doc);
    assert_eq!(
        actions.iter().filter(|x| *x == "document.deleted").count(),
        1,
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|x| x == "document.uploaded"),
        "{actions:?}"
    );
    let (s, b) = app.delete_as("acme", &path, &token);
    assert_eq!(s, 404, "{b}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn two_megabytes_of_text_are_cut_to_what_the_plugin_reads_and_the_cut_is_named() {
    let app = TestApp::spawn_open();
    let token = app.owner_of("owner@acme.example", "acme").token;
    let a = app.create_automation("acme", &token, "Invoices to bills");
    let para = "Every night, read the stock levels from SAP. Then update Shopify and post a \
                summary to Slack.\n\n";
    let big = para.repeat(2 * 1024 * 1024 / para.len());
    let (s, b) = app.upload_document("acme", &token, &a, "big.txt", big.as_bytes());
    assert_eq!(s, 202, "{b}");
    let ing = app.ingestion_settled("acme", &token, &a);
    assert_eq!(ing["status"], "done", "{ing}");
    let notes: Vec<&str> = ing["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    // Both cuts are named first: extraction keeps 200,000 characters of the 2 MB, and the
    // plugin reads what fits in its calls.
    assert!(
        notes[0].contains("\"big.txt\" is long (2.0 MB)"),
        "{notes:?}"
    );
    assert!(notes[1].contains("\"big.txt\" was cut"), "{notes:?}");
    assert!(notes.len() < 20, "{notes:?}");
    assert_eq!(ing["proposal"]["trigger"]["kind"], "schedule", "{ing}");
    assert_eq!(
        ing["proposal"]["steps"].as_array().unwrap().len(),
        3,
        "{ing}"
    );
}
