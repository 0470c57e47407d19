//! The pages that used to mislead or dead-end, in a real headless Chromium: the overview with
//! automations, global search, renaming the workspace in Settings, the sole owner's team row, the
//! unknown-workspace page, logging in from a workspace host, and the ops workspace list.
//! Screenshots (1366 and 375 px) land in `target/screenshots/`.

use wrk_tests::browser::Browser;
use wrk_tests::{TestApp, json};

use crate::support::{
    PASSWORD, account_with_workspace, log_in, ops_log_in, shots_at_two_widths as shots,
};

/// No icon in the page is drawn larger than 48 px (an unsized SVG fills its container).
fn assert_no_giant_icons(browser: &Browser) {
    let big = browser.eval(
        "return [...document.querySelectorAll('main svg')]
           .map(s => s.getBoundingClientRect())
           .filter(r => r.width > 48 || r.height > 48).length;",
    );
    assert_eq!(big, json!(0), "oversized icons in the page");
}

#[test]
fn the_overview_search_settings_and_team_pages_tell_the_truth() {
    let app = TestApp::spawn_open();
    let token = account_with_workspace(&app, "ada@example.com", "acme", "Acme Inc").token;
    app.create_automation_with(
        "acme",
        &token,
        json!({"name": "Invoice intake", "description": "Book supplier invoices in Xero"}),
    );

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "ada@example.com", "acme");

    // Overview: the automation, not "No automations yet".
    browser.wait_for("[data-overview-automations] [data-automation-id]");
    let page = browser.text("[data-page-root]");
    assert!(!page.contains("No automations yet"), "{page}");
    assert!(page.contains("Invoice intake"), "{page}");
    assert_no_giant_icons(&browser);
    shots(&browser, "overview");

    // The top-bar search: "/" focuses it, Enter opens the results, each hit is a link.
    browser.eval("document.body.focus(); return null;");
    browser.eval(
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true})); return null;",
    );
    browser.fill("#search", "invoice\u{e007}");
    browser.wait_until(
        "location.pathname === '/app/search' && new URLSearchParams(location.search).get('q') === 'invoice'",
        "the search page",
    );
    browser.wait_for("[data-search-group=automations] [data-search-hit] a");
    let text = browser.text("[data-search-results]");
    assert!(text.contains("Invoice intake"), "{text}");
    assert!(!text.contains("Page not found"), "{text}");
    assert_no_giant_icons(&browser);
    browser.screenshot("search-1366");
    browser.click("[data-search-group=automations] [data-search-hit] a");
    browser.wait_until(
        "/^\\/app\\/automations\\/[0-9a-f-]{36}$/.test(location.pathname)",
        "the automation from the search hit",
    );
    browser.goto(&app.url("acme", "/app/search?q=zzzz"));
    browser.wait_for("[data-search-results] .empty-state");

    // Settings: rename; the sidebar follows, the address stays.
    browser.goto(&app.url("acme", "/app/settings"));
    browser.wait_for("form[data-form=workspace-settings]");
    browser.fill("#ws-name", "Acme Corporation");
    browser.click("form[data-form=workspace-settings] button[type=submit]");
    browser.wait_until(
        "document.querySelector('.ws-name').textContent === 'Acme Corporation'",
        "the sidebar shows the new name",
    );
    assert_eq!(
        browser.text("[data-workspace-initials]"),
        "AC",
        "one initials helper"
    );
    browser.goto(&app.url("acme", "/app"));
    browser.wait_until(
        "document.querySelector('.ws-name').textContent === 'Acme Corporation'",
        "the new name after a reload",
    );

    // Team: the only owner is not offered "Leave".
    browser.goto(&app.url("acme", "/app/team"));
    browser.wait_for("[data-members] [data-sole-owner]");
    let members = browser.text("[data-members]");
    assert!(!members.contains("Leave"), "{members}");
    assert!(members.contains("only owner"), "{members}");

    // The picker's initials are the sidebar's.
    browser.goto(&app.url("", "/workspaces"));
    browser.wait_for("[data-workspaces] .ws-item");
    assert_eq!(browser.text("[data-workspaces] .workspace-avatar"), "AC");
}

