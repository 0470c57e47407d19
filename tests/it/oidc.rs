//! SSO (flow 1A) against a real OpenID provider (node-oidc-provider): the whole browser redirect
//! dance, first login creating the user, the second finding the same one, and the refusals.

use serde_json::Value;
use wrk_tests::TestApp;
use wrk_tests::oidc::{IdProvider, browser_client, free_port, sign_in, sign_in_with};

/// WRK's callback as a native client's loopback redirect URI: the provider lets its port vary
/// (RFC 8252 §7.3), so WRK can take a free port itself.
const REDIRECT: &str = "http://localhost:*/api/auth/oidc/corp/callback";

/// A WRK app with the provider (default configuration: claims from UserInfo) configured as
/// `corp`, and its apex base URL.
fn setup() -> (IdProvider, TestApp, String) {
    setup_with(IdProvider::start(REDIRECT))
}

fn setup_with(idp: IdProvider) -> (IdProvider, TestApp, String) {
    let mut builder = TestApp::builder();
    for (k, v) in idp.env("corp") {
        builder = builder.env(&k, v);
    }
    // A second provider that is down must not break start-up or the first one.
    builder = builder
        .env(
            "WRK_OIDC_DOWN_ISSUER",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("WRK_OIDC_DOWN_CLIENT_ID", "x");
    let app = builder.spawn();
    let base = format!("http://localhost:{}", app.port());
    (idp, app, base)
}

fn me(client: &reqwest::blocking::Client, base: &str) -> (u16, Value) {
    let res = client
        .get(format!("{base}/api/account/me"))
        .send()
        .expect("GET /api/account/me");
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

#[test]
fn first_sso_login_creates_the_user_and_the_second_finds_the_same_one() {
    let (_idp, _app, base) = setup();

    let first = sign_in(&base, "corp", "ada", "");
    assert_eq!(first.status, 302, "{}", first.body);
    // No workspace yet: on to "create workspace".
    assert_eq!(
        first.location.as_deref(),
        Some(format!("{base}/workspaces/new").as_str())
    );
    let (status, user) = me(&first.client, &base);
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["auth"], "sso");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "User ada");

    let second = sign_in(&base, "corp", "ada", "");
    assert_eq!(second.status, 302, "{}", second.body);
    let (_, again) = me(&second.client, &base);
    assert_eq!(again["id"], user["id"]);
    assert_eq!(again["auth"], "sso");

    // Another account is another user.
    let other = sign_in(&base, "corp", "grace", "");
    let (_, grace) = me(&other.client, &base);
    assert_ne!(grace["id"], user["id"]);
}

#[test]
fn a_provider_that_puts_the_claims_in_the_id_token_signs_the_user_in_too() {
    // No UserInfo endpoint at all: the email can only have come from the ID token.
    let (_idp, _app, base) = setup_with(IdProvider::start_with_claims_in_id_token(REDIRECT));
    let res = sign_in(&base, "corp", "lin", "");
    assert_eq!(res.status, 302, "{}", res.body);
    let (status, user) = me(&res.client, &base);
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["auth"], "sso");
    assert_eq!(user["email"], "lin@example.com");
    assert_eq!(user["name"], "User lin");

    let refused = sign_in(&base, "corp", "unverified-kim", "");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(me(&refused.client, &base).0, 401);
}

#[test]
fn an_unverified_email_is_refused() {
    let (_idp, _app, base) = setup();
    let res = sign_in(&base, "corp", "unverified-bob", "");
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("not verified"), "{}", res.body);
    assert_eq!(me(&res.client, &base).0, 401);
}

