//! Identity & access: signup, verification, login + lockout, tokens, refresh reuse, password
//! reset, workspaces, switching + handoff, invitations, members, API keys, ops login, cookies +
//! CSRF, and the auth rate limit.

use std::process::Command;
use std::time::Duration;

use wrk_tests::{Method, StatusCode, TestApp, Value, eventually, json};

const PASSWORD: &str = "correct horse battery staple";

/// A server with a high auth rate limit (these tests make many auth calls from one IP).
fn spawn(verification: bool) -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env(
            "WRK_EMAIL_VERIFICATION",
            if verification { "true" } else { "false" },
        )
        .spawn()
}

fn send(
    app: &TestApp,
    method: Method,
    host: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, host, path);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().expect("request");
    let status = res.status();
    (status, res.json().unwrap_or(Value::Null))
}

fn post(
    app: &TestApp,
    host: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    send(app, Method::POST, host, path, token, Some(body))
}

fn get(app: &TestApp, host: &str, path: &str, token: &str) -> (StatusCode, Value) {
    send(app, Method::GET, host, path, Some(token), None)
}

/// Emails queued for `to`, newest first, read from the outbox.
fn emails_to(app: &TestApp, to: &str) -> Vec<wrk_tenants::outbox::EmailRecord> {
    let storage = wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(app.data_dir()))
        .expect("storage");
    storage
        .control()
        .list_emails(&wrk_tenants::outbox::EmailFilter {
            to: Some(to.to_owned()),
            ..Default::default()
        })
        .expect("emails")
}

/// The `token=` of the newest email of `kind` to `to`.
fn token_from_email(app: &TestApp, to: &str, kind: &str) -> String {
    let text = eventually(Duration::from_secs(10), "the email", || {
        emails_to(app, to)
            .into_iter()
            .find(|e| e.kind == kind)
            .map(|e| e.text)
    });
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn signup(app: &TestApp, email: &str) -> String {
    let (s, body) = post(
        app,
        "",
        "/api/auth/signup",
        None,
        json!({"email": email, "password": PASSWORD, "name": "Test User"}),
    );
    assert_eq!(s, 201, "{body}");
    body["user_id"].as_str().unwrap().to_owned()
}

/// Logs in on `host` and returns the whole token answer.
fn login(app: &TestApp, host: &str, email: &str) -> Value {
    let (s, body) = post(
        app,
        host,
        "/api/auth/login",
        None,
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{body}");
    body
}

fn access(v: &Value) -> String {
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// A user (verification off) with a workspace at `slug`; returns (account token, workspace token).
fn owner_of(app: &TestApp, email: &str, slug: &str) -> (String, String) {
    signup(app, email);
    let account = access(&login(app, "", email));
    let (s, body) = post(
        app,
        "",
        "/api/account/workspaces",
        Some(&account),
        json!({"name": slug.to_uppercase(), "subdomain": slug}),
    );
    assert_eq!(s, 201, "{body}");
    let ws = access(&login(app, slug, email));
    (account, ws)
}

#[test]
fn a_new_account_verifies_its_email_creates_a_workspace_and_reads_itself_there() {
    let app = spawn(true);
    let (s, body) = post(
        &app,
        "",
        "/api/auth/signup",
        None,
        json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}),
    );
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["email_verification_required"], true);
    let (s, body) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("email_not_verified")),
        "{body}"
    );

    let token = token_from_email(&app, "ada@example.com", "verify_email");
    let (s, body) = post(
        &app,
        "",
        "/api/auth/verify-email",
        None,
        json!({"token": token}),
    );
    assert_eq!(
        (s, &body["verified"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    let (s, body) = post(
        &app,
        "",
        "/api/auth/verify-email",
        None,
        json!({"token": token}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token")),
        "a link works once"
    );

    let account = login(&app, "", "ada@example.com");
    assert_eq!(account["token_type"], "Bearer");
    assert!(account["expires_in"].as_i64().unwrap() <= 900);
    assert_eq!(account["workspaces"], json!([]));
    let account = access(&account);

    for (slug, code) in [
        ("admin", "validation_failed"),
        ("-bad", "validation_failed"),
        ("ab", "validation_failed"),
    ] {
        let (s, body) = post(
            &app,
            "",
            "/api/account/workspaces",
            Some(&account),
            json!({"name": "X", "subdomain": slug}),
        );
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{slug}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], "subdomain");
    }
    let (s, created) = post(
        &app,
        "",
        "/api/account/workspaces",
        Some(&account),
        json!({"name": "Acme", "subdomain": "acme"}),
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["role"], "owner");
    assert_eq!(
        created["url"],
        format!("http://acme.localhost:{}/app", app.port())
    );
    let (s, _) = post(
        &app,
        "",
        "/api/account/workspaces",
        Some(&account),
        json!({"name": "Acme 2", "subdomain": "acme"}),
    );
    assert_eq!(s, 409, "a taken slug is a conflict");

    let (s, list) = get(&app, "", "/api/account/workspaces", &account);
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["subdomain"], "acme");

    let (s, switched) = post(
        &app,
        "",
        "/api/account/switch",
        Some(&account),
        json!({"subdomain": "acme"}),
    );
    assert_eq!(s, 200, "{switched}");
    let ws = access(&switched);
    let (s, me) = get(&app, "acme", "/api/me", &ws);
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["tenant"]["subdomain"], "acme");
    assert_eq!(me["tenant"]["id"], created["tenant_id"]);
    assert_eq!(me["role"], "owner");

    // The browser handoff: a single-use code that sets a host-only cookie and lands in /app.
    let code = switched["handoff_code"].as_str().unwrap();
    let res = app
        .request(Method::GET, "acme", &format!("/auth/handoff?code={code}"))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/app");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("wrk_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    assert!(
        !session.to_ascii_lowercase().contains("domain="),
        "host-only: {session}"
    );
    let cookie_header = cookies
        .iter()
        .map(|c| c.split(';').next().unwrap())
        .collect::<Vec<_>>()
        .join("; ");
    let res = app
        .request(Method::GET, "acme", "/api/me")
        .header("cookie", &cookie_header)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .request(Method::GET, "acme", &format!("/auth/handoff?code={code}"))
        .send()
        .unwrap();
    assert_eq!(res.status(), 400, "a handoff code works once");
}

