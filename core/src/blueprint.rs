//! The blueprint's published JSON Schema (flow 10, API.md "Automations").
//!
//! A blueprint is JSON the client and ops edit together: at least `trigger {kind, system}`,
//! `steps [{id, name, system, action}]`, `systems [{name}]` and `volume {monthly_runs}`, plus
//! `slas` and any other field (more fields are welcome, so `additionalProperties` stays open).
//! The schema describes the *finished* shape; a draft may miss parts — the validation plugin says
//! what is missing, as issues with JSON-pointer paths, rather than the schema refusing the save.
//!
//! The schema is data (a `serde_json::Value`), published as is at `GET /api/schemas/blueprint`.

use serde_json::{Value, json};

/// The `$id` of the schema, stable across releases of the same shape.
pub const SCHEMA_ID: &str = "urn:wrk:schema:blueprint:1";

/// The JSON Schema (draft 2020-12) of a blueprint.
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Automation blueprint",
        "description": "What an automation does: what starts it, the steps it performs, the systems it touches, how often it runs and the service levels it must meet. More fields are welcome.",
        "type": "object",
        "required": ["trigger", "steps", "systems", "volume"],
        "additionalProperties": true,
        "properties": {
            "trigger": {
                "description": "What starts a run.",
                "type": "object",
                "required": ["kind", "system"],
                "additionalProperties": true,
                "properties": {
                    "kind": {"type": "string", "minLength": 1, "examples": ["webhook", "schedule", "email", "manual"]},
                    "system": {"type": "string", "minLength": 1, "description": "One of `systems[].name`."},
                    "schedule": {"type": "string", "description": "For scheduled triggers, e.g. a cron expression."}
                }
            },
            "steps": {
                "description": "What a run does, in order.",
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["id", "name", "system", "action"],
                    "additionalProperties": true,
                    "properties": {
                        "id": {"type": "string", "minLength": 1, "description": "Unique within the blueprint."},
                        "name": {"type": "string", "minLength": 1},
                        "system": {"type": "string", "minLength": 1, "description": "One of `systems[].name`."},
                        "action": {"type": "string", "minLength": 1},
                        "human": {"type": "boolean", "description": "A person performs or approves this step."}
                    }
                }
            },
            "systems": {
                "description": "Every system the automation connects to; each needs a credential.",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": true,
                    "properties": {
                        "name": {"type": "string", "minLength": 1}
                    }
                }
            },
            "volume": {
                "description": "Expected load; `monthly_runs` is the committed volume the quote prices.",
                "type": "object",
                "required": ["monthly_runs"],
                "additionalProperties": true,
                "properties": {
                    "monthly_runs": {"type": "integer", "minimum": 0}
                }
            },
            "slas": {
                "description": "Service levels the automation must meet.",
                "type": "object",
                "additionalProperties": true,
                "properties": {
                    "max_latency_seconds": {"type": "integer", "minimum": 0},
                    "success_rate_percent": {"type": "number", "minimum": 0, "maximum": 100},
                    "support_hours": {"type": "string"}
                }
            }
        }
    })
}

/// The committed monthly volume a blueprint states (`volume.monthly_runs`), if it states one as a
/// whole number.
pub fn monthly_runs(blueprint: &Value) -> Option<u64> {
    blueprint
        .get("volume")
        .and_then(|v| v.get("monthly_runs"))
        .and_then(Value::as_u64)
}

/// Whether a stored blueprint says anything at all (`null` and `{}` do not).
pub fn is_present(blueprint: &Value) -> bool {
    match blueprint {
        Value::Null => false,
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

/// The system names a blueprint mentions: declared in `systems`, then used by the trigger and
/// steps, each once (case-insensitively), in that order.
pub fn system_names(blueprint: &Value) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |s: Option<&str>| {
        if let Some(s) = s.map(str::trim).filter(|s| !s.is_empty())
            && !names.iter().any(|n| n.eq_ignore_ascii_case(s))
        {
            names.push(s.to_owned());
        }
    };
    if let Some(Value::Array(systems)) = blueprint.get("systems") {
        for s in systems {
            add(s.get("name").and_then(Value::as_str));
        }
    }
    add(blueprint
        .get("trigger")
        .and_then(|t| t.get("system"))
        .and_then(Value::as_str));
    if let Some(Value::Array(steps)) = blueprint.get("steps") {
        for s in steps {
            add(s.get("system").and_then(Value::as_str));
        }
    }
    names
}

/// The deepest nesting a blueprint may have (`{}` is 1, `{"a": {}}` is 2). Real blueprints
/// are 4–6 deep; this is far inside what the validation plugin parses (serde_json's recursion
/// limit of 128, minus the envelope the host wraps around the blueprint).
pub const MAX_DEPTH: usize = 32;

/// The largest blueprint, as compact JSON. A detailed real one is a few kilobytes.
pub const MAX_BYTES: usize = 256 * 1024;

/// Why a blueprint is refused at input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    #[error("is nested more than {MAX_DEPTH} levels deep; flatten it")]
    TooDeep,
    #[error("is {bytes} bytes as JSON, more than the {MAX_BYTES} a blueprint may have")]
    TooLarge { bytes: usize },
}

