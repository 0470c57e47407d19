//! A stand-in for the WRK Platform's event endpoint: a real HTTP/1.1 server on a free loopback
//! port in the test process. It checks each request's `WRK-Signature` with the shared secret
//! (`wrk_core::signature::verify`, the same scheme the product signs with), keeps every event it
//! received (duplicates included, so a test can count deliveries), and answers 200, or 503 while
//! told to fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    /// Whether its signature verified with the shared secret.
    pub signed: bool,
    /// The status the receiver answered.
    pub answered: u16,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    failing: AtomicBool,
    stop: AtomicBool,
}

/// The receiver; stops when dropped.
#[derive(Debug)]
pub struct PlatformReceiver {
    port: u16,
    secret: String,
    shared: Arc<Shared>,
}

impl PlatformReceiver {
    /// Starts a receiver that verifies signatures made with `secret`.
    pub fn start(secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the platform receiver");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared::default());
        let (s, key) = (shared.clone(), secret.as_bytes().to_vec());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, key) = (s.clone(), key.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &s, &key);
                });
            }
        });
        Self {
            port,
            secret: secret.to_owned(),
            shared,
        }
    }

    /// The URL to give the server as `WRK_PLATFORM_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/events", self.port)
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Answer 503 to everything (true) or 200 again (false).
    pub fn fail(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// The events answered 200, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.body)
            .collect()
    }
}

impl Drop for PlatformReceiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, s: &Shared, key: &[u8]) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut length = 0usize;
    let mut signature = None;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "wrk-signature" => signature = Some(value),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let now = chrono::Utc::now().timestamp();
    let signed = wrk_core::signature::verify(&[key], signature.as_deref(), &body, now, 300).is_ok();
    let answered = if s.failing.load(Ordering::SeqCst) || !signed {
        503
    } else {
        200
    };
    s.received.lock().expect("lock").push(Received {
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        signed,
        answered,
    });
    let reason = if answered == 200 {
        "OK"
    } else {
        "Service Unavailable"
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {answered} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    conn.flush()
}
