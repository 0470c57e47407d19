//! Builds the guest workspace (`plugins/guests`: built-in plugins and hostile test plugins) for
//! `wasm32-wasip1` with a nested `cargo build --release`, and copies the `.wasm` files into
//! OUT_DIR, where `src/builtin.rs` embeds the built-ins with `include_bytes!` and the tests find
//! the test plugins through the `WRK_PLUGINS_GUEST_DIR` env var.
//!
//! The nested build has its own target dir (`<target>/wrk-plugin-guests`, shared by dev, release,
//! test and clippy runs of the host so it compiles once), and runs with the inherited
//! `CARGO_*` / `RUSTC*` / `RUSTFLAGS` variables removed: they describe the host build (its target,
//! its wrapper such as clippy-driver, its flags) and would break or pollute the wasm build.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUESTS: [&str; 13] = [
    "wrk-builtin-pricing",
    "wrk-builtin-validation",
    "wrk-builtin-ingestion",
    "wrk-test-trivial",
    "wrk-test-forever-loop",
    "wrk-test-memory-bomb",
    "wrk-test-huge-output",
    "wrk-test-garbage-output",
    "wrk-test-forbidden-import",
    "wrk-test-trap-mid-run",
    "wrk-test-nondeterministic",
    "wrk-test-wrong-manifest",
    "wrk-test-pricing-alt",
];

/// Inherited variables that the nested build may keep: where crates are cached, how to reach the
/// registry, and the jobserver so the nested build shares the outer build's cores.
fn keep(var: &str) -> bool {
    var == "CARGO_HOME"
        || var == "CARGO_MAKEFLAGS"
        || var.starts_with("CARGO_NET_")
        || var.starts_with("CARGO_HTTP_")
        || var.starts_with("CARGO_REGISTRIES_")
        || var.starts_with("CARGO_REGISTRY_")
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());

    for dir in [
        "guests/Cargo.toml",
        "guests/Cargo.lock",
        "sdk",
        "builtin",
        "testdata",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(dir).display()
        );
    }

    // OUT_DIR is <target>/<profile>/build/wrk-plugins-<hash>/out (or with a <triple>/ level).
    let target_root = out_dir
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.join("guest-target"));
    let guest_target = target_root.join("wrk-plugin-guests");

    let mut cmd = Command::new(&cargo);
    cmd.current_dir(manifest_dir.join("guests"))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip1",
            "--target-dir",
        ])
        .arg(&guest_target);
    for (var, _) in env::vars_os() {
        let Some(var) = var.to_str() else { continue };
        let host_build_var = (var.starts_with("CARGO") && !keep(var))
            || var.starts_with("RUSTC")
            || var == "RUSTFLAGS"
            || var == "RUSTDOCFLAGS"
            || matches!(
                var,
                "TARGET" | "HOST" | "OUT_DIR" | "OPT_LEVEL" | "PROFILE" | "DEBUG" | "NUM_JOBS"
            );
        if host_build_var {
            cmd.env_remove(var);
        }
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm32-wasip1 guest build");
    if !status.success() {
        panic!(
            "building the guest plugins for wasm32-wasip1 failed ({status}); is the target installed? \
             (`rustup target add wasm32-wasip1`, pinned in rust-toolchain.toml)"
        );
    }

    let built = guest_target.join("wasm32-wasip1").join("release");
    for name in GUESTS {
        let file = format!("{}.wasm", name.replace('-', "_"));
        let from = built.join(format!("{name}.wasm"));
        let to = out_dir.join(&file);
        std::fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
    }
    println!(
        "cargo:rustc-env=WRK_PLUGINS_GUEST_DIR={}",
        out_dir.display()
    );
}
