//! Plugin output checking (`plugins/src/output.rs`): any bytes a plugin writes to stdout, for
//! every kind, are either refused with `BadOutput` or accepted; what is accepted keeps the
//! pricing invariants (line amounts = quantity × unit, totals = sums by recurrence, the input's
//! currency).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use wrk_fuzz::output::{check_ingestion, check_output, check_pricing, check_validation};
use wrk_plugin_sdk::PluginKind;
use wrk_plugin_sdk::pricing::Recurrence;

fuzz_target!(|data: &[u8]| {
    let input = json!({"currency": "EUR"});
    for kind in [
        PluginKind::Pricing,
        PluginKind::Validation,
        PluginKind::Ingestion,
    ] {
        let _ = check_output(kind, &input, data);
    }
    let _ = check_validation(data);
    let _ = check_ingestion(data);
    if let Ok(q) = check_pricing("EUR", data) {
        assert_eq!(q.currency, "EUR");
        let (mut setup, mut monthly) = (0u64, 0u64);
        for l in &q.line_items {
            assert_eq!(l.quantity.checked_mul(l.unit_cents), Some(l.amount_cents));
            match l.recurrence {
                Recurrence::OneTime => setup += l.amount_cents,
                Recurrence::Monthly => monthly += l.amount_cents,
            }
        }
        assert_eq!(setup, q.setup_fee_cents);
        assert_eq!(monthly, q.monthly_fee_cents);
    }
});
