//! Flows 27-29 in headless Chromium: signed run events posted to the webhook fill the "Runs &
//! usage" chart of an automation, crossing 80 % of its committed runs shows an alert on the Alerts
//! page, and an admin sees the webhook secret in Settings; at 1366 and 375 px (screenshots in
//! `target/screenshots/`).

use std::time::Duration;

use wrk_tests::browser::Browser;
use wrk_tests::{TestApp, eventually};

use crate::platform_webhooks::{event, runs, secret, signed};
use crate::support::{account_with_workspace, log_in, shots_at_two_widths};

#[test]
fn posted_run_events_fill_the_usage_chart_and_an_alert_shows() {
    let app = TestApp::spawn_open();
    let owner = account_with_workspace(&app, "grace@example.com", "acme", "Acme Inc");
    let id = app.quoted("acme", &owner.token, "Lead routing", 10);
    app.signed_by_invoice("acme", &owner.token, &id);

    let browser = Browser::with_size(1366, 900);
    log_in(&app, &browser, "grace@example.com", "acme");
    browser.goto(&app.url("acme", &format!("/app/automations/{id}#usage")));
    browser.wait_for("[data-usage-panel] [data-usage-chart]");
    assert_eq!(browser.text("[data-usage-runs]"), "0");
    browser.screenshot("usage-empty-1366");

    let key = secret(&app, &owner);
    let http = wrk_tests::client();
    for n in 0..9 {
        let eid = format!("ui-{n}");
        let (s, v) = signed(
            &http,
            &app,
            "acme",
            &key,
            &event(&eid, "run.succeeded", &id, &eid, 1500),
        );
        assert!(s.is_success(), "{v}");
    }
    eventually(Duration::from_secs(60), "the runs counted", || {
        (runs(&app, &owner, &id) == 9).then_some(())
    });

    // The same page anew (a different address: going to the same one only moves to its hash).
    browser.goto(&app.url("acme", &format!("/app/automations/{id}?v=1#usage")));
    browser.wait_for("[data-usage-panel] [data-usage-table]");
    assert_eq!(browser.text("[data-usage-runs]"), "9");
    assert_eq!(browser.text("[data-usage-percent]"), "90 %");
    let bars =
        browser.eval("return document.querySelectorAll('[data-usage-chart] .chart-bar').length");
    assert_eq!(bars, 1, "one day with runs");
    let lines = browser.eval(
        "return [document.querySelectorAll('[data-usage-chart] [data-committed]').length,
                 document.querySelectorAll('[data-usage-chart] .chart-threshold').length]",
    );
    assert_eq!(
        lines,
        serde_json::json!([1, 1]),
        "the committed line and the 80 % threshold"
    );
    shots_at_two_widths(&browser, "usage-chart");

    browser.goto(&app.url("acme", "/app/alerts"));
    browser.wait_for("[data-alerts] [data-alert=volume]");
    let alert = browser.text("[data-alerts]");
    assert!(
        alert.contains("Lead routing reached 80 % of its committed runs"),
        "{alert}"
    );
    shots_at_two_widths(&browser, "alerts");

    browser.goto(&app.url("acme", "/app/settings"));
    browser.wait_for("[data-webhook-secret]");
    browser.wait_until(
        "document.querySelector('#webhook-secret').value.startsWith('whsec_')",
        "the webhook secret",
    );
    browser.wait_until(
        "document.querySelector('#alert-volume').value === '80, 100'",
        "the alert thresholds",
    );
    browser.eval("document.querySelector('[data-webhook-secret]').scrollIntoView()");
    shots_at_two_widths(&browser, "settings-webhook");
}
