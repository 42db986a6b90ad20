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

use super::dates::format_month;
use super::funding::{fills_csv, funding_csv, FundingReport};
use super::stats::{compute, daily_equity, Stats, TradeResult};
use super::{svg, BacktestResult, TradeRow};
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
    /// End of the data, ms.
    pub to_ms: i64,
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
    /// Funding totals, or `"not modelled"` without funding data.
    pub funding: FundingReport,
}

fn results(rows: &[TradeRow], strategy: Option<&str>) -> Vec<TradeResult> {
    rows.iter()
        .filter(|r| strategy.is_none_or(|s| r.strategy == s))
        .map(|r| TradeResult {
            entry_ms: r.trade.entry_ts.as_ms(),
            exit_ms: r.trade.exit_ts.as_ms(),
            pnl: (r.trade.pnl + r.funding).to_f64(),
            r_multiple: r.trade.r_multiple,
            fees: r.trade.fees.to_f64(),
        })
        .collect()
}

impl Report {
    /// Builds the report of a run.
    #[must_use]
    pub fn from_result(r: &BacktestResult) -> Self {
        let initial = r.initial_equity.to_f64();
        let stats = |s: Option<&str>| compute(&results(&r.trades, s), initial, r.from_ms, r.to_ms);
        let all = results(&r.trades, None);
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
                to_ms: r.to_ms,
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
            funding: FundingReport::new(r.funding.as_ref(), &reported_strategies(r)),
        }
    }

    /// Returns the summary table: per strategy and combined, beside the
    /// seed's figures.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<26} {:>7} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9}",
            "strategy",
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
        let row = |s: &mut String, name: &str, st: &Stats| {
            let _ = writeln!(
                s,
                "{:<26} {:>7} {:>9.2} {:>9.2} {:>8.1} {:>9.1} {:>9.2} {:>9.2} {:>7} {:>8} {:>9.2}",
                name,
                st.trades,
                st.return_pct,
                0.0 - st.max_drawdown_pct.abs(),
                st.win_rate_pct,
                st.signals_per_month,
                st.avg_win_pct,
                st.avg_loss_pct,
                opt(st.reward_risk),
                opt(st.profit_factor),
                st.fees
            );
        };
        for (name, stats) in &self.strategies.0 {
            row(&mut s, name, stats);
        }
        row(&mut s, "combined", &self.combined);
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
        let _ = writeln!(
            s,
            "equity {:.2} -> {:.2}; risk rejections {:?}; exits {:?}",
            self.initial_equity, self.final_equity, self.risk_rejections, self.exit_reasons
        );
        s.push_str(&self.funding.summary_line());
        s
    }
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

/// Returns `v` with at most 8 decimals and no trailing zeros (fixed-point
/// values printed without their binary noise).
#[must_use]
pub fn decimal8(v: f64) -> String {
    let s = format!("{v:.8}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The header line of `trades.csv` (no newline). `journal-dump --trades`
/// prints the same columns.
pub const TRADES_CSV_HEADER: &str = "id,strategy,side,entry_time_ms,exit_time_ms,entry_price,avg_exit_price,qty,fees,pnl,r_multiple,hours_held,exit_reason,exits,funding";

/// Appends one `trades.csv` row (with its newline) for trade `t` of the
/// strategy named `strategy`, closed by `exits` exit fills, that paid
/// (negative) or received `funding` while open (`pnl` excludes it).
pub fn push_trade_csv_row(
    out: &mut String,
    t: &ClosedTrade,
    strategy: &str,
    exits: usize,
    funding: Money,
) {
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{},{},{}",
        t.position.0,
        strategy,
        match t.side {
            Side::Buy => "long",
            Side::Sell => "short",
        },
        t.entry_ts.as_ms(),
        t.exit_ts.as_ms(),
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

/// Returns `equity.csv` text: minute, equity and drawdown from the peak.
#[must_use]
pub fn equity_csv(points: &[(i64, f64)]) -> String {
    let mut s = String::from("time_ms,equity,drawdown_pct\n");
    let mut peak = f64::MIN;
    for (ms, eq) in points {
        peak = peak.max(*eq);
        let dd = if peak > 0.0 {
            (peak - eq) / peak * 100.0
        } else {
            0.0
        };
        let _ = writeln!(s, "{ms},{eq:.8},{dd:.6}");
    }
    s
}

/// Writes `report.json`, `trades.csv`, `equity.csv`, `equity.svg`,
/// `fills.csv` and, when funding is modelled, `funding.csv` into `dir` (created if missing) and returns the report.
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
    write("fills.csv", fills_csv(&result.symbol, &result.fills))?;
    let funding_path = dir.join("funding.csv");
    if result.funding.is_some() {
        write("funding.csv", funding_csv(result.funding.as_ref()))?;
    } else if funding_path.exists() {
        // A previous run's file must not pass for this run's (not modelled).
        fs::remove_file(&funding_path).map_err(named(&funding_path))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::decimal8;

    #[test]
    fn decimal8_drops_binary_noise_and_trailing_zeros() {
        assert_eq!(decimal8(0.205_000_000_074_505_8), "0.205");
        assert_eq!(decimal8(97_106.909_719_999_88), "97106.90972");
        assert_eq!(decimal8(5.0), "5");
        assert_eq!(decimal8(-0.000_000_001), "0");
    }
}
