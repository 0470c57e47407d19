//! Security limits, through raw sockets and the real binary: a body or headers that stall are
//! cut off in bounded time, one client IP cannot hold more than its share of connections,
//! made-up methods and paths add no metrics series, and a blueprint too deep or too large for
//! validation is refused at input.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use wrk_tests::{Method, TestApp, Value, blueprint, eventually, json, version_path};

/// How long any single read in these tests may block: far above every configured limit.
const READ_BOUND: Duration = Duration::from_secs(20);

fn connect(app: &TestApp) -> TcpStream {
    let s = TcpStream::connect(app.addr).expect("connect");
    s.set_read_timeout(Some(READ_BOUND)).unwrap();
    s
}

/// A connection from the loopback address `from` (127.0.0.x), so per-IP counts start at zero
/// whatever other clients of the test hold.
fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = app.addr;
    let s = rt
        .block_on(async move {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(IpAddr::from(from), 0))?;
            socket.connect(addr).await
        })
        .expect("connect from a second loopback address");
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(READ_BOUND)).unwrap();
    s
}

/// Reads until the server closes the connection (or errors, e.g. a reset); returns what came.
fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "the server kept the connection open for {READ_BOUND:?}; got {:?}",
                    String::from_utf8_lossy(&out)
                )
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends a keep-alive `GET /healthz` and reads its response head and body.
fn healthz(s: &mut TcpStream, port: u16) -> std::io::Result<String> {
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: keep-alive\r\n\r\n"
    )?;
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&out).contains("\r\n\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn stalled_post_head(port: u16) -> String {
    format!(
        "POST /api/auth/signup HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
}

#[test]
fn a_body_that_stalls_after_its_headers_gets_408_and_the_connection_closes() {
    let app = TestApp::builder().env("WRK_BODY_TIMEOUT", "2").spawn();
    let port = app.port();

    // Headers, a few bytes of body, then nothing.
    let mut s = connect(&app);
    let start = Instant::now();
    s.write_all(stalled_post_head(port).as_bytes()).unwrap();
    s.write_all(br#"{"email":"#).unwrap();
    let answer = read_to_close(&mut s);
    let took = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(
        took >= Duration::from_millis(1900),
        "cut off before the timeout: {took:?}"
    );

    // Dripping the body in a byte at a time does not reset the clock.
    let mut s = connect(&app);
    let start = Instant::now();
    s.write_all(stalled_post_head(port).as_bytes()).unwrap();
    let mut answer = String::new();
    for b in b"{\"email\":\"slow@example.com\",\"password\":\"xxxxxxxxxxxxxxxxxxxxxx\"".iter() {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        if start.elapsed() > READ_BOUND {
            break;
        }
        // Stop dripping once the server has answered.
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 4096];
        let got = s.read(&mut buf);
        s.set_nonblocking(false).unwrap();
        if let Ok(n) = got {
            answer.push_str(&String::from_utf8_lossy(&buf[..n]));
            break;
        }
    }
    answer.push_str(&read_to_close(&mut s));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "a dripping body was let through for {:?}",
        start.elapsed()
    );

    // A large body arriving steadily (64 KiB/s, 3+ s in all) earns more time and is read whole.
    let chunk = vec![b' '; 16 * 1024];
    let body_len = 13 * chunk.len() + 2;
    let mut s = connect(&app);
    let start = Instant::now();
    write!(
        s,
        "POST /api/auth/signup HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n{{"
    )
    .unwrap();
    for _ in 0..13 {
        s.write_all(&chunk).unwrap();
        std::thread::sleep(Duration::from_millis(250));
    }
    s.write_all(b"}").unwrap();
    let answer = read_to_close(&mut s);
    assert!(start.elapsed() > Duration::from_secs(3));
    assert!(
        answer.starts_with("HTTP/1.1 4") && !answer.starts_with("HTTP/1.1 408"),
        "a steady body was cut off: {answer}"
    );
    assert!(!answer.contains("request_timeout"), "{answer}");

    // A body that arrives in time is served as usual.
    let res = app.post_json(
        "",
        "/api/auth/signup",
        &json!({"email": "quick@example.com", "password": "correct horse battery staple", "name": "Q"}),
    );
    assert_eq!(res.status(), 201);
}

#[test]
fn headers_that_stall_are_cut_off() {
    let app = TestApp::builder().env("WRK_HEADER_TIMEOUT", "2").spawn();
    let mut s = connect(&app);
    let start = Instant::now();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc").unwrap();
    let answer = read_to_close(&mut s);
    assert!(
        !answer.contains("200 OK"),
        "half a request was served: {answer}"
    );
    assert!(start.elapsed() >= Duration::from_millis(1900), "{answer}");
}

#[test]
fn one_ip_cannot_hold_more_than_its_connections() {
    let app = TestApp::builder()
        .env("WRK_MAX_CONNECTIONS_PER_IP", "3")
        .spawn();
    let port = app.port();
    let from = [127, 0, 0, 2];
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = connect_from(&app, from);
            let head = healthz(&mut s, port).expect("served within the cap");
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s
        })
        .collect();

    // One more from the same IP is closed without an answer.
    let mut extra = connect_from(&app, from);
    let refused = healthz(&mut extra, port);
    assert!(refused.is_err(), "a 4th connection was served: {refused:?}");

    // Another IP is not affected, and the held connections still work.
    let mut other = connect_from(&app, [127, 0, 0, 3]);
    assert!(
        healthz(&mut other, port)
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    assert!(
        healthz(&mut held[0], port)
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );

    // Closing one frees its place (once the server has seen the close).
    drop(held.pop());
    eventually(Duration::from_secs(10), "a freed connection slot", || {
        let mut s = connect_from(&app, from);
        healthz(&mut s, port).ok().map(|_| s)
    });
}

