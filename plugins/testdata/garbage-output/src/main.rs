//! Hostile: writes something that is not JSON. Must be BadOutput.
use std::io::Write;
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-garbage-output","kind":"pricing","version":"0.1.0","abi":1,"description":"not json"}"#
);

fn main() {
    let _ = std::io::stdout().write_all(b"\x00\xffhello {\"setup_fee_cents\": ");
}
