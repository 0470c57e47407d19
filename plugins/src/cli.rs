//! Library side of `wrk plugin check FILE` and `wrk plugin run FILE --input IN.json`, so the
//! binary's clap glue is a few lines each.

use crate::engine::{CallStats, PluginHost};
use crate::error::PluginError;
use crate::install::{InstallReport, validate};
use crate::limits::HostConfig;
use crate::output::check_output;
use serde::Serialize;
use std::path::Path;
use wrk_plugin_sdk::Manifest;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("{}", .0.render())]
    Invalid(Box<InstallReport>),
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// `wrk plugin check FILE`: the full install validation. `Ok` carries the report to print;
/// an invalid plugin is `Err(Invalid(report))` (whose `Display` is the rendered report).
pub fn check_file(path: &Path, config: HostConfig) -> Result<InstallReport, CliError> {
    let bytes = read(path)?;
    let host = PluginHost::new(config)?;
    let (report, _) = validate(&host, &bytes);
    if report.is_ok() {
        Ok(report)
    } else {
        Err(CliError::Invalid(Box::new(report)))
    }
}

/// What `wrk plugin run` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub manifest: Manifest,
    pub output: serde_json::Value,
    pub stats: CallStats,
}

/// `wrk plugin run FILE --input IN.json`: compile, run once under the limits, check the output.
pub fn run_file(path: &Path, input_path: &Path, config: HostConfig) -> Result<RunReport, CliError> {
    let bytes = read(path)?;
    let input_bytes = read(input_path)?;
    let input: serde_json::Value = serde_json::from_slice(&input_bytes)
        .map_err(|e| CliError::Input(format!("{}: not JSON: {e}", input_path.display())))?;
    let host = PluginHost::new(config)?;
    let plugin = host.compile(&bytes)?;
    let raw = host.run(&plugin, &serde_json::to_vec(&input).unwrap_or(input_bytes))?;
    let output = check_output(plugin.manifest.kind, &input, &raw.stdout)?;
    Ok(RunReport {
        manifest: plugin.manifest.clone(),
        output,
        stats: raw.stats,
    })
}
