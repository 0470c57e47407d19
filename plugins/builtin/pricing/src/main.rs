//! The built-in pricing rule set (ABI v1).
//!
//! - Setup fee from blueprint complexity: a base fee, plus a price per step, per connected
//!   system, per trigger and per human-in-the-loop step.
//! - Monthly fee: a platform fee plus the committed runs priced in graduated volume tiers.
//! - Overage: runs above the commitment cost 1.5 × the marginal tier price.
//! - Per-workspace overrides: a fixed setup fee replaces the complexity lines; a discount
//!   percentage lowers every unit price (so each line still reads `quantity × unit = amount`);
//!   a fixed overage unit price replaces the computed one.
//!
//! All money is integer cents; every amount on the quote is explained by a line item.

use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::blueprint::Blueprint;
use wrk_plugin_sdk::pricing::{LineItem, PricingInput, PricingQuote, Recurrence};

const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

const SETUP_BASE: u64 = 150_000;
const SETUP_PER_STEP: u64 = 25_000;
const SETUP_PER_SYSTEM: u64 = 40_000;
const SETUP_PER_TRIGGER: u64 = 20_000;
const SETUP_PER_HUMAN_STEP: u64 = 35_000;
const PLATFORM_MONTHLY: u64 = 4_900;

/// Graduated tiers: (runs in this tier, or None for "the rest", cents per run).
const TIERS: [(Option<u64>, u64, &str); 4] = [
    (Some(1_000), 10, "first 1,000 runs"),
    (Some(9_000), 6, "runs 1,001-10,000"),
    (Some(90_000), 3, "runs 10,001-100,000"),
    (None, 2, "runs above 100,000"),
];

fn price(input: PricingInput) -> Result<PricingQuote, Error> {
    if input.abi != wrk_plugin_sdk::ABI_VERSION {
        return Err(Error::new(
            "unsupported_abi",
            format!("abi {} is not 1", input.abi),
        ));
    }
    if !CURRENCIES.contains(&input.currency.as_str()) {
        return Err(Error::new(
            "unsupported_currency",
            format!(
                "currency {:?} is not one of {}",
                input.currency,
                CURRENCIES.join(", ")
            ),
        ));
    }
    let overrides = &input.tenant.overrides;
    let discount = overrides.discount_percent.unwrap_or(0);
    if discount > 100 {
        return Err(Error::new(
            "invalid_override",
            "discount_percent must be 0..=100",
        ));
    }
    let discounted = |unit: u64| -> u64 { (unit * u64::from(100 - discount) + 50) / 100 };
    let suffix = if discount > 0 {
        format!(" ({discount}% discount applied)")
    } else {
        String::new()
    };

    let blueprint = Blueprint::from_value(&input.version.blueprint);
    let mut lines = Vec::new();
    let mut notes = Vec::new();

    // Setup.
    if let Some(fixed) = overrides.setup_fee_cents {
        lines.push(line(
            "setup_fixed",
            format!("Setup fee agreed for this workspace{suffix}"),
            1,
            discounted(fixed),
            Recurrence::OneTime,
        ));
        notes.push("Setup fee fixed by a workspace override.".to_string());
    } else {
        let steps = blueprint.steps.len() as u64;
        let human = blueprint.steps.iter().filter(|s| is_human(s)).count() as u64;
        let systems = blueprint.systems.len() as u64;
        let triggers = u64::from(blueprint.trigger.is_some());
        lines.push(line(
            "setup_base",
            format!("Project setup: discovery, build and go-live{suffix}"),
            1,
            discounted(SETUP_BASE),
            Recurrence::OneTime,
        ));
        let parts = [
            ("setup_steps", "Automation step", steps, SETUP_PER_STEP),
            (
                "setup_systems",
                "System integration",
                systems,
                SETUP_PER_SYSTEM,
            ),
            ("setup_triggers", "Trigger", triggers, SETUP_PER_TRIGGER),
            (
                "setup_human_steps",
                "Human-in-the-loop step (review UI, routing)",
                human,
                SETUP_PER_HUMAN_STEP,
            ),
        ];
        for (code, what, qty, unit) in parts {
            if qty > 0 {
                lines.push(line(
                    code,
                    format!("{what} × {qty}{suffix}"),
                    qty,
                    discounted(unit),
                    Recurrence::OneTime,
                ));
            }
        }
    }

    // Monthly.
    let committed = input.volume.monthly_runs;
    lines.push(line(
        "monthly_platform",
        format!("Platform, hosting and monitoring{suffix}"),
        1,
        discounted(PLATFORM_MONTHLY),
        Recurrence::Monthly,
    ));
    let mut left = committed;
    let mut marginal = TIERS[0].1;
    for (i, (size, unit, label)) in TIERS.iter().enumerate() {
        if left == 0 {
            break;
        }
        let qty = size.map_or(left, |s| s.min(left));
        left -= qty;
        marginal = *unit;
        lines.push(line(
            &format!("monthly_runs_tier_{}", i + 1),
            format!("Committed runs, {label}{suffix}"),
            qty,
            discounted(*unit),
            Recurrence::Monthly,
        ));
    }

    // Overage.
    let overage = match overrides.overage_unit_cents {
        Some(fixed) => {
            notes.push("Overage price fixed by a workspace override.".to_string());
            fixed
        }
        None => discounted((marginal * 3).div_ceil(2)),
    };

    let setup: u64 = lines
        .iter()
        .filter(|l| l.recurrence == Recurrence::OneTime)
        .map(|l| l.amount_cents)
        .sum();
    let monthly: u64 = lines
        .iter()
        .filter(|l| l.recurrence == Recurrence::Monthly)
        .map(|l| l.amount_cents)
        .sum();
    notes.push(format!(
        "Committed volume {} runs/month; runs above that are billed at {} cents each.",
        group(committed),
        overage
    ));
    if committed == 0 {
        notes.push("No committed volume: every run is billed as overage.".to_string());
    }
    Ok(PricingQuote {
        currency: input.currency,
        setup_fee_cents: setup,
        monthly_fee_cents: monthly,
        included_runs: committed,
        overage_unit_cents: overage,
        line_items: lines,
        notes,
    })
}

fn is_human(step: &wrk_plugin_sdk::blueprint::Step) -> bool {
    let action = step.action.to_ascii_lowercase();
    step.human
        || ["approve", "review", "manual", "sign"]
            .iter()
            .any(|w| action.contains(w))
}

fn line(
    code: &str,
    description: String,
    quantity: u64,
    unit_cents: u64,
    recurrence: Recurrence,
) -> LineItem {
    LineItem {
        code: code.to_string(),
        description,
        quantity,
        unit_cents,
        amount_cents: quantity * unit_cents,
        recurrence,
    }
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

wrk_plugin_sdk::export_plugin!(
    pricing,
    name = "builtin-pricing",
    version = "1.0.0",
    description = "WRK built-in pricing: complexity-based setup, tiered committed volume, overage, workspace overrides",
    handler = price
);
