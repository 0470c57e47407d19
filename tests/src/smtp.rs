//! A real SMTP server for tests: `tests/support/smtp_sink.py` (Python, aiosmtpd; install with
//! `pip install aiosmtpd`). Every message it receives is saved as `.eml` plus a decoded `.json`
//! summary in a temp dir; [`SmtpSink::wait_for_mail`] polls that dir.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// One received message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    /// The text/plain part (None if the message had none).
    pub text: Option<String>,
    /// The text/html part (None if the message had none).
    pub html: Option<String>,
    /// The `.eml` file with the raw message.
    pub eml: PathBuf,
}

/// A running sink; killed on drop.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("port", &self.port)
            .finish()
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py")
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// Starts a sink on `port` (0 = any free port).
    pub fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new("python3")
            .arg(script())
            .arg("--dir")
            .arg(dir.path())
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/support/smtp_sink.py (is python3 installed?)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("read the sink's port");
        // Keep draining: a closed pipe would kill the child at its next write.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("smtp_sink.py did not print its port (is aiosmtpd installed? pip install aiosmtpd); got {line:?}")
        });
        Self { port, dir, child }
    }

    /// `smtp://127.0.0.1:PORT`, for `WRK_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in arrival order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| {
                let v: Value = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                Some(Mail {
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    to: s("to"),
                    from: s("from"),
                    subject: s("subject"),
                    message_id: s("message_id"),
                    text: v["text"].as_str().map(str::to_owned),
                    html: v["html"].as_str().map(str::to_owned),
                    eml: p.with_extension("eml"),
                })
            })
            .collect()
    }

    /// Messages whose envelope recipient is `to` (case-insensitive).
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits for the first message to `to`; panics after `timeout`.
    pub fn wait_for_mail(&self, to: &str, timeout: Duration) -> Mail {
        crate::eventually(timeout, &format!("an email to {to}"), || {
            self.mails_to(to).into_iter().next()
        })
    }

    /// The `token` query parameter of a link to `path` (e.g. `/verify-email`) in the newest
    /// message to `to` that has one; waits up to `timeout` for it.
    pub fn token(&self, to: &str, path: &str, timeout: Duration) -> String {
        crate::eventually(
            timeout,
            &format!("a mail to {to} with a {path} link"),
            || {
                self.mails_to(to).iter().rev().find_map(|m| {
                    links(m).iter().find_map(|l| {
                        let (_, rest) = l.split_once("://")?;
                        let at = rest.find('/')?;
                        rest[at..]
                            .starts_with(&format!("{path}?"))
                            .then(|| query_param(l, "token"))
                            .flatten()
                    })
                })
            },
        )
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The http(s) links in a message's text part (or its HTML part when it has no text).
pub fn links(mail: &Mail) -> Vec<String> {
    let body = mail
        .text
        .as_deref()
        .or(mail.html.as_deref())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("http://").or_else(|| rest.find("https://")) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\'' | ')'))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',']);
        if !out.iter().any(|l| l == link) {
            out.push(link.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

/// A token from a link's query string (`?token=...`).
pub fn query_param(link: &str, name: &str) -> Option<String> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_text() {
        let mail = Mail {
            rcpt_tos: vec![],
            to: String::new(),
            from: String::new(),
            subject: String::new(),
            message_id: String::new(),
            text: Some(
                "Open:\nhttp://localhost:1/verify-email?token=abc\n\nor https://x.test/a.".into(),
            ),
            html: None,
            eml: PathBuf::new(),
        };
        assert_eq!(
            links(&mail),
            vec![
                "http://localhost:1/verify-email?token=abc",
                "https://x.test/a"
            ]
        );
        assert_eq!(
            query_param(&links(&mail)[0], "token").as_deref(),
            Some("abc")
        );
    }
}
