//! The WRK Platform's run-event webhook (flow 27), usage exactly once (flow 28) and threshold
//! alerts (flow 29), black-box: signed requests to `POST /webhooks/platform` on a workspace host,
//! then the usage and alerts APIs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wrk_core::signature::{HEADER, sign};
use wrk_tests::{Owner, StatusCode, TestApp, Value, eventually, json};

const WAIT: Duration = Duration::from_secs(60);

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn secret(app: &TestApp, owner: &Owner) -> String {
    let (s, v) = app.get_as(&owner.slug, "/api/webhook-secret", &owner.token);
    assert_eq!(s, StatusCode::OK, "{v}");
    v["secret"].as_str().expect("secret").to_owned()
}

/// A run event body.
pub(crate) fn event(id: &str, kind: &str, automation: &str, run: &str, duration_ms: u64) -> String {
    json!({
        "id": id, "type": kind, "occurred_at": chrono::Utc::now().to_rfc3339(),
        "data": {"automation_id": automation, "run_id": run, "duration_ms": duration_ms}
    })
    .to_string()
}

/// Posts `body` with `header` (none: unsigned); the status and answer.
pub(crate) fn post(
    http: &reqwest::blocking::Client,
    app: &TestApp,
    slug: &str,
    body: &str,
    header: Option<String>,
) -> (StatusCode, Value) {
    let mut req = http
        .post(app.url(slug, "/webhooks/platform"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(h) = header {
        req = req.header(HEADER, h);
    }
    let res = req.send().expect("webhook request");
    let status = res.status();
    let v = res.json().unwrap_or(Value::Null);
    (status, v)
}

pub(crate) fn signed(
    http: &reqwest::blocking::Client,
    app: &TestApp,
    slug: &str,
    secret: &str,
    body: &str,
) -> (StatusCode, Value) {
    post(
        http,
        app,
        slug,
        body,
        Some(sign(secret.as_bytes(), now(), body.as_bytes())),
    )
}

pub(crate) fn usage(app: &TestApp, owner: &Owner, automation: &str) -> Value {
    let (s, v) = app.get_as(
        &owner.slug,
        &format!("/api/usage?automation_id={automation}"),
        &owner.token,
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"][0].clone()
}

pub(crate) fn runs(app: &TestApp, owner: &Owner, automation: &str) -> u64 {
    usage(app, owner, automation)["runs"]
        .as_u64()
        .expect("runs")
}

/// A deterministic shuffle (no randomness crate needed): Fisher-Yates over an LCG.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (seed >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

/// Sends every body from `senders` threads, each with its own connection; returns how many were
/// answered `duplicate: true`.
fn send_all(app: &TestApp, slug: &str, secret: &str, bodies: &[String], senders: usize) -> usize {
    let duplicates = AtomicUsize::new(0);
    let chunk = bodies.len().div_ceil(senders);
    std::thread::scope(|s| {
        for part in bodies.chunks(chunk) {
            let duplicates = &duplicates;
            s.spawn(move || {
                let http = wrk_tests::client();
                for body in part {
                    let (st, v) = signed(&http, app, slug, secret, body);
                    assert_eq!(st, StatusCode::OK, "{v}");
                    assert_eq!(v["received"], true, "{v}");
                    if v["duplicate"] == true {
                        duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    duplicates.into_inner()
}

#[test]
fn forged_stale_modified_and_unsigned_events_get_401_and_nothing_is_stored() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("ada@hooks.example", "hooks");
    let automation = app.create_automation(&owner.slug, &owner.token, "Invoice sync");
    let secret = secret(&app, &owner);
    let http = wrk_tests::client();
    let body = event("evt-1", "run.succeeded", &automation, "run-1", 1200);
    let t = now();
    // Ten minutes off either way: outside the 5-minute tolerance however many seconds pass
    // before the server reads its clock (the exact edge is core's unit test of the scheme).
    let off = 600;
    let other = event("evt-1", "run.failed", &automation, "run-1", 1200);
    let cases: Vec<(&str, &str, Option<String>)> = vec![
        ("unsigned", &body, None),
        ("empty header", &body, Some(String::new())),
        ("malformed", &body, Some("v1=abc".into())),
        (
            "wrong secret",
            &body,
            Some(sign(b"whsec_not_the_secret", t, body.as_bytes())),
        ),
        (
            "stale",
            &body,
            Some(sign(secret.as_bytes(), t - off, body.as_bytes())),
        ),
        (
            "from the future",
            &body,
            Some(sign(secret.as_bytes(), t + off, body.as_bytes())),
        ),
        (
            "body modified",
            &other,
            Some(sign(secret.as_bytes(), t, body.as_bytes())),
        ),
        (
            "timestamp modified",
            &body,
            Some(sign(secret.as_bytes(), t, body.as_bytes()).replacen(
                &format!("t={t}"),
                &format!("t={}", t - 1),
                1,
            )),
        ),
    ];
    for (what, b, header) in cases {
        let (s, v) = post(&http, &app, &owner.slug, b, header);
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {v}");
        assert_eq!(v["code"], "invalid_signature", "{what}: {v}");
    }
    // A signature made for another workspace's secret does not open this one.
    let other_owner = app.owner_of("bob@hooks.example", "hooks-b");
    let other_secret = self::secret(&app, &other_owner);
    assert_ne!(other_secret, secret);
    let (s, _) = signed(&http, &app, &owner.slug, &other_secret, &body);
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Nothing was stored: the genuine event with the same id is new, and counts once.
    let (s, v) = signed(&http, &app, &owner.slug, &secret, &body);
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"received": true, "duplicate": false}));
    let (s, v) = signed(&http, &app, &owner.slug, &secret, &body);
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"received": true, "duplicate": true}));
    eventually(WAIT, "the run counted", || {
        (runs(&app, &owner, &automation) == 1).then_some(())
    });
    let u = usage(&app, &owner, &automation);
    assert_eq!(
        (&u["succeeded"], &u["failed"], &u["duration_ms"]),
        (&json!(1), &json!(0), &json!(1200)),
        "{u}"
    );
    assert_eq!(u["committed"], Value::Null, "{u}");

    // A genuine body that is not an event is a 422, after the signature check.
    let junk = r#"{"id":"x","type":"run.exploded"}"#;
    let (s, v) = signed(&http, &app, &owner.slug, &secret, junk);
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[test]
fn ten_thousand_events_sent_twice_shuffled_from_eight_senders_count_exactly_once() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("ada@volume.example", "volume");
    let automation = app.create_automation(&owner.slug, &owner.token, "Order import");
    let secret = secret(&app, &owner);
    // 5,000 runs, each a start and a finish (every tenth fails): 10,000 events.
    let mut bodies = Vec::new();
    for r in 0..5_000u64 {
        let run = format!("run-{r}");
        bodies.push(event(
            &format!("s-{r}"),
            "run.started",
            &automation,
            &run,
            0,
        ));
        let kind = if r % 10 == 0 {
            "run.failed"
        } else {
            "run.succeeded"
        };
        bodies.push(event(
            &format!("f-{r}"),
            kind,
            &automation,
            &run,
            100 + r % 7,
        ));
    }
    let expected_duration: u64 = (0..5_000u64).map(|r| 100 + r % 7).sum();
    let mut twice: Vec<String> = bodies.iter().chain(bodies.iter()).cloned().collect();
    shuffle(&mut twice, 0x5eed);
    let started = std::time::Instant::now();
    let duplicates = send_all(&app, &owner.slug, &secret, &twice, 8);
    eprintln!("20,000 signed events in {:?}", started.elapsed());
    assert_eq!(duplicates, 10_000, "each event is new exactly once");
    let u = eventually(WAIT, "every run counted", || {
        let u = usage(&app, &owner, &automation);
        (u["runs"] == 5_000).then_some(u)
    });
    assert_eq!(
        (&u["succeeded"], &u["failed"]),
        (&json!(4_500), &json!(500)),
        "{u}"
    );
    assert_eq!(u["duration_ms"], expected_duration, "{u}");
    // And it stays so: once every fold has ended, nothing was counted twice.
    let ops = app.ops_token("ops");
    eventually(WAIT, "every fold ended", || {
        app.jobs_settled(&ops, "fold_platform_events").then_some(())
    });
    assert_eq!(runs(&app, &owner, &automation), 5_000);
    let (s, days) = app.get_as(
        &owner.slug,
        &format!("/api/usage/days?automation_id={automation}"),
        &owner.token,
    );
    assert_eq!(s, StatusCode::OK, "{days}");
    let per_day: u64 = days["items"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["runs"].as_u64().expect("runs"))
        .sum();
    assert_eq!(per_day, 5_000, "{days}");
    // 10 % failed: under the 20 % failure-rate threshold, no alert.
    let (_, alerts) = app.get_as(&owner.slug, "/api/alerts", &owner.token);
    assert_eq!(alerts["items"], json!([]), "{alerts}");
}

fn spawn_on(data: tempfile::TempDir) -> TestApp {
    TestApp::builder()
        .data_dir(data)
        .env("WRK_EMAIL_VERIFICATION", "false")
        // A short lease, so that a fold killed mid-run is taken over soon after the restart.
        .env("WRK_JOB_LEASE", "2")
        .spawn()
}

#[test]
fn kill_9_during_aggregation_then_restart_counts_exactly_once() {
    let mut app = spawn_on(tempfile::tempdir().expect("temp dir"));
    let owner = app.owner_of("ada@crash-usage.example", "crash-usage");
    let automation = app.create_automation(&owner.slug, &owner.token, "Payroll");
    let secret = secret(&app, &owner);
    let mut sent: Vec<String> = Vec::new();
    let mut interrupted = 0;
    for round in 0..4 {
        let batch: Vec<String> = (0..3_000)
            .map(|i| {
                let id = format!("r{round}-{i}");
                event(&id, "run.succeeded", &automation, &id, 10)
            })
            .collect();
        let dup = send_all(&app, &owner.slug, &secret, &batch, 8);
        assert_eq!(dup, 0);
        sent.extend(batch);
        let total = sent.len() as u64;
        // Kill as soon as the fold has started on this round's events and before it has finished.
        let seen = eventually(WAIT, "the fold under way", || {
            let n = runs(&app, &owner, &automation);
            (n > total - 3_000).then_some(n)
        });
        if seen < total {
            interrupted += 1;
        }
        let data = app.kill_and_keep_data();
        app = spawn_on(data);
        eprintln!("round {round}: killed at {seen} of {total} runs counted");
    }
    // Everything again, as a retrying sender would: all duplicates.
    let dup = send_all(&app, &owner.slug, &secret, &sent, 8);
    assert_eq!(dup, sent.len());
    let total = sent.len() as u64;
    eventually(WAIT, "every run counted after the restarts", || {
        (runs(&app, &owner, &automation) >= total).then_some(())
    });
    // Folds cut off by a kill are taken over after their lease; once every one has ended,
    // nothing more can be counted.
    let ops = app.ops_token("ops");
    eventually(WAIT, "every fold ended", || {
        app.jobs_settled(&ops, "fold_platform_events").then_some(())
    });
    let u = usage(&app, &owner, &automation);
    assert_eq!(
        (&u["runs"], &u["succeeded"]),
        (&json!(total), &json!(total)),
        "{u}"
    );
    assert_eq!(u["duration_ms"], json!(total * 10), "{u}");
    assert!(
        interrupted > 0,
        "no kill landed while a fold was under way; the test proved nothing"
    );
}

#[test]
fn crossing_80_percent_twice_makes_one_alert_with_a_notification_and_an_email() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("ada@alerts.example", "alerts");
    let ops = app.ops_token("ops");
    let automation = app.quoted(&owner.slug, &owner.token, "Lead routing", 10);
    app.signed_by_invoice(&owner.slug, &owner.token, &automation);
    let secret = secret(&app, &owner);
    let http = wrk_tests::client();
    let u = usage(&app, &owner, &automation);
    assert_eq!(
        (&u["committed"], &u["percent"]),
        (&json!(10), &json!(0)),
        "{u}"
    );

    let mut n = 0;
    let mut runs_now = |count: usize| {
        for _ in 0..count {
            n += 1;
            let id = format!("evt-{n}");
            let (s, v) = signed(
                &http,
                &app,
                &owner.slug,
                &secret,
                &event(&id, "run.succeeded", &automation, &id, 5),
            );
            assert_eq!(s, StatusCode::OK, "{v}");
        }
        let want = n;
        eventually(WAIT, "the runs counted", || {
            (runs(&app, &owner, &automation) == want).then_some(())
        });
    };
    runs_now(7); // 70 %
    let (_, alerts) = app.get_as(&owner.slug, "/api/alerts", &owner.token);
    assert_eq!(alerts["items"], json!([]), "{alerts}");
    runs_now(1); // 80 %: crossed
    runs_now(1); // 90 %: crossed again, same period
    let (s, alerts) = app.get_as(&owner.slug, "/api/alerts", &owner.token);
    assert_eq!(s, StatusCode::OK, "{alerts}");
    let items = alerts["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{alerts}");
    assert_eq!(
        (
            &items[0]["kind"],
            &items[0]["threshold"],
            &items[0]["automation_id"]
        ),
        (&json!("volume"), &json!(80), &json!(automation)),
        "{alerts}"
    );
    assert_eq!(
        items[0]["period"],
        chrono::Utc::now().format("%Y-%m").to_string()
    );
    let email = eventually(WAIT, "the alert email", || {
        let n = app.outbox_count(&ops, &owner.email, "alert");
        (n > 0).then_some(n)
    });
    assert_eq!(email, 1);
    runs_now(1); // 100 %
    let (_, alerts) = app.get_as(&owner.slug, "/api/alerts", &owner.token);
    let thresholds: Vec<&Value> = alerts["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| &a["threshold"])
        .collect();
    assert_eq!(thresholds, vec![&json!(100), &json!(80)], "{alerts}");
    eventually(WAIT, "the second alert email", || {
        (app.outbox_count(&ops, &owner.email, "alert") == 2).then_some(())
    });
    let u = usage(&app, &owner, &automation);
    assert_eq!(u["percent"], 100, "{u}");
}

#[test]
fn alert_settings_and_the_webhook_secret_are_for_admins_and_audited() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("ada@settings.example", "settings");
    let (s, v) = app.get_as(&owner.slug, "/api/settings/alerts", &owner.token);
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"volume_thresholds_percent": [80, 100], "failure_rate_percent": 20,
               "failure_window_runs": 50})
    );
    let (s, v) = app.put_as(
        &owner.slug,
        "/api/settings/alerts",
        &owner.token,
        json!({"volume_thresholds_percent": [90, 50, 90], "failure_rate_percent": 10,
               "failure_window_runs": 20}),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["volume_thresholds_percent"], json!([50, 90]));
    for bad in [
        json!({"volume_thresholds_percent": [0], "failure_rate_percent": 10, "failure_window_runs": 20}),
        json!({"volume_thresholds_percent": [80], "failure_rate_percent": 101, "failure_window_runs": 20}),
        json!({"volume_thresholds_percent": [80], "failure_rate_percent": 10, "failure_window_runs": 0}),
    ] {
        let (s, v) = app.put_as(&owner.slug, "/api/settings/alerts", &owner.token, bad);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }

    // A key without the admin scope reads the settings but neither changes them nor sees the
    // secret.
    let member = app.api_key(&owner.slug, &owner.token, &["read", "write"]);
    let (s, _) = app.get_as(&owner.slug, "/api/settings/alerts", &member);
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app.put_as(
        &owner.slug,
        "/api/settings/alerts",
        &member,
        json!({"volume_thresholds_percent": [80], "failure_rate_percent": 10, "failure_window_runs": 20}),
    );
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = app.get_as(&owner.slug, "/api/webhook-secret", &member);
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_as(
        &owner.slug,
        "/api/webhook-secret/rotate",
        &member,
        json!({}),
    );
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Rotation: the new secret works at once and the old one still does (for 24 hours).
    let automation = app.create_automation(&owner.slug, &owner.token, "Tickets");
    let old = secret(&app, &owner);
    let (s, v) = app.post_as(
        &owner.slug,
        "/api/webhook-secret/rotate",
        &owner.token,
        json!({}),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    let new = v["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    assert_eq!(secret(&app, &owner), new);
    let http = wrk_tests::client();
    for (i, key) in [&new, &old].into_iter().enumerate() {
        let id = format!("rot-{i}");
        let (s, v) = signed(
            &http,
            &app,
            &owner.slug,
            key,
            &event(&id, "run.succeeded", &automation, &id, 1),
        );
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let rows = app.audit_rows(&owner.slug, &owner.token, "webhook_secret", "");
    let text = Value::from(rows).to_string();
    assert!(text.contains("webhook_secret.rotated"), "{text}");
    assert!(!text.contains(&old) && !text.contains(&new), "{text}");
    let rows = Value::from(app.audit_rows(&owner.slug, &owner.token, "alert_settings", ""));
    assert!(
        rows.to_string().contains("alert_settings.updated"),
        "{rows}"
    );
}
