//! Identity & access: signup, verification, login + lockout, tokens, refresh reuse, password
//! reset, workspaces, switching + handoff, invitations, members, API keys, ops login, cookies +
//! CSRF, and the auth rate limit.

use std::process::Command;
use std::time::Duration;

use wrk_tests::{
    Method, Owner, PASSWORD, StatusCode, TestApp, Value, access_token, eventually, json,
};

/// A server with a high auth rate limit (these tests make many auth calls from one IP).
fn spawn(verification: bool) -> TestApp {
    TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env(
            "WRK_EMAIL_VERIFICATION",
            if verification { "true" } else { "false" },
        )
        .mailbox()
        .spawn()
}

#[test]
fn a_new_account_verifies_its_email_creates_a_workspace_and_reads_itself_there() {
    let app = spawn(true);
    let (s, body) = app.post_anon(
        "",
        "/api/auth/signup",
        json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}),
    );
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["email_verification_required"], true);
    let (s, body) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("email_not_verified")),
        "{body}"
    );

    let token = app.mailed_token("ada@example.com", "/verify-email");
    let (s, body) = app.post_anon("", "/api/auth/verify-email", json!({"token": token}));
    assert_eq!(
        (s, &body["verified"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    let (s, body) = app.post_anon("", "/api/auth/verify-email", json!({"token": token}));
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token")),
        "a link works once"
    );

    let account = app.login("", "ada@example.com");
    assert_eq!(account["token_type"], "Bearer");
    assert!(account["expires_in"].as_i64().unwrap() <= 900);
    assert_eq!(account["workspaces"], json!([]));
    let account = access_token(&account);

    for (slug, code) in [
        ("admin", "validation_failed"),
        ("-bad", "validation_failed"),
        ("ab", "validation_failed"),
    ] {
        let (s, body) = app.post_as(
            "",
            "/api/account/workspaces",
            &account,
            json!({"name": "X", "subdomain": slug}),
        );
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{slug}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], "subdomain");
    }
    let (s, created) = app.post_as(
        "",
        "/api/account/workspaces",
        &account,
        json!({"name": "Acme", "subdomain": "acme"}),
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["role"], "owner");
    assert_eq!(
        created["url"],
        format!("http://acme.localhost:{}/app", app.port())
    );
    let (s, _) = app.post_as(
        "",
        "/api/account/workspaces",
        &account,
        json!({"name": "Acme 2", "subdomain": "acme"}),
    );
    assert_eq!(s, 409, "a taken slug is a conflict");

    let (s, list) = app.get_as("", "/api/account/workspaces", &account);
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["subdomain"], "acme");

    let (s, switched) = app.post_as(
        "",
        "/api/account/switch",
        &account,
        json!({"subdomain": "acme"}),
    );
    assert_eq!(s, 200, "{switched}");
    let ws = access_token(&switched);
    let (s, me) = app.get_as("acme", "/api/me", &ws);
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
    let acme = app.owner_of("a@example.com", "acme").token;
    let Owner {
        account: beta_account,
        token: beta,
        ..
    } = app.owner_of("b@example.com", "beta");

    let (s, body) = app.get_as("acme", "/api/me", &beta);
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{body}"
    );
    let (s, _) = app.get_as("acme", "/api/members", &beta);
    assert_eq!(s, 403);
    let (s, _) = app.delete_as(
        "acme",
        "/api/api-keys/0190f0f0-0000-7000-8000-000000000000",
        &beta,
    );
    assert_eq!(s, 404, "objects of another workspace are 404");
    let (s, _) = app.get_as("acme", "/api/me", &beta_account);
    assert_eq!(s, 403, "an account token is not a workspace session");
    let (s, body) = app.post_anon(
        "acme",
        "/api/auth/login",
        json!({"email": "b@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 403, "no membership in acme: {body}");
    let (s, _) = app.post_as(
        "",
        "/api/account/switch",
        &beta_account,
        json!({"subdomain": "acme"}),
    );
    assert_eq!(s, 403);

    let (s, key) = app.post_as(
        "acme",
        "/api/api-keys",
        &acme,
        json!({"name": "ci", "scopes": ["admin"]}),
    );
    assert_eq!(s, 201, "{key}");
    let key = key["key"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as("acme", "/api/me", &key).0, 200);
    let (s, body) = app.get_as("beta", "/api/me", &key);
    assert_eq!(s, 401, "acme's key on beta: {body}");
    assert_eq!(app.get_as("beta", "/api/members", &key).0, 401);
    assert_eq!(
        app.get_as("", "/api/account/me", &key).0,
        401,
        "keys are for workspace hosts only"
    );
}

#[test]
fn an_invited_user_joins_that_workspace_with_the_invited_role_and_no_other() {
    let app = spawn(false);
    let acme = app.owner_of("owner@example.com", "acme").token;
    let (s, inv) = app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "New@Example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{inv}");
    assert_eq!(
        (inv["status"].as_str(), inv["role"].as_str()),
        (Some("pending"), Some("admin"))
    );
    let first = app.mailed_token("new@example.com", "/invite");
    let mail = &app.mailbox().mails_to("new@example.com")[0];
    let text = mail.text.as_deref().unwrap_or_default();
    assert!(
        text.contains(&format!("http://localhost:{}/invite?token=", app.port())),
        "{text}"
    );

    // Resend: a new link, the old one is dead.
    let id = inv["id"].as_str().unwrap();
    let (s, _) = app.post_as(
        "acme",
        &format!("/api/invitations/{id}/resend"),
        &acme,
        json!({}),
    );
    assert_eq!(s, 200);
    let second = eventually(Duration::from_secs(10), "a second invitation email", || {
        let t = app.mailed_token("new@example.com", "/invite");
        (t != first).then_some(t)
    });

    app.signup("new@example.com", "Test User");
    let account = access_token(&app.login("", "new@example.com"));
    let (s, body) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &account,
        json!({"token": first}),
    );
    assert_eq!(
        s, 400,
        "the resent invitation killed the first link: {body}"
    );
    let (s, body) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &account,
        json!({"token": second}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        (body["subdomain"].as_str(), body["role"].as_str()),
        (Some("acme"), Some("admin"))
    );
    let (_, list) = app.get_as("", "/api/account/workspaces", &account);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "no extra workspace: {list}"
    );
    let (s, body) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &account,
        json!({"token": second}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_accepted"))
    );

    let ws = access_token(&app.login("acme", "new@example.com"));
    let (_, me) = app.get_as("acme", "/api/me", &ws);
    assert_eq!(me["role"], "admin");
    let (_, members) = app.get_as("acme", "/api/members", &ws);
    assert_eq!(members["items"].as_array().unwrap().len(), 2, "{members}");

    let (s, _) = app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "new@example.com", "role": "member"}),
    );
    assert_eq!(s, 409, "inviting a member is a conflict");

    let (_, inv) = app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "late@example.com", "role": "member"}),
    );
    let late = app.mailed_token("late@example.com", "/invite");
    let (s, _) = app.delete_as(
        "acme",
        &format!("/api/invitations/{}", inv["id"].as_str().unwrap()),
        &acme,
    );
    assert_eq!(s, 204);
    app.signup("late@example.com", "Test User");
    let late_account = access_token(&app.login("", "late@example.com"));
    let (s, body) = app.post_as(
        "",
        "/api/account/invitations/accept",
        &late_account,
        json!({"token": late}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::GONE, Some("invitation_revoked")),
        "{body}"
    );
    let (_, list) = app.get_as("acme", "/api/invitations", &acme);
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
    app.signup("lock@example.com", "Test User");
    for _ in 0..6 {
        let (s, body) = app.post_anon(
            "",
            "/api/auth/login",
            json!({"email": "lock@example.com", "password": "wrong password!!"}),
        );
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
    }
    let (s, locked) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "lock@example.com", "password": PASSWORD}),
    );
    let (_, wrong) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "lock@example.com", "password": "wrong password!!"}),
    );
    assert_eq!(s, 401, "locked: the right password is refused too");
    assert_eq!(
        locked["detail"], wrong["detail"],
        "same answer as a wrong password"
    );
    let (_, unknown) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    );
    assert_eq!(locked["detail"], unknown["detail"]);
}

