//! Shadow run: a candidate plugin over stored (input, output) pairs of its kind, reporting case
//! by case what would change — shaped like `POST /api/ops/plugins/{id}/shadow-run`'s
//! `{cases, changed, max_delta_cents, diffs}`. Nothing is activated or stored.

use crate::engine::PluginHost;
use crate::output::check_output;
use crate::registry::InstalledPlugin;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wrk_plugin_sdk::PluginKind;
use wrk_plugin_sdk::pricing::PricingQuote;

/// A stored case: what the active plugin was given and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowCase {
    /// The host's id for the case (e.g. a quote id), echoed in the diff.
    #[serde(default)]
    pub id: Option<String>,
    pub input: Value,
    pub output: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowReport {
    pub cases: usize,
    pub changed: usize,
    /// Candidate failures (trap, bad output…), counted in `changed` too.
    pub failed: usize,
    /// Largest absolute change of any fee in any case (pricing; 0 for other kinds).
    pub max_delta_cents: u64,
    /// Only the cases that changed or failed.
    pub diffs: Vec<ShadowDiff>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowDiff {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<PricingDiff>,
    /// Top-level fields whose value changed (all kinds).
    pub fields: Vec<String>,
    /// Largest absolute fee change in this case, in cents (pricing).
    pub delta_cents: u64,
    pub before: Value,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingDiff {
    pub setup_delta_cents: i64,
    pub monthly_delta_cents: i64,
    pub overage_delta_cents: i64,
    pub included_runs_delta: i64,
    pub line_items: Vec<LineItemChange>,
}

/// A line item added, removed or re-priced (matched by `code` and recurrence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItemChange {
    pub code: String,
    pub before_cents: Option<u64>,
    pub after_cents: Option<u64>,
}

fn delta(after: u64, before: u64) -> i64 {
    (i128::from(after) - i128::from(before)).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn pricing_diff(before: &PricingQuote, after: &PricingQuote) -> PricingDiff {
    let key = |l: &wrk_plugin_sdk::pricing::LineItem| {
        (
            l.code.clone(),
            l.recurrence == wrk_plugin_sdk::pricing::Recurrence::Monthly,
        )
    };
    let mut line_items = Vec::new();
    for b in &before.line_items {
        let a = after.line_items.iter().find(|a| key(a) == key(b));
        if a.is_none_or(|a| a.amount_cents != b.amount_cents) {
            line_items.push(LineItemChange {
                code: b.code.clone(),
                before_cents: Some(b.amount_cents),
                after_cents: a.map(|a| a.amount_cents),
            });
        }
    }
    for a in &after.line_items {
        if !before.line_items.iter().any(|b| key(a) == key(b)) {
            line_items.push(LineItemChange {
                code: a.code.clone(),
                before_cents: None,
                after_cents: Some(a.amount_cents),
            });
        }
    }
    PricingDiff {
        setup_delta_cents: delta(after.setup_fee_cents, before.setup_fee_cents),
        monthly_delta_cents: delta(after.monthly_fee_cents, before.monthly_fee_cents),
        overage_delta_cents: delta(after.overage_unit_cents, before.overage_unit_cents),
        included_runs_delta: delta(after.included_runs, before.included_runs),
        line_items,
    }
}

/// Runs `candidate` over `cases` (synchronous; a few ms per hundred cases).
pub fn shadow_run(
    host: &PluginHost,
    candidate: &InstalledPlugin,
    cases: &[ShadowCase],
) -> ShadowReport {
    let kind = candidate.kind();
    let mut report = ShadowReport {
        cases: cases.len(),
        changed: 0,
        failed: 0,
        max_delta_cents: 0,
        diffs: Vec::new(),
    };
    for (index, case) in cases.iter().enumerate() {
        let result = serde_json::to_vec(&case.input)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                host.run(candidate.compiled(), &bytes)
                    .map_err(|e| e.to_string())
            })
            .and_then(|raw| {
                check_output(kind, &case.input, &raw.stdout).map_err(|e| e.to_string())
            });
        let after = match result {
            Ok(after) => after,
            Err(error) => {
                report.changed += 1;
                report.failed += 1;
                report.diffs.push(ShadowDiff {
                    index,
                    id: case.id.clone(),
                    error: Some(error),
                    pricing: None,
                    fields: Vec::new(),
                    delta_cents: 0,
                    before: case.output.clone(),
                    after: None,
                });
                continue;
            }
        };
        if after == case.output {
            continue;
        }
        let mut fields: Vec<String> = Vec::new();
        if let (Some(a), Some(b)) = (after.as_object(), case.output.as_object()) {
            for k in a.keys().chain(b.keys()) {
                if a.get(k) != b.get(k) && !fields.contains(k) {
                    fields.push(k.clone());
                }
            }
        }
        let pricing = if kind == PluginKind::Pricing {
            match (
                serde_json::from_value::<PricingQuote>(case.output.clone()),
                serde_json::from_value::<PricingQuote>(after.clone()),
            ) {
                (Ok(b), Ok(a)) => Some(pricing_diff(&b, &a)),
                _ => None,
            }
        } else {
            None
        };
        let delta_cents = pricing.as_ref().map_or(0, |p| {
            [
                p.setup_delta_cents,
                p.monthly_delta_cents,
                p.overage_delta_cents,
            ]
            .iter()
            .map(|d| d.unsigned_abs())
            .max()
            .unwrap_or(0)
        });
        report.changed += 1;
        report.max_delta_cents = report.max_delta_cents.max(delta_cents);
        report.diffs.push(ShadowDiff {
            index,
            id: case.id.clone(),
            error: None,
            pricing,
            fields,
            delta_cents,
            before: case.output.clone(),
            after: Some(after),
        });
    }
    report
}
