//! Automations, versions, blueprint, transitions, auto-quote, tasks, archive and the audit log
//! (flows 8-13, 31, 32, 35), through the real binary.

use std::process::Command;
use std::sync::{Arc, Barrier};

use wrk_tests::{Method, StatusCode, TestApp, Value, json};

const PASSWORD: &str = "correct horse battery staple";

fn call(
    app: &TestApp,
    method: Method,
    host: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, host, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().expect("request");
    let status = res.status();
    (status, res.json().unwrap_or(Value::Null))
}

fn get(app: &TestApp, host: &str, path: &str, token: &str) -> (StatusCode, Value) {
    call(app, Method::GET, host, path, token, None)
}

fn post(app: &TestApp, host: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::POST, host, path, token, Some(body))
}

fn put(app: &TestApp, host: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::PUT, host, path, token, Some(body))
}

fn patch(app: &TestApp, host: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::PATCH, host, path, token, Some(body))
}

fn spawn() -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        .spawn()
}

/// Signs up `email`, creates the workspace `slug`, and returns a workspace access token.
fn owner_of(app: &TestApp, email: &str, slug: &str) -> String {
    let anon = |path: &str, host: &str, body: Value| {
        let res = app
            .request(Method::POST, host, path)
            .json(&body)
            .send()
            .unwrap();
        let status = res.status();
        let v: Value = res.json().unwrap_or(Value::Null);
        (status, v)
    };
    let (s, b) = anon(
        "/api/auth/signup",
        "",
        json!({"email": email, "password": PASSWORD, "name": "Owner"}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, login) = anon(
        "/api/auth/login",
        "",
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{login}");
    let account = login["access_token"].as_str().unwrap().to_owned();
    let (s, b) = post(
        app,
        "",
        "/api/account/workspaces",
        &account,
        json!({"name": slug.to_uppercase(), "subdomain": slug}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, login) = anon(
        "/api/auth/login",
        slug,
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{login}");
    login["access_token"].as_str().unwrap().to_owned()
}

/// An ops user made with the CLI, logged in on the ops host.
fn ops_token(app: &TestApp) -> String {
    let out = Command::new(wrk_tests::wrk_bin())
        .args([
            "ops",
            "create-user",
            "--email",
            "ops@wrk.example",
            "--role",
            "ops",
        ])
        .env("WRK_DATA_DIR", app.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password")
        .trim()
        .to_owned();
    let res = app
        .request(Method::POST, "ops", "/api/ops/auth/login")
        .json(&json!({"email": "ops@wrk.example", "password": password}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

fn api_key(app: &TestApp, slug: &str, token: &str, scopes: &[&str]) -> String {
    let (s, b) = post(
        app,
        slug,
        "/api/api-keys",
        token,
        json!({"name": format!("key {}", scopes.join("+")), "scopes": scopes}),
    );
    assert_eq!(s, 201, "{b}");
    b["key"].as_str().unwrap().to_owned()
}

fn tenant_id(app: &TestApp, slug: &str, token: &str) -> String {
    let (s, me) = get(app, slug, "/api/me", token);
    assert_eq!(s, 200, "{me}");
    me["tenant"]["id"].as_str().unwrap().to_owned()
}

fn good_blueprint() -> Value {
    json!({
        "trigger": {"kind": "email", "system": "Gmail"},
        "steps": [
            {"id": "read", "name": "Read the invoice", "system": "Gmail", "action": "fetch attachment"},
            {"id": "book", "name": "Book it", "system": "Xero", "action": "create bill"}
        ],
        "systems": [{"name": "Gmail"}, {"name": "Xero"}],
        "volume": {"monthly_runs": 2500},
        "slas": {"max_latency_seconds": 600}
    })
}

/// Creates an automation; returns its id.
fn create(app: &TestApp, slug: &str, token: &str, name: &str) -> String {
    let (s, a) = post(app, slug, "/api/automations", token, json!({"name": name}));
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

fn version_path(id: &str) -> String {
    format!("/api/automations/{id}/versions/1")
}

/// Saves `bp` on version 1 from its current revision.
fn save_blueprint(app: &TestApp, slug: &str, token: &str, id: &str, bp: Value) -> Value {
    let (_, v) = get(app, slug, &version_path(id), token);
    let (s, v) = put(
        app,
        slug,
        &format!("{}/blueprint", version_path(id)),
        token,
        json!({"blueprint": bp, "revision": v["revision"]}),
    );
    assert_eq!(s, 200, "{v}");
    v
}

fn move_to(app: &TestApp, slug: &str, token: &str, id: &str, to: &str) -> (StatusCode, Value) {
    post(
        app,
        slug,
        &format!("{}/transitions", version_path(id)),
        token,
        json!({"to": to}),
    )
}

/// An automation whose version 1 is priced and waits for the client's approval.
fn quoted(app: &TestApp, slug: &str, token: &str, name: &str) -> String {
    let id = create(app, slug, token, name);
    save_blueprint(app, slug, token, &id, good_blueprint());
    let (s, v) = move_to(app, slug, token, &id, "needs_pricing");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "awaiting_client_approval", "{v}");
    id
}

fn audit_actions(
    app: &TestApp,
    slug: &str,
    token: &str,
    entity_type: &str,
    entity_id: &str,
) -> Vec<String> {
    let (s, log) = get(
        app,
        slug,
        &format!("/api/audit-logs?entity_type={entity_type}&entity_id={entity_id}&limit=200"),
        token,
    );
    assert_eq!(s, 200, "{log}");
    let mut actions: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    actions
}

fn tasks(app: &TestApp, slug: &str, token: &str, query: &str) -> Vec<Value> {
    let (s, list) = get(app, slug, &format!("/api/tasks?limit=200&{query}"), token);
    assert_eq!(s, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}

#[test]
fn moving_a_valid_blueprint_to_needs_pricing_sends_a_quote_whose_lines_add_up() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let (s, created) = post(
        &app,
        "acme",
        "/api/automations",
        &acme,
        json!({"name": "  Invoice intake  ", "description": "Book supplier invoices"}),
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["name"], "Invoice intake");
    assert_eq!(created["status"], "intake_in_progress");
    assert_eq!(created["latest_version"], 1);
    assert_eq!(created["live_version"], Value::Null);
    let id = created["id"].as_str().unwrap().to_owned();

    let (s, v) = put(
        &app,
        "acme",
        &format!("{}/requirements", version_path(&id)),
        &acme,
        json!({"text": "Every invoice emailed to ap@ goes into Xero."}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["requirements"],
        "Every invoice emailed to ap@ goes into Xero."
    );
    assert_eq!(
        v["allowed_transitions"],
        json!(["needs_pricing", "archived"])
    );

    let v = save_blueprint(&app, "acme", &acme, &id, good_blueprint());
    assert_eq!(v["revision"], 1);
    assert!(
        v["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["severity"] != "error"),
        "{v}"
    );

    let (s, v) = move_to(&app, "acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "awaiting_client_approval");

    let (s, quotes) = get(&app, "acme", "/api/quotes?status=sent", &acme);
    assert_eq!(s, 200, "{quotes}");
    let items = quotes["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{quotes}");
    let (s, quote) = get(
        &app,
        "acme",
        &format!("/api/quotes/{}", items[0]["id"].as_str().unwrap()),
        &acme,
    );
    assert_eq!(s, 200, "{quote}");
    assert_eq!(quote["status"], "sent");
    assert_eq!(quote["currency"], "USD");
    assert_eq!(quote["automation_id"], id.as_str());
    assert_eq!(quote["version"], 1);
    assert_eq!(quote["revision"], 1);
    assert_eq!(quote["plugin"]["name"], "builtin-pricing");
    let sum = |recurrence: &str| -> i64 {
        quote["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["recurrence"] == recurrence)
            .map(|l| {
                assert_eq!(
                    l["amount_cents"].as_i64().unwrap(),
                    l["quantity"].as_i64().unwrap() * l["unit_cents"].as_i64().unwrap(),
                    "{l}"
                );
                l["amount_cents"].as_i64().unwrap()
            })
            .sum()
    };
    assert!(quote["setup_fee_cents"].as_i64().unwrap() > 0);
    assert_eq!(sum("one_time"), quote["setup_fee_cents"].as_i64().unwrap());
    assert_eq!(sum("monthly"), quote["monthly_fee_cents"].as_i64().unwrap());

    let (s, projects) = get(&app, "acme", "/api/projects", &acme);
    assert_eq!(s, 200);
    assert_eq!(projects["items"][0]["quote_id"], quote["id"]);
    assert_eq!(projects["items"][0]["automation_id"], id.as_str());

    let (_, history) = get(
        &app,
        "acme",
        &format!("{}/history", version_path(&id)),
        &acme,
    );
    let moves: Vec<(Value, Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from"].clone(),
                h["to"].clone(),
                h["actor"]["kind"].clone(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("intake_in_progress"), json!("client")),
            (
                json!("intake_in_progress"),
                json!("needs_pricing"),
                json!("client")
            ),
            (
                json!("needs_pricing"),
                json!("awaiting_client_approval"),
                json!("system")
            ),
        ]
    );

    let (_, a) = get(&app, "acme", &format!("/api/automations/{id}"), &acme);
    assert_eq!(a["status"], "awaiting_client_approval");
    let review: Vec<Value> = tasks(&app, "acme", &acme, "")
        .into_iter()
        .filter(|t| t["key"] == format!("quote:review:{}", quote["id"].as_str().unwrap()))
        .collect();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0]["assignee"], "client");

    // The workspace admins got an email (queued in the outbox) about the quote.
    let storage = wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(app.data_dir()))
        .expect("storage");
    let mails = storage
        .control()
        .list_emails(&wrk_tenants::outbox::EmailFilter {
            to: Some("owner@acme.example".into()),
            ..Default::default()
        })
        .unwrap();
    let quote_mails: Vec<_> = mails.iter().filter(|m| m.kind == "quote_sent").collect();
    assert_eq!(quote_mails.len(), 1, "{mails:?}");
    assert!(
        quote_mails[0].text.contains("Invoice intake"),
        "{}",
        quote_mails[0].text
    );
    drop(storage);

    // The blueprint a quote was made from is not editable by the client any more.
    let (s, p) = put(
        &app,
        "acme",
        &format!("{}/blueprint", version_path(&id)),
        &acme,
        json!({"blueprint": good_blueprint(), "revision": 1}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
}

#[test]
fn a_blueprint_with_validation_errors_fails_the_guard_and_its_tasks_close_when_fixed() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let id = create(&app, "acme", &acme, "Payroll");
    let bad = json!({
        "steps": [{"id": "pay", "name": "Pay", "system": "Bank", "action": "transfer"}],
        "systems": [{"name": "Bank"}]
    });
    let v = save_blueprint(&app, "acme", &acme, &id, bad.clone());
    let errors: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "error")
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(
        errors.contains(&"missing_trigger") && errors.contains(&"missing_volume"),
        "{v}"
    );
    // The same causes again make no second task.
    save_blueprint(&app, "acme", &acme, &id, bad);

    let (s, p) = move_to(&app, "acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["code"], "guard_failed");
    assert_eq!(p["failed"][0]["code"], "no_validation_errors", "{p}");
    assert!(p["failed"][0]["message"].as_str().unwrap().len() > 10);

    let query = format!("automation_id={id}");
    let open: Vec<Value> = tasks(&app, "acme", &acme, &query)
        .into_iter()
        .filter(|t| t["status"] != "done")
        .collect();
    for key in [
        "validation:missing_trigger:/trigger",
        "validation:missing_volume:/volume",
    ] {
        assert_eq!(
            open.iter().filter(|t| t["key"] == key).count(),
            1,
            "{key} in {open:?}"
        );
    }
    assert_eq!(
        open.iter()
            .filter(|t| t["key"] == "credentials:bank")
            .count(),
        1,
        "{open:?}"
    );

    let mut fixed = good_blueprint();
    fixed["systems"] = json!([{"name": "Bank"}]);
    fixed["trigger"]["system"] = json!("Bank");
    fixed["steps"] = json!([{"id": "pay", "name": "Pay", "system": "Bank", "action": "transfer"}]);
    save_blueprint(&app, "acme", &acme, &id, fixed);
    let all = tasks(&app, "acme", &acme, &query);
    for key in [
        "validation:missing_trigger:/trigger",
        "validation:missing_volume:/volume",
    ] {
        let t: Vec<&Value> = all.iter().filter(|t| t["key"] == key).collect();
        assert_eq!(t.len(), 1, "{key}");
        assert_eq!(t[0]["status"], "done");
        assert_eq!(t[0]["closed_by"], "system");
    }
    let (s, v) = move_to(&app, "acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200, "{v}");
}

#[test]
fn every_move_outside_the_table_answers_409_with_the_allowed_list() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let ops = ops_token(&app);
    let tid = tenant_id(&app, "acme", &acme);
    const ALL: [&str; 11] = [
        "intake_in_progress",
        "needs_pricing",
        "awaiting_client_approval",
        "ready_to_build",
        "build_in_progress",
        "qa_testing",
        "ready_to_launch",
        "live",
        "paused",
        "blocked",
        "archived",
    ];
    let sweep = |id: &str, allowed_client: &[&str], allowed_ops: &[&str], in_table: &[&str]| {
        for to in ALL.iter().filter(|to| !in_table.contains(to)) {
            let (s, p) = move_to(&app, "acme", &acme, id, to);
            assert_eq!(
                (s, p["code"].as_str()),
                (StatusCode::CONFLICT, Some("invalid_transition")),
                "{to}: {p}"
            );
            assert_eq!(p["allowed"], json!(allowed_client), "{to}: {p}");
            let (s, p) = post(
                &app,
                "ops",
                &format!("/api/ops/tenants/{tid}/automations/{id}/versions/1/transitions"),
                &ops,
                json!({"to": to}),
            );
            assert_eq!(
                (s, p["code"].as_str()),
                (StatusCode::CONFLICT, Some("invalid_transition")),
                "ops {to}: {p}"
            );
            assert_eq!(p["allowed"], json!(allowed_ops), "ops {to}: {p}");
        }
    };

    // From intake_in_progress.
    let intake = create(&app, "acme", &acme, "Intake");
    sweep(
        &intake,
        &["needs_pricing", "archived"],
        &["needs_pricing", "archived"],
        &["needs_pricing", "archived"],
    );

    // From awaiting_client_approval, reached by an ops move (which quotes at once).
    let awaiting = create(&app, "acme", &acme, "Awaiting");
    save_blueprint(&app, "acme", &acme, &awaiting, good_blueprint());
    let (s, v) = post(
        &app,
        "ops",
        &format!("/api/ops/tenants/{tid}/automations/{awaiting}/versions/1/transitions"),
        &ops,
        json!({"to": "needs_pricing"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "awaiting_client_approval");
    sweep(
        &awaiting,
        &["archived"],
        &["archived"],
        &["ready_to_build", "needs_pricing", "archived"],
    );

    // From archived: nothing at all.
    let archived = create(&app, "acme", &acme, "Archived");
    let (s, v) = move_to(&app, "acme", &acme, &archived, "archived");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["allowed_transitions"], json!([]));
    sweep(&archived, &[], &[], &[]);
}

#[test]
fn moves_reserved_to_one_side_refuse_the_other_with_403() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let ops = ops_token(&app);
    let tid = tenant_id(&app, "acme", &acme);
    let id = quoted(&app, "acme", &acme, "Quoted");
    let ops_move = |to: &str| {
        post(
            &app,
            "ops",
            &format!("/api/ops/tenants/{tid}/automations/{id}/versions/1/transitions"),
            &ops,
            json!({"to": to}),
        )
    };
    // Only the system (signing, rejecting a quote) moves an awaiting version on or back.
    for to in ["ready_to_build", "needs_pricing"] {
        let (s, p) = move_to(&app, "acme", &acme, &id, to);
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("transition_not_permitted")),
            "{p}"
        );
        let (s, p) = ops_move(to);
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("transition_not_permitted")),
            "{p}"
        );
    }
    // Archiving is for workspace owners/admins and ops, not plain members (a write-scoped key
    // acts as a member).
    let writer = api_key(&app, "acme", &acme, &["write"]);
    let (s, p) = move_to(&app, "acme", &writer, &id, "archived");
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("transition_not_permitted")),
        "{p}"
    );
    // A read-scoped key cannot move anything.
    let reader = api_key(&app, "acme", &acme, &["read"]);
    assert_eq!(move_to(&app, "acme", &reader, &id, "archived").0, 403);
    let (s, v) = ops_move("archived");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "archived");
    // Ops may edit a blueprint only in intake (and needs_pricing), not after.
    let other = quoted(&app, "acme", &acme, "Other");
    let (s, p) = put(
        &app,
        "ops",
        &format!("/api/ops/tenants/{tid}/automations/{other}/versions/1/blueprint"),
        &ops,
        json!({"blueprint": good_blueprint(), "revision": 1}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
}

#[test]
fn two_concurrent_blueprint_updates_from_the_same_revision_give_one_200_and_one_409() {
    let app = Arc::new(spawn());
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let id = create(&app, "acme", &acme, "Race");
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let (app, acme, id, barrier) = (app.clone(), acme.clone(), id.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut bp = good_blueprint();
                bp["volume"]["monthly_runs"] = json!(1000 + i);
                barrier.wait();
                let (s, body) = put(
                    &app,
                    "acme",
                    &format!("{}/blueprint", version_path(&id)),
                    &acme,
                    json!({"blueprint": bp, "revision": 0}),
                );
                (s, body, i)
            })
        })
        .collect();
    let mut results: Vec<(StatusCode, Value, i32)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    results.sort_by_key(|r| r.0);
    assert_eq!(results[0].0, 200, "{:?}", results[0].1);
    assert_eq!(results[1].0, 409, "{:?}", results[1].1);
    assert_eq!(results[1].1["code"], "stale_revision");
    let (_, v) = get(&app, "acme", &version_path(&id), &acme);
    assert_eq!(v["revision"], 1);
    assert_eq!(
        v["blueprint"]["volume"]["monthly_runs"],
        1000 + results[0].2
    );
    assert_eq!(
        audit_actions(&app, "acme", &acme, "version", &format!("{id}:1")),
        ["version.blueprint_updated", "version.created"]
    );
}

#[test]
fn a_token_of_beta_sees_none_of_acmes_automations_quotes_or_tasks() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let beta = owner_of(&app, "owner@beta.example", "beta");
    let id = quoted(&app, "acme", &acme, "Secret");
    let (_, quotes) = get(&app, "acme", "/api/quotes", &acme);
    let quote = quotes["items"][0]["id"].as_str().unwrap().to_owned();
    let task = tasks(&app, "acme", &acme, "")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for host in ["acme", "beta"] {
        for path in [
            format!("/api/automations/{id}"),
            version_path(&id),
            format!("/api/quotes/{quote}"),
        ] {
            let (s, body) = get(&app, host, &path, &beta);
            assert_eq!(s, 404, "{host}{path}: {body}");
            assert!(!body.to_string().contains("Secret"));
        }
        let (s, _) = patch(
            &app,
            host,
            &format!("/api/tasks/{task}"),
            &beta,
            json!({"status": "done"}),
        );
        assert_eq!(s, 404, "{host}");
        let (s, _) = move_to(&app, host, &beta, &id, "archived");
        assert_eq!(s, 404, "{host}");
    }
    for path in [
        "/api/automations",
        "/api/quotes",
        "/api/tasks",
        "/api/projects",
    ] {
        let (s, list) = get(&app, "beta", path, &beta);
        assert_eq!(s, 200, "{path}");
        assert_eq!(list["items"], json!([]), "{path}");
    }
    let (_, v) = get(&app, "acme", &version_path(&id), &acme);
    assert_eq!(v["status"], "awaiting_client_approval");
}

