//! The quote lifecycle (PRODUCT.md, "Pricing & billing", flows 14–18).
//!
//! This module owns every decision about a quote's status: which statuses exist, which moves
//! between them exist, who may make each move, which facts must hold first, and what the host
//! must do once a move is decided. A quote is `draft → sent → accepted → signed`, or it ends
//! `rejected`, `expired` or `superseded`; those four and `signed` are terminal. The table is data
//! ([`QUOTE_RULES`]), read next to the spec and tested against an independent transcription of
//! it, like the automation machine in [`crate::machine`].
//!
//! Who does what: a client owner or admin accepts, signs and rejects (they commit the workspace
//! to paying); ops send and revise (a revision supersedes the quote it replaces, flow 14); the
//! system sends what the pricing plugin produced (flow 11), supersedes on a re-quote, and the
//! expiry worker expires quotes whose `valid_until` has passed.
//!
//! It also names what a quote's line item is charged for ([`Recurrence`]), so the storage and
//! the host stop passing `"one_time"` and `"monthly"` around as strings.
//!
//! Time is an input: the caller passes `now` in [`QuoteFacts`], so a quote past its
//! `valid_until` is refused as [`QuoteTransitionError::Expired`] even before the worker has
//! marked it. Nothing here reads a clock or does IO.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::machine::{Actor, ActorKind, VersionStatus, Who};
use crate::roles::named_enum;

/// The status of one quote revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    Draft,
    Sent,
    Accepted,
    Signed,
    Rejected,
    Expired,
    Superseded,
}

named_enum!(QuoteStatus, "quote status", {
    Draft => "draft",
    Sent => "sent",
    Accepted => "accepted",
    Signed => "signed",
    Rejected => "rejected",
    Expired => "expired",
    Superseded => "superseded",
});

impl QuoteStatus {
    /// No move leads out of a terminal status: a signed quote is the contract, and a rejected,
    /// expired or superseded one is replaced by a new revision rather than revived.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Signed | Self::Rejected | Self::Expired | Self::Superseded
        )
    }
}

/// How long a quote stays acceptable after it is made (flow 15).
pub const VALIDITY_DAYS: i64 = 30;

/// [`VALIDITY_DAYS`] as a duration.
pub fn validity() -> TimeDelta {
    TimeDelta::days(VALIDITY_DAYS)
}

/// The `valid_until` of a quote made at `now`.
pub fn default_valid_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + validity()
}

/// A quote is acceptable up to and including its `valid_until` instant, and expired after it.
pub fn has_expired(valid_until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > valid_until
}

/// A fact that must hold before a quote moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteGuard {
    /// `now` is not after `valid_until` (accepting and signing).
    WithinValidity,
    /// `now` is after `valid_until` (only then may the worker expire a quote).
    ValidityPassed,
    /// A non-blank reason came with the request (rejecting, flow 18).
    ReasonGiven,
}

named_enum!(QuoteGuard, "quote guard", {
    WithinValidity => "within_validity",
    ValidityPassed => "validity_passed",
    ReasonGiven => "reason_given",
});

impl QuoteGuard {
    fn holds(self, facts: &QuoteFacts<'_>) -> bool {
        match self {
            Self::WithinValidity => !has_expired(facts.valid_until, facts.now),
            Self::ValidityPassed => has_expired(facts.valid_until, facts.now),
            Self::ReasonGiven => facts.reason.is_some_and(|r| !r.trim().is_empty()),
        }
    }

    /// The refusal this guard gives when it does not hold.
    fn refusal(self, facts: &QuoteFacts<'_>) -> QuoteTransitionError {
        match self {
            Self::WithinValidity => QuoteTransitionError::Expired {
                valid_until: facts.valid_until,
            },
            Self::ValidityPassed => QuoteTransitionError::StillValid {
                valid_until: facts.valid_until,
            },
            Self::ReasonGiven => QuoteTransitionError::ReasonRequired,
        }
    }
}

/// The facts the rules are checked against, gathered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteFacts<'a> {
    pub now: DateTime<Utc>,
    /// The quote's stored `valid_until`.
    pub valid_until: DateTime<Utc>,
    /// The reason sent with the request; blank counts as none.
    pub reason: Option<&'a str>,
}

/// Something the host must do once a move is decided. The machine names the work; it never
/// does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteEffect {
    /// Email the workspace admins and post in the automation's thread.
    NotifyClient,
    /// Flow 16: charge the setup fee through the payment provider **before** anything is
    /// written; a declined charge refuses the whole move and changes nothing.
    ChargeSetupFee,
    /// Flow 16: store signer, time, IP, user agent and the SHA-256 of the signed document.
    RecordSignature,
    /// Move the quote's automation version by the automation machine ([`crate::machine`]), in
    /// the same transaction: signing makes it `ready_to_build`, rejecting `needs_pricing`.
    MoveVersion(VersionStatus),
}

