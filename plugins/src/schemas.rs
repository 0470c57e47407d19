//! The published contract: JSON Schemas for the manifest and each kind's input and output
//! (`plugins/schemas/*.json`), and the sample inputs every install is run on
//! (`plugins/samples/<kind>/*.json`). Both are embedded in the binary.

use serde_json::{Value, json};
use wrk_plugin_sdk::PluginKind;

const MANIFEST: &str = include_str!("../schemas/manifest.json");
const PRICING_IN: &str = include_str!("../schemas/pricing.input.json");
const PRICING_OUT: &str = include_str!("../schemas/pricing.output.json");
const VALIDATION_IN: &str = include_str!("../schemas/validation.input.json");
const VALIDATION_OUT: &str = include_str!("../schemas/validation.output.json");
const INGESTION_IN: &str = include_str!("../schemas/ingestion.input.json");
const INGESTION_OUT: &str = include_str!("../schemas/ingestion.output.json");

const SAMPLES: [(PluginKind, &str, &str); 9] = [
    (
        PluginKind::Pricing,
        "invoice-intake",
        include_str!("../samples/pricing/invoice-intake.json"),
    ),
    (
        PluginKind::Pricing,
        "large-volume-usd",
        include_str!("../samples/pricing/large-volume-usd.json"),
    ),
    (
        PluginKind::Pricing,
        "overrides",
        include_str!("../samples/pricing/overrides.json"),
    ),
    (
        PluginKind::Pricing,
        "empty-blueprint",
        include_str!("../samples/pricing/empty-blueprint.json"),
    ),
    (
        PluginKind::Validation,
        "complete",
        include_str!("../samples/validation/complete.json"),
    ),
    (
        PluginKind::Validation,
        "broken",
        include_str!("../samples/validation/broken.json"),
    ),
    (
        PluginKind::Validation,
        "not-an-object",
        include_str!("../samples/validation/not-an-object.json"),
    ),
    (
        PluginKind::Ingestion,
        "invoices",
        include_str!("../samples/ingestion/invoices.json"),
    ),
    (
        PluginKind::Ingestion,
        "vague",
        include_str!("../samples/ingestion/vague.json"),
    ),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("embedded JSON is checked by the crate's tests")
}

/// `{"manifest": …, "pricing": {"input", "output"}, "validation": {…}, "ingestion": {…}}`.
pub fn schemas() -> Value {
    json!({
        "manifest": parse(MANIFEST),
        "pricing": {"input": parse(PRICING_IN), "output": parse(PRICING_OUT)},
        "validation": {"input": parse(VALIDATION_IN), "output": parse(VALIDATION_OUT)},
        "ingestion": {"input": parse(INGESTION_IN), "output": parse(INGESTION_OUT)},
    })
}

/// One kind's (input schema, output schema).
pub fn schema_for(kind: PluginKind) -> (Value, Value) {
    let all = schemas();
    (
        all[kind.as_str()]["input"].clone(),
        all[kind.as_str()]["output"].clone(),
    )
}

/// The sample inputs of a kind, by name.
pub fn sample_inputs(kind: PluginKind) -> Vec<(&'static str, Value)> {
    SAMPLES
        .iter()
        .filter(|(k, _, _)| *k == kind)
        .map(|(_, name, text)| (*name, parse(text)))
        .collect()
}