#[test]
fn reusing_a_spent_refresh_token_revokes_the_newer_one_too() {
    let app = spawn(false);
    app.signup("r@example.com", "Test User");
    let first = app.login("", "r@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, second) = app.post_anon("", "/api/auth/refresh", json!({"refresh_token": first}));
    assert_eq!(s, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first);
    assert_eq!(
        app.get_as("", "/api/account/me", &access_token(&second)).0,
        200
    );

    let (s, _) = app.post_anon("", "/api/auth/refresh", json!({"refresh_token": first}));
    assert_eq!(s, 401, "a spent token is refused");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/refresh",
        json!({"refresh_token": second_refresh}),
    );
    assert_eq!(s, 401, "and its whole family is revoked");

    let third = app.login("", "r@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = app.post_anon("", "/api/auth/logout", json!({"refresh_token": third}));
    assert_eq!(s, 204);
    let (s, _) = app.post_anon("", "/api/auth/refresh", json!({"refresh_token": third}));
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
    app.signup("t@example.com", "Test User");
    let body = app.login("", "t@example.com");
    let token = access_token(&body);
    assert_eq!(app.get_as("", "/api/account/me", &token).0, 200);
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
        let (s, _) = app.get_as("", "/api/account/me", &forged);
        assert_eq!(s, 401, "{forged}");
    }
    let mut sig = parts[2].to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        app.get_as(
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
    let status_of = |kid: &str, exp: i64| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let claims =
            json!({"sub": user_id, "roles": [], "aud": "wrk:account", "iat": 1_000, "exp": exp});
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap();
        app.get_as("", "/api/account/me", &token).0
    };
    assert_eq!(status_of(&kid, 2_000), 401, "expired");
    assert_eq!(
        status_of(&kid, 99_999_999_999),
        200,
        "the same key and claims, unexpired, pass"
    );
    assert_eq!(status_of("unknown-kid", 99_999_999_999), 401, "unknown kid");
}

