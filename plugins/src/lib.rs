//! The wasmtime plugin host (see ARCHITECTURE.md, "Plugins"). Filled in by the plugin engine work.