#[test]
fn every_mutating_call_leaves_exactly_one_audit_row_per_change() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let id = create(&app, "acme", &acme, "Audited");
    let (s, _) = patch(
        &app,
        "acme",
        &format!("/api/automations/{id}"),
        &acme,
        json!({"name": "Audited 2"}),
    );
    assert_eq!(s, 200);
    let (s, _) = put(
        &app,
        "acme",
        &format!("{}/requirements", version_path(&id)),
        &acme,
        json!({"text": "Do the thing"}),
    );
    assert_eq!(s, 200);
    save_blueprint(&app, "acme", &acme, &id, good_blueprint());
    let (s, _) = move_to(&app, "acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200);

    assert_eq!(
        audit_actions(&app, "acme", &acme, "automation", &id),
        ["automation.created", "automation.updated"]
    );
    assert_eq!(
        audit_actions(&app, "acme", &acme, "version", &format!("{id}:1")),
        [
            "version.blueprint_updated",
            "version.created",
            "version.requirements_updated",
            "version.transitioned",
            "version.transitioned",
        ]
    );
    let (_, quotes) = get(&app, "acme", "/api/quotes", &acme);
    let quote = quotes["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        audit_actions(&app, "acme", &acme, "quote", quote),
        ["quote.created"]
    );
    // Each task: one row when created, and one more if its cause cleared (the requirements
    // were validated against the empty blueprint first, whose missing parts made tasks).
    let all = tasks(&app, "acme", &acme, "");
    assert!(all.iter().any(|t| t["closed_by"] == "system"));
    for t in &all {
        let tid = t["id"].as_str().unwrap();
        let expected: &[&str] = if t["closed_by"] == "system" {
            &["task.closed", "task.created"]
        } else {
            &["task.created"]
        };
        assert_eq!(
            audit_actions(&app, "acme", &acme, "task", tid),
            expected,
            "{t}"
        );
    }
    // A client task moved by the client: one more row.
    let client_task = tasks(&app, "acme", &acme, "")
        .into_iter()
        .find(|t| t["assignee"] == "client" && t["status"] == "todo")
        .unwrap();
    let tid = client_task["id"].as_str().unwrap();
    let (s, t) = patch(
        &app,
        "acme",
        &format!("/api/tasks/{tid}"),
        &acme,
        json!({"status": "in_progress"}),
    );
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        audit_actions(&app, "acme", &acme, "task", tid),
        ["task.created", "task.updated"]
    );

    // The audit log is for admins only, and exports as CSV.
    let reader = api_key(&app, "acme", &acme, &["read"]);
    assert_eq!(get(&app, "acme", "/api/audit-logs", &reader).0, 403);
    let res = app
        .request(
            Method::GET,
            "acme",
            &format!("/api/audit-logs?format=csv&entity_type=automation&entity_id={id}"),
        )
        .bearer_auth(&acme)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let csv = res.text().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,at,actor_kind,actor_id,action"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains("automation.updated") && lines[1].contains("\"{\"\"description\"\""),
        "{csv}"
    );
}

