//! The smallest valid plugin: a validation plugin that finds nothing. Used as the benchmark
//! baseline (bare instantiate + run) and as "a normal plugin still runs" after hostile ones.
use std::io::{Read, Write};

wrk_plugin_sdk::manifest!(
    r#"{"name":"test-trivial","kind":"validation","version":"0.1.0","abi":1,"description":"no-op"}"#
);

fn main() {
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let _ = std::io::stdout().write_all(br#"{"issues":[],"checklist":[]}"#);
}
