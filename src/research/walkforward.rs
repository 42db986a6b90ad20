//! `trading-engine walkforward`: out-of-sample validation of a sweep.
//!
//! Consumes a grid, a base config and data loaded once; for each window
//! sweeps the training span on all cores, takes the best set by the
//! objective and runs it on the following test span: indicators warm on
//! the data before the span with every order refused (the live warm-up
//! refuses entries; without one no other order arises), only test-span trades count, positions still open are closed at
//! the span's end. Produces `windows.csv`, `oos_trades.csv`, the stitched
//! out-of-sample `oos_equity.csv` and `oos_equity.svg`, and `report.json`
//! with in-sample vs out-of-sample figures and the walk-forward
//! efficiency. Every window starts from the configured equity; the
//! stitched curve adds each window's PnL, like the STATS of the combined
//! trades.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::ResearchError;
use super::grid::{assignment_text, set_id, Grid};
use super::objective::Rank;
use super::pool::{self, Progress};
use super::sweep::evaluate;
use crate::backtest::dates::{format_date, MS_PER_DAY};
use crate::backtest::stats::{compute, Stats, TradeResult};
use crate::backtest::{
    equity_csv, equity_svg, exit_fill_count, push_trade_csv_row, run_loaded, LoadedData,
    LoadedRange, TRADES_CSV_HEADER,
};
use crate::config::Config;
use crate::datafile::FileKind;
use crate::types::NS_PER_MS;

/// How the windows are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Training span, days.
    pub train_days: u32,
    /// Test span, days.
    pub test_days: u32,
    /// Shift between windows, days.
    pub step_days: u32,
    /// Training spans all start at the data's first day.
    pub anchored: bool,
}

/// One window's spans, Unix ms, half-open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// 0-based.
    pub index: usize,
    /// Training start.
    pub train_from_ms: i64,
    /// Training end = test start.
    pub train_to_ms: i64,
    /// Test start.
    pub test_from_ms: i64,
    /// Test end.
    pub test_to_ms: i64,
}

/// Returns the windows of `spec` over data covering `[from_ms, to_ms)`:
/// the first training span starts at the first whole UTC day, and only
/// windows whose test span ends inside the data are kept.
#[must_use]
pub fn windows(from_ms: i64, to_ms: i64, spec: WindowSpec) -> Vec<Window> {
    let start = from_ms.div_euclid(MS_PER_DAY) * MS_PER_DAY;
    let day = |n: u32| i64::from(n) * MS_PER_DAY;
    let mut out = Vec::new();
    for index in 0usize.. {
        let shift = day(spec.step_days) * index as i64;
        let train_to = start + shift + day(spec.train_days);
        let test_to = train_to + day(spec.test_days);
        if test_to > to_ms || spec.step_days == 0 && index > 0 {
            break;
        }
        out.push(Window {
            index,
            train_from_ms: if spec.anchored { start } else { start + shift },
            train_to_ms: train_to,
            test_from_ms: train_to,
            test_to_ms: test_to,
        });
    }
    out
}

/// What a walk-forward reads.
#[derive(Debug)]
pub struct WalkInput<'a> {
    /// The validated grid.
    pub grid: &'a Grid,
    /// The data, parsed once.
    pub data: &'a LoadedData,
    /// Starting equity of every window.
    pub initial_equity: f64,
}

/// One window's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowResult {
    /// The spans.
    pub window: Window,
    /// The best set's id.
    pub best_id: String,
    /// The best set, `key=value` joined by `, `.
    pub best_params: String,
    /// In-sample objective of the best set.
    pub is_objective: Option<f64>,
    /// In-sample statistics of the best set.
    pub is_stats: Stats,
    /// Out-of-sample objective.
    pub oos_objective: Option<f64>,
    /// Out-of-sample statistics over the test span.
    pub oos_stats: Stats,
}

