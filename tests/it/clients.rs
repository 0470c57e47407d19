//! The ops console that runs the day: client records that link existing workspaces (flow 33),
//! their health with a kept history and a suggested status that names its reasons (flow 34), the
//! home queues, the audit trail of one automation, and the per-workspace rule that invitees
//! verify their email (flow 1B). The browser test walks the ops daily path: a home queue, the
//! automation, a move on; then the clients page.

use std::path::Path;

use wrk_tests::browser::Browser;
use wrk_tests::{StatusCode, TestApp, Value, blueprint, json};

use crate::support::{log_in, ops_log_in, shots_at_two_widths};

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().expect("items").clone()
}

/// Creates a client named `name` as ops; returns its answer.
fn create_client(app: &TestApp, ops: &str, body: Value) -> Value {
    let (s, c) = app.post_as("ops", "/api/ops/clients", ops, body);
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

/// Every open task of the workspace was opened long ago (time passing, without waiting for it).
fn age_every_task(data_dir: &Path, tenant_id: &str) {
    let db = data_dir.join("tenants").join(format!("{tenant_id}.db"));
    let conn = rusqlite::Connection::open(db).expect("open the workspace file");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn.execute(
        "UPDATE tasks SET created_at = '2020-01-01T00:00:00.000000Z' WHERE status <> 'done'",
        [],
    )
    .expect("age the tasks");
}

#[test]
fn a_client_record_links_an_existing_workspace_and_a_health_change_is_kept_in_history() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let ops = app.ops_token("ops");

    let client = create_client(
        &app,
        &ops,
        json!({"name": "  Acme Corp ", "contacts": [{"name": "Ada", "email": "Ada@Acme.example", "role": "CFO"}],
               "account_manager": "Sam", "notes": "Signed in March.\nRenewal in May."}),
    );
    assert_eq!(client["name"], "Acme Corp");
    assert_eq!(client["contacts"][0]["email"], "ada@acme.example");
    assert_eq!(client["health"], Value::Null);
    assert_eq!(client["workspaces"], json!([]));
    let id = client["id"].as_str().unwrap().to_owned();

    // Refusals: a blank name, a bad contact email, a workspace's token on the ops host.
    let (s, p) = app.post_as("ops", "/api/ops/clients", &ops, json!({"name": "  "}));
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{p}"
    );
    let (s, p) = app.post_as(
        "ops",
        "/api/ops/clients",
        &ops,
        json!({"name": "X", "contacts": [{"name": "Y", "email": "nope"}]}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, _) = app.get_as("ops", "/api/ops/clients", &acme.token);
    assert!(
        s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN,
        "{s}"
    );

    // Link the existing workspace: the client lists it, the workspace list names the client.
    let (s, c) = app.post_as(
        "ops",
        &format!("/api/ops/clients/{id}/workspaces"),
        &ops,
        json!({"tenant_id": acme.tenant_id}),
    );
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["workspaces"][0]["subdomain"], "acme", "{c}");
    let (_, tenants) = app.get_as("ops", "/api/ops/tenants", &ops);
    assert_eq!(
        items(&tenants)[0]["client"]["name"],
        "Acme Corp",
        "{tenants}"
    );
    let (s, p) = app.post_as(
        "ops",
        &format!("/api/ops/clients/{id}/workspaces"),
        &ops,
        json!({"tenant_id": "01a23f3e-f254-7417-9950-4c701349fec4"}),
    );
    assert_eq!(s, StatusCode::NOT_FOUND, "an unknown workspace: {p}");
    let (s, _) = app.get_as(
        "ops",
        "/api/ops/clients/01a23f3e-f254-7417-9950-4c701349fec4",
        &ops,
    );
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Two health changes: both kept, newest first; the client shows the latest.
    for (status, note) in [("yellow", "Slow to answer"), ("red", "Payment overdue")] {
        let (s, c) = app.put_as(
            "ops",
            &format!("/api/ops/clients/{id}/health"),
            &ops,
            json!({"status": status, "note": note}),
        );
        assert_eq!(s, StatusCode::OK, "{c}");
    }
    let (s, c) = app.get_as("ops", &format!("/api/ops/clients/{id}"), &ops);
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["health"], "red");
    let history: Vec<(&str, &str)> = c["health_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["status"].as_str().unwrap(), h["note"].as_str().unwrap()))
        .collect();
    assert_eq!(
        history,
        vec![("red", "Payment overdue"), ("yellow", "Slow to answer")]
    );
    let (s, _) = app.put_as(
        "ops",
        &format!("/api/ops/clients/{id}/health"),
        &ops,
        json!({"status": "amber", "note": "x"}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app.put_as(
        "ops",
        &format!("/api/ops/clients/{id}/health"),
        &ops,
        json!({"status": "green", "note": " "}),
    );
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a health change says why"
    );

    // An edit changes what it names; an empty note clears the notes.
    let (s, c) = app.patch_as(
        "ops",
        &format!("/api/ops/clients/{id}"),
        &ops,
        json!({"account_manager": "Kim", "notes": ""}),
    );
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (
            c["account_manager"].as_str(),
            c["notes"].as_str(),
            c["name"].as_str()
        ),
        (Some("Kim"), None, Some("Acme Corp"))
    );
    let (_, list) = app.get_as("ops", "/api/ops/clients", &ops);
    let listed = &items(&list)[0];
    assert_eq!(
        (
            listed["health"].as_str(),
            listed["workspace_count"].as_u64()
        ),
        (Some("red"), Some(1))
    );
}

