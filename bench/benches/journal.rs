//! Criterion micro-benchmarks of `journal::Writer::append` (mean cost per append).
//!
//! Appends go to fresh temporary journals of at most `CHUNK` records, created and removed
//! outside the timed region, so a long criterion run does not fill the disk. The
//! hdrhistogram harness `journal_bench` reports the latency percentiles.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark aborts on any journal failure; it has no caller to report to"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use journal::{Durability, Reader, Writer, WriterOptions};

/// Records per temporary journal.
const CHUNK: u64 = 1_000_000;

fn options() -> WriterOptions {
    WriterOptions {
        segment_bytes: 64 << 20,
        durability: Durability::None,
        prefault: true,
        precreate_next: true,
    }
}

/// Times `iters` appends made by `append`, in chunks of fresh journals.
fn timed_appends(iters: u64, mut append: impl FnMut(&mut Writer, u64)) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(dir.path(), options()).unwrap();
        let start = Instant::now();
        for i in 0..n {
            append(&mut writer, i);
        }
        total += start.elapsed();
        drop(writer);
        done += n;
    }
    total
}

fn check_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(dir.path(), options()).unwrap();
    for i in 0..1000 {
        writer.append(1, i, &[7; 64]).unwrap();
    }
    let mut reader = Reader::open(dir.path()).unwrap();
    let mut n = 0;
    while let Some(r) = reader.next() {
        assert_eq!(r.unwrap().payload, [7; 64]);
        n += 1;
    }
    assert_eq!(n, 1000, "the journal works before it is timed");
}

fn bench_append(c: &mut Criterion) {
    check_round_trip();
    let mut group = c.benchmark_group("journal_append");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for size in [64usize, 256] {
        let payload = vec![0xA5u8; size];
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("append_{size}B_durability_none"), |b| {
            b.iter_custom(|iters| {
                timed_appends(iters, |w, i| {
                    black_box(w.append(1, i as i64, black_box(&payload)).unwrap());
                })
            })
        });
    }
    group.bench_function("append_with_64B_durability_none", |b| {
        b.iter_custom(|iters| {
            timed_appends(iters, |w, i| {
                let seq = w
                    .append_with(1, i as i64, 64, |buf| {
                        buf[..8].copy_from_slice(&i.to_le_bytes());
                    })
                    .unwrap();
                black_box(seq);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_append);
criterion_main!(benches);
