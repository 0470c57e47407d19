//! Hostile: reads its input, writes half an answer, then traps (panic = abort → unreachable).
use std::io::{Read, Write};
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-trap-mid-run","kind":"pricing","version":"0.1.0","abi":1,"description":"traps"}"#
);

fn main() {
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let _ = std::io::stdout().write_all(b"{\"currency\":");
    let v: Vec<u32> = std::hint::black_box(Vec::new());
    let _ = v[input.len()];
}
