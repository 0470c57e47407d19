//! Build → QA → launch (flows 21, 23, 24, 24A, 24B) end to end from a signed quote, and the
//! signed events the WRK Platform gets for a deploy, a pause and a resume: received by a real
//! HTTP server in this test that checks every signature, delivered again after a kill -9 with
//! the same ids, and shown as "not sent" when no platform is configured.

use std::collections::BTreeSet;
use std::time::Duration;

use wrk_tests::platform::PlatformReceiver;
use wrk_tests::{Owner, StatusCode, TestApp, Value, eventually, json};

const WAIT: Duration = Duration::from_secs(60);
const SECRET: &str = "platform-shared-secret-for-tests";

fn app_for(receiver: Option<&PlatformReceiver>) -> wrk_tests::TestAppBuilder {
    let mut b = TestApp::builder()
        .env("WRK_AUTH_RATE_LIMIT", "10000")
        .env("WRK_EMAIL_VERIFICATION", "false")
        // A job cut off by a kill is taken over after this lease.
        .env("WRK_JOB_LEASE", "5");
    if let Some(r) = receiver {
        b = b
            .env("WRK_PLATFORM_URL", r.url())
            .env("WRK_PLATFORM_SECRET", r.secret());
    }
    b
}

fn ops_move(app: &TestApp, ops: &str, tid: &str, id: &str, to: &str) -> (StatusCode, Value) {
    app.post_as(
        "ops",
        &format!("/api/ops/tenants/{tid}/automations/{id}/versions/1/transitions"),
        ops,
        json!({"to": to}),
    )
}

fn version_tasks(app: &TestApp, o: &Owner, id: &str) -> Vec<Value> {
    let (s, page) = app.get_as(
        &o.slug,
        &format!("/api/tasks?automation_id={id}&limit=200"),
        &o.token,
    );
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").clone()
}

/// From a signed quote to `ready_to_launch`, through every step and guard of flows 21 and 23;
/// returns the automation id.
pub(crate) fn ready_to_launch(app: &TestApp, o: &Owner, ops: &str) -> String {
    let id = app.quoted(&o.slug, &o.token, "Invoice booking", 2500);
    app.signed_by_invoice(&o.slug, &o.token, &id);
    let (s, v) = app.get_as(&o.slug, &wrk_tests::version_path(&id), &o.token);
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("ready_to_build")),
        "{v}"
    );

    // Flow 21: the client requests the build; the validation plugin's checklist becomes tasks.
    let (s, v) = app.transition(&o.slug, &o.token, &id, "build_in_progress");
    assert_eq!(s, StatusCode::OK, "{v}");
    let tasks = version_tasks(app, o, &id);
    let checklist: Vec<&Value> = tasks
        .iter()
        .filter(|t| t["key"].as_str().unwrap_or("").starts_with("checklist:1:"))
        .collect();
    assert!(
        checklist
            .iter()
            .any(|t| t["key"] == "checklist:1:test_end_to_end" && t["kind"] == "qa"),
        "{tasks:?}"
    );
    assert!(checklist.len() >= 3, "{checklist:?}");

    // Flow 23: only ops move to QA, and the QA gate holds while a QA task is open.
    let (s, p) = app.transition(&o.slug, &o.token, &id, "qa_testing");
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("transition_not_permitted")),
        "{p}"
    );
    let (s, v) = ops_move(app, ops, &o.tenant_id, &id, "qa_testing");
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, p) = ops_move(app, ops, &o.tenant_id, &id, "ready_to_launch");
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["failed"][0]["code"], "no_open_qa_tasks", "{p}");
    assert_eq!(p["failed"].as_array().map(Vec::len), Some(1), "{p}");
    for t in tasks
        .iter()
        .filter(|t| t["kind"] == "qa" && t["assignee"] == "ops" && t["status"] != "done")
    {
        let (s, b) = app.patch_as(
            "ops",
            &format!(
                "/api/ops/tenants/{}/tasks/{}",
                o.tenant_id,
                t["id"].as_str().unwrap()
            ),
            ops,
            json!({"status": "done"}),
        );
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, v) = ops_move(app, ops, &o.tenant_id, &id, "ready_to_launch");
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

