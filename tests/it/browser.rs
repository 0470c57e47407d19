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
    browser.goto(&app.url("nope", "/app"));
    let heading = browser.text("h1");
    assert!(heading.contains("no workspace"), "{heading}");
    assert!(browser.title().to_lowercase().contains("not found"));
    browser.screenshot("workspace-not-found");
}
