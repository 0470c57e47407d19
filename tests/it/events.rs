//! Black-box tests of flow 30 and the notifications: automation threads on both hosts, the live
//! event streams (delivery within a second, resume with `Last-Event-ID`, isolation, auth at open,
//! heartbeats), the notifications API and the batched email digest.

use std::time::{Duration, Instant};

use wrk_tests::sse::{self, EventStream};
use wrk_tests::{StatusCode, TestApp, Value, eventually, json};

const SECOND: Duration = Duration::from_secs(1);

fn messages_path(automation: &str) -> String {
    format!("/api/automations/{automation}/messages")
}

fn ops_messages_path(tenant: &str, automation: &str) -> String {
    format!("/api/ops/tenants/{tenant}/automations/{automation}/messages")
}

fn stream(app: &TestApp, host: &str, token: &str, last: Option<&str>) -> EventStream {
    let path = if host == "ops" {
        "/api/ops/events"
    } else {
        "/api/events"
    };
    sse::open(app, host, path, Some(token), last).unwrap_or_else(|(s, b)| panic!("{s}: {b}"))
}

fn ops_post(app: &TestApp, ops: &str, tenant: &str, automation: &str, body: &str) -> Value {
    let (s, m) = app.post_as(
        "ops",
        &ops_messages_path(tenant, automation),
        ops,
        json!({ "body": body }),
    );
    assert_eq!(s, StatusCode::CREATED, "{m}");
    m
}

#[test]
fn a_message_reaches_both_sides_within_a_second_and_a_reconnect_resumes_without_a_gap() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("owner@acme.example", "acme");
    let ops = app.ops_token("ops");
    let a = app.create_automation(&owner.slug, &owner.token, "Invoice sync");
    let client_stream = stream(&app, &owner.slug, &owner.token, None);
    let ops_stream = stream(&app, "ops", &ops, None);
    assert!(client_stream.content_type.starts_with("text/event-stream"));

    // Ops write: the workspace's open stream has it within a second, with the owner's
    // notification of it.
    let sent = Instant::now();
    let m = ops_post(
        &app,
        &ops,
        &owner.tenant_id,
        &a,
        "Can you share the **ledger**?",
    );
    let got = client_stream
        .next_of("message.created", SECOND)
        .expect("the message within a second on the workspace stream");
    assert!(got.at.duration_since(sent) < SECOND);
    assert_eq!(got.data["id"], m["id"]);
    assert_eq!(got.data["automation_id"], a.as_str());
    assert_eq!(got.data["author"]["kind"], "ops");
    assert_eq!(got.data["body"], "Can you share the **ledger**?");
    let n = client_stream
        .next_of("notification.created", SECOND)
        .expect("the owner's notification");
    assert_eq!(n.data["kind"], "message");
    let on_ops = ops_stream
        .next_of("message.created", SECOND)
        .expect("ops see their own message live too");
    assert_eq!(on_ops.data["tenant_id"], owner.tenant_id.as_str());

    // The client answers: ops have it within a second.
    let sent = Instant::now();
    let (s, reply) = app.post_as(
        &owner.slug,
        &messages_path(&a),
        &owner.token,
        json!({"body": "Sure"}),
    );
    assert_eq!(s, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["author"]["kind"], "user");
    assert_eq!(reply["author"]["name"], "Grace Hopper");
    let got = ops_stream
        .next_of("message.created", SECOND)
        .expect("the reply within a second on the ops stream");
    assert!(got.at.duration_since(sent) < SECOND);
    assert_eq!(got.data["id"], reply["id"]);
    let last_client = client_stream
        .next_of("message.created", SECOND)
        .expect("the client's own stream has the reply");
    let last_ops = got.id.clone().expect("an ops event id");
    let last_id = last_client.id.clone().expect("an event id");
    drop(client_stream);
    drop(ops_stream);

    // While both are away: three messages and a status change.
    let missed: Vec<Value> = (1..=3)
        .map(|i| ops_post(&app, &ops, &owner.tenant_id, &a, &format!("missed {i}")))
        .collect();
    let (s, _) = app.post_as(
        &owner.slug,
        &format!("{}/transitions", wrk_tests::version_path(&a)),
        &owner.token,
        json!({"to": "archived"}),
    );
    assert_eq!(s, StatusCode::OK);

    // Reconnecting with the last id replays exactly what was missed, in order, then goes live.
    let back = stream(&app, &owner.slug, &owner.token, Some(&last_id));
    let replay = back.drain(Duration::from_millis(1500));
    let ids: Vec<i64> = replay
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(ids[0] > last_id.parse::<i64>().unwrap());
    let replayed: Vec<&Value> = replay
        .iter()
        .filter(|e| e.event == "message.created" && e.data["author"]["kind"] == "ops")
        .map(|e| &e.data["id"])
        .collect();
    let want: Vec<&Value> = missed.iter().map(|m| &m["id"]).collect();
    assert_eq!(replayed, want);
    assert!(
        replay
            .iter()
            .any(|e| e.event == "version.status_changed" && e.data["to"] == "archived"),
        "{replay:?}"
    );
    assert_eq!(
        replay
            .iter()
            .filter(|e| e.event == "notification.created")
            .count(),
        3
    );
    // The archived automation's thread takes no new messages (read-only), and says why.
    let (s, p) = app.post_as(
        &owner.slug,
        &messages_path(&a),
        &owner.token,
        json!({"body": "x"}),
    );
    assert_eq!(s, StatusCode::CONFLICT, "{p}");

    // The ops stream resumes too, across workspaces.
    let ops_back = stream(&app, "ops", &ops, Some(&last_ops));
    let replay = ops_back.drain(Duration::from_millis(1500));
    let replayed: Vec<&Value> = replay
        .iter()
        .filter(|e| e.event == "message.created" && e.data["author"]["kind"] == "ops")
        .map(|e| &e.data["id"])
        .collect();
    assert_eq!(replayed, want);
    assert!(replay.iter().all(|e| e.event != "notification.created"));
}

