//! Flows 24 and 25 in headless Chromium: the owner adds credentials on the Credentials page and
//! sees them only masked, then ops deploy the version from the ops console (its Go live button)
//! and find the deploy event in the platform delivery log. Screenshots at 1366 and 375 px.

use wrk_tests::browser::Browser;
use wrk_tests::{StatusCode, TestApp, version_path};

use crate::platform_events::ready_to_launch;
use crate::support::{account_with_workspace, log_in, ops_log_in, shots_at_two_widths as shots};

#[test]
fn an_owner_adds_credentials_sees_them_masked_and_ops_deploy_the_version() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let ops = app.ops_token("ops");
    let id = ready_to_launch(&app, &owner, &ops);

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", "/app/credentials"));
    browser.wait_for("form[data-form=credential-new]");
    shots(&browser, "credentials-empty");
    // A missing field is said next to it.
    browser.fill("#new-system", "Gmail");
    browser.click("form[data-form=credential-new] button[type=submit]");
    browser.wait_for("#new-api_key[aria-invalid=true]");
    browser.fill("#new-api_key", "gmail-browser-secret-0042");
    browser.click("form[data-form=credential-new] button[type=submit]");
    browser.wait_for("tr[data-credential-row] code[data-hint]");
    // Basic credentials have their own form.
    browser.fill("#new-system", "Xero");
    browser.eval(
        "const s = document.querySelector('#new-kind'); s.value = 'basic'; \
         s.dispatchEvent(new Event('change'))",
    );
    browser.wait_for("#new-username");
    browser.fill("#new-username", "books");
    browser.fill("#new-password", "xero-browser-password-77");
    browser.click("form[data-form=credential-new] button[type=submit]");
    browser.wait_until(
        "document.querySelectorAll('tr[data-credential-row]').length === 2",
        "two credentials listed",
    );
    let table = browser.text("table[data-credentials]");
    assert!(table.contains("••••0042"), "{table}");
    assert!(table.contains("books · ••••"), "{table}");
    assert!(!table.contains("gmail-browser-secret"), "{table}");
    assert!(!table.contains("xero-browser-password"), "{table}");
    let html = browser.eval("return document.documentElement.outerHTML");
    assert!(!html.to_string().contains("gmail-browser-secret-0042"));
    shots(&browser, "credentials-listed");

    // Rotate opens the kind's form for that credential.
    browser.click("button[data-rotate]");
    browser.wait_for("form[data-form^=credential-rotate]");
    shots(&browser, "credentials-rotate");

    // Ops deploy from the console.
    let ops_browser = Browser::with_size(1366, 900);
    let page = format!("/ops/automations/{}/{id}", owner.tenant_id);
    ops_log_in(&app, &ops_browser, "deployer@wrk.example", "ops", &page);
    ops_browser.wait_for("button[data-to=live]");
    shots(&ops_browser, "ops-ready-to-launch");
    ops_browser.click("button[data-to=live]");
    ops_browser.wait_for("button[data-to=paused]");
    shots(&ops_browser, "ops-live");
    let (s, v) = app.get_as("acme", &version_path(&id), &owner.token);
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("live")),
        "{v}"
    );

    // The QA and deploy board shows it live, with the moves ops may make from there.
    ops_browser.goto(&app.url("ops", "/ops/launch"));
    ops_browser.wait_for(&format!("[data-launch-card='{id}'] button[data-to=paused]"));
    let board = ops_browser.text("[data-launch-board]");
    assert!(board.contains("Acme"), "{board}");
    shots(&ops_browser, "ops-launch");

    // The deploy event in the delivery log (no platform configured here).
    ops_browser.goto(&app.url("ops", "/ops/platform"));
    ops_browser.wait_for("tr[data-delivery] [data-status-label]");
    ops_browser.wait_until(
        "[...document.querySelectorAll('[data-status-label]')].some(n => n.textContent.includes('not sent'))",
        "the deploy event shown as not sent",
    );
    shots(&ops_browser, "ops-platform-log");
}