#[test]
fn a_rotated_jwt_key_signs_new_tokens_while_old_ones_still_verify() {
    let app = spawn(false);
    app.signup("k@example.com", "Test User");
    let old = access_token(&app.login("", "k@example.com"));
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
    assert_eq!(app.get_as("", "/api/account/me", &old).0, 200);
}

#[test]
fn password_reset_answers_202_for_anyone_and_mails_only_real_accounts() {
    let app = spawn(false);
    app.signup("p@example.com", "Test User");
    let refresh = app.login("", "p@example.com")["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (s, _) = app.post_anon(
        "",
        "/api/auth/password-reset/request",
        json!({"email": "ghost@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, _) = app.post_anon(
        "",
        "/api/auth/password-reset/request",
        json!({"email": "p@example.com"}),
    );
    assert_eq!(s, 202);
    let token = app.mailed_token("p@example.com", "/reset-password");
    let ops = app.ops_token("ops");
    assert!(
        app.outbox_to(&ops, "ghost@example.com").is_empty(),
        "no email for an unknown address"
    );
    assert_eq!(app.outbox_count(&ops, "p@example.com", "password_reset"), 1);

    let new_password = "a brand new passphrase";
    let (s, body) = app.post_anon(
        "",
        "/api/auth/password-reset/confirm",
        json!({"token": token, "new_password": new_password}),
    );
    assert_eq!(s, 200, "{body}");
    let (s, _) = app.post_anon("", "/api/auth/refresh", json!({"refresh_token": refresh}));
    assert_eq!(s, 401, "a reset revokes every session");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/password-reset/confirm",
        json!({"token": token, "new_password": "yet another passphrase"}),
    );
    assert_eq!(s, 400, "single use");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/login",
        json!({"email": "p@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 401);
    let (s, _) = app.post_anon(
        "",
        "/api/auth/login",
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
    let acme = app.owner_of("o@example.com", "acme").token;
    let (_, me) = app.get_as("acme", "/api/me", &acme);
    let owner_id = me["user"]["id"].as_str().unwrap();
    let (s, body) = app.patch_as(
        "acme",
        &format!("/api/members/{owner_id}"),
        &acme,
        json!({"role": "admin"}),
    );
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{body}"
    );
    let (s, _) = app.delete_as("acme", &format!("/api/members/{owner_id}"), &acme);
    assert_eq!(s, 409);

    // A member cannot change roles; an owner can, and can then step down.
    app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "m@example.com", "role": "member"}),
    );
    let token = app.mailed_token("m@example.com", "/invite");
    app.signup("m@example.com", "Test User");
    let account = access_token(&app.login("", "m@example.com"));
    assert_eq!(
        app.post_as(
            "",
            "/api/account/invitations/accept",
            &account,
            json!({"token": token})
        )
        .0,
        200
    );
    let member = access_token(&app.login("acme", "m@example.com"));
    let (_, me2) = app.get_as("acme", "/api/me", &member);
    let member_id = me2["user"]["id"].as_str().unwrap();
    let (s, _) = app.patch_as(
        "acme",
        &format!("/api/members/{owner_id}"),
        &member,
        json!({"role": "member"}),
    );
    assert_eq!(s, 403);
    let (s, body) = app.patch_as(
        "acme",
        &format!("/api/members/{member_id}"),
        &acme,
        json!({"role": "owner"}),
    );
    assert_eq!(
        (s, body["role"].as_str()),
        (StatusCode::OK, Some("owner")),
        "{body}"
    );
    let (s, _) = app.patch_as(
        "acme",
        &format!("/api/members/{owner_id}"),
        &acme,
        json!({"role": "member"}),
    );
    assert_eq!(s, 200, "not the last owner any more");
}

