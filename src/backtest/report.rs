//! The backtest outputs: `report.json` (exact keys, no timings),
//! `trades.csv`, `equity.csv`, `equity.svg`, `fills.csv`, `funding.csv`,
//! and the summary table beside the seed's reported figures.
//!
//! Consumes a [`BacktestResult`]; produces files and text. Cold path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::dates::{format_duration_ms, format_month, format_utc_ms, MS_PER_DAY};
use super::decimal::decimal8;
use super::funding::{fills_csv, funding_csv, FundingReport};
use super::stats::{compute, daily_equity, Stats, TradeResult};
use super::{chart, svg, BacktestResult, HaltRow, TradeRow};
use crate::datafile::FileKind;
use crate::money::Money;
use crate::positions::ClosedTrade;
use crate::strategy::StrategyName;
use crate::types::Side;

/// One strategy's figures as the seed reported them (docs/STRATEGIES.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedFigures {
    /// Strategy name.
    pub strategy: &'static str,
    /// Return, percent.
    pub return_pct: f64,
    /// Max drawdown, percent (positive).
    pub max_drawdown_pct: f64,
    /// Win rate, percent.
    pub win_rate_pct: f64,
    /// Signals per month.
    pub signals_per_month: f64,
    /// Average win, percent (when reported).
    pub avg_win_pct: Option<f64>,
    /// Average loss, percent (when reported).
    pub avg_loss_pct: Option<f64>,
}

/// The seed's reported figures, for comparison only.
pub const SEED_FIGURES: [SeedFigures; 2] = [
    SeedFigures {
        strategy: "mtf_long",
        return_pct: 10.38,
        max_drawdown_pct: 1.45,
        win_rate_pct: 50.0,
        signals_per_month: 14.0,
        avg_win_pct: Some(2.85),
        avg_loss_pct: Some(-0.74),
    },
    SeedFigures {
        strategy: "trend_distance_short",
        return_pct: 20.08,
        max_drawdown_pct: 2.26,
        win_rate_pct: 58.3,
        signals_per_month: 12.0,
        avg_win_pct: None,
        avg_loss_pct: None,
    },
];

/// `input` of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportInput {
    /// Input file paths as given.
    pub files: Vec<String>,
    /// `klines` or `trades`.
    pub kind: &'static str,
    /// Rows used.
    pub rows: u64,
    /// First row time, ms.
    pub from_ms: i64,
    /// `from_ms` as `YYYY-MM-DD HH:MM:SS` UTC.
    pub from_utc: String,
    /// End of the data, ms.
    pub to_ms: i64,
    /// `to_ms` as `YYYY-MM-DD HH:MM:SS` UTC.
    pub to_utc: String,
    /// Length of the backtest period, days.
    pub days: f64,
}

/// One symbol of `symbols` in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SymbolReport {
    /// Its input files.
    pub files: Vec<String>,
    /// Rows used.
    pub rows: u64,
    /// First row time, ms.
    pub from_ms: i64,
    /// `from_ms` in UTC.
    pub from_utc: String,
    /// End of its data, ms.
    pub to_ms: i64,
    /// `to_ms` in UTC.
    pub to_utc: String,
    /// Runs of minutes without data.
    pub gaps: u64,
    /// Minutes without data.
    pub gap_minutes: u64,
    /// Buy and hold over its data (first open to last close), percent.
    pub buy_and_hold_pct: f64,
    /// Statistics of its trades.
    pub stats: Stats,
}

/// One exit reason of `profit_by_exit_reason`: trades whose final exit had it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ExitReasonStats {
    /// Trades.
    pub trades: u64,
    /// Of which with PnL > 0.
    pub wins: u64,
    /// Σ PnL, quote.
    pub pnl: f64,
    /// Mean PnL, percent of the initial equity.
    pub avg_pnl_pct: f64,
}

/// One halt of `halts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HaltReport {
    /// When, ms.
    pub time_ms: i64,
    /// When, UTC.
    pub time_utc: String,
    /// Why: `kill_switch`, `stop_file` or `command`.
    pub reason: &'static str,
    /// Mark-to-market equity then.
    pub equity: f64,
    /// The drawdown limit reached (kill switch only).
    pub drawdown_limit_pct: Option<f64>,
}