#[test]
fn a_session_or_api_key_of_one_workspace_gets_nothing_from_another() {
    let app = spawn(false);
    let (_, acme) = owner_of(&app, "a@example.com", "acme");
    let (beta_account, beta) = owner_of(&app, "b@example.com", "beta");

    let (s, body) = get(&app, "acme", "/api/me", &beta);
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{body}"
    );
    let (s, _) = get(&app, "acme", "/api/members", &beta);
    assert_eq!(s, 403);
    let (s, _) = send(
        &app,
        Method::DELETE,
        "acme",
        "/api/api-keys/0190f0f0-0000-7000-8000-000000000000",
        Some(&beta),
        None,
    );
    assert_eq!(s, 404, "objects of another workspace are 404");
    let (s, _) = get(&app, "acme", "/api/me", &beta_account);
    assert_eq!(s, 403, "an account token is not a workspace session");
    let (s, body) = post(
        &app,
        "acme",
        "/api/auth/login",
        None,
        json!({"email": "b@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 403, "no membership in acme: {body}");
    let (s, _) = post(
        &app,
        "",
        "/api/account/switch",
        Some(&beta_account),
        json!({"subdomain": "acme"}),
    );
    assert_eq!(s, 403);

    let (s, key) = post(
        &app,
        "acme",
        "/api/api-keys",
        Some(&acme),
        json!({"name": "ci", "scopes": ["admin"]}),
    );
    assert_eq!(s, 201, "{key}");
    let key = key["key"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, "acme", "/api/me", &key).0, 200);
    let (s, body) = get(&app, "beta", "/api/me", &key);
    assert_eq!(s, 401, "acme's key on beta: {body}");
    assert_eq!(get(&app, "beta", "/api/members", &key).0, 401);
    assert_eq!(
        get(&app, "", "/api/account/me", &key).0,
        401,
        "keys are for workspace hosts only"
    );
}

#[test]
fn an_invited_user_joins_that_workspace_with_the_invited_role_and_no_other() {
    let app = spawn(false);
    let (_, acme) = owner_of(&app, "owner@example.com", "acme");
    let (s, inv) = post(
        &app,
        "acme",
        "/api/invitations",
        Some(&acme),
        json!({"email": "New@Example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{inv}");
    assert_eq!(
        (inv["status"].as_str(), inv["role"].as_str()),
        (Some("pending"), Some("admin"))
    );
    let first = token_from_email(&app, "new@example.com", "invitation");
    let text = &emails_to(&app, "new@example.com")[0].text;
    assert!(
        text.contains(&format!("http://localhost:{}/invite?token=", app.port())),
        "{text}"
    );

    // Resend: a new link, the old one is dead.
    let id = inv["id"].as_str().unwrap();
    let (s, _) = post(
        &app,
        "acme",
        &format!("/api/invitations/{id}/resend"),
        Some(&acme),
        json!({}),
    );
    assert_eq!(s, 200);
    let second = eventually(Duration::from_secs(10), "a second invitation email", || {
        let t = token_from_email(&app, "new@example.com", "invitation");
        (t != first).then_some(t)
    });

    signup(&app, "new@example.com");
    let account = access(&login(&app, "", "new@example.com"));
    let (s, body) = post(
        &app,
        "",
        "/api/account/invitations/accept",
        Some(&account),
        json!({"token": first}),
    );
    assert_eq!(
        s, 400,
        "the resent invitation killed the first link: {body}"
    );
    let (s, body) = post(
        &app,
        "",
        "/api/account/invitations/accept",
        Some(&account),
        json!({"token": second}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        (body["subdomain"].as_str(), body["role"].as_str()),
        (Some("acme"), Some("admin"))
    );
    let (_, list) = get(&app, "", "/api/account/workspaces", &account);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "no extra workspace: {list}"
    );
    let (s, body) = post(
        &app,
        "",
        "/api/account/invitations/accept",
        Some(&account),
        json!({"token": second}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_accepted"))
    );

    let ws = access(&login(&app, "acme", "new@example.com"));
    let (_, me) = get(&app, "acme", "/api/me", &ws);
    assert_eq!(me["role"], "admin");
    let (_, members) = get(&app, "acme", "/api/members", &ws);
    assert_eq!(members["items"].as_array().unwrap().len(), 2, "{members}");

    let (s, _) = post(
        &app,
        "acme",
        "/api/invitations",
        Some(&acme),
        json!({"email": "new@example.com", "role": "member"}),
    );
    assert_eq!(s, 409, "inviting a member is a conflict");

    let (_, inv) = post(
        &app,
        "acme",
        "/api/invitations",
        Some(&acme),
        json!({"email": "late@example.com", "role": "member"}),
    );
    let late = token_from_email(&app, "late@example.com", "invitation");
    let (s, _) = send(
        &app,
        Method::DELETE,
        "acme",
        &format!("/api/invitations/{}", inv["id"].as_str().unwrap()),
        Some(&acme),
        None,
    );
    assert_eq!(s, 204);
    signup(&app, "late@example.com");
    let late_account = access(&login(&app, "", "late@example.com"));
    let (s, body) = post(
        &app,
        "",
        "/api/account/invitations/accept",
        Some(&late_account),
        json!({"token": late}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::GONE, Some("invitation_revoked")),
        "{body}"
    );
    let (_, list) = get(&app, "acme", "/api/invitations", &acme);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["status"] == "revoked"),
        "{list}"
    );
}

#[test]
fn six_wrong_passwords_lock_the_email_even_for_the_right_password() {
    let app = spawn(false);
    signup(&app, "lock@example.com");
    for _ in 0..6 {
        let (s, body) = post(
            &app,
            "",
            "/api/auth/login",
            None,
            json!({"email": "lock@example.com", "password": "wrong password!!"}),
        );
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
    }
    let (s, locked) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "lock@example.com", "password": PASSWORD}),
    );
    let (_, wrong) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "lock@example.com", "password": "wrong password!!"}),
    );
    assert_eq!(s, 401, "locked: the right password is refused too");
    assert_eq!(
        locked["detail"], wrong["detail"],
        "same answer as a wrong password"
    );
    let (_, unknown) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    );
    assert_eq!(locked["detail"], unknown["detail"]);
}

