//! Email: the outbox delivers through a real SMTP server (aiosmtpd), retries while the server is
//! down, and with no SMTP configured keeps the message (`held`) and logs it with its links.
//! The messages are real ones (a signup's verification email); their state is read from the ops
//! outbox and job queue.

use std::time::Duration;

use wrk_tests::smtp::{SmtpSink, links, query_param};
use wrk_tests::{TestApp, TestAppBuilder, Value, eventually, json};

const WAIT: Duration = Duration::from_secs(30);
const SUBJECT: &str = "Verify your email address for WRK Copilot";
const OPS_EMAIL: &str = "ops@wrk.example";
const OPS_PASSWORD: &str = "ops password for the outbox";

/// A server that mails a verification link on signup.
fn verifying() -> TestAppBuilder {
    TestApp::builder().env("WRK_EMAIL_VERIFICATION", "true")
}

/// An ops user with a known password (it outlives a restart on the same data dir).
fn ops(app: &TestApp) -> String {
    app.create_ops_user(OPS_EMAIL, "ops", Some(OPS_PASSWORD));
    app.ops_login(OPS_EMAIL, OPS_PASSWORD)
}

/// Signs `to` up, which queues one verification email; returns its id in the outbox.
fn signup_mail(app: &TestApp, ops: &str, to: &str) -> String {
    app.signup(to, "Ada");
    email(app, ops, to)["id"].as_str().unwrap().to_owned()
}

/// The one email to `to`, as the ops outbox shows it.
fn email(app: &TestApp, ops: &str, to: &str) -> Value {
    let items = app.outbox_to(ops, to);
    assert_eq!(items.len(), 1, "{items:?}");
    items[0].clone()
}

fn wait_status(app: &TestApp, ops: &str, to: &str, status: &str) -> Value {
    eventually(WAIT, &format!("the email {status}"), || {
        let e = email(app, ops, to);
        (e["status"] == status).then_some(e)
    })
}

/// The token of the verification link the server logged for `to` (no SMTP: the log is the
/// mailbox).
fn logged_token(app: &TestApp, to: &str) -> String {
    let logs = app.logs();
    let from = logs
        .find(&format!("email to {to}: {SUBJECT}"))
        .expect("the email logged");
    let at = logs[from..].find("/verify-email?token=").expect("its link") + from;
    logs[at + "/verify-email?token=".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
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

#[test]
fn an_enqueued_email_arrives_with_text_and_html_parts() {
    let app = verifying()
        .mailbox()
        .env("WRK_EMAIL_FROM", "WRK Test <robot@wrk.test>")
        .spawn();
    let ops = ops(&app);
    let id = signup_mail(&app, &ops, "ada@example.com");

    let sink = app.mailbox();
    let mail = sink.wait_for_mail("ada@example.com", WAIT);
    assert_eq!(mail.subject, SUBJECT);
    assert_eq!(mail.from, "WRK Test <robot@wrk.test>");
    assert!(mail.text.as_deref().unwrap().contains("Hi Ada,"));
    assert!(mail.html.as_deref().unwrap().contains("Hi Ada,</p>"));
    assert!(mail.message_id.contains(&id), "{}", mail.message_id);
    let link = &links(&mail)[0];
    assert!(link.contains("/verify-email?token="), "{link}");
    let token = query_param(link, "token").expect("a token");
    let (s, b) = app.post_anon("", "/api/auth/verify-email", json!({"token": token}));
    assert_eq!(s, 200, "the mailed link works: {b}");

    let record = wait_status(&app, &ops, "ada@example.com", "sent");
    assert!(!record["sent_at"].is_null(), "{record}");
    assert_eq!(sink.mails_to("ada@example.com").len(), 1);
}

#[test]
fn with_smtp_down_the_email_is_retried_and_arrives_once_the_server_is_up() {
    // A server that is down: the port is ours (no other test can take it), and every connection
    // is closed at once.
    let down = Down::start();
    let port = down.port;
    let app = verifying()
        .env("WRK_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .spawn();
    let ops = ops(&app);
    let id = signup_mail(&app, &ops, "retry@example.com");

    // The first attempt fails and is recorded; the message stays queued for a retry.
    let failed = eventually(WAIT, "a failed delivery attempt", || {
        let e = email(&app, &ops, "retry@example.com");
        (!e["last_error"].is_null()).then_some(e)
    });
    assert_eq!(failed["status"], "queued", "{failed}");
    // The job records the failure right after the email does, and waits for its retry.
    let key = format!("send_email:{id}");
    let job = eventually(WAIT, "the job's failed attempt", || {
        app.jobs_of_kind(&ops, "send_email")
            .into_iter()
            .find(|j| j["unique_key"] == key.as_str() && !j["last_error"].is_null())
    });
    assert_ne!(job["status"], "failed", "{job}");

    drop(down);
    let sink = SmtpSink::start_on(port);
    let mail = sink.wait_for_mail("retry@example.com", WAIT);
    assert!(mail.text.is_some() && mail.html.is_some());
    wait_status(&app, &ops, "retry@example.com", "sent");
    assert_eq!(sink.mails_to("retry@example.com").len(), 1);
}

#[test]
fn without_smtp_the_email_is_held_and_logged_then_sent_by_a_start_with_smtp() {
    let app = verifying().spawn();
    let ops = ops(&app);
    signup_mail(&app, &ops, "held@example.com");
    eventually(WAIT, "the email logged", || {
        app.logs()
            .contains(&format!("email to held@example.com: {SUBJECT}"))
            .then_some(())
    });
    let logged = logged_token(&app, "held@example.com");
    assert!(!logged.is_empty());
    wait_status(&app, &ops, "held@example.com", "held");

    // Restart with SMTP configured: the held message goes out, with the link that was logged.
    let data = app.kill_and_keep_data();
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .data_dir(data)
        .env("WRK_SMTP_URL", sink.url())
        .spawn();
    let mail = sink.wait_for_mail("held@example.com", WAIT);
    assert_eq!(
        query_param(&links(&mail)[0], "token").as_deref(),
        Some(logged.as_str())
    );
    let ops = app.ops_login(OPS_EMAIL, OPS_PASSWORD);
    wait_status(&app, &ops, "held@example.com", "sent");
    assert_eq!(sink.mails_to("held@example.com").len(), 1);
}

#[test]
fn ops_see_the_outbox_and_the_jobs() {
    let app = verifying().spawn();
    let token = ops(&app);
    let id = signup_mail(&app, &token, "shown@example.com");
    wait_status(&app, &token, "shown@example.com", "held");
    let real = logged_token(&app, "shown@example.com");
    let get = |path: &str| app.get_as("ops", path, &token);
    let (s, outbox) = get("/api/ops/outbox?status=held");
    assert_eq!(s, 200, "{outbox}");
    let item = &outbox["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["to"], "shown@example.com");
    assert_eq!(item["status"], "held");
    // The link is named, never usable: ops see no token.
    let text = item["text"].as_str().unwrap();
    assert!(text.contains("/verify-email?token=[hidden]"), "{text}");
    assert!(!text.contains(&real), "{text}");

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
