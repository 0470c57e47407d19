//! Graceful shutdown: SIGTERM during a burst of requests. Every request that got a response got a
//! whole one, and the process exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use wrk_tests::TestApp;

#[test]
fn sigterm_during_a_burst_finishes_every_answered_request_and_exits_zero() {
    let mut app = TestApp::spawn();
    let stop = Arc::new(AtomicBool::new(false));
    let complete = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let url = app.url("", "/api/openapi.json");
            let stop = stop.clone();
            let complete = complete.clone();
            std::thread::spawn(move || {
                let http = wrk_tests::client();
                let mut broken = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match http.get(&url).send() {
                        Ok(res) => {
                            let status = res.status();
                            // A response that started must arrive whole: the body must parse.
                            match res.json::<serde_json::Value>() {
                                Ok(doc) if status == 200 && doc["openapi"] == "3.1.0" => {
                                    complete.fetch_add(1, Ordering::Relaxed);
                                }
                                other => broken.push(format!("{status}: {other:?}")),
                            }
                        }
                        // Refused or reset before a response: allowed once shutdown began.
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                broken
            })
        })
        .collect();
    wrk_tests::eventually(Duration::from_secs(20), "some requests to complete", || {
        (complete.load(Ordering::Relaxed) > 50).then_some(())
    });
    app.signal("TERM");
    let code = app.wait_exit(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    let broken: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        broken.is_empty(),
        "truncated or failed responses: {broken:?}"
    );
    assert_eq!(code, Some(0), "exit code\n{}", app.logs());
    assert!(app.logs().contains("SIGTERM received"));
}