#[test]
fn reusing_a_spent_refresh_token_revokes_the_newer_one_too() {
    let app = spawn(false);
    signup(&app, "r@example.com");
    let first = login(&app, "", "r@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, second) = post(
        &app,
        "",
        "/api/auth/refresh",
        None,
        json!({"refresh_token": first}),
    );
    assert_eq!(s, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first);
    assert_eq!(get(&app, "", "/api/account/me", &access(&second)).0, 200);

    let (s, _) = post(
        &app,
        "",
        "/api/auth/refresh",
        None,
        json!({"refresh_token": first}),
    );
    assert_eq!(s, 401, "a spent token is refused");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/refresh",
        None,
        json!({"refresh_token": second_refresh}),
    );
    assert_eq!(s, 401, "and its whole family is revoked");

    let third = login(&app, "", "r@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = post(
        &app,
        "",
        "/api/auth/logout",
        None,
        json!({"refresh_token": third}),
    );
    assert_eq!(s, 204);
    let (s, _) = post(
        &app,
        "",
        "/api/auth/refresh",
        None,
        json!({"refresh_token": third}),
    );
    assert_eq!(s, 401, "logout revokes the refresh token");
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn forged_tampered_and_expired_access_tokens_are_refused() {
    let app = spawn(false);
    signup(&app, "t@example.com");
    let body = login(&app, "", "t@example.com");
    let token = access(&body);
    assert_eq!(get(&app, "", "/api/account/me", &token).0, 200);
    let parts: Vec<&str> = token.split('.').collect();

    let user_id = body["user"]["id"].as_str().unwrap();
    let none_header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64url(
        format!(
            r#"{{"sub":"{user_id}","roles":[],"aud":"wrk:account","iat":0,"exp":99999999999}}"#
        )
        .as_bytes(),
    );
    for forged in [
        format!("{none_header}.{payload}."),
        format!("{}.{payload}.{}", parts[0], parts[2]),
    ] {
        let (s, _) = get(&app, "", "/api/account/me", &forged);
        assert_eq!(s, 401, "{forged}");
    }
    let mut sig = parts[2].to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        get(
            &app,
            "",
            "/api/account/me",
            &format!("{}.{}.{sig}", parts[0], parts[1])
        )
        .0,
        401
    );

    // An expired token correctly signed with the server's own key.
    let dir = app.data_dir().join("keys/jwt");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let kid = file.file_stem().unwrap().to_str().unwrap().to_owned();
    let secret = std::fs::read_to_string(&file).unwrap();
    let secret: Vec<u8> = (0..secret.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&secret.trim()[i..i + 2], 16).unwrap())
        .collect();
    let claims =
        json!({"sub": user_id, "roles": [], "aud": "wrk:account", "iat": 1_000, "exp": 2_000});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.clone());
    let expired = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(get(&app, "", "/api/account/me", &expired).0, 401, "expired");
    let fresh = json!({"sub": user_id, "roles": [], "aud": "wrk:account", "iat": 1_000, "exp": 99_999_999_999i64});
    let valid = jsonwebtoken::encode(
        &header,
        &fresh,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(
        get(&app, "", "/api/account/me", &valid).0,
        200,
        "the same key and claims, unexpired, pass"
    );
    header.kid = Some("unknown-kid".into());
    let unknown = jsonwebtoken::encode(
        &header,
        &fresh,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(
        get(&app, "", "/api/account/me", &unknown).0,
        401,
        "unknown kid"
    );
}

#[test]
fn a_rotated_jwt_key_signs_new_tokens_while_old_ones_still_verify() {
    let app = spawn(false);
    signup(&app, "k@example.com");
    let old = access(&login(&app, "", "k@example.com"));
    let out = Command::new(wrk_tests::wrk_bin())
        .args(["keys", "rotate-jwt"])
        .env("WRK_DATA_DIR", app.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(app.data_dir().join("keys/jwt"))
            .unwrap()
            .count(),
        2
    );
    assert_eq!(get(&app, "", "/api/account/me", &old).0, 200);
}

#[test]
fn password_reset_answers_202_for_anyone_and_mails_only_real_accounts() {
    let app = spawn(false);
    signup(&app, "p@example.com");
    let refresh = login(&app, "", "p@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (s, _) = post(
        &app,
        "",
        "/api/auth/password-reset/request",
        None,
        json!({"email": "ghost@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, _) = post(
        &app,
        "",
        "/api/auth/password-reset/request",
        None,
        json!({"email": "p@example.com"}),
    );
    assert_eq!(s, 202);
    let token = token_from_email(&app, "p@example.com", "password_reset");
    assert!(
        emails_to(&app, "ghost@example.com").is_empty(),
        "no email for an unknown address"
    );
    assert_eq!(
        emails_to(&app, "p@example.com")
            .iter()
            .filter(|e| e.kind == "password_reset")
            .count(),
        1
    );

    let new_password = "a brand new passphrase";
    let (s, body) = post(
        &app,
        "",
        "/api/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": new_password}),
    );
    assert_eq!(s, 200, "{body}");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    );
    assert_eq!(s, 401, "a reset revokes every session");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": "yet another passphrase"}),
    );
    assert_eq!(s, 400, "single use");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "p@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 401);
    let (s, _) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "p@example.com", "password": new_password}),
    );
    assert_eq!(s, 200);
}

