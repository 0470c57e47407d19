//! The endpoints behind the pages that used to mislead or dead-end (issue 8, items 4 and 6):
//! the ops workspace list and cross-workspace search, workspace search, renaming a workspace,
//! the unknown-workspace page's assets, rolling back with nothing to roll back to, and an invitee
//! signing up from the invitation link without a second verification.

use wrk_tests::{Method, PASSWORD, StatusCode, TestApp, json};

#[test]
fn ops_list_every_workspace_with_its_counts_and_search_across_them() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@example.com", "acme", "Acme Inc").token;
    let _beta = app
        .owner_named("bob@example.com", "beta", "Beta Labs")
        .token;
    app.create_automation_with(
        "acme",
        &acme,
        json!({"name": "Invoice intake", "description": "Book supplier invoices in Xero"}),
    );
    app.create_automation_with(
        "acme",
        &acme,
        json!({"name": "Stock sync", "description": "Nightly stock levels"}),
    );
    let ops = app.ops_token("ops");

    let (s, page) = app.get_as("ops", "/api/ops/tenants", &ops);
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
    let by_slug = |slug: &str| {
        items
            .iter()
            .find(|t| t["subdomain"] == slug)
            .unwrap()
            .clone()
    };
    let a = by_slug("acme");
    assert_eq!(a["name"], "Acme Inc");
    assert!(a["client"].is_null(), "{a}");
    assert_eq!(a["counts"]["members"], 1, "{a}");
    assert_eq!(a["counts"]["automations"], 2, "{a}");
    assert_eq!(by_slug("beta")["counts"]["automations"], 0);

    // Pages of one, newest first, then the filter.
    let (_, first) = app.get_as("ops", "/api/ops/tenants?limit=1", &ops);
    assert_eq!(first["items"][0]["subdomain"], "beta", "{first}");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, second) = app.get_as(
        "ops",
        &format!("/api/ops/tenants?limit=1&cursor={cursor}"),
        &ops,
    );
    assert_eq!(second["items"][0]["subdomain"], "acme", "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let (_, filtered) = app.get_as("ops", "/api/ops/tenants?q=LABS", &ops);
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1, "{filtered}");
    assert_eq!(filtered["items"][0]["name"], "Beta Labs");

    // A workspace token is not an ops token.
    let (s, _) = app.get_as("ops", "/api/ops/tenants", &acme);
    assert_eq!(s, 401);

    // Search across workspaces.
    let (s, r) = app.get_as("ops", "/api/ops/search?q=invoice", &ops);
    assert_eq!(s, 200, "{r}");
    let autos = r["automations"].as_array().unwrap();
    assert_eq!(autos.len(), 1, "{r}");
    assert_eq!(autos[0]["automation"]["name"], "Invoice intake");
    assert_eq!(autos[0]["workspace"]["name"], "Acme Inc");
    let (_, r) = app.get_as("ops", "/api/ops/search?q=beta", &ops);
    assert_eq!(r["workspaces"][0]["subdomain"], "beta", "{r}");
    let (_, r) = app.get_as("ops", "/api/ops/search?q=", &ops);
    assert_eq!(r["automations"].as_array().unwrap().len(), 0, "{r}");
}

#[test]
fn a_workspace_search_finds_its_automations_tasks_and_members_and_nothing_of_others() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@example.com", "acme", "Acme Inc").token;
    let beta = app
        .owner_named("bob@example.com", "beta", "Beta Labs")
        .token;
    let id = app.create_automation_with(
        "acme",
        &acme,
        json!({"name": "Invoice intake", "description": "Book supplier invoices"}),
    );
    app.create_automation_with(
        "beta",
        &beta,
        json!({"name": "Invoice matching", "description": "Beta's own"}),
    );

    let (s, r) = app.get_as("acme", "/api/search?q=INVOICE", &acme);
    assert_eq!(s, 200, "{r}");
    let autos = r["automations"].as_array().unwrap();
    assert_eq!(autos.len(), 1, "only this workspace's: {r}");
    assert_eq!(autos[0]["id"], id.as_str());
    let (_, r) = app.get_as("acme", "/api/search?q=hopper", &acme);
    assert_eq!(r["members"][0]["email"], "ada@example.com", "{r}");
    let (_, r) = app.get_as("acme", "/api/search?q=bob", &acme);
    assert_eq!(r["members"].as_array().unwrap().len(), 0, "{r}");

    let (s, p) = app.get_as("acme", &format!("/api/search?q={}", "x".repeat(201)), &acme);
    assert_eq!(s, 422, "{p}");
    let (s, _) = app.get_as("acme", "/api/search?q=invoice", &beta);
    assert_eq!(s, 403, "another workspace's token");
}

