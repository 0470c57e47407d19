//! Hostile: never returns. Must end in OutOfFuel (or Timeout when fuel is generous).
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-forever-loop","kind":"pricing","version":"0.1.0","abi":1,"description":"spins"}"#
);

fn main() {
    let mut x: u64 = 1;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
