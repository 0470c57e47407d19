use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn usd(c: i64) -> Money {
    Money::new(c, Currency::USD)
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn period(s: &str) -> BillingPeriod {
    BillingPeriod::parse(s).unwrap()
}

#[test]
fn a_period_is_written_yyyy_mm_and_nothing_else() {
    let p = period("2026-11");
    assert_eq!((p.year(), p.month()), (2026, 11));
    assert_eq!(p.to_string(), "2026-11");
    assert_eq!(serde_json::to_value(p).unwrap(), "2026-11");
    assert_eq!(
        serde_json::from_value::<BillingPeriod>("2026-02".into()).unwrap(),
        period("2026-02")
    );
    for bad in [
        "2026-13",
        "2026-00",
        "2026-1",
        "26-11",
        "2026/11",
        "2026-11-01",
        " 2026-11",
        "0000-05",
        "２０２６-11",
        "+026-11",
        "",
        "2026-1a",
    ] {
        assert_eq!(
            BillingPeriod::parse(bad),
            Err(BillingError::InvalidPeriod(bad.into())),
            "{bad:?}"
        );
    }
    assert!(serde_json::from_value::<BillingPeriod>("2026-13".into()).is_err());
}

#[test]
fn a_period_runs_from_the_first_instant_of_the_month_to_the_first_of_the_next() {
    let nov = period("2026-11");
    assert_eq!(nov.first_instant(), utc(2026, 11, 1, 0));
    assert_eq!(nov.end(), utc(2026, 12, 1, 0));
    assert_eq!(
        nov.last_instant().to_rfc3339(),
        "2026-11-30T23:59:59.999999999+00:00"
    );
    assert_eq!(nov.days(), 30);
    assert!(nov.contains(nov.first_instant()));
    assert!(nov.contains(nov.last_instant()));
    assert!(!nov.contains(nov.end()));
    assert_eq!(BillingPeriod::containing(nov.last_instant()), nov);
    assert_eq!(BillingPeriod::containing(nov.end()), period("2026-12"));
}

#[test]
fn next_and_previous_cross_year_ends() {
    assert_eq!(period("2026-12").next(), Some(period("2027-01")));
    assert_eq!(period("2027-01").previous(), Some(period("2026-12")));
    assert_eq!(period("2026-05").next(), Some(period("2026-06")));
    assert_eq!(period("9999-12").next(), None);
    assert_eq!(period("0001-01").previous(), None);
    assert!(period("2026-12") < period("2027-01"));
}

#[test]
fn february_has_twenty_nine_days_in_leap_years_only() {
    assert_eq!(period("2024-02").days(), 29);
    assert_eq!(period("2026-02").days(), 28);
    assert_eq!(period("2000-02").days(), 29);
    assert_eq!(period("2100-02").days(), 28);
    assert_eq!(period("2026-01").days(), 31);
}

#[test]
fn the_rest_of_the_month_is_charged_from_the_day_of_the_change() {
    // The doc comment's example: 31 days, 16 gone, 15 charged.
    let p = prorate_rest_of_month(usd(3_100), utc(2026, 3, 17, 23)).unwrap();
    assert_eq!(p.period, period("2026-03"));
    assert_eq!((p.remaining_days, p.period_days), (15, 31));
    assert_eq!(p.charged, usd(1_500));
    assert_eq!(p.elapsed, usd(1_600));
    // On the 1st the whole month is charged, on the last day one day's share.
    let first = prorate_rest_of_month(usd(1_000), utc(2026, 11, 1, 0)).unwrap();
    assert_eq!((first.charged, first.remaining_days), (usd(1_000), 30));
    let last = prorate_rest_of_month(usd(1_000), utc(2026, 11, 30, 18)).unwrap();
    assert_eq!((last.charged, last.remaining_days), (usd(33), 1));
    // Rounding: 1,000 over 30 days with 20 left is 666.67, so 667; the 10 days gone take 333.
    let p = prorate_rest_of_month(usd(1_000), utc(2026, 11, 11, 0)).unwrap();
    assert_eq!((p.charged, p.elapsed), (usd(667), usd(333)));
    assert_eq!(
        prorate_rest_of_month(usd(-1), utc(2026, 11, 11, 0)),
        Err(MoneyError::Negative)
    );
}

#[test]
fn one_cent_split_over_two_halves_of_a_month_is_still_one_cent() {
    let days = 30;
    let halves = [
        share_of_days(usd(1), 0, 15, days).unwrap(),
        share_of_days(usd(1), 15, 30, days).unwrap(),
    ];
    assert_eq!(Money::sum(Currency::USD, halves), Ok(usd(1)));
    assert!(share_of_days(usd(1), 3, 2, days).is_err());
    assert!(share_of_days(usd(1), 0, 31, days).is_err());
}

#[test]
fn overage_is_every_run_past_the_commitment_at_the_unit_price() {
    let o = overage(1_250, 1_000, usd(7)).unwrap();
    assert_eq!((o.runs, o.amount), (250, usd(1_750)));
    let none = overage(999, 1_000, usd(7)).unwrap();
    assert_eq!((none.runs, none.amount), (0, usd(0)));
    assert_eq!(overage(5, 0, usd(-1)), Err(MoneyError::Negative));
    assert_eq!(overage(u64::MAX, 0, usd(2)), Err(MoneyError::Overflow));
}

#[test]
fn an_increase_applies_now_with_a_prorated_charge_and_a_decrease_next_period() {
    let at = utc(2026, 11, 16, 10);
    let up = volume_change(1_000, 2_000, usd(10_000), usd(16_000), at).unwrap();
    assert_eq!(up.effective_at, at);
    // 6,000 for the 15 of 30 days left.
    assert_eq!(up.prorated_charge, usd(3_000));
    let down = volume_change(2_000, 1_000, usd(16_000), usd(10_000), at).unwrap();
    assert_eq!(down.effective_at, utc(2026, 12, 1, 0));
    assert_eq!(down.prorated_charge, usd(0));
    let same = volume_change(1_000, 1_000, usd(10_000), usd(10_000), at).unwrap();
    assert_eq!(same.effective_at, utc(2026, 12, 1, 0));
    let cheaper = volume_change(1_000, 2_000, usd(10_000), usd(9_000), at).unwrap();
    assert_eq!(
        (cheaper.effective_at, cheaper.prorated_charge),
        (at, usd(0))
    );
    let eur = Money::new(1, Currency::EUR);
    assert!(matches!(
        volume_change(1, 2, usd(1), eur, at),
        Err(BillingError::Money(MoneyError::CurrencyMismatch { .. }))
    ));
    assert!(volume_change(2, 1, usd(1), eur, at).is_err());
}

#[test]
fn an_invoice_has_a_fee_line_per_subscription_overage_when_used_and_its_prorations() {
    let subs = [
        SubscriptionUsage {
            label: "Invoice sync".into(),
            committed_runs: 1_000,
            monthly_fee: usd(20_000),
            overage_unit: usd(3),
            runs: 1_400,
        },
        SubscriptionUsage {
            label: "Lead router".into(),
            committed_runs: 500,
            monthly_fee: usd(5_000),
            overage_unit: usd(2),
            runs: 10,
        },
    ];
    let prorations = [ProratedCharge {
        label: "Lead router".into(),
        amount: usd(1_234),
    }];
    let inv = assemble_invoice(period("2026-11"), Currency::USD, &subs, &prorations).unwrap();
    let lines: Vec<(&str, u64, i64, i64)> = inv
        .lines
        .iter()
        .map(|l| {
            (
                l.kind.as_str(),
                l.quantity,
                l.unit.cents.get(),
                l.amount.cents.get(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("monthly_fee", 1, 20_000, 20_000),
            ("overage", 400, 3, 1_200),
            ("monthly_fee", 1, 5_000, 5_000),
            ("proration", 1, 1_234, 1_234),
        ]
    );
    assert_eq!(inv.total, usd(27_434));
    assert_eq!(
        inv.lines[1].description,
        "Invoice sync: 400 runs over the 1000 committed"
    );

    let euro = [SubscriptionUsage {
        monthly_fee: Money::new(1, Currency::EUR),
        ..subs[0].clone()
    }];
    assert!(matches!(
        assemble_invoice(period("2026-11"), Currency::USD, &euro, &[]),
        Err(MoneyError::CurrencyMismatch { .. })
    ));
    let credit = [ProratedCharge {
        label: "x".into(),
        amount: usd(-5),
    }];
    assert_eq!(
        assemble_invoice(period("2026-11"), Currency::USD, &[], &credit),
        Err(MoneyError::Negative)
    );
    let empty = assemble_invoice(period("2026-11"), Currency::EUR, &[], &[]).unwrap();
    assert_eq!(empty.total, Money::zero(Currency::EUR));
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 to 2100, to the second.
    (0i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #[test]
    fn any_split_of_a_month_into_day_ranges_adds_up_to_the_whole(
        total in 0i64..=i64::MAX / 2,
        days in 1u32..=31,
        cuts in prop::collection::vec(0u32..=31, 0..8),
    ) {
        let mut bounds: Vec<u32> = cuts.into_iter().map(|c| c % (days + 1)).collect();
        bounds.extend([0, days]);
        bounds.sort_unstable();
        let parts: Vec<Money> = bounds
            .windows(2)
            .map(|w| share_of_days(usd(total), w[0], w[1], days).unwrap())
            .collect();
        prop_assert!(parts.iter().all(|p| !p.is_negative()));
        prop_assert_eq!(Money::sum(Currency::USD, parts), Ok(usd(total)));
    }

    #[test]
    fn every_single_day_gets_the_floor_or_the_ceiling_of_an_even_share(
        total in 0i64..=i64::MAX / 2, days in 1u32..=31,
    ) {
        let (floor, ceil) = (total / i64::from(days), (total + i64::from(days) - 1) / i64::from(days));
        for d in 0..days {
            let c = share_of_days(usd(total), d, d + 1, days).unwrap().cents.get();
            prop_assert!(c == floor || c == ceil, "day {} got {}", d, c);
        }
    }

    #[test]
    fn a_proration_charged_plus_elapsed_is_the_monthly_amount(
        monthly in 0i64..=i64::MAX / 2, at in any_instant(),
    ) {
        let p = prorate_rest_of_month(usd(monthly), at).unwrap();
        prop_assert_eq!(p.charged.checked_add(p.elapsed), Ok(usd(monthly)));
        prop_assert!(!p.charged.is_negative() && !p.elapsed.is_negative());
        prop_assert!(p.remaining_days >= 1 && p.remaining_days <= p.period_days);
        prop_assert_eq!(p.period, BillingPeriod::containing(at));
        // The exact value is within half a cent of monthly × remaining / days.
        let exact = i128::from(monthly) * i128::from(p.remaining_days);
        let charged = i128::from(p.charged.cents.get()) * i128::from(p.period_days);
        prop_assert!(2 * (exact - charged).abs() <= i128::from(p.period_days));
    }

    #[test]
    fn overage_is_exactly_one_unit_per_run_over(
        runs in 0u64..100_000, committed in 0u64..100_000, unit in 0i64..1_000_000,
    ) {
        let o = overage(runs, committed, usd(unit)).unwrap();
        prop_assert_eq!(o.runs + runs.min(committed), runs);
        let one_by_one = Money::sum(Currency::USD, std::iter::repeat_n(usd(unit), o.runs as usize));
        prop_assert_eq!(Ok(o.amount), one_by_one);
    }

    #[test]
    fn overage_over_a_split_commitment_never_loses_a_run(
        a in 0u64..1_000_000, b in 0u64..1_000_000, committed in 0u64..2_000_000, unit in 0i64..10_000,
    ) {
        // The period's usage counted in two parts is billed like the sum.
        let whole = overage(a + b, committed, usd(unit)).unwrap();
        let billed_runs = whole.runs + (a + b).min(committed);
        prop_assert_eq!(billed_runs, a + b);
        prop_assert_eq!(whole.amount, usd(unit).checked_mul(whole.runs).unwrap());
    }

    #[test]
    fn an_invoice_total_is_the_sum_of_its_lines_and_each_line_is_quantity_times_unit(
        subs in prop::collection::vec(
            (0u64..10_000, 0i64..1_000_000, 0i64..1_000, 0u64..20_000), 0..6),
        prorations in prop::collection::vec(0i64..1_000_000, 0..4),
    ) {
        let subs: Vec<SubscriptionUsage> = subs
            .into_iter()
            .enumerate()
            .map(|(i, (committed, fee, unit, runs))| SubscriptionUsage {
                label: format!("automation {i}"),
                committed_runs: committed,
                monthly_fee: usd(fee),
                overage_unit: usd(unit),
                runs,
            })
            .collect();
        let prorations: Vec<ProratedCharge> = prorations
            .into_iter()
            .map(|c| ProratedCharge { label: "change".into(), amount: usd(c) })
            .collect();
        let inv = assemble_invoice(period("2026-11"), Currency::USD, &subs, &prorations).unwrap();
        for l in &inv.lines {
            prop_assert_eq!(l.unit.checked_mul(l.quantity), Ok(l.amount));
        }
        let expected: i64 = subs
            .iter()
            .map(|s| s.monthly_fee.cents.get()
                + s.overage_unit.cents.get() * i64::try_from(s.runs.saturating_sub(s.committed_runs)).unwrap())
            .chain(prorations.iter().map(|p| p.amount.cents.get()))
            .sum();
        prop_assert_eq!(inv.total, usd(expected));
        prop_assert_eq!(
            inv.lines.iter().filter(|l| l.kind == LineKind::MonthlyFee).count(),
            subs.len()
        );
    }

    #[test]
    fn a_period_round_trips_through_its_name_and_contains_its_own_instants(
        year in 1i32..=9999, month in 1u32..=12, at in any_instant(),
    ) {
        let p = BillingPeriod::new(year, month).unwrap();
        prop_assert_eq!(BillingPeriod::parse(&p.to_string()), Ok(p));
        prop_assert!(p.contains(p.first_instant()) && p.contains(p.last_instant()));
        if let Some(next) = p.next() {
            prop_assert_eq!(next.first_instant(), p.end());
            prop_assert_eq!(next.previous(), Some(p));
        }
        let q = BillingPeriod::containing(at);
        prop_assert!(q.contains(at));
    }

    // Money properties the billing code leans on (the basic ones are in money.rs).

    #[test]
    fn subtracting_what_was_added_gives_back_the_original(a: i64, b: i64) {
        if let Ok(sum) = usd(a).checked_add(usd(b)) {
            prop_assert_eq!(sum.checked_sub(usd(b)), Ok(usd(a)));
        }
    }

    #[test]
    fn multiplying_by_a_quantity_is_adding_that_many_times(
        unit in -1_000_000i64..1_000_000, quantity in 0u64..500,
    ) {
        let repeated = Money::sum(Currency::USD, std::iter::repeat_n(usd(unit), quantity as usize));
        prop_assert_eq!(usd(unit).checked_mul(quantity), repeated);
    }

    #[test]
    fn a_sum_does_not_depend_on_the_order_of_its_items(
        items in prop::collection::vec(i64::MIN / 64..i64::MAX / 64, 0..32), seed: u64,
    ) {
        let mut shuffled = items.clone();
        // A deterministic shuffle from the seed (Fisher-Yates with an LCG).
        let mut x = seed;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let total = |v: &[i64]| Money::sum(Currency::USD, v.iter().map(|&c| usd(c)));
        prop_assert_eq!(total(&items), total(&shuffled));
        prop_assert!(total(&items).is_ok());
    }
}
