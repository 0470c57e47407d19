//! The automation pages in a real headless Chromium: create an automation, write requirements,
//! build a blueprint in the structured editor until it has no errors, submit it for pricing, see
//! it awaiting approval with a quote; the list; the ops board. Screenshots (1280 and 375 px) land
//! in `target/screenshots/`.

use wrk_tests::browser::Browser;
use wrk_tests::{TestApp, Value};

use crate::support::{ops_log_in, owner_signed_in};

/// A screenshot at 1280 px and another at 375 px (then back to 1280).
fn shots(browser: &Browser, name: &str) {
    browser.screenshot(name);
    browser.resize(375, 812);
    // The sidebar slides off-canvas on a phone: shoot once it is out of the way.
    browser.wait_until(
        "(() => { const s = document.querySelector('.app-sidebar');
                  return !s || s.getBoundingClientRect().right <= 0; })()",
        "the sidebar off-canvas",
    );
    browser.screenshot(&format!("{name}-375"));
    browser.resize(1280, 900);
}

/// The status on the detail page's badge.
fn status_is(browser: &Browser, status: &str) {
    browser.wait_until(
        &format!(
            "document.querySelector('[data-status-badge] .badge')?.dataset.status === '{status}'"
        ),
        &format!("status {status}"),
    );
}

#[test]
fn an_automation_goes_from_intake_to_a_quote_through_the_ui() {
    let app = TestApp::spawn_open();
    let browser = owner_signed_in(&app, "ada@example.com", "acme", "Acme Inc");

    // Empty list → "New automation".
    browser.goto(&app.url("acme", "/app/automations"));
    browser.wait_for("[data-automation-list] .empty-state");
    browser.click("[data-page-root] a[data-new-automation]");
    browser.wait_for("form[data-form=new-automation]");

    // The name is required: the error sits next to the field.
    browser.click("form[data-form=new-automation] button[type=submit]");
    let err = browser.text("#automation-name ~ .field-error");
    assert!(err.contains("name"), "{err}");
    browser.fill("#automation-name", "Invoice intake");
    browser.fill(
        "#automation-description",
        "Book supplier invoices from the AP inbox into Xero.",
    );
    browser.click("form[data-form=new-automation] button[type=submit]");
    browser.wait_until(
        "/^\\/app\\/automations\\/[0-9a-f-]{36}$/.test(location.pathname)",
        "the new automation's page",
    );
    browser.wait_for("[data-automation-name]");
    status_is(&browser, "intake_in_progress");
    let actions = browser.text("[data-actions]");
    assert!(actions.contains("Submit for pricing"), "{actions}");

    // Requirements.
    browser.fill(
        "#requirements-text",
        "When an invoice email arrives in the AP inbox, read the PDF and create a bill in Xero.",
    );
    browser.click("[data-save-requirements]");
    browser.wait_until(
        "document.querySelector('form[data-form=requirements] [role=status]').textContent === 'Saved'",
        "requirements saved",
    );

    // Blueprint: an empty save lists the errors, inline and in the summary.
    browser.click("#tab-blueprint");
    browser.wait_for("form[data-form=blueprint]");
    browser.click("[data-save-blueprint]");
    browser.wait_until(
        "document.querySelector('.save-status').textContent.startsWith('Saved')",
        "the empty blueprint saved",
    );
    browser.wait_for(".issue-box.has-errors");
    browser.wait_for("[data-path-group='/trigger'] .field-error");

    // The errors became the client's tasks; moving one to "in progress" sticks across a reload.
    browser.click("#tab-tasks");
    browser.click("[data-tasks] select[data-task-select] option[value=in_progress]");
    browser.wait_until(
        "(() => { const s = document.querySelector('[data-tasks] select[data-task-select]'); return s.value === 'in_progress' && !s.disabled && s.getAttribute('aria-busy') !== 'true'; })()",
        "the task update saved",
    );
    let detail_url = browser.url();
    browser.goto(&detail_url);
    browser.wait_until(
        "document.querySelector('[data-tasks] select[data-task-select]')?.value === 'in_progress'",
        "the task still in progress after a reload",
    );
    browser.click("#tab-blueprint");
    browser.wait_for("form[data-form=blueprint]");

    browser.fill("#bp-trigger-kind", "email");
    browser.fill("#bp-trigger-system", "Gmail");
    browser.click("[data-add-system]");
    browser.fill("#bp-systems-0-name", "Gmail");
    browser.click("[data-add-system]");
    browser.fill("#bp-systems-1-name", "Xero");
    browser.click("[data-add-step]");
    browser.fill("#bp-steps-0-id", "book");
    browser.fill("#bp-steps-0-name", "Book it");
    browser.fill("#bp-steps-0-system", "Xero");
    browser.fill("#bp-steps-0-action", "create bill");
    browser.click("[data-add-step]");
    browser.fill("#bp-steps-1-id", "read");
    browser.fill("#bp-steps-1-name", "Read the invoice");
    browser.fill("#bp-steps-1-system", "Gmail");
    browser.fill("#bp-steps-1-action", "fetch attachment");
    // Reading comes first: move step 2 up.
    browser.click("[data-step='1'] button[aria-label='Move step 2 up']");
    browser.wait_until(
        "document.querySelector('#bp-steps-0-id').value === 'read'",
        "the steps reordered",
    );
    browser.fill("#bp-volume-monthly_runs", "2500");
    browser.click("[data-save-blueprint]");
    browser.wait_until(
        "!document.querySelector('.issue-box.has-errors') && document.querySelector('.save-status').textContent.includes('no errors')",
        "a blueprint without errors",
    );
    shots(&browser, "blueprint-editor");

    // The JSON view shows the same blueprint.
    browser.click("[data-mode=json]");
    let json_text = browser
        .eval("return document.querySelector('#bp-json').value")
        .as_str()
        .unwrap()
        .to_owned();
    let bp: Value = serde_json::from_str(&json_text).expect("blueprint JSON");
    assert_eq!(bp["steps"][0]["id"], "read", "{bp}");
    assert_eq!(bp["volume"]["monthly_runs"], 2500, "{bp}");
    browser.click("[data-mode=form]");

    // Submit for pricing: the quote is made at once and the version awaits approval.
    browser.click("[data-actions] button[data-to=needs_pricing]");
    status_is(&browser, "awaiting_client_approval");
    browser.wait_for("[aria-current=step]");
    let step = browser.text(".timeline [aria-current=step]");
    assert!(step.starts_with("Awaiting approval"), "{step}");
    shots(&browser, "automation-detail");

    browser.click("#tab-quote");
    browser.wait_for("[data-quote] tr[data-line]");
    let quote = browser.text("[data-quote]");
    assert!(quote.contains("Priced by"), "{quote}");
    assert!(quote.contains("Included runs"), "{quote}");
    shots(&browser, "quote");

    browser.click("#tab-history");
    browser.wait_for("[data-history] li");
    let history = browser.text("[data-history]");
    assert!(history.contains("Awaiting approval"), "{history}");

    // The list shows it with its status.
    browser.goto(&app.url("acme", "/app/automations"));
    browser.wait_for("[data-automation-list] tbody tr");
    let row = browser.text("[data-automation-list] tbody tr");
    assert!(
        row.contains("Invoice intake") && row.contains("Awaiting approval"),
        "{row}"
    );
    shots(&browser, "automations-list");

    // Tasks and audit log pages render.
    browser.goto(&app.url("acme", "/app/tasks"));
    browser.wait_for("[data-page-root] h1");
    browser.goto(&app.url("acme", "/app/audit-log"));
    browser.wait_for("[data-audit] tbody tr");
    let href = browser
        .eval("return document.querySelector('[data-csv]').getAttribute('href')")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        href.starts_with("/api/audit-logs?") && href.contains("format=csv"),
        "{href}"
    );
    browser.screenshot("audit-log");

    // Ops: the board across workspaces.
    ops_log_in(&app, &browser, "ops@wrk.example", "ops", "/ops/automations");
    browser.wait_until(
        "location.pathname.startsWith('/ops') && location.pathname !== '/ops/login'",
        "ops signed in",
    );
    browser.goto(&app.url("ops", "/ops/automations"));
    browser.wait_for("[data-board] .board-card");
    browser.screenshot("ops-automations");
    browser.click("[data-board] .board-card");
    browser.wait_for("[data-actions]");
    browser.screenshot("ops-automation-detail");
}