#[test]
fn a_stream_carries_only_its_own_workspace_and_checks_credentials_when_it_opens() {
    let app = TestApp::spawn_open();
    let a = app.owner_of("owner@alpha.example", "alpha");
    let b = app.owner_of("owner@bravo.example", "bravo");
    let ops = app.ops_token("ops");
    let a_auto = app.create_automation(&a.slug, &a.token, "Alpha flow");
    let b_auto = app.create_automation(&b.slug, &b.token, "Bravo flow");

    // Refused at open, with a problem document: no credentials, another workspace's token or API
    // key, a workspace token on the ops host.
    let refused = |host: &str, path: &str, token: Option<&str>| {
        let Err((s, p)) = sse::open(&app, host, path, token, None) else {
            panic!("{host}{path} opened");
        };
        assert!(matches!(s.as_u16(), 401 | 403 | 404), "{s}");
        assert!(p["code"].is_string(), "{p}");
        s
    };
    assert_eq!(
        refused(&a.slug, "/api/events", None),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refused(&a.slug, "/api/events", Some(&b.token)),
        StatusCode::FORBIDDEN
    );
    let b_key = app.api_key(&b.slug, &b.token, &["read"]);
    refused(&a.slug, "/api/events", Some(&b_key));
    refused("ops", "/api/ops/events", Some(&a.token));
    refused("ops", "/api/ops/events", None);
    // An API key of the workspace itself opens its stream.
    let a_key = app.api_key(&a.slug, &a.token, &["read"]);
    let by_key = stream(&app, &a.slug, &a_key, None);

    let on_a = stream(&app, &a.slug, &a.token, None);
    ops_post(&app, &ops, &b.tenant_id, &b_auto, "for bravo only");
    let (s, _) = app.post_as(
        &b.slug,
        &messages_path(&b_auto),
        &b.token,
        json!({"body": "bravo"}),
    );
    assert_eq!(s, StatusCode::CREATED);
    ops_post(&app, &ops, &a.tenant_id, &a_auto, "for alpha");
    let seen = on_a.drain(Duration::from_millis(1500));
    assert!(!seen.is_empty());
    for e in &seen {
        let text = e.data.to_string();
        assert_eq!(e.data["tenant_id"], a.tenant_id.as_str(), "{text}");
        assert!(!text.contains(&b_auto) && !text.contains("bravo"), "{text}");
    }
    assert!(seen.iter().any(|e| e.data["body"] == "for alpha"));
    // The API key's stream has the workspace's events, and the key creator's notifications.
    let by_key_seen = by_key.drain(Duration::from_millis(500));
    assert!(
        by_key_seen.iter().any(|e| e.data["body"] == "for alpha"),
        "{by_key_seen:?}"
    );
    // Replaying from the start of A's log never reaches B's events either.
    let replay = stream(&app, &a.slug, &a.token, Some("0")).drain(Duration::from_millis(1500));
    assert!(!replay.is_empty());
    assert!(replay.iter().all(|e| !e.data.to_string().contains(&b_auto)));
}