impl QuoteEffect {
    /// A stable short code for logs and audit rows, e.g. `move_version:needs_pricing`.
    pub fn code(self) -> String {
        match self {
            Self::NotifyClient => "notify_client".into(),
            Self::ChargeSetupFee => "charge_setup_fee".into(),
            Self::RecordSignature => "record_signature".into(),
            Self::MoveVersion(to) => format!("move_version:{to}"),
        }
    }
}

/// One row of the table: from, to, who, guards (all must hold), effects (in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteRule {
    pub from: QuoteStatus,
    pub to: QuoteStatus,
    pub who: &'static [Who],
    pub guards: &'static [QuoteGuard],
    pub effects: &'static [QuoteEffect],
}

impl QuoteRule {
    fn admits(&self, actor: &Actor) -> bool {
        self.who.iter().any(|w| w.admits(actor))
    }
}

use QuoteEffect as E;
use QuoteGuard as G;
use QuoteStatus as Q;

/// The quote lifecycle of PRODUCT.md as data. No two rows share a (from, to) pair (a test checks
/// it), so a move names at most one rule.
pub static QUOTE_RULES: &[QuoteRule] = &[
    QuoteRule {
        from: Q::Draft,
        to: Q::Sent,
        who: &[Who::System, Who::Ops],
        guards: &[],
        effects: &[E::NotifyClient],
    },
    QuoteRule {
        from: Q::Sent,
        to: Q::Accepted,
        who: &[Who::ClientManager],
        guards: &[G::WithinValidity],
        effects: &[],
    },
    QuoteRule {
        from: Q::Accepted,
        to: Q::Signed,
        who: &[Who::ClientManager],
        guards: &[G::WithinValidity],
        effects: &[
            E::ChargeSetupFee,
            E::RecordSignature,
            E::MoveVersion(VersionStatus::ReadyToBuild),
        ],
    },
    QuoteRule {
        from: Q::Sent,
        to: Q::Rejected,
        who: &[Who::ClientManager],
        guards: &[G::ReasonGiven],
        effects: &[E::MoveVersion(VersionStatus::NeedsPricing)],
    },
    QuoteRule {
        from: Q::Accepted,
        to: Q::Rejected,
        who: &[Who::ClientManager],
        guards: &[G::ReasonGiven],
        effects: &[E::MoveVersion(VersionStatus::NeedsPricing)],
    },
    QuoteRule {
        from: Q::Sent,
        to: Q::Expired,
        who: &[Who::System],
        guards: &[G::ValidityPassed],
        effects: &[],
    },
    QuoteRule {
        from: Q::Accepted,
        to: Q::Expired,
        who: &[Who::System],
        guards: &[G::ValidityPassed],
        effects: &[],
    },
    QuoteRule {
        from: Q::Draft,
        to: Q::Superseded,
        who: &[Who::Ops, Who::System],
        guards: &[],
        effects: &[],
    },
    QuoteRule {
        from: Q::Sent,
        to: Q::Superseded,
        who: &[Who::Ops, Who::System],
        guards: &[],
        effects: &[],
    },
    QuoteRule {
        from: Q::Accepted,
        to: Q::Superseded,
        who: &[Who::Ops, Who::System],
        guards: &[],
        effects: &[],
    },
];

fn find_rule(from: QuoteStatus, to: QuoteStatus) -> Option<&'static QuoteRule> {
    QUOTE_RULES.iter().find(|r| r.from == from && r.to == to)
}

/// A decided move: what the host writes and what it must do, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteTransition {
    pub from: QuoteStatus,
    pub to: QuoteStatus,
    pub effects: Vec<QuoteEffect>,
}

/// Why a quote move was refused. The first two answer "which" for a 409 on an accept or sign
/// (issue 10: "with a `detail` saying which").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteTransitionError {
    /// The quote is `expired`, or its `valid_until` has passed and the worker has not marked it
    /// yet.
    #[error("the quote expired at {valid_until}")]
    Expired { valid_until: DateTime<Utc> },
    /// A newer revision replaced this quote; only that one can be accepted or signed.
    #[error("the quote was superseded by a newer revision")]
    Superseded,
    /// No rule leads from `from` to `to`. `allowed` is what this actor could ask for instead.
    #[error("a quote cannot go from {from} to {to}")]
    NotAllowed {
        from: QuoteStatus,
        to: QuoteStatus,
        allowed: Vec<QuoteStatus>,
    },
    /// The move exists but not for this actor (or this client role).
    #[error("a {actor} may not move a quote from {from} to {to}")]
    NotPermitted {
        from: QuoteStatus,
        to: QuoteStatus,
        actor: ActorKind,
    },
    /// Rejecting needs a reason (flow 18).
    #[error("a reason must be given")]
    ReasonRequired,
    /// The worker may expire a quote only once `valid_until` has passed.
    #[error("the quote is valid until {valid_until}")]
    StillValid { valid_until: DateTime<Utc> },
}