#[test]
fn the_suggested_health_names_its_reasons_and_calls_missing_signals_no_data() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let ops = app.ops_token("ops");
    let id = create_client(&app, &ops, json!({"name": "Acme Corp"}))["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // No workspace: nothing to suggest, every signal is no data.
    let (_, c) = app.get_as("ops", &format!("/api/ops/clients/{id}"), &ops);
    assert_eq!(c["suggestion"]["status"], Value::Null, "{c}");
    assert_eq!(
        c["suggestion"]["no_data"].as_array().unwrap().len(),
        4,
        "{c}"
    );

    // A workspace with open tasks (a blueprint's systems need credentials): not overdue yet.
    let automation = app.create_automation("acme", &acme.token, "Invoice intake");
    app.save_blueprint("acme", &acme.token, &automation, blueprint(2500));
    app.post_as(
        "ops",
        &format!("/api/ops/clients/{id}/workspaces"),
        &ops,
        json!({"tenant_id": acme.tenant_id}),
    );
    let (_, c) = app.get_as("ops", &format!("/api/ops/clients/{id}"), &ops);
    let s = &c["suggestion"];
    assert_eq!(s["status"], "green", "{c}");
    assert_eq!(
        s["reasons"],
        json!([{"signal": "alerts", "status": "green", "text": "No alerts in the last 30 days"},
               {"signal": "overdue_tasks", "status": "green", "text": "No overdue tasks"}])
    );
    let no_data: Vec<&str> = s["no_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["signal"].as_str().unwrap())
        .collect();
    assert_eq!(
        no_data,
        vec!["payment_failures", "failure_rate"],
        "runs and payments are not recorded yet"
    );

    // A week later those tasks are overdue: the suggestion says how many and why.
    let (_, tasks) = app.get_as("acme", "/api/tasks?status=todo", &acme.token);
    let open = items(&tasks).len() as u64;
    assert!(open > 0, "{tasks}");
    age_every_task(app.data_dir(), &acme.tenant_id);
    let (_, c) = app.get_as("ops", &format!("/api/ops/clients/{id}"), &ops);
    let s = &c["suggestion"];
    let expected = if open >= 5 { "red" } else { "yellow" };
    assert_eq!(s["status"], expected, "{c}");
    assert_eq!(s["reasons"][0]["signal"], "overdue_tasks");
    assert_eq!(
        s["reasons"][0]["text"],
        format!(
            "{open} task{} open for more than 7 days",
            if open == 1 { "" } else { "s" }
        )
    );

    // Accepting it is one health change like any other.
    let (st, c) = app.put_as(
        "ops",
        &format!("/api/ops/clients/{id}/health"),
        &ops,
        json!({"status": expected, "note": s["reasons"][0]["text"]}),
    );
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["health"], expected);
    assert_eq!(c["health_history"].as_array().unwrap().len(), 1);
}