#[test]
fn an_unknown_workspace_is_a_styled_page_that_names_the_address_and_links_to_the_apex() {
    let app = TestApp::spawn_open();
    let browser = Browser::with_size(1366, 900);
    // The page is the server's 404 answer for that host, as it should be.
    browser.expect_refusal(&app.url("nope", "/"), 404);
    browser.goto(&app.url("nope", "/"));
    browser.wait_for("[data-address]");
    browser.wait_until(
        "document.querySelector('[data-address]').textContent.includes('nope.')",
        "the address tried",
    );
    browser.wait_until(
        "document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 100
         && document.querySelector('.brand img').naturalWidth > 0",
        "the stylesheet and the logo load",
    );
    let apex = app.host("");
    let hrefs = browser.eval("return [...document.querySelectorAll('a')].map(a => a.href);");
    for href in hrefs.as_array().unwrap() {
        let href = href.as_str().unwrap();
        assert!(
            href.starts_with(&format!("http://{apex}/")),
            "{href} leads to the apex"
        );
    }
    shots(&browser, "unknown-workspace");
}

#[test]
fn logging_in_from_a_workspace_host_lands_in_that_workspace_or_says_there_is_no_access() {
    let app = TestApp::spawn_open();
    let account = account_with_workspace(&app, "ada@example.com", "acme", "Acme Inc").account;
    app.create_workspace(&account, "beta", "Beta Labs");
    account_with_workspace(&app, "bob@example.com", "bobs", "Bob's");

    // beta was used last (created last), but the login started on acme: it lands in acme.
    let browser = Browser::with_size(1366, 900);
    browser.goto(&app.url("acme", "/app"));
    browser.click("[data-page-root] a.btn-primary");
    browser.wait_for("form[data-form=login]");
    browser.fill("#email", "ada@example.com");
    browser.fill("#password", PASSWORD);
    browser.click("form[data-form=login] button[type=submit]");
    let acme = app.host("acme");
    browser.wait_until(
        &format!("location.host === '{acme}' && location.pathname === '/app'"),
        "the acme workspace",
    );
    browser.wait_until(
        "document.querySelector('.ws-name').textContent === 'Acme Inc'",
        "acme's name in the sidebar",
    );
    let beta = app.host("beta");

    // Bob has no access to beta: said plainly on the picker.
    let browser = Browser::with_size(1366, 900);
    browser.expect_refusal("/api/account/switch", 403);
    browser.goto(&app.url("beta", "/login"));
    browser.wait_for("form[data-form=login]");
    browser.fill("#email", "bob@example.com");
    browser.fill("#password", PASSWORD);
    browser.click("form[data-form=login] button[type=submit]");
    browser.wait_for(".banner-warning");
    let text = browser.text(".banner-warning");
    assert!(text.contains("don't have access"), "{text}");
    assert!(text.contains(&beta), "{text}");
    browser.wait_for("[data-workspaces] .ws-item[data-subdomain=bobs]");
}

#[test]
fn an_unverified_login_offers_to_resend_the_verification_email() {
    let app = TestApp::builder()
        .env("WRK_EMAIL_VERIFICATION", "true")
        .spawn();
    app.signup("ada@example.com", "Ada");
    let browser = Browser::with_size(1366, 900);
    browser.goto(&app.url("", "/login"));
    browser.fill("#email", "ada@example.com");
    browser.fill("#password", PASSWORD);
    browser.expect_refusal("/api/auth/login", 403);
    browser.click("form[data-form=login] button[type=submit]");
    browser.click("[data-resend-verification]");
    browser.wait_for(".banner-success");
    let sent = app.outbox_count(&app.ops_token("ops"), "ada@example.com", "verify_email");
    assert_eq!(sent, 2, "the signup's and the resent one");
}