#[test]
fn a_document_becomes_a_proposal_that_is_applied_and_the_automation_can_be_archived() {
    let app = TestApp::spawn_open();
    let browser = owner_signed_in(&app, "grace@example.com", "globex", "Globex");

    browser.goto(&app.url("globex", "/app/automations/new"));
    browser.fill("#automation-name", "Bills from email");
    browser.click("form[data-form=new-automation] button[type=submit]");
    browser.wait_for("[data-automation-name]");
    status_is(&browser, "intake_in_progress");

    // Upload a real DOCX: the ingestion job reads it and proposes a blueprint.
    let docx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/requirements.docx");
    let input = browser.wait_for("#doc-file");
    browser
        .rt
        .block_on(input.send_keys(docx.to_str().unwrap()))
        .expect("choose the file");
    browser.click("[data-upload]");
    browser.wait_until(
        "document.querySelector('[data-apply-proposal]') !== null",
        "the ingestion proposal",
    );
    let proposal = browser.text("[data-ingestion]");
    assert!(proposal.contains("QuickBooks"), "{proposal}");
    browser.eval("document.querySelector('[data-ingestion]').scrollIntoView({block: 'center'})");
    shots(&browser, "ingestion-proposal");

    // Apply: the proposal becomes the blueprint.
    browser.click("[data-apply-proposal]");
    browser.wait_until(
        "document.querySelector('[data-apply-proposal]') === null",
        "the proposal applied",
    );
    browser.click("#tab-blueprint");
    browser.wait_for("form[data-form=blueprint]");
    browser.wait_until(
        "[...document.querySelectorAll('[id^=bp-systems-][id$=-name]')].some(i => i.value === 'QuickBooks')",
        "the applied systems in the blueprint editor",
    );

    // Archive (a confirmation first): read-only from then on.
    browser.click("[data-actions] button[data-to=archived]");
    browser.click("dialog[open] button[value=confirm]");
    status_is(&browser, "archived");
    // The badge changes first; the action bar is drawn again once the history is fetched.
    browser.wait_until(
        "document.querySelector('[data-actions]')?.textContent.includes('read-only')",
        "the archived version's action bar says it is read-only",
    );
    browser.screenshot("automation-archived");
}
