//! Security: the ops console's outbox and job queue never show a usable token. A plain `ops`
//! user reading `/api/ops/outbox?to=victim@…` must not be able to take over the victim's account
//! with a verification, password-reset or invitation link, while the real mail (through a real
//! SMTP server) still carries working links.

use std::collections::BTreeSet;
use std::time::Duration;

use wrk_tests::{Method, TestApp, json};

const WAIT: Duration = Duration::from_secs(20);

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
    let app = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "100000")
        .env("WRK_EMAIL_VERIFICATION", "true")
        .mailbox()
        .spawn();

    // An owner verifies (with the mailed link), logs in and makes a workspace.
    app.signup("owner@example.com", "Owner");
    let t = app.mailed_token("owner@example.com", "/verify-email");
    let (s, body) = app.post_anon("", "/api/auth/verify-email", json!({"token": t}));
    assert_eq!(s, 200, "{body}");
    let account = app.token("", "owner@example.com");
    app.create_workspace(&account, "acme", "Acme");
    let acme = app.token("acme", "owner@example.com");

    // The three live links: a verification (victim signs up), a reset (owner), an invitation.
    app.signup("victim@example.com", "Victim");
    let (s, _) = app.post_anon(
        "",
        "/api/auth/password-reset/request",
        json!({"email": "owner@example.com"}),
    );
    assert_eq!(s, 202);
    let (s, body) = app.post_as(
        "acme",
        "/api/invitations",
        &acme,
        json!({"email": "invitee@example.com", "role": "admin"}),
    );
    assert_eq!(s, 201, "{body}");

    let verify = app.mailed_token("victim@example.com", "/verify-email");
    let reset = app.mailed_token("owner@example.com", "/reset-password");
    let invite = app.mailed_token("invitee@example.com", "/invite");
    let real = [&verify, &reset, &invite];

    // Every email is delivered (its stored copy is checked once the server has stopped).
    let ops = app.ops_token("ops");
    wrk_tests::eventually(WAIT, "every email sent", || {
        let (s, all) = app.get_as("ops", "/api/ops/outbox?limit=200", &ops);
        assert_eq!(s, 200, "{all}");
        let all = all["items"].as_array().unwrap().clone();
        all.iter().all(|e| e["status"] == "sent").then_some(())
    });

    // Everything a plain ops user can read about mail and jobs.
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
        let res = app
            .request(Method::GET, "ops", &path)
            .bearer_auth(&ops)
            .send()
            .unwrap();
        let (s, text) = (res.status(), res.text().unwrap());
        assert_eq!(s, 200, "{path}: {text}");
        seen.push_str(&text);
        seen.push('\n');
    }
    // The outbox still tells ops what was sent to whom.
    let (_, victim) = app.get_as("ops", "/api/ops/outbox?to=victim@example.com", &ops);
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
        let (s, body) = app.post_anon("", "/api/auth/verify-email", json!({"token": c}));
        assert_ne!(s, 200, "verify-email accepted {c:?}: {body}");
        let (s, body) = app.post_anon(
            "",
            "/api/auth/password-reset/confirm",
            json!({"token": c, "new_password": "taken over by ops!"}),
        );
        assert_ne!(s, 200, "reset accepted {c:?}: {body}");
    }
    app.signup("mallory@example.com", "Mallory");
    let t = app.mailed_token("mallory@example.com", "/verify-email");
    assert_eq!(
        app.post_anon("", "/api/auth/verify-email", json!({"token": t}))
            .0,
        200
    );
    let mallory = app.token("", "mallory@example.com");
    for c in &tries {
        let (s, body) = app.post_as(
            "",
            "/api/account/invitations/accept",
            &mallory,
            json!({"token": c}),
        );
        assert_ne!(s, 200, "invitation accepted {c:?}: {body}");
    }

    // The mailed links themselves were live all along (so the checks above could fail).
    let (s, body) = app.post_anon("", "/api/auth/verify-email", json!({"token": verify}));
    assert_eq!(s, 200, "{body}");
    let (s, body) = app.post_anon(
        "",
        "/api/auth/password-reset/confirm",
        json!({"token": reset, "new_password": "a brand new passphrase"}),
    );
    assert_eq!(s, 200, "{body}");

    // Once delivered, the server's own copy keeps no live link either: no API shows the stored
    // copy unmasked, so it is read from the data dir after the server has stopped.
    let data = app.kill_and_keep_data();
    let storage =
        wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(data.path())).expect("storage");
    let stored = storage
        .control()
        .list_emails(&wrk_tenants::outbox::EmailFilter::default())
        .unwrap();
    for e in &stored {
        for token in real {
            assert!(
                !e.text.contains(token.as_str()) && !e.html.contains(token.as_str()),
                "a delivered email still holds its token: {e:?}"
            );
        }
    }
}