#[test]
fn the_auth_rate_limit_answers_429_with_retry_after() {
    let app = TestApp::builder().env("WRK_AUTH_RATE_LIMIT", "3").spawn();
    let statuses: Vec<wrk_tests::Response> = (0..4)
        .map(|_| {
            app.post_json(
                "",
                "/api/auth/login",
                &json!({"email": "x@example.com", "password": "whatever it is"}),
            )
        })
        .collect();
    let last = statuses.last().unwrap();
    assert_eq!(last.status(), 429);
    assert!(
        last.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(last.headers()["content-type"], "application/problem+json");
    // Other endpoints are not limited.
    assert_eq!(app.get("", "/healthz").status(), 200);
}

#[test]
fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = spawn(false);
    let (_, acme) = owner_of(&app, "o@example.com", "acme");
    let (_, me) = get(&app, "acme", "/api/me", &acme);
    let owner_id = me["user"]["id"].as_str().unwrap();
    let (s, body) = send(
        &app,
        Method::PATCH,
        "acme",
        &format!("/api/members/{owner_id}"),
        Some(&acme),
        Some(json!({"role": "admin"})),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{body}"
    );
    let (s, _) = send(
        &app,
        Method::DELETE,
        "acme",
        &format!("/api/members/{owner_id}"),
        Some(&acme),
        None,
    );
    assert_eq!(s, 409);

    // A member cannot change roles; an owner can, and can then step down.
    post(
        &app,
        "acme",
        "/api/invitations",
        Some(&acme),
        json!({"email": "m@example.com", "role": "member"}),
    );
    let token = token_from_email(&app, "m@example.com", "invitation");
    signup(&app, "m@example.com");
    let account = access(&login(&app, "", "m@example.com"));
    assert_eq!(
        post(
            &app,
            "",
            "/api/account/invitations/accept",
            Some(&account),
            json!({"token": token})
        )
        .0,
        200
    );
    let member = access(&login(&app, "acme", "m@example.com"));
    let (_, me2) = get(&app, "acme", "/api/me", &member);
    let member_id = me2["user"]["id"].as_str().unwrap();
    let (s, _) = send(
        &app,
        Method::PATCH,
        "acme",
        &format!("/api/members/{owner_id}"),
        Some(&member),
        Some(json!({"role": "member"})),
    );
    assert_eq!(s, 403);
    let (s, body) = send(
        &app,
        Method::PATCH,
        "acme",
        &format!("/api/members/{member_id}"),
        Some(&acme),
        Some(json!({"role": "owner"})),
    );
    assert_eq!(
        (s, body["role"].as_str()),
        (StatusCode::OK, Some("owner")),
        "{body}"
    );
    let (s, _) = send(
        &app,
        Method::PATCH,
        "acme",
        &format!("/api/members/{owner_id}"),
        Some(&acme),
        Some(json!({"role": "member"})),
    );
    assert_eq!(s, 200, "not the last owner any more");
}

