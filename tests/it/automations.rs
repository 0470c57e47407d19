//! Automations, versions, blueprint, transitions, auto-quote, tasks, archive and the audit log
//! (flows 8-13, 31, 32, 35), through the real binary.

use std::sync::{Arc, Barrier};

use wrk_tests::{Method, StatusCode, TestApp, Value, blueprint, json, version_path};

fn tasks(app: &TestApp, slug: &str, token: &str, query: &str) -> Vec<Value> {
    let (s, list) = app.get_as(slug, &format!("/api/tasks?limit=200&{query}"), token);
    assert_eq!(s, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}

#[test]
fn moving_a_valid_blueprint_to_needs_pricing_sends_a_quote_whose_lines_add_up() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let (s, created) = app.post_as(
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

    let (s, v) = app.put_as(
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

    let v = app.save_blueprint("acme", &acme, &id, blueprint(2500));
    assert_eq!(v["revision"], 1);
    assert!(
        v["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["severity"] != "error"),
        "{v}"
    );

    let (s, v) = app.transition("acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "awaiting_client_approval");

    let (s, quotes) = app.get_as("acme", "/api/quotes?status=sent", &acme);
    assert_eq!(s, 200, "{quotes}");
    let items = quotes["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{quotes}");
    let (s, quote) = app.get_as(
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

    let (s, projects) = app.get_as("acme", "/api/projects", &acme);
    assert_eq!(s, 200);
    assert_eq!(projects["items"][0]["quote_id"], quote["id"]);
    assert_eq!(projects["items"][0]["automation_id"], id.as_str());

    let (_, history) = app.get_as("acme", &format!("{}/history", version_path(&id)), &acme);
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

    let (_, a) = app.get_as("acme", &format!("/api/automations/{id}"), &acme);
    assert_eq!(a["status"], "awaiting_client_approval");
    let review: Vec<Value> = tasks(&app, "acme", &acme, "")
        .into_iter()
        .filter(|t| t["key"] == format!("quote:review:{}", quote["id"].as_str().unwrap()))
        .collect();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0]["assignee"], "client");

    // The workspace admins got an email (queued in the outbox) about the quote.
    let mails = app.outbox_to(&app.ops_token("ops"), "owner@acme.example");
    let quote_mails: Vec<_> = mails.iter().filter(|m| m["kind"] == "quote_sent").collect();
    assert_eq!(quote_mails.len(), 1, "{mails:?}");
    let text = quote_mails[0]["text"].as_str().unwrap();
    assert!(text.contains("Invoice intake"), "{text}");

    // The blueprint a quote was made from is not editable by the client any more.
    let (s, p) = app.put_as(
        "acme",
        &format!("{}/blueprint", version_path(&id)),
        &acme,
        json!({"blueprint": blueprint(2500), "revision": 1}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
}

#[test]
fn a_blueprint_with_validation_errors_fails_the_guard_and_its_tasks_close_when_fixed() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let id = app.create_automation("acme", &acme, "Payroll");
    let bad = json!({
        "steps": [{"id": "pay", "name": "Pay", "system": "Bank", "action": "transfer"}],
        "systems": [{"name": "Bank"}]
    });
    let v = app.save_blueprint("acme", &acme, &id, bad.clone());
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
    app.save_blueprint("acme", &acme, &id, bad);

    let (s, p) = app.transition("acme", &acme, &id, "needs_pricing");
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

    let mut fixed = blueprint(2500);
    fixed["systems"] = json!([{"name": "Bank"}]);
    fixed["trigger"]["system"] = json!("Bank");
    fixed["steps"] = json!([{"id": "pay", "name": "Pay", "system": "Bank", "action": "transfer"}]);
    app.save_blueprint("acme", &acme, &id, fixed);
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
    let (s, v) = app.transition("acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200, "{v}");
}

#[test]
fn every_move_outside_the_table_answers_409_with_the_allowed_list() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let ops = app.ops_token("ops");
    let tid = app.tenant_id("acme", &acme);
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
            let (s, p) = app.transition("acme", &acme, id, to);
            assert_eq!(
                (s, p["code"].as_str()),
                (StatusCode::CONFLICT, Some("invalid_transition")),
                "{to}: {p}"
            );
            assert_eq!(p["allowed"], json!(allowed_client), "{to}: {p}");
            let (s, p) = app.post_as(
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
    let intake = app.create_automation("acme", &acme, "Intake");
    sweep(
        &intake,
        &["needs_pricing", "archived"],
        &["needs_pricing", "archived"],
        &["needs_pricing", "archived"],
    );

    // From awaiting_client_approval, reached by an ops move (which quotes at once).
    let awaiting = app.create_automation("acme", &acme, "Awaiting");
    app.save_blueprint("acme", &acme, &awaiting, blueprint(2500));
    let (s, v) = app.post_as(
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
    let archived = app.create_automation("acme", &acme, "Archived");
    let (s, v) = app.transition("acme", &acme, &archived, "archived");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["allowed_transitions"], json!([]));
    sweep(&archived, &[], &[], &[]);
}

#[test]
fn moves_reserved_to_one_side_refuse_the_other_with_403() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let ops = app.ops_token("ops");
    let tid = app.tenant_id("acme", &acme);
    let id = app.quoted("acme", &acme, "Quoted", 2500);
    let ops_move = |to: &str| {
        app.post_as(
            "ops",
            &format!("/api/ops/tenants/{tid}/automations/{id}/versions/1/transitions"),
            &ops,
            json!({"to": to}),
        )
    };
    // Only the system (signing, rejecting a quote) moves an awaiting version on or back.
    for to in ["ready_to_build", "needs_pricing"] {
        let (s, p) = app.transition("acme", &acme, &id, to);
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
    let writer = app.api_key("acme", &acme, &["write"]);
    let (s, p) = app.transition("acme", &writer, &id, "archived");
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("transition_not_permitted")),
        "{p}"
    );
    // A read-scoped key cannot move anything.
    let reader = app.api_key("acme", &acme, &["read"]);
    assert_eq!(app.transition("acme", &reader, &id, "archived").0, 403);
    let (s, v) = ops_move("archived");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "archived");
    // Ops may edit a blueprint only in intake (and needs_pricing), not after.
    let other = app.quoted("acme", &acme, "Other", 2500);
    let (s, p) = app.put_as(
        "ops",
        &format!("/api/ops/tenants/{tid}/automations/{other}/versions/1/blueprint"),
        &ops,
        json!({"blueprint": blueprint(2500), "revision": 1}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{p}"
    );
}

#[test]
fn two_concurrent_blueprint_updates_from_the_same_revision_give_one_200_and_one_409() {
    let app = Arc::new(TestApp::spawn_open());
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let id = app.create_automation("acme", &acme, "Race");
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let (app, acme, id, barrier) = (app.clone(), acme.clone(), id.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut bp = blueprint(2500);
                bp["volume"]["monthly_runs"] = json!(1000 + i);
                barrier.wait();
                let (s, body) = app.put_as(
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
    let (_, v) = app.get_as("acme", &version_path(&id), &acme);
    assert_eq!(v["revision"], 1);
    assert_eq!(
        v["blueprint"]["volume"]["monthly_runs"],
        1000 + results[0].2
    );
    assert_eq!(
        app.audit_actions("acme", &acme, "version", &format!("{id}:1")),
        ["version.blueprint_updated", "version.created"]
    );
}

#[test]
fn a_token_of_beta_sees_none_of_acmes_automations_quotes_or_tasks() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let beta = app.owner_of("owner@beta.example", "beta").token;
    let id = app.quoted("acme", &acme, "Secret", 2500);
    let (_, quotes) = app.get_as("acme", "/api/quotes", &acme);
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
            let (s, body) = app.get_as(host, &path, &beta);
            assert_eq!(s, 404, "{host}{path}: {body}");
            assert!(!body.to_string().contains("Secret"));
        }
        let (s, _) = app.patch_as(
            host,
            &format!("/api/tasks/{task}"),
            &beta,
            json!({"status": "done"}),
        );
        assert_eq!(s, 404, "{host}");
        let (s, _) = app.transition(host, &beta, &id, "archived");
        assert_eq!(s, 404, "{host}");
    }
    for path in [
        "/api/automations",
        "/api/quotes",
        "/api/tasks",
        "/api/projects",
    ] {
        let (s, list) = app.get_as("beta", path, &beta);
        assert_eq!(s, 200, "{path}");
        assert_eq!(list["items"], json!([]), "{path}");
    }
    let (_, v) = app.get_as("acme", &version_path(&id), &acme);
    assert_eq!(v["status"], "awaiting_client_approval");
}

#[test]
fn every_mutating_call_leaves_exactly_one_audit_row_per_change() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let id = app.create_automation("acme", &acme, "Audited");
    let (s, _) = app.patch_as(
        "acme",
        &format!("/api/automations/{id}"),
        &acme,
        json!({"name": "Audited 2"}),
    );
    assert_eq!(s, 200);
    let (s, _) = app.put_as(
        "acme",
        &format!("{}/requirements", version_path(&id)),
        &acme,
        json!({"text": "Do the thing"}),
    );
    assert_eq!(s, 200);
    app.save_blueprint("acme", &acme, &id, blueprint(2500));
    let (s, _) = app.transition("acme", &acme, &id, "needs_pricing");
    assert_eq!(s, 200);

    assert_eq!(
        app.audit_actions("acme", &acme, "automation", &id),
        ["automation.created", "automation.updated"]
    );
    assert_eq!(
        app.audit_actions("acme", &acme, "version", &format!("{id}:1")),
        [
            "version.blueprint_updated",
            "version.created",
            "version.requirements_updated",
            "version.transitioned",
            "version.transitioned",
        ]
    );
    let (_, quotes) = app.get_as("acme", "/api/quotes", &acme);
    let quote = quotes["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.audit_actions("acme", &acme, "quote", quote),
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
            app.audit_actions("acme", &acme, "task", tid),
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
    let (s, t) = app.patch_as(
        "acme",
        &format!("/api/tasks/{tid}"),
        &acme,
        json!({"status": "in_progress"}),
    );
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        app.audit_actions("acme", &acme, "task", tid),
        ["task.created", "task.updated"]
    );

    // The audit log is for admins only, and exports as CSV.
    let reader = app.api_key("acme", &acme, &["read"]);
    assert_eq!(app.get_as("acme", "/api/audit-logs", &reader).0, 403);
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
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let kept = app.create_automation("acme", &acme, "Kept invoices");
    let gone = app.create_automation("acme", &acme, "Gone invoices");
    app.create_automation("acme", &acme, "Payroll");
    let (s, v) = app.transition("acme", &acme, &gone, "archived");
    assert_eq!(s, 200, "{v}");

    for (s, p) in [
        app.patch_as(
            "acme",
            &format!("/api/automations/{gone}"),
            &acme,
            json!({"name": "x"}),
        ),
        app.put_as(
            "acme",
            &format!("{}/requirements", version_path(&gone)),
            &acme,
            json!({"text": "x"}),
        ),
        app.put_as(
            "acme",
            &format!("{}/blueprint", version_path(&gone)),
            &acme,
            json!({"blueprint": blueprint(2500), "revision": 0}),
        ),
        app.post_as(
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
        let (s, list) = app.get_as("acme", &format!("/api/automations?{query}"), &acme);
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

    let (_, page) = app.get_as("acme", "/api/automations?limit=1", &acme);
    assert_eq!(page["items"][0]["name"], "Payroll");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page) = app.get_as(
        "acme",
        &format!("/api/automations?limit=1&cursor={cursor}"),
        &acme,
    );
    assert_eq!(page["items"][0]["id"], kept.as_str());
    assert_eq!(page["next_cursor"], Value::Null);
}

#[test]
fn a_new_version_is_refused_while_one_is_in_flight_and_names_are_checked() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let id = app.quoted("acme", &acme, "In flight", 2500);
    let (s, p) = app.post_as(
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
    let (s, v) = app.get_as(
        "acme",
        &format!("/api/automations/{id}/versions/latest"),
        &acme,
    );
    assert_eq!((s, v["number"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(
        app.get_as("acme", &format!("/api/automations/{id}/versions/2"), &acme)
            .0,
        404
    );

    for name in [json!("   "), json!("x".repeat(201))] {
        let (s, p) = app.post_as("acme", "/api/automations", &acme, json!({"name": name}));
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
            "{p}"
        );
    }
    let (s, p) = app.post_as(
        "acme",
        "/api/automations",
        &acme,
        json!({"name": "x", "owner": "me"}),
    );
    assert_eq!(s, 422, "unknown fields are refused: {p}");
    let (_, doc) = app.get_as("acme", "/api/openapi.json", &acme);
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
    let (_, doc) = app.get_as("ops", "/api/openapi.json", &acme);
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
    let (s, schema) = app.get_as("acme", "/api/schemas/blueprint", &acme);
    assert_eq!(s, 200);
    assert_eq!(
        schema["required"],
        json!(["trigger", "steps", "systems", "volume"])
    );
}

#[test]
fn tasks_are_moved_only_by_their_side_and_ops_list_every_workspace() {
    let app = TestApp::spawn_open();
    let acme = app.owner_of("owner@acme.example", "acme").token;
    let ops = app.ops_token("ops");
    let tid = app.tenant_id("acme", &acme);
    let id = app.create_automation("acme", &acme, "Mixed");
    // A step on an undeclared system: an error whose task is for ops.
    let mut bp = blueprint(2500);
    bp["steps"][1]["system"] = json!("Sage");
    app.save_blueprint("acme", &acme, &id, bp);
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
    // A task moved by the workspace (on its host) or by ops (through the workspace's id).
    let by_client = |task: &str, status: &str| {
        app.patch_as(
            "acme",
            &format!("/api/tasks/{task}"),
            &acme,
            json!({"status": status}),
        )
    };
    let by_ops = |task: &str, status: &str| {
        app.patch_as(
            "ops",
            &format!("/api/ops/tenants/{tid}/tasks/{task}"),
            &ops,
            json!({"status": status}),
        )
    };

    let (s, p) = by_client(ops_id, "done");
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{p}"
    );
    let (s, p) = by_ops(client_id, "done");
    assert_eq!(s, 403, "{p}");
    for status in ["in_progress", "done", "todo"] {
        let (s, t) = by_ops(ops_id, status);
        assert_eq!(
            (s, t["status"].as_str()),
            (StatusCode::OK, Some(status)),
            "{t}"
        );
    }
    let (s, t) = by_client(client_id, "in_progress");
    assert_eq!(
        (s, t["status"].as_str()),
        (StatusCode::OK, Some("in_progress")),
        "{t}"
    );
    let (s, p) = by_client(client_id, "finished");
    assert_eq!(s, 422, "{p}");

    let (s, list) = app.get_as(
        "ops",
        "/api/ops/automations?status=intake_in_progress",
        &ops,
    );
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["tenant_id"], tid.as_str());
    // Workspace tokens get nothing on the ops host.
    assert_ne!(app.get_as("ops", "/api/ops/automations", &acme).0, 200);
}
