//! Cost of a journal segment rotation on the writer's thread: latency of the appends that
//! rotate against ordinary appends, and heap allocations on the writer's thread.
//!
//! Appends fixed-size records with the default options (preparer thread on, pre-fault on)
//! into small segments so that the run crosses `--rotations` segment boundaries. After each
//! rotation the harness sleeps `--settle-ms` (untimed) so that the preparer thread has the
//! next segment ready, as it has when the writer fills segments slower than about 1 GB/s:
//! the numbers are the common-case rotation. Every append is timed and wrapped in
//! `allocation_counter::measure` (thread-local counts: only the writer's thread).
//!
//! Run: `cargo run --release -p bench --bin journal-rotation -- [--rotations 40]
//! [--segment-kib 8192] [--payload 128] [--settle-ms 100] [--interval-ms 0]`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bench::report::Percentiles;
use clap::Parser;
use hdrhistogram::Histogram;
use journal::{Durability, Writer, WriterOptions};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Journal segment rotation cost on the writer's thread")]
struct Args {
    /// Segment rotations to measure (after one warm-up rotation).
    #[arg(long, default_value_t = 40)]
    rotations: u64,
    /// Segment size in KiB.
    #[arg(long, default_value_t = 8192)]
    segment_kib: usize,
    /// Payload bytes per record.
    #[arg(long, default_value_t = 128)]
    payload: usize,
    /// Untimed pause after each rotation, letting the preparer thread get ahead.
    #[arg(long, default_value_t = 100)]
    settle_ms: u64,
    /// `Durability::Interval` in ms; 0 means `Durability::None`.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
}

type BoxError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("journal-rotation: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let options = WriterOptions {
        segment_bytes: args.segment_kib << 10,
        durability: if args.interval_ms == 0 {
            Durability::None
        } else {
            Durability::Interval(Duration::from_millis(args.interval_ms))
        },
        ..WriterOptions::default()
    };
    let mut writer = Writer::open(dir.path(), options)?;
    let payload = vec![0x5a_u8; args.payload];
    let settle = Duration::from_millis(args.settle_ms);
    let mut rotating = Histogram::<u64>::new(3)?;
    let mut ordinary = Histogram::<u64>::new(3)?;
    let mut rotation_allocs = 0u64;
    let mut ordinary_allocs = 0u64;
    let mut segment: PathBuf = writer.current_segment().to_path_buf();
    let mut rotations = 0u64;
    let mut ts = 0i64;
    std::thread::sleep(settle);
    while rotations <= args.rotations {
        let mut elapsed = 0u64;
        let mut result = Ok(0);
        let info = allocation_counter::measure(|| {
            let start = Instant::now();
            result = writer.append(1, ts, &payload);
            elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        });
        result?;
        ts += 1;
        let rotated = writer.current_segment() != segment.as_path();
        if rotated {
            rotations += 1;
            segment = writer.current_segment().to_path_buf();
            // The first rotation is the warm-up (lazily initialised channel and thread state).
            if rotations >= 2 {
                rotating.record(elapsed.max(1))?;
                rotation_allocs += info.count_total;
            }
            std::thread::sleep(settle);
        } else if rotations >= 1 {
            ordinary.record(elapsed.max(1))?;
            ordinary_allocs += info.count_total;
        }
    }
    let stats = writer.stats();
    writer.close()?;
    println!("writer stats: {stats:?}");
    println!(
        "journal-rotation: {} KiB segments, {} B payload, {} records, settle {} ms, durability {:?}",
        args.segment_kib, args.payload, ts, args.settle_ms, options.durability
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "append", "count", "p50_ns", "p90_ns", "p99_ns", "p99.9_ns", "max_ns", "allocs"
    );
    for (name, hist, allocs) in [
        ("rotating append", &rotating, rotation_allocs),
        ("ordinary append", &ordinary, ordinary_allocs),
    ] {
        let p = Percentiles::of(hist);
        println!(
            "{name:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {allocs:>7}",
            p.count, p.p50_ns, p.p90_ns, p.p99_ns, p.p999_ns, p.max_ns
        );
    }
    Ok(())
}
