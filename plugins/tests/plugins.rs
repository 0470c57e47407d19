//! Black-box tests of the plugin host with the built-in plugins and the hostile plugins built
//! from `plugins/testdata` (by build.rs, found through `WRK_PLUGINS_GUEST_DIR`).

use chrono::Utc;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wrk_plugins::inbox::{InboxConfig, InboxEvent, InboxWatcher};
use wrk_plugins::sdk::pricing::{PricingInput, Recurrence};
use wrk_plugins::{
    ActivationAction, HostConfig, Limits, PluginError, PluginHost, PluginKind, Registry,
    RegistryError, ShadowCase, builtin, sample_inputs, shadow_run, validate,
};

fn guest(name: &str) -> Vec<u8> {
    let path = Path::new(env!("WRK_PLUGINS_GUEST_DIR"))
        .join(format!("wrk_test_{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn host() -> Arc<PluginHost> {
    Arc::new(
        PluginHost::new(HostConfig {
            max_concurrent_calls: 16,
            ..HostConfig::default()
        })
        .unwrap(),
    )
}

fn host_with(limits: Limits) -> Arc<PluginHost> {
    Arc::new(
        PluginHost::new(HostConfig {
            limits,
            max_concurrent_calls: 16,
            ..HostConfig::default()
        })
        .unwrap(),
    )
}

fn registry_with_builtins() -> Registry {
    let registry = Registry::new(host());
    let activations = registry
        .ensure_builtins("test", Utc::now())
        .unwrap_or_else(|r| panic!("{}", r.render()));
    assert_eq!(activations.len(), 3);
    assert!(
        registry
            .ensure_builtins("test", Utc::now())
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    registry
}

fn pricing_sample(name: &str) -> PricingInput {
    let (_, v) = sample_inputs(PluginKind::Pricing)
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// Runs a test plugin's `_start` on the pricing sample and returns the error.
fn run_err(host: &PluginHost, name: &str) -> PluginError {
    let plugin = host.compile(&guest(name)).unwrap();
    let input = serde_json::to_vec(&pricing_sample("invoice-intake")).unwrap();
    match host.run(&plugin, &input) {
        Ok(raw) => wrk_plugins::output::check_pricing("EUR", &raw.stdout).unwrap_err(),
        Err(e) => e,
    }
}

fn assert_normal_plugin_still_runs(host: &PluginHost) {
    let plugin = host.compile(builtin::PRICING).unwrap();
    let input = pricing_sample("invoice-intake");
    let raw = host
        .run(&plugin, &serde_json::to_vec(&input).unwrap())
        .unwrap();
    wrk_plugins::output::check_pricing("EUR", &raw.stdout).unwrap();
}

fn poll_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn every_builtin_plugin_passes_install_validation() {
    let host = host();
    for (kind, bytes) in builtin::all() {
        let (report, compiled) = validate(&host, bytes);
        assert!(report.is_ok(), "{}", report.render());
        assert_eq!(compiled.unwrap().manifest.kind, kind);
        assert!(
            report.samples.iter().all(|s| s.ok && s.stats.is_some()),
            "{}",
            report.render()
        );
    }
}

#[test]
fn builtin_pricing_explains_every_amount_with_line_items() {
    let registry = registry_with_builtins();
    let answer = registry
        .price(None, &pricing_sample("invoice-intake"))
        .unwrap();
    let q = answer.output;
    assert_eq!(answer.plugin.name, "builtin-pricing");
    assert_eq!(q.currency, "EUR");
    // base 1,500 + 3 steps × 250 + 3 systems × 400 + 1 trigger × 200 + 1 approval step × 350.
    assert_eq!(
        q.setup_fee_cents,
        150_000 + 75_000 + 120_000 + 20_000 + 35_000
    );
    // platform 49 + 1,000 runs × 10¢ + 1,000 runs × 6¢.
    assert_eq!(q.monthly_fee_cents, 4_900 + 10_000 + 6_000);
    assert_eq!(q.included_runs, 2_000);
    assert_eq!(q.overage_unit_cents, 9);
    let one_time: u64 = q
        .line_items
        .iter()
        .filter(|l| l.recurrence == Recurrence::OneTime)
        .map(|l| l.amount_cents)
        .sum();
    assert_eq!(one_time, q.setup_fee_cents);
}

#[test]
fn builtin_pricing_applies_workspace_overrides() {
    let registry = registry_with_builtins();
    let q = registry
        .price(None, &pricing_sample("overrides"))
        .unwrap()
        .output;
    // Fixed setup 5,000 with 15% off; overage fixed at 9¢; runs tiers discounted.
    assert_eq!(q.setup_fee_cents, 425_000);
    assert_eq!(q.overage_unit_cents, 9);
    assert!(q.line_items.iter().any(|l| l.code == "setup_fixed"));
    assert!(q.line_items.iter().all(|l| l.code != "setup_base"));
    assert_eq!(q.included_runs, 12_000);
}

#[test]
fn builtin_pricing_rejects_an_unknown_currency_as_a_rejection_not_a_crash() {
    let registry = registry_with_builtins();
    let mut input = pricing_sample("invoice-intake");
    input.currency = "XXX".into();
    let err = registry.price(None, &input).unwrap_err();
    assert!(
        matches!(&err, PluginError::Rejected { code, .. } if code == "unsupported_currency"),
        "{err:?}"
    );
}

#[test]
fn builtin_validation_reports_business_rule_issues_with_paths_and_tasks() {
    let registry = registry_with_builtins();
    let (_, input) = sample_inputs(PluginKind::Validation)
        .into_iter()
        .find(|(n, _)| *n == "broken")
        .unwrap();
    let out = registry
        .validate(None, &serde_json::from_value(input).unwrap())
        .unwrap()
        .output;
    let codes: Vec<&str> = out.issues.iter().map(|i| i.code.as_str()).collect();
    for expected in [
        "missing_trigger",
        "step_incomplete",
        "duplicate_step_id",
        "undeclared_system",
        "missing_volume",
        "credentials_missing",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    let undeclared = out
        .issues
        .iter()
        .find(|i| i.code == "undeclared_system")
        .unwrap();
    assert_eq!(undeclared.path.as_deref(), Some("/steps/0/system"));
    assert!(
        out.issues
            .iter()
            .any(|i| i.code == "missing_volume" && i.task.is_some())
    );
    assert!(out.checklist.iter().any(|c| c.code == "connect_slack"));

    let (_, complete) = sample_inputs(PluginKind::Validation)
        .into_iter()
        .find(|(n, _)| *n == "complete")
        .unwrap();
    let out = registry
        .validate(None, &serde_json::from_value(complete).unwrap())
        .unwrap()
        .output;
    assert!(
        out.issues
            .iter()
            .all(|i| i.severity == wrk_plugins::sdk::validation::Severity::Warning),
        "{:?}",
        out.issues
    );
}

#[test]
fn builtin_ingestion_drafts_a_blueprint_from_text() {
    let registry = registry_with_builtins();
    let (_, input) = sample_inputs(PluginKind::Ingestion)
        .into_iter()
        .find(|(n, _)| *n == "invoices")
        .unwrap();
    let out = registry
        .ingest(None, &serde_json::from_value(input).unwrap())
        .unwrap()
        .output;
    let bp = out.blueprint;
    assert_eq!(
        bp.trigger
            .as_ref()
            .map(|t| (t.kind.as_str(), t.system.as_str())),
        Some(("email", "Outlook"))
    );
    let systems: Vec<&str> = bp.systems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(systems, ["Outlook", "Slack", "DATEV"]);
    assert_eq!(bp.volume.and_then(|v| v.monthly_runs), Some(2_000));
    assert!(
        bp.steps
            .iter()
            .any(|s| s.action == "approve" && s.human && s.system == "Slack")
    );
    assert!(bp.steps.len() >= 3);
    assert!((out.confidence - 1.0).abs() < f64::EPSILON);
}

#[test]
fn forever_loop_runs_out_of_fuel_and_a_normal_plugin_still_runs() {
    let host = host();
    assert_eq!(run_err(&host, "forever-loop"), PluginError::OutOfFuel);
    assert_normal_plugin_still_runs(&host);
}

/// Runs the forever loop with ample fuel under `limits`: it must stop with a timeout (well before
/// 5 s), and the host must serve the next call normally.
fn forever_loop_times_out_under(limits: Limits) {
    let host = host_with(Limits {
        fuel: u64::MAX / 2,
        ..limits
    });
    let started = Instant::now();
    assert_eq!(run_err(&host, "forever-loop"), PluginError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_normal_plugin_still_runs(&host);
}

#[test]
fn forever_loop_with_ample_fuel_hits_the_cpu_time_limit() {
    forever_loop_times_out_under(Limits {
        cpu_time: Duration::from_millis(30),
        ..Limits::default()
    });
}

#[test]
fn forever_loop_with_ample_fuel_and_cpu_time_hits_the_wall_time_cap() {
    forever_loop_times_out_under(Limits {
        cpu_time: Duration::from_secs(60),
        wall_time: Duration::from_millis(50),
        ..Limits::default()
    });
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let host = host_with(Limits {
        fuel: u64::MAX / 2,
        cpu_time: Duration::from_secs(5),
        wall_time: Duration::from_secs(5),
        ..Limits::default()
    });
    assert_eq!(run_err(&host, "memory-bomb"), PluginError::MemoryLimit);
    assert_normal_plugin_still_runs(&host);
}

#[test]
fn ten_mebibytes_of_output_are_cut_off_at_the_output_cap() {
    let host = host();
    let err = run_err(&host, "huge-output");
    assert!(
        matches!(&err, PluginError::BadOutput(m) if m.contains("262144")),
        "{err:?}"
    );
    assert_normal_plugin_still_runs(&host);
}

#[test]
fn garbage_on_stdout_is_bad_output() {
    let host = host();
    assert!(matches!(
        run_err(&host, "garbage-output"),
        PluginError::BadOutput(_)
    ));
    assert_normal_plugin_still_runs(&host);
}

#[test]
fn a_trap_mid_run_is_a_typed_trap() {
    let host = host();
    assert!(matches!(
        run_err(&host, "trap-mid-run"),
        PluginError::Trap(_)
    ));
    assert_normal_plugin_still_runs(&host);
}

#[test]
fn a_forbidden_import_is_refused_at_install() {
    let host = host();
    let (report, compiled) = validate(&host, &guest("forbidden-import"));
    assert!(compiled.is_none());
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.contains("env::host_secret") && r.contains("not allowed")),
        "{}",
        report.render()
    );
    assert!(matches!(
        host.compile(&guest("forbidden-import")),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn a_wrong_manifest_is_refused_with_every_reason() {
    let host = host();
    let (report, _) = validate(&host, &guest("wrong-manifest"));
    let all = report.reasons.join("\n");
    for needle in [
        "`name`",
        "`kind` \"billing\"",
        "`version` \"one\"",
        "`abi` is 2",
    ] {
        assert!(all.contains(needle), "{needle} not in:\n{all}");
    }
}

#[test]
fn a_plugin_that_reads_clock_and_randomness_is_contained_at_run_time_and_refused_at_install() {
    let host = host();
    let plugin = host.compile(&guest("nondeterministic")).unwrap();
    let input = serde_json::to_vec(&pricing_sample("invoice-intake")).unwrap();
    let first = host.run(&plugin, &input).unwrap().stdout;
    let second = host.run(&plugin, &input).unwrap().stdout;
    assert_eq!(
        first, second,
        "fixed clock and seed make every call reproducible"
    );
    let (report, compiled) = validate(&host, &guest("nondeterministic"));
    assert!(compiled.is_none());
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.contains("non-deterministic")),
        "{}",
        report.render()
    );
}

#[test]
fn an_input_over_the_limit_is_refused_before_running() {
    let host = host_with(Limits {
        input_bytes: 100,
        ..Limits::default()
    });
    let plugin = host.compile(builtin::PRICING).unwrap();
    let err = host.run(&plugin, &[b' '; 101]).unwrap_err();
    assert!(matches!(err, PluginError::Invalid(_)));
}

#[test]
fn hostile_installs_leave_the_active_plugin_unchanged() {
    let registry = registry_with_builtins();
    let before = registry.active(PluginKind::Pricing).unwrap().sha256.clone();
    for name in [
        "forever-loop",
        "memory-bomb",
        "huge-output",
        "garbage-output",
        "forbidden-import",
        "trap-mid-run",
        "nondeterministic",
        "wrong-manifest",
    ] {
        let report = registry
            .install(&guest(name), Utc::now())
            .map(|_| ())
            .unwrap_err();
        assert!(!report.reasons.is_empty(), "{name}");
    }
    assert_eq!(registry.active(PluginKind::Pricing).unwrap().sha256, before);
    registry
        .price(None, &pricing_sample("invoice-intake"))
        .unwrap();
}

#[test]
fn rollback_reactivates_the_previous_version_and_restore_replays_history() {
    let registry = registry_with_builtins();
    let builtin_sha = registry.active(PluginKind::Pricing).unwrap().sha256.clone();
    let (alt, _) = registry.install(&guest("pricing-alt"), Utc::now()).unwrap();
    registry
        .activate(&alt.sha256, "ops@example.com", Utc::now())
        .unwrap();
    assert_eq!(
        registry
            .price(None, &pricing_sample("invoice-intake"))
            .unwrap()
            .plugin
            .name,
        "alt-pricing"
    );

    registry
        .pin("tenant-a", &builtin_sha, "ops@example.com", Utc::now())
        .unwrap();
    assert_eq!(
        registry
            .price(Some("tenant-a"), &pricing_sample("invoice-intake"))
            .unwrap()
            .plugin
            .name,
        "builtin-pricing"
    );

    let back = registry
        .rollback(PluginKind::Pricing, "ops@example.com", Utc::now())
        .unwrap();
    assert_eq!(back.action, ActivationAction::Rollback);
    assert_eq!(back.sha256.as_deref(), Some(builtin_sha.as_str()));
    assert_eq!(back.previous.as_deref(), Some(alt.sha256.as_str()));
    assert_eq!(
        registry.rollback(PluginKind::Pricing, "ops", Utc::now()),
        Err(RegistryError::NothingToRollBack(PluginKind::Pricing))
    );

    // A fresh registry restored from the binaries and the history ends up the same.
    let history = registry.history();
    let restored = Registry::new(host());
    for bytes in [
        builtin::PRICING,
        builtin::VALIDATION,
        builtin::INGESTION,
        &guest("pricing-alt"),
    ] {
        restored.restore_plugin(bytes, Utc::now()).unwrap();
    }
    assert!(restored.restore(history.clone()).is_empty());
    assert_eq!(restored.history(), history);
    assert_eq!(
        restored.active(PluginKind::Pricing).unwrap().sha256,
        builtin_sha
    );
    assert_eq!(
        restored
            .resolve(PluginKind::Pricing, Some("tenant-a"))
            .unwrap()
            .sha256,
        builtin_sha
    );
    assert!(
        restored
            .list()
            .iter()
            .any(|p| p.sha256 == builtin_sha && p.active)
    );
}

#[test]
fn swapping_the_active_pricing_plugin_100_times_under_load_fails_no_call() {
    let registry = Arc::new(registry_with_builtins());
    let a = registry.active(PluginKind::Pricing).unwrap().sha256.clone();
    let (alt, _) = registry.install(&guest("pricing-alt"), Utc::now()).unwrap();
    let b = alt.sha256.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (registry, stop, ok, failed) =
                (registry.clone(), stop.clone(), ok.clone(), failed.clone());
            std::thread::spawn(move || {
                let input = pricing_sample("invoice-intake");
                while !stop.load(Ordering::Relaxed) {
                    match registry.price(None, &input) {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for i in 0..100 {
        let target = if i % 2 == 0 { &b } else { &a };
        registry.activate(target, "swapper", Utc::now()).unwrap();
        let seen = ok.load(Ordering::Relaxed);
        poll_until("a quote between swaps", Duration::from_secs(10), || {
            ok.load(Ordering::Relaxed) > seen
        });
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) >= 100);
}

#[test]
fn a_shadow_run_reports_what_a_candidate_would_change() {
    let registry = registry_with_builtins();
    let cases: Vec<ShadowCase> = sample_inputs(PluginKind::Pricing)
        .into_iter()
        .map(|(name, input)| {
            let output = registry
                .call(PluginKind::Pricing, None, &input)
                .unwrap()
                .output;
            ShadowCase {
                id: Some(name.into()),
                input,
                output,
            }
        })
        .collect();
    let same = shadow_run(
        registry.host(),
        &registry.active(PluginKind::Pricing).unwrap(),
        &cases,
    );
    assert_eq!((same.cases, same.changed, same.max_delta_cents), (4, 0, 0));

    let (alt, _) = registry.install(&guest("pricing-alt"), Utc::now()).unwrap();
    let report = registry.shadow_run(&alt.sha256, &cases).unwrap();
    assert_eq!(report.cases, 4);
    assert_eq!(report.changed, 4);
    let first = &report.diffs[0];
    let p = first.pricing.as_ref().unwrap();
    assert_eq!(p.setup_delta_cents, 200_000 - 400_000);
    assert!(
        p.line_items
            .iter()
            .any(|l| l.code == "setup_base" && l.after_cents.is_none())
    );
    assert!(
        p.line_items
            .iter()
            .any(|l| l.code == "setup_flat" && l.before_cents.is_none())
    );
    assert_eq!(
        report.max_delta_cents,
        report.diffs.iter().map(|d| d.delta_cents).max().unwrap()
    );
    assert!(report.max_delta_cents >= 200_000);
    let json = serde_json::to_value(&report).unwrap();
    for key in ["cases", "changed", "max_delta_cents", "diffs"] {
        assert!(json.get(key).is_some());
    }
}

#[test]
fn the_inbox_installs_valid_drops_and_rejects_invalid_ones_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Arc::new(registry_with_builtins());
    let builtin_sha = registry.active(PluginKind::Pricing).unwrap().sha256.clone();
    let config = InboxConfig {
        settle: Duration::from_millis(40),
        ..InboxConfig::for_data_dir(dir.path())
    };
    let inbox = config.dir.clone();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let _watcher = InboxWatcher::start(
        registry.clone(),
        config,
        Box::new(wrk_plugins::inbox::apply_now),
        move |e| sink.lock().unwrap().push(e),
    )
    .unwrap();

    // A temp name is ignored until renamed.
    std::fs::write(inbox.join("alt.wasm.part"), guest("pricing-alt")).unwrap();
    std::fs::write(inbox.join("bad.wasm"), guest("forbidden-import")).unwrap();
    poll_until("the rejection", Duration::from_secs(20), || {
        events.lock().unwrap().len() == 1
    });
    assert!(inbox.join("alt.wasm.part").exists());
    assert_eq!(
        registry.active(PluginKind::Pricing).unwrap().sha256,
        builtin_sha
    );
    let error_txt =
        std::fs::read_to_string(inbox.join("rejected").join("bad.wasm.error.txt")).unwrap();
    assert!(error_txt.contains("env::host_secret"), "{error_txt}");
    assert!(inbox.join("rejected").join("bad.wasm").exists());
    assert!(!inbox.join("bad.wasm").exists());

    std::fs::rename(inbox.join("alt.wasm.part"), inbox.join("alt.wasm")).unwrap();
    poll_until("the install", Duration::from_secs(20), || {
        events.lock().unwrap().len() == 2
    });
    let events = events.lock().unwrap();
    match &events[1] {
        InboxEvent::Installed {
            plugin,
            activation,
            bytes,
            ..
        } => {
            assert_eq!(plugin.manifest.name, "alt-pricing");
            assert_eq!(activation.actor, "inbox");
            assert_eq!(activation.previous.as_deref(), Some(builtin_sha.as_str()));
            assert_eq!(bytes.len(), plugin.size_bytes);
        }
        other => panic!("expected an install, got {other:?}"),
    }
    assert_eq!(
        registry.active(PluginKind::Pricing).unwrap().manifest.name,
        "alt-pricing"
    );
    let active = registry.active(PluginKind::Pricing).unwrap();
    assert!(registry.info(&active.sha256).unwrap().active);
    assert!(inbox.join("installed").join("alt.wasm").exists());
}

#[test]
fn compiled_modules_are_cached_on_disk_and_tampered_entries_are_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let config = || HostConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        max_concurrent_calls: 4,
        ..HostConfig::default()
    };
    let first = PluginHost::new(config()).unwrap();
    first.compile(builtin::PRICING).unwrap();
    let artifacts: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1);
    assert!(
        artifacts[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&wrk_plugins::sha256_hex(builtin::PRICING))
    );

    let second = PluginHost::new(config()).unwrap();
    let plugin = second.compile(builtin::PRICING).unwrap();
    second
        .run(
            &plugin,
            &serde_json::to_vec(&pricing_sample("invoice-intake")).unwrap(),
        )
        .unwrap();

    // Someone swaps the artifact: the MAC no longer verifies, so it is recompiled, not loaded.
    let mut bytes = std::fs::read(&artifacts[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&artifacts[0], &bytes).unwrap();
    let third = PluginHost::new(config()).unwrap();
    let plugin = third.compile(builtin::PRICING).unwrap();
    third
        .run(
            &plugin,
            &serde_json::to_vec(&pricing_sample("invoice-intake")).unwrap(),
        )
        .unwrap();
    assert_ne!(
        std::fs::read(&artifacts[0]).unwrap(),
        bytes,
        "the tampered entry was rewritten"
    );
}

#[test]
fn the_cli_helpers_check_and_run_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pricing.wasm");
    std::fs::write(&good, builtin::PRICING).unwrap();
    let report = wrk_plugins::cli::check_file(&good, HostConfig::default()).unwrap();
    assert!(report.render().contains("result: valid"));

    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, guest("wrong-manifest")).unwrap();
    let err = wrk_plugins::cli::check_file(&bad, HostConfig::default()).unwrap_err();
    assert!(err.to_string().contains("INVALID"), "{err}");

    let input = dir.path().join("in.json");
    std::fs::write(
        &input,
        serde_json::to_vec(&pricing_sample("invoice-intake")).unwrap(),
    )
    .unwrap();
    let run = wrk_plugins::cli::run_file(&good, &input, HostConfig::default()).unwrap();
    assert_eq!(run.output["currency"], "EUR");
    assert!(run.stats.fuel_used > 0 && run.stats.peak_memory_bytes > 0);
}

#[test]
fn the_host_and_registry_can_be_shared_across_threads_and_publish_their_schemas() {
    fn shared<T: Send + Sync>() {}
    shared::<PluginHost>();
    shared::<Registry>();
    let schemas = wrk_plugins::schemas();
    for kind in PluginKind::ALL {
        assert_eq!(schemas[kind.as_str()]["input"]["type"], "object");
        assert_eq!(
            schemas[kind.as_str()]["output"]["additionalProperties"],
            false
        );
    }
    assert_eq!(schemas["manifest"]["properties"]["abi"]["const"], 1);
}

#[test]
fn the_same_name_and_version_cannot_name_two_binaries() {
    let registry = registry_with_builtins();
    // The built-in with an extra custom section: same manifest, different bytes.
    let mut other = builtin::PRICING.to_vec();
    other.extend_from_slice(&[0, 4, 3, b'p', b'a', b'd']);
    let report = registry
        .install(&other, Utc::now())
        .map(|_| ())
        .unwrap_err();
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.contains("already installed with different bytes")),
        "{}",
        report.render()
    );
    let same = registry.install(builtin::PRICING, Utc::now()).unwrap().0;
    assert_eq!(
        registry
            .find_version(PluginKind::Pricing, "builtin-pricing", "1.0.0")
            .unwrap()
            .sha256,
        same.sha256
    );
}
