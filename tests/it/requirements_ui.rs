//! The Requirements tab in a real headless Chromium: typed requirements become a proposal with
//! "Draft a blueprint", shown as a readable diff (trigger, numbered steps, systems, volume, each
//! change written out) against the blueprint applied before; documents stay listed after a
//! reload and can be deleted. Screenshots of the diff at 1366 and 375 px land in
//! `target/screenshots/` (`proposal-diff.png`, `proposal-diff-375.png`).

use wrk_tests::TestApp;
use wrk_tests::browser::Browser;

use crate::support::{account_with_workspace, log_in};

const FIRST: &str = "When an email arrives in the Outlook inbox with a supplier invoice, \
extract the invoice data. Then book the invoice in DATEV. We get about 2,000 invoices a month.";

const SECOND: &str = "When an email arrives in the Outlook inbox with a supplier invoice, \
extract the invoice data. Invoices over 5,000 EUR must be approved by the finance lead in Slack. \
Then book the invoice in Xero. We get 500 invoices weekly.";

fn draft(browser: &Browser, text: &str) {
    browser.eval(&format!(
        "const t = document.querySelector('#requirements-text'); t.value = {}; \
         t.dispatchEvent(new Event('input'));",
        serde_json::to_string(text).unwrap()
    ));
    browser.click("[data-ingest-requirements]");
    browser.wait_until(
        "document.querySelector('[data-apply-proposal]') !== null",
        "the proposal",
    );
}

#[test]
fn typed_requirements_become_a_readable_proposal_diff_and_documents_stay_listed() {
    let app = TestApp::spawn_open();
    account_with_workspace(&app, "ada@example.com", "acme", "Acme Inc");
    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "ada@example.com", "acme");
    browser.goto(&app.url("acme", "/app/automations/new"));
    browser.fill("#automation-name", "Invoice intake");
    browser.click("form[data-form=new-automation] button[type=submit]");
    browser.wait_for("#requirements-text");
    browser.wait_for("[data-documents-empty]");

    // First draft from typed text only, applied as the blueprint.
    draft(&browser, FIRST);
    let diff = browser.text("[data-proposal-diff]");
    assert!(diff.contains("When an email arrives · Outlook"), "{diff}");
    assert!(diff.contains("Added"), "{diff}");
    assert!(!diff.contains("/steps/"), "no JSON pointers: {diff}");
    browser.click("[data-apply-proposal]");
    browser.wait_until(
        "document.querySelector('[data-apply-proposal]') === null",
        "the proposal applied",
    );

    // Second draft: the diff names what changes against the applied blueprint.
    draft(&browser, SECOND);
    let section = |name: &str| {
        browser
            .eval(&format!(
                "return document.querySelector('[data-proposal-diff] [data-section={name}]').dataset.change"
            ))
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(section("trigger"), "same");
    assert_eq!(section("steps"), "changed");
    assert_eq!(section("systems"), "changed");
    assert_eq!(section("volume"), "changed");
    let steps = browser.eval(
        "return [...document.querySelectorAll('[data-section=steps] ol > li')].map(li => li.dataset.change + ': ' + li.querySelector('.step-name').textContent)",
    );
    let steps: Vec<String> = serde_json::from_value(steps).unwrap();
    assert!(
        steps.contains(&"same: Extract the invoice data".to_owned()),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("added: Invoices over 5,000 EUR")),
        "{steps:?}"
    );
    assert!(
        steps.contains(&"changed: Then book the invoice in Xero".to_owned())
            || steps.contains(&"added: Book the invoice in Xero".to_owned()),
        "{steps:?}"
    );
    let text = browser.text("[data-proposal-diff]");
    for words in [
        "Removed",
        "Added",
        "Changed",
        "Xero (added)",
        "DATEV",
        "2,166 runs a month",
        "2,000 runs a month",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }

    browser.eval("document.querySelector('[data-proposal-diff]').scrollIntoView({block: 'start'})");
    browser.resize(1366, 1400);
    browser.eval("document.querySelector('[data-proposal-diff]').scrollIntoView({block: 'start'})");
    browser.screenshot("proposal-diff");
    browser.resize(375, 1400);
    browser.eval("document.querySelector('[data-proposal-diff]').scrollIntoView({block: 'start'})");
    let fits = browser.eval(
        "return document.documentElement.scrollWidth <= window.innerWidth && \
         [...document.querySelectorAll('[data-proposal-diff] .diff-section')].every(s => s.getBoundingClientRect().right <= window.innerWidth)",
    );
    assert_eq!(fits, serde_json::Value::Bool(true), "the diff fits 375 px");
    // Let the shell settle at the new width (its drawer closes) before the picture.
    browser.wait_until(
        "document.getAnimations().every(a => a.playState !== 'running')",
        "animations done",
    );
    browser.screenshot("proposal-diff-375");
    browser.resize(1366, 900);

    // A document stays listed after a reload and can be deleted.
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/samples/documents/headings.md");
    let input = browser.wait_for("#doc-file");
    browser
        .rt
        .block_on(input.send_keys(doc.canonicalize().unwrap().to_str().unwrap()))
        .expect("choose the file");
    browser.click("[data-upload]");
    browser.wait_for("[data-document]");
    browser.goto(&browser.url());
    browser.wait_for("[data-document]");
    let listed = browser.text("[data-documents]");
    assert!(
        listed.contains("headings.md") && listed.contains("Markdown"),
        "{listed}"
    );
    let href = browser
        .eval("return document.querySelector('[data-download-document]').getAttribute('href')");
    assert!(href.as_str().unwrap().contains("/documents/"), "{href}");
    browser.click("[data-delete-document]");
    browser.click("dialog[open] button[value=confirm]");
    browser.wait_for("[data-documents-empty]");
}
