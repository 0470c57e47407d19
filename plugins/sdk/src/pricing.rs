//! `pricing`: `{abi, tenant:{id, overrides}, automation:{id,name}, version:{number, blueprint},
//! volume:{monthly_runs}, currency}` → a quote. All money is integer cents.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingInput {
    pub abi: u32,
    pub tenant: TenantRef,
    pub automation: AutomationRef,
    pub version: VersionRef,
    pub volume: RunVolume,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRef {
    pub id: String,
    #[serde(default)]
    pub overrides: PricingOverrides,
}

/// Per-workspace overrides set by ops (`PUT /api/ops/tenants/{tid}/pricing-override`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_fee_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overage_unit_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRef {
    pub number: u32,
    /// Kept as raw JSON: read it with [`crate::blueprint::Blueprint::from_value`].
    pub blueprint: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunVolume {
    pub monthly_runs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingQuote {
    pub currency: String,
    pub setup_fee_cents: u64,
    pub monthly_fee_cents: u64,
    pub included_runs: u64,
    pub overage_unit_cents: u64,
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub unit_cents: u64,
    /// Must equal `quantity × unit_cents`; negative adjustments are not expressible on purpose:
    /// discounts are applied to the unit price, and the line says so.
    pub amount_cents: u64,
    pub recurrence: Recurrence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    OneTime,
    Monthly,
}
