//! `ingestion`: `{abi, requirements_text, documents:[{name, text}]}` → `{blueprint, confidence,
//! notes}`.

use crate::blueprint::Blueprint;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestionInput {
    pub abi: u32,
    #[serde(default)]
    pub requirements_text: String,
    #[serde(default)]
    pub documents: Vec<Document>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestionOutput {
    /// A draft: parts the text did not reveal are left out, and validation will say so.
    pub blueprint: Blueprint,
    /// 0.0 ..= 1.0.
    pub confidence: f64,
    #[serde(default)]
    pub notes: Vec<String>,
}
