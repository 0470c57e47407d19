use chrono::{TimeDelta, TimeZone};
use wrk_core::quote::Recurrence;

use super::*;
use crate::automations::quotes::LineItem;
use crate::automations::quotes::tests::{needs_pricing, new_quote, sent};
use crate::automations::signing::{Decider, NewPaymentMethod, Settlement, Signing};
use crate::automations::versions::VersionRef;
use crate::testing::*;

fn usd(c: i64) -> Money {
    Money::new(c, Currency::USD)
}

/// An automation whose quote (59.00 USD a month for 100 runs, 0.15 USD per run over) is signed
/// by invoice: its subscription is active.
fn subscribed(s: &TenantStore) -> AutomationId {
    let a = needs_pricing(s, &owner());
    let q = sent(s, a);
    let (actor, audit, request) = (owner(), who(), req());
    let d = Decider {
        actor: &actor,
        audit: &audit,
        request: &request,
    };
    s.accept_quote(q.id, d).unwrap();
    let crate::automations::signing::Claim::New { key, .. } =
        s.claim_setup_fee(q.id, "manual", d).unwrap()
    else {
        panic!("no claim")
    };
    s.sign_quote(
        &Signing {
            quote: q.id,
            signer_name: "Grace".into(),
            signer_title: "CEO".into(),
            user_id: "u1".into(),
            document_sha256: "ab".repeat(32),
            method: NewPaymentMethod {
                provider: "manual".into(),
                customer: None,
                method: None,
                label: "Invoice".into(),
            },
            settlement: Settlement::Invoiced {
                reference: format!("manual:{key}"),
                key,
            },
            claimed_at: Utc::now(),
        },
        d,
    )
    .unwrap();
    a
}

/// Moves version 1 on to `live` as ops would.
fn make_live(s: &TenantStore, a: AutomationId) {
    for to in [
        VersionStatus::BuildInProgress,
        VersionStatus::QaTesting,
        VersionStatus::ReadyToLaunch,
        VersionStatus::Live,
    ] {
        s.transition_version(
            a,
            VersionRef::Number(1),
            &TransitionRequest {
                to,
                reason: None,
                actor: &ops(),
                audit_actor: &who(),
                request: &req(),
            },
        )
        .unwrap();
    }
}

fn status(s: &TenantStore, a: AutomationId) -> VersionStatus {
    s.version(a, VersionRef::Number(1)).unwrap().status
}

fn this_period() -> BillingPeriod {
    BillingPeriod::containing(Utc::now())
}

fn charge_count(s: &TenantStore, purpose: &str) -> i64 {
    s.db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM charges WHERE purpose = ?1",
                [purpose],
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

#[test]
fn a_period_invoice_bills_the_fee_and_overage_to_the_cent_and_finalizing_again_changes_nothing() {
    let (_d, s) = store();
    let a = subscribed(&s);
    let p = this_period();
    // 100 runs committed, 137 counted: 37 over at 15 cents.
    write_usage_for_tests(&s, a, p, 137).unwrap();
    let first = s
        .finalize_period(p, "manual", Utc::now(), &req())
        .unwrap()
        .expect("an invoice");
    assert!(first.created);
    let inv = &first.invoice;
    assert_eq!(
        (inv.kind.as_str(), inv.status.as_str()),
        ("period", "finalized")
    );
    let lines: Vec<_> = inv
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.quantity, l.unit, l.amount))
        .collect();
    assert_eq!(
        lines,
        [
            ("monthly_fee", 1, usd(5_900), usd(5_900)),
            ("overage", 37, usd(15), usd(555)),
        ]
    );
    assert_eq!(inv.total, usd(6_455));
    let (key, amount) = first.charge.clone().expect("a claimed charge");
    assert_eq!(
        (key.as_str(), amount),
        (format!("invoice:{}", inv.id).as_str(), usd(6_455))
    );

    // Before the provider answered: the same invoice and the same claimed charge, no new one.
    let again = s
        .finalize_period(p, "manual", Utc::now(), &req())
        .unwrap()
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.invoice.id, inv.id);
    assert_eq!(again.charge, Some((key.clone(), amount)));
    s.invoice_charged(
        &inv.id,
        &key,
        &ChargeOutcome::Invoiced {
            reference: format!("manual:{key}"),
        },
        Utc::now(),
        &[],
        &req(),
    )
    .unwrap();
    let third = s
        .finalize_period(p, "manual", Utc::now(), &req())
        .unwrap()
        .unwrap();
    assert_eq!(
        (third.invoice.id.as_str(), third.charge),
        (inv.id.as_str(), None)
    );
    assert_eq!(charge_count(&s, "invoice"), 1);
    // The setup-fee invoice is not a period invoice: two invoices in all.
    assert_eq!(s.invoices().unwrap().len(), 2);
}

