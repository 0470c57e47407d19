//! Set-up shared by the browser tests: an account with a workspace, and logging in through the
//! login page.

use wrk_tests::browser::Browser;
use wrk_tests::{StatusCode, TestApp, Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

/// A verified account (verification off) with a workspace `slug`, created through the API.
pub fn account_with_workspace(app: &TestApp, email: &str, slug: &str, name: &str) {
    let r = app.post_json(
        "",
        "/api/auth/signup",
        &json!({"email": email, "password": PASSWORD, "name": "Grace Hopper"}),
    );
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().unwrap());
    let login: Value = app
        .post_json(
            "",
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .json()
        .unwrap();
    let token = login["access_token"].as_str().expect("access token");
    let r = app
        .request(wrk_tests::Method::POST, "", "/api/account/workspaces")
        .bearer_auth(token)
        .json(&json!({"name": name, "subdomain": slug}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().unwrap());
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