impl QuoteTransitionError {
    /// The API problem `code` (API.md, conventions): every refusal that is about the quote's
    /// state is a 409 `conflict`, the wrong actor is a 403 `forbidden`, a missing reason a 422.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. }
            | Self::Superseded
            | Self::NotAllowed { .. }
            | Self::StillValid { .. } => "conflict",
            Self::NotPermitted { .. } => "forbidden",
            Self::ReasonRequired => "validation_failed",
        }
    }
}

/// Decides one move of a quote.
///
/// Checks run in this order: a superseded or expired quote says so whatever was asked (that is
/// the answer a client needs); then the move must exist, then the actor must be allowed to make
/// it, then every guard must hold (the first failing one, in the table's order, is named).
pub fn transition(
    from: QuoteStatus,
    to: QuoteStatus,
    actor: &Actor,
    facts: &QuoteFacts<'_>,
) -> Result<QuoteTransition, QuoteTransitionError> {
    match from {
        Q::Superseded => return Err(QuoteTransitionError::Superseded),
        Q::Expired => {
            return Err(QuoteTransitionError::Expired {
                valid_until: facts.valid_until,
            });
        }
        _ => {}
    }
    let Some(rule) = find_rule(from, to) else {
        return Err(QuoteTransitionError::NotAllowed {
            from,
            to,
            allowed: allowed_transitions(from, actor),
        });
    };
    if !rule.admits(actor) {
        return Err(QuoteTransitionError::NotPermitted {
            from,
            to,
            actor: actor.kind(),
        });
    }
    if let Some(failed) = rule.guards.iter().find(|g| !g.holds(facts)) {
        return Err(failed.refusal(facts));
    }
    Ok(QuoteTransition {
        from,
        to,
        effects: rule.effects.to_vec(),
    })
}

/// The statuses this actor may ask for from here, ignoring guards, in [`QuoteStatus::ALL`]
/// order: what a UI offers and what a `NotAllowed` lists.
pub fn allowed_transitions(from: QuoteStatus, actor: &Actor) -> Vec<QuoteStatus> {
    QuoteStatus::ALL
        .iter()
        .copied()
        .filter(|&to| find_rule(from, to).is_some_and(|r| r.admits(actor)))
        .collect()
}

/// What an ops revision (flow 14) does to the quote it revises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revised quote's move to `superseded`, or `None` when it already ended (`rejected` or
    /// `expired`: it keeps that status, and the new revision simply follows it).
    pub supersede: Option<QuoteTransition>,
    /// The new revision's status: it is sent at once.
    pub new_status: QuoteStatus,
}

/// Decides an ops revision of a quote in `from` (flow 14; also the re-quote after a rejection,
/// flow 18, and after an expiry). Only ops revise. A signed quote is a contract and cannot be
/// revised; a superseded one has a newer revision, which is the one to revise.
pub fn revise(from: QuoteStatus, actor: &Actor) -> Result<Revision, QuoteTransitionError> {
    if !Who::Ops.admits(actor) {
        return Err(QuoteTransitionError::NotPermitted {
            from,
            to: Q::Superseded,
            actor: actor.kind(),
        });
    }
    let supersede = match from {
        Q::Rejected | Q::Expired => None,
        Q::Superseded => return Err(QuoteTransitionError::Superseded),
        _ => {
            // No guard on superseding, so the facts are never read.
            let epoch = DateTime::<Utc>::UNIX_EPOCH;
            let facts = QuoteFacts {
                now: epoch,
                valid_until: epoch,
                reason: None,
            };
            Some(transition(from, Q::Superseded, actor, &facts)?)
        }
    };
    Ok(Revision {
        supersede,
        new_status: Q::Sent,
    })
}

/// How often a line item is charged: once (it adds to the setup fee) or every month (it adds to
/// the monthly fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    OneTime,
    Monthly,
}

named_enum!(Recurrence, "recurrence", {
    OneTime => "one_time",
    Monthly => "monthly",
});

#[cfg(test)]
mod tests;
