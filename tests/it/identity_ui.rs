//! The identity pages in a real headless Chromium: signup → email verification (link from a real
//! SMTP server) → create workspace → the workspace app; login errors; API keys shown once; team
//! invitations; the ops login. Screenshots at 1280 and 375 px land in `target/screenshots/`.

use std::time::Duration;

use wrk_tests::browser::Browser;
use wrk_tests::smtp::{SmtpSink, links};
use wrk_tests::{StatusCode, TestApp};

use crate::support::{PASSWORD, account_with_workspace, owner_signed_in};

/// A screenshot at 1280 px and another at 375 px (then back to 1280).
fn shots(browser: &Browser, name: &str) {
    browser.screenshot(&format!("identity-{name}"));
    browser.resize(375, 812);
    settle(browser, "innerWidth <= 375");
    browser.screenshot(&format!("identity-{name}-375"));
    browser.resize(1280, 900);
    settle(browser, "innerWidth > 1000");
}

/// Waits for the layout at the new size: `cond` holds and no CSS transition is still running.
fn settle(browser: &Browser, cond: &str) {
    browser.wait_until(
        &format!(
            "{cond} && document.getAnimations().every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"
        ),
        "the layout to settle after a resize",
    );
}

#[test]
fn a_new_user_signs_up_verifies_and_lands_in_their_new_workspace() {
    let sink = SmtpSink::start();
    let app = TestApp::builder().env("WRK_SMTP_URL", sink.url()).spawn();
    let browser = Browser::start();

    // Sign up, with the live password hint.
    browser.goto(&app.url("", "/signup"));
    browser.wait_for("form[data-form=signup]");
    shots(&browser, "01-signup");
    browser.fill("#name", "Ada Lovelace");
    browser.fill("#email", "ada@example.com");
    browser.fill("#password", "short");
    let hint = browser.text("[data-password-hint]");
    assert!(hint.contains("7 more characters"), "{hint}");
    browser.fill("#password", PASSWORD);
    browser.wait_until(
        "document.querySelector('[data-password-hint]').classList.contains('is-ok')",
        "the password hint to turn green",
    );
    browser.screenshot("identity-02-signup-filled");
    browser.click("form[data-form=signup] button[type=submit]");

    // "Check your email", with the address.
    browser.wait_for("[data-result=mail]");
    let text = browser.text("[data-card]");
    assert!(text.contains("Check your email"), "{text}");
    assert!(text.contains("ada@example.com"), "{text}");
    shots(&browser, "03-check-email");

    // The verification link, from the real SMTP server.
    let mail = sink.wait_for_mail("ada@example.com", Duration::from_secs(30));
    let link = links(&mail)
        .into_iter()
        .find(|l| l.contains("/verify-email?token="))
        .expect("a verification link");
    assert!(link.starts_with(&app.url("", "/verify-email")), "{link}");
    browser.goto(&link);
    browser.wait_for("[data-result=success]");
    assert!(browser.text("[data-card] h1").contains("verified"));
    shots(&browser, "04-verified");
    browser.click("[data-continue]");

    // No workspace yet: create one; the slug is suggested and checked live.
    browser.wait_until(
        "location.pathname === '/workspaces/new' && document.body.dataset.ready === '1'",
        "the create-workspace page",
    );
    browser.fill("#ws-name", "Acme Inc");
    assert_eq!(
        browser.eval("return document.querySelector('#ws-slug').value"),
        "acme-inc"
    );
    browser.fill("#ws-slug", "api");
    let preview = browser.text("[data-slug-preview]");
    assert!(preview.contains("reserved"), "{preview}");
    browser.fill("#ws-slug", "acme");
    let expected = app.host("acme");
    browser.wait_until(
        &format!(
            "document.querySelector('[data-slug-preview] code')?.textContent === '{expected}'"
        ),
        "the URL preview",
    );
    shots(&browser, "05-create-workspace");
    browser.click("form[data-form=workspace] button[type=submit]");

    // Switch + handoff: the workspace host sets its own cookie and shows the app.
    browser.wait_until(
        &format!("location.host === '{expected}' && location.pathname === '/app'"),
        "the workspace app",
    );
    browser.wait_until(
        "document.querySelector('.ws-name')?.textContent === 'Acme Inc'",
        "the workspace name in the frame",
    );
    browser.wait_for("[data-page-root] h1");
    shots(&browser, "06-workspace-app");

    // The user menu: name, email, the workspace list and log out.
    browser.click(".user-btn");
    browser.wait_for("#user-menu [data-workspace-list] [data-subdomain=acme]");
    let menu = browser.text("#user-menu");
    assert!(menu.contains("ada@example.com"), "{menu}");
    browser.screenshot("identity-07-user-menu");
    browser.click("#user-menu [data-logout]");
    browser.wait_until(
        &format!(
            "location.host === '{}' && location.pathname === '/login'",
            app.host("")
        ),
        "the apex login after logout",
    );
    browser.wait_for(".banner-success");
    // Both sessions are gone: the workspace asks to sign in again.
    browser.goto(&app.url("acme", "/app"));
    let heading = browser.text("[data-page-root] h1");
    assert!(heading.contains("Sign in"), "{heading}");
}

