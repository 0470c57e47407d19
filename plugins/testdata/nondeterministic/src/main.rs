//! Hostile: a pricing plugin whose answer depends on what it can observe of its environment:
//! the wall clock, random bytes (through HashMap's RandomState) and how stdin is chunked.
//! Under the host's fixed clock and seed every call returns the same bytes (contained); the
//! install check runs a second time with another clock, seed and chunking and must refuse it.
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Read;
use wrk_plugin_sdk::Error;
use wrk_plugin_sdk::pricing::{LineItem, PricingQuote, Recurrence};

wrk_plugin_sdk::manifest!(
    r#"{"name":"test-nondeterministic","kind":"pricing","version":"0.1.0","abi":1,"description":"depends on clock and randomness"}"#
);

fn main() {
    let mut buf = [0u8; 4096];
    let mut input = Vec::new();
    let mut reads = 0u64;
    let mut stdin = std::io::stdin();
    loop {
        match stdin.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                reads += 1;
                input.extend_from_slice(&buf[..n]);
            }
        }
    }
    let result: Result<PricingQuote, Error> = (|| {
        let v: serde_json::Value =
            serde_json::from_slice(&input).map_err(|e| Error::new("input", e.to_string()))?;
        let currency = v["currency"].as_str().unwrap_or("EUR").to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let salt = RandomState::new().hash_one(42u64) % 100;
        Ok(PricingQuote {
            currency,
            setup_fee_cents: 100_000 + salt,
            monthly_fee_cents: 0,
            included_runs: 0,
            overage_unit_cents: 5,
            line_items: vec![LineItem {
                code: "setup".into(),
                description: "setup".into(),
                quantity: 1,
                unit_cents: 100_000 + salt,
                amount_cents: 100_000 + salt,
                recurrence: Recurrence::OneTime,
            }],
            notes: vec![format!("priced at {now}, {reads} reads")],
        })
    })();
    match result {
        Ok(q) => println!("{}", serde_json::to_string(&q).unwrap_or_default()),
        Err(e) => eprintln!("{e}"),
    }
}
