//! localstripe (PyPI `localstripe`, a stateful fake Stripe server) for black-box tests, started
//! like the SMTP sink: one server per test on a free port, killed on drop.
//! [`crate::TestAppBuilder::localstripe`] points the app's Stripe provider at it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The secret key the app and the tests use (localstripe accepts any `sk_test_` key).
pub const SECRET_KEY: &str = "sk_test_wrk_blackbox";

/// A running localstripe.
pub struct LocalStripe {
    pub port: u16,
    child: Child,
}

impl std::fmt::Debug for LocalStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStripe")
            .field("port", &self.port)
            .finish()
    }
}

impl LocalStripe {
    /// Starts `python3 -m localstripe --port 0 --from-scratch` and reads its port from the
    /// banner (`======== Running on http://[::]:PORT ========`).
    pub fn start() -> Self {
        let mut child = Command::new("python3")
            .args(["-m", "localstripe", "--port", "0", "--from-scratch"])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 -m localstripe (pip install localstripe)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let port = loop {
            line.clear();
            if out.read_line(&mut line).expect("read localstripe's output") == 0 {
                let _ = child.kill();
                panic!("localstripe exited before listening (pip install localstripe)");
            }
            if let Some(rest) = line.split("]:").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .expect("a port in localstripe's banner");
            }
        };
        // Keep draining: a closed pipe would kill it at its next write.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Self { port, child }
    }

    /// `http://127.0.0.1:PORT`, for `WRK_STRIPE_API_BASE`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The PaymentIntents localstripe holds with this status (what was really charged).
    pub fn payment_intents(&self, status: &str) -> Vec<Value> {
        let body: Value = reqwest::blocking::Client::new()
            .get(format!("{}/v1/payment_intents?limit=100", self.base()))
            .bearer_auth(SECRET_KEY)
            .send()
            .expect("list payment intents")
            .json()
            .expect("a JSON list");
        body["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|pi| pi["status"] == status)
            .collect()
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
