//! Hostile: imports a host function outside wasi_snapshot_preview1. Must be refused at install.
wrk_plugin_sdk::manifest!(
    r#"{"name":"test-forbidden-import","kind":"pricing","version":"0.1.0","abi":1,"description":"wants env"}"#
);

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn host_secret() -> i32;
}

fn main() {
    let v = unsafe { host_secret() };
    println!("{{\"secret\":{v}}}");
}
