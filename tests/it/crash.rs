//! Crash safety (issue 13, deliverable 2): `kill -9` in a loop during a write storm over three
//! workspaces. Every write the server acknowledged with a 2xx is there after the restart, every
//! `*.db` file passes `PRAGMA integrity_check`, and a verification email whose job was interrupted
//! is delivered exactly once (one Message-ID) after the restart.
//!
//! The kills are placed by counting acknowledged writes (and, in the round whose mail server never
//! answers, by waiting until the email jobs were claimed), never by sleeping.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use wrk_tests::smtp::SmtpSink;
use wrk_tests::{Method, Owner, StatusCode, TestApp, Value, blueprint, eventually, json};

const ROUNDS: usize = 5;
/// Acknowledged writes per round before the kill.
const ACKS_PER_ROUND: usize = 40;
const WAIT: Duration = Duration::from_secs(30);
const OPS_EMAIL: &str = "ops@crash.example";
const OPS_PASSWORD: &str = "ops password for the crash loop";

/// A write the server acknowledged.
#[derive(Debug, Clone)]
enum Ack {
    Automation {
        slug: String,
        id: String,
        name: String,
    },
    /// Version 1's blueprint saved as `runs` monthly runs, at `revision`.
    Blueprint {
        slug: String,
        id: String,
        revision: i64,
        runs: u64,
    },
    /// Version 1 priced: it awaits approval, with a quote and a task.
    Priced {
        slug: String,
        id: String,
    },
    Task {
        slug: String,
        id: String,
        status: String,
    },
    Signup {
        email: String,
    },
}

impl Ack {
    fn kind(&self) -> &'static str {
        match self {
            Ack::Automation { .. } => "automation",
            Ack::Blueprint { .. } => "blueprint",
            Ack::Priced { .. } => "pricing",
            Ack::Task { .. } => "task",
            Ack::Signup { .. } => "signup",
        }
    }
}

fn spawn(data: tempfile::TempDir, smtp: &str) -> TestApp {
    TestApp::builder()
        .data_dir(data)
        .env("WRK_AUTH_RATE_LIMIT", "100000")
        .env("WRK_EMAIL_VERIFICATION", "true")
        .env("WRK_SMTP_URL", smtp)
        // A short lease, so that a job killed mid-run is taken over soon after the restart.
        .env("WRK_JOB_LEASE", "2")
        .spawn()
}

