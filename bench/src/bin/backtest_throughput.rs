//! End-to-end backtest throughput: file parsing, candles, indicators,
//! strategies, risk, positions and the simulated exchange, in rows per
//! second, on the shared klines and aggTrades files.
//!
//! Each file is backtested `--runs` times with the default config; the best
//! and median wall-clock runs are printed, and the rate over the process's
//! CPU time (user + system from `/proc/self/stat`, 10 ms ticks, summed over
//! all runs), which is the figure that stays meaningful on a shared,
//! overloaded machine. The first run's final equity and trade count are
//! printed too, so a changed result is visible.
//!
//! Run: `cargo run --release -p bench --bin backtest_throughput -- --runs 7`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Instant;

use bingx_sim::testdata::shared_file;
use clap::Parser;
use trading_engine::backtest::{self, BacktestOptions};
use trading_engine::config::Config;
use trading_engine::types::InstrumentRules;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Backtest throughput (rows/s) on the shared klines and aggTrades files")]
struct Args {
    /// Runs per file.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Files (default: the BTCUSDT 1m klines and the 2020-02-22 aggTrades day).
    #[arg(long = "data", num_args = 1..)]
    data: Vec<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let files: Vec<PathBuf> = if args.data.is_empty() {
        [
            "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv",
            "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv",
        ]
        .iter()
        .filter_map(|f| shared_file(f))
        .collect()
    } else {
        args.data.clone()
    };
    let Some(rules) = InstrumentRules::from_decimals(2, 3, 5.0) else {
        eprintln!("instrument rules out of range");
        std::process::exit(1);
    };
    let cfg = Config::default();
    for file in files {
        let opts = BacktestOptions {
            data: vec![file.clone()],
            from_ms: None,
            to_ms: None,
            rules,
            progress_every: u64::MAX,
            funding: trading_engine::backtest::funding::FundingInputs::default(),
        };
        let mut rates = Vec::with_capacity(args.runs);
        let mut summary = None;
        let mut total_rows = 0u64;
        let cpu_before = bench::cpu::process_seconds();
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let result = match backtest::run(&cfg, &opts, &mut |_| {}) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    std::process::exit(1);
                }
            };
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            rates.push(result.rows as f64 / secs);
            total_rows += result.rows;
            summary.get_or_insert((result.rows, result.trades.len(), result.final_equity));
        }
        let cpu = match (cpu_before, bench::cpu::process_seconds()) {
            (Some(a), Some(b)) if b > a => {
                format!("{:.2} M rows/s", total_rows as f64 / (b - a) / 1e6)
            }
            _ => "n/a (under one 10 ms tick)".to_string(),
        };
        rates.sort_by(f64::total_cmp);
        let (rows, trades, equity) = summary.unwrap_or_default();
        println!(
            "{}: {rows} rows, {trades} trades, final equity {equity}; wall best {:.2} M rows/s, median {:.2} M rows/s over {} runs; CPU time {cpu}",
            file.display(),
            rates[rates.len() - 1] / 1e6,
            rates[rates.len() / 2] / 1e6,
            rates.len()
        );
    }
}
