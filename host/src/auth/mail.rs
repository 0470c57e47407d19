//! The identity emails: rendered with the shared templates (`crate::email`) and queued in the
//! outbox by the closure each function returns, which the store runs inside the change's own
//! transaction (signup and its verification email commit together). Links carry their token in
//! `?token=` and point at apex pages: `/verify-email`, `/reset-password`, `/invite`.

use rusqlite::Transaction;
use wrk_tenants::StoreResult;
use wrk_tenants::outbox::{OutgoingEmail, enqueue_email};

use super::session::apex_url;
use crate::config::Config;
use crate::email;

/// Queues `msg` inside the caller's transaction.
pub fn queue(msg: OutgoingEmail) -> impl FnOnce(&Transaction<'_>) -> StoreResult<()> {
    move |tx| enqueue_email(tx, &msg).map(|_| ())
}

fn link(config: &Config, page: &str, token: &str) -> String {
    apex_url(config, &format!("{page}?token={token}"))
}

pub fn verify_email(config: &Config, to: &str, name: &str, token: &str) -> OutgoingEmail {
    let url = link(config, "/verify-email", token);
    email::outgoing(to, "verify_email", email::verify_email(&url, name))
}

pub fn password_reset(config: &Config, to: &str, name: &str, token: &str) -> OutgoingEmail {
    let url = link(config, "/reset-password", token);
    email::outgoing(to, "password_reset", email::password_reset(&url, name))
}

/// For SSO users who ask for a reset: their password lives with their identity provider.
pub fn password_managed_by_idp(config: &Config, to: &str, name: &str) -> OutgoingEmail {
    let login = apex_url(config, "/login");
    email::outgoing(
        to,
        "password_managed_by_idp",
        email::password_managed_by_idp("your identity provider", &login, name),
    )
}

pub fn invitation(
    config: &Config,
    to: &str,
    token: &str,
    workspace: &str,
    inviter: &str,
    role: &str,
) -> OutgoingEmail {
    let url = link(config, "/invite", token);
    email::outgoing(
        to,
        "invitation",
        email::invitation(&url, workspace, inviter, role),
    )
}
