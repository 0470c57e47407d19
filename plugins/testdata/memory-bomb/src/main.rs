//! Hostile: allocates and touches memory until something gives. Must end in MemoryLimit.
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-memory-bomb","kind":"pricing","version":"0.1.0","abi":1,"description":"eats memory"}"#
);

fn main() {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![7u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}
