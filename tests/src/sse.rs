//! A server-sent-events client for tests: opens `GET /api/events` (or `/api/ops/events`) like an
//! `EventSource` does, reads the stream on a thread of its own and hands over each event as it
//! arrives, with the comment lines (heartbeats) counted.

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::TestApp;

/// One received event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
    /// When it arrived.
    pub at: Instant,
}

/// An open stream; dropping it closes the connection (its reader thread ends with it).
pub struct EventStream {
    rx: Receiver<SseEvent>,
    comments: Arc<AtomicUsize>,
    pub content_type: String,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

/// Opens `path` on `host` with `token` (and `Last-Event-ID` when given). A refusal is returned
/// with its status and problem document.
pub fn open(
    app: &TestApp,
    host: &str,
    path: &str,
    token: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<EventStream, (StatusCode, Value)> {
    // No total timeout: a stream stays open as long as the test holds it.
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client");
    let mut req = client
        .get(format!("http://127.0.0.1:{}{path}", app.port()))
        .header("host", app.host(host))
        .header("accept", "text/event-stream");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = req.send().expect("open the event stream");
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if status != StatusCode::OK {
        return Err((status, res.json().unwrap_or(Value::Null)));
    }
    let (tx, rx) = channel();
    let comments = Arc::new(AtomicUsize::new(0));
    let seen = comments.clone();
    std::thread::spawn(move || {
        let reader = BufReader::new(res);
        let (mut id, mut event, mut data) = (None, String::new(), String::new());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if !data.is_empty() {
                    let parsed = serde_json::from_str(&data).unwrap_or(Value::String(data.clone()));
                    let e = SseEvent {
                        id: id.take(),
                        event: std::mem::take(&mut event),
                        data: parsed,
                        at: Instant::now(),
                    };
                    if tx.send(e).is_err() {
                        return;
                    }
                }
                data.clear();
                event.clear();
                continue;
            }
            if line.starts_with(':') {
                seen.fetch_add(1, Ordering::SeqCst);
            } else if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim_start().to_owned());
            } else if let Some(v) = line.strip_prefix("event:") {
                v.trim_start().clone_into(&mut event);
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
    });
    Ok(EventStream {
        rx,
        comments,
        content_type,
    })
}

impl EventStream {
    /// The next event within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<SseEvent> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next event of kind `kind` within `timeout` (others are skipped).
    pub fn next_of(&self, kind: &str, timeout: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self.next(left)?;
            if e.event == kind {
                return Some(e);
            }
        }
    }

    /// Every event that arrives within `timeout`.
    pub fn drain(&self, timeout: Duration) -> Vec<SseEvent> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while let Some(e) = self.next(deadline.saturating_duration_since(Instant::now())) {
            out.push(e);
        }
        out
    }

    /// Comment lines received so far (the greeting and heartbeats).
    pub fn comments(&self) -> usize {
        self.comments.load(Ordering::SeqCst)
    }
}
