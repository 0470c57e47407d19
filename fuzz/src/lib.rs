//! The code under fuzzing that does not live in a pure crate of its own: the plugin output check
//! (`plugins/src/output.rs`) and the document sniffing and text extraction of uploads
//! (`host/src/services/documents/extract.rs`). Both files are compiled here as they are, by
//! path, so the targets run the product's code without wasmtime or the HTTP stack (which would
//! make a sanitizer build take tens of minutes). `error` stands in for `wrk_plugins::error`
//! with the one variant the output check returns.

pub mod error {
    /// The `BadOutput` case of `wrk_plugins::error::PluginError`.
    #[derive(Debug, thiserror::Error)]
    pub enum PluginError {
        #[error("plugin output is invalid: {0}")]
        BadOutput(String),
    }
}

#[path = "../../plugins/src/output.rs"]
pub mod output;

#[path = "../../host/src/services/documents/extract.rs"]
pub mod extract;