#[test]
fn owners_and_admins_rename_the_workspace_audited_and_its_address_stays() {
    let app = TestApp::spawn_open();
    let acme = app.owner_named("ada@example.com", "acme", "Acme Inc").token;
    let (s, b) = app.patch_as(
        "acme",
        "/api/workspace",
        &acme,
        json!({"name": "  Acme Corporation "}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "Acme Corporation");
    assert_eq!(b["subdomain"], "acme");
    let (_, me) = app.get_as("acme", "/api/me", &acme);
    assert_eq!(me["tenant"]["name"], "Acme Corporation", "{me}");
    let (_, ws) = app.get_as("acme", "/api/workspace", &acme);
    assert_eq!(ws["name"], "Acme Corporation", "{ws}");
    let account = app.token("", "ada@example.com");
    let (_, list) = app.get_as("", "/api/account/workspaces", &account);
    assert_eq!(list["items"][0]["name"], "Acme Corporation", "{list}");

    for bad in [
        json!({"name": "   "}),
        json!({"name": "x".repeat(201)}),
        json!({"name": "a\u{0}b"}),
    ] {
        let (s, p) = app.patch_as("acme", "/api/workspace", &acme, bad);
        assert_eq!(s, 422, "{p}");
    }

    // A read-only API key may not rename.
    let (s, key) = app.post_as(
        "acme",
        "/api/api-keys",
        &acme,
        json!({"name": "reader", "scopes": ["read"]}),
    );
    assert_eq!(s, 201, "{key}");
    let (s, p) = app.patch_as(
        "acme",
        "/api/workspace",
        key["key"].as_str().unwrap(),
        json!({"name": "Hijacked"}),
    );
    assert_eq!(s, 403, "{p}");

    // One audit row, in the workspace's own log, with the name before and after.
    let (s, log) = app.get_as("acme", "/api/audit-logs?action=tenant.renamed", &acme);
    assert_eq!(s, 200, "{log}");
    let rows = log["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0]["before"]["name"], "Acme Inc", "{log}");
    assert_eq!(rows[0]["after"]["name"], "Acme Corporation", "{log}");
    assert_eq!(rows[0]["action_label"], "Workspace renamed", "{log}");
    assert_eq!(rows[0]["actor"]["kind"], "user", "{log}");
    assert_eq!(rows[0]["actor_name"], "Grace Hopper", "{log}");
}

#[test]
fn an_unknown_workspace_host_serves_its_page_with_assets_and_the_login_of_a_workspace_goes_to_the_apex()
 {
    let app = TestApp::spawn_open();
    app.owner_named("ada@example.com", "acme", "Acme Inc");
    let page = app
        .request(Method::GET, "nope", "/")
        .header("accept", "text/html")
        .send()
        .unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().unwrap();
    for asset in [
        "/assets/css/wrk.css",
        "/assets/js/error-page.js",
        "/assets/img/logo.svg",
    ] {
        assert!(html.contains(asset), "the page uses {asset}");
        let r = app.request(Method::GET, "nope", asset).send().unwrap();
        assert_eq!(r.status(), 200, "{asset} on an unknown workspace host");
    }
    let css = app.get("nope", "/assets/css/wrk.css");
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"),
        "{:?}",
        css.headers()
    );
    // Anything else there is still not found.
    let r = app.get("nope", "/api/me");
    assert_eq!(r.status(), 404);

    // /login on a workspace host: the apex login, coming back into that workspace.
    let r = app.get("acme", "/login");
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        format!(
            "//{}/login?next=%2Fworkspaces%3Fswitch%3Dacme",
            app.host("")
        )
    );
}

#[test]
fn rolling_back_with_nothing_to_roll_back_to_is_announced_and_refused_in_a_sentence() {
    let app = TestApp::spawn_open();
    let ops = app.ops_token("ops_admin");
    let (s, list) = app.get_as("ops", "/api/ops/plugins", &ops);
    assert_eq!(s, 200, "{list}");
    for kind in ["pricing", "validation", "ingestion"] {
        assert!(list["rollback_to"][kind].is_null(), "{kind}: {list}");
    }
    let (s, p) = app.post_as(
        "ops",
        "/api/ops/plugins/rollback",
        &ops,
        json!({"kind": "pricing"}),
    );
    assert_eq!(s, 409, "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("There is no earlier pricing plugin") && detail.ends_with('.'),
        "{detail}"
    );
}