#[test]
fn an_idle_stream_gets_heartbeats() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("owner@idle.example", "idle");
    let s = stream(&app, &owner.slug, &owner.token, None);
    // The greeting comes at once, a heartbeat within 20 s.
    eventually(SECOND, "the greeting", || (s.comments() > 0).then_some(()));
    eventually(Duration::from_secs(20), "a heartbeat", || {
        (s.comments() >= 2).then_some(())
    });
}

#[test]
fn threads_count_unread_per_side_and_render_markup_inert() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("owner@thread.example", "thread");
    let ops = app.ops_token("ops");
    let a = app.create_automation(&owner.slug, &owner.token, "Thread flow");
    let hostile = "Look: <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) **ok**";
    let first = ops_post(&app, &ops, &owner.tenant_id, &a, hostile);
    ops_post(&app, &ops, &owner.tenant_id, &a, "second");
    let html = first["body_html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;") && html.contains("<strong>ok</strong>"),
        "{html}"
    );
    assert_eq!(first["body"], hostile);

    let (s, page) = app.get_as(&owner.slug, &messages_path(&a), &owner.token);
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page["unread"], 2);
    assert_eq!(page["items"][0]["author"]["kind"], "ops");
    assert_eq!(page["items"][1]["body"], "second");
    let (_, after) = app.get_as(
        &owner.slug,
        &format!(
            "{}?after={}",
            messages_path(&a),
            first["id"].as_str().unwrap()
        ),
        &owner.token,
    );
    assert_eq!(after["items"].as_array().unwrap().len(), 1);
    let (_, ops_page) = app.get_as("ops", &ops_messages_path(&owner.tenant_id, &a), &ops);
    assert_eq!(ops_page["unread"], 0);

    let (s, _) = app.post_as(
        &owner.slug,
        &format!("{}/read", messages_path(&a)),
        &owner.token,
        json!({}),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, page) = app.get_as(&owner.slug, &messages_path(&a), &owner.token);
    assert_eq!(page["unread"], 0);
    let (s, _) = app.post_as(
        &owner.slug,
        &messages_path(&a),
        &owner.token,
        json!({"body": "thanks"}),
    );
    assert_eq!(s, StatusCode::CREATED);
    let (_, ops_page) = app.get_as("ops", &ops_messages_path(&owner.tenant_id, &a), &ops);
    assert_eq!(ops_page["unread"], 1);
    let (s, _) = app.post_as(
        "ops",
        &format!("{}/read", ops_messages_path(&owner.tenant_id, &a)),
        &ops,
        json!({}),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, ops_page) = app.get_as("ops", &ops_messages_path(&owner.tenant_id, &a), &ops);
    assert_eq!(ops_page["unread"], 0);

    // Empty and oversized bodies are refused with the field named.
    for body in [json!(""), json!("   "), json!("x".repeat(10_001))] {
        let (s, p) = app.post_as(
            &owner.slug,
            &messages_path(&a),
            &owner.token,
            json!({"body": body}),
        );
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    }
    // System messages: a transition is noted in the thread.
    app.save_blueprint(&owner.slug, &owner.token, &a, wrk_tests::blueprint(100));
    app.transition(&owner.slug, &owner.token, &a, "needs_pricing");
    let (_, page) = app.get_as(&owner.slug, &messages_path(&a), &owner.token);
    let system: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"]["kind"] == "system")
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        system
            .iter()
            .any(|b| b.contains("moved from **Intake** to **Needs pricing**")),
        "{system:?}"
    );
}

