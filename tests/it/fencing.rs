//! Fencing a workspace on one host while it moves to another (`PUT/DELETE
//! /api/ops/tenants/{tid}/fence`): the fenced workspace answers 503 with `Retry-After` on every
//! route, other workspaces are untouched, nothing of it is written while fenced, and lifting the
//! fence serves it again with its data intact.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::json;
use wrk_tests::{Method, StatusCode, TestApp};

fn fence_path(tenant: &str) -> String {
    format!("/api/ops/tenants/{tenant}/fence")
}

/// The names of workspace `acme`'s automations (one page: the tests write fewer than 200).
fn automation_names(app: &TestApp, token: &str) -> Vec<String> {
    let (s, list) = app.get_as("acme", "/api/automations?limit=200", token);
    assert_eq!(s, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_fenced_workspace_answers_503_with_retry_after_and_others_are_served() {
    let app = TestApp::spawn_open();
    let a = app.owner_of("ada@example.com", "acme");
    let b = app.owner_of("bob@example.com", "beta");
    app.create_automation("acme", &a.token, "Before the move");
    let ops = app.ops_token("ops_admin");

    let (s, fence) = app.put_as(
        "ops",
        &fence_path(&a.tenant_id),
        &ops,
        json!({"retry_after_secs": 7}),
    );
    assert_eq!(s, StatusCode::OK, "{fence}");
    assert_eq!(fence["drained"], true);
    assert_eq!(fence["retry_after_secs"], 7);

    for (method, path) in [
        (Method::GET, "/api/automations"),
        (Method::POST, "/api/automations"),
        (Method::GET, "/api/me"),
        (Method::GET, "/app"),
    ] {
        let res = app
            .request(method.clone(), "acme", path)
            .bearer_auth(&a.token)
            .json(&json!({"name": "During the move"}))
            .send()
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}"
        );
        assert_eq!(res.headers()["retry-after"], "7", "{method} {path}");
        let problem: serde_json::Value = res.json().unwrap();
        assert_eq!(problem["code"], "unavailable", "{problem}");
    }
    let (s, _) = app.get_as("beta", "/api/automations", &b.token);
    assert_eq!(s, StatusCode::OK, "another workspace is not fenced");

    let (s, _) = app.delete_as("ops", &fence_path(&a.tenant_id), &ops);
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(automation_names(&app, &a.token), ["Before the move"]);

    let audit = app.audit_actions("acme", &a.token, "tenant", &a.tenant_id);
    assert!(
        audit.iter().any(|x| x == "tenant.fenced") && audit.iter().any(|x| x == "tenant.unfenced"),
        "{audit:?}"
    );
}

#[test]
fn fencing_is_for_ops_admins_and_checks_its_input() {
    let app = TestApp::spawn_open();
    let a = app.owner_of("ada@example.com", "acme");
    let ops = app.ops_token("ops");
    let admin = app.ops_token("ops_admin");
    let path = fence_path(&a.tenant_id);
    let (s, _) = app.put_as("ops", &path, &ops, json!({"retry_after_secs": 5}));
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in [0, 3601] {
        let (s, b) = app.put_as("ops", &path, &admin, json!({"retry_after_secs": bad}));
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {b}");
    }
    let (s, _) = app.put_as(
        "ops",
        &fence_path("0190b7a4-0000-7000-8000-000000000000"),
        &admin,
        json!({"retry_after_secs": 5}),
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get_as("acme", "/api/automations", &a.token);
    assert_eq!(s, StatusCode::OK, "nothing was fenced");
    // JSON has one number type: an integral float is the integer it spells.
    let (s, b) = app.put_as("ops", &path, &admin, json!({"retry_after_secs": 5.0}));
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["retry_after_secs"], 5);
}

/// Writers keep going while the workspace is fenced: every write acknowledged with 201 is there
/// afterwards, and no write sent after the fence answered is acknowledged before it is lifted.
#[test]
fn no_write_is_acknowledged_while_a_workspace_is_fenced() {
    /// At most this many writes per writer, so one page lists them all.
    const PER_WRITER: usize = 60;
    let app = Arc::new(TestApp::spawn_open());
    let a = app.owner_of("ada@example.com", "acme");
    let ops = app.ops_token("ops_admin");
    // Writers hold the read side while they send, so flipping the flag back (and lifting the
    // fence under the write side) can never overlap a request sent while fenced.
    let fenced = Arc::new(RwLock::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (app, token) = (app.clone(), a.token.clone());
            let (fenced, stop, during, refused, acked) = (
                fenced.clone(),
                stop.clone(),
                during.clone(),
                refused.clone(),
                acked.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..PER_WRITER {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let name = format!("w{w} n{i}");
                    let flag = fenced.read().unwrap();
                    let (s, b) =
                        app.post_as("acme", "/api/automations", &token, json!({"name": name}));
                    if s == StatusCode::CREATED {
                        if *flag {
                            during.fetch_add(1, Ordering::SeqCst);
                        }
                        acked.lock().unwrap().push(name);
                    } else {
                        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    drop(flag);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (s, fence) = app.put_as(
        "ops",
        &fence_path(&a.tenant_id),
        &ops,
        json!({"retry_after_secs": 1}),
    );
    assert_eq!(s, StatusCode::OK, "{fence}");
    assert_eq!(fence["drained"], true);
    *fenced.write().unwrap() = true;
    std::thread::sleep(Duration::from_millis(300));
    {
        let mut flag = fenced.write().unwrap();
        let (s, _) = app.delete_as("ops", &fence_path(&a.tenant_id), &ops);
        assert_eq!(s, StatusCode::NO_CONTENT);
        *flag = false;
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(
        during.load(Ordering::SeqCst),
        0,
        "a write was acknowledged while fenced"
    );
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "some writes met the fence"
    );
    let acked = acked.lock().unwrap().clone();
    let stored = automation_names(&app, &a.token);
    for name in &acked {
        assert!(stored.contains(name), "acknowledged {name} is missing");
    }
}
