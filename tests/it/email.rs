//! Email: the outbox delivers through a real SMTP server (aiosmtpd), retries while the server is
//! down, and with no SMTP configured keeps the message (`held`) and logs it with its links.

use std::time::Duration;

use wrk_tenants::outbox::{EmailStatus, OutgoingEmail};
use wrk_tests::smtp::{SmtpSink, links, query_param};
use wrk_tests::{TestApp, eventually};

const WAIT: Duration = Duration::from_secs(30);

fn store(app: &TestApp) -> wrk_tenants::Storage {
    wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(app.data_dir())).expect("storage")
}

fn message(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        subject: "Verify your email address for WRK Copilot".into(),
        text: "Hi Ada,\n\nVerify email address:\nhttp://localhost:8080/verify-email?token=t0k3n\n".into(),
        html: "<p>Hi Ada,</p><p><a href=\"http://localhost:8080/verify-email?token=t0k3n\">Verify</a></p>".into(),
        kind: "verify_email".into(),
    }
}

/// Holds a port and closes every connection to it at once, until dropped.
struct Down {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Down {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                drop(stream);
            }
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Down {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the listener.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn status(storage: &wrk_tenants::Storage, id: &str) -> EmailStatus {
    storage.control().email(id).unwrap().expect("email").status
}

#[test]
fn an_enqueued_email_arrives_with_text_and_html_parts() {
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .env("WRK_SMTP_URL", sink.url())
        .env("WRK_EMAIL_FROM", "WRK Test <robot@wrk.test>")
        .spawn();
    let storage = store(&app);
    let id = storage
        .control()
        .enqueue_email(&message("ada@example.com"))
        .unwrap();

    let mail = sink.wait_for_mail("ada@example.com", WAIT);
    assert_eq!(mail.subject, "Verify your email address for WRK Copilot");
    assert_eq!(mail.from, "WRK Test <robot@wrk.test>");
    assert!(mail.text.as_deref().unwrap().contains("Hi Ada,"));
    assert!(mail.html.as_deref().unwrap().contains("<p>Hi Ada,</p>"));
    assert!(mail.message_id.contains(&id), "{}", mail.message_id);
    let link = &links(&mail)[0];
    assert_eq!(query_param(link, "token").as_deref(), Some("t0k3n"));

    eventually(WAIT, "the email marked sent", || {
        (status(&storage, &id) == EmailStatus::Sent).then_some(())
    });
    let record = storage.control().email(&id).unwrap().unwrap();
    assert!(record.sent_at.is_some());
    assert_eq!(sink.mails_to("ada@example.com").len(), 1);
}

#[test]
fn with_smtp_down_the_email_is_retried_and_arrives_once_the_server_is_up() {
    // A server that is down: the port is ours (no other test can take it), and every connection
    // is closed at once.
    let down = Down::start();
    let port = down.port;
    let app = TestApp::builder()
        .env("WRK_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .spawn();
    let storage = store(&app);
    let id = storage
        .control()
        .enqueue_email(&message("retry@example.com"))
        .unwrap();

    // The first attempt fails and is recorded; the message stays queued for a retry.
    let failed = eventually(WAIT, "a failed delivery attempt", || {
        let e = storage.control().email(&id).unwrap()?;
        e.last_error.is_some().then_some(e)
    });
    assert_eq!(failed.status, EmailStatus::Queued);
    // The job records the failure right after the email does, and waits for its retry.
    let job = eventually(WAIT, "the job's failed attempt", || {
        let j = storage
            .control()
            .job_by_key(&format!("send_email:{id}"))
            .unwrap()?;
        j.last_error.is_some().then_some(j)
    });
    assert_ne!(job.status, wrk_tenants::jobs::JobStatus::Failed);

    drop(down);
    let sink = SmtpSink::start_on(port);
    let mail = sink.wait_for_mail("retry@example.com", WAIT);
    assert!(mail.text.is_some() && mail.html.is_some());
    eventually(WAIT, "the email marked sent", || {
        (status(&storage, &id) == EmailStatus::Sent).then_some(())
    });
    assert_eq!(sink.mails_to("retry@example.com").len(), 1);
}

#[test]
fn without_smtp_the_email_is_held_and_logged_then_sent_by_a_start_with_smtp() {
    let app = TestApp::spawn();
    let storage = store(&app);
    let id = storage
        .control()
        .enqueue_email(&message("held@example.com"))
        .unwrap();
    eventually(WAIT, "the email logged", || {
        app.logs()
            .contains("email to held@example.com: Verify your email address for WRK Copilot")
            .then_some(())
    });
    assert!(
        app.logs()
            .contains("http://localhost:8080/verify-email?token=t0k3n")
    );
    eventually(WAIT, "the email held", || {
        (status(&storage, &id) == EmailStatus::Held).then_some(())
    });

    // Restart with SMTP configured: the held message goes out.
    let data = app.kill_and_keep_data();
    let sink = SmtpSink::start();
    let _app = TestApp::builder()
        .data_dir(data)
        .env("WRK_SMTP_URL", sink.url())
        .spawn();
    sink.wait_for_mail("held@example.com", WAIT);
    eventually(WAIT, "the email marked sent", || {
        (status(&storage, &id) == EmailStatus::Sent).then_some(())
    });
    assert_eq!(sink.mails_to("held@example.com").len(), 1);
}

/// An ops token from a freshly created ops user (`wrk ops create-user`).
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
    let res = app.post_json(
        "ops",
        "/api/ops/auth/login",
        &serde_json::json!({"email": "ops@wrk.example", "password": password}),
    );
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn ops_see_the_outbox_and_the_jobs() {
    let app = TestApp::spawn();
    let storage = store(&app);
    let id = storage
        .control()
        .enqueue_email(&message("shown@example.com"))
        .unwrap();
    eventually(WAIT, "the email held", || {
        (status(&storage, &id) == EmailStatus::Held).then_some(())
    });
    let token = ops_token(&app);
    let get = |path: &str| -> (u16, serde_json::Value) {
        let res = app
            .request(reqwest::Method::GET, "ops", path)
            .bearer_auth(&token)
            .send()
            .unwrap();
        (res.status().as_u16(), res.json().unwrap_or_default())
    };
    let (s, outbox) = get("/api/ops/outbox?status=held");
    assert_eq!(s, 200, "{outbox}");
    let item = &outbox["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["to"], "shown@example.com");
    assert_eq!(item["status"], "held");
    // The link is named, never usable: ops see no token.
    let text = item["text"].as_str().unwrap();
    assert!(text.contains("/verify-email?token=[hidden]"), "{text}");
    assert!(!text.contains("t0k3n"), "{text}");

    let jobs = eventually(WAIT, "the send_email job done", || {
        let (s, jobs) = get("/api/ops/jobs?kind=send_email");
        assert_eq!(s, 200, "{jobs}");
        (jobs["items"][0]["status"] == "done").then_some(jobs)
    });
    assert_eq!(jobs["items"][0]["payload"]["email_id"], id.as_str());

    // Not for anyone else.
    let anon = app.get("ops", "/api/ops/outbox");
    assert_eq!(anon.status(), 401);
}