#[test]
fn notifications_are_listed_read_one_or_all_and_emails_are_chosen_per_kind() {
    let app = TestApp::spawn_open();
    let owner = app.owner_of("owner@bell.example", "bell");
    let other = app.owner_of("owner@other.example", "other");
    let ops = app.ops_token("ops");
    let a = app.create_automation(&owner.slug, &owner.token, "Bell flow");
    ops_post(&app, &ops, &owner.tenant_id, &a, "one");
    ops_post(&app, &ops, &owner.tenant_id, &a, "two");

    let (s, list) = app.get_as(&owner.slug, "/api/notifications", &owner.token);
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["unread"], 2);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["body"], "two");
    assert_eq!(items[0]["read"], false);
    assert_eq!(items[0]["kind"], "message");
    assert_eq!(
        items[0]["title"],
        "ops@wrk.example (WRK) wrote on Bell flow"
    );
    assert_eq!(items[0]["link"], format!("/app/automations/{a}#messages"));
    let first = items[0]["id"].as_str().unwrap();

    // Another workspace's user cannot read or mark it.
    let (s, _) = app.post_as(
        &other.slug,
        &format!("/api/notifications/{first}/read"),
        &other.token,
        json!({}),
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.post_as(
        &owner.slug,
        &format!("/api/notifications/{first}/read"),
        &owner.token,
        json!({}),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get_as(&owner.slug, "/api/notifications", &owner.token);
    assert_eq!(list["unread"], 1);
    assert_eq!(list["items"][0]["read"], true);
    let (s, _) = app.post_as(
        &owner.slug,
        "/api/notifications/read-all",
        &owner.token,
        json!({}),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get_as(&owner.slug, "/api/notifications", &owner.token);
    assert_eq!(list["unread"], 0);
    let (_, page) = app.get_as(&owner.slug, "/api/notifications?limit=1", &owner.token);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_string());

    let (s, prefs) = app.get_as(&owner.slug, "/api/notifications/preferences", &owner.token);
    assert_eq!(s, StatusCode::OK);
    assert!(
        prefs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["email"] == true)
    );
    let (s, prefs) = app.put_as(
        &owner.slug,
        "/api/notifications/preferences",
        &owner.token,
        json!({"items": [{"kind": "message", "email": false}]}),
    );
    assert_eq!(s, StatusCode::OK, "{prefs}");
    for p in prefs["items"].as_array().unwrap() {
        assert_eq!(p["email"], p["kind"] != "message", "{p}");
    }
    let (s, p) = app.put_as(
        &owner.slug,
        "/api/notifications/preferences",
        &owner.token,
        json!({"items": [{"kind": "carrier_pigeon", "email": true}]}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

/// Waits until a digest window has just begun (within its first 300 ms), so a burst of messages
/// falls in one window.
fn start_of_window(interval: u64) {
    eventually(
        Duration::from_secs(interval + 1),
        "the start of a digest window",
        || {
            let now = chrono::Utc::now();
            let into = now.timestamp().rem_euclid(interval as i64) as u64 * 1000
                + u64::from(now.timestamp_subsec_millis());
            (into < 300).then_some(())
        },
    );
}

#[test]
fn an_offline_member_gets_one_digest_for_several_messages_and_an_online_one_none() {
    const INTERVAL: u64 = 4;
    const WAIT_MAIL: Duration = Duration::from_secs(3 * INTERVAL + 10);
    let app = TestApp::builder()
        .env("WRK_EMAIL_VERIFICATION", "false")
        .env("WRK_DIGEST_INTERVAL", INTERVAL.to_string())
        .mailbox()
        .spawn();
    let owner = app.owner_of("owner@digest.example", "digest");
    let ops = app.ops_token("ops");
    let a = app.create_automation(&owner.slug, &owner.token, "Digest flow");
    start_of_window(INTERVAL);
    for body in ["first question", "second question", "third question"] {
        ops_post(&app, &ops, &owner.tenant_id, &a, body);
    }
    let mail = app
        .mailbox()
        .wait_for_mail(&owner.email, Duration::from_secs(3 * INTERVAL + 10));
    assert_eq!(mail.subject, "3 new messages", "{mail:?}");
    let text = mail.text.clone().unwrap_or_default();
    for q in ["first question", "second question", "third question"] {
        assert!(text.contains(q), "{text}");
    }
    assert!(text.contains("/app/notifications"), "{text}");
    // Nothing more arrives for those three: one digest job was scheduled, and it has ended.
    eventually(WAIT_MAIL, "the digest job ended", || {
        app.jobs_settled(&ops, "message_digest").then_some(())
    });
    assert_eq!(app.jobs_of_kind(&ops, "message_digest").len(), 1);
    assert_eq!(app.mailbox().mails_to(&owner.email).len(), 1);

    // While the owner has the app open (a stream), a new message is no email.
    let online = stream(&app, &owner.slug, &owner.token, None);
    ops_post(&app, &ops, &owner.tenant_id, &a, "while you are here");
    assert!(online.next_of("notification.created", SECOND).is_some());
    // No digest was even scheduled for it (the schedule is part of posting the message).
    assert_eq!(app.jobs_of_kind(&ops, "message_digest").len(), 1);
    assert_eq!(app.mailbox().mails_to(&owner.email).len(), 1);
}

#[test]
fn open_streams_end_when_the_server_stops_so_they_never_hold_up_a_graceful_shutdown() {
    let mut app = TestApp::spawn_open();
    let owner = app.owner_of("owner@stop.example", "stop");
    let ops = app.ops_token("ops");
    let streams: Vec<EventStream> = (0..3)
        .map(|_| stream(&app, &owner.slug, &owner.token, None))
        .chain(std::iter::once(stream(&app, "ops", &ops, None)))
        .collect();
    let asked = Instant::now();
    app.signal("TERM");
    // The grace period is 30 s: streams that held on would keep the process alive that long.
    assert_eq!(app.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    drop(streams);
}
