//! How the server serves: TLS through rustls, and JSON logs.

use std::time::Duration;

use wrk_tests::{TestApp, Value};

#[test]
fn with_a_certificate_and_key_the_server_speaks_https() {
    let certs = tempfile::tempdir().unwrap();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "acme.localhost".into()])
        .unwrap();
    let cert_path = certs.path().join("cert.pem");
    let key_path = certs.path().join("key.pem");
    std::fs::write(&cert_path, key.cert.pem()).unwrap();
    std::fs::write(&key_path, key.signing_key.serialize_pem()).unwrap();

    let data = tempfile::tempdir().unwrap();
    // The harness waits on plain-HTTP /readyz, so start by hand and poll over HTTPS.
    let mut child = std::process::Command::new(wrk_tests::wrk_bin())
        .arg("serve")
        .env_clear()
        .env("WRK_LISTEN", "127.0.0.1:0")
        .env("WRK_BASE_DOMAIN", "localhost:0")
        .env("WRK_DATA_DIR", data.path())
        .env("WRK_TLS_CERT", &cert_path)
        .env("WRK_TLS_KEY", &key_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr =
        wrk_tests::eventually(Duration::from_secs(30), "listen.addr", || {
            std::fs::read_to_string(data.path().join("listen.addr"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        });
    let http = reqwest::blocking::Client::builder()
        .resolve("localhost", addr)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/readyz", addr.port());
    let res = wrk_tests::eventually(Duration::from_secs(30), "HTTPS /readyz", || {
        http.get(&url).send().ok()
    });
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("strict-transport-security"));
    assert_eq!(res.text().unwrap(), "ok");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = wrk_tests::client()
        .get(format!("http://127.0.0.1:{}/readyz", addr.port()))
        .send();
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let app = TestApp::builder().env("WRK_LOG_FORMAT", "json").spawn();
    app.get("", "/healthz");
    let logs = app.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
}

#[test]
fn an_unknown_wrk_variable_is_warned_about() {
    let app = TestApp::builder().env("WRK_LSTEN", "oops").spawn();
    assert!(app.logs().contains("WRK_LSTEN"), "{}", app.logs());
}
