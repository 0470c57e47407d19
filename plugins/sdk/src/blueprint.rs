//! The blueprint shape (API.md, "Automations"): `trigger {kind, system}`, `steps [{id, name,
//! system, action}]`, `systems [{name}]`, `volume {monthly_runs}`. More fields are welcome, so
//! these types ignore unknown fields, and every part is optional when read: rules that inspect a
//! half-written blueprint must see what is there, not fail on what is missing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub systems: Vec<SystemRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Volume>,
}

impl Blueprint {
    /// Reads a blueprint leniently: anything that does not fit becomes the empty blueprint
    /// part it should have been, so callers never crash on a malformed draft.
    pub fn from_value(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub kind: String,
    pub system: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub system: String,
    pub action: String,
    /// A step a person performs or approves (human in the loop); priced higher.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub human: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemRef {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_runs: Option<u64>,
}
