//! The durable job queue across a crash: a job whose process is killed (SIGKILL) mid-run is
//! taken over after its lease by the next start, and its effect happens once.

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use wrk_tests::smtp::SmtpSink;
use wrk_tests::{TestApp, Value, eventually};

const OPS_EMAIL: &str = "ops@wrk.example";
const OPS_PASSWORD: &str = "ops password for the queue";

/// An SMTP "server" that accepts connections and never says a word: a delivery to it hangs.
fn black_hole() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = tx.send(());
        }
    });
    (port, rx)
}

#[test]
fn a_job_interrupted_by_kill_9_is_retried_after_restart_and_applied_once() {
    let (hole, connected) = black_hole();
    let lease = "6";
    let app = TestApp::builder()
        .env("WRK_SMTP_URL", format!("smtp://127.0.0.1:{hole}"))
        .env("WRK_EMAIL_VERIFICATION", "true")
        .env("WRK_JOB_LEASE", lease)
        .spawn();
    // A signup queues its verification email: one send_email job.
    app.create_ops_user(OPS_EMAIL, "ops", Some(OPS_PASSWORD));
    let ops = app.ops_login(OPS_EMAIL, OPS_PASSWORD);
    app.signup("crash@example.com", "Crash");
    let emails = app.outbox_to(&ops, "crash@example.com");
    let id = emails[0]["id"].as_str().unwrap().to_owned();
    let key = format!("send_email:{id}");
    let job = |app: &TestApp, ops: &str| -> Option<Value> {
        app.jobs_of_kind(ops, "send_email")
            .into_iter()
            .find(|j| j["unique_key"] == key.as_str())
    };

    // The worker is mid-delivery (connected to the silent server) when the process dies.
    connected
        .recv_timeout(Duration::from_secs(30))
        .expect("the worker to connect to SMTP");
    let running = job(&app, &ops).expect("the job");
    assert_eq!(
        (&running["status"], &running["attempts"]),
        (&Value::from("running"), &Value::from(1)),
        "{running}"
    );
    let data = app.kill_and_keep_data();

    // Next start, with a working SMTP server: the job is still leased to the dead worker, then
    // taken over when the lease runs out, and delivered once.
    let sink = SmtpSink::start();
    let app = TestApp::builder()
        .data_dir(data)
        .env("WRK_SMTP_URL", sink.url())
        .env("WRK_JOB_LEASE", lease)
        .spawn();
    let ops = app.ops_login(OPS_EMAIL, OPS_PASSWORD);
    let mail = sink.wait_for_mail("crash@example.com", Duration::from_secs(60));
    assert_eq!(mail.subject, "Verify your email address for WRK Copilot");
    let done = eventually(Duration::from_secs(30), "the job done", || {
        job(&app, &ops).filter(|j| j["status"] == "done")
    });
    assert_eq!(done["attempts"], 2, "{done}");
    let email = &app.outbox_to(&ops, "crash@example.com")[0];
    assert_eq!(email["status"], "sent", "{email}");
    assert_eq!(sink.mails_to("crash@example.com").len(), 1);
}