/// `report.json` of a walk-forward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkReport {
    /// The objective's name.
    pub objective: String,
    /// Training span, days.
    pub train_days: u32,
    /// Test span, days.
    pub test_days: u32,
    /// Shift between windows, days.
    pub step_days: u32,
    /// Anchored training spans.
    pub anchored: bool,
    /// Parameter sets swept per window.
    pub sets_per_window: usize,
    /// Windows run.
    pub windows: usize,
    /// Mean in-sample objective of the chosen sets (windows where defined).
    pub is_objective_mean: Option<f64>,
    /// Mean out-of-sample objective (windows where defined).
    pub oos_objective_mean: Option<f64>,
    /// Walk-forward efficiency: mean OOS objective / mean IS objective,
    /// `None` unless the in-sample mean is positive.
    pub walk_forward_efficiency: Option<f64>,
    /// Mean in-sample return of the chosen sets, percent.
    pub is_return_pct_mean: f64,
    /// Mean out-of-sample return per window, percent.
    pub oos_return_pct_mean: f64,
    /// Statistics of all out-of-sample trades over the stitched test spans.
    pub oos_combined: Stats,
    /// Per window.
    pub per_window: Vec<WindowResult>,
}

/// Runs the walk-forward into `out` on `jobs` threads.
///
/// # Errors
/// [`ResearchError::Argument`] when no window fits the data, a failed
/// backtest naming its set, or an I/O error naming the file.
pub fn run(
    input: &WalkInput<'_>,
    spec: WindowSpec,
    out: &Path,
    jobs: usize,
    quiet: bool,
) -> Result<WalkReport, ResearchError> {
    let rows = input.data.rows();
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Err(ResearchError::Argument(
            "walkforward: the data has no rows".into(),
        ));
    };
    let first_ms = first.timestamp().0.div_euclid(NS_PER_MS);
    let mut end_ms = last.timestamp().0.div_euclid(NS_PER_MS);
    if input.data.kind() == FileKind::Klines {
        end_ms += 60_000;
    }
    let list = windows(first_ms, end_ms, spec);
    if list.is_empty() {
        return Err(ResearchError::Argument(format!(
            "walkforward: the data spans {} to {}, too short for {} training + {} test days",
            format_date(first_ms),
            format_date(end_ms),
            spec.train_days,
            spec.test_days
        )));
    }
    fs::create_dir_all(out).map_err(ResearchError::io(out))?;
    let grid = input.grid;
    let mut results = Vec::with_capacity(list.len());
    let mut trades_csv = format!("window,{TRADES_CSV_HEADER}\n");
    let mut oos_trades: Vec<TradeResult> = Vec::new();
    let mut equity: Vec<(i64, f64)> = Vec::new();
    let mut carry = 0.0;
    let mut progress = Progress::new("walkforward", (list.len() * grid.len()) as u64, quiet);
    for w in &list {
        let range = LoadedRange {
            from_ms: Some(w.train_from_ms),
            trade_from_ms: None,
            to_ms: Some(w.train_to_ms),
        };
        let work = |k: usize| -> Result<(usize, Rank, Stats), ResearchError> {
            let set = grid.set(k);
            let cfg = grid.apply(&set)?;
            let stats =
                evaluate(&cfg, input.data, range).map_err(|source| ResearchError::Backtest {
                    assignment: assignment_text(&grid.params, &set),
                    source,
                })?;
            let rank = Rank {
                id: set_id(&grid.params, &set),
                trades: stats.trades,
                score: grid.objective.score(&stats),
            };
            Ok((k, rank, stats))
        };
        let mut best: Option<(usize, Rank, Stats)> = None;
        pool::run(grid.len(), jobs, &work, &mut |item| {
            let (k, rank, stats) = item?;
            progress.step();
            let better = best
                .as_ref()
                .is_none_or(|(_, b, _)| Rank::better(&rank, b, grid.min_trades).is_lt());
            if better {
                best = Some((k, rank, stats));
            }
            Ok::<(), ResearchError>(())
        })?;
        let Some((k, rank, is_stats)) = best else {
            continue;
        };
        let set = grid.set(k);
        let cfg = grid.apply(&set)?;
        let (oos_stats, window_trades, points) = out_of_sample(input, &cfg, w, &set, grid)?;
        for t in &window_trades {
            trades_csv.push_str(&format!("{},", w.index));
            push_trade_csv_row(
                &mut trades_csv,
                &t.trade,
                &t.symbol,
                t.strategy,
                exit_fill_count(&t.exits),
                t.funding,
            );
            oos_trades.push(TradeResult::of(t));
        }
        let mut window_end = input.initial_equity;
        for (ms, eq) in points {
            equity.push((ms, carry + eq));
            window_end = eq;
        }
        carry += window_end - input.initial_equity;
        results.push(WindowResult {
            window: *w,
            best_id: rank.id.clone(),
            best_params: assignment_text(&grid.params, &set),
            is_objective: rank.score,
            is_stats,
            oos_objective: grid.objective.score(&oos_stats),
            oos_stats,
        });
    }
    progress.finish();
    let (test_from, test_to) = (
        list.first().map_or(0, |w| w.test_from_ms),
        list.last().map_or(0, |w| w.test_to_ms),
    );
    let report = summarize(
        grid,
        spec,
        &results,
        &oos_trades,
        input.initial_equity,
        (test_from, test_to),
    );
    write_outputs(out, &report, &trades_csv, &equity)?;
    Ok(report)
}

