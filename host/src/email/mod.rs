//! Email: templates, the outbox, and SMTP delivery with lettre.
//!
//! - Templates ([`verify_email`], [`invitation`], [`password_reset`],
//!   [`password_managed_by_idp`], [`notification`]) return `(subject, text, html)`.
//! - Callers store a message with `wrk_tenants::outbox::enqueue_email(tx, &OutgoingEmail{..})`
//!   inside their own control-plane transaction; [`outgoing`] builds that value from a template.
//! - The `send_email` job delivers it (at least once, retried with backoff; a message already
//!   `sent` is never re-sent). Call `app.jobs.wake()` after the transaction commits for immediate
//!   delivery; otherwise an idle worker notices within a second.
//! - With no `WRK_SMTP_URL` the message is logged at info (with its links) and kept as `held`;
//!   a later start with SMTP configured sends every held message.

pub mod delivery;
pub mod templates;

pub use delivery::{DeliveryError, Mailer, send_email_job};

pub use templates::{
    escape_html, invitation, notification, password_managed_by_idp, password_reset, verify_email,
};
pub use wrk_tenants::outbox::OutgoingEmail;

/// Builds the outbox message for `to` from a template's `(subject, text, html)`.
pub fn outgoing(
    to: &str,
    kind: &str,
    (subject, text, html): (String, String, String),
) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        subject,
        text,
        html,
        kind: kind.to_owned(),
    }
}
