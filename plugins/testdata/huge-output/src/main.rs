//! Hostile: writes 10 MiB to stdout. Must be cut off at the output cap (BadOutput).
use std::io::Write;
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-huge-output","kind":"pricing","version":"0.1.0","abi":1,"description":"floods stdout"}"#
);

fn main() {
    let chunk = vec![b' '; 64 * 1024];
    let mut out = std::io::stdout().lock();
    for _ in 0..160 {
        if out.write_all(&chunk).is_err() {
            return;
        }
    }
}
