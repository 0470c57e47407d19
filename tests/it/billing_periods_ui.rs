//! Flows 17, 19 and 20 in headless Chromium: a client changes an automation's committed volume
//! on the Billing page (the re-priced preview first, then the confirmation) and downloads an
//! invoice PDF; ops edit a workspace's pricing override and finalize a billing period. Each page
//! at 1366 and 375 px (screenshots in `target/screenshots/`).

use wrk_tests::browser::Browser;
use wrk_tests::{StatusCode, TestApp, json};

use crate::support::{account_with_workspace, log_in, ops_log_in, shots_at_two_widths};

#[test]
fn a_client_changes_the_committed_volume_after_a_preview_and_downloads_an_invoice_pdf() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let id = app.quoted("acme", &owner.token, "Invoice intake", 2500);
    app.signed_by_invoice("acme", &owner.token, &id);

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", "/app/billing"));
    browser.wait_for(&format!("[data-subscription='{id}'] [data-committed-runs]"));
    assert_eq!(browser.text("[data-committed-runs]"), "2,500");
    browser.fill("[data-volume-form] input[name=monthly_runs]", "5000");
    browser.click("[data-preview-volume]");
    browser.wait_for("[data-confirm-volume]");
    let preview = browser.text("[data-volume-preview]");
    assert!(preview.contains("5,000 runs a month"), "{preview}");
    assert!(preview.contains("It applies today"), "{preview}");
    // The preview changed nothing yet.
    let (_, subs) = app.get_as("acme", "/api/billing/subscriptions", &owner.token);
    assert_eq!(subs["items"][0]["committed_monthly_runs"], 2500);
    shots_at_two_widths(&browser, "billing-volume-preview");
    browser.click("[data-confirm-volume]");
    browser.wait_until(
        "document.querySelector('[data-committed-runs]')?.textContent === '5,000'",
        "the new commitment on the page",
    );
    let (_, subs) = app.get_as("acme", "/api/billing/subscriptions", &owner.token);
    assert_eq!(subs["items"][0]["committed_monthly_runs"], 5000);

    // The setup-fee invoice's PDF, fetched the way its link downloads it.
    browser.wait_for("[data-invoices] [data-invoice-pdf]");
    browser.eval(
        "window.__pdfHead = null;
         fetch(document.querySelector('[data-invoice-pdf]').href, {credentials: 'same-origin'})
           .then((r) => r.arrayBuffer())
           .then((b) => { window.__pdfHead = String.fromCharCode(...new Uint8Array(b).slice(0, 5)); });
         return true;",
    );
    browser.wait_until("window.__pdfHead !== null", "the invoice PDF");
    assert_eq!(browser.eval("return window.__pdfHead"), json!("%PDF-"));
    browser.eval("document.querySelector('[data-invoices]').scrollIntoView()");
    shots_at_two_widths(&browser, "billing-invoices");
}

#[test]
fn ops_edit_a_pricing_override_and_finalize_a_period_in_the_console() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let id = app.quoted("acme", &owner.token, "Invoice intake", 2500);
    app.signed_by_invoice("acme", &owner.token, &id);

    let browser = Browser::with_size(1366, 900);
    ops_log_in(
        &app,
        &browser,
        "admin@wrk.example",
        "ops_admin",
        "/ops/billing",
    );
    browser.wait_for("[data-override-form] [data-override-status]");
    browser.wait_until(
        "document.querySelector('[data-override-status]').textContent.includes('No override')",
        "the workspace's override loaded",
    );
    browser.fill("#ov-discount", "10");
    browser.click("[data-save-override]");
    browser.wait_until(
        "document.querySelector('[data-override-status]').textContent.includes('Saved')",
        "the override saved",
    );
    let (s, o) = app.get_as(
        "ops",
        &format!("/api/ops/tenants/{}/pricing-override", owner.tenant_id),
        &app.ops_token("ops"),
    );
    assert_eq!((s, &o["discount_percent"]), (StatusCode::OK, &json!(10)));

    browser.click("[data-finalize]");
    browser.wait_for("[data-finalize-results] [data-invoice]");
    let results = browser.text("[data-finalize-results]");
    assert!(results.contains("Acme Inc"), "{results}");
    assert!(results.contains("Made now"), "{results}");
    shots_at_two_widths(&browser, "ops-billing");
    // Again: the same invoice, unchanged.
    browser.click("[data-finalize]");
    browser.wait_until(
        "document.querySelector('[data-finalize-results]')?.textContent.includes('Already made')",
        "the second run's answer",
    );
}
