//! The built-in plugins, compiled from `plugins/builtin/*` for wasm32-wasip1 by `build.rs` and
//! embedded in the binary. Install them like any other plugin (they pass the same checks).

pub const PRICING: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wrk_builtin_pricing.wasm"));
pub const VALIDATION: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/wrk_builtin_validation.wasm"));
pub const INGESTION: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/wrk_builtin_ingestion.wasm"));

/// All three, with their kinds, for a first start: install and activate each.
pub fn all() -> [(wrk_plugin_sdk::PluginKind, &'static [u8]); 3] {
    use wrk_plugin_sdk::PluginKind::*;
    [
        (Pricing, PRICING),
        (Validation, VALIDATION),
        (Ingestion, INGESTION),
    ]
}
