//! Flows 14-16 in headless Chromium: a client accepts and signs a quote on the quote tab (paying
//! by invoice), and ops revise a quote in the ops console's editor with live totals; each at
//! 1366 and 375 px (screenshots in `target/screenshots/`).

use wrk_tests::browser::Browser;
use wrk_tests::{StatusCode, TestApp, version_path};

use crate::support::{account_with_workspace, log_in, ops_log_in};

#[test]
fn a_client_accepts_and_signs_a_quote_in_the_browser_and_the_version_is_ready_to_build() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let id = app.quoted("acme", &owner.token, "Invoice intake", 2500);

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", &format!("/app/automations/{id}")));
    browser.click("#tab-quote");
    browser.wait_for("[data-quote-actions=sent] [data-action=accept]");
    let consequence = browser.text("[data-quote-actions=sent] .quote-consequence");
    assert!(
        consequence.contains("Accepting holds this price"),
        "{consequence}"
    );
    browser.screenshot("quote-actions-sent-1366");
    browser.click("[data-action=accept]");

    browser.wait_for("[data-quote-actions=accepted] form[data-form=sign-quote]");
    let form = browser.text("form[data-form=sign-quote]");
    assert!(form.contains("Payment: by invoice"), "{form}");
    // Signing without agreeing says what is missing, next to the box.
    browser.fill(
        "form[data-form=sign-quote] input[name=signer_name]",
        "Grace Hopper",
    );
    browser.fill("form[data-form=sign-quote] input[name=signer_title]", "CEO");
    browser.click("[data-action=sign]");
    browser.wait_for("form[data-form=sign-quote] input[name=agree][aria-invalid=true]");
    browser.click("form[data-form=sign-quote] input[name=agree]");
    browser.screenshot("quote-sign-form-1366");
    browser.click("[data-action=sign]");

    browser.wait_for("[data-quote-signature]");
    let signed = browser.text("[data-quote-signature]");
    assert!(signed.contains("Signed by Grace Hopper, CEO"), "{signed}");
    assert!(signed.contains("Setup-fee invoice INV-"), "{signed}");
    assert_eq!(browser.text("[data-quote-status]"), "Signed");
    browser.eval("document.querySelector('[data-quote-signature]').scrollIntoView()");
    browser.screenshot("quote-signed-1366");
    browser.resize(375, 812);
    browser.wait_until(
        "document.documentElement.clientWidth <= 375",
        "a 375 px viewport",
    );
    browser.eval("document.querySelector('[data-quote-signature]').scrollIntoView()");
    browser.screenshot("quote-signed-375");

    let (s, v) = app.get_as("acme", &version_path(&id), &owner.token);
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ready_to_build");
}

#[test]
fn ops_revise_a_quote_in_the_editor_with_live_totals() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let id = app.quoted("acme", &owner.token, "Invoice intake", 2500);
    let (_, quotes) = app.get_as("acme", "/api/quotes", &owner.token);
    let before = quotes["items"][0].clone();

    let browser = Browser::with_size(1366, 900);
    let page = format!("/ops/automations/{}/{id}", owner.tenant_id);
    ops_log_in(&app, &browser, "ops@wrk.example", "ops", &page);
    browser.wait_for("[data-ops-quote] form[data-form=revise-quote]");
    let setup = browser.text("[data-live-total=one_time]");
    // 50 % off: the one-time total changes as you type.
    browser.fill("#ops-quote-discount", "50");
    browser.wait_until(
        &format!(
            "document.querySelector('[data-live-total=one_time]').textContent !== {:?}",
            setup
        ),
        "the live total to change",
    );
    browser.fill("#ops-quote-note", "Half price for the pilot");
    browser.screenshot("ops-quote-editor-1366");
    browser.click("form[data-form=revise-quote] button[type=submit]");
    browser.wait_until(
        "document.querySelector('[data-ops-quote]').textContent.includes('Revision 2') || document.querySelector('[data-ops-quote]').textContent.includes('-R2')",
        "the new revision in the editor",
    );
    browser.resize(375, 812);
    browser.wait_until(
        "document.documentElement.clientWidth <= 375",
        "a 375 px viewport",
    );
    browser.eval("document.querySelector('[data-ops-quote] table').scrollIntoView()");
    browser.screenshot("ops-quote-editor-375");

    let (_, quotes) = app.get_as("acme", "/api/quotes?status=sent", &owner.token);
    let after = &quotes["items"][0];
    assert_eq!(after["revision"], 2, "{quotes}");
    assert_eq!(after["discount_percent"], 50);
    // The server's rule: half of each unit price off, rounded half away from zero.
    let expected: i64 = before["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["recurrence"] == "one_time")
        .map(|l| {
            let unit = l["unit_cents"].as_i64().unwrap();
            l["quantity"].as_i64().unwrap() * (unit - (unit * 5_000 + 5_000) / 10_000)
        })
        .sum();
    assert_eq!(after["setup_fee_cents"], expected);
    assert_eq!(after["note"], "Half price for the pilot");
}