/// How deeply `value` nests (a scalar is 0, an empty object or array 1). Iterative, so any
/// depth is measured without recursion.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => {
                deepest = deepest.max(d);
                continue;
            }
        };
        deepest = deepest.max(d + 1);
        stack.extend(children.map(|c| (c, d + 1)));
    }
    deepest
}

/// The rule for every blueprint that enters (edited, or applied from an ingestion proposal): at
/// most [`MAX_DEPTH`] deep and [`MAX_BYTES`] large, so validation can always run on it.
pub fn check_bounds(blueprint: &Value) -> Result<(), BoundsError> {
    if depth(blueprint) > MAX_DEPTH {
        return Err(BoundsError::TooDeep);
    }
    let bytes = serde_json::to_vec(blueprint).map_or(usize::MAX, |b| b.len());
    if bytes > MAX_BYTES {
        return Err(BoundsError::TooLarge { bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{BoundsError, MAX_BYTES, MAX_DEPTH, check_bounds, depth};

    fn nested(levels: usize) -> serde_json::Value {
        let mut v = serde_json::json!({});
        for _ in 1..levels {
            v = serde_json::json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_counts_objects_and_arrays() {
        assert_eq!(depth(&serde_json::json!(1)), 0);
        assert_eq!(depth(&serde_json::json!({})), 1);
        assert_eq!(depth(&serde_json::json!({"steps": [{"id": "a"}]})), 3);
        assert_eq!(depth(&nested(MAX_DEPTH)), MAX_DEPTH);
    }

    #[test]
    fn too_deep_or_too_large_blueprints_are_refused_and_real_ones_pass() {
        assert_eq!(check_bounds(&nested(MAX_DEPTH)), Ok(()));
        assert_eq!(
            check_bounds(&nested(MAX_DEPTH + 1)),
            Err(BoundsError::TooDeep)
        );
        assert_eq!(check_bounds(&nested(126)), Err(BoundsError::TooDeep));
        let big = serde_json::json!({ "notes": "x".repeat(MAX_BYTES) });
        assert!(matches!(
            check_bounds(&big),
            Err(BoundsError::TooLarge { .. })
        ));
        let real = serde_json::json!({
            "trigger": {"kind": "schedule", "system": "ERP", "schedule": "0 2 * * *"},
            "steps": [{"id": "s1", "name": "Export", "system": "ERP", "action": "export"}],
            "systems": [{"name": "ERP"}],
            "volume": {"monthly_runs": 30},
            "slas": {"max_duration_minutes": 30}
        });
        assert_eq!(check_bounds(&real), Ok(()));
    }

    use super::*;

    #[test]
    fn the_schema_requires_the_four_documented_parts_and_allows_more() {
        let s = schema();
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, ["trigger", "steps", "systems", "volume"]);
        assert_eq!(s["additionalProperties"], true);
        assert_eq!(
            s["properties"]["steps"]["items"]["required"],
            json!(["id", "name", "system", "action"])
        );
        assert!(s["properties"]["slas"].is_object());
    }

    #[test]
    fn monthly_runs_reads_whole_numbers_only() {
        assert_eq!(
            monthly_runs(&json!({"volume": {"monthly_runs": 500}})),
            Some(500)
        );
        assert_eq!(
            monthly_runs(&json!({"volume": {"monthly_runs": "500"}})),
            None
        );
        assert_eq!(monthly_runs(&json!({})), None);
    }

    #[test]
    fn empty_blueprints_are_not_present() {
        assert!(!is_present(&Value::Null));
        assert!(!is_present(&json!({})));
        assert!(is_present(&json!({"steps": []})));
    }

    #[test]
    fn system_names_are_collected_once_in_order() {
        let bp = json!({
            "systems": [{"name": "Gmail"}, {"name": "HubSpot"}],
            "trigger": {"kind": "email", "system": "gmail"},
            "steps": [{"system": "Slack"}, {"system": "HubSpot"}]
        });
        assert_eq!(system_names(&bp), ["Gmail", "HubSpot", "Slack"]);
    }
}