#[test]
fn archived_automations_are_read_only_and_hidden_unless_asked_for() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let kept = create(&app, "acme", &acme, "Kept invoices");
    let gone = create(&app, "acme", &acme, "Gone invoices");
    create(&app, "acme", &acme, "Payroll");
    let (s, v) = move_to(&app, "acme", &acme, &gone, "archived");
    assert_eq!(s, 200, "{v}");

    for (s, p) in [
        patch(
            &app,
            "acme",
            &format!("/api/automations/{gone}"),
            &acme,
            json!({"name": "x"}),
        ),
        put(
            &app,
            "acme",
            &format!("{}/requirements", version_path(&gone)),
            &acme,
            json!({"text": "x"}),
        ),
        put(
            &app,
            "acme",
            &format!("{}/blueprint", version_path(&gone)),
            &acme,
            json!({"blueprint": good_blueprint(), "revision": 0}),
        ),
        post(
            &app,
            "acme",
            &format!("/api/automations/{gone}/versions"),
            &acme,
            json!({}),
        ),
    ] {
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{p}"
        );
        assert!(p["detail"].as_str().unwrap().contains("archived"), "{p}");
    }

    let names = |query: &str| -> Vec<String> {
        let (s, list) = get(&app, "acme", &format!("/api/automations?{query}"), &acme);
        assert_eq!(s, 200, "{list}");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(""), ["Payroll", "Kept invoices"]);
    assert_eq!(
        names("include_archived=true"),
        ["Payroll", "Gone invoices", "Kept invoices"]
    );
    assert_eq!(names("status=archived"), ["Gone invoices"]);
    assert_eq!(names("q=INVOICES"), ["Kept invoices"]);
    assert_eq!(
        names("q=invoices&include_archived=true"),
        ["Gone invoices", "Kept invoices"]
    );
    assert_eq!(names("status=intake_in_progress&q=pay"), ["Payroll"]);

    let (_, page) = get(&app, "acme", "/api/automations?limit=1", &acme);
    assert_eq!(page["items"][0]["name"], "Payroll");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page) = get(
        &app,
        "acme",
        &format!("/api/automations?limit=1&cursor={cursor}"),
        &acme,
    );
    assert_eq!(page["items"][0]["id"], kept.as_str());
    assert_eq!(page["next_cursor"], Value::Null);
}