#[test]
fn the_ops_home_counts_every_queue_and_marks_the_ones_without_a_source_unavailable() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let ops = app.ops_token("ops");
    app.create_automation("acme", &acme.token, "Invoice intake");
    app.quoted("acme", &acme.token, "Quoted one", 2500);

    let (s, home) = app.get_as("ops", "/api/ops/home", &ops);
    assert_eq!(s, StatusCode::OK, "{home}");
    let queue = |key: &str| {
        home["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} queue: {home}"))
    };
    let intake = queue("intake");
    assert_eq!(intake["count"], 1, "{intake}");
    assert_eq!(intake["items"][0]["automation"], "Invoice intake");
    assert_eq!(intake["items"][0]["workspace"], "Acme Inc");
    assert_eq!(intake["items"][0]["tenant_id"], acme.tenant_id.as_str());
    for key in [
        "quotes", "qa", "deploys", "blocked", "overdue", "events", "threads",
    ] {
        assert_eq!(
            (
                queue(key)["count"].as_u64(),
                queue(key)["available"].as_bool()
            ),
            (Some(0), Some(true)),
            "{key}"
        );
    }
    // The one queue not recorded yet says so instead of 0.
    let q = queue("plugins");
    assert_eq!(
        (q["count"].clone(), q["available"].as_bool()),
        (Value::Null, Some(false)),
        "plugins is unavailable, not 0"
    );
    assert!(
        q["unavailable_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{q}"
    );
    let (s, _) = app.get_as("ops", "/api/ops/home", &acme.token);
    assert!(
        s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN,
        "{s}"
    );
}

