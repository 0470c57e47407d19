//! The durable job queue across a crash: a job whose process is killed (SIGKILL) mid-run is
//! taken over after its lease by the next start, and its effect happens once.

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use wrk_tenants::jobs::JobStatus;
use wrk_tenants::outbox::{EmailStatus, OutgoingEmail};
use wrk_tests::smtp::SmtpSink;
use wrk_tests::{TestApp, eventually};

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
        .env("WRK_JOB_LEASE", lease)
        .spawn();
    let storage =
        wrk_tenants::Storage::open(wrk_tenants::StorageConfig::new(app.data_dir())).unwrap();
    let id = storage
        .control()
        .enqueue_email(&OutgoingEmail {
            to: "crash@example.com".into(),
            subject: "Once".into(),
            text: "exactly once".into(),
            html: "<p>exactly once</p>".into(),
            kind: "test".into(),
        })
        .unwrap();
    let key = format!("send_email:{id}");

    // The worker is mid-delivery (connected to the silent server) when the process dies.
    connected
        .recv_timeout(Duration::from_secs(30))
        .expect("the worker to connect to SMTP");
    let job = storage.control().job_by_key(&key).unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.attempts, 1);
    let data = app.kill_and_keep_data();

    // Next start, with a working SMTP server: the job is still leased to the dead worker, then
    // taken over when the lease runs out, and delivered once.
    let sink = SmtpSink::start();
    let _app = TestApp::builder()
        .data_dir(data)
        .env("WRK_SMTP_URL", sink.url())
        .env("WRK_JOB_LEASE", lease)
        .spawn();
    let mail = sink.wait_for_mail("crash@example.com", Duration::from_secs(60));
    assert_eq!(mail.subject, "Once");
    let job = eventually(Duration::from_secs(30), "the job done", || {
        let j = storage.control().job_by_key(&key).unwrap()?;
        (j.status == JobStatus::Done).then_some(j)
    });
    assert_eq!(job.attempts, 2);
    assert_eq!(
        storage.control().email(&id).unwrap().unwrap().status,
        EmailStatus::Sent
    );
    assert_eq!(sink.mails_to("crash@example.com").len(), 1);
}
