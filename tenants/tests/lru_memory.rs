//! Acceptance: 2,000 tenant databases created through the store API open lazily with the LRU at
//! 100, and the process stays under 150 MiB RSS. Its own test binary, so no other test shares the
//! process whose memory it reads.

mod support;
use support::{storage, tenant};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn two_thousand_tenants_with_an_lru_of_100_stay_under_150_mib() {
    let dir = tempfile::tempdir().unwrap();
    let storage = storage(&dir, 100);
    let before = rss_kib();
    let mut ids = Vec::with_capacity(2000);
    for i in 0..2000 {
        let t = tenant(&storage, &format!("tenant-{i:05}"), "Synthetic");
        ids.push(t.id);
        assert!(storage.open_tenants() <= 100);
    }
    // Touch every tenant again with a read, round-robin: each open beyond the 100th evicts one.
    for id in &ids {
        let store = storage.tenant(*id).unwrap();
        let n: i64 = store
            .db()
            .read(|c| Ok(c.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 0);
    }
    let after = rss_kib();
    println!(
        "rss before {} KiB, after 2,000 tenants (LRU 100, {} open): {} KiB ({:.1} MiB)",
        before,
        storage.open_tenants(),
        after,
        after as f64 / 1024.0
    );
    assert!(storage.open_tenants() <= 100);
    assert!(after < 150 * 1024, "RSS {after} KiB is over 150 MiB");
}