#[test]
fn a_workspace_without_subscriptions_gets_no_period_invoice() {
    let (_d, s) = store();
    assert!(
        s.finalize_period(this_period(), "manual", Utc::now(), &req())
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_declined_invoice_is_retried_after_one_three_and_seven_days_then_live_versions_are_blocked_until_paid()
 {
    let (_d, s) = store();
    let a = subscribed(&s);
    make_live(&s, a);
    let p = this_period();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    let f = s.finalize_period(p, "stripe", t0, &req()).unwrap().unwrap();
    let (key, _) = f.charge.unwrap();
    let declined = ChargeOutcome::Declined {
        code: "card_declined".into(),
        message: "Your card was declined.".into(),
    };
    let user = UserId::new();
    s.invoice_charged(&f.invoice.id, &key, &declined, t0, &[user], &req())
        .unwrap();
    assert_eq!(s.invoice(&f.invoice.id).unwrap().status, "failed");
    // Nothing is due before a day has passed.
    assert!(
        s.claim_due_retries(t0 + TimeDelta::hours(23), "stripe", &req())
            .unwrap()
            .is_empty()
    );
    for (n, days) in [(2u32, 1i64), (3, 3), (4, 7)] {
        let at = t0 + TimeDelta::days(days);
        let due = s.claim_due_retries(at, "stripe", &req()).unwrap();
        assert_eq!(due.len(), 1, "retry {n}");
        assert_eq!(due[0].key, invoice_charge_key(&f.invoice.id, n));
        assert_eq!(
            status(&s, a),
            VersionStatus::Live,
            "still live before retry {n} fails"
        );
        let out = s
            .invoice_charged(&f.invoice.id, &due[0].key, &declined, at, &[user], &req())
            .unwrap();
        assert_eq!(out.moved.is_empty(), n < 4, "retry {n}");
    }
    assert_eq!(status(&s, a), VersionStatus::Blocked);
    let reason: String = s
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT reason FROM status_history ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(reason, PAYMENT_FAILED);
    assert!(
        s.claim_due_retries(t0 + TimeDelta::days(30), "stripe", &req())
            .unwrap()
            .is_empty()
    );
    let notified: i64 = s
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM notifications WHERE kind = 'billing'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(notified, 4);

    // Ops mark it paid: the version is live again.
    let (paid, moved) = s
        .mark_invoice_paid_unblocking(&f.invoice.id, Some("bank"), &who(), &req())
        .unwrap();
    assert_eq!((paid.status.as_str(), moved.len()), ("paid", 1));
    assert_eq!(status(&s, a), VersionStatus::Live);
}

#[test]
fn a_retry_that_succeeds_pays_the_invoice_and_unblocks_nothing_that_was_not_blocked() {
    let (_d, s) = store();
    let a = subscribed(&s);
    make_live(&s, a);
    let t0 = Utc::now();
    let f = s
        .finalize_period(this_period(), "stripe", t0, &req())
        .unwrap()
        .unwrap();
    let (key, _) = f.charge.unwrap();
    let declined = ChargeOutcome::Declined {
        code: "card_declined".into(),
        message: "declined".into(),
    };
    s.invoice_charged(&f.invoice.id, &key, &declined, t0, &[], &req())
        .unwrap();
    let due = s
        .claim_due_retries(t0 + TimeDelta::days(1), "stripe", &req())
        .unwrap();
    let out = s
        .invoice_charged(
            &f.invoice.id,
            &due[0].key,
            &ChargeOutcome::Paid {
                reference: "pi_1".into(),
            },
            t0 + TimeDelta::days(1),
            &[],
            &req(),
        )
        .unwrap();
    let inv = out.invoice.unwrap();
    assert_eq!(
        (inv.status.as_str(), inv.paid_reference.as_deref()),
        ("paid", Some("pi_1"))
    );
    assert!(out.moved.is_empty());
    assert_eq!(status(&s, a), VersionStatus::Live);
}

/// The re-quote of a commitment of `runs`: 10 cents a run on top of 49.00 USD.
fn requote(runs: u64) -> NewQuote {
    let fee = 4_900 + 10 * i64::try_from(runs).unwrap();
    NewQuote {
        setup_fee: usd(0),
        monthly_fee: usd(fee),
        included_runs: i64::try_from(runs).unwrap(),
        line_items: vec![LineItem {
            code: "platform".into(),
            description: "Platform".into(),
            quantity: 1,
            unit: usd(fee),
            amount: usd(fee),
            recurrence: Recurrence::Monthly,
        }],
        ..new_quote()
    }
}

#[test]
fn an_increase_applies_now_a_decrease_next_period_and_a_proration_by_invoice_is_billed_once() {
    let (_d, s) = store();
    let a = subscribed(&s);
    let sub = s.active_subscription(a).unwrap();
    assert_eq!((sub.committed_runs, sub.monthly_fee), (100, usd(5_900)));
    let now = Utc::now();
    let up = VolumeChangeRequest {
        automation: a,
        subscription: sub.id.clone(),
        monthly_runs: 300,
        quote: requote(300),
        effective_at: now,
        prorated_charge: usd(1_234),
    };
    let ChargeClaim::New { key, amount } =
        s.claim_proration(&up, "manual", &who(), &req()).unwrap()
    else {
        panic!("no claim")
    };
    assert_eq!(amount, usd(1_234));
    // The same change asked again while the first is with the provider.
    assert_eq!(
        s.claim_proration(&up, "manual", &who(), &req()).unwrap(),
        ChargeClaim::InProgress
    );
    let out = s
        .apply_volume_change(
            &up,
            Some((
                &key,
                &ChargeOutcome::Invoiced {
                    reference: "manual:x".into(),
                },
            )),
            &who(),
            &req(),
        )
        .unwrap();
    assert_eq!(out.quote.status, "signed");
    assert_eq!(out.quote.revision, 2);
    assert_eq!(
        (
            out.subscription.committed_runs,
            out.subscription.monthly_fee
        ),
        (300, usd(7_900))
    );

    // A decrease waits for the next period.
    let next = this_period().next().unwrap();
    let down = VolumeChangeRequest {
        automation: a,
        subscription: sub.id.clone(),
        monthly_runs: 50,
        quote: requote(50),
        effective_at: next.first_instant(),
        prorated_charge: usd(0),
    };
    let out = s.apply_volume_change(&down, None, &who(), &req()).unwrap();
    assert_eq!(out.subscription.committed_runs, 300);
    let pending = out.subscription.pending.clone().unwrap();
    assert_eq!((pending.committed_runs, pending.from), (50, next));
    assert_eq!(out.subscription.terms_for(next), (usd(5_400), 50));

    // This period's invoice: the fee at 300 runs and the proration billed by invoice.
    let f = s
        .finalize_period(this_period(), "manual", now, &req())
        .unwrap()
        .unwrap();
    let codes: Vec<_> = f
        .invoice
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.amount))
        .collect();
    assert_eq!(
        codes,
        [("monthly_fee", usd(7_900)), ("proration", usd(1_234))]
    );
    assert_eq!(f.invoice.total, usd(9_134));
    // Next period's invoice has the decreased terms and no proration again.
    let g = s
        .finalize_period(
            next,
            "manual",
            next.first_instant() + TimeDelta::hours(1),
            &req(),
        )
        .unwrap()
        .unwrap();
    let codes: Vec<_> = g
        .invoice
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.amount))
        .collect();
    assert_eq!(codes, [("monthly_fee", usd(5_400))]);
    assert!(s.active_subscription(a).unwrap().pending.is_none());
    assert_eq!(charge_count(&s, "proration"), 1);
}

#[test]
fn the_override_is_stored_whole_and_audited() {
    let (_d, s) = store();
    assert_eq!(s.pricing_override().unwrap(), StoredOverride::default());
    let o = PricingOverride {
        discount_percent: Some(15),
        setup_fee_cents: None,
        overage_unit_cents: Some(9),
    };
    let stored = s
        .set_pricing_override(&o, Some("2.0.0"), &who(), &req())
        .unwrap();
    assert_eq!(stored.values, o);
    assert!(stored.updated_at.is_some());
    let after: String = s
        .db()
        .read(|c| {
            Ok(c.query_row(
                "SELECT after FROM audit_log WHERE action = 'pricing_override.updated'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(after.contains("\"plugin_version\":\"2.0.0\""), "{after}");
    assert!(after.contains("\"discount_percent\":15"), "{after}");
}