#[test]
fn a_new_version_is_refused_while_one_is_in_flight_and_names_are_checked() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let id = quoted(&app, "acme", &acme, "In flight");
    let (s, p) = post(
        &app,
        "acme",
        &format!("/api/automations/{id}/versions"),
        &acme,
        json!({}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
    let (s, v) = get(
        &app,
        "acme",
        &format!("/api/automations/{id}/versions/latest"),
        &acme,
    );
    assert_eq!((s, v["number"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(
        get(
            &app,
            "acme",
            &format!("/api/automations/{id}/versions/2"),
            &acme
        )
        .0,
        404
    );

    for name in [json!("   "), json!("x".repeat(201))] {
        let (s, p) = post(
            &app,
            "acme",
            "/api/automations",
            &acme,
            json!({"name": name}),
        );
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
            "{p}"
        );
    }
    let (s, p) = post(
        &app,
        "acme",
        "/api/automations",
        &acme,
        json!({"name": "x", "owner": "me"}),
    );
    assert_eq!(s, 422, "unknown fields are refused: {p}");
    let (_, doc) = get(&app, "acme", "/api/openapi.json", &acme);
    for path in [
        "/api/automations",
        "/api/automations/{id}/versions/{n}/transitions",
        "/api/automations/{id}/versions/{n}/blueprint",
        "/api/tasks/{id}",
        "/api/quotes/{id}",
        "/api/projects",
        "/api/audit-logs",
        "/api/schemas/blueprint",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} is not in the workspace OpenAPI"
        );
    }
    let (_, doc) = get(&app, "ops", "/api/openapi.json", &acme);
    for path in [
        "/api/ops/automations",
        "/api/ops/tenants/{tid}/automations/{id}/versions/{n}/transitions",
        "/api/ops/tenants/{tid}/tasks/{id}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} is not in the ops OpenAPI"
        );
    }
    let (s, schema) = get(&app, "acme", "/api/schemas/blueprint", &acme);
    assert_eq!(s, 200);
    assert_eq!(
        schema["required"],
        json!(["trigger", "steps", "systems", "volume"])
    );
}

