//! Flows 14-18 end to end: accept, sign with payment (manual and Stripe against localstripe),
//! reject, ops revisions, expiry, and who may decide.

use std::time::Duration;

use wrk_tests::{Owner, StatusCode, TestApp, Value, eventually, json, version_path};

/// A workspace `acme` whose automation "Invoices" waits for approval of its quote; returns the
/// owner, the automation and the quote.
fn quoted(app: &TestApp) -> (Owner, String, Value) {
    let owner = app.owner_of("grace@example.com", "acme");
    let id = app.quoted("acme", &owner.token, "Invoices", 2500);
    let quote = app.current_quote(&owner, &id);
    assert_eq!(quote["status"], "sent", "{quote}");
    (owner, id, quote)
}

fn version_status(app: &TestApp, owner: &Owner, id: &str) -> String {
    let (s, v) = app.get_as("acme", &version_path(id), &owner.token);
    assert_eq!(s, StatusCode::OK, "{v}");
    v["status"].as_str().unwrap().to_owned()
}

fn quote_path(quote: &Value, action: &str) -> String {
    format!("/api/quotes/{}/{action}", quote["id"].as_str().unwrap())
}

fn accept(app: &TestApp, token: &str, quote: &Value) -> (StatusCode, Value) {
    app.post_as("acme", &quote_path(quote, "accept"), token, json!({}))
}

fn sign_body(method: Value) -> Value {
    json!({"signer_name": "Grace Hopper", "signer_title": "CEO", "agree": true,
           "payment_method": method})
}

fn sign(app: &TestApp, token: &str, quote: &Value, method: Value) -> (StatusCode, Value) {
    app.post_as("acme", &quote_path(quote, "sign"), token, sign_body(method))
}

/// Every action in the workspace's audit log (its newest 200 rows).
fn actions(app: &TestApp, token: &str) -> Vec<String> {
    let (s, log) = app.get_as("acme", "/api/audit-logs?limit=200", token);
    assert_eq!(s, StatusCode::OK, "{log}");
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

/// [`TestApp::spawn_open`], paying through Stripe at a localstripe of its own.
fn stripe_app() -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .localstripe()
        .spawn()
}

fn card(id: &str) -> Value {
    json!({"type": "stripe", "payment_method_id": id})
}