#[test]
fn an_invitee_signing_up_from_the_link_is_not_asked_to_verify_their_email_again() {
    let app = TestApp::builder()
        .env("WRK_EMAIL_VERIFICATION", "true")
        .mailbox()
        .spawn();
    // The owner verifies as usual.
    let (s, b) = app.post_anon(
        "",
        "/api/auth/signup",
        json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}),
    );
    assert_eq!(
        (s, b["email_verification_required"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    let t = app.mailed_token("ada@example.com", "/verify-email");
    let (s, b) = app.post_anon("", "/api/auth/verify-email", json!({"token": t}));
    assert_eq!(s, 200, "{b}");
    let account = app.token("", "ada@example.com");
    let (s, b) = app.post_as(
        "",
        "/api/account/workspaces",
        &account,
        json!({"name": "Acme Inc", "subdomain": "acme"}),
    );
    assert_eq!(s, 201, "{b}");
    let acme = app.token("acme", "ada@example.com");
    let (s, b) = app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "Grace@Example.com", "role": "member"}),
    );
    assert_eq!(s, 201, "{b}");
    let invite = app.mailed_token("grace@example.com", "/invite");

    let (s, preview) = app.post_anon(
        "",
        "/api/auth/invitations/preview",
        json!({"token": invite}),
    );
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["email"], "grace@example.com");
    assert_eq!(preview["workspace_name"], "Acme Inc");
    let (s, p) = app.post_anon(
        "",
        "/api/auth/invitations/preview",
        json!({"token": "nope"}),
    );
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token"))
    );

    // Another address with the invitation's token: refused, nothing created.
    let (s, p) = app.post_anon("", "/api/auth/signup", json!({"email": "mallory@example.com", "password": PASSWORD, "name": "M", "invitation_token": invite}));
    assert_eq!(s, 422, "{p}");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "mallory@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 401);

    // The invited address: verified at once, can log in and accept.
    let (s, b) = app.post_anon("", "/api/auth/signup", json!({"email": "grace@example.com", "password": PASSWORD, "name": "Grace", "invitation_token": invite}));
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["email_verification_required"], false, "{b}");
    let grace = app.token("", "grace@example.com");
    let (s, b) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &grace,
        json!({"token": invite}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["subdomain"], "acme");

    // Without a token, signup still waits for the link.
    let (s, b) = app.post_anon(
        "",
        "/api/auth/signup",
        json!({"email": "hal@example.com", "password": PASSWORD, "name": "Hal"}),
    );
    assert_eq!(
        (s, b["email_verification_required"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    let (s, b) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "hal@example.com", "password": PASSWORD}),
    );
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("email_not_verified"))
    );
}

#[test]
fn the_slug_rules_are_public_and_are_the_rules_creating_a_workspace_enforces() {
    let app = TestApp::spawn_open();
    let (s, rules) = app.call(Method::GET, "", "/api/auth/slug-rules", None, None);
    assert_eq!(s, 200, "{rules}");
    let reserved: Vec<&str> = rules["reserved"]
        .as_array()
        .expect("a reserved list")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        reserved.contains(&"ops") && reserved.contains(&"www"),
        "{rules}"
    );
    let (min, max) = (
        rules["min_length"].as_u64().unwrap() as usize,
        rules["max_length"].as_u64().unwrap() as usize,
    );

    // Each reserved name, and each length outside the bounds, is refused; the bounds themselves pass.
    app.signup("ada@example.com", "Ada Lovelace");
    let account = app.token("", "ada@example.com");
    let create = |slug: &str| {
        app.post_as(
            "",
            "/api/account/workspaces",
            &account,
            json!({"name": "Some team", "subdomain": slug}),
        )
    };
    for name in &reserved {
        let (s, b) = create(name);
        assert_eq!(s, 422, "{name}: {b}");
    }
    for refused in ["a".repeat(min - 1), "a".repeat(max + 1)] {
        let (s, b) = create(&refused);
        assert_eq!(s, 422, "{refused}: {b}");
    }
    for allowed in ["b".repeat(min), "c".repeat(max)] {
        let (s, b) = create(&allowed);
        assert_eq!(s, 201, "{allowed}: {b}");
    }
}
