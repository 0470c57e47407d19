//! Checking a plugin's stdout before anyone uses it.
//!
//! Choice: typed serde deserialisation into the SDK's output types (`deny_unknown_fields`,
//! unsigned integers for cents, closed enums for severity/assignee/recurrence) followed by explicit
//! invariant checks — rather than a JSON Schema validator at run time. Reasons: the invariants
//! that matter (`amount = quantity × unit`, totals = sum of line items by recurrence, currency =
//! input currency) are not expressible in JSON Schema anyway; the typed path is a single parse
//! (the p50 budget for a whole call is 60 µs); and it avoids a large dependency tree. The
//! published schemas in `plugins/schemas/` describe the same shapes; a unit test keeps the two in
//! step (required fields and `additionalProperties: false`).

use crate::error::PluginError;
use serde::de::DeserializeOwned;
use wrk_plugin_sdk::PluginKind;
use wrk_plugin_sdk::ingestion::IngestionOutput;
use wrk_plugin_sdk::pricing::{PricingQuote, Recurrence};
use wrk_plugin_sdk::validation::ValidationOutput;

/// Largest integer a JSON consumer (JavaScript) reads exactly.
const MAX_SAFE_CENTS: u64 = (1 << 53) - 1;

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PluginError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::BadOutput("empty output".into()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| PluginError::BadOutput(format!("not the expected JSON shape: {e}")))
}

/// Parses and checks a pricing quote against the currency of its input.
pub fn check_pricing(currency: &str, bytes: &[u8]) -> Result<PricingQuote, PluginError> {
    let q: PricingQuote = parse(bytes)?;
    let bad = |m: String| Err(PluginError::BadOutput(m));
    if q.currency != currency {
        return bad(format!(
            "currency {:?} does not match the input's {:?}",
            q.currency, currency
        ));
    }
    let (mut setup, mut monthly) = (0u64, 0u64);
    for (i, l) in q.line_items.iter().enumerate() {
        if l.code.trim().is_empty() || l.description.trim().is_empty() {
            return bad(format!("line item {i} has an empty code or description"));
        }
        match l.quantity.checked_mul(l.unit_cents) {
            Some(a) if a == l.amount_cents => {}
            _ => {
                return bad(format!(
                    "line item {i} ({}): amount_cents {} != quantity {} × unit_cents {}",
                    l.code, l.amount_cents, l.quantity, l.unit_cents
                ));
            }
        }
        let sum = match l.recurrence {
            Recurrence::OneTime => &mut setup,
            Recurrence::Monthly => &mut monthly,
        };
        *sum = sum
            .checked_add(l.amount_cents)
            .ok_or_else(|| PluginError::BadOutput("line item total overflows".into()))?;
    }
    if q.setup_fee_cents != setup {
        return bad(format!(
            "setup_fee_cents {} != sum of one_time line items {}",
            q.setup_fee_cents, setup
        ));
    }
    if q.monthly_fee_cents != monthly {
        return bad(format!(
            "monthly_fee_cents {} != sum of monthly line items {}",
            q.monthly_fee_cents, monthly
        ));
    }
    if [q.setup_fee_cents, q.monthly_fee_cents, q.overage_unit_cents]
        .iter()
        .any(|c| *c > MAX_SAFE_CENTS)
    {
        return bad("an amount exceeds 2^53 - 1 cents".into());
    }
    Ok(q)
}

pub fn check_validation(bytes: &[u8]) -> Result<ValidationOutput, PluginError> {
    let out: ValidationOutput = parse(bytes)?;
    for (i, issue) in out.issues.iter().enumerate() {
        if issue.code.trim().is_empty() || issue.message.trim().is_empty() {
            return Err(PluginError::BadOutput(format!(
                "issue {i} has an empty code or message"
            )));
        }
        if issue
            .task
            .as_ref()
            .is_some_and(|t| t.title.trim().is_empty())
        {
            return Err(PluginError::BadOutput(format!(
                "issue {i} has a task without a title"
            )));
        }
    }
    if let Some(i) = out
        .checklist
        .iter()
        .position(|c| c.code.trim().is_empty() || c.title.trim().is_empty())
    {
        return Err(PluginError::BadOutput(format!(
            "checklist item {i} has an empty code or title"
        )));
    }
    Ok(out)
}

pub fn check_ingestion(bytes: &[u8]) -> Result<IngestionOutput, PluginError> {
    let out: IngestionOutput = parse(bytes)?;
    if !(0.0..=1.0).contains(&out.confidence) {
        return Err(PluginError::BadOutput(format!(
            "confidence {} is not within 0..=1",
            out.confidence
        )));
    }
    if let Some(i) = out
        .blueprint
        .steps
        .iter()
        .position(|s| s.id.trim().is_empty())
    {
        return Err(PluginError::BadOutput(format!(
            "blueprint step {i} has an empty id"
        )));
    }
    Ok(out)
}

/// Checks output of any kind; `input` is the JSON the plugin was given (for the currency).
pub fn check_output(
    kind: PluginKind,
    input: &serde_json::Value,
    bytes: &[u8],
) -> Result<serde_json::Value, PluginError> {
    let to_value = |r: Result<serde_json::Value, serde_json::Error>| {
        r.map_err(|e| PluginError::BadOutput(e.to_string()))
    };
    match kind {
        PluginKind::Pricing => {
            let currency = input
                .get("currency")
                .and_then(|c| c.as_str())
                .unwrap_or_default();
            to_value(serde_json::to_value(check_pricing(currency, bytes)?))
        }
        PluginKind::Validation => to_value(serde_json::to_value(check_validation(bytes)?)),
        PluginKind::Ingestion => to_value(serde_json::to_value(check_ingestion(bytes)?)),
    }
}