type WindowTrades = Vec<crate::backtest::TradeRow>;

/// A test span's statistics, trades and equity curve.
type OutOfSample = (Stats, WindowTrades, Vec<(i64, f64)>);

/// Runs the chosen set on the window's test span after a warm-up without
/// orders; returns its statistics over the test span, its trades and its
/// equity curve inside the span.
fn out_of_sample(
    input: &WalkInput<'_>,
    cfg: &Config,
    w: &Window,
    set: &[super::grid::ParamValue],
    grid: &Grid,
) -> Result<OutOfSample, ResearchError> {
    let warm_minutes = i64::try_from(crate::strategy::warmup_minutes(&cfg.strategies)).unwrap_or(0);
    // Twice the declared warm-up plus a day: EMAs settle, 5m candles align.
    let warm_ms = warm_minutes * 2 * 60_000 + MS_PER_DAY;
    let range = LoadedRange {
        from_ms: Some(w.test_from_ms - warm_ms),
        trade_from_ms: Some(w.test_from_ms),
        to_ms: Some(w.test_to_ms),
    };
    let result = run_loaded(cfg, input.data, range).map_err(|source| ResearchError::Backtest {
        assignment: assignment_text(&grid.params, set),
        source,
    })?;
    let trades: WindowTrades = result
        .trades
        .into_iter()
        .filter(|t| t.trade.entry_ts.as_ms() >= w.test_from_ms)
        .collect();
    let list: Vec<TradeResult> = trades.iter().map(TradeResult::of).collect();
    let stats = compute(&list, input.initial_equity, w.test_from_ms, w.test_to_ms);
    let points = result
        .equity
        .into_iter()
        .filter(|(ms, _)| *ms >= w.test_from_ms)
        .collect();
    Ok((stats, trades, points))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn summarize(
    grid: &Grid,
    spec: WindowSpec,
    results: &[WindowResult],
    oos_trades: &[TradeResult],
    initial: f64,
    span: (i64, i64),
) -> WalkReport {
    let is_mean = mean(results.iter().filter_map(|r| r.is_objective));
    let oos_mean = mean(results.iter().filter_map(|r| r.oos_objective));
    let efficiency = match (is_mean, oos_mean) {
        // A ratio of two losses is not an efficiency: defined only when the
        // in-sample objective is positive.
        (Some(i), Some(o)) if i > 0.0 => Some(o / i),
        _ => None,
    };
    WalkReport {
        objective: grid.objective.as_str().to_owned(),
        train_days: spec.train_days,
        test_days: spec.test_days,
        step_days: spec.step_days,
        anchored: spec.anchored,
        sets_per_window: grid.len(),
        windows: results.len(),
        is_objective_mean: is_mean,
        oos_objective_mean: oos_mean,
        walk_forward_efficiency: efficiency,
        is_return_pct_mean: mean(results.iter().map(|r| r.is_stats.return_pct)).unwrap_or(0.0),
        oos_return_pct_mean: mean(results.iter().map(|r| r.oos_stats.return_pct)).unwrap_or(0.0),
        oos_combined: compute(oos_trades, initial, span.0, span.1),
        per_window: results.to_vec(),
    }
}

fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    format!(
        "{}T{:02}:{:02}Z",
        format_date(ms),
        secs.rem_euclid(86_400) / 3600,
        secs.rem_euclid(3600) / 60
    )
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// Returns `windows.csv` text.
#[must_use]
pub fn windows_csv(results: &[WindowResult]) -> String {
    let mut s = String::from(
        "window,train_from,train_to,test_from,test_to,train_from_ms,test_from_ms,test_to_ms,best_id,best_params,is_objective,oos_objective,is_trades,oos_trades,is_return_pct,oos_return_pct\n",
    );
    for r in results {
        let w = &r.window;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},\"{}\",{},{},{},{},{},{}",
            w.index,
            utc(w.train_from_ms),
            utc(w.train_to_ms),
            utc(w.test_from_ms),
            utc(w.test_to_ms),
            w.train_from_ms,
            w.test_from_ms,
            w.test_to_ms,
            r.best_id,
            r.best_params.replace('"', "\"\""),
            opt(r.is_objective),
            opt(r.oos_objective),
            r.is_stats.trades,
            r.oos_stats.trades,
            r.is_stats.return_pct,
            r.oos_stats.return_pct
        );
    }
    s
}

