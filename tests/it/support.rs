//! Set-up shared by the browser tests: an account with a workspace, logging in through the
//! login pages of a workspace and of the ops console, and screenshots at two widths.

pub use wrk_tests::PASSWORD;
use wrk_tests::browser::Browser;
use wrk_tests::{Owner, TestApp};

/// A verified account (verification off) with a workspace `slug`, created through the API.
pub fn account_with_workspace(app: &TestApp, email: &str, slug: &str, name: &str) -> Owner {
    app.owner_named(email, slug, name)
}

/// Logs in through the login page; with one workspace the browser lands in it.
pub fn log_in(app: &TestApp, browser: &Browser, email: &str, slug: &str) {
    browser.goto(&app.url("", "/login"));
    browser.fill("#email", email);
    browser.fill("#password", PASSWORD);
    browser.click("form[data-form=login] button[type=submit]");
    let host = app.host(slug);
    browser.wait_until(
        &format!("location.host === '{host}' && location.pathname === '/app'"),
        "the workspace app after login",
    );
    browser.wait_for("[data-page-root] h1");
}

/// Makes the ops user `email` with `role` (CLI) and logs in through the ops login page, which
/// then goes on to `next`.
pub fn ops_log_in(app: &TestApp, browser: &Browser, email: &str, role: &str, next: &str) {
    let password = app.create_ops_user(email, role, None);
    browser.goto(&app.url("ops", &format!("/ops/login?next={next}")));
    browser.fill("#email", email);
    browser.fill("#password", &password);
    browser.click("form[data-form=ops-login] button[type=submit]");
}

/// `email` owning the workspace `slug` named `name`, and a browser logged in there.
pub fn owner_signed_in(app: &TestApp, email: &str, slug: &str, name: &str) -> Browser {
    account_with_workspace(app, email, slug, name);
    let browser = Browser::start();
    log_in(app, &browser, email, slug);
    browser
}

/// A screenshot at 1366 px and another at 375 px (then back to 1366), once the phone layout has
/// put the sidebar off-canvas.
pub fn shots_at_two_widths(browser: &Browser, name: &str) {
    browser.resize(1366, 900);
    browser.screenshot(&format!("{name}-1366"));
    browser.resize(375, 812);
    browser.wait_until(
        "(() => { const s = document.querySelector('.app-sidebar');
                  return !s || s.getBoundingClientRect().right <= 0; })()",
        "the sidebar off-canvas",
    );
    browser.screenshot(&format!("{name}-375"));
    browser.resize(1366, 900);
}