#[test]
fn api_key_scopes_are_enforced_and_revocation_is_immediate() {
    let app = spawn(false);
    let acme = app.owner_of("k@example.com", "acme").token;
    let (s, read) = app.post_as(
        "acme",
        "/api/api-keys",
        &acme,
        json!({"name": "reader", "scopes": ["read"]}),
    );
    assert_eq!(s, 201, "{read}");
    let key = read["key"].as_str().unwrap();
    assert!(key.starts_with("wrk_") && key.len() == 47, "{key}");
    assert!(key.starts_with(read["prefix"].as_str().unwrap()));

    let (s, list) = app.get_as("acme", "/api/api-keys", &acme);
    assert_eq!(s, 200);
    assert!(
        list["items"][0].get("key").is_none(),
        "lists never show the key: {list}"
    );
    assert!(!list.to_string().contains(key));

    assert_eq!(
        app.get_as("acme", "/api/members", key).0,
        200,
        "read scope reads"
    );
    assert_eq!(
        app.get_as("acme", "/api/invitations", key).0,
        403,
        "but does not administer"
    );
    assert_eq!(
        app.post_as(
            "acme",
            "/api/api-keys",
            key,
            json!({"name": "x", "scopes": ["read"]})
        )
        .0,
        403
    );

    let (_, admin) = app.post_as(
        "acme",
        "/api/api-keys",
        &acme,
        json!({"name": "admin", "scopes": ["admin"]}),
    );
    assert_eq!(
        app.get_as("acme", "/api/invitations", admin["key"].as_str().unwrap())
            .0,
        200
    );

    let id = read["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as("acme", &format!("/api/api-keys/{id}"), &acme)
            .0,
        204
    );
    assert_eq!(
        app.get_as("acme", "/api/members", key).0,
        401,
        "revoked at once"
    );

    let (_, expired) = app.post_as(
        "acme",
        "/api/api-keys",
        &acme,
        json!({"name": "old", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}),
    );
    assert_eq!(expired["code"], "validation_failed");
}

#[test]
fn ops_login_works_only_on_the_ops_host() {
    let app = spawn(false);
    let password = app.create_ops_user("staff@wrk.example", "ops_admin", None);

    let creds = json!({"email": "staff@wrk.example", "password": password});
    let (s, body) = app.post_anon("ops", "/api/ops/auth/login", creds.clone());
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["role"], "ops_admin");
    let ops = access_token(&body);
    let (s, me) = app.get_as("ops", "/api/ops/me", &ops);
    assert_eq!(
        (s, me["role"].as_str()),
        (StatusCode::OK, Some("ops_admin"))
    );

    assert_eq!(
        app.post_anon("", "/api/ops/auth/login", creds.clone()).0,
        404,
        "not on the apex"
    );
    assert_eq!(
        app.get_as("", "/api/account/me", &ops).0,
        401,
        "ops tokens are refused on the apex"
    );
    let acme = app.owner_of("c@example.com", "acme").token;
    assert_eq!(
        app.get_as("acme", "/api/me", &ops).0,
        401,
        "and on workspace hosts"
    );
    assert_eq!(
        app.get_as("ops", "/api/ops/me", &acme).0,
        401,
        "client tokens are refused on the ops host"
    );
    let (s, _) = app.post_anon(
        "ops",
        "/api/ops/auth/login",
        json!({"email": "staff@wrk.example", "password": "wrong password!!"}),
    );
    assert_eq!(s, 401);
}

#[test]
fn cookie_sessions_need_the_csrf_token_on_unsafe_requests() {
    let app = spawn(false);
    app.signup("c@example.com", "Test User");
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
    app.signup("v@example.com", "Test User");
    let first = app.mailed_token("v@example.com", "/verify-email");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/verify-email/resend",
        json!({"email": "v@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, _) = app.post_anon(
        "",
        "/api/auth/verify-email/resend",
        json!({"email": "nobody@example.com"}),
    );
    assert_eq!(s, 202, "no account enumeration");
    let second = eventually(
        Duration::from_secs(10),
        "a second verification email",
        || {
            let t = app.mailed_token("v@example.com", "/verify-email");
            (t != first).then_some(t)
        },
    );
    assert_eq!(
        app.post_anon("", "/api/auth/verify-email", json!({"token": first}))
            .0,
        400
    );
    assert_eq!(
        app.post_anon("", "/api/auth/verify-email", json!({"token": second}))
            .0,
        200
    );
    assert_eq!(
        app.post_anon(
            "",
            "/api/auth/login",
            json!({"email": "v@example.com", "password": PASSWORD})
        )
        .0,
        200
    );
}
