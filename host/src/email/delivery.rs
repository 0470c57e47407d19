//! SMTP delivery with lettre (tokio + rustls), and the `send_email` job handler.
//!
//! `WRK_SMTP_URL` follows lettre's URL form: `smtp://host:port` (plain, no auth — a local relay
//! or a test sink), `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host`
//! (implicit TLS). Without it the outbox is kept: each message is logged (with its links, so a
//! fresh install works end to end) and stays `held`, to be sent by a later start that has SMTP.

use std::time::Duration;

use chrono::Utc;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use wrk_tenants::outbox::{EmailRecord, EmailStatus};

use crate::blocking;
use crate::config::Config;
use crate::jobs::{JobContext, JobError};

/// Longest one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP client, or nothing when no server is configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// Host part for Message-IDs.
    domain: String,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials: never printed.
        f.debug_struct("Mailer")
            .field("configured", &self.transport.is_some())
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Why a message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The server refused for good (5xx) or the message is malformed.
    #[error("{0}")]
    Permanent(String),
    /// Connection trouble, timeouts, 4xx: try again later.
    #[error("{0}")]
    Transient(String),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.email_from.parse().map_err(|e| {
            anyhow::anyhow!(
                "WRK_EMAIL_FROM must be a mailbox like 'WRK <no-reply@example.com>': {e}"
            )
        })?;
        let domain = from.email.domain().to_owned();
        // Shorter than the job lease, so a hung server fails the attempt before the lease ends.
        let timeout = SMTP_TIMEOUT.min(Duration::from_secs((config.job_lease * 3 / 5).max(1)));
        let transport = match config.smtp_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    // lettre's message may echo the URL; keep credentials out of the error.
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "WRK_SMTP_URL is not a valid SMTP URL ({})",
                            redact_err(&e.to_string(), url)
                        )
                    })?
                    .timeout(Some(timeout))
                    .build(),
            ),
        };
        Ok(Self {
            transport,
            from,
            domain,
            timeout,
        })
    }

    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Builds the MIME message: multipart/alternative with the text and HTML bodies. The
    /// Message-ID derives from the outbox id, so a rare duplicate after a crash is recognisable.
    pub fn build(&self, email: &EmailRecord) -> Result<Message, DeliveryError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| DeliveryError::Permanent(format!("invalid recipient: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{}@{}>", email.id, self.domain)))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the message: {e}")))
    }

    /// Sends one message. Ok(false) when no SMTP server is configured (nothing was sent).
    pub async fn send(&self, email: &EmailRecord) -> Result<bool, DeliveryError> {
        let Some(transport) = &self.transport else {
            return Ok(false);
        };
        let message = self.build(email)?;
        match tokio::time::timeout(
            self.timeout + Duration::from_secs(5),
            transport.send(message),
        )
        .await
        {
            Err(_) => Err(DeliveryError::Transient("SMTP timed out".into())),
            Ok(Ok(_)) => Ok(true),
            Ok(Err(e)) if e.is_permanent() => Err(DeliveryError::Permanent(format!("SMTP: {e}"))),
            Ok(Err(e)) => Err(DeliveryError::Transient(format!("SMTP: {e}"))),
        }
    }
}

fn redact_err(message: &str, url: &str) -> String {
    message.replace(url, "<url>")
}

/// The `send_email` job: delivers one outbox message. Idempotent: a message already `sent` is
/// not sent again (the only duplicate left is a crash between the server's acceptance and the
/// `sent` mark — at-least-once delivery, with a stable Message-ID).
pub async fn send_email_job(ctx: JobContext) -> Result<(), JobError> {
    let id = ctx.job.payload["email_id"]
        .as_str()
        .ok_or_else(|| JobError::permanent("send_email job without an email_id"))?
        .to_owned();
    let storage = ctx.storage.clone();
    let email = {
        let id = id.clone();
        blocking::run(move || Ok::<_, JobError>(storage.control().email_attempt_started(&id)?))
            .await?
    }
    .ok_or_else(|| JobError::permanent(format!("email {id} is not in the outbox")))?;
    if email.status == EmailStatus::Sent {
        return Ok(());
    }
    let mailer = &ctx.services.mailer;
    if !mailer.is_configured() {
        // The documented exception to "never log tokens": with no SMTP, the log is the mailbox.
        tracing::info!(
            email_id = %email.id,
            kind = %email.kind,
            "email to {}: {} — {}",
            email.to,
            email.subject,
            email.text
        );
        let storage = ctx.storage.clone();
        blocking::run(move || Ok::<_, JobError>(storage.control().mark_email_held(&id)?)).await?;
        return Ok(());
    }
    let result = mailer.send(&email).await;
    let storage = ctx.storage.clone();
    match result {
        Ok(_) => {
            tracing::info!(email_id = %email.id, kind = %email.kind, "email sent");
            blocking::run(move || {
                Ok::<_, JobError>(storage.control().mark_email_sent(&id, Utc::now())?)
            })
            .await
        }
        Err(e) => {
            let permanent = matches!(e, DeliveryError::Permanent(_));
            let give_up = permanent || ctx.last_attempt();
            let message = e.to_string();
            blocking::run(move || {
                Ok::<_, JobError>(storage.control().mark_email_error(&id, &message, give_up)?)
            })
            .await?;
            Err(if permanent {
                JobError::Permanent(e.to_string())
            } else {
                JobError::Retry(e.to_string())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn config(smtp: Option<&str>) -> Config {
        let mut c = Config::load(&Settings::default(), None, &[]).unwrap();
        c.smtp_url = smtp.map(str::to_owned);
        c
    }

    #[test]
    fn urls_are_parsed_and_bad_ones_refused_without_echoing_secrets() {
        assert!(!Mailer::from_config(&config(None)).unwrap().is_configured());
        assert!(
            Mailer::from_config(&config(Some("smtp://127.0.0.1:2525")))
                .unwrap()
                .is_configured()
        );
        assert!(
            Mailer::from_config(&config(Some("smtps://u:p@mail.example.com")))
                .unwrap()
                .is_configured()
        );
        let err = Mailer::from_config(&config(Some("ftp://user:hunter2@x")))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_message_has_both_parts() {
        let m = Mailer::from_config(&config(Some("smtp://127.0.0.1:2525"))).unwrap();
        let email = EmailRecord {
            id: "0193".into(),
            to: "ada@example.com".into(),
            subject: "Hi".into(),
            text: "plain body".into(),
            html: "<p>html body</p>".into(),
            kind: "test".into(),
            status: EmailStatus::Queued,
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        };
        let raw = String::from_utf8(m.build(&email).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        assert!(raw.contains("Message-ID: <0193@localhost>"), "{raw}");
    }
}
