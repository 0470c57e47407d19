//! Security: the ops console's outbox and job queue never show a usable token. A plain `ops`
//! user reading `/api/ops/outbox?to=victim@…` must not be able to take over the victim's account
//! with a verification, password-reset or invitation link, while the real mail (through a real
//! SMTP server) still carries working links.

use std::collections::BTreeSet;
use std::time::Duration;

use wrk_tests::smtp::{Mail, SmtpSink, links, query_param};
use wrk_tests::{Method, StatusCode, TestApp, Value, json};

const PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = Duration::from_secs(20);

fn send(
    app: &TestApp,
    method: Method,
    host: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, String) {
    let mut req = app.request(method, host, path);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().expect("request");
    let status = res.status();
    let text = res.text().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

fn post(
    app: &TestApp,
    host: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let (s, v, _) = send(app, Method::POST, host, path, token, Some(body));
    (s, v)
}

/// The `token=` of the one link in the newest mail to `to` whose subject passes `pick`.
fn mailed_token(sink: &SmtpSink, to: &str, pick: impl Fn(&Mail) -> bool) -> String {
    let mail = wrk_tests::eventually(WAIT, "the mail", || {
        sink.mails_to(to).into_iter().rev().find(|m| pick(m))
    });
    links(&mail)
        .iter()
        .find_map(|l| query_param(l, "token"))
        .unwrap_or_else(|| panic!("a link with a token in {:?}", mail.text))
}

/// An ops token for a fresh user with the plain `ops` role.
fn ops_token(app: &TestApp) -> String {
    let out = std::process::Command::new(wrk_tests::wrk_bin())
        .args([
            "ops",
            "create-user",
            "--email",
            "ops@wrk.example",
            "--role",
            "ops",
        ])
        .env("WRK_DATA_DIR", app.data_dir())
        .output()
        .expect("wrk ops create-user");
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
    let (s, body) = post(
        app,
        "ops",
        "/api/ops/auth/login",
        None,
        json!({"email": "ops@wrk.example", "password": password}),
    );
    assert_eq!(s, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Every value an attacker could try as a token: each link parameter's value and each run of
/// letters and digits of 8 or more characters.
fn candidates(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.len() >= 8 {
            out.insert(word.to_owned());
        }
    }
    for part in text.split("token=").skip(1) {
        let v: String = part
            .chars()
            .take_while(|c| !matches!(c, '&' | '"' | '\\' | ' ' | '\n' | '#'))
            .collect();
        if !v.is_empty() {
            out.insert(v);
        }
    }
    out
}

#[test]
fn no_token_read_from_the_ops_outbox_or_jobs_works() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "100000")
        .env("WRK_EMAIL_VERIFICATION", "true")
        .env("WRK_SMTP_URL", sink.url())
        .spawn();

    // An owner verifies (with the mailed link), logs in and makes a workspace.
    let (s, body) = post(
        &app,
        "",
        "/api/auth/signup",
        None,
        json!({"email": "owner@example.com", "password": PASSWORD, "name": "Owner"}),
    );
    assert_eq!(s, 201, "{body}");
    let t = mailed_token(&sink, "owner@example.com", |_| true);
    let (s, body) = post(
        &app,
        "",
        "/api/auth/verify-email",
        None,
        json!({"token": t}),
    );
    assert_eq!(s, 200, "{body}");
    let (s, body) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "owner@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{body}");
    let account = body["access_token"].as_str().unwrap().to_owned();
    let (s, body) = post(
        &app,
        "",
        "/api/account/workspaces",
        Some(&account),
        json!({"name": "Acme", "subdomain": "acme"}),
    );
    assert_eq!(s, 201, "{body}");
    let (s, body) = post(
        &app,
        "acme",
        "/api/auth/login",
        None,
        json!({"email": "owner@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{body}");
    let acme = body["access_token"].as_str().unwrap().to_owned();

    // The three live links: a verification (victim signs up), a reset (owner), an invitation.
    let (s, body) = post(
        &app,
        "",
        "/api/auth/signup",
        None,
        json!({"email": "victim@example.com", "password": PASSWORD, "name": "Victim"}),
    );
    assert_eq!(s, 201, "{body}");
    let (s, _) = post(
        &app,
        "",
        "/api/auth/password-reset/request",
        None,
        json!({"email": "owner@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, body) = post(
        &app,
        "acme",
        "/api/invitations",
        Some(&acme),
        json!({"email": "invitee@example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{body}");

    let verify = mailed_token(&sink, "victim@example.com", |_| true);
    let reset = mailed_token(&sink, "owner@example.com", |m| {
        m.text
            .as_deref()
            .is_some_and(|t| t.contains("/reset-password?"))
    });
    let invite = mailed_token(&sink, "invitee@example.com", |_| true);
    let real = [&verify, &reset, &invite];

    // Once delivered, the server's own copy keeps no live link either.
    let storage = wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(app.data_dir()))
        .expect("storage");
    wrk_tests::eventually(WAIT, "every email sent and masked", || {
        let all = storage
            .control()
            .list_emails(&wrk_tenants::outbox::EmailFilter::default())
            .unwrap();
        all.iter()
            .all(|e| e.status == wrk_tenants::outbox::EmailStatus::Sent)
            .then_some(all)
    })
    .iter()
    .for_each(|e| {
        for token in real {
            assert!(
                !e.text.contains(token.as_str()) && !e.html.contains(token.as_str()),
                "a delivered email still holds its token: {e:?}"
            );
        }
    });

    // Everything a plain ops user can read about mail and jobs.
    let ops = ops_token(&app);
    let mut seen = String::new();
    for path in [
        "/api/ops/outbox?limit=200".to_owned(),
        "/api/ops/outbox?status=sent&limit=200".to_owned(),
        "/api/ops/outbox?status=queued".to_owned(),
        "/api/ops/outbox?status=held".to_owned(),
        "/api/ops/outbox?status=failed".to_owned(),
        "/api/ops/outbox?to=victim@example.com".to_owned(),
        "/api/ops/outbox?to=owner@example.com".to_owned(),
        "/api/ops/outbox?to=invitee@example.com".to_owned(),
        "/api/ops/jobs?limit=200".to_owned(),
        "/api/ops/jobs?kind=send_email&limit=200".to_owned(),
        "/api/ops/jobs?status=done&limit=200".to_owned(),
    ] {
        let (s, _, text) = send(&app, Method::GET, "ops", &path, Some(&ops), None);
        assert_eq!(s, 200, "{path}: {text}");
        seen.push_str(&text);
        seen.push('\n');
    }
    // The outbox still tells ops what was sent to whom.
    let (_, victim, _) = send(
        &app,
        Method::GET,
        "ops",
        "/api/ops/outbox?to=victim@example.com",
        Some(&ops),
        None,
    );
    let item = &victim["items"][0];
    assert_eq!(item["kind"], "verify_email", "{victim}");
    assert_eq!(item["status"], "sent", "{victim}");
    assert!(
        item["text"]
            .as_str()
            .unwrap()
            .contains("/verify-email?token=[hidden]"),
        "{victim}"
    );
    for token in real {
        assert!(
            !seen.contains(token.as_str()),
            "a live token is shown to ops: {seen}"
        );
    }

    // No value found there works as any kind of token.
    let tries = candidates(&seen);
    assert!(!tries.is_empty());
    for c in &tries {
        let (s, body) = post(
            &app,
            "",
            "/api/auth/verify-email",
            None,
            json!({"token": c}),
        );
        assert_ne!(s, 200, "verify-email accepted {c:?}: {body}");
        let (s, body) = post(
            &app,
            "",
            "/api/auth/password-reset/confirm",
            None,
            json!({"token": c, "new_password": "taken over by ops!"}),
        );
        assert_ne!(s, 200, "reset accepted {c:?}: {body}");
    }
    let (s, body) = post(
        &app,
        "",
        "/api/auth/signup",
        None,
        json!({"email": "mallory@example.com", "password": PASSWORD, "name": "Mallory"}),
    );
    assert_eq!(s, 201, "{body}");
    let t = mailed_token(&sink, "mallory@example.com", |_| true);
    assert_eq!(
        post(
            &app,
            "",
            "/api/auth/verify-email",
            None,
            json!({"token": t})
        )
        .0,
        200
    );
    let (s, body) = post(
        &app,
        "",
        "/api/auth/login",
        None,
        json!({"email": "mallory@example.com", "password": PASSWORD}),
    );
    assert_eq!(s, 200, "{body}");
    let mallory = body["access_token"].as_str().unwrap().to_owned();
    for c in &tries {
        let (s, body) = post(
            &app,
            "",
            "/api/account/invitations/accept",
            Some(&mallory),
            json!({"token": c}),
        );
        assert_ne!(s, 200, "invitation accepted {c:?}: {body}");
    }

    // The mailed links themselves were live all along (so the checks above could fail).
    let (s, body) = post(
        &app,
        "",
        "/api/auth/verify-email",
        None,
        json!({"token": verify}),
    );
    assert_eq!(s, 200, "{body}");
    let (s, body) = post(
        &app,
        "",
        "/api/auth/password-reset/confirm",
        None,
        json!({"token": reset, "new_password": "a brand new passphrase"}),
    );
    assert_eq!(s, 200, "{body}");
}
