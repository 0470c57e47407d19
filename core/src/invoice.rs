//! The invoice lifecycle and its dunning schedule (PRODUCT.md flow 20, issue 10).
//!
//! An invoice is `draft → finalized → paid | failed`, and a failed one can still be paid (a
//! retry succeeds, or ops mark it paid out of band). The table is data ([`INVOICE_RULES`]),
//! tested against a separate transcription like the quote and automation machines. Dunning is a
//! pure function of when the charge first failed and how many retries were made
//! ([`dunning`]); the worker that runs it, and the blocking of live versions it can ask for, are
//! the host's.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::machine::{Actor, ActorKind, Who};
use crate::roles::named_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Finalized,
    Paid,
    Failed,
}

named_enum!(InvoiceStatus, "invoice status", {
    Draft => "draft",
    Finalized => "finalized",
    Paid => "paid",
    Failed => "failed",
});

impl InvoiceStatus {
    /// Only `paid` ends an invoice: a failed one is retried or marked paid.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Paid)
    }
}

/// What the host must do once an invoice move is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceEffect {
    /// Charge the total through the payment provider, keyed by the invoice id (the manual
    /// provider issues the invoice for ops to mark paid).
    Charge,
    /// Record when the charge first failed, so [`dunning`] can schedule the retries.
    ScheduleRetries,
    /// Versions blocked for `payment_failed` return to where they were.
    UnblockVersions,
}

named_enum!(InvoiceEffect, "invoice effect", {
    Charge => "charge",
    ScheduleRetries => "schedule_retries",
    UnblockVersions => "unblock_versions",
});

/// One row: from, to, who, effects. No guards: what decides a move (the provider's answer) is
/// the move itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceRule {
    pub from: InvoiceStatus,
    pub to: InvoiceStatus,
    pub who: &'static [Who],
    pub effects: &'static [InvoiceEffect],
}

use InvoiceEffect as E;
use InvoiceStatus as I;

/// The invoice lifecycle as data; one row per (from, to).
pub static INVOICE_RULES: &[InvoiceRule] = &[
    // The finalization worker and `POST /api/ops/billing/finalize` share this move.
    InvoiceRule {
        from: I::Draft,
        to: I::Finalized,
        who: &[Who::System, Who::Ops],
        effects: &[E::Charge],
    },
    // The provider took the money, or ops marked a manual invoice paid.
    InvoiceRule {
        from: I::Finalized,
        to: I::Paid,
        who: &[Who::System, Who::Ops],
        effects: &[],
    },
    InvoiceRule {
        from: I::Finalized,
        to: I::Failed,
        who: &[Who::System],
        effects: &[E::ScheduleRetries],
    },
    // A dunning retry succeeded, or ops marked it paid.
    InvoiceRule {
        from: I::Failed,
        to: I::Paid,
        who: &[Who::System, Who::Ops],
        effects: &[E::UnblockVersions],
    },
];

fn find_rule(from: InvoiceStatus, to: InvoiceStatus) -> Option<&'static InvoiceRule> {
    INVOICE_RULES.iter().find(|r| r.from == from && r.to == to)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceTransition {
    pub from: InvoiceStatus,
    pub to: InvoiceStatus,
    pub effects: Vec<InvoiceEffect>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceTransitionError {
    /// No rule leads there (`allowed`: what this actor could ask for instead). → 409.
    #[error("an invoice cannot go from {from} to {to}")]
    NotAllowed {
        from: InvoiceStatus,
        to: InvoiceStatus,
        allowed: Vec<InvoiceStatus>,
    },
    /// Clients never move invoices; only the system records a failed charge. → 403.
    #[error("a {actor} may not move an invoice from {from} to {to}")]
    NotPermitted {
        from: InvoiceStatus,
        to: InvoiceStatus,
        actor: ActorKind,
    },
}

impl InvoiceTransitionError {
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "conflict",
            Self::NotPermitted { .. } => "forbidden",
        }
    }
}

/// Decides one move of an invoice.
pub fn transition(
    from: InvoiceStatus,
    to: InvoiceStatus,
    actor: &Actor,
) -> Result<InvoiceTransition, InvoiceTransitionError> {
    let Some(rule) = find_rule(from, to) else {
        return Err(InvoiceTransitionError::NotAllowed {
            from,
            to,
            allowed: allowed_transitions(from, actor),
        });
    };
    if !rule.who.iter().any(|w| w.admits(actor)) {
        return Err(InvoiceTransitionError::NotPermitted {
            from,
            to,
            actor: actor.kind(),
        });
    }
    Ok(InvoiceTransition {
        from,
        to,
        effects: rule.effects.to_vec(),
    })
}

/// What this actor may ask for from here, in [`InvoiceStatus::ALL`] order.
pub fn allowed_transitions(from: InvoiceStatus, actor: &Actor) -> Vec<InvoiceStatus> {
    InvoiceStatus::ALL
        .iter()
        .copied()
        .filter(|&to| find_rule(from, to).is_some_and(|r| r.who.iter().any(|w| w.admits(actor))))
        .collect()
}

/// Days after the first failed charge at which it is retried (issue 10: 1, 3 and 7 days).
pub const RETRY_AFTER_DAYS: [i64; 3] = [1, 3, 7];

/// What dunning asks for next about a `failed` invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "next", rename_all = "snake_case")]
pub enum Dunning {
    /// Charge again (with the invoice's idempotency key and the attempt number) at this instant.
    RetryAt { at: DateTime<Utc> },
    /// Every retry failed: the workspace's live versions go to `blocked` with reason
    /// `payment_failed`, until the invoice is paid.
    BlockLiveVersions,
}