#[test]
fn ops_see_every_workspace_by_name() {
    let app = TestApp::spawn_open();
    let token = account_with_workspace(&app, "ada@example.com", "acme", "Acme Inc").token;
    app.create_automation("acme", &token, "Invoice intake");
    let browser = Browser::with_size(1366, 900);
    ops_log_in(&app, &browser, "ops@wrk.example", "ops", "/ops/workspaces");
    browser.wait_for("[data-workspace-list] tbody tr");
    let text = browser.text("[data-workspace-list]");
    assert!(text.contains("Acme Inc"), "{text}");
    assert!(!text.contains("No workspaces yet"), "{text}");
    shots(&browser, "ops-workspaces");

    browser.goto(&app.url("ops", "/ops/automations"));
    browser.wait_for("[data-board] .board-card");
    let card = browser.text("[data-board] .board-card");
    assert!(card.contains("Acme Inc"), "{card}");

    // The home queues still load with the workspace names fetched first.
    browser.goto(&app.url("ops", "/ops"));
    browser.wait_until(
        "document.querySelectorAll('[data-queue]').length > 0
         && document.querySelectorAll('[data-queue][aria-busy]').length === 0",
        "the work queues loaded",
    );
    // One card per queue, each saying what its count counts.
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('[data-queue] [data-count] .sr-only').length"),
        10
    );
    shots(&browser, "ops-queues");

    browser.goto(&app.url("ops", "/ops/search?q=invoice"));
    browser.wait_for("[data-search-group=automations] [data-search-hit] a");
    let hits = browser.text("[data-search-results]");
    assert!(
        hits.contains("Invoice intake") && hits.contains("Acme Inc"),
        "{hits}"
    );
    shots(&browser, "ops-search");
}

#[test]
fn an_invitee_signs_up_from_the_link_with_the_address_filled_in_and_no_second_verification() {
    let app = TestApp::builder()
        .env("WRK_EMAIL_VERIFICATION", "true")
        .mailbox()
        .spawn();
    app.signup("ada@example.com", "Ada");
    let t = app.mailed_token("ada@example.com", "/verify-email");
    assert_eq!(
        app.post_json("", "/api/auth/verify-email", &json!({"token": t}))
            .status(),
        200
    );
    let account = app.token("", "ada@example.com");
    app.create_workspace(&account, "acme", "Acme Inc");
    let token = app.token("acme", "ada@example.com");
    app.invite("acme", &token, "linus@example.com", "member");
    let invite = app.mailed_token("linus@example.com", "/invite");

    let browser = Browser::with_size(1366, 900);
    browser.goto(&app.url("", &format!("/invite?token={invite}")));
    browser.click("[data-signup]");
    browser.wait_for("[data-invited-email]");
    assert_eq!(
        browser.eval("const e = document.querySelector('#email'); return [e.value, e.readOnly];"),
        json!(["linus@example.com", true])
    );
    browser.fill("#name", "Linus");
    browser.fill("#password", PASSWORD);
    browser.screenshot("invite-signup-1366");
    browser.click("form[data-form=signup] button[type=submit]");
    let host = app.host("acme");
    browser.wait_until(
        &format!("location.host === '{host}' && location.pathname === '/app'"),
        "the invited workspace, without a verification email",
    );
    let verifications =
        app.outbox_count(&app.ops_token("ops"), "linus@example.com", "verify_email");
    assert_eq!(verifications, 0);
}

#[test]
fn the_plugins_page_sizes_its_results_and_explains_why_there_is_nothing_to_roll_back() {
    let app = TestApp::spawn_open();
    // One real pricing call to replay: an automation moved to pricing with a valid blueprint.
    let token = account_with_workspace(&app, "ada@example.com", "acme", "Acme Inc").token;
    app.quoted("acme", &token, "Invoice intake", 2500);
    let browser = Browser::with_size(1366, 900);
    ops_log_in(
        &app,
        &browser,
        "admin@wrk.example",
        "ops_admin",
        "/ops/plugins",
    );
    browser.wait_for("[data-kind=pricing] [data-rollback-why=pricing]");
    assert_eq!(
        browser.eval("return document.querySelector('[data-rollback=pricing]').disabled;"),
        json!(true)
    );
    let why = browser.text("[data-rollback-why=pricing]");
    assert!(why.starts_with("Nothing to roll back to"), "{why}");

    browser.click("[data-kind=pricing] [data-shadow-run]");
    browser.wait_for("[data-shadow] [data-shadow-same]");
    assert_no_giant_icons(&browser);
    browser.screenshot("ops-plugins-shadow-1366");
}
