//! Builds the guest workspace (`plugins/guests`: built-in plugins and hostile test plugins) for
//! `wasm32-wasip1` with a nested `cargo build --release`, and copies the `.wasm` files into
//! OUT_DIR, where `src/builtin.rs` embeds the built-ins with `include_bytes!` and the tests find
//! the test plugins through the `WRK_PLUGINS_GUEST_DIR` env var.
//!
//! When the toolchain lacks `wasm32-wasip1` (rustup installs a pinned toolchain's `targets` only
//! when it installs the toolchain, so one that was already there has none), this script adds it
//! with `rustup target add` and says so; without rustup, it stops with the one command to run.
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

    ensure_wasm_target();

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
            "building the guest plugins for wasm32-wasip1 failed ({status}); see the errors above"
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

/// Adds the `wasm32-wasip1` target to this toolchain when it is missing.
fn ensure_wasm_target() {
    if wasm_target_installed() {
        return;
    }
    println!(
        "cargo:warning=adding the wasm32-wasip1 target to this Rust toolchain (the built-in \
         plugins are compiled for it): rustup target add wasm32-wasip1"
    );
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", "wasm32-wasip1"]);
    // Set by rustup's proxies: the toolchain this build runs on, which rust-toolchain.toml picked.
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    let added = rustup.status().is_ok_and(|s| s.success());
    if !added || !wasm_target_installed() {
        panic!(
            "the wasm32-wasip1 Rust target is missing and could not be added; run \
             `rustup target add wasm32-wasip1` and build again"
        );
    }
}

/// Whether the toolchain building this crate has the standard library for `wasm32-wasip1`.
fn wasm_target_installed() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let Ok(out) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip1"])
        .output()
    else {
        return false;
    };
    // <sysroot>/lib/rustlib/wasm32-wasip1/lib holds libstd-<hash>.rlib once the target is there.
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success()
        && std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        })
}
