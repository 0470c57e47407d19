//! The pricing call end to end (fresh instance from the pool + run + output check) against a
//! baseline of a bare pooled instantiate + run of a trivial WASI module, so the figure reads as
//! a ratio on any machine. Criterion reports mean/median; the own timing loop below prints
//! p50/p99 over 10,000 calls (QUALITY.md target: p50 < 60 µs, p99 < 200 µs).
//!
//! `cargo bench -p wrk-plugins --bench pricing_call`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use wrk_plugins::sdk::pricing::PricingInput;
use wrk_plugins::{
    HostConfig, PluginHost, PluginKind, builtin, output::check_pricing, sample_inputs,
};

fn trivial() -> Vec<u8> {
    let path = std::path::Path::new(env!("WRK_PLUGINS_GUEST_DIR")).join("wrk_test_trivial.wasm");
    std::fs::read(path).expect("trivial test plugin")
}

fn input() -> PricingInput {
    let (_, v) = sample_inputs(PluginKind::Pricing)
        .into_iter()
        .find(|(n, _)| *n == "invoice-intake")
        .unwrap();
    serde_json::from_value(v).unwrap()
}

fn percentiles(label: &str, n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..200 {
        f();
    }
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let (p50, p99) = (samples[n / 2], samples[n * 99 / 100]);
    println!(
        "{label}: p50 {:.1} µs, p99 {:.1} µs over {n} calls",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    (p50, p99)
}

fn bench(c: &mut Criterion) {
    let host = PluginHost::new(HostConfig::default()).unwrap();
    let pricing = host.compile(builtin::PRICING).unwrap();
    let baseline = host.compile(&trivial()).unwrap();
    let input = input();

    let price = || {
        let bytes = serde_json::to_vec(&input).unwrap();
        let raw = host.run(&pricing, &bytes).unwrap();
        black_box(check_pricing(&input.currency, &raw.stdout).unwrap());
    };
    let bare = || {
        black_box(host.run(&baseline, b"{}").unwrap());
    };

    let n = std::env::var("WRK_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (b50, b99) = percentiles(
        "baseline: bare pooled instantiate + run (trivial WASI module)",
        n,
        bare,
    );
    let (p50, p99) = percentiles(
        "pricing call: instantiate + run + output check (built-in)",
        n,
        price,
    );
    println!(
        "ratio pricing/baseline: p50 {:.2}×, p99 {:.2}×",
        p50.as_secs_f64() / b50.as_secs_f64(),
        p99.as_secs_f64() / b99.as_secs_f64()
    );

    let mut group = c.benchmark_group("plugins");
    group.bench_function("baseline_trivial_instantiate_run", |b| b.iter(bare));
    group.bench_function("pricing_call_end_to_end", |b| b.iter(price));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