#[test]
fn login_with_a_wrong_password_shows_the_error_next_to_the_field() {
    let app = TestApp::spawn_open();
    account_with_workspace(&app, "grace@example.com", "navy", "US Navy");
    let browser = Browser::start();
    browser.goto(&app.url("", "/login"));
    browser.wait_for("form[data-form=login]");
    shots(&browser, "10-login");
    browser.fill("#email", "grace@example.com");
    browser.fill("#password", "not the password at all");
    browser.expect_refusal("/api/auth/login", 401);
    browser.click("form[data-form=login] button[type=submit]");
    let error = browser.text("#password ~ .field-error");
    assert!(error.contains("don't match"), "{error}");
    assert_eq!(
        browser.eval("return document.querySelector('#password').getAttribute('aria-invalid')"),
        "true"
    );
    assert!(browser.url().ends_with("/login"));
    shots(&browser, "11-login-wrong-password");
    // The right password goes on to the (only) workspace.
    browser.fill("#password", PASSWORD);
    browser.click("form[data-form=login] button[type=submit]");
    let host = app.host("navy");
    browser.wait_until(
        &format!("location.host === '{host}' && location.pathname === '/app'"),
        "the workspace after login",
    );
}

#[test]
fn an_api_key_is_shown_once_and_the_list_shows_only_its_prefix() {
    let app = TestApp::spawn_open();
    let browser = owner_signed_in(&app, "grace@example.com", "acme", "Acme Inc");

    browser.goto(&app.url("acme", "/app/api-keys"));
    browser.wait_for("form[data-form=api-key]");
    browser.wait_for("[data-page-root] .empty-state");
    shots(&browser, "20-api-keys-empty");
    browser.fill("#key-name", "CRM sync");
    browser.click("input[name=scopes][value=write]");
    browser.click("form[data-form=api-key] button[type=submit]");
    browser.wait_for("[data-new-key]");
    let key = browser
        .eval("return document.querySelector('[data-new-key]').value")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(key.starts_with("wrk_"), "{key}");
    let note = browser.text(".key-reveal");
    assert!(note.contains("won't see it again"), "{note}");
    browser.wait_for("[data-api-keys] [data-prefix]");
    shots(&browser, "21-api-key-created");

    // The list has the prefix only; after the reveal is gone, the key is nowhere on the page.
    let prefix = browser.text("[data-api-keys] [data-prefix]");
    let prefix = prefix.trim_end_matches('…');
    assert!(
        key.starts_with(prefix) && prefix.len() < key.len(),
        "{prefix}"
    );
    browser.goto(&app.url("acme", "/app/api-keys"));
    browser.wait_for("[data-api-keys] [data-prefix]");
    let html = browser
        .eval("return document.documentElement.outerHTML")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!html.contains(&key), "the key must not be shown again");
    let row = browser.text("[data-api-keys] tbody tr");
    assert!(row.contains("CRM sync") && row.contains("write"), "{row}");

    // The key works, then revoke (with confirmation) makes it stop working.
    let me = app
        .request(wrk_tests::Method::GET, "acme", "/api/me")
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    browser.click("[data-api-keys] [data-revoke]");
    browser.wait_for("dialog[open] .btn-danger");
    browser.screenshot("identity-22-api-key-revoke-confirm");
    browser.click("dialog[open] .btn-danger");
    browser.wait_until(
        "[...document.querySelectorAll('[data-api-keys] .badge')].some(b => b.textContent === 'Revoked')",
        "the key marked revoked",
    );
    let me = app
        .request(wrk_tests::Method::GET, "acme", "/api/me")
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn the_team_page_invites_a_member_and_shows_the_pending_invitation() {
    let app = TestApp::spawn_open();
    let browser = owner_signed_in(&app, "grace@example.com", "acme", "Acme Inc");

    browser.goto(&app.url("acme", "/app/team"));
    browser.wait_for("[data-members] tbody tr");
    let members = browser.text("[data-members]");
    assert!(members.contains("grace@example.com"), "{members}");
    browser.fill("#invite-email", "not-an-email");
    browser.click("form[data-form=invite] button[type=submit]");
    let error = browser.text("#invite-email ~ .field-error");
    assert!(error.contains("email"), "{error}");
    browser.fill("#invite-email", "linus@example.com");
    browser.eval("const s = document.querySelector('#invite-role'); s.value = 'admin'; s.dispatchEvent(new Event('change')); return true");
    browser.click("form[data-form=invite] button[type=submit]");
    browser.wait_for("[data-invitations] [data-email='linus@example.com']");
    let row = browser.text("[data-invitations] [data-email='linus@example.com']");
    assert!(row.contains("Pending") && row.contains("Admin"), "{row}");
    assert!(browser.text(".banner-success").contains("Invitation sent"));
    shots(&browser, "30-team");

    // The last owner can't be demoted: the server's answer is shown and the select goes back.
    browser.expect_refusal("/api/members/", 409);
    browser.eval("const s = document.querySelector('[data-members] select'); s.value = 'member'; s.dispatchEvent(new Event('change')); return true");
    browser.wait_for(".banner-error");
    assert_eq!(
        browser.eval("return document.querySelector('[data-members] select').value"),
        "owner"
    );
    browser.screenshot("identity-31-team-last-owner");

    // Revoke the invitation after confirming.
    browser.click("[data-invitations] [data-revoke]");
    browser.click("dialog[open] .btn-danger");
    browser.wait_until(
        "!document.querySelector('[data-invitations] [data-revoke]')",
        "the invitation revoked",
    );
    let status = browser.text("[data-invitations] [data-status]");
    assert_eq!(status, "Revoked");
}

