//! Throughput: backtest rows/s on the shared klines and aggTrades files, and
//! journal replay events/s, printed and optionally written as JSON.
//!
//! * Backtest: `trading_engine::backtest::run` with the default config on
//!   each file, `--runs` times (the logic of `backtest_throughput`); best and
//!   median wall-clock rows/s, and rows per second of process CPU time.
//! * Journal: a session journal of `--journal-events` trades (the shared
//!   aggTrades day, cycled; generated trades when absent) is written through
//!   `journal_schema` (each trade an `Input` record, each core action an
//!   `Output` record). Then, `--runs` times each: read + decode every record
//!   (`read_decode`), and full replay (`replay`: read, decode, feed every
//!   input to a fresh core and compare every output). Rates are journal
//!   records per second (inputs + outputs), best and median, over wall
//!   time and over the thread's on-CPU time (`/proc/thread-self/schedstat`;
//!   the figure that stays meaningful on a loaded machine).
//!
//! Run: `cargo run --release -p bench --bin throughput -- [--runs 5]
//! [--journal-events 1000000] [--json FILE]`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Instant;

use bench::hot_path::EveryCandleEntry;
use bench::journal_replay::{cycle_trades, read_decode, replay, write_session, ReplayOutcome};
use bench::market_frames::{generate_ticks, TRADES_FILE};
use bingx_sim::testdata::shared_file;
use clap::Parser;
use serde_json::{json, Value};
use trading_engine::backtest::{self, BacktestOptions};
use trading_engine::config::Config;
use trading_engine::core::Core;
use trading_engine::datafile::{DataFile, Record};
use trading_engine::types::{
    DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs, Trade,
};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Backtest rows/s and journal replay events/s")]
struct Args {
    /// Timed runs per case.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Backtest data files (default: the BTCUSDT 1m klines and the
    /// 2020-02-22 aggTrades day of the shared data).
    #[arg(long = "data", num_args = 1..)]
    data: Vec<PathBuf>,
    /// Trades (input events) in the replayed journal.
    #[arg(long, default_value_t = 1_000_000)]
    journal_events: usize,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn rules() -> InstrumentRules {
    let step = DecimalStep::from_precision(3);
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap_or(Price::ZERO),
    }
}

/// Best and median of rates (per second).
fn best_median(mut rates: Vec<f64>) -> (f64, f64) {
    rates.sort_by(f64::total_cmp);
    match rates.len() {
        0 => (0.0, 0.0),
        n => (rates[n - 1], rates[n / 2]),
    }
}

fn backtests(args: &Args, cfg: &Config) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = if args.data.is_empty() {
        [
            "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv",
            TRADES_FILE,
        ]
        .iter()
        .filter_map(|f| shared_file(f))
        .collect()
    } else {
        args.data.clone()
    };
    if files.is_empty() {
        println!("backtest: shared data not found, skipped (pass --data FILE)");
    }
    let mut out = Vec::new();
    for file in files {
        let opts = BacktestOptions {
            data: vec![file.clone()],
            from_ms: None,
            to_ms: None,
            rules: rules(),
            progress_every: u64::MAX,
            funding: trading_engine::backtest::funding::FundingInputs::default(),
        };
        let mut rates = Vec::with_capacity(args.runs);
        let mut rows = 0u64;
        let mut trades = 0usize;
        let mut total_rows = 0u64;
        let cpu_before = bench::cpu::process_seconds();
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let result = backtest::run(cfg, &opts, &mut |_| {})
                .map_err(|e| format!("{}: {e}", file.display()))?;
            rates.push(result.rows as f64 / started.elapsed().as_secs_f64().max(1e-9));
            rows = result.rows;
            trades = result.trades.len();
            total_rows += result.rows;
        }
        let cpu_rate = match (cpu_before, bench::cpu::process_seconds()) {
            (Some(a), Some(b)) if b > a => Some(total_rows as f64 / (b - a)),
            _ => None,
        };
        let (best, median) = best_median(rates);
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        println!(
            "backtest {name}: {rows} rows, {trades} trades; best {:.2} M rows/s, median {:.2} M rows/s, per CPU second {}",
            best / 1e6,
            median / 1e6,
            cpu_rate.map_or_else(|| "n/a".to_owned(), |r| format!("{:.2} M rows/s", r / 1e6))
        );
        out.push(json!({
            "file": name,
            "rows": rows,
            "trades": trades,
            "runs": args.runs.max(1),
            "best_rows_per_s": best.round(),
            "median_rows_per_s": median.round(),
            "cpu_rows_per_s": cpu_rate.map(f64::round),
        }));
    }
    Ok(out)
}