#[test]
fn accepting_then_signing_by_invoice_makes_the_version_ready_to_build_and_ops_mark_the_invoice_paid()
 {
    let app = TestApp::spawn_open();
    let (owner, id, quote) = quoted(&app);
    let (s, accepted) = accept(&app, &owner.token, &quote);
    assert_eq!(s, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["payment_provider"], "manual");

    // Signing without agreeing is refused and changes nothing.
    let mut body = sign_body(json!({"type": "manual"}));
    body["agree"] = json!(false);
    let (s, p) = app.post_as("acme", &quote_path(&quote, "sign"), &owner.token, body);
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{p}"
    );

    let (s, signed) = sign(&app, &owner.token, &quote, json!({"type": "manual"}));
    assert_eq!(s, StatusCode::OK, "{signed}");
    assert_eq!(signed["status"], "signed");
    assert_eq!(signed["signature"]["signer_name"], "Grace Hopper");
    assert_eq!(
        signed["signature"]["document_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(version_status(&app, &owner, &id), "ready_to_build");
    let invoices = signed["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{signed}");
    assert_eq!(invoices[0]["kind"], "setup_fee");
    assert_eq!(invoices[0]["status"], "finalized");
    assert_eq!(invoices[0]["total_cents"], quote["setup_fee_cents"]);

    // The same request again: the signed quote, no second invoice.
    let (s, again) = sign(&app, &owner.token, &quote, json!({"type": "manual"}));
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["invoices"].as_array().unwrap().len(), 1);

    // The signed document: a PDF with the signature block.
    let res = app
        .request(wrk_tests::Method::GET, "acme", &quote_path(&quote, "pdf"))
        .bearer_auth(&owner.token)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf).contains("Grace Hopper"));

    // Ops mark the invoice paid, once.
    let ops = app.ops_token("ops_admin");
    let path = format!(
        "/api/ops/tenants/{}/invoices/{}/mark-paid",
        owner.tenant_id,
        invoices[0]["id"].as_str().unwrap()
    );
    let (s, paid) = app.post_as("ops", &path, &ops, json!({"reference": "bank 42"}));
    assert_eq!(s, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_reference"], "bank 42");
    let (s, p) = app.post_as("ops", &path, &ops, json!({}));
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
    let actions = actions(&app, &owner.token);
    for a in [
        "quote.accepted",
        "charge.claimed",
        "quote.signed",
        "subscription.created",
        "invoice.finalized",
        "invoice.paid",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

#[test]
fn signing_with_a_card_at_localstripe_charges_the_setup_fee_once_even_when_sent_twice() {
    let app = stripe_app();
    let (owner, id, quote) = quoted(&app);
    assert_eq!(accept(&app, &owner.token, &quote).0, StatusCode::OK);
    // A manual method is not what this workspace's provider takes.
    let (s, p) = sign(&app, &owner.token, &quote, json!({"type": "manual"}));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");

    let (s, signed) = sign(&app, &owner.token, &quote, card("pm_card_visa"));
    assert_eq!(s, StatusCode::OK, "{signed}");
    assert_eq!(signed["status"], "signed");
    assert_eq!(signed["payment_provider"], "stripe");
    assert!(signed["invoices"].as_array().unwrap().is_empty());
    assert_eq!(version_status(&app, &owner, &id), "ready_to_build");
    let (s, again) = sign(&app, &owner.token, &quote, card("pm_card_visa"));
    assert_eq!(s, StatusCode::OK, "{again}");
    let paid = app.localstripe().payment_intents("succeeded");
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(paid[0]["amount"], quote["setup_fee_cents"]);
}

#[test]
fn a_declined_card_is_a_402_that_changes_nothing_and_another_card_then_signs() {
    let app = stripe_app();
    let (owner, id, quote) = quoted(&app);
    assert_eq!(accept(&app, &owner.token, &quote).0, StatusCode::OK);
    let (s, p) = sign(
        &app,
        &owner.token,
        &quote,
        card("pm_card_chargeCustomerFail"),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_failed")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("declined"), "{p}");
    let now = app.current_quote(&owner, &id);
    assert_eq!(now["status"], "accepted");
    assert_eq!(
        version_status(&app, &owner, &id),
        "awaiting_client_approval"
    );
    assert!(
        !actions(&app, &owner.token)
            .iter()
            .any(|a| a == "subscription.created")
    );
    assert!(app.localstripe().payment_intents("succeeded").is_empty());

    // A retry with a good card is a new attempt, charged once.
    let (s, signed) = sign(&app, &owner.token, &quote, card("pm_card_visa"));
    assert_eq!(s, StatusCode::OK, "{signed}");
    assert_eq!(version_status(&app, &owner, &id), "ready_to_build");
    assert_eq!(app.localstripe().payment_intents("succeeded").len(), 1);
}

#[test]
fn the_same_sign_request_sent_twice_at_once_charges_once() {
    let app = stripe_app();
    let (owner, id, quote) = quoted(&app);
    assert_eq!(accept(&app, &owner.token, &quote).0, StatusCode::OK);
    let answers: Vec<(StatusCode, Value)> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| sign(&app, &owner.token, &quote, card("pm_card_visa"))))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    // One signs; the other either waited for it (200) or found it in progress (409).
    assert!(
        answers.iter().any(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );
    for (s, body) in &answers {
        assert!(
            *s == StatusCode::OK
                || (*s == StatusCode::CONFLICT
                    && body["detail"].as_str().unwrap().contains("in progress")),
            "{s} {body}"
        );
    }
    assert_eq!(version_status(&app, &owner, &id), "ready_to_build");
    assert_eq!(app.localstripe().payment_intents("succeeded").len(), 1);
}

#[test]
fn an_ops_revision_supersedes_the_quote_and_accepting_the_old_one_is_a_conflict() {
    let app = TestApp::spawn_open();
    let (owner, id, quote) = quoted(&app);
    let ops = app.ops_token("ops");
    let path = format!(
        "/api/ops/tenants/{}/quotes/{}",
        owner.tenant_id,
        quote["id"].as_str().unwrap()
    );
    // Lines that do not add up are refused as plugin output would be.
    let (s, p) = app.patch_as(
        "ops",
        &path,
        &ops,
        json!({"line_items": [{"code": "x", "description": "X", "quantity": 2, "unit_cents": 100,
                               "amount_cents": 300, "recurrence": "one_time"}]}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(app.current_quote(&owner, &id)["revision"], 1);

    let (s, revised) = app.patch_as(
        "ops",
        &path,
        &ops,
        json!({"setup_fee_cents": 100_000, "discount_percent": 10, "note": "Loyalty discount"}),
    );
    assert_eq!(s, StatusCode::OK, "{revised}");
    assert_eq!(revised["revision"], 2);
    assert_eq!(revised["status"], "sent");
    assert_eq!(revised["setup_fee_cents"], 90_000);
    assert_eq!(revised["discount_percent"], 10);
    let (_, old) = app.get_as(
        "acme",
        &format!("/api/quotes/{}", quote["id"].as_str().unwrap()),
        &owner.token,
    );
    assert_eq!(old["status"], "superseded");
    assert_eq!(
        version_status(&app, &owner, &id),
        "awaiting_client_approval"
    );

    let (s, p) = accept(&app, &owner.token, &quote);
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("superseded"), "{p}");
    let (s, p) = app.patch_as("ops", &path, &ops, json!({}));
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (s, ok) = accept(&app, &owner.token, &revised);
    assert_eq!(s, StatusCode::OK, "{ok}");
}

#[test]
fn rejecting_a_quote_puts_the_version_back_in_needs_pricing_with_one_ops_task() {
    let app = TestApp::spawn_open();
    let (owner, id, quote) = quoted(&app);
    let (s, p) = app.post_as(
        "acme",
        &quote_path(&quote, "reject"),
        &owner.token,
        json!({"reason": "  "}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, rejected) = app.post_as(
        "acme",
        &quote_path(&quote, "reject"),
        &owner.token,
        json!({"reason": "Too expensive for us"}),
    );
    assert_eq!(s, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejected_reason"], "Too expensive for us");
    assert_eq!(version_status(&app, &owner, &id), "needs_pricing");
    let (s, again) = app.post_as(
        "acme",
        &quote_path(&quote, "reject"),
        &owner.token,
        json!({"reason": "Still too expensive"}),
    );
    assert_eq!(s, StatusCode::CONFLICT, "{again}");
    let ops = app.ops_token("ops");
    let (s, tasks) = app.get_as(
        "ops",
        &format!("/api/ops/tenants/{}/tasks?limit=200", owner.tenant_id),
        &ops,
    );
    assert_eq!(s, StatusCode::OK, "{tasks}");
    let revise: Vec<_> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["key"].as_str().unwrap().starts_with("quote:revise:"))
        .collect();
    assert_eq!(revise.len(), 1, "{tasks}");

    // Ops revise the rejected quote: the version awaits approval again and the task closes.
    let path = format!(
        "/api/ops/tenants/{}/quotes/{}",
        owner.tenant_id,
        quote["id"].as_str().unwrap()
    );
    let (s, revised) = app.patch_as("ops", &path, &ops, json!({"discount_percent": 20}));
    assert_eq!(s, StatusCode::OK, "{revised}");
    assert_eq!(
        version_status(&app, &owner, &id),
        "awaiting_client_approval"
    );
}

#[test]
fn a_member_cannot_accept_sign_or_reject_a_quote() {
    let app = TestApp::spawn_open();
    let (owner, id, quote) = quoted(&app);
    // A write-scoped API key acts as a member.
    let member = app.api_key("acme", &owner.token, &["write"]);
    let (s, p) = accept(&app, &member, &quote);
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{p}"
    );
    let (s, _) = app.post_as(
        "acme",
        &quote_path(&quote, "reject"),
        &member,
        json!({"reason": "no"}),
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(accept(&app, &owner.token, &quote).0, StatusCode::OK);
    let (s, _) = sign(&app, &member, &quote, json!({"type": "manual"}));
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.current_quote(&owner, &id)["status"], "accepted");
}

#[test]
fn an_expired_quote_cannot_be_accepted_and_the_worker_marks_it_expired() {
    let app = TestApp::spawn_open();
    let (owner, id, quote) = quoted(&app);
    // Age the quote while the server is stopped (what no API can do), then start it again.
    let dir = app.kill_and_keep_data();
    let db = dir
        .path()
        .join("tenants")
        .join(format!("{}.db", owner.tenant_id));
    let conn = rusqlite::Connection::open(&db).expect("open the tenant database");
    conn.execute(
        "UPDATE quotes SET valid_until = '2020-01-01T00:00:00Z' WHERE id = ?1",
        [quote["id"].as_str().unwrap()],
    )
    .unwrap();
    drop(conn);
    let app = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .data_dir(dir)
        .spawn();
    let token = app.token("acme", &owner.email);
    let (s, p) = app.post_as("acme", &quote_path(&quote, "accept"), &token, json!({}));
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    let owner = Owner { token, ..owner };
    eventually(Duration::from_secs(20), "the quote to be expired", || {
        (app.current_quote(&owner, &id)["status"] == "expired").then_some(())
    });
    assert!(
        actions(&app, &owner.token)
            .iter()
            .any(|a| a == "quote.expired")
    );
}