#[test]
fn an_invitation_link_offers_signup_and_a_revoked_one_explains_itself() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .env("WRK_SMTP_URL", sink.url())
        .env("WRK_EMAIL_VERIFICATION", "false")
        .spawn();
    let browser = owner_signed_in(&app, "grace@example.com", "acme", "Acme Inc");
    browser.goto(&app.url("acme", "/app/team"));
    browser.fill("#invite-email", "linus@example.com");
    browser.click("form[data-form=invite] button[type=submit]");
    browser.wait_for("[data-invitations] [data-email='linus@example.com']");
    let mail = sink.wait_for_mail("linus@example.com", Duration::from_secs(30));
    let link = links(&mail)
        .into_iter()
        .find(|l| l.contains("/invite?token="))
        .expect("an invitation link");

    // A fresh browser: sign up from the invitation and land in that workspace.
    let invitee = Browser::start();
    invitee.goto(&link);
    invitee.wait_for("[data-signup]");
    shots(&invitee, "40-invite");
    invitee.click("[data-signup]");
    invitee.fill("#name", "Linus");
    // The invited address is filled in and fixed: the link proves it.
    invitee.wait_for("[data-invited-email]");
    assert_eq!(
        invitee.eval("const e = document.querySelector('#email'); return [e.value, e.readOnly];"),
        serde_json::json!(["linus@example.com", true])
    );
    invitee.fill("#password", PASSWORD);
    invitee.click("form[data-form=signup] button[type=submit]");
    let host = app.host("acme");
    invitee.wait_until(
        &format!("location.host === '{host}' && location.pathname === '/app'"),
        "the invited workspace",
    );
    invitee.wait_until(
        "document.querySelector('.ws-name')?.textContent === 'Acme Inc'",
        "the workspace name",
    );

    // A used link explains itself instead of failing silently.
    invitee.expect_refusal("/api/account/invitations/accept", 409);
    invitee.goto(&format!("{link}&continue=1"));
    invitee.wait_for("[data-result=error]");
    shots(&invitee, "41-invite-used");
}

#[test]
fn the_ops_console_sends_a_signed_out_visitor_to_its_login_page() {
    let app = TestApp::spawn();
    let browser = Browser::start();
    browser.goto(&app.url("ops", "/ops"));
    browser.wait_until("location.pathname === '/ops/login'", "the ops login page");
    browser.wait_for("form[data-form=ops-login]");
    browser.fill("#email", "nobody@wrk.test");
    browser.fill("#password", "wrong password here");
    browser.expect_refusal("/api/ops/auth/login", 401);
    browser.click("form[data-form=ops-login] button[type=submit]");
    let error = browser.text("#password ~ .field-error");
    assert!(error.contains("don't match"), "{error}");
    shots(&browser, "50-ops-login");
}
