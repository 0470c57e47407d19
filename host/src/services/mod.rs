//! Services: the orchestration between handlers and the store — the steps that involve more
//! than one call (validate a blueprint with a plugin, then store it; apply a transition, then
//! price it outside any transaction, then store the quote in one transaction). Handlers parse,
//! call one function here, and map the result.
//!
//! - [`automations`]: flows 8-13, 31, 32, 35.
//! - [`backup`]: `wrk backup` / `wrk restore` (databases online, then the files they point at).
//! - [`billing`]: quote and invoice documents (PDF).
//! - [`credentials`]: flows 25, 26: credentials through the secrets manager, and what a
//!   `credential.failed` platform event does.
//! - [`documents`]: requirements documents and AI ingestion (flow 9).
//! - [`identity`]: accounts, logins, sessions, workspaces, invitations, members, API keys.
//! - [`payments`]: the payment providers (`manual`, `stripe`) of flows 16, 17 and 20.
//! - [`platform_events`]: flows 24, 24A, 24B: sending signed events to the WRK Platform, and
//!   the delivery log.
//! - [`plugins`]: the plugin sandbox as the product uses it: start-up, calls, ops changes.
//! - [`quotes`]: flows 14-18: accept, reject, ops revisions, signing with payment, the quote
//!   document, marking an invoice paid, the expiry worker.
//! - [`threads`]: flow 30: posting in an automation's thread, who is notified, email digests.

pub mod automations;
pub mod backup;
pub mod billing;
pub mod credentials;
pub mod documents;
pub mod identity;
pub mod payments;
pub mod platform_events;
pub mod plugins;
pub mod quotes;
pub mod threads;
pub mod usage;

use wrk_core::machine::Actor;
use wrk_tenants::audit::{AuditActor, RequestMeta};

use crate::auth::session::OpsSession;
use crate::extract::ClientMeta;

/// Who is acting, resolved once from the session: the state-machine actor, the audit actor and
/// the request's metadata for audit rows.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub audit: AuditActor,
    pub request: RequestMeta,
}

impl Caller {
    pub fn ops(session: &OpsSession, meta: ClientMeta) -> Self {
        Self {
            actor: session.actor(),
            audit: session.audit_actor(),
            request: meta.0,
        }
    }
}

/// Every status a quote can have, as the API spells it: the `?status=` filter checks it, and the
/// OpenAPI documents publish it as the enum.
pub const QUOTE_STATUSES: [&str; 7] = [
    "draft",
    "sent",
    "accepted",
    "signed",
    "rejected",
    "expired",
    "superseded",
];

/// Default and maximum page sizes of every list (API.md, conventions).
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The page size a request asks for, clamped to 1..=200.
pub fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Cuts a list fetched with `limit + 1` rows to `limit` and names the cursor of the next page
/// (the last item's id) when there is one.
pub fn paginate<T>(
    mut items: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(id);
        (items, next)
    } else {
        (items, None)
    }
}
