use std::collections::BTreeSet;

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::roles::{ClientRole, OpsRole};

/// PRODUCT.md's quote lifecycle (flows 14–18) and issue 10, transcribed by hand and independently
/// of `QUOTE_RULES`. Columns: from, to, who, guards, effects. In "who", `owner`/`admin` name one
/// client role, `ops` is any ops role, `system` the workers.
const SPEC: &[(&str, &str, &str, &str, &str)] = &[
    ("draft", "sent", "system ops", "", "notify_client"),
    ("sent", "accepted", "owner admin", "within_validity", ""),
    (
        "accepted",
        "signed",
        "owner admin",
        "within_validity",
        "charge_setup_fee record_signature move_version:ready_to_build",
    ),
    (
        "sent",
        "rejected",
        "owner admin",
        "reason_given",
        "move_version:needs_pricing",
    ),
    (
        "accepted",
        "rejected",
        "owner admin",
        "reason_given",
        "move_version:needs_pricing",
    ),
    ("sent", "expired", "system", "validity_passed", ""),
    ("accepted", "expired", "system", "validity_passed", ""),
    ("draft", "superseded", "ops system", "", ""),
    ("sent", "superseded", "ops system", "", ""),
    ("accepted", "superseded", "ops system", "", ""),
];

/// The statuses nothing leads out of.
const SPEC_TERMINAL: &[&str] = &["signed", "rejected", "expired", "superseded"];

fn actors() -> Vec<(Actor, &'static [&'static str])> {
    vec![
        (
            Actor::Client {
                role: ClientRole::Owner,
            },
            &["owner"],
        ),
        (
            Actor::Client {
                role: ClientRole::Admin,
            },
            &["admin"],
        ),
        (
            Actor::Client {
                role: ClientRole::Member,
            },
            &["member"],
        ),
        (Actor::Ops { role: OpsRole::Ops }, &["ops"]),
        (
            Actor::Ops {
                role: OpsRole::OpsAdmin,
            },
            &["ops"],
        ),
        (Actor::System, &["system"]),
    ]
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

/// Facts under which every guard but `validity_passed` holds (the quote is still valid and a
/// reason was given).
fn valid_with_reason() -> QuoteFacts<'static> {
    QuoteFacts {
        now: at(10, 12),
        valid_until: at(20, 12),
        reason: Some("too expensive for us"),
    }
}

/// Facts under which every guard but `within_validity` and `reason_given` holds.
fn expired_without_reason() -> QuoteFacts<'static> {
    QuoteFacts {
        now: at(21, 12),
        valid_until: at(20, 12),
        reason: None,
    }
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

#[test]
fn every_from_to_actor_triple_matches_the_spec_transcription() {
    let (mut applied, mut refused, mut invalid) = (0, 0, 0);
    for &from in QuoteStatus::ALL {
        let rows: Vec<_> = SPEC.iter().filter(|r| r.0 == from.as_str()).collect();
        for (actor, who_words) in actors() {
            let admits = |who: &str| words(who).iter().any(|w| who_words.contains(w));
            let expected_allowed: BTreeSet<&str> =
                rows.iter().filter(|r| admits(r.2)).map(|r| r.1).collect();
            let allowed: BTreeSet<&str> = allowed_transitions(from, &actor)
                .into_iter()
                .map(QuoteStatus::as_str)
                .collect();
            assert_eq!(
                allowed, expected_allowed,
                "allowed from {from} for {actor:?}"
            );

            for &to in QuoteStatus::ALL {
                let ctx = format!("{from} -> {to}, {actor:?}");
                let row = rows.iter().find(|r| r.1 == to.as_str());
                let facts = if to == QuoteStatus::Expired {
                    expired_without_reason()
                } else {
                    valid_with_reason()
                };
                let result = transition(from, to, &actor, &facts);
                match (from.as_str(), row) {
                    ("superseded", _) => {
                        assert_eq!(result, Err(QuoteTransitionError::Superseded), "{ctx}");
                        invalid += 1;
                    }
                    ("expired", _) => {
                        let expected = QuoteTransitionError::Expired {
                            valid_until: facts.valid_until,
                        };
                        assert_eq!(result, Err(expected), "{ctx}");
                        invalid += 1;
                    }
                    (_, None) => {
                        invalid += 1;
                        match result {
                            Err(QuoteTransitionError::NotAllowed {
                                from: f,
                                to: t,
                                allowed,
                            }) => {
                                assert_eq!((f, t), (from, to), "{ctx}");
                                let allowed: BTreeSet<&str> =
                                    allowed.into_iter().map(QuoteStatus::as_str).collect();
                                assert_eq!(allowed, expected_allowed, "{ctx}");
                            }
                            other => panic!("{ctx}: expected not allowed, got {other:?}"),
                        }
                    }
                    (_, Some(&&(_, _, who, _, _))) if !admits(who) => {
                        refused += 1;
                        assert_eq!(
                            result,
                            Err(QuoteTransitionError::NotPermitted {
                                from,
                                to,
                                actor: actor.kind()
                            }),
                            "{ctx}"
                        );
                    }
                    (_, Some(&&(_, _, _, _, effects))) => {
                        applied += 1;
                        let t = result.unwrap_or_else(|e| panic!("{ctx}: refused with {e:?}"));
                        assert_eq!((t.from, t.to), (from, to), "{ctx}");
                        let codes: Vec<String> = t.effects.iter().map(|e| e.code()).collect();
                        assert_eq!(codes, words(effects), "{ctx}");
                    }
                }
            }
        }
    }
    assert_eq!(applied + refused + invalid, 7 * 7 * 6);
    assert!(applied > 0 && refused > 0 && invalid > 0);
}

