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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quote() -> serde_json::Value {
        json!({
            "currency": "EUR", "setup_fee_cents": 1500, "monthly_fee_cents": 300,
            "included_runs": 100, "overage_unit_cents": 4,
            "line_items": [
                {"code": "setup", "description": "Setup", "quantity": 3, "unit_cents": 500, "amount_cents": 1500, "recurrence": "one_time"},
                {"code": "runs", "description": "Runs", "quantity": 100, "unit_cents": 3, "amount_cents": 300, "recurrence": "monthly"}
            ],
            "notes": []
        })
    }

    fn check(v: &serde_json::Value) -> Result<PricingQuote, PluginError> {
        check_pricing("EUR", &serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn a_consistent_quote_passes() {
        check(&quote()).unwrap();
    }

    #[test]
    fn pricing_invariants_are_enforced() {
        type Mutation = fn(&mut serde_json::Value);
        let cases: [(&str, Mutation); 7] = [
            ("negative cents", |q| q["setup_fee_cents"] = json!(-1)),
            ("fractional cents", |q| {
                q["line_items"][0]["unit_cents"] = json!(2.5)
            }),
            ("amount != quantity × unit", |q| {
                q["line_items"][0]["amount_cents"] = json!(1499)
            }),
            ("setup total", |q| q["setup_fee_cents"] = json!(1600)),
            ("monthly total", |q| q["monthly_fee_cents"] = json!(0)),
            ("currency", |q| q["currency"] = json!("USD")),
            ("unknown field", |q| q["discount"] = json!(1)),
        ];
        for (what, mutate) in cases {
            let mut q = quote();
            mutate(&mut q);
            assert!(
                matches!(check(&q), Err(PluginError::BadOutput(_))),
                "{what} was accepted"
            );
        }
    }

    #[test]
    fn validation_and_ingestion_shapes_are_enforced() {
        assert!(check_validation(br#"{"issues":[],"checklist":[]}"#).is_ok());
        assert!(
            check_validation(
                br#"{"issues":[{"code":"x","severity":"fatal","message":"m"}],"checklist":[]}"#
            )
            .is_err()
        );
        assert!(
            check_validation(
                br#"{"issues":[],"checklist":[{"code":"c","title":"t","assignee":"boss"}]}"#
            )
            .is_err()
        );
        assert!(
            check_ingestion(
                br#"{"blueprint":{"steps":[],"systems":[]},"confidence":0.5,"notes":[]}"#
            )
            .is_ok()
        );
        assert!(
            check_ingestion(
                br#"{"blueprint":{"steps":[],"systems":[]},"confidence":1.5,"notes":[]}"#
            )
            .is_err()
        );
        assert!(check_ingestion(b"  ").is_err());
    }

    /// The published schemas and the typed checks describe the same output shapes: every
    /// schema-required field is required by the typed check, and unknown fields are refused by
    /// both.
    #[test]
    fn output_schemas_and_typed_checks_agree() {
        let samples = [
            (PluginKind::Pricing, quote()),
            (
                PluginKind::Validation,
                json!({"issues": [], "checklist": []}),
            ),
            (
                PluginKind::Ingestion,
                json!({"blueprint": {"steps": [], "systems": []}, "confidence": 0.5, "notes": []}),
            ),
        ];
        let input = json!({"currency": "EUR"});
        for (kind, sample) in samples {
            let (_, schema) = crate::schemas::schema_for(kind);
            assert_eq!(schema["additionalProperties"], json!(false), "{kind}");
            check_output(kind, &input, &serde_json::to_vec(&sample).unwrap()).unwrap();
            let props = schema["properties"].as_object().unwrap();
            for key in sample.as_object().unwrap().keys() {
                assert!(props.contains_key(key), "{kind}: {key} not in the schema");
            }
            for required in schema["required"].as_array().unwrap() {
                let mut v = sample.clone();
                v.as_object_mut()
                    .unwrap()
                    .remove(required.as_str().unwrap());
                assert!(
                    check_output(kind, &input, &serde_json::to_vec(&v).unwrap()).is_err(),
                    "{kind}: {required} is optional in the typed check"
                );
            }
            let mut v = sample.clone();
            v["surprise"] = json!(1);
            assert!(
                check_output(kind, &input, &serde_json::to_vec(&v).unwrap()).is_err(),
                "{kind}"
            );
        }
    }

    #[test]
    fn every_sample_input_matches_its_input_type() {
        for kind in PluginKind::ALL {
            for (name, input) in crate::schemas::sample_inputs(kind) {
                let ok = match kind {
                    PluginKind::Pricing => {
                        serde_json::from_value::<wrk_plugin_sdk::pricing::PricingInput>(input)
                            .is_ok()
                    }
                    PluginKind::Validation => {
                        serde_json::from_value::<wrk_plugin_sdk::validation::ValidationInput>(input)
                            .is_ok()
                    }
                    PluginKind::Ingestion => {
                        serde_json::from_value::<wrk_plugin_sdk::ingestion::IngestionInput>(input)
                            .is_ok()
                    }
                };
                assert!(ok, "{kind}/{name}");
            }
            let (input_schema, _) = crate::schemas::schema_for(kind);
            assert_eq!(input_schema["type"], "object");
        }
    }
}