/// From a signed quote to `live` ([`ready_to_launch`], then the credentials guard of flow 24);
/// returns the automation id.
fn launch(app: &TestApp, o: &Owner, ops: &str) -> String {
    let id = ready_to_launch(app, o, ops);

    // Flow 24: the credentials guard reads the stored credentials.
    let (s, p) = ops_move(app, ops, &o.tenant_id, &id, "live");
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["failed"][0]["code"], "credentials_active", "{p}");
    assert_eq!(p["failed"].as_array().map(Vec::len), Some(1), "{p}");
    for (system, key) in [
        ("Gmail", "gmail-key-0123456789"),
        ("xero", "xero-key-0123456789"),
    ] {
        let (s, c) = app.post_as(
            &o.slug,
            "/api/credentials",
            &o.token,
            json!({"system": system, "kind": "api_key", "fields": {"api_key": key}}),
        );
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["hint"], "••••6789", "{c}");
    }
    // Providing them closed their "provide credentials" tasks.
    let open: Vec<Value> = version_tasks(app, o, &id)
        .into_iter()
        .filter(|t| t["kind"] == "credentials" && t["status"] != "done")
        .collect();
    assert!(open.is_empty(), "{open:?}");
    let (s, v) = ops_move(app, ops, &o.tenant_id, &id, "live");
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("live")),
        "{v}"
    );
    id
}

/// The first `n` distinct events the platform accepted, in the order they occurred (two
/// workers may deliver them in another order; a receiver may see one twice).
fn verified_events(receiver: &PlatformReceiver, n: usize) -> Vec<Value> {
    eventually(WAIT, &format!("{n} events at the platform"), || {
        let mut seen = BTreeSet::new();
        let mut got: Vec<Value> = receiver
            .accepted()
            .into_iter()
            .filter(|e| seen.insert(e["id"].to_string()))
            .collect();
        got.sort_by_key(|e| e["occurred_at"].as_str().unwrap_or("").to_owned());
        (got.len() >= n).then_some(got)
    })
}

#[test]
fn a_signed_quote_goes_through_build_qa_and_launch_to_live_then_pauses_and_resumes_telling_the_platform()
 {
    let receiver = PlatformReceiver::start(SECRET);
    let app = app_for(Some(&receiver)).spawn();
    let o = app.owner_of("owner@acme.example", "acme");
    let ops = app.ops_token("ops");
    let id = launch(&app, &o, &ops);

    // Flows 24A and 24B: the client pauses, ops resume (both sides may do either).
    let (s, v) = app.transition(&o.slug, &o.token, &id, "paused");
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("paused")),
        "{v}"
    );
    let (s, v) = ops_move(&app, &ops, &o.tenant_id, &id, "live");
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("live")),
        "{v}"
    );
    let (s, v) = ops_move(&app, &ops, &o.tenant_id, &id, "paused");
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.transition(&o.slug, &o.token, &id, "live");
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("live")),
        "{v}"
    );

    let events = verified_events(&receiver, 5);
    assert!(
        receiver.received().iter().all(|r| r.signed),
        "{:?}",
        receiver.received()
    );
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "automation.deployed",
            "automation.paused",
            "automation.resumed",
            "automation.paused",
            "automation.resumed"
        ]
    );
    for e in &events {
        assert_eq!(e["tenant_id"], json!(o.tenant_id), "{e}");
        assert_eq!(e["data"]["automation_id"], json!(id), "{e}");
        assert_eq!(e["data"]["version"], 1, "{e}");
        assert!(e["occurred_at"].as_str().unwrap().ends_with('Z'), "{e}");
    }

    // The ops delivery log: each delivered once, with its status.
    let log = eventually(WAIT, "every event delivered in the log", || {
        let (s, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
        assert_eq!(s, StatusCode::OK, "{b}");
        let items = b["items"].as_array().unwrap().clone();
        (items.len() == 5 && items.iter().all(|i| i["status"] == "delivered")).then_some(items)
    });
    assert!(
        log.iter()
            .all(|i| i["attempts"] == 1 && i["last_status"] == 200),
        "{log:?}"
    );
    let first = log[0]["id"].as_str().unwrap();
    let (s, p) = app.post_as(
        "ops",
        &format!("/api/ops/platform-events/{first}/retry"),
        &ops,
        json!({}),
    );
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let history = app.audit_actions(&o.slug, &o.token, "version", &format!("{id}:1"));
    assert!(
        history
            .iter()
            .filter(|a| *a == "version.transitioned")
            .count()
            >= 10,
        "{history:?}"
    );
}