#[test]
fn the_audit_log_of_one_automation_also_holds_its_versions_quotes_and_tasks_and_nothing_else() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let quoted = app.quoted("acme", &acme.token, "Quoted one", 2500);
    let other = app.create_automation("acme", &acme.token, "Another one");

    let (s, log) = app.get_as(
        "acme",
        &format!("/api/audit-logs?automation_id={quoted}&limit=200"),
        &acme.token,
    );
    assert_eq!(s, StatusCode::OK, "{log}");
    let rows = items(&log);
    let mut types: Vec<&str> = rows
        .iter()
        .map(|r| r["entity_type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    types.dedup();
    for wanted in ["automation", "version", "quote", "task"] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    // Only `quoted` has quotes, so every quote of the workspace is one of its own.
    let (_, quotes) = app.get_as("acme", "/api/quotes?limit=200", &acme.token);
    let quotes = items(&quotes);
    let quote_ids: Vec<&str> = quotes.iter().filter_map(|x| x["id"].as_str()).collect();
    assert!(!quote_ids.is_empty(), "{quotes:?}");
    for r in &rows {
        let e = r["entity_id"].as_str().unwrap_or_default();
        assert!(!e.starts_with(&other), "another automation's row: {r}");
        assert_ne!(r["entity_type"], "tenant", "a workspace row: {r}");
        if r["entity_type"] == "quote" {
            assert!(quote_ids.contains(&e), "{r}");
        }
    }
    // The same log unfiltered has more: the other automation and the workspace itself.
    let (_, all) = app.get_as("acme", "/api/audit-logs?limit=200", &acme.token);
    assert!(items(&all).len() > rows.len());
    let (_, none) = app.get_as("acme", "/api/audit-logs?automation_id=nope", &acme.token);
    assert_eq!(items(&none).len(), 0);
}

#[test]
fn a_workspace_that_asks_invitees_to_verify_sends_them_a_link_and_waits_for_it() {
    let app = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .mailbox()
        .spawn();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let (s, v) = app.get_as("acme", "/api/settings/email-verification", &acme.token);
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"invitees_must_verify": false, "deployment_requires_verification": false})
    );
    let (s, v) = app.put_as(
        "acme",
        "/api/settings/email-verification",
        &acme.token,
        json!({"invitees_must_verify": true}),
    );
    assert_eq!(
        (s, v["invitees_must_verify"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    assert_eq!(
        app.audit_actions("acme", &acme.token, "tenant", &acme.tenant_id)
            .iter()
            .filter(|a| *a == "tenant.email_verification_changed")
            .count(),
        1
    );

    // The invitee signs up from the link, yet must follow a verification email first.
    app.invite("acme", &acme.token, "grace@example.com", "member");
    let invite = app.mailed_token("grace@example.com", "/invite");
    let (s, b) = app.post_anon(
        "",
        "/api/auth/signup",
        json!({"email": "grace@example.com",
        "password": wrk_tests::PASSWORD, "name": "Grace", "invitation_token": invite}),
    );
    assert_eq!(
        (s, b["email_verification_required"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{b}"
    );
    let (s, p) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "grace@example.com", "password": wrk_tests::PASSWORD}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("email_not_verified")),
        "{p}"
    );
    let verify = app.mailed_token("grace@example.com", "/verify-email");
    let (s, b) = app.post_anon("", "/api/auth/verify-email", json!({"token": verify}));
    assert_eq!(s, StatusCode::OK, "{b}");
    let grace = app.token("", "grace@example.com");
    let joined = app.accept_invitation(&grace, &invite);
    assert_eq!(joined["subdomain"], "acme");

    // Elsewhere the deployment's rule holds: a sign-up without an invitation logs in at once.
    app.signup("hal@example.com", "Hal");
    app.token("", "hal@example.com");
    // And a member may read the rule but not change it.
    let member = app.token("acme", "grace@example.com");
    let (s, _) = app.put_as(
        "acme",
        "/api/settings/email-verification",
        &member,
        json!({"invitees_must_verify": false}),
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[test]
fn the_ops_day_goes_from_a_home_queue_to_the_automation_and_moves_it_on_and_clients_keep_health() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@acme.example", "acme", "Acme Inc");
    let automation = app.create_automation("acme", &acme.token, "Invoice intake");
    app.save_blueprint("acme", &acme.token, &automation, blueprint(2500));

    let browser = Browser::with_size(1366, 900);
    ops_log_in(&app, &browser, "ops@wrk.example", "ops", "/ops");
    browser.wait_until(
        "location.pathname === '/ops' && document.querySelectorAll('[data-queue]').length > 0
         && document.querySelectorAll('[data-queue][aria-busy]').length === 0",
        "the work queues loaded",
    );
    let intake = browser.text("[data-queue=intake]");
    assert!(
        intake.contains("Invoice intake") && intake.contains("Acme Inc"),
        "{intake}"
    );
    assert_eq!(
        browser.eval("return document.querySelector('[data-queue=plugins]').dataset.available"),
        json!("false"),
        "plugins"
    );
    assert!(
        browser
            .text("[data-queue=plugins]")
            .contains("not recorded"),
        "unavailable, not 0"
    );
    shots_at_two_widths(&browser, "ops-home-queues");

    // The queue item opens the automation; its next move is a button; the move is made.
    browser.click(&format!(
        "[data-queue=intake] [data-queue-item='{automation}']"
    ));
    browser.wait_for("[data-actions] [data-to=needs_pricing]");
    browser.click("[data-actions] [data-to=needs_pricing]");
    browser.wait_until(
        "[...document.querySelectorAll('.badge')].some(b => b.textContent.includes('Awaiting approval'))",
        "the automation priced and waiting for the client",
    );
    shots_at_two_widths(&browser, "ops-automation-moved-on");
    browser.goto(&app.url("ops", "/ops"));
    browser.wait_until(
        "document.querySelectorAll('[data-queue][aria-busy]').length === 0",
        "the queues again",
    );
    assert!(
        browser
            .text("[data-queue=intake]")
            .contains("No new requests"),
        "the request left the queue"
    );

    // Clients: add one, link the workspace, accept the suggested health in one click.
    browser.goto(&app.url("ops", "/ops/clients"));
    browser.wait_for("[data-add-client]");
    shots_at_two_widths(&browser, "ops-clients-empty");
    browser.click("[data-add-client]");
    browser.fill("#new-client-name", "Acme Corp");
    browser.fill("#new-client-manager", "Sam");
    browser.fill(
        "#new-client-contacts",
        "Ada Lovelace, ada@acme.example, , CFO",
    );
    browser.click("form[data-form=new-client] button[type=submit]");
    browser.wait_for("[data-client-name]");
    browser.wait_until(
        "!document.querySelector('#link-workspace').disabled",
        "the workspaces to link",
    );
    browser.eval(&format!(
        "const s = document.querySelector('#link-workspace'); s.value = '{}'; return null;",
        acme.tenant_id
    ));
    browser.click("form[data-form=link-workspace] button[type=submit]");
    browser.wait_for("[data-accept-suggestion]");
    let reasons = browser.text("[data-reasons]");
    assert!(reasons.contains("No overdue tasks"), "{reasons}");
    assert!(
        browser
            .text("[data-no-data]")
            .to_lowercase()
            .contains("failure rate"),
        "missing signals say no data"
    );
    browser.click("[data-accept-suggestion]");
    browser.wait_until(
        "document.querySelector('[data-health-history] li') !== null",
        "the accepted status in the history",
    );
    assert!(
        browser
            .text("[data-health-history]")
            .contains("No overdue tasks")
    );
    shots_at_two_widths(&browser, "ops-client");
    browser.goto(&app.url("ops", "/ops/clients"));
    browser.wait_for("[data-client-list] tbody tr");
    assert!(browser.text("[data-client-list]").contains("Healthy"));
    shots_at_two_widths(&browser, "ops-clients");

    // The workspace side: the automation page offers its whole audit trail.
    log_in(&app, &browser, "ada@acme.example", "acme");
    browser.goto(&app.url("acme", &format!("/app/automations/{automation}")));
    browser.click("[data-audit-trail]");
    browser.wait_for("[data-audit] tbody tr");
    browser.wait_until(
        "document.querySelector('[data-audit-automation]')?.textContent.includes('Invoice intake')",
        "the trail names its automation",
    );
    let trail = browser.text("[data-audit]");
    assert!(
        trail.contains("Status changed") && trail.contains("Task"),
        "{trail}"
    );
    assert!(
        !trail.contains("Workspace created"),
        "only the automation's rows: {trail}"
    );
    shots_at_two_widths(&browser, "automation-audit-trail");

    // Settings: the owner asks invitees to verify their email, in one click.
    browser.goto(&app.url("acme", "/app/settings"));
    browser.wait_until(
        "!document.querySelector('#ws-invitees-verify').disabled",
        "the setting loaded",
    );
    browser.click("#ws-invitees-verify");
    browser.wait_until(
        "document.querySelector('[data-verification-setting] .help').textContent.includes('separate verification email')",
        "the setting saved",
    );
    let (_, v) = app.get_as("acme", "/api/settings/email-verification", &acme.token);
    assert_eq!(v["invitees_must_verify"], true, "{v}");
    shots_at_two_widths(&browser, "settings-invitee-verification");
}