impl From<&HaltRow> for HaltReport {
    fn from(h: &HaltRow) -> Self {
        Self {
            time_ms: h.time_ms,
            time_utc: format_utc_ms(h.time_ms),
            reason: h.reason,
            equity: h.equity,
            drawdown_limit_pct: h.drawdown_limit_pct,
        }
    }
}

/// `symbols` of the report: per symbol in the order given, keyed by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SymbolStats(pub Vec<(String, SymbolReport)>);

impl Serialize for SymbolStats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, r) in &self.0 {
            map.serialize_entry(name, r)?;
        }
        map.end()
    }
}

/// `strategies` of the report: one entry per registry strategy that ran or
/// runs by default, keyed by name, in registry order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrategyStats(pub Vec<(&'static str, Stats)>);

impl StrategyStats {
    /// Returns the figures of `name`, if it has an entry.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Stats> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
    }
}

impl Serialize for StrategyStats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, stats) in &self.0 {
            map.serialize_entry(name, stats)?;
        }
        map.end()
    }
}

/// `report.json`, key for key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Input description.
    pub input: ReportInput,
    /// Starting equity.
    pub initial_equity: f64,
    /// Final equity.
    pub final_equity: f64,
    /// All trades.
    pub combined: Stats,
    /// Per strategy.
    pub strategies: StrategyStats,
    /// Risk rejections by reason.
    pub risk_rejections: BTreeMap<&'static str, u64>,
    /// Exit fills by reason.
    pub exit_reasons: BTreeMap<&'static str, u64>,
    /// Realized return per calendar month, percent.
    pub monthly_returns_pct: BTreeMap<String, f64>,
    /// Per symbol (the order of `--data`).
    pub symbols: SymbolStats,
    /// Mean buy-and-hold return of the symbols, percent (market change).
    pub market_change_pct: f64,
    /// Trades grouped by their final exit reason.
    pub profit_by_exit_reason: BTreeMap<&'static str, ExitReasonStats>,
    /// Every halt (kill switch, STOP file), in order; empty when none.
    pub halts: Vec<HaltReport>,
    /// Funding totals, or `"not modelled"` without funding data.
    pub funding: FundingReport,
}

fn results(rows: &[TradeRow], strategy: Option<&str>, symbol: Option<&str>) -> Vec<TradeResult> {
    rows.iter()
        .filter(|r| strategy.is_none_or(|s| r.strategy == s))
        .filter(|r| symbol.is_none_or(|s| r.symbol == s))
        .map(TradeResult::of)
        .collect()
}

impl Report {
    /// Builds the report of a run.
    #[must_use]
    pub fn from_result(r: &BacktestResult) -> Self {
        let initial = r.initial_equity.to_f64();
        let stats =
            |s: Option<&str>| compute(&results(&r.trades, s, None), initial, r.from_ms, r.to_ms);
        let all = results(&r.trades, None, None);
        let mut monthly = BTreeMap::new();
        let days = daily_equity(&all, initial, r.from_ms, r.to_ms);
        let first_day = r.from_ms.div_euclid(super::dates::MS_PER_DAY);
        let mut month_start = initial;
        let mut prev = initial;
        let mut current: Option<String> = None;
        for (k, eq) in days.iter().enumerate() {
            let day_ms = (first_day + k as i64) * super::dates::MS_PER_DAY;
            let month = format_month(day_ms);
            if current.as_ref() != Some(&month) {
                if let Some(m) = current.take() {
                    monthly.insert(m, pct(prev, month_start));
                }
                month_start = prev;
                current = Some(month);
            }
            prev = *eq;
        }
        if let Some(m) = current {
            monthly.insert(m, pct(prev, month_start));
        }
        Self {
            input: ReportInput {
                files: r.files.iter().map(|p| p.display().to_string()).collect(),
                kind: match r.kind {
                    FileKind::Klines => "klines",
                    FileKind::AggTrades => "trades",
                },
                rows: r.rows,
                from_ms: r.from_ms,
                from_utc: format_utc_ms(r.from_ms),
                to_ms: r.to_ms,
                to_utc: format_utc_ms(r.to_ms),
                days: (r.to_ms - r.from_ms) as f64 / MS_PER_DAY as f64,
            },
            initial_equity: initial,
            final_equity: r.final_equity.to_f64(),
            combined: stats(None),
            strategies: StrategyStats(
                StrategyName::ALL
                    .into_iter()
                    .filter(|n| n.enabled_by_default() || r.strategies.contains(&n.as_str()))
                    .map(|n| (n.as_str(), stats(Some(n.as_str()))))
                    .collect(),
            ),
            risk_rejections: r.risk_rejections.clone(),
            exit_reasons: r.exit_reasons.clone(),
            monthly_returns_pct: monthly,
            symbols: SymbolStats(
                r.symbols
                    .iter()
                    .map(|sym| {
                        let trades = results(&r.trades, None, Some(&sym.symbol));
                        let report = SymbolReport {
                            files: sym.files.iter().map(|p| p.display().to_string()).collect(),
                            rows: sym.rows,
                            from_ms: sym.from_ms,
                            from_utc: format_utc_ms(sym.from_ms),
                            to_ms: sym.to_ms,
                            to_utc: format_utc_ms(sym.to_ms),
                            gaps: sym.gaps,
                            gap_minutes: sym.gap_minutes,
                            buy_and_hold_pct: sym.buy_and_hold_pct(),
                            stats: compute(&trades, initial, r.from_ms, r.to_ms),
                        };
                        (sym.symbol.clone(), report)
                    })
                    .collect(),
            ),
            market_change_pct: if r.symbols.is_empty() {
                0.0
            } else {
                r.symbols.iter().map(|s| s.buy_and_hold_pct()).sum::<f64>() / r.symbols.len() as f64
            },
            profit_by_exit_reason: exit_reason_stats(&r.trades, initial),
            halts: r.halts.iter().map(HaltReport::from).collect(),
            funding: FundingReport::new(r.funding.as_ref(), &reported_strategies(r)),
        }
    }

