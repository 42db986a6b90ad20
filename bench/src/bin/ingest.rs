//! File-ingestion throughput of `trading_engine::datafile`: rows per second
//! read from a warm page cache (plain CSV, `.csv.gz` and `.zip`).
//!
//! Each case opens the file(s) and reads every record `--passes` times
//! (records are consumed through `black_box`), after one untimed pass that
//! warms the page cache; the best and median pass are reported, in wall time
//! and in on-CPU time of the thread (`/proc/thread-self/schedstat`, ns), the
//! latter because the shared 2-core machine preempts the benchmark: on-CPU
//! time excludes the time the thread waited for a core. gz copies are
//! written to a temp dir at start-up (flate2 default level).
//!
//! Run: `cargo run --release -p bench --bin ingest -- --passes 30 [--only klines]`
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bingx_sim::testdata::shared_file;
use clap::Parser;
use trading_engine::datafile::{DataFile, DataFileError, Record};
use trading_engine::types::SymbolId;

const TRADES: &str = "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv";
const KLINES: [&str; 4] = [
    "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv",
    "binance-futures-FILUSDT-1m-2024-09-01_2024-11-30.csv",
    "binance-spot-BTCUSDT-1m-2025-05-20_2025-08-18.csv",
    "binance-spot-ETHUSDT-1m-2025-05-20_2025-08-18.csv",
];

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Data-file ingestion throughput (rows/s) from a warm page cache")]
struct Args {
    /// Timed passes per case.
    #[arg(long, default_value_t = 15)]
    passes: usize,
    /// Run only the cases whose name contains this text (e.g. `klines csv`).
    #[arg(long)]
    only: Option<String>,
}

/// Reads every record of `paths` once; returns (rows, bytes of input files).
fn read_all(paths: &[PathBuf]) -> Result<u64, DataFileError> {
    let mut rows = 0u64;
    for path in paths {
        let mut file = DataFile::open(path, SymbolId(0))?;
        while let Some(record) = file.next_record()? {
            black_box(&record);
            if let Record::Trade(t) = record {
                black_box(t.price);
            }
            rows += 1;
        }
    }
    Ok(rows)
}

fn case(name: &str, paths: &[PathBuf], passes: usize) -> Result<(), DataFileError> {
    let bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let rows = read_all(paths)?; // warm the page cache
    let mut times: Vec<Duration> = Vec::with_capacity(passes);
    let mut cpu: Vec<f64> = Vec::with_capacity(passes);
    for _ in 0..passes {
        let cpu_start = bench::cpu::thread_seconds().unwrap_or(f64::NAN);
        let start = Instant::now();
        let n = read_all(paths)?;
        times.push(start.elapsed());
        cpu.push(bench::cpu::thread_seconds().unwrap_or(f64::NAN) - cpu_start);
        assert_eq!(n, rows, "Invariant: every pass reads every row");
    }
    times.sort();
    cpu.sort_by(f64::total_cmp);
    let best = times[0].as_secs_f64();
    let median = times[times.len() / 2].as_secs_f64();
    let rows_f = rows as f64;
    println!(
        "{name:<24} rows {rows:>7} ({:>5.1} MiB)  wall: best {:>5.2} median {:>5.2} M rows/s  on-CPU: best {:>5.2} median {:>5.2} M rows/s ({:>5.0} MiB/s)",
        bytes as f64 / 1_048_576.0,
        rows_f / best / 1e6,
        rows_f / median / 1e6,
        rows_f / cpu[0] / 1e6,
        rows_f / cpu[cpu.len() / 2] / 1e6,
        bytes as f64 / cpu[cpu.len() / 2] / 1_048_576.0,
    );
    Ok(())
}

fn gzip_copy(src: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dst = dir.join(format!("{name}.gz"));
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&dst)?, flate2::Compression::default());
    enc.write_all(&std::fs::read(src)?)?;
    enc.finish()?;
    Ok(dst)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let passes = args.passes.max(1);
    let Some(trades) = shared_file(TRADES) else {
        return Err("shared data not found".into());
    };
    let klines: Vec<PathBuf> = KLINES.iter().filter_map(|n| shared_file(n)).collect();
    let tmp = tempfile::tempdir()?;
    let trades_gz = gzip_copy(&trades, tmp.path())?;
    let klines_gz: Vec<PathBuf> = klines
        .iter()
        .map(|p| gzip_copy(p, tmp.path()))
        .collect::<Result<_, _>>()?;
    println!("passes per case: {passes} (best and median pass)");
    let cases: [(&str, &[PathBuf]); 4] = [
        ("aggTrades csv", std::slice::from_ref(&trades)),
        ("aggTrades csv.gz", std::slice::from_ref(&trades_gz)),
        ("klines csv (4 files)", &klines),
        ("klines csv.gz (4 files)", &klines_gz),
    ];
    for (name, paths) in cases {
        if args.only.as_deref().is_none_or(|only| name.contains(only)) {
            case(name, paths, passes)?;
        }
    }
    Ok(())
}
