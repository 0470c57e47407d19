//! Routing by host, health, metrics, OpenAPI, request ids, body limits, security headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wrk_tests::{Method, StatusCode, TestApp, Value, json};

fn problem(res: wrk_tests::Response) -> (StatusCode, String, Value) {
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.json().unwrap_or(Value::Null))
}

#[test]
fn health_and_readiness_answer_on_every_host() {
    let app = TestApp::spawn();
    for host in ["", "ops"] {
        let r = app.get(host, "/healthz");
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().unwrap(), "ok");
        assert_eq!(app.get(host, "/readyz").status(), 200);
    }
}

#[test]
fn an_unknown_workspace_is_a_404_problem_for_api_clients() {
    let app = TestApp::spawn();
    let (status, ct, body) = problem(app.get("nope", "/api/automations"));
    assert_eq!(status, 404);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
}

#[test]
fn an_unknown_workspace_is_a_404_page_for_browsers() {
    let app = TestApp::spawn();
    let r = app
        .request(Method::GET, "nope", "/app")
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().unwrap();
    assert!(html.contains("Workspace not found"), "{html}");
}

#[test]
fn a_workspace_host_routes_to_its_workspace_whatever_the_port() {
    let dir = tempfile::tempdir().unwrap();
    wrk_tests::seed_workspace(dir.path(), "acme", "Acme Inc");
    let app = TestApp::builder().data_dir(dir).spawn();
    let r = app.get("acme", "/");
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "workspace root redirects into the app"
    );
    assert_eq!(r.headers()["location"], "/app");
    let r = app
        .request(Method::GET, "acme", "/app")
        .header("accept", "text/html")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // The host name decides, not the port: a Host header naming another port still reaches acme.
    let r = app
        .request(Method::GET, "acme", "/app")
        .header("host", "acme.localhost:1")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // A reserved or malformed label is never a workspace.
    assert_eq!(app.get("www", "/app").status(), 404);
    assert_eq!(app.get("a_b", "/app").status(), 404);
}

#[test]
fn the_apex_serves_the_landing_page_and_ops_its_console() {
    let app = TestApp::spawn();
    let r = app.get("", "/");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().unwrap().contains("WRK Copilot"));
    assert_eq!(app.get("ops", "/").headers()["location"], "/ops");
    assert_eq!(app.get("ops", "/ops").status(), 200);
}

#[test]
fn a_host_outside_the_base_domain_is_not_served() {
    let app = TestApp::spawn();
    let r = app
        .request(Method::GET, "", "/")
        .header("host", "evil.example:80")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn forwarded_host_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    wrk_tests::seed_workspace(dir.path(), "acme", "Acme");
    let app = TestApp::builder().data_dir(dir).spawn();
    // Asks for the apex but claims to be forwarded for acme: loopback is not a trusted proxy.
    let r = app
        .request(Method::GET, "", "/app")
        .header("x-forwarded-host", app.host("acme"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn forwarded_host_from_a_trusted_proxy_picks_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    wrk_tests::seed_workspace(dir.path(), "acme", "Acme");
    let app = TestApp::builder()
        .data_dir(dir)
        .env("WRK_TRUSTED_PROXIES", "127.0.0.1")
        .spawn();
    let r = app
        .request(Method::GET, "", "/app")
        .header("x-forwarded-host", app.host("acme"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn the_openapi_document_is_openapi_3_1_on_every_host() {
    let dir = tempfile::tempdir().unwrap();
    wrk_tests::seed_workspace(dir.path(), "acme", "Acme");
    let app = TestApp::builder().data_dir(dir).spawn();
    for host in ["", "ops", "acme"] {
        let r = app.get(host, "/api/openapi.json");
        assert_eq!(r.status(), 200, "{host}");
        let doc: Value = r.json().unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(
            doc["info"]["title"]
                .as_str()
                .unwrap()
                .contains("WRK Copilot")
        );
        for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
            assert!(
                doc["paths"][path]["get"].is_object(),
                "{host}: {path} missing"
            );
        }
        assert!(doc["components"]["schemas"]["Problem"].is_object());
    }
}

#[test]
fn metrics_are_prometheus_text_with_request_and_tenant_series() {
    let app = TestApp::spawn();
    app.get("", "/healthz");
    app.get("nope", "/api/x");
    let r = app.get("", "/metrics");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().unwrap();
    for needle in [
        "# TYPE wrk_http_requests counter",
        "wrk_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}",
        "# TYPE wrk_http_request_duration_seconds histogram",
        "# TYPE wrk_tenant_pools_open gauge",
        "# TYPE wrk_job_queue_depth gauge",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    // Every sample line is `name{labels} value` or `name value`.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line}");
    }
}

#[test]
fn request_ids_are_echoed_or_minted() {
    let app = TestApp::spawn();
    let r = app
        .request(Method::GET, "", "/healthz")
        .header("x-request-id", "my-trace-42")
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "my-trace-42");
    let minted = app.get("", "/healthz").headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(minted.len(), 36, "a UUID: {minted}");
    assert_eq!(&minted[14..15], "7", "a UUID v7: {minted}");
    // An id with characters that could forge log lines is replaced, not echoed.
    let r = app
        .request(Method::GET, "", "/healthz")
        .header("x-request-id", "evil id\"}")
        .send()
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "evil id\"}");
}

#[test]
fn pages_and_responses_carry_strict_security_headers() {
    let app = TestApp::spawn();
    let r = app.get("", "/");
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
}

#[test]
fn assets_have_types_etags_and_revalidate_with_304() {
    let app = TestApp::spawn();
    let r = app.get("", "/assets/css/wrk.css");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = app
        .request(Method::GET, "", "/assets/css/wrk.css")
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(app.get("", "/assets/nope.css").status(), 404);
    assert_eq!(app.get("", "/assets/../Cargo.toml").status(), 404);
}

#[test]
fn large_responses_are_compressed_when_asked() {
    let app = TestApp::spawn();
    let r = app
        .request(Method::GET, "", "/assets/css/wrk.css")
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

/// Sends raw bytes and returns what the server answered before closing or `timeout`.
fn raw_exchange(app: &TestApp, request: &[u8], timeout: Duration) -> String {
    let mut s = TcpStream::connect(app.addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn an_oversized_body_is_refused_from_content_length_before_it_is_sent() {
    let app = TestApp::spawn();
    // Claims 100 MiB and sends none of it: the answer must come anyway, at once.
    let req = format!(
        "POST /api/auth/signup HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n",
        app.host("")
    );
    let answer = raw_exchange(&app, req.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
}

#[test]
fn malformed_requests_get_4xx_never_5xx() {
    let app = TestApp::spawn();
    let huge_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nX-Big: {}\r\n\r\n",
        app.host(""),
        "a".repeat(200 * 1024)
    );
    let answer = raw_exchange(&app, huge_header.as_bytes(), Duration::from_secs(5));
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "giant header: {answer}"
    );
    let bad_utf8 = b"GET /assets/\xff\xfe HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let answer = raw_exchange(&app, bad_utf8, Duration::from_secs(5));
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
    let r = app
        .request(Method::POST, "", "/api/nothing-here")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert!(r.status().is_client_error());
    // The server is still there.
    assert_eq!(app.get("", "/healthz").status(), 200);
    let _ = json!({});
}