#[test]
fn a_trusted_proxy_is_not_held_to_the_per_ip_cap() {
    // The proxy speaks for many clients: its connections are not counted against one IP.
    let app = TestApp::builder()
        .env("WRK_MAX_CONNECTIONS_PER_IP", "2")
        .env("WRK_TRUSTED_PROXIES", "127.0.0.4")
        .spawn();
    let port = app.port();
    let held: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = connect_from(&app, [127, 0, 0, 4]);
            let head = healthz(&mut s, port).expect("a trusted proxy is served past the cap");
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s
        })
        .collect();
    assert_eq!(held.len(), 5);
    // Any other IP still is.
    let mut a = connect_from(&app, [127, 0, 0, 5]);
    let mut b = connect_from(&app, [127, 0, 0, 5]);
    assert!(healthz(&mut a, port).is_ok() && healthz(&mut b, port).is_ok());
    let mut extra = connect_from(&app, [127, 0, 0, 5]);
    assert!(
        healthz(&mut extra, port).is_err(),
        "a 3rd connection was served"
    );
}

#[test]
fn made_up_methods_and_paths_add_no_metrics_series() {
    let app = TestApp::spawn();
    let series = |app: &TestApp| -> Vec<String> {
        app.get("", "/metrics")
            .text()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("wrk_http_request"))
            .map(|l| l.rsplit_once(' ').map_or(l, |(k, _)| k).to_owned())
            .collect()
    };
    // Warm up every series the junk below may legitimately land in (and /metrics itself).
    for i in 0..2 {
        let m = Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        app.request(m.clone(), "", "/healthz").send().unwrap();
        app.request(m, "", &format!("/api/x{i}")).send().unwrap();
        app.get("", &format!("/no/such/{i}"));
        app.get("", &format!("/api/no-such-{i}"));
    }
    series(&app);
    let before = series(&app);
    for i in 0..40 {
        let m = Method::from_bytes(format!("FOO{}", 1000 + i).as_bytes()).unwrap();
        app.request(m.clone(), "", "/healthz").send().unwrap();
        app.request(m, "", &format!("/api/x{i}")).send().unwrap();
        app.get("", &format!("/no/such/{}", 1000 + i));
        app.get("", &format!("/api/no-such-{}", 1000 + i));
    }
    let after = series(&app);
    let new: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    assert!(new.is_empty(), "new series: {new:#?}");
    let text = after.join("\n");
    assert!(!text.contains("FOO"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(
        !text.contains("no-such") && !text.contains("/no/such"),
        "{text}"
    );
}

fn nested(levels: usize, leaf: Value) -> Value {
    let mut v = leaf;
    for _ in 1..levels {
        v = json!({ "more": v });
    }
    v
}

#[test]
fn a_blueprint_too_deep_or_too_large_is_refused_and_a_reasonable_one_is_validated() {
    let app = TestApp::spawn_open();
    let token = app.owner_named("o@example.com", "acme", "Acme").token;
    let id = app.create_automation("acme", &token, "Deep");
    let path = version_path(&id);
    let put = |bp: Value| {
        let (_, v) = app.get_as("acme", &path, &token);
        app.put_as(
            "acme",
            &format!("{path}/blueprint"),
            &token,
            json!({"blueprint": bp, "revision": v["revision"]}),
        )
    };
    let reasonable = |extra: Value| {
        let mut bp = blueprint(2500);
        bp["extra"] = extra;
        bp
    };

    // 126 levels: what used to be accepted and then never validated.
    let (s, body) = put(reasonable(nested(125, json!({}))));
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["code"], "validation_failed", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("levels deep"),
        "{body}"
    );
    // Just over the bound (33 in all).
    let (s, body) = put(reasonable(nested(32, json!({}))));
    assert_eq!(s, 422, "{body}");

    // Too large.
    let (s, body) = put(reasonable(json!("x".repeat(300 * 1024))));
    assert_eq!(s, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("bytes"), "{body}");

    // At the bound (32 deep in all), and a good deal of text: saved, and really validated.
    let (s, v) = put(reasonable(nested(
        31,
        json!({"note": "x".repeat(100 * 1024)}),
    )));
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.get_as("acme", &path, &token);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["blueprint"]["trigger"]["system"], "Gmail", "{v}");
    let text = v.to_string();
    assert!(!text.contains("recursion limit"), "{text}");
    let (s, moved) = app.transition("acme", &token, &id, "needs_pricing");
    assert_eq!(s, 200, "the validated blueprint moves on: {moved}");
}

#[test]
fn an_error_to_a_request_with_a_body_closes_the_connection_and_a_success_keeps_it_open() {
    let app = TestApp::spawn_open();
    // Refused before the body matters: the answer says the connection ends with it, so a client
    // never sends its next request into a socket the server is closing.
    let refused = app
        .request(Method::POST, "", "/api/auth/login")
        .json(&json!({"email": "nobody@example.com", "password": "x".repeat(200_000)}))
        .send()
        .unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(refused.headers()["connection"], "close");

    let created = app
        .request(Method::POST, "", "/api/auth/signup")
        .json(&json!({"email": "ada@example.com", "password": wrk_tests::PASSWORD, "name": "Ada"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(created.headers().get("connection").is_none());

    // A bodiless error keeps the connection too.
    let missing = app
        .request(Method::GET, "", "/api/no-such-route")
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("connection").is_none());
}