#[test]
fn a_tampered_or_foreign_state_is_refused() {
    let (_idp, _app, base) = setup();
    let tampered = sign_in_with(browser_client(), &base, "corp", "eve", "", |mut url| {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    format!("{v}x")
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url
    });
    assert_eq!(tampered.status, 400, "{}", tampered.body);
    assert!(tampered.body.contains("state"), "{}", tampered.body);
    assert_eq!(me(&tampered.client, &base).0, 401);

    // The right state, but in a browser that did not start the flow (no flow cookie).
    let captured = std::sync::Mutex::new(None);
    let _ = sign_in_with(browser_client(), &base, "corp", "eve", "", |url| {
        *captured.lock().unwrap() = Some(url.clone());
        // Send this browser somewhere harmless instead.
        reqwest::Url::parse(&format!("{base}/api/auth/oidc/corp/callback")).unwrap()
    });
    let url = captured.lock().unwrap().take().expect("callback url");
    let stranger = browser_client().get(url).send().unwrap();
    assert_eq!(stranger.status(), 400);
}

#[test]
fn unknown_and_unreachable_providers_answer_without_breaking_others() {
    let (_idp, _app, base) = setup();
    let http = browser_client();
    let unknown = http
        .get(format!("{base}/api/auth/oidc/nope/start"))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let down = http
        .get(format!("{base}/api/auth/oidc/down/start"))
        .send()
        .unwrap();
    assert_eq!(down.status(), 503);
    let start = http
        .get(format!("{base}/api/auth/oidc/corp/start"))
        .send()
        .unwrap();
    assert_eq!(start.status(), 302);
    let to = start.headers()["location"].to_str().unwrap();
    assert!(to.contains("code_challenge_method=S256"), "{to}");
    assert!(to.contains("nonce=") && to.contains("state="), "{to}");
    let cookie = start.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("wrk_oidc=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

#[test]
fn an_invitation_carried_through_sso_lands_in_that_workspace_and_is_remembered() {
    let idp = IdProvider::start(REDIRECT);
    let mut builder = TestApp::builder()
        .env("WRK_EMAIL_VERIFICATION", "false")
        .mailbox();
    for (k, v) in idp.env("corp") {
        builder = builder.env(&k, v);
    }
    let app = builder.spawn();
    let owner = app.owner_named("owner@example.com", "acme", "Acme");
    app.invite("acme", &owner.token, "invitee@example.com", "member");
    let invite = app.mailed_token("invitee@example.com", "/invite");
    let port = app.port();
    let base = format!("http://localhost:{port}");

    let handoff = format!("http://acme.localhost:{port}/auth/handoff?code=");
    let first = sign_in(
        &base,
        "corp",
        "invitee@example.com",
        &format!("?invite={invite}"),
    );
    assert_eq!(first.status, 302, "{}", first.body);
    let to = first.location.unwrap();
    assert!(to.starts_with(&handoff), "{to}");
    assert_eq!(me(&first.client, &base).1["auth"], "sso");

    // The invitation is spent, and the workspace is now the last used one.
    let again = sign_in(&base, "corp", "invitee@example.com", "");
    let to = again.location.unwrap();
    assert!(to.starts_with(&handoff), "{to}");
}

#[test]
fn a_sign_in_started_from_a_workspace_login_goes_on_to_that_workspace_not_elsewhere() {
    let (_idp, _app, base) = setup();
    // A workspace's "Log in" link sends the browser to the apex with
    // `next=/workspaces?switch=beta`; SSO carries it through the provider round trip.
    let started_for_beta = sign_in(&base, "corp", "ada", "?next=%2Fworkspaces%3Fswitch%3Dbeta");
    assert_eq!(started_for_beta.status, 302, "{}", started_for_beta.body);
    assert_eq!(
        started_for_beta.location.as_deref(),
        Some(format!("{base}/workspaces?switch=beta").as_str())
    );
    // Another host is never a destination: the `next` is dropped and the usual landing applies.
    for foreign in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example%2F"] {
        let signed_in = sign_in(&base, "corp", "ada", &format!("?next={foreign}"));
        assert_eq!(
            signed_in.location.as_deref(),
            Some(format!("{base}/workspaces/new").as_str()),
            "{foreign}"
        );
    }
}
