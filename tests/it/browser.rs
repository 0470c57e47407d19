//! The UI in a real headless Chromium.

use wrk_tests::TestApp;
use wrk_tests::browser::Browser;

#[test]
fn the_landing_page_renders_in_a_real_browser() {
    let app = TestApp::spawn();
    let browser = Browser::start();
    browser.goto(&app.url("", "/"));
    let heading = browser.text("main h1");
    assert!(heading.contains("WRK Copilot"), "{heading}");
    assert!(browser.title().contains("WRK Copilot"));
    // The stylesheet loaded (CSP allowed it): the body font is not the browser default serif.
    let font = browser.eval("return getComputedStyle(document.body).fontFamily");
    assert!(
        !font.as_str().unwrap_or("").starts_with("\"Times"),
        "{font}"
    );
    // No CSP violations or script errors were reported on the console.
    let path = browser.screenshot("landing");
    assert!(
        path.metadata().unwrap().len() > 10_000,
        "screenshot too small"
    );
}

#[test]
fn an_unknown_workspace_shows_the_not_found_page_in_a_browser() {
    let app = TestApp::spawn();
    let browser = Browser::start();
    // The page is the server's 404 answer for that host, as it should be.
    browser.expect_refusal(&app.url("nope", "/app"), 404);
    browser.goto(&app.url("nope", "/app"));
    let heading = browser.text("h1");
    assert!(heading.contains("no workspace"), "{heading}");
    assert!(browser.title().to_lowercase().contains("not found"));
    browser.screenshot("workspace-not-found");
}

#[test]
fn the_page_checks_fail_naming_the_page_the_rule_the_element_and_the_scheme() {
    let app = TestApp::spawn();
    let browser = Browser::start();
    let page = app.url("", "/");
    browser.goto(&page);
    // An image with no text alternative, a button whose name hides its visible text, a block
    // wider than a phone, a button whose focus ring is switched off (the first Tab stop), and a
    // script error on the console.
    browser.eval(
        "const img = document.createElement('img');
         img.id = 'no-alt'; img.src = '/assets/img/logo.svg';
         const misnamed = document.createElement('button');
         misnamed.id = 'misnamed'; misnamed.textContent = 'Ada Lovelace'; misnamed.setAttribute('aria-label', 'Account menu');
         const wide = document.createElement('div');
         wide.id = 'too-wide'; wide.textContent = 'wide'; wide.style.width = '600px';
         const btn = document.createElement('button');
         btn.id = 'no-ring'; btn.textContent = 'No ring'; btn.style.outline = 'none';
         document.querySelector('main').append(img, misnamed, wide);
         document.body.prepend(btn);
         console.error('something broke');",
    );
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        browser.audit("with the faults added")
    }))
    .expect_err("the checks find the faults");
    let report = failure.downcast_ref::<String>().expect("a report").clone();
    for expected in [
        page.as_str(),
        "axe `image-alt`",
        "light scheme",
        "dark scheme",
        "#no-alt",
        "axe `label-content-name-mismatch`",
        "#misnamed",
        "scrolls sideways at 320 px",
        "div#too-wide",
        "no focus indicator in forced-colours mode on button#no-ring",
        "console error",
        "something broke",
    ] {
        assert!(report.contains(expected), "{expected} not in:\n{report}");
    }
    // Without the faults the same page passes (also checked when the browser is dropped).
    browser.eval(
        "for (const id of ['no-alt', 'misnamed', 'too-wide', 'no-ring']) document.getElementById(id).remove();",
    );
    browser.audit("with the faults removed");
}

#[test]
fn a_workspace_being_moved_shows_the_moving_page_in_a_browser() {
    let app = TestApp::spawn_open();
    let a = app.owner_of("ada@example.com", "acme");
    let ops = app.ops_token("ops_admin");
    let fence = format!("/api/ops/tenants/{}/fence", a.tenant_id);
    let (s, b) = app.put_as(
        "ops",
        &fence,
        &ops,
        serde_json::json!({"retry_after_secs": 5}),
    );
    assert_eq!(s, wrk_tests::StatusCode::OK, "{b}");
    let browser = Browser::start();
    browser.expect_refusal(&app.url("acme", "/app"), 503);
    browser.goto(&app.url("acme", "/app"));
    let heading = browser.text("h1");
    assert!(heading.contains("being moved"), "{heading}");
    assert!(browser.text("[data-address]").ends_with("/app"));
    browser.screenshot("workspace-moving");
    // Once the fence is lifted, "Try again" opens the workspace's address again.
    let (s, _) = app.delete_as("ops", &fence, &ops);
    assert_eq!(s, wrk_tests::StatusCode::NO_CONTENT);
    browser.click("[data-retry]");
    browser.wait_until(
        "!document.body.dataset.error",
        "the workspace instead of the moving page",
    );
    browser.screenshot("workspace-moved-back");
}