#[test]
fn api_key_scopes_are_enforced_and_revocation_is_immediate() {
    let app = spawn(false);
    let (_, acme) = owner_of(&app, "k@example.com", "acme");
    let (s, read) = post(
        &app,
        "acme",
        "/api/api-keys",
        Some(&acme),
        json!({"name": "reader", "scopes": ["read"]}),
    );
    assert_eq!(s, 201, "{read}");
    let key = read["key"].as_str().unwrap();
    assert!(key.starts_with("wrk_") && key.len() == 47, "{key}");
    assert!(key.starts_with(read["prefix"].as_str().unwrap()));

    let (s, list) = get(&app, "acme", "/api/api-keys", &acme);
    assert_eq!(s, 200);
    assert!(
        list["items"][0].get("key").is_none(),
        "lists never show the key: {list}"
    );
    assert!(!list.to_string().contains(key));

    assert_eq!(
        get(&app, "acme", "/api/members", key).0,
        200,
        "read scope reads"
    );
    assert_eq!(
        get(&app, "acme", "/api/invitations", key).0,
        403,
        "but does not administer"
    );
    assert_eq!(
        post(
            &app,
            "acme",
            "/api/api-keys",
            Some(key),
            json!({"name": "x", "scopes": ["read"]})
        )
        .0,
        403
    );

    let (_, admin) = post(
        &app,
        "acme",
        "/api/api-keys",
        Some(&acme),
        json!({"name": "admin", "scopes": ["admin"]}),
    );
    assert_eq!(
        get(
            &app,
            "acme",
            "/api/invitations",
            admin["key"].as_str().unwrap()
        )
        .0,
        200
    );

    let id = read["id"].as_str().unwrap();
    assert_eq!(
        send(
            &app,
            Method::DELETE,
            "acme",
            &format!("/api/api-keys/{id}"),
            Some(&acme),
            None
        )
        .0,
        204
    );
    assert_eq!(
        get(&app, "acme", "/api/members", key).0,
        401,
        "revoked at once"
    );

    let (_, expired) = post(
        &app,
        "acme",
        "/api/api-keys",
        Some(&acme),
        json!({"name": "old", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}),
    );
    assert_eq!(expired["code"], "validation_failed");
}

