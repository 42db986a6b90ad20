//! Sweep throughput: month-long 1m backtests per second per core, the rate
//! a parameter sweep runs at, beside the `backtest` command run as a
//! process on the same month.
//!
//! The klines file is read and parsed once (as `sweep` does); then
//! `--runs` backtests of the first `--days` days run one after another on
//! one thread over the rows in memory, each with its own config (the
//! default with `risk.cooldown_minutes` varied, so no run is a copy of the
//! previous one). Printed: backtests/s and ms per backtest, by wall clock
//! and by the thread's on-CPU time (`/proc/thread-self/schedstat`, the
//! figure that stays meaningful on a shared machine); then the same month
//! through `trading-engine backtest` as a process (`--process-runs` times,
//! the binary beside this one), which parses the file on every run.
//!
//! Run: `cargo build --release --bin trading-engine -p bench --bin sweep_throughput &&
//! target/release/sweep_throughput [--data FILE] [--days 30] [--runs 200]`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use bingx_sim::testdata::shared_file;
use clap::Parser;
use trading_engine::backtest::dates::MS_PER_DAY;
use trading_engine::backtest::{run_loaded, Instrument, LoadedData, LoadedRange, Report};
use trading_engine::config::Config;
use trading_engine::types::{InstrumentRules, NS_PER_MS};

/// The default input: a month and a half of ETHUSDT perpetual 1m klines.
const DEFAULT_FILE: &str = "perp-2023-07/binance-futures-ETHUSDT-1m-2023-07-03_2023-08-17.csv";

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Month-long 1m backtests per second per core (the sweep's rate)")]
struct Args {
    /// Klines file (default: the shared ETHUSDT perpetual file).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Days of data per backtest.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// In-memory backtests to time.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// Runs of the `backtest` command as a process.
    #[arg(long, default_value_t = 3)]
    process_runs: usize,
}

fn main() {
    let args = Args::parse();
    let Some(file) = args.data.clone().or_else(|| shared_file(DEFAULT_FILE)) else {
        eprintln!("sweep_throughput: no data file (give --data)");
        std::process::exit(1);
    };
    let Some(rules) = InstrumentRules::from_decimals(2, 3, 5.0) else {
        eprintln!("instrument rules out of range");
        std::process::exit(1);
    };
    let started = Instant::now();
    let instrument = Instrument {
        symbol: "ETH-USDT".into(),
        files: vec![file.clone()],
        rules,
    };
    let data = match LoadedData::load(&[instrument]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            std::process::exit(1);
        }
    };
    let parse_secs = started.elapsed().as_secs_f64();
    let Some(first) = data.rows().first() else {
        eprintln!("{}: no rows", file.display());
        std::process::exit(1);
    };
    let from_ms = first
        .timestamp()
        .0
        .div_euclid(NS_PER_MS)
        .div_euclid(MS_PER_DAY)
        * MS_PER_DAY;
    let range = LoadedRange {
        from_ms: Some(from_ms),
        trade_from_ms: None,
        to_ms: Some(from_ms + args.days * MS_PER_DAY),
    };
    let rows = data.range(range.from_ms, range.to_ms).len();
    println!(
        "{}: {rows} rows in {} days per backtest; parsed once in {parse_secs:.3} s",
        file.display(),
        args.days
    );
    let runs = args.runs.max(1);
    let mut check = None;
    let cpu_before = bench::cpu::thread_seconds();
    let started = Instant::now();
    for k in 0..runs {
        let mut cfg = Config::default();
        cfg.risk.cooldown_minutes = 30 + (k % 60) as u64;
        let result = match run_loaded(&cfg, &data, range) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("backtest {k}: {e}");
                std::process::exit(1);
            }
        };
        // The sweep computes the report's statistics of every run too.
        let stats = Report::from_result(std::hint::black_box(&result)).combined;
        check.get_or_insert((result.rows, stats.trades, stats.return_pct));
    }
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    let cpu = match (cpu_before, bench::cpu::thread_seconds()) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    let (rows_used, trades, ret) = check.unwrap_or_default();
    println!("first run: {rows_used} rows, {trades} trades, return {ret:.3}%");
    println!(
        "in memory, one thread: {runs} backtests in {wall:.2} s wall: {:.1} backtests/s, {:.2} ms per backtest",
        runs as f64 / wall,
        wall * 1e3 / runs as f64
    );
    if let Some(cpu) = cpu {
        println!(
            "  per core (thread CPU time {cpu:.2} s): {:.1} backtests/s, {:.2} ms per backtest",
            runs as f64 / cpu,
            cpu * 1e3 / runs as f64
        );
    }
    process_figure(&file, from_ms, args.days, args.process_runs);
}

/// Times `trading-engine backtest` on the same span as a process.
fn process_figure(file: &std::path::Path, from_ms: i64, days: i64, runs: usize) {
    let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("trading-engine")))
        .filter(|p| p.exists())
    else {
        println!(
            "backtest as a process: skipped (build the trading-engine binary beside this one)"
        );
        return;
    };
    let day = |ms: i64| trading_engine::backtest::dates::format_date(ms);
    let Ok(out) = tempfile::tempdir() else {
        return;
    };
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let status = Command::new(&bin)
            .arg("backtest")
            .arg("--data")
            .arg(file)
            .args([
                "--from",
                &day(from_ms),
                "--to",
                &day(from_ms + (days - 1) * MS_PER_DAY),
            ])
            .arg("--out")
            .arg(out.path())
            .output();
        match status {
            Ok(o) if o.status.success() => times.push(started.elapsed().as_secs_f64()),
            Ok(o) => {
                println!(
                    "backtest as a process failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                return;
            }
            Err(e) => {
                println!("backtest as a process failed: {e}");
                return;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    println!(
        "backtest command as a process (parses the file each time): best {:.1} ms, median {:.1} ms over {} runs: {:.1} backtests/s",
        best * 1e3,
        times[times.len() / 2] * 1e3,
        times.len(),
        1.0 / best
    );
}