    /// Returns the summary: the table per strategy, combined and per
    /// symbol, the Freqtrade-style extras (period, market change, drawdown
    /// duration, best/worst trade and day, winner/loser durations, profit
    /// per exit reason, halts), and with `compare_seed` the seed's
    /// reported figures under the table.
    #[must_use]
    pub fn summary(&self, compare_seed: bool) -> String {
        let mut s = String::new();
        let header = |s: &mut String, first: &str| {
            let _ = writeln!(
                s,
                "{:<26} {:>7} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9}",
                first,
                "trades",
                "return%",
                "maxDD%",
                "win%",
                "sig/mo",
                "avgWin%",
                "avgLoss%",
                "R:R",
                "PF",
                "fees"
            );
        };
        let row = |s: &mut String, name: &str, st: &Stats| {
            let _ = writeln!(
                s,
                "{:<26} {:>7} {:>9.2} {:>9.2} {:>8.1} {:>9} {:>9.2} {:>9.2} {:>7} {:>8} {:>9.2}",
                name,
                st.trades,
                st.return_pct,
                0.0 - st.max_drawdown_pct.abs(),
                st.win_rate_pct,
                st.signals_per_month
                    .map_or("-".into(), |v| format!("{v:.1}")),
                st.avg_win_pct,
                st.avg_loss_pct,
                opt(st.reward_risk),
                opt(st.profit_factor),
                st.fees
            );
        };
        header(&mut s, "strategy");
        for (name, stats) in &self.strategies.0 {
            row(&mut s, name, stats);
        }
        row(&mut s, "combined", &self.combined);
        if compare_seed {
            self.seed_rows(&mut s);
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<26} {:>7} {:>9} {:>9} {:>8} {:>9} {:>11} {:>7}",
            "symbol", "trades", "return%", "maxDD%", "win%", "PF", "buy&hold%", "gaps"
        );
        for (name, r) in &self.symbols.0 {
            let st = &r.stats;
            let _ = writeln!(
                s,
                "{:<26} {:>7} {:>9.2} {:>9.2} {:>8.1} {:>9} {:>11.2} {:>7}",
                name,
                st.trades,
                st.return_pct,
                0.0 - st.max_drawdown_pct.abs(),
                st.win_rate_pct,
                opt(st.profit_factor),
                r.buy_and_hold_pct,
                r.gaps
            );
        }
        let c = &self.combined;
        let _ = writeln!(
            s,
            "\nperiod {} .. {} UTC ({:.2} days); market change (mean buy and hold) {:.2}%",
            self.input.from_utc, self.input.to_utc, self.input.days, self.market_change_pct
        );
        let _ = writeln!(
            s,
            "max drawdown {:.2}% from {} to {} UTC; longest under water {}",
            c.max_drawdown_pct,
            format_utc_ms(c.max_drawdown_start_ms),
            format_utc_ms(c.max_drawdown_end_ms),
            format_duration_ms(c.max_drawdown_duration_ms)
        );
        let _ = writeln!(
            s,
            "best/worst trade {}% / {}%; best/worst day {}% / {}%; avg held: winners {}, losers {}",
            opt(c.best_trade_pct),
            opt(c.worst_trade_pct),
            opt(c.best_day_pct),
            opt(c.worst_day_pct),
            hours(c.avg_winner_hours),
            hours(c.avg_loser_hours)
        );
        if c.signals_per_month.is_none() {
            let _ = writeln!(
                s,
                "sig/mo: not extrapolated from less than {} days of data",
                super::stats::MIN_DAYS_FOR_MONTHLY_RATE
            );
        }
        for (reason, e) in &self.profit_by_exit_reason {
            let _ = writeln!(
                s,
                "exit {reason:<14} trades {:>4}  wins {:>4}  pnl {:>10.2}  avg {:>6.2}%",
                e.trades, e.wins, e.pnl, e.avg_pnl_pct
            );
        }
        for h in &self.halts {
            let _ = writeln!(
                s,
                "HALTED at {} UTC: {}{} (equity {:.2})",
                h.time_utc,
                h.reason,
                h.drawdown_limit_pct
                    .map_or(String::new(), |l| format!(", drawdown reached {l}%")),
                h.equity
            );
        }
        let _ = writeln!(
            s,
            "equity {:.2} -> {:.2}; risk rejections {:?}; exits {:?}",
            self.initial_equity, self.final_equity, self.risk_rejections, self.exit_reasons
        );
        s.push_str(&self.funding.summary_line());
        s
    }

    fn seed_rows(&self, s: &mut String) {
        for f in SEED_FIGURES {
            let (name, ret, dd, win, sig, aw, al) = (
                f.strategy,
                f.return_pct,
                f.max_drawdown_pct,
                f.win_rate_pct,
                f.signals_per_month,
                f.avg_win_pct,
                f.avg_loss_pct,
            );
            let _ = writeln!(
                s,
                "{:<26} {:>7} {:>9.2} {:>9.2} {:>8.1} {:>9.1} {:>9} {:>9} {:>7} {:>8} {:>9}",
                format!("seed {name}"),
                "-",
                ret,
                -dd,
                win,
                sig,
                aw.map_or("-".into(), |v| format!("{v:.2}")),
                al.map_or("-".into(), |v| format!("{v:.2}")),
                match (aw, al) {
                    (Some(w), Some(l)) => format!("{:.2}", w / -l),
                    _ => "-".into(),
                },
                "-",
                "-"
            );
        }
    }
}

