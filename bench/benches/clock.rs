//! Criterion micro-benchmarks of the engine's time and latency recording:
//! `SystemClock::now_ns` / `mono_ns` (one vDSO `clock_gettime` each),
//! `SystemClock::cycle_counter().mono_ns` (the hot thread's: one `rdtsc`),
//! `ManualClock` readings, `LatencyRecorder::record` (one hdrhistogram
//! increment) and `LatencyRecorder::publish` (interval handoff; only the
//! hot side is timed, and that includes one `Instant::now` pair).
//!
//! Run: `cargo bench -p bench --bench clock`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use trading_engine::clock::{Clock, ManualClock, SystemClock};
use trading_engine::metrics::{latency_channel, Stage};
use trading_engine::types::TimestampNs;

fn clocks(c: &mut Criterion) {
    let system = SystemClock::new();
    // Check before timing: the readings are plausible.
    assert!(system.now_ns() > TimestampNs::from_ms(1_704_067_200_000));
    let manual = ManualClock::new(TimestampNs(1));
    let mut group = c.benchmark_group("clock");
    group.bench_function("system_now_ns", |b| {
        b.iter(|| black_box(black_box(&system).now_ns()))
    });
    group.bench_function("system_mono_ns", |b| {
        b.iter(|| black_box(black_box(&system).mono_ns()))
    });
    // The hot thread's clock: the cycle counter where the kernel trusts
    // the TSC (its source is in the bench name).
    let cycles = SystemClock::cycle_counter();
    let first = cycles.mono_ns();
    assert!(cycles.mono_ns() >= first, "monotonic");
    group.bench_function(format!("cycle_counter_mono_ns_{}", cycles.source()), |b| {
        b.iter(|| black_box(black_box(&cycles).mono_ns()))
    });
    group.bench_function("manual_now_ns", |b| {
        b.iter(|| black_box(black_box(&manual).now_ns()))
    });
    group.finish();
}

fn latency(c: &mut Criterion) {
    let (mut rec, mut col) =
        latency_channel(10_000_000_000, 3, 2).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("latency");
    let mut v = 1u64;
    group.bench_function("record", |b| {
        b.iter(|| {
            // A spread of values so different counters are touched.
            v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            rec.record(Stage::TickToOrder, black_box(v >> 40));
        })
    });
    group.bench_function("publish", |b| {
        b.iter_custom(|iters| {
            // Only the hot-side publish is timed; the collector (cold: it
            // adds and resets five histograms) runs between publishes so
            // a box is always back.
            let mut hot = Duration::ZERO;
            for _ in 0..iters {
                rec.record(Stage::Parse, 1_000);
                let start = std::time::Instant::now();
                let published = rec.publish();
                hot += start.elapsed();
                assert!(published.is_ok());
                let _ = col.collect();
            }
            hot
        })
    });
    group.finish();
    assert!(!col.total().get(Stage::TickToOrder).is_empty());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = clocks, latency
}
criterion_main!(benches);
