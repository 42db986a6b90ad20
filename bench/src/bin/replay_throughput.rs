//! Replay throughput: a journal is written by a paper session
//! (`SimSession`: the core against the simulated exchange, every event
//! journaled through `journal_event`) over each shared data file, then
//! replayed `--runs` times with `trading_engine::replay::replay` (what
//! `trading-engine replay` runs), checking zero mismatches.
//!
//! Prints, per file: rows, journal records and bytes, the recording rate,
//! and the replay rate in input events per second (best and median
//! wall-clock run, and over the process CPU time of all replay runs, the
//! figure that stays meaningful on a shared machine).
//!
//! Run: `cargo run --release -p bench --bin replay_throughput -- --runs 5`
//! (`--keep DIR` keeps the journals for `trading-engine replay --journal`).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use bingx_sim::testdata::shared_file;
use clap::Parser;
use trading_engine::config::Config;
use trading_engine::core::Command;
use trading_engine::datafile::{DataSet, FileKind};
use trading_engine::fill_model::{FillModel, MarketFill};
use trading_engine::journal_schema::Mode;
use trading_engine::replay::{self, record::SimSession};
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, SymbolId};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Replay throughput (input events/s) on journals of the shared data files")]
struct Args {
    /// Replay runs per journal.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Files (default: the BTCUSDT 2020-02-22 aggTrades day and the BTCUSDT 1m klines).
    #[arg(long = "data", num_args = 1..)]
    data: Vec<PathBuf>,
    /// Keep the journals: write each into DIR/<data file stem> (which must
    /// not hold a journal yet) instead of a temporary directory, for
    /// `trading-engine replay --journal`.
    #[arg(long = "keep", value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// Writes a paper journal over `file` into `dir`; returns the rows fed.
fn record(file: &Path, dir: &Path, rules: InstrumentRules) -> Result<u64, String> {
    let cfg = Config::default();
    let mut data = DataSet::open(&[file], SymbolId(0)).map_err(|e| e.to_string())?;
    let fill = match data.kind() {
        FileKind::Klines => MarketFill::LastClose,
        FileKind::AggTrades => MarketFill::NextTrade,
    };
    let sim = FillModel::new(&cfg.simulator, 1, fill);
    let options = journal::WriterOptions {
        durability: journal::Durability::None,
        ..journal::WriterOptions::default()
    };
    let mut session: Option<SimSession> = None;
    let mut sim = Some(sim);
    let (mut rows, mut last) = (0u64, None);
    while let Some(row) = data.next_record().map_err(|e| e.to_string())? {
        if session.is_none() {
            let exchange = sim.take().ok_or("exchange already used")?;
            let s = SimSession::open(
                dir,
                &cfg,
                &[rules],
                exchange,
                Mode::Paper,
                row.timestamp(),
                options,
            )
            .map_err(|e| e.to_string())?;
            session = Some(s);
        }
        let s = session.as_mut().ok_or("no session")?;
        s.on_row(&row).map_err(|e| e.to_string())?;
        rows += 1;
        last = Some(row.timestamp());
    }
    let (Some(mut s), Some(last)) = (session, last) else {
        return Err("no rows".into());
    };
    s.command(Command::Shutdown, last)
        .map_err(|e| e.to_string())?;
    s.flush_exchange().map_err(|e| e.to_string())?;
    s.finish().map_err(|e| e.to_string())?;
    Ok(rows)
}

/// Returns the journal's total payload bytes.
fn payload_bytes(dir: &Path) -> u64 {
    journal::verify(dir).map_or(0, |v| v.payload_bytes)
}

fn main() {
    let args = Args::parse();
    let files: Vec<PathBuf> = if args.data.is_empty() {
        [
            "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv",
            "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv",
        ]
        .iter()
        .filter_map(|f| shared_file(f))
        .collect()
    } else {
        args.data.clone()
    };
    let step = DecimalStep::from_precision(3);
    let rules = InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap_or(Price::ZERO),
    };
    for file in files {
        let temp = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("Cannot create a temporary directory: {e}");
                std::process::exit(1);
            }
        };
        let dir = match &args.keep {
            Some(keep) => keep.join(file.file_stem().unwrap_or(file.as_os_str())),
            None => temp.path().to_path_buf(),
        };
        if journal::verify(&dir).is_ok_and(|v| v.records > 0) {
            eprintln!("{} already holds a journal", dir.display());
            std::process::exit(1);
        }
        let started = Instant::now();
        let rows = match record(&file, &dir, rules) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                std::process::exit(1);
            }
        };
        let record_secs = started.elapsed().as_secs_f64().max(1e-9);
        let mut rates = Vec::with_capacity(args.runs);
        let mut counts = None;
        let mut inputs = 0u64;
        let cpu_before = bench::cpu::process_seconds();
        for _ in 0..args.runs.max(1) {
            let report = match replay::replay(&dir, &mut |_| {}) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    std::process::exit(1);
                }
            };
            if let Some(m) = report.first_mismatch {
                eprintln!("{}: {m}", file.display());
                std::process::exit(1);
            }
            rates.push(report.events_per_sec());
            inputs += report.counts.inputs;
            counts.get_or_insert(report.counts);
        }
        let cpu = match (cpu_before, bench::cpu::process_seconds()) {
            (Some(a), Some(b)) if b > a => {
                format!("{:.2} M events/s", inputs as f64 / (b - a) / 1e6)
            }
            _ => "n/a (under one 10 ms tick)".to_string(),
        };
        rates.sort_by(f64::total_cmp);
        let c = counts.unwrap_or_default();
        println!(
            "{}: {rows} rows -> journal{} of {} records ({} inputs, {} outputs, {} closed trades, {:.1} MB of payload) recorded at {:.2} M rows/s; replay 0 mismatches, wall best {:.2} M events/s, median {:.2} M events/s over {} runs; CPU time {cpu}",
            file.display(),
            if args.keep.is_some() { format!(" {}", dir.display()) } else { String::new() },
            c.records,
            c.inputs,
            c.outputs,
            c.closed_trades,
            payload_bytes(&dir) as f64 / 1e6,
            rows as f64 / record_secs / 1e6,
            rates[rates.len() - 1] / 1e6,
            rates[rates.len() / 2] / 1e6,
            rates.len()
        );
    }
}