fn hours(h: Option<f64>) -> String {
    h.map_or("-".into(), |h| {
        format_duration_ms((h * 3_600_000.0).round() as i64)
    })
}

fn exit_reason_stats(rows: &[TradeRow], initial: f64) -> BTreeMap<&'static str, ExitReasonStats> {
    let mut out: BTreeMap<&'static str, ExitReasonStats> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r.trade.exit_reason.as_str()).or_default();
        let pnl = r.trade.pnl.to_f64();
        e.trades += 1;
        e.wins += u64::from(pnl > 0.0);
        e.pnl += pnl;
    }
    for e in out.values_mut() {
        if e.trades > 0 && initial > 0.0 {
            e.avg_pnl_pct = e.pnl / e.trades as f64 / initial * 100.0;
        }
    }
    out
}

/// The strategy names the report lists (as `strategies` of the report).
fn reported_strategies(r: &BacktestResult) -> Vec<&'static str> {
    StrategyName::ALL
        .into_iter()
        .filter(|n| n.enabled_by_default() || r.strategies.contains(&n.as_str()))
        .map(StrategyName::as_str)
        .chain(r.strategies.iter().copied())
        .collect()
}

fn pct(now: f64, start: f64) -> f64 {
    if start > 0.0 {
        (now / start - 1.0) * 100.0
    } else {
        0.0
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// The header line of `trades.csv` (no newline). `journal-dump --trades`
/// prints the same columns.
pub const TRADES_CSV_HEADER: &str = "id,symbol,strategy,side,entry_time_ms,entry_time_utc,exit_time_ms,exit_time_utc,entry_price,avg_exit_price,qty,fees,pnl,r_multiple,hours_held,exit_reason,exits,funding";

/// Appends one `trades.csv` row (with its newline) for trade `t` on
/// `symbol` of the strategy named `strategy`, closed by `exits` exit fills,
/// that paid (negative) or received `funding` while open (`pnl` excludes
/// it).
pub fn push_trade_csv_row(
    out: &mut String,
    t: &ClosedTrade,
    symbol: &str,
    strategy: &str,
    exits: usize,
    funding: Money,
) {
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{},{},{}",
        t.position.0,
        symbol,
        strategy,
        match t.side {
            Side::Buy => "long",
            Side::Sell => "short",
        },
        t.entry_ts.as_ms(),
        format_utc_ms(t.entry_ts.as_ms()),
        t.exit_ts.as_ms(),
        format_utc_ms(t.exit_ts.as_ms()),
        decimal8(t.entry_price.to_f64()),
        decimal8(t.avg_exit_price.to_f64()),
        decimal8(t.qty.to_f64()),
        t.fees,
        t.pnl,
        t.r_multiple,
        t.hours_held,
        t.exit_reason.as_str(),
        exits,
        funding
    );
}

/// Returns `trades.csv` text.
#[must_use]
pub fn trades_csv(rows: &[TradeRow]) -> String {
    let mut s = String::with_capacity(TRADES_CSV_HEADER.len() + 1 + rows.len() * 128);
    s.push_str(TRADES_CSV_HEADER);
    s.push('\n');
    for r in rows {
        push_trade_csv_row(
            &mut s,
            &r.trade,
            &r.symbol,
            r.strategy,
            exit_fill_count(&r.exits),
            r.funding,
        );
    }
    s
}

/// Returns the number of exit fills in a trade's exit log (`kind qty@price`
/// entries separated by `;`): the `exits` column of `trades.csv`.
#[must_use]
pub fn exit_fill_count(exit_log: &str) -> usize {
    exit_log
        .split(';')
        .filter(|part| !part.trim().is_empty())
        .count()
}

/// Returns `equity.csv` text: minute (ms and UTC), equity and drawdown from the peak.
#[must_use]
pub fn equity_csv(points: &[(i64, f64)]) -> String {
    let mut s = String::from("time_ms,time_utc,equity,drawdown_pct\n");
    let mut peak = f64::MIN;
    for (ms, eq) in points {
        peak = peak.max(*eq);
        let dd = if peak > 0.0 {
            (peak - eq) / peak * 100.0
        } else {
            0.0
        };
        let _ = writeln!(s, "{ms},{},{eq:.8},{dd:.6}", format_utc_ms(*ms));
    }
    s
}

/// Writes `report.json`, `trades.csv`, `equity.csv`, `equity.svg`,
/// `fills.csv` and, when funding is modelled, `funding.csv` into `dir`
/// (created if missing), and `chart.html` when the run collected a chart,
/// and returns the report.
///
/// # Errors
/// The I/O error of creating the directory or writing a file, its message
/// naming the path.
pub fn write_outputs(result: &BacktestResult, dir: &Path) -> io::Result<Report> {
    let named = |path: &Path| {
        let shown = path.display().to_string();
        move |e: io::Error| io::Error::new(e.kind(), format!("{shown}: {e}"))
    };
    fs::create_dir_all(dir).map_err(named(dir))?;
    let report = Report::from_result(result);
    let json = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        fs::write(&path, text).map_err(named(&path))
    };
    write("report.json", json + "\n")?;
    write("trades.csv", trades_csv(&result.trades))?;
    write("equity.csv", equity_csv(&result.equity))?;
    write("equity.svg", svg::equity_svg(&result.equity))?;
    if let Some(page) = chart_page(result) {
        write("chart.html", page)?;
    }
    write("fills.csv", fills_csv(&result.symbols, &result.fills))?;
    let funding_path = dir.join("funding.csv");
    if result.funding.is_some() {
        write("funding.csv", funding_csv(result.funding.as_ref()))?;
    } else if funding_path.exists() {
        // A previous run's file must not pass for this run's (not modelled).
        fs::remove_file(&funding_path).map_err(named(&funding_path))?;
    }
    Ok(report)
}

/// Returns the text of `chart.html` for `result`, `None` when the run did
/// not collect a chart.
#[must_use]
pub fn chart_page(result: &BacktestResult) -> Option<String> {
    let data = result.chart.as_ref()?;
    let names: Vec<String> = result.symbols.iter().map(|s| s.symbol.clone()).collect();
    Some(chart::chart_html(data, &names, &result.equity))
}