fn write_outputs(
    out: &Path,
    report: &WalkReport,
    trades_csv: &str,
    equity: &[(i64, f64)],
) -> Result<(), ResearchError> {
    let write = |name: &str, text: &str| -> Result<PathBuf, ResearchError> {
        let path = out.join(name);
        fs::write(&path, text).map_err(ResearchError::io(&path))?;
        Ok(path)
    };
    let json = serde_json::to_string_pretty(report).map_err(|e| ResearchError::Io {
        path: out.join("report.json"),
        source: std::io::Error::other(e),
    })?;
    write("report.json", &(json + "\n"))?;
    write("windows.csv", &windows_csv(&report.per_window))?;
    write("oos_trades.csv", trades_csv)?;
    write("oos_equity.csv", &equity_csv(equity))?;
    write("oos_equity.svg", &equity_svg(equity))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = MS_PER_DAY;

    #[test]
    fn rolling_windows_step_and_stop_inside_the_data() {
        let spec = WindowSpec {
            train_days: 10,
            test_days: 5,
            step_days: 5,
            anchored: false,
        };
        let w = windows(D / 2, 31 * D, spec);
        assert_eq!(w.len(), 4, "{w:?}");
        assert_eq!(
            (w[0].train_from_ms, w[0].test_from_ms, w[0].test_to_ms),
            (0, 10 * D, 15 * D)
        );
        assert_eq!(
            (w[3].train_from_ms, w[3].test_from_ms, w[3].test_to_ms),
            (15 * D, 25 * D, 30 * D)
        );
        let anchored = windows(
            0,
            31 * D,
            WindowSpec {
                anchored: true,
                ..spec
            },
        );
        assert!(anchored.iter().all(|w| w.train_from_ms == 0));
        assert_eq!(anchored[3].train_to_ms, 25 * D);
    }

    #[test]
    fn too_short_data_has_no_window() {
        let spec = WindowSpec {
            train_days: 10,
            test_days: 5,
            step_days: 5,
            anchored: false,
        };
        assert!(windows(0, 14 * D, spec).is_empty());
    }
}
