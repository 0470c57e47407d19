//! Guest SDK for WRK Copilot plugins, ABI v1 (see ARCHITECTURE.md, "Plugins (wasmtime)").
//!
//! A plugin is a WASI preview-1 command module: it reads one JSON document from stdin and writes
//! one JSON document to stdout. This crate hides that plumbing, so a pricing rule is a plain
//! function plus one macro line:
//!
//! ```text
//! use wrk_plugin_sdk::{Error, pricing::{PricingInput, PricingQuote}};
//!
//! fn price(input: PricingInput) -> Result<PricingQuote, Error> { /* ... */ }
//!
//! wrk_plugin_sdk::export_plugin!(pricing, name = "acme-pricing", version = "1.0.0",
//!     description = "Acme's rules", handler = price);
//! ```
//!
//! The macro writes the manifest into the `wrk-plugin` custom section and generates `main`.
//!
//! The same types are compiled natively into the host (`wrk-plugins`), so guest and host agree
//! on the ABI by construction. Input types are lenient (unknown fields are ignored, so the host
//! can add fields without breaking old plugins); output types are strict
//! (`deny_unknown_fields`), because the host checks every output against them.
//!
//! Layout: [`pricing`], [`validation`], [`ingestion`] hold the per-kind types; [`blueprint`] the
//! blueprint shape shared by all three; [`run`] and the macros the guest entry point.

pub mod blueprint;
pub mod ingestion;
pub mod pricing;
pub mod validation;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{Read, Write};

/// The only ABI version this SDK speaks.
pub const ABI_VERSION: u32 = 1;

/// Name of the custom section that holds the manifest.
pub const MANIFEST_SECTION: &str = "wrk-plugin";

/// What a plugin does. Serialized lowercase, as in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Pricing,
    Validation,
    Ingestion,
}

impl PluginKind {
    pub const ALL: [PluginKind; 3] = [Self::Pricing, Self::Validation, Self::Ingestion];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pricing => "pricing",
            Self::Validation => "validation",
            Self::Ingestion => "ingestion",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The manifest stored in the `wrk-plugin` custom section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub kind: PluginKind,
    /// Semver, checked by the host at install.
    pub version: String,
    pub abi: u32,
    #[serde(default)]
    pub description: String,
}

/// A rule's refusal of its input (e.g. an unsupported currency). The guest writes it as JSON to
/// stderr and exits with status 1; the host reports it as a rejection, not a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub code: String,
    pub message: String,
}

impl Error {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Ties a kind to its input and output types, so `export_plugin!(pricing, ...)` only accepts a
/// pricing function.
pub trait KindMarker {
    const KIND: PluginKind;
    type Input: DeserializeOwned;
    type Output: Serialize;
}

/// Markers used by [`export_plugin!`]; lowercase so the macro reads like the manifest.
#[allow(non_camel_case_types)]
pub mod kinds {
    use super::*;

    #[derive(Debug)]
    pub struct pricing;
    #[derive(Debug)]
    pub struct validation;
    #[derive(Debug)]
    pub struct ingestion;

    impl KindMarker for pricing {
        const KIND: PluginKind = PluginKind::Pricing;
        type Input = crate::pricing::PricingInput;
        type Output = crate::pricing::PricingQuote;
    }
    impl KindMarker for validation {
        const KIND: PluginKind = PluginKind::Validation;
        type Input = crate::validation::ValidationInput;
        type Output = crate::validation::ValidationOutput;
    }
    impl KindMarker for ingestion {
        const KIND: PluginKind = PluginKind::Ingestion;
        type Input = crate::ingestion::IngestionInput;
        type Output = crate::ingestion::IngestionOutput;
    }
}

/// The guest entry point: stdin → `handler` → stdout. On a handler error or unreadable input it
/// writes the error JSON to stderr and exits with status 1.
pub fn run<K: KindMarker>(handler: fn(K::Input) -> Result<K::Output, Error>) {
    let mut raw = Vec::new();
    let result = std::io::stdin()
        .read_to_end(&mut raw)
        .map_err(|e| Error::new("input_unreadable", e.to_string()))
        .and_then(|_| {
            serde_json::from_slice::<K::Input>(&raw)
                .map_err(|e| Error::new("input_invalid", e.to_string()))
        })
        .and_then(handler)
        .and_then(|out| {
            serde_json::to_vec(&out).map_err(|e| Error::new("output_unserializable", e.to_string()))
        });
    match result {
        Ok(bytes) => {
            let mut stdout = std::io::stdout().lock();
            // A failed write is the host's cap; nothing useful is left to do but exit.
            let _ = stdout.write_all(&bytes);
            let _ = stdout.flush();
        }
        Err(err) => {
            let text = serde_json::to_string(&err).unwrap_or_else(|_| err.to_string());
            let _ = std::io::stderr().write_all(text.as_bytes());
            std::process::exit(1);
        }
    }
}

/// Copies a manifest string into a fixed-size array for the custom section (const context).
#[doc(hidden)]
pub const fn __manifest_bytes<const N: usize>(s: &str) -> [u8; N] {
    let bytes = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Emits raw manifest JSON into the `wrk-plugin` custom section. Prefer [`export_plugin!`]; this
/// lower-level form exists for plugins that drive stdin/stdout themselves.
#[macro_export]
macro_rules! manifest {
    ($json:expr) => {
        const __WRK_PLUGIN_MANIFEST: &str = $json;
        #[used]
        #[unsafe(link_section = "wrk-plugin")]
        static __WRK_PLUGIN_MANIFEST_SECTION: [u8; __WRK_PLUGIN_MANIFEST.len()] =
            $crate::__manifest_bytes(__WRK_PLUGIN_MANIFEST);
    };
}

/// Declares the manifest and exports `handler` as the plugin's `main`.
///
/// `export_plugin!(pricing, name = "n", version = "1.2.3", description = "d", handler = f);`
/// The kind is one of `pricing`, `validation`, `ingestion`; `f` must take that kind's input.
#[macro_export]
macro_rules! export_plugin {
    ($kind:ident, name = $name:literal, version = $version:literal,
     description = $desc:literal, handler = $handler:path $(,)?) => {
        $crate::manifest!(concat!(
            "{\"name\":\"",
            $name,
            "\",\"kind\":\"",
            stringify!($kind),
            "\",\"version\":\"",
            $version,
            "\",\"abi\":1,\"description\":\"",
            $desc,
            "\"}"
        ));
        fn main() {
            $crate::run::<$crate::kinds::$kind>($handler);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_with_lowercase_kind() {
        let m: Manifest = serde_json::from_str(
            r#"{"name":"p","kind":"pricing","version":"1.0.0","abi":1,"description":"d"}"#,
        )
        .unwrap();
        assert_eq!(m.kind, PluginKind::Pricing);
        assert_eq!(PluginKind::parse("ingestion"), Some(PluginKind::Ingestion));
        assert_eq!(PluginKind::parse("nope"), None);
    }

    #[test]
    fn manifest_bytes_copies_the_whole_string() {
        const S: &str = "{\"a\":1}";
        let b: [u8; S.len()] = __manifest_bytes(S);
        assert_eq!(&b, S.as_bytes());
    }
}
