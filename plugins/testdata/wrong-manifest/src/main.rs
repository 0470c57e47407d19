//! Hostile: a manifest with an unknown kind, a non-semver version and abi 2. Must be refused
//! with every reason listed.
use std::io::Write;
wrk_plugin_sdk::manifest!(
    r#"{"name":"","kind":"billing","version":"one","abi":2,"description":"wrong"}"#
);

fn main() {
    let _ = std::io::stdout().write_all(b"{}");
}