#[test]
fn ops_login_works_only_on_the_ops_host() {
    let app = spawn(false);
    let out = Command::new(wrk_tests::wrk_bin())
        .args([
            "ops",
            "create-user",
            "--email",
            "staff@wrk.example",
            "--role",
            "ops_admin",
        ])
        .env("WRK_DATA_DIR", app.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password")
        .trim()
        .to_owned();

    let creds = json!({"email": "staff@wrk.example", "password": password});
    let (s, body) = post(&app, "ops", "/api/ops/auth/login", None, creds.clone());
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["role"], "ops_admin");
    let ops = access(&body);
    let (s, me) = get(&app, "ops", "/api/ops/me", &ops);
    assert_eq!(
        (s, me["role"].as_str()),
        (StatusCode::OK, Some("ops_admin"))
    );

    assert_eq!(
        post(&app, "", "/api/ops/auth/login", None, creds.clone()).0,
        404,
        "not on the apex"
    );
    assert_eq!(
        get(&app, "", "/api/account/me", &ops).0,
        401,
        "ops tokens are refused on the apex"
    );
    let (_, acme) = owner_of(&app, "c@example.com", "acme");
    assert_eq!(
        get(&app, "acme", "/api/me", &ops).0,
        401,
        "and on workspace hosts"
    );
    assert_eq!(
        get(&app, "ops", "/api/ops/me", &acme).0,
        401,
        "client tokens are refused on the ops host"
    );
    let (s, _) = post(
        &app,
        "ops",
        "/api/ops/auth/login",
        None,
        json!({"email": "staff@wrk.example", "password": "wrong password!!"}),
    );
    assert_eq!(s, 401);
}

