//! Criterion micro-benchmarks of the `ringbuf` crate: `HistoryRing::push`,
//! `RollingMax`/`RollingMin::push` (monotonic deque) beside
//! `BlockMax`/`BlockMin::push` (van Herk / Gil-Werman blocks) in the same
//! group `rolling_push` (`max/..` vs `block_max/..`), and single-thread SPSC push+pop against
//! `crossbeam_queue::ArrayQueue` and `std::sync::mpsc::sync_channel` (the same operations,
//! no contention: this measures instruction cost, `spsc_latency` measures the cross-thread
//! hop).
//!
//! Run: `cargo bench -p bench --bench ringbuf`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use ringbuf::{spsc, BlockMax, BlockMin, HistoryRing, RollingMax, RollingMin};

/// A deterministic, cheap pseudo-random walk of prices (xorshift), so the
/// rolling extremes see realistic rises and falls instead of a monotonic run.
fn price_walk(n: usize) -> Vec<f64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut price = 50_000.0;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            price += (x % 201) as f64 - 100.0;
            price
        })
        .collect()
}

fn history_ring(c: &mut Criterion) {
    let prices = price_walk(4096);
    let mut group = c.benchmark_group("history_ring_push");
    group.throughput(Throughput::Elements(prices.len() as u64));
    for capacity in [16usize, 200, 4096] {
        let mut ring = HistoryRing::new(capacity);
        // Check before timing: the newest value is the last pushed.
        for &p in &prices {
            ring.push(p);
        }
        assert_eq!(ring.newest(), prices.last().copied());
        group.bench_with_input(
            BenchmarkId::from_parameter(capacity),
            &prices,
            |b, prices| {
                b.iter(|| {
                    for &p in prices {
                        black_box(ring.push(black_box(p)));
                    }
                });
            },
        );
    }
    group.finish();
}

fn rolling(c: &mut Criterion) {
    let prices = price_walk(4096);
    let mut group = c.benchmark_group("rolling_push");
    group.throughput(Throughput::Elements(prices.len() as u64));
    for window in [14usize, 200] {
        let mut max = RollingMax::new(window);
        let mut min = RollingMin::new(window);
        for &p in &prices {
            max.push(p);
            min.push(p);
        }
        let tail = &prices[prices.len() - window..];
        assert_eq!(max.max(), tail.iter().copied().reduce(f64::max));
        assert_eq!(min.min(), tail.iter().copied().reduce(f64::min));
        group.bench_with_input(BenchmarkId::new("max", window), &prices, |b, prices| {
            b.iter(|| {
                for &p in prices {
                    max.push(black_box(p));
                    black_box(max.max());
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("min", window), &prices, |b, prices| {
            b.iter(|| {
                for &p in prices {
                    min.push(black_box(p));
                    black_box(min.min());
                }
            });
        });
        let mut block_max = BlockMax::new(window);
        let mut block_min = BlockMin::new(window);
        for &p in &prices {
            block_max.push(p);
            block_min.push(p);
        }
        assert_eq!(block_max.max(), max.max());
        assert_eq!(block_min.min(), min.min());
        group.bench_with_input(
            BenchmarkId::new("block_max", window),
            &prices,
            |b, prices| {
                b.iter(|| {
                    for &p in prices {
                        block_max.push(black_box(p));
                        black_box(block_max.max());
                    }
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("block_min", window),
            &prices,
            |b, prices| {
                b.iter(|| {
                    for &p in prices {
                        block_min.push(black_box(p));
                        black_box(block_min.min());
                    }
                });
            },
        );
    }
    group.finish();
}

/// Values moved per iteration in the queue benchmarks.
const BATCH: u64 = 64;

fn queues_single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue_push_pop_single_thread");
    group.throughput(Throughput::Elements(BATCH));

    let (mut tx, mut rx) = spsc::channel::<u64>(1024);
    tx.push(7).ok();
    assert_eq!(rx.pop(), Some(7));
    group.bench_function("spsc_push_then_pop", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                let pushed = tx.push(black_box(i)).is_ok();
                black_box((pushed, rx.pop()));
            }
        });
    });
    group.bench_function("spsc_push64_then_pop_batch", |b| {
        let mut out = [0u64; BATCH as usize];
        b.iter(|| {
            for i in 0..BATCH {
                black_box(tx.push(black_box(i)).is_ok());
            }
            black_box(rx.pop_batch(&mut out));
        });
    });

    let queue = ArrayQueue::<u64>::new(1024);
    queue.push(7).ok();
    assert_eq!(queue.pop(), Some(7));
    group.bench_function("array_queue_push_then_pop", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                let pushed = queue.push(black_box(i)).is_ok();
                black_box((pushed, queue.pop()));
            }
        });
    });
    group.bench_function("array_queue_push64_then_pop64", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                black_box(queue.push(black_box(i)).is_ok());
            }
            for _ in 0..BATCH {
                black_box(queue.pop());
            }
        });
    });

    let (mtx, mrx) = std::sync::mpsc::sync_channel::<u64>(1024);
    mtx.try_send(7).ok();
    assert_eq!(mrx.try_recv().ok(), Some(7));
    group.bench_function("std_mpsc_push_then_pop", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                let pushed = mtx.try_send(black_box(i)).is_ok();
                black_box((pushed, mrx.try_recv().ok()));
            }
        });
    });
    group.bench_function("std_mpsc_push64_then_pop64", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                black_box(mtx.try_send(black_box(i)).is_ok());
            }
            for _ in 0..BATCH {
                black_box(mrx.try_recv().ok());
            }
        });
    });
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the benchmark machine is shared (2 cores).
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = history_ring, rolling, queues_single_thread
}
criterion_main!(benches);
