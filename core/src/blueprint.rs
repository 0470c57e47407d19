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

#[cfg(test)]
mod tests {
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