/// The trades of the shared aggTrades day, or generated ones.
fn base_trades() -> (Vec<Trade>, &'static str) {
    if let Some(path) = shared_file(TRADES_FILE) {
        if let Ok(mut file) = DataFile::open(&path, SymbolId(0)) {
            let mut trades = Vec::new();
            while let Ok(Some(rec)) = file.next_record() {
                if let Record::Trade(t) = rec {
                    trades.push(t);
                }
            }
            if !trades.is_empty() {
                return (trades, TRADES_FILE);
            }
        }
    }
    let generated = generate_ticks(100_000)
        .iter()
        .enumerate()
        .map(|(i, t)| Trade {
            symbol: SymbolId(0),
            trade_id: i as u64,
            price: Price::from_f64(t.price).unwrap_or(Price::ZERO),
            qty: Qty::from_f64(t.qty).unwrap_or(Qty::ZERO),
            exchange_ts: TimestampNs(1_582_329_600_000_000_000 + i as i64 * 500_000_000),
            aggressor: if t.buyer_maker { Side::Sell } else { Side::Buy },
        })
        .collect();
    (generated, "generated trades (shared data not found)")
}

fn core(cfg: &Config) -> Result<Core, Box<dyn std::error::Error>> {
    let mut strategies = trading_engine::strategy::build(&cfg.strategies);
    strategies.push(Box::new(EveryCandleEntry::default()));
    Ok(Core::try_with_strategies(cfg, &[rules()], strategies)?)
}

fn journal(args: &Args, cfg: &Config) -> Result<Value, Box<dyn std::error::Error>> {
    let (base, source) = base_trades();
    let trades = cycle_trades(&base, args.journal_events);
    let dir = tempfile::tempdir()?;
    let written = write_session(dir.path(), &mut core(cfg)?, trades)?;
    drop(base);
    println!(
        "journal: {} records ({} inputs from {source}, {} outputs)",
        written.records, written.inputs, written.outputs
    );
    let case = |name: &str,
                run: &mut dyn FnMut() -> Result<ReplayOutcome, Box<dyn std::error::Error>>|
     -> Result<Value, Box<dyn std::error::Error>> {
        let mut rates = Vec::with_capacity(args.runs);
        let mut cpu_rates = Vec::with_capacity(args.runs);
        for _ in 0..args.runs.max(1) {
            let cpu_start = bench::cpu::thread_seconds();
            let started = Instant::now();
            let got = run()?;
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            if let (Some(a), Some(b)) = (cpu_start, bench::cpu::thread_seconds()) {
                cpu_rates.push(got.records as f64 / (b - a).max(1e-9));
            }
            if got.records != written.records || got.mismatches != 0 {
                return Err(format!("{name}: expected {written:?}, got {got:?}").into());
            }
            rates.push(got.records as f64 / secs);
        }
        let (best, median) = best_median(rates);
        let (cpu_best, cpu_median) = best_median(cpu_rates);
        println!(
            "journal {name}: wall best {:.2} M records/s, median {:.2} M records/s; on-CPU best {:.2} M records/s, median {:.2} M records/s",
            best / 1e6,
            median / 1e6,
            cpu_best / 1e6,
            cpu_median / 1e6
        );
        Ok(json!({
            "best_events_per_s": best.round(),
            "median_events_per_s": median.round(),
            "cpu_best_events_per_s": cpu_best.round(),
            "cpu_median_events_per_s": cpu_median.round(),
        }))
    };
    let read = case("read+decode", &mut || Ok(read_decode(dir.path())?))?;
    let full = case("replay (read+decode+core+compare)", &mut || {
        Ok(replay(dir.path(), &mut core(cfg)?)?)
    })?;
    Ok(json!({
        "records": written.records,
        "inputs": written.inputs,
        "outputs": written.outputs,
        "source": source,
        "runs": args.runs.max(1),
        "read_decode": read,
        "replay": full,
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let cfg = Config::default();
    let backtest = backtests(&args, &cfg)?;
    let journal = journal(&args, &cfg)?;
    if let Some(path) = &args.json {
        let doc = json!({"backtest": backtest, "journal_replay": journal});
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("JSON written to {}", path.display());
    }
    Ok(())
}