/// One request; `None` when the server did not acknowledge it (it is gone). Any answer but a 2xx
/// from a live server is a defect.
fn send(
    app: &TestApp,
    method: Method,
    slug: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Option<Value> {
    let mut req = app.request(method.clone(), slug, path);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().ok()?;
    let status = res.status();
    let text = res.text().ok()?;
    assert!(
        status.is_success(),
        "{method} {slug}{path}: {status} {text}"
    );
    Some(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Writes in one workspace until the server goes away: create an automation, save its
/// blueprint twice, price it, move its task; each acknowledged step is reported.
fn write_storm(app: &TestApp, owner: &Owner, round: usize, acks: &mpsc::Sender<Ack>) {
    let (slug, token) = (owner.slug.as_str(), Some(owner.token.as_str()));
    for i in 0.. {
        let name = format!("{slug} r{round} #{i}");
        let Some(a) = send(
            app,
            Method::POST,
            slug,
            "/api/automations",
            token,
            Some(json!({"name": name})),
        ) else {
            return;
        };
        let id = a["id"].as_str().expect("id").to_owned();
        let ack = |a: Ack| {
            acks.send(a)
                .expect("the test collects acks until the storm ends")
        };
        ack(Ack::Automation {
            slug: slug.into(),
            id: id.clone(),
            name,
        });
        let path = wrk_tests::version_path(&id);
        let Some(v) = send(app, Method::GET, slug, &path, token, None) else {
            return;
        };
        let mut revision = v["revision"].clone();
        for runs in [100 + i, 200 + i] {
            let body = json!({"blueprint": blueprint(runs), "revision": revision});
            let Some(v) = send(
                app,
                Method::PUT,
                slug,
                &format!("{path}/blueprint"),
                token,
                Some(body),
            ) else {
                return;
            };
            revision = v["revision"].clone();
            let revision = revision.as_i64().expect("revision");
            ack(Ack::Blueprint {
                slug: slug.into(),
                id: id.clone(),
                revision,
                runs,
            });
        }
        let to = json!({"to": "needs_pricing"});
        let Some(v) = send(
            app,
            Method::POST,
            slug,
            &format!("{path}/transitions"),
            token,
            Some(to),
        ) else {
            return;
        };
        assert_eq!(v["status"], "awaiting_client_approval", "{v}");
        ack(Ack::Priced {
            slug: slug.into(),
            id: id.clone(),
        });
        let q = format!("/api/tasks?automation_id={id}");
        let Some(tasks) = send(app, Method::GET, slug, &q, token, None) else {
            return;
        };
        let task = tasks["items"][0]["id"].as_str().expect("a task").to_owned();
        let body = json!({"status": "in_progress"});
        let path = format!("/api/tasks/{task}");
        if send(app, Method::PATCH, slug, &path, token, Some(body)).is_none() {
            return;
        }
        ack(Ack::Task {
            slug: slug.into(),
            id: task,
            status: "in_progress".into(),
        });
    }
}

/// Signs new accounts up until the server goes away; each signup queues a verification email.
fn signup_storm(app: &TestApp, round: usize, acks: &mpsc::Sender<Ack>) {
    for i in 0.. {
        let email = format!("user{round}.{i}@crash.example");
        let body = json!({"email": email, "password": wrk_tests::PASSWORD, "name": "Ada"});
        if send(app, Method::POST, "", "/api/auth/signup", None, Some(body)).is_none() {
            return;
        }
        acks.send(Ack::Signup { email })
            .expect("the test collects acks until the storm ends");
    }
}

/// `PRAGMA integrity_check` of every `*.db` file under `dir` (the server is stopped).
fn integrity_of_every_database(dir: &Path) -> usize {
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            checked += integrity_of_every_database(&path);
        } else if path.extension().is_some_and(|e| e == "db") {
            let conn = rusqlite::Connection::open(&path).expect("open");
            let verdict: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity_check");
            assert_eq!(verdict, "ok", "{}", path.display());
            checked += 1;
        }
    }
    checked
}

/// A whole list (one page of at most 200).
fn all_items(app: &TestApp, slug: &str, path: &str, token: &str) -> Vec<Value> {
    let (s, list) = app.get_as(slug, &format!("{path}?limit=200"), token);
    assert_eq!(s, StatusCode::OK, "{path}: {list}");
    assert!(list["next_cursor"].is_null(), "{path} has more than a page");
    list["items"].as_array().expect("items").clone()
}

/// Every acknowledged write, read back through the API.
fn assert_acknowledged_writes_present(
    app: &TestApp,
    owners: &BTreeMap<String, Owner>,
    acks: &[Ack],
) {
    let token = |slug: &str| owners[slug].token.clone();
    let mut last_blueprint: BTreeMap<&str, (i64, u64, &str)> = BTreeMap::new();
    for ack in acks {
        match ack {
            Ack::Automation { slug, id, name } => {
                let (s, a) = app.get_as(slug, &format!("/api/automations/{id}"), &token(slug));
                assert_eq!(s, StatusCode::OK, "acknowledged automation {id} lost: {a}");
                assert_eq!(a["name"], name.as_str());
            }
            Ack::Blueprint {
                slug,
                id,
                revision,
                runs,
            } => {
                last_blueprint.insert(id, (*revision, *runs, slug));
            }
            Ack::Priced { slug, id } => {
                let (_, v) = app.get_as(slug, &wrk_tests::version_path(id), &token(slug));
                assert_eq!(
                    v["status"], "awaiting_client_approval",
                    "pricing of {id}: {v}"
                );
                let quoted = all_items(app, slug, "/api/quotes", &token(slug))
                    .iter()
                    .any(|q| q["automation_id"] == id.as_str());
                assert!(quoted, "the quote of {id} lost");
            }
            Ack::Task { slug, id, status } => {
                let task = all_items(app, slug, "/api/tasks", &token(slug))
                    .into_iter()
                    .find(|t| t["id"] == id.as_str());
                assert_eq!(
                    task.map(|t| t["status"].clone()),
                    Some(json!(status)),
                    "task {id}"
                );
            }
            Ack::Signup { .. } => {}
        }
    }
    for (id, (revision, runs, slug)) in last_blueprint {
        let (_, v) = app.get_as(slug, &wrk_tests::version_path(id), &token(slug));
        let stored = v["revision"].as_i64().expect("revision");
        // One more save may have committed without its answer arriving before the kill.
        match stored - revision {
            0 => assert_eq!(v["blueprint"]["volume"]["monthly_runs"], runs, "{id}: {v}"),
            1 => {}
            _ => panic!("{id}: acknowledged revision {revision}, stored {stored}"),
        }
    }
}

#[test]
fn kill_9_during_a_write_storm_loses_no_acknowledged_write_and_corrupts_no_file() {
    let sink = SmtpSink::start();
    // A mail server that accepts the connection and never speaks: an email job hangs until it
    // times out, so a kill interrupts it.
    let mute = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mute_url = format!("smtp://{}", mute.local_addr().expect("addr"));

    let app = TestApp::spawn_open();
    app.create_ops_user(OPS_EMAIL, "ops", Some(OPS_PASSWORD));
    let owners: BTreeMap<String, Owner> = ["alpha", "bravo", "charlie"]
        .map(|s| (s.to_owned(), app.owner_of(&format!("owner@{s}.example"), s)))
        .into_iter()
        .collect();
    let mut data = app.kill_and_keep_data();
    let mut acks: Vec<Ack> = Vec::new();

    for round in 1..=ROUNDS {
        let smtp = if round == 1 {
            mute_url.clone()
        } else {
            sink.url()
        };
        let app = spawn(data, &smtp);
        let ops = app.ops_login(OPS_EMAIL, OPS_PASSWORD);
        assert_acknowledged_writes_present(&app, &owners, &acks);
        let (tx, rx) = mpsc::channel();
        let mut round_acks = Vec::new();
        std::thread::scope(|s| {
            for owner in owners.values() {
                let tx = tx.clone();
                let app = &app;
                s.spawn(move || write_storm(app, owner, round, &tx));
            }
            let signups = tx.clone();
            let app_ref = &app;
            s.spawn(move || signup_storm(app_ref, round, &signups));
            for _ in 0..ACKS_PER_ROUND {
                let ack = rx.recv_timeout(WAIT).expect("the storm stalled");
                round_acks.push(ack);
            }
            if round == 1 {
                // Kill only once email jobs are under way (claimed, not delivered).
                eventually(WAIT, "email jobs claimed", || {
                    let claimed = app
                        .jobs_of_kind(&ops, "send_email")
                        .iter()
                        .filter(|j| j["attempts"].as_u64() >= Some(1) && j["status"] != "done")
                        .count();
                    (claimed >= 2).then_some(())
                });
            }
            app.signal("KILL");
            drop(tx);
            // Writes acknowledged up to the kill count too.
            round_acks.extend(rx.iter());
        });
        acks.extend(round_acks);
        data = app.kill_and_keep_data();
        let files = integrity_of_every_database(data.path());
        assert!(files >= 4, "only {files} database files");
    }

    let app = spawn(data, &sink.url());
    assert_acknowledged_writes_present(&app, &owners, &acks);
    let ops = app.ops_login(OPS_EMAIL, OPS_PASSWORD);
    let signups: Vec<&str> = acks
        .iter()
        .filter_map(|a| match a {
            Ack::Signup { email } => Some(email.as_str()),
            _ => None,
        })
        .collect();
    assert!(!signups.is_empty());
    for email in &signups {
        let mails = eventually(WAIT, &format!("the verification email to {email}"), || {
            let mails = sink.mails_to(email);
            (!mails.is_empty()).then_some(mails)
        });
        let ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids.len(), 1, "{email}: {ids:?}");
        assert_eq!(app.outbox_count(&ops, email, "verify_email"), 1, "{email}");
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &acks {
        *counts.entry(a.kind()).or_default() += 1;
    }
    eprintln!("crash loop: {ROUNDS} kills; acknowledged writes {counts:?}");
}