#[test]
fn each_guard_of_the_transcription_refuses_when_it_fails() {
    let admin = Actor::Client {
        role: ClientRole::Admin,
    };
    for &(from, to, who, guards, _) in SPEC {
        let (from, to) = (
            QuoteStatus::parse(from).unwrap(),
            QuoteStatus::parse(to).unwrap(),
        );
        let actor = if who.contains("admin") {
            admin
        } else {
            Actor::System
        };
        for guard in words(guards) {
            let (facts, expected) = match guard {
                "within_validity" => {
                    let f = expired_without_reason();
                    let e = QuoteTransitionError::Expired {
                        valid_until: f.valid_until,
                    };
                    (
                        QuoteFacts {
                            reason: Some("x"),
                            ..f
                        },
                        e,
                    )
                }
                "validity_passed" => {
                    let f = valid_with_reason();
                    let e = QuoteTransitionError::StillValid {
                        valid_until: f.valid_until,
                    };
                    (f, e)
                }
                "reason_given" => (
                    QuoteFacts {
                        reason: Some("  \n"),
                        ..valid_with_reason()
                    },
                    QuoteTransitionError::ReasonRequired,
                ),
                other => panic!("unknown guard {other}"),
            };
            assert_eq!(
                transition(from, to, &actor, &facts),
                Err(expected),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn the_rules_never_give_two_answers_for_one_move() {
    for rule in QUOTE_RULES {
        let n = QUOTE_RULES
            .iter()
            .filter(|r| (r.from, r.to) == (rule.from, rule.to))
            .count();
        assert_eq!(n, 1, "{} -> {}", rule.from, rule.to);
    }
}

#[test]
fn terminal_statuses_are_the_spec_ones_and_nothing_leaves_them() {
    let terminal: Vec<&str> = QuoteStatus::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(terminal, SPEC_TERMINAL);
    for rule in QUOTE_RULES {
        assert!(!rule.from.is_terminal(), "{} -> {}", rule.from, rule.to);
    }
}

#[test]
fn accepting_a_quote_past_its_validity_is_expired_even_before_the_worker_marks_it() {
    let owner = Actor::Client {
        role: ClientRole::Owner,
    };
    let valid_until = at(20, 12);
    let facts = |now| QuoteFacts {
        now,
        valid_until,
        reason: None,
    };
    let on_the_instant = transition(
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        &owner,
        &facts(valid_until),
    );
    assert!(on_the_instant.is_ok(), "valid_until itself is still valid");
    let later = valid_until + TimeDelta::seconds(1);
    let err = transition(
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        &owner,
        &facts(later),
    )
    .unwrap_err();
    assert_eq!(err, QuoteTransitionError::Expired { valid_until });
    assert_eq!(err.code(), "conflict");
    assert_eq!(
        err.to_string(),
        "the quote expired at 2026-11-20 12:00:00 UTC"
    );
    let signing = transition(
        QuoteStatus::Accepted,
        QuoteStatus::Signed,
        &owner,
        &facts(later),
    );
    assert_eq!(signing, Err(QuoteTransitionError::Expired { valid_until }));
}

#[test]
fn accepting_or_signing_a_superseded_quote_says_it_was_superseded() {
    let admin = Actor::Client {
        role: ClientRole::Admin,
    };
    for to in [QuoteStatus::Accepted, QuoteStatus::Signed] {
        let err =
            transition(QuoteStatus::Superseded, to, &admin, &valid_with_reason()).unwrap_err();
        assert_eq!(err, QuoteTransitionError::Superseded);
        assert_eq!(err.code(), "conflict");
        assert_eq!(
            err.to_string(),
            "the quote was superseded by a newer revision"
        );
    }
}

#[test]
fn members_may_not_accept_and_the_refusal_is_forbidden() {
    let member = Actor::Client {
        role: ClientRole::Member,
    };
    let err = transition(
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        &member,
        &valid_with_reason(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert_eq!(
        err.to_string(),
        "a client may not move a quote from sent to accepted"
    );
}

#[test]
fn signing_a_sent_quote_lists_what_the_client_may_do_instead() {
    let owner = Actor::Client {
        role: ClientRole::Owner,
    };
    let err = transition(
        QuoteStatus::Sent,
        QuoteStatus::Signed,
        &owner,
        &valid_with_reason(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        QuoteTransitionError::NotAllowed {
            from: QuoteStatus::Sent,
            to: QuoteStatus::Signed,
            allowed: vec![QuoteStatus::Accepted, QuoteStatus::Rejected],
        }
    );
    assert_eq!(err.code(), "conflict");
}

#[test]
fn the_default_validity_is_thirty_days_from_now() {
    let now = at(3, 9);
    assert_eq!(
        default_valid_until(now),
        Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()
    );
    assert_eq!(validity(), TimeDelta::days(30));
    assert!(!has_expired(default_valid_until(now), now));
}

#[test]
fn an_ops_revision_supersedes_a_live_quote_and_follows_an_ended_one() {
    let ops = Actor::Ops { role: OpsRole::Ops };
    for from in [QuoteStatus::Draft, QuoteStatus::Sent, QuoteStatus::Accepted] {
        let r = revise(from, &ops).unwrap();
        let t = r.supersede.expect("a live quote is superseded");
        assert_eq!((t.from, t.to), (from, QuoteStatus::Superseded));
        assert_eq!(r.new_status, QuoteStatus::Sent);
    }
    for from in [QuoteStatus::Rejected, QuoteStatus::Expired] {
        let r = revise(from, &ops).unwrap();
        assert_eq!(r.supersede, None, "{from} keeps its status");
        assert_eq!(r.new_status, QuoteStatus::Sent);
    }
    assert_eq!(
        revise(QuoteStatus::Superseded, &ops),
        Err(QuoteTransitionError::Superseded)
    );
    assert_eq!(
        revise(QuoteStatus::Signed, &ops).unwrap_err().code(),
        "conflict"
    );
    for (actor, _) in actors()
        .into_iter()
        .filter(|(a, _)| !matches!(a, Actor::Ops { .. }))
    {
        assert_eq!(
            revise(QuoteStatus::Sent, &actor).unwrap_err().code(),
            "forbidden"
        );
    }
}

#[test]
fn statuses_round_trip_through_their_names() {
    for &s in QuoteStatus::ALL {
        assert_eq!(QuoteStatus::parse(s.as_str()), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert!(QuoteStatus::parse("Sent").is_err());
    assert_eq!(
        serde_json::to_value(QuoteEffect::MoveVersion(VersionStatus::NeedsPricing)).unwrap(),
        serde_json::json!({"move_version": "needs_pricing"})
    );
}

fn any_status() -> impl Strategy<Value = QuoteStatus> {
    prop::sample::select(QuoteStatus::ALL)
}

fn any_actor() -> impl Strategy<Value = Actor> {
    prop::sample::select(actors().into_iter().map(|(a, _)| a).collect::<Vec<_>>())
}

/// One step of a walk: a move someone asks for, at some time relative to `valid_until`, with or
/// without a reason.
fn any_step() -> impl Strategy<Value = (QuoteStatus, Actor, i64, Option<&'static str>)> {
    (
        any_status(),
        any_actor(),
        -3_000_000i64..3_000_000,
        prop::option::of(prop::sample::select(vec!["", " ", "scope changed"])),
    )
}

proptest! {
    #[test]
    fn random_walks_stay_on_the_spec_graph_and_terminal_statuses_stay_terminal(
        steps in prop::collection::vec(any_step(), 1..40),
    ) {
        let edges: BTreeSet<(&str, &str)> = SPEC.iter().map(|r| (r.0, r.1)).collect();
        let valid_until = at(20, 12);
        let mut status = QuoteStatus::Draft;
        for (to, actor, offset, reason) in steps {
            let facts = QuoteFacts {
                now: valid_until + TimeDelta::seconds(offset),
                valid_until,
                reason,
            };
            if let Ok(t) = transition(status, to, &actor, &facts) {
                prop_assert!(!status.is_terminal(), "left terminal {}", status);
                prop_assert!(
                    edges.contains(&(status.as_str(), to.as_str())),
                    "{} -> {} is not in the spec", status, to
                );
                prop_assert_eq!((t.from, t.to), (status, to));
                status = to;
            }
        }
        if status.is_terminal() {
            let stuck = QuoteStatus::ALL.iter().all(|&to| {
                actors().iter().all(|(a, _)| transition(status, to, a, &valid_with_reason()).is_err())
            });
            prop_assert!(stuck, "something leaves terminal {}", status);
        }
    }
}

#[test]
fn every_recurrence_round_trips_and_an_unknown_one_is_refused_not_defaulted() {
    crate::roles::assert_names_round_trip(Recurrence::ALL, &["", "yearly", "Monthly", "one-time"]);
    assert_eq!(Recurrence::OneTime.as_str(), "one_time");
}