#[test]
fn tasks_are_moved_only_by_their_side_and_ops_list_every_workspace() {
    let app = spawn();
    let acme = owner_of(&app, "owner@acme.example", "acme");
    let ops = ops_token(&app);
    let tid = tenant_id(&app, "acme", &acme);
    let id = create(&app, "acme", &acme, "Mixed");
    // A step on an undeclared system: an error whose task is for ops.
    let mut bp = good_blueprint();
    bp["steps"][1]["system"] = json!("Sage");
    save_blueprint(&app, "acme", &acme, &id, bp);
    let all = tasks(&app, "acme", &acme, "status=todo");
    let ops_task = all
        .iter()
        .find(|t| t["assignee"] == "ops")
        .expect("an ops task");
    let client_task = all
        .iter()
        .find(|t| t["assignee"] == "client")
        .expect("a client task");
    let (ops_id, client_id) = (
        ops_task["id"].as_str().unwrap(),
        client_task["id"].as_str().unwrap(),
    );

    let (s, p) = patch(
        &app,
        "acme",
        &format!("/api/tasks/{ops_id}"),
        &acme,
        json!({"status": "done"}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{p}"
    );
    let (s, p) = patch(
        &app,
        "ops",
        &format!("/api/ops/tenants/{tid}/tasks/{client_id}"),
        &ops,
        json!({"status": "done"}),
    );
    assert_eq!(s, 403, "{p}");
    for status in ["in_progress", "done", "todo"] {
        let (s, t) = patch(
            &app,
            "ops",
            &format!("/api/ops/tenants/{tid}/tasks/{ops_id}"),
            &ops,
            json!({"status": status}),
        );
        assert_eq!(
            (s, t["status"].as_str()),
            (StatusCode::OK, Some(status)),
            "{t}"
        );
    }
    let (s, t) = patch(
        &app,
        "acme",
        &format!("/api/tasks/{client_id}"),
        &acme,
        json!({"status": "in_progress"}),
    );
    assert_eq!(
        (s, t["status"].as_str()),
        (StatusCode::OK, Some("in_progress")),
        "{t}"
    );
    let (s, p) = patch(
        &app,
        "acme",
        &format!("/api/tasks/{client_id}"),
        &acme,
        json!({"status": "finished"}),
    );
    assert_eq!(s, 422, "{p}");

    let (s, list) = get(
        &app,
        "ops",
        "/api/ops/automations?status=intake_in_progress",
        &ops,
    );
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["tenant_id"], tid.as_str());
    // Workspace tokens get nothing on the ops host.
    assert_ne!(get(&app, "ops", "/api/ops/automations", &acme).0, 200);
}