#[test]
fn events_pending_at_a_kill_arrive_after_the_restart_with_the_same_ids() {
    let receiver = PlatformReceiver::start(SECRET);
    let app = app_for(Some(&receiver)).spawn();
    let o = app.owner_of("owner@acme.example", "acme");
    let ops = app.ops_token("ops");
    let id = launch(&app, &o, &ops);
    verified_events(&receiver, 1);

    // The platform is down: pauses and resumes pile up, each tried and refused.
    receiver.fail(true);
    for to in ["paused", "live", "paused", "live"] {
        let (s, v) = app.transition(&o.slug, &o.token, &id, to);
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let pending: Vec<String> = eventually(WAIT, "four refused events in the log", || {
        let (_, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
        let items = b["items"].as_array().unwrap().clone();
        let waiting: Vec<&Value> = items.iter().filter(|i| i["status"] == "pending").collect();
        (waiting.len() == 4 && waiting.iter().all(|i| i["attempts"].as_u64() >= Some(1))).then(
            || {
                waiting
                    .iter()
                    .map(|i| i["id"].as_str().unwrap().to_owned())
                    .collect()
            },
        )
    });
    // The log says each was refused and when the next try is.
    eventually(WAIT, "a refused event waiting for its next try", || {
        let (_, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
        let items = b["items"].as_array().unwrap().clone();
        items.into_iter().find(|i| {
            i["status"] == "pending"
                && i["status_label"] == "waiting to retry"
                && i["last_status"] == 503
                && i["next_try_at"].is_string()
                && i["retryable"] == true
        })
    });

    // The ops home counts them as undelivered.
    let (s, home) = app.get_as("ops", "/api/ops/home", &ops);
    assert_eq!(s, StatusCode::OK, "{home}");
    let events = home["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "events")
        .cloned()
        .unwrap();
    assert_eq!(
        (events["available"].as_bool(), events["count"].as_u64()),
        (Some(true), Some(4)),
        "{events}"
    );

    // kill -9 with the events pending, the platform back up, a restart on the same data.
    let data = app.kill_and_keep_data();
    receiver.fail(false);
    let app = app_for(Some(&receiver)).data_dir(data).spawn();
    let arrived = eventually(
        WAIT,
        "every pending event delivered after the restart",
        || {
            let ids: BTreeSet<String> = receiver
                .accepted()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect();
            pending.iter().all(|p| ids.contains(p)).then_some(ids)
        },
    );
    assert_eq!(arrived.len(), 5, "{arrived:?}");
    let (_, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
    for i in b["items"].as_array().unwrap() {
        assert_eq!(i["status"], "delivered", "{i}");
    }
}

#[test]
fn with_no_platform_configured_events_are_kept_and_shown_as_not_sent_and_can_be_retried() {
    let app = app_for(None).spawn();
    let o = app.owner_of("owner@acme.example", "acme");
    let ops = app.ops_token("ops");
    let id = launch(&app, &o, &ops);
    let (s, v) = app.transition(&o.slug, &o.token, &id, "paused");
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = eventually(WAIT, "two events not sent", || {
        let (_, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
        assert_eq!(b["platform_configured"], false, "{b}");
        let items = b["items"].as_array().unwrap().clone();
        (items.len() == 2 && items.iter().all(|i| i["status"] == "not_sent")).then_some(items)
    });
    assert_eq!(items[0]["status_label"], "not sent: no platform configured");
    assert_eq!(items[0]["type"], "automation.paused");
    let first = items[0]["id"].as_str().unwrap();
    let (s, d) = app.post_as(
        "ops",
        &format!("/api/ops/platform-events/{first}/retry"),
        &ops,
        json!({}),
    );
    assert_eq!(s, StatusCode::OK, "{d}");
    // Still nowhere to send it: it settles as not sent again.
    eventually(WAIT, "the retried event not sent again", || {
        let (_, b) = app.get_as("ops", "/api/ops/platform-events", &ops);
        let i = b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == first)
            .cloned()?;
        (i["status"] == "not_sent").then_some(())
    });
    // A workspace token cannot read the ops log.
    let (s, _) = app.get_as("ops", "/api/ops/platform-events", &o.token);
    assert!(matches!(s.as_u16(), 401 | 403), "{s}");
}

/// Flow 26 end to end through the signed webhook: the platform reports the live version's
/// credential failing; the version is blocked, the credential `failed`, the owner notified in
/// app and by email once and given a task; providing the credential again returns the version to
/// `live`.
#[test]
fn a_credential_failure_from_the_platform_blocks_the_live_version_until_it_is_provided_again() {
    use crate::platform_webhooks::{secret, signed};

    let app = app_for(None).spawn();
    let o = app.owner_of("owner@credfail.example", "credfail");
    let ops = app.ops_token("ops");
    let id = launch(&app, &o, &ops);
    let (s, creds) = app.get_as(&o.slug, "/api/credentials", &o.token);
    assert_eq!(s, StatusCode::OK, "{creds}");
    let xero = creds["items"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["system"] == "xero")
        .and_then(|c| c["id"].as_str())
        .expect("the xero credential")
        .to_owned();

    let secret = secret(&app, &o);
    let http = wrk_tests::client();
    let body = json!({
        "id": "evt-credential-1", "type": "credential.failed",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "data": {"automation_id": id, "credential_id": xero, "error": "401 from Xero"}
    })
    .to_string();
    let (s, v) = signed(&http, &app, &o.slug, &secret, &body);
    assert_eq!((s, &v["duplicate"]), (StatusCode::OK, &json!(false)), "{v}");

    let version = eventually(WAIT, "the live version blocked", || {
        let (_, v) = app.get_as(&o.slug, &wrk_tests::version_path(&id), &o.token);
        (v["status"] == "blocked").then_some(v)
    });
    assert_eq!(version["blocked_from"], "live", "{version}");
    let (_, creds) = app.get_as(&o.slug, "/api/credentials", &o.token);
    let failed = creds["items"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["id"] == json!(xero))
        .expect("the xero credential")
        .clone();
    assert_eq!(failed["status"], "failed", "{failed}");
    let (s, n) = app.get_as(&o.slug, "/api/notifications", &o.token);
    assert_eq!(s, StatusCode::OK, "{n}");
    let kinds: BTreeSet<&str> = n["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(
        kinds.contains("credential_failed") && kinds.contains("version_blocked"),
        "{n}"
    );
    let open: Vec<Value> = version_tasks(&app, &o, &id)
        .into_iter()
        .filter(|t| t["kind"] == "credentials" && t["status"] != "done")
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    eventually(WAIT, "the credential failure email", || {
        (app.outbox_count(&ops, &o.email, "credential_failed") == 1).then_some(())
    });

    // The same event again is a duplicate and changes nothing.
    let (s, v) = signed(&http, &app, &o.slug, &secret, &body);
    assert_eq!((s, &v["duplicate"]), (StatusCode::OK, &json!(true)), "{v}");

    // Providing the credential again returns the version where it was.
    let (s, c) = app.put_as(
        &o.slug,
        &format!("/api/credentials/{xero}"),
        &o.token,
        json!({"fields": {"api_key": "xero-key-rotated-0123456789"}}),
    );
    assert_eq!((s, &c["status"]), (StatusCode::OK, &json!("active")), "{c}");
    let (_, v) = app.get_as(&o.slug, &wrk_tests::version_path(&id), &o.token);
    assert_eq!(v["status"], "live", "{v}");
    let open: Vec<Value> = version_tasks(&app, &o, &id)
        .into_iter()
        .filter(|t| t["kind"] == "credentials" && t["status"] != "done")
        .collect();
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(app.outbox_count(&ops, &o.email, "credential_failed"), 1);
}
