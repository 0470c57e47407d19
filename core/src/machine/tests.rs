use std::collections::BTreeSet;

use super::*;

/// PRODUCT.md's table, transcribed by hand and independently of `RULES`: one line per (from, to),
/// multi-status rows expanded. Columns: from, to, who, guards (in the spec's order), side effects.
/// In "who", `client` is any client role, `owner`/`admin` name one role, `ops` is any ops role.
const SPEC: &[(&str, &str, &str, &str, &str)] = &[
    (
        "intake_in_progress",
        "needs_pricing",
        "client ops",
        "requirements_or_blueprint_present no_validation_errors",
        "create_project_and_quote",
    ),
    (
        "needs_pricing",
        "awaiting_client_approval",
        "system ops",
        "quote_sent",
        "",
    ),
    (
        "awaiting_client_approval",
        "ready_to_build",
        "system",
        "quote_signed payment_method_on_file setup_fee_paid",
        "create_subscription",
    ),
    (
        "awaiting_client_approval",
        "needs_pricing",
        "system",
        "quote_rejected",
        "create_ops_task:revise_quote",
    ),
    (
        "ready_to_build",
        "build_in_progress",
        "client ops",
        "",
        "create_build_checklist_tasks",
    ),
    ("build_in_progress", "qa_testing", "ops", "", ""),
    (
        "qa_testing",
        "ready_to_launch",
        "ops",
        "no_open_qa_tasks",
        "",
    ),
    ("qa_testing", "build_in_progress", "ops", "reason_given", ""),
    (
        "qa_testing",
        "needs_pricing",
        "ops",
        "reason_given",
        "regenerate_quote",
    ),
    (
        "ready_to_launch",
        "live",
        "ops",
        "credentials_active",
        "record_deployment archive_previous_live notify_platform:deploy",
    ),
    ("live", "paused", "client ops", "", "notify_platform:pause"),
    (
        "paused",
        "live",
        "client ops",
        "no_failed_credentials",
        "notify_platform:resume",
    ),
    (
        "build_in_progress",
        "blocked",
        "system ops",
        "reason_given",
        "remember_blocked_from notify_client",
    ),
    (
        "qa_testing",
        "blocked",
        "system ops",
        "reason_given",
        "remember_blocked_from notify_client",
    ),
    (
        "ready_to_launch",
        "blocked",
        "system ops",
        "reason_given",
        "remember_blocked_from notify_client",
    ),
    (
        "live",
        "blocked",
        "system ops",
        "reason_given",
        "remember_blocked_from notify_client",
    ),
    (
        "paused",
        "blocked",
        "system ops",
        "reason_given",
        "remember_blocked_from notify_client",
    ),
    (
        "intake_in_progress",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "needs_pricing",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "awaiting_client_approval",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "ready_to_build",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "build_in_progress",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "qa_testing",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "ready_to_launch",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "paused",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
    (
        "blocked",
        "archived",
        "owner admin ops",
        "",
        "make_read_only",
    ),
];

/// The `blocked → the remembered blocked_from` row, one line per remembered status. Column one is
/// the stored `blocked_from`, column two where the version goes.
const SPEC_UNBLOCK: &[(&str, &str, &str, &str, &str)] = &[
    (
        "build_in_progress",
        "build_in_progress",
        "system ops",
        "block_cause_cleared",
        "",
    ),
    (
        "qa_testing",
        "qa_testing",
        "system ops",
        "block_cause_cleared",
        "",
    ),
    (
        "ready_to_launch",
        "ready_to_launch",
        "system ops",
        "block_cause_cleared",
        "",
    ),
    ("live", "live", "system ops", "block_cause_cleared", ""),
    ("paused", "paused", "system ops", "block_cause_cleared", ""),
];

/// The representative actors, with the "who" words of the transcription each one answers to.
fn actors() -> Vec<(Actor, &'static [&'static str])> {
    vec![
        (
            Actor::Client {
                role: ClientRole::Owner,
            },
            &["client", "owner"],
        ),
        (
            Actor::Client {
                role: ClientRole::Admin,
            },
            &["client", "admin"],
        ),
        (
            Actor::Client {
                role: ClientRole::Member,
            },
            &["client"],
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

/// Every guard holds.
fn all_hold() -> GuardInputs {
    GuardInputs {
        requirements_or_blueprint_present: true,
        validation_error_count: 0,
        quote_sent: true,
        quote_signed: true,
        payment_method_on_file: true,
        setup_fee_paid: true,
        quote_rejected: true,
        open_qa_task_count: 0,
        reason: Some("credential rotated by the vendor".into()),
        inactive_required_credential_count: 0,
        failed_credential_count: 0,
        block_cause_cleared: true,
    }
}

/// Every guard fails.
fn all_fail() -> GuardInputs {
    GuardInputs {
        requirements_or_blueprint_present: false,
        validation_error_count: 2,
        quote_sent: false,
        quote_signed: false,
        payment_method_on_file: false,
        setup_fee_paid: false,
        quote_rejected: false,
        open_qa_task_count: 1,
        reason: None,
        inactive_required_credential_count: 3,
        failed_credential_count: 1,
        block_cause_cleared: false,
    }
}

/// All hold but `guard`.
fn only_failing(guard: Guard) -> GuardInputs {
    let mut i = all_hold();
    let bad = all_fail();
    match guard {
        Guard::RequirementsOrBlueprintPresent => {
            i.requirements_or_blueprint_present = bad.requirements_or_blueprint_present
        }
        Guard::NoValidationErrors => i.validation_error_count = bad.validation_error_count,
        Guard::QuoteSent => i.quote_sent = bad.quote_sent,
        Guard::QuoteSigned => i.quote_signed = bad.quote_signed,
        Guard::PaymentMethodOnFile => i.payment_method_on_file = bad.payment_method_on_file,
        Guard::SetupFeePaid => i.setup_fee_paid = bad.setup_fee_paid,
        Guard::QuoteRejected => i.quote_rejected = bad.quote_rejected,
        Guard::NoOpenQaTasks => i.open_qa_task_count = bad.open_qa_task_count,
        Guard::ReasonGiven => i.reason = bad.reason,
        Guard::CredentialsActive => {
            i.inactive_required_credential_count = bad.inactive_required_credential_count
        }
        Guard::NoFailedCredentials => i.failed_credential_count = bad.failed_credential_count,
        Guard::BlockCauseCleared => i.block_cause_cleared = bad.block_cause_cleared,
    }
    i
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// The rows of the transcription that apply from `from` with this stored memory.
fn spec_rows(
    from: &str,
    blocked_from: Option<&str>,
) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut rows: Vec<_> = SPEC
        .iter()
        .filter(|r| r.0 == from)
        .map(|r| (r.1, r.2, r.3, r.4))
        .collect();
    if from == "blocked" {
        rows.extend(
            SPEC_UNBLOCK
                .iter()
                .filter(|r| Some(r.0) == blocked_from)
                .map(|r| (r.1, r.2, r.3, r.4)),
        );
    }
    rows
}

#[test]
fn every_from_to_actor_triple_matches_the_spec_table() {
    let memories: Vec<Option<VersionStatus>> = std::iter::once(None)
        .chain(VersionStatus::ALL.iter().copied().map(Some))
        .collect();
    let (mut applied, mut invalid, mut refused, mut guarded) = (0, 0, 0, 0);

    for &from in VersionStatus::ALL {
        for &memory in &memories {
            let rows = spec_rows(from.as_str(), memory.map(VersionStatus::as_str));
            for (actor, who_words) in actors() {
                let admits = |who: &str| words(who).iter().any(|w| who_words.contains(w));
                let expected_allowed: BTreeSet<&str> =
                    rows.iter().filter(|r| admits(r.1)).map(|r| r.0).collect();
                let allowed: BTreeSet<&str> = allowed_transitions(from, memory, &actor)
                    .into_iter()
                    .map(VersionStatus::as_str)
                    .collect();
                assert_eq!(
                    allowed, expected_allowed,
                    "allowed from {from} (blocked_from {memory:?}) for {actor:?}"
                );

                for &to in VersionStatus::ALL {
                    let ctx = format!("{from} -> {to}, blocked_from {memory:?}, {actor:?}");
                    let row = rows.iter().find(|r| r.0 == to.as_str());
                    let ok = transition(from, memory, to, &actor, &all_hold());
                    let bad = transition(from, memory, to, &actor, &all_fail());
                    match row {
                        None => {
                            invalid += 1;
                            for result in [ok, bad] {
                                match result {
                                    Err(TransitionError::InvalidTransition {
                                        from: f,
                                        to: t,
                                        allowed,
                                    }) => {
                                        assert_eq!((f, t), (from, to), "{ctx}");
                                        let allowed: BTreeSet<&str> = allowed
                                            .into_iter()
                                            .map(VersionStatus::as_str)
                                            .collect();
                                        assert_eq!(allowed, expected_allowed, "{ctx}");
                                    }
                                    other => panic!("{ctx}: expected invalid, got {other:?}"),
                                }
                            }
                        }
                        Some(&(_, who, _, _)) if !admits(who) => {
                            refused += 1;
                            let expected = Err(TransitionError::NotPermitted {
                                from,
                                to,
                                actor: actor.kind(),
                            });
                            assert_eq!(ok, expected, "{ctx}");
                            assert_eq!(bad, expected, "{ctx}");
                        }
                        Some(&(_, _, guards, effects)) => {
                            applied += 1;
                            let t = ok.unwrap_or_else(|e| panic!("{ctx}: refused with {e:?}"));
                            assert_eq!((t.from, t.to), (from, to), "{ctx}");
                            let expected_memory = (to.as_str() == "blocked").then_some(from);
                            assert_eq!(t.blocked_from, expected_memory, "{ctx}");
                            let codes: Vec<String> = t.effects.iter().map(|e| e.code()).collect();
                            assert_eq!(codes, words(effects), "{ctx}");

                            let expected_failed = words(guards);
                            if expected_failed.is_empty() {
                                assert!(bad.is_ok(), "{ctx}: no guard, yet {bad:?}");
                            } else {
                                guarded += 1;
                                match bad {
                                    Err(TransitionError::GuardFailed(failed)) => {
                                        let failed: Vec<&str> =
                                            failed.iter().map(|g| g.code()).collect();
                                        assert_eq!(failed, expected_failed, "{ctx}");
                                    }
                                    other => panic!("{ctx}: expected guard_failed, got {other:?}"),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The loops really reached every kind of outcome.
    assert_eq!(applied + invalid + refused, 11 * 12 * 11 * 6);
    assert!(applied > 0 && invalid > 0 && refused > 0 && guarded > 0);
}

#[test]
fn the_rules_never_give_two_answers_for_one_move() {
    let memories = std::iter::once(None).chain(VersionStatus::ALL.iter().copied().map(Some));
    for memory in memories {
        for &from in VersionStatus::ALL {
            for &to in VersionStatus::ALL {
                let n = RULES
                    .iter()
                    .filter(|r| r.target(from, memory) == Some(to))
                    .count();
                assert!(n <= 1, "{n} rules for {from} -> {to} ({memory:?})");
            }
        }
    }
}

#[test]
fn each_guard_failing_alone_is_the_only_one_named() {
    let ops = Actor::Ops { role: OpsRole::Ops };
    let mut seen = std::collections::HashSet::new();
    for rule in RULES {
        for &guard in rule.guards {
            // Pick a concrete move of this rule and an actor the rule admits.
            let from = VersionStatus::ALL
                .iter()
                .copied()
                .find(|&s| rule.from.contains(s))
                .unwrap();
            let memory = (from == VersionStatus::Blocked).then_some(VersionStatus::Live);
            let to = rule.target(from, memory).unwrap();
            let actor = if rule.admits(&ops) {
                ops
            } else {
                Actor::System
            };
            assert_eq!(
                transition(from, memory, to, &actor, &only_failing(guard)),
                Err(TransitionError::GuardFailed(vec![guard])),
                "{from} -> {to}"
            );
            seen.insert(guard);
        }
    }
    assert_eq!(seen.len(), Guard::ALL.len(), "every guard guards something");
}

#[test]
fn several_failing_guards_are_all_named_in_table_order() {
    let system = Actor::System;
    let mut inputs = all_hold();
    inputs.quote_signed = false;
    inputs.setup_fee_paid = false;
    let err = transition(
        VersionStatus::AwaitingClientApproval,
        None,
        VersionStatus::ReadyToBuild,
        &system,
        &inputs,
    )
    .unwrap_err();
    assert_eq!(
        err,
        TransitionError::GuardFailed(vec![Guard::QuoteSigned, Guard::SetupFeePaid])
    );
    assert_eq!(err.code(), "guard_failed");
    assert_eq!(
        err.to_string(),
        "guard failed: quote_signed, setup_fee_paid"
    );
}

#[test]
fn a_blank_reason_is_no_reason() {
    let ops = Actor::Ops { role: OpsRole::Ops };
    let mut inputs = all_hold();
    inputs.reason = Some("   ".into());
    assert_eq!(
        transition(
            VersionStatus::QaTesting,
            None,
            VersionStatus::BuildInProgress,
            &ops,
            &inputs
        ),
        Err(TransitionError::GuardFailed(vec![Guard::ReasonGiven]))
    );
}

#[test]
fn a_blocked_version_returns_to_where_it_was_blocked_from_and_nowhere_else() {
    let system = Actor::System;
    let inputs = all_hold();
    for &origin in BLOCKABLE {
        let blocked = transition(origin, None, VersionStatus::Blocked, &system, &inputs).unwrap();
        assert_eq!(blocked.blocked_from, Some(origin));
        assert!(blocked.effects.contains(&SideEffect::RememberBlockedFrom));

        assert_eq!(
            allowed_transitions(VersionStatus::Blocked, blocked.blocked_from, &system),
            vec![origin]
        );
        let back = transition(
            VersionStatus::Blocked,
            blocked.blocked_from,
            origin,
            &system,
            &inputs,
        )
        .unwrap();
        assert_eq!(back.to, origin);
        assert_eq!(back.blocked_from, None, "leaving blocked spends the memory");

        for &elsewhere in BLOCKABLE.iter().filter(|&&s| s != origin) {
            let err = transition(
                VersionStatus::Blocked,
                Some(origin),
                elsewhere,
                &system,
                &inputs,
            )
            .unwrap_err();
            assert_eq!(err.code(), "invalid_transition");
        }
    }
}

#[test]
fn a_blocked_version_without_a_usable_memory_can_only_be_archived() {
    let ops = Actor::Ops {
        role: OpsRole::OpsAdmin,
    };
    for memory in [
        None,
        Some(VersionStatus::IntakeInProgress),
        Some(VersionStatus::Archived),
    ] {
        assert_eq!(
            allowed_transitions(VersionStatus::Blocked, memory, &ops),
            vec![VersionStatus::Archived]
        );
    }
}

#[test]
fn unblocking_needs_the_cause_cleared() {
    let err = transition(
        VersionStatus::Blocked,
        Some(VersionStatus::Live),
        VersionStatus::Live,
        &Actor::System,
        &only_failing(Guard::BlockCauseCleared),
    )
    .unwrap_err();
    assert_eq!(
        err,
        TransitionError::GuardFailed(vec![Guard::BlockCauseCleared])
    );
}

#[test]
fn owners_admins_and_ops_archive_but_members_and_the_system_do_not() {
    let inputs = GuardInputs::default();
    let from = VersionStatus::Paused;
    let to = VersionStatus::Archived;
    for role in [ClientRole::Owner, ClientRole::Admin] {
        let t = transition(from, None, to, &Actor::Client { role }, &inputs).unwrap();
        assert_eq!(t.effects, vec![SideEffect::MakeReadOnly]);
    }
    for role in [OpsRole::Ops, OpsRole::OpsAdmin] {
        assert!(transition(from, None, to, &Actor::Ops { role }, &inputs).is_ok());
    }
    let member = Actor::Client {
        role: ClientRole::Member,
    };
    let err = transition(from, None, to, &member, &inputs).unwrap_err();
    assert_eq!(
        err,
        TransitionError::NotPermitted {
            from,
            to,
            actor: ActorKind::Client
        }
    );
    assert_eq!(err.code(), "transition_not_permitted");
    assert_eq!(
        transition(from, None, to, &Actor::System, &inputs)
            .unwrap_err()
            .code(),
        "transition_not_permitted"
    );
}

#[test]
fn live_and_archived_versions_cannot_be_archived() {
    let owner = Actor::Client {
        role: ClientRole::Owner,
    };
    for from in [VersionStatus::Live, VersionStatus::Archived] {
        let err = transition(
            from,
            None,
            VersionStatus::Archived,
            &owner,
            &GuardInputs::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid_transition");
    }
}

#[test]
fn an_invalid_move_lists_what_this_actor_may_do_instead() {
    let member = Actor::Client {
        role: ClientRole::Member,
    };
    let err = transition(
        VersionStatus::Live,
        None,
        VersionStatus::QaTesting,
        &member,
        &GuardInputs::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        TransitionError::InvalidTransition {
            from: VersionStatus::Live,
            to: VersionStatus::QaTesting,
            allowed: vec![VersionStatus::Paused],
        }
    );
    assert_eq!(err.code(), "invalid_transition");
    assert_eq!(
        err.to_string(),
        "a version cannot go from live to qa_testing"
    );
}

#[test]
fn only_clients_create_versions_and_they_start_in_intake() {
    assert_eq!(initial_status(), VersionStatus::IntakeInProgress);
    for (actor, _) in actors() {
        let result = create_version(&actor);
        match actor {
            Actor::Client { .. } => assert_eq!(result, Ok(VersionStatus::IntakeInProgress)),
            _ => assert_eq!(result.unwrap_err().code(), "transition_not_permitted"),
        }
    }
}

#[test]
fn required_guards_name_what_the_caller_must_gather() {
    assert_eq!(
        required_guards(VersionStatus::ReadyToLaunch, None, VersionStatus::Live),
        &[Guard::CredentialsActive]
    );
    assert!(required_guards(VersionStatus::Live, None, VersionStatus::Paused).is_empty());
    assert!(required_guards(VersionStatus::Live, None, VersionStatus::QaTesting).is_empty());
}

#[test]
fn statuses_round_trip_and_know_whether_they_are_in_flight() {
    for &s in VersionStatus::ALL {
        assert_eq!(VersionStatus::parse(s.as_str()), Ok(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }
    assert_eq!(VersionStatus::ALL.len(), 11);
    assert!(VersionStatus::parse("Live").is_err());
    let not_in_flight: Vec<_> = VersionStatus::ALL
        .iter()
        .filter(|s| !s.is_in_flight())
        .collect();
    assert_eq!(
        not_in_flight,
        [
            &VersionStatus::Live,
            &VersionStatus::Paused,
            &VersionStatus::Archived
        ]
    );
    assert!(VersionStatus::Live.allows_new_version());
    assert!(!VersionStatus::Blocked.allows_new_version());
}

#[test]
fn the_blueprint_is_editable_in_intake_by_anyone_and_in_pricing_by_ops_only() {
    for (actor, _) in actors() {
        assert!(VersionStatus::IntakeInProgress.is_editable_blueprint_by(&actor));
        assert_eq!(
            VersionStatus::NeedsPricing.is_editable_blueprint_by(&actor),
            matches!(actor, Actor::Ops { .. })
        );
        for &s in &VersionStatus::ALL[2..] {
            assert!(!s.is_editable_blueprint_by(&actor), "{s}");
        }
    }
}

#[test]
fn guards_have_stable_codes_and_messages() {
    for &g in Guard::ALL {
        assert_eq!(Guard::parse(g.code()), Ok(g));
        assert_eq!(serde_json::to_value(g).unwrap(), g.code());
        assert!(!g.message().is_empty());
    }
    assert_eq!(Guard::ALL.len(), 12);
}

#[test]
fn actors_and_side_effects_serialize_for_history_and_audit_rows() {
    let actor = Actor::Client {
        role: ClientRole::Admin,
    };
    assert_eq!(
        serde_json::to_value(actor).unwrap(),
        serde_json::json!({"kind": "client", "role": "admin"})
    );
    assert_eq!(
        serde_json::to_value(Actor::System).unwrap(),
        serde_json::json!({"kind": "system"})
    );
    assert_eq!(
        serde_json::to_value(SideEffect::CreateOpsTask(OpsTaskKind::ReviseQuote)).unwrap(),
        serde_json::json!({"create_ops_task": "revise_quote"})
    );
    assert_eq!(
        serde_json::to_value(SideEffect::MakeReadOnly).unwrap(),
        serde_json::json!("make_read_only")
    );
}

mod walks {
    use proptest::prelude::*;

    use super::*;

    fn any_actor() -> impl Strategy<Value = Actor> {
        prop_oneof![
            Just(Actor::System),
            Just(Actor::Client {
                role: ClientRole::Owner
            }),
            Just(Actor::Client {
                role: ClientRole::Admin
            }),
            Just(Actor::Client {
                role: ClientRole::Member
            }),
            Just(Actor::Ops { role: OpsRole::Ops }),
            Just(Actor::Ops {
                role: OpsRole::OpsAdmin
            }),
        ]
    }

    /// Facts biased towards holding, so walks get past the guards and reach the far statuses.
    fn any_facts() -> impl Strategy<Value = GuardInputs> {
        let fact = || prop::bool::weighted(0.8);
        let count = || prop_oneof![4 => Just(0usize), 1 => 1usize..3];
        (
            (fact(), count(), fact(), fact(), fact(), fact(), fact()),
            (
                count(),
                prop::option::of(Just("because".to_owned())),
                count(),
            ),
            (count(), fact()),
        )
            .prop_map(
                |(
                    (r, v, sent, signed, pm, fee, rejected),
                    (qa, reason, inactive),
                    (failed, cleared),
                )| {
                    GuardInputs {
                        requirements_or_blueprint_present: r,
                        validation_error_count: v,
                        quote_sent: sent,
                        quote_signed: signed,
                        payment_method_on_file: pm,
                        setup_fee_paid: fee,
                        quote_rejected: rejected,
                        open_qa_task_count: qa,
                        reason,
                        inactive_required_credential_count: inactive,
                        failed_credential_count: failed,
                        block_cause_cleared: cleared,
                    }
                },
            )
    }

    proptest! {
        /// From a new version, random requests by random actors with random facts: every move
        /// taken is one the actor was offered and whose guards held, every refusal names why and
        /// changes nothing, a blocked version returns only to where it was (or is archived, which
        /// PRODUCT.md allows from every status but `live` and `archived`), and nothing leaves
        /// `archived`.
        #[test]
        fn a_random_walk_takes_only_offered_moves_and_refusals_change_nothing(
            steps in prop::collection::vec(
                (0..VersionStatus::ALL.len(), any_actor(), any_facts()),
                1..80,
            )
        ) {
            let mut status = create_version(&Actor::Client { role: ClientRole::Member }).unwrap();
            let mut blocked_from: Option<VersionStatus> = None;
            for (i, actor, facts) in steps {
                let to = VersionStatus::ALL[i];
                let offered = allowed_transitions(status, blocked_from, &actor);
                if status == VersionStatus::Archived {
                    prop_assert!(offered.is_empty(), "archived offers {offered:?}");
                }
                match transition(status, blocked_from, to, &actor, &facts) {
                    Ok(t) => {
                        prop_assert!(offered.contains(&to), "{status} → {to} taken, not offered");
                        prop_assert!(required_guards(status, blocked_from, to)
                            .iter()
                            .all(|g| g.holds(&facts)));
                        prop_assert_eq!((t.from, t.to), (status, to));
                        if status == VersionStatus::Blocked && to != VersionStatus::Archived {
                            prop_assert_eq!(Some(to), blocked_from, "a block returns to where it was");
                        }
                        blocked_from = t.blocked_from;
                        prop_assert_eq!(blocked_from.is_some(), to == VersionStatus::Blocked);
                        status = to;
                    }
                    Err(TransitionError::InvalidTransition { allowed, .. }) => {
                        prop_assert!(!offered.contains(&to));
                        prop_assert_eq!(allowed, offered);
                    }
                    Err(TransitionError::NotPermitted { .. }) => {
                        prop_assert!(!offered.contains(&to));
                    }
                    Err(TransitionError::GuardFailed(failed)) => {
                        prop_assert!(offered.contains(&to));
                        prop_assert!(!failed.is_empty());
                        prop_assert!(failed.iter().all(|g| !g.holds(&facts)));
                    }
                    Err(e @ TransitionError::CreationNotPermitted { .. }) => {
                        prop_assert!(false, "a move answered {e:?}");
                    }
                }
            }
        }
    }
}
