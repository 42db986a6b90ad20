//! `trading-engine walkforward`: walk-forward validation of a grid.
//!
//! Consumes the command-line arguments, a grid, an optional config and
//! data files; produces the walk-forward directory (see
//! [`crate::research::walkforward`]) and a per-window table on stdout.
//! Progress goes to stderr. Cold path.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use super::backtest::InstrumentArgs;
use super::sweep::prepare_inputs;
use super::CliError;
use crate::research::walkforward::{self, WalkInput, WindowSpec};
use crate::research::{pool, ResearchError};

/// Arguments of `trading-engine walkforward`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Walk-forward validation: sweep each training window, test its best set out of sample",
    long_about = "For each window: sweeps GRID.toml on the training span (all cores), takes the best set by the \
objective, and runs it on the following test span (indicators warmed on the data before it with orders \
refused, only test-span trades counted, positions closed at the span's end). Writes DIR/windows.csv, \
oos_trades.csv, oos_equity.csv, oos_equity.svg and report.json (in-sample vs out-of-sample figures and \
the walk-forward efficiency, mean OOS objective / mean IS objective)."
)]
pub struct WalkforwardArgs {
    /// Data files (klines or aggTrades), merged in exchange-time order; files
    /// of several symbols (named as for `backtest`) make each window a
    /// portfolio backtest.
    #[arg(long = "data", value_name = "FILE", num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    /// The grid: [sweep] settings and [params] to sweep.
    #[arg(long, value_name = "GRID.toml")]
    pub grid: PathBuf,
    /// Training span, days.
    #[arg(long, value_name = "N")]
    pub train_days: u32,
    /// Test span, days.
    #[arg(long, value_name = "M")]
    pub test_days: u32,
    /// Shift between windows, days (default: the test span).
    #[arg(long, value_name = "S")]
    pub step_days: Option<u32>,
    /// Every training span starts at the data's first day.
    #[arg(long)]
    pub anchored: bool,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Base config the parameters are applied to (default: built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: every core the process may use).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Instrument rules.
    #[command(flatten)]
    pub instrument: InstrumentArgs,
    /// No progress output on stderr.
    #[arg(long)]
    pub quiet: bool,
}

impl WalkforwardArgs {
    /// Runs the walk-forward and prints the per-window table to `out`.
    ///
    /// # Errors
    /// [`CliError::Research`] (or the backtest argument errors).
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let bad = |m: &str| CliError::Research(ResearchError::Argument(m.into()));
        if self.train_days == 0 || self.test_days == 0 {
            return Err(bad("--train-days and --test-days must be at least 1"));
        }
        if self.step_days == Some(0) {
            return Err(bad("--step-days must be at least 1"));
        }
        let p = prepare_inputs(
            &self.data,
            &self.grid,
            &self.out,
            self.config.as_ref(),
            (None, None),
            &self.instrument,
        )?;
        let spec = WindowSpec {
            train_days: self.train_days,
            test_days: self.test_days,
            step_days: self.step_days.unwrap_or(self.test_days),
            anchored: self.anchored,
        };
        let input = WalkInput {
            grid: &p.grid,
            data: &p.data,
            initial_equity: p.base.simulator.initial_equity,
        };
        let r = walkforward::run(&input, spec, &self.out, pool::jobs(self.jobs), self.quiet)
            .map_err(CliError::Research)?;
        let mut s = format!(
            "{:>6}  {:<17}  {:<17}  {:<16}  {:>10}  {:>10}  {:>6}  {:>9}\n",
            "window", "test from", "test to", "best id", "IS", "OOS", "trades", "OOS ret%"
        );
        let f = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
        for w in &r.per_window {
            let _ = writeln!(
                s,
                "{:>6}  {:<17}  {:<17}  {:<16}  {:>10}  {:>10}  {:>6}  {:>9.2}",
                w.window.index,
                crate::backtest::dates::format_date(w.window.test_from_ms),
                crate::backtest::dates::format_date(w.window.test_to_ms),
                w.best_id,
                f(w.is_objective),
                f(w.oos_objective),
                w.oos_stats.trades,
                w.oos_stats.return_pct
            );
        }
        let _ = writeln!(
            s,
            "{} windows, {} sets each, objective {}: IS mean {}, OOS mean {}, walk-forward efficiency {}; OOS return {:.2}% over {} trades\nreport: {}",
            r.windows,
            r.sets_per_window,
            r.objective,
            f(r.is_objective_mean),
            f(r.oos_objective_mean),
            f(r.walk_forward_efficiency),
            r.oos_combined.return_pct,
            r.oos_combined.trades,
            self.out.join("report.json").display()
        );
        out.write_all(s.as_bytes()).map_err(CliError::Output)
    }
}
