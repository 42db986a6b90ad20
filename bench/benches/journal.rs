//! Criterion micro-benchmarks of `journal::Writer::append` (mean cost per append), and of the
//! record checksum candidates on a record's checksummed bytes (28 header bytes + payload):
//! CRC-32 (IEEE, `crc32fast`, the on-disk format) against CRC-32C (Castagnoli, `crc32c`, the
//! SSE4.2 / ARMv8 CRC instruction), in the same run.
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

/// Checksums the journal computes per record: 28 header bytes, then the payload, as
/// `journal::format::record_crc` feeds them (two updates), for 64 B and 256 B payloads.
fn bench_checksum(c: &mut Criterion) {
    let header = [0x11u8; 28];
    // Check before timing: both crates compute their standard check values.
    assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    let mut group = c.benchmark_group("record_checksum");
    for size in [64usize, 256] {
        let payload = vec![0xA5u8; size];
        group.throughput(Throughput::Bytes((header.len() + size) as u64));
        group.bench_function(format!("crc32_ieee_crc32fast_{size}B"), |b| {
            b.iter(|| {
                let mut h = crc32fast::Hasher::new();
                h.update(black_box(&header));
                h.update(black_box(&payload));
                black_box(h.finalize())
            })
        });
        group.bench_function(format!("crc32c_hw_{size}B"), |b| {
            b.iter(|| {
                let crc = crc32c::crc32c(black_box(&header));
                black_box(crc32c::crc32c_append(crc, black_box(&payload)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_append, bench_checksum);
criterion_main!(benches);