/// The next dunning step for an invoice whose charge first failed at `first_failed_at` and that
/// has been retried `retries_made` times since (each retry failing too). Retries are counted
/// from the first failure, not from each other: at +1, +3 and +7 days.
pub fn dunning(first_failed_at: DateTime<Utc>, retries_made: usize) -> Dunning {
    match RETRY_AFTER_DAYS.get(retries_made) {
        Some(&days) => Dunning::RetryAt {
            at: first_failed_at + TimeDelta::days(days),
        },
        None => Dunning::BlockLiveVersions,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::roles::{ClientRole, OpsRole};

    /// Issue 10's invoice lifecycle, transcribed by hand: from, to, who, effects.
    const SPEC: &[(&str, &str, &str, &str)] = &[
        ("draft", "finalized", "system ops", "charge"),
        ("finalized", "paid", "system ops", ""),
        ("finalized", "failed", "system", "schedule_retries"),
        ("failed", "paid", "system ops", "unblock_versions"),
    ];

    fn actors() -> Vec<(Actor, &'static str)> {
        vec![
            (
                Actor::Client {
                    role: ClientRole::Owner,
                },
                "client",
            ),
            (
                Actor::Client {
                    role: ClientRole::Member,
                },
                "client",
            ),
            (Actor::Ops { role: OpsRole::Ops }, "ops"),
            (
                Actor::Ops {
                    role: OpsRole::OpsAdmin,
                },
                "ops",
            ),
            (Actor::System, "system"),
        ]
    }

    #[test]
    fn every_from_to_actor_triple_matches_the_transcription() {
        for &from in InvoiceStatus::ALL {
            for (actor, word) in actors() {
                let expected_allowed: BTreeSet<&str> = SPEC
                    .iter()
                    .filter(|r| r.0 == from.as_str() && r.2.split(' ').any(|w| w == word))
                    .map(|r| r.1)
                    .collect();
                let allowed: BTreeSet<&str> = allowed_transitions(from, &actor)
                    .into_iter()
                    .map(InvoiceStatus::as_str)
                    .collect();
                assert_eq!(allowed, expected_allowed, "{from} for {actor:?}");
                for &to in InvoiceStatus::ALL {
                    let ctx = format!("{from} -> {to}, {actor:?}");
                    let row = SPEC
                        .iter()
                        .find(|r| (r.0, r.1) == (from.as_str(), to.as_str()));
                    match (row, transition(from, to, &actor)) {
                        (None, Err(e)) => assert_eq!(e.code(), "conflict", "{ctx}"),
                        (Some(r), Err(e)) => {
                            assert!(!r.2.split(' ').any(|w| w == word), "{ctx}: {e}");
                            assert_eq!(e.code(), "forbidden", "{ctx}");
                        }
                        (Some(r), Ok(t)) => {
                            assert!(r.2.split(' ').any(|w| w == word), "{ctx}");
                            let codes: Vec<&str> = t.effects.iter().map(|e| e.as_str()).collect();
                            assert_eq!(codes, r.3.split_whitespace().collect::<Vec<_>>(), "{ctx}");
                        }
                        (None, Ok(t)) => panic!("{ctx}: not in the spec, yet {t:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn dunning_retries_one_three_and_seven_days_after_the_failure_then_blocks() {
        let failed = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        let day = |d| Utc.with_ymd_and_hms(2026, 12, d, 2, 0, 0).unwrap();
        assert_eq!(dunning(failed, 0), Dunning::RetryAt { at: day(2) });
        assert_eq!(dunning(failed, 1), Dunning::RetryAt { at: day(4) });
        assert_eq!(dunning(failed, 2), Dunning::RetryAt { at: day(8) });
        assert_eq!(dunning(failed, 3), Dunning::BlockLiveVersions);
        assert_eq!(dunning(failed, 99), Dunning::BlockLiveVersions);
    }

    #[test]
    fn clients_never_move_invoices() {
        let owner = Actor::Client {
            role: ClientRole::Owner,
        };
        for &from in InvoiceStatus::ALL {
            assert!(allowed_transitions(from, &owner).is_empty(), "{from}");
        }
        assert_eq!(
            transition(InvoiceStatus::Finalized, InvoiceStatus::Paid, &owner)
                .unwrap_err()
                .to_string(),
            "a client may not move an invoice from finalized to paid"
        );
    }

    proptest! {
        #[test]
        fn random_walks_stay_on_the_spec_graph_and_paid_stays_paid(
            steps in prop::collection::vec(
                (prop::sample::select(InvoiceStatus::ALL), 0usize..5), 1..30),
        ) {
            let edges: BTreeSet<(&str, &str)> = SPEC.iter().map(|r| (r.0, r.1)).collect();
            let actors = actors();
            let mut status = InvoiceStatus::Draft;
            for (to, who) in steps {
                if let Ok(t) = transition(status, to, &actors[who].0) {
                    prop_assert!(!status.is_terminal());
                    prop_assert!(edges.contains(&(status.as_str(), to.as_str())));
                    prop_assert_eq!(t.to, to);
                    status = to;
                }
            }
            if status == InvoiceStatus::Paid {
                for &to in InvoiceStatus::ALL {
                    prop_assert!(transition(status, to, &Actor::System).is_err());
                }
            }
        }
    }
}
