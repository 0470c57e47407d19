//! Install validation, shared by every install path (ops upload, drop folder, `wrk plugin
//! check`): compiles; only allowed imports; manifest valid (semver, abi 1, known kind); runs on
//! the kind's sample inputs within the limits with valid output; and the same output twice.
//!
//! "Twice" is deliberately not two identical runs — under fixed clocks and a fixed seed those
//! would always agree. The second run sees a different clock, a different random seed and stdin
//! in 7-byte reads ([`Entropy::PERTURBED`]); a plugin whose output changes depends on something
//! other than its input and is refused. (In production every call gets the same fixed entropy,
//! so even such a plugin would be reproducible — contained — but it is still a bug worth refusing.)

use crate::engine::{CallStats, CompiledPlugin, PluginHost, sha256_hex};
use crate::error::PluginError;
use crate::output::check_output;
use crate::schemas::sample_inputs;
use crate::wasi::Entropy;
use serde::Serialize;
use wrk_plugin_sdk::Manifest;

/// The outcome of validating one binary. `reasons` is empty iff it may be installed.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub sha256: String,
    pub size_bytes: usize,
    pub manifest: Option<Manifest>,
    pub reasons: Vec<String>,
    pub samples: Vec<SampleRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleRun {
    pub name: String,
    pub ok: bool,
    pub stats: Option<CallStats>,
}

impl InstallReport {
    pub fn is_ok(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Human-readable text, as printed by `wrk plugin check` and written to `.error.txt`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        match &self.manifest {
            Some(m) => s.push_str(&format!(
                "plugin {} {} ({}), abi {}\n",
                m.name, m.version, m.kind, m.abi
            )),
            None => s.push_str("plugin (no valid manifest)\n"),
        }
        s.push_str(&format!(
            "sha256 {}\nsize {} bytes\n",
            self.sha256, self.size_bytes
        ));
        for run in &self.samples {
            match &run.stats {
                Some(st) => s.push_str(&format!(
                    "sample {}: {} ({} fuel, {} µs, {} KiB memory)\n",
                    run.name,
                    if run.ok { "ok" } else { "FAILED" },
                    st.fuel_used,
                    st.wall_time.as_micros(),
                    st.peak_memory_bytes / 1024
                )),
                None => s.push_str(&format!("sample {}: FAILED\n", run.name)),
            }
        }
        if self.is_ok() {
            s.push_str("result: valid\n");
        } else {
            s.push_str(&format!(
                "result: INVALID ({} reason(s))\n",
                self.reasons.len()
            ));
            for r in &self.reasons {
                s.push_str(&format!("- {r}\n"));
            }
        }
        s
    }
}

/// Validates `bytes`; on success also returns the compiled plugin so it need not be compiled
/// again.
pub fn validate(host: &PluginHost, bytes: &[u8]) -> (InstallReport, Option<CompiledPlugin>) {
    let mut report = InstallReport {
        sha256: sha256_hex(bytes),
        size_bytes: bytes.len(),
        manifest: crate::manifest::read_manifest(bytes).ok(),
        reasons: Vec::new(),
        samples: Vec::new(),
    };
    let compiled = match host.compile(bytes) {
        Ok(c) => c,
        Err(PluginError::Invalid(reasons)) => {
            report.reasons = reasons;
            report
                .reasons
                .push("not run on sample inputs: the module or its manifest is invalid".into());
            return (report, None);
        }
        Err(other) => {
            report.reasons.push(other.to_string());
            return (report, None);
        }
    };
    let kind = compiled.manifest.kind;
    for (name, input) in sample_inputs(kind) {
        let bytes = serde_json::to_vec(&input).unwrap_or_default();
        let first = host
            .run_with(&compiled, &bytes, Entropy::FIXED)
            .and_then(|raw| check_output(kind, &input, &raw.stdout).map(|v| (v, raw.stats)));
        let (value, stats) = match first {
            Ok(ok) => ok,
            // A rule may decline a sample (e.g. an unsupported currency); that is not a defect.
            Err(PluginError::Rejected { .. }) => {
                report.samples.push(SampleRun {
                    name: name.into(),
                    ok: true,
                    stats: None,
                });
                continue;
            }
            Err(e) => {
                report.reasons.push(format!("sample {name}: {e}"));
                report.samples.push(SampleRun {
                    name: name.into(),
                    ok: false,
                    stats: None,
                });
                continue;
            }
        };
        let second = host
            .run_with(&compiled, &bytes, Entropy::PERTURBED)
            .and_then(|raw| check_output(kind, &input, &raw.stdout));
        let ok = match second {
            Ok(again) if again == value => true,
            Ok(_) => {
                report.reasons.push(format!(
                    "sample {name}: non-deterministic: the output changed when run again (it depends on the clock, randomness or read sizes, not only on its input)"
                ));
                false
            }
            Err(e) => {
                report.reasons.push(format!(
                    "sample {name}: non-deterministic: the second run failed: {e}"
                ));
                false
            }
        };
        report.samples.push(SampleRun {
            name: name.into(),
            ok,
            stats: Some(stats),
        });
    }
    if report.reasons.is_empty() && report.samples.iter().all(|s| s.stats.is_none()) {
        report.reasons.push(format!(
            "rejected every {kind} sample input: the plugin never produced an output"
        ));
    }
    let ok = report.is_ok();
    (report, ok.then_some(compiled))
}