#[test]
fn cookie_sessions_need_the_csrf_token_on_unsafe_requests() {
    let app = spawn(false);
    signup(&app, "c@example.com");
    let res = app.post_json(
        "",
        "/api/auth/login",
        &json!({"email": "c@example.com", "password": PASSWORD, "session": "cookie"}),
    );
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let pair = |name: &str| {
        cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let (session, csrf) = (pair("wrk_session="), pair("wrk_csrf="));
    assert!(
        !cookies
            .iter()
            .find(|c| c.starts_with("wrk_csrf="))
            .unwrap()
            .contains("HttpOnly"),
        "the CSRF cookie is readable"
    );
    let jar = format!("{session}; {csrf}");
    let csrf_value = csrf.trim_start_matches("wrk_csrf=");

    let res = app
        .request(Method::GET, "", "/api/account/me")
        .header("cookie", &jar)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200, "safe requests need no CSRF header");
    let create = json!({"name": "Acme", "subdomain": "acme"});
    let res = app
        .request(Method::POST, "", "/api/account/workspaces")
        .header("cookie", &jar)
        .json(&create)
        .send()
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF header");
    let res = app
        .request(Method::POST, "", "/api/account/workspaces")
        .header("cookie", &jar)
        .header("x-csrf-token", csrf_value)
        .header("origin", "http://evil.example")
        .json(&create)
        .send()
        .unwrap();
    assert_eq!(res.status(), 403, "cross-site origin");
    let res = app
        .request(Method::POST, "", "/api/account/workspaces")
        .header("cookie", &jar)
        .header("x-csrf-token", csrf_value)
        .header("origin", format!("http://localhost:{}", app.port()))
        .json(&create)
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);

    let res = app
        .request(Method::POST, "", "/api/auth/logout")
        .header("cookie", &jar)
        .send()
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("wrk_session=;"))
    );
    let res = app
        .request(Method::GET, "", "/api/account/me")
        .header("cookie", &jar)
        .send()
        .unwrap();
    assert_eq!(res.status(), 401, "logout ended the cookie session");
}

#[test]
fn the_openapi_documents_list_the_identity_endpoints() {
    let app = TestApp::spawn();
    let apex: Value = app.get("", "/api/openapi.json").json().unwrap();
    for path in [
        "/api/auth/signup",
        "/api/auth/login",
        "/api/account/workspaces",
        "/api/account/switch",
        "/api/account/invitations/accept",
    ] {
        assert!(apex["paths"].get(path).is_some(), "apex lacks {path}");
    }
    let ops: Value = app.get("ops", "/api/openapi.json").json().unwrap();
    assert!(ops["paths"].get("/api/ops/auth/login").is_some());
}

#[test]
fn a_verification_link_can_be_sent_again_and_only_the_newest_works() {
    let app = spawn(true);
    signup(&app, "v@example.com");
    let first = token_from_email(&app, "v@example.com", "verify_email");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/verify-email/resend",
        None,
        json!({"email": "v@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, _) = post(
        &app,
        "",
        "/api/auth/verify-email/resend",
        None,
        json!({"email": "nobody@example.com"}),
    );
    assert_eq!(s, 202, "no account enumeration");
    let second = eventually(
        Duration::from_secs(10),
        "a second verification email",
        || {
            let t = token_from_email(&app, "v@example.com", "verify_email");
            (t != first).then_some(t)
        },
    );
    assert_eq!(
        post(
            &app,
            "",
            "/api/auth/verify-email",
            None,
            json!({"token": first})
        )
        .0,
        400
    );
    assert_eq!(
        post(
            &app,
            "",
            "/api/auth/verify-email",
            None,
            json!({"token": second})
        )
        .0,
        200
    );
    assert_eq!(
        post(
            &app,
            "",
            "/api/auth/login",
            None,
            json!({"email": "v@example.com", "password": PASSWORD})
        )
        .0,
        200
    );
}
