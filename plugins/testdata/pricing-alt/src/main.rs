//! A second, valid pricing plugin (flat rules) used by the hot-swap and shadow-run tests.
use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::pricing::{LineItem, PricingInput, PricingQuote, Recurrence};

fn price(input: PricingInput) -> Result<PricingQuote, Error> {
    let runs = input.volume.monthly_runs;
    let lines = vec![
        LineItem {
            code: "setup_flat".into(),
            description: "Flat setup".into(),
            quantity: 1,
            unit_cents: 200_000,
            amount_cents: 200_000,
            recurrence: Recurrence::OneTime,
        },
        LineItem {
            code: "monthly_runs".into(),
            description: "Committed runs".into(),
            quantity: runs,
            unit_cents: 5,
            amount_cents: runs * 5,
            recurrence: Recurrence::Monthly,
        },
    ];
    Ok(PricingQuote {
        currency: input.currency,
        setup_fee_cents: 200_000,
        monthly_fee_cents: runs * 5,
        included_runs: runs,
        overage_unit_cents: 8,
        line_items: lines,
        notes: vec!["flat".into()],
    })
}

wrk_plugin_sdk::export_plugin!(
    pricing,
    name = "alt-pricing",
    version = "2.0.0",
    description = "flat test rules",
    handler = price
);
