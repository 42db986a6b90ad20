//! Backtests: Binance klines or aggTrades files of one or several symbols
//! driven through the engine [`Core`](crate::core::Core) against the
//! [`FillModel`](crate::fill_model::FillModel), and the report files.
//!
//! Consumes a [`Config`], data files (auto-detected, merged in time order)
//! and an optional date range; produces a [`BacktestResult`] (closed trades,
//! an equity curve sampled once per minute, rejection and exit-reason
//! counts, per-symbol spans and gaps, halts) and writes `report.json`,
//! `trades.csv`, `equity.csv`, `equity.svg`, `fills.csv` (every execution),
//! `funding.csv` (every funding payment, when `--funding` files are given;
//! see [`funding`]) and optionally `chart.html`. The driver is the only
//! place that knows it is a backtest:
//! the core sees the same events as live. Deterministic: two runs on the
//! same input give byte-identical reports. Cold-path allocation (trade rows,
//! the equity curve) happens here, never in the core.

mod chart;
pub mod dates;
mod decimal;
pub mod funding;
mod loaded;
mod portfolio;
#[cfg(test)]
mod portfolio_tests;
mod report;
pub mod stats;
mod svg;

pub use chart::ChartData;
pub use portfolio::{run_portfolio, Instrument, PortfolioOptions};

pub use loaded::{run_loaded, run_loaded_with, LoadedData, LoadedRange};
pub use report::{
    chart_page, equity_csv, exit_fill_count, push_trade_csv_row, trades_csv, write_outputs, Report,
    ReportInput, SeedFigures, SEED_FIGURES, TRADES_CSV_HEADER,
};
pub use svg::equity_svg;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::core::CoreError;
use crate::datafile::{DataFileError, FileKind};
use crate::funding::schedule::FundingLoadError;
use crate::money::Money;
use crate::positions::ClosedTrade;
use crate::types::{InstrumentRules, TimestampNs};
use funding::{FillRow, FundingInputs, FundingLedger};

/// What to run.
#[derive(Debug, Clone)]
pub struct BacktestOptions {
    /// Data files, all klines or all aggTrades.
    pub data: Vec<PathBuf>,
    /// First day to use, Unix ms of its midnight (inclusive).
    pub from_ms: Option<i64>,
    /// Rows at or after this Unix ms are skipped.
    pub to_ms: Option<i64>,
    /// Instrument rules of the traded symbol.
    pub rules: InstrumentRules,
    /// Called every 2^20 rows with the rows read so far.
    pub progress_every: u64,
    /// Funding-rate and mark-price files (empty: funding not modelled).
    pub funding: FundingInputs,
}

/// A closed trade with its symbol and strategy names and exit legs.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    /// The core's record.
    pub trade: ClosedTrade,
    /// Symbol name (BingX form).
    pub symbol: String,
    /// Strategy name.
    pub strategy: &'static str,
    /// Exit legs, `reason qty@price` joined by `;`.
    pub exits: String,
    /// Funding the position paid (negative) or received while open.
    pub funding: Money,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct BacktestResult {
    /// Input files.
    pub files: Vec<PathBuf>,
    /// Kind of the input.
    pub kind: FileKind,
    /// Rows used (inside the date range).
    pub rows: u64,
    /// First row time, ms.
    pub from_ms: i64,
    /// Last row time, ms.
    pub to_ms: i64,
    /// Starting equity.
    pub initial_equity: Money,
    /// Final equity (everything closed at the end).
    pub final_equity: Money,
    /// Closed trades in exit order.
    pub trades: Vec<TradeRow>,
    /// (minute ms, mark-to-market equity) once per minute with data.
    pub equity: Vec<(i64, f64)>,
    /// Risk rejections by reason.
    pub risk_rejections: BTreeMap<&'static str, u64>,
    /// Exit fills by reason.
    pub exit_reasons: BTreeMap<&'static str, u64>,
    /// Enabled strategy names in config order.
    pub strategies: Vec<&'static str>,
    /// Per symbol, in `SymbolId` order.
    pub symbols: Vec<SymbolResult>,
    /// Every time the engine halted (kill switch, STOP file), in order.
    pub halts: Vec<HaltRow>,
    /// What `chart.html` shows, when it was asked for.
    pub chart: Option<ChartData>,
    /// Every execution, in time order.
    pub fills: Vec<FillRow>,
    /// Funding charged (`None`: no funding data, funding not modelled).
    pub funding: Option<FundingLedger>,
}

/// One symbol's data in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolResult {
    /// BingX symbol name.
    pub symbol: String,
    /// Its files, as given.
    pub files: Vec<PathBuf>,
    /// Rows used.
    pub rows: u64,
    /// First row time, ms (0 without rows).
    pub from_ms: i64,
    /// End of its data, ms (one minute after the last kline's open).
    pub to_ms: i64,
    /// Price at the start: first kline's open or first trade's price.
    pub first_price: f64,
    /// Price at the end: last kline's close or last trade's price.
    pub last_price: f64,
    /// Runs of minutes without data.
    pub gaps: u64,
    /// Minutes without data, summed over the gaps.
    pub gap_minutes: u64,
}

impl SymbolResult {
    fn new(symbol: &str, files: &[PathBuf]) -> Self {
        Self {
            symbol: symbol.to_owned(),
            files: files.to_vec(),
            rows: 0,
            from_ms: 0,
            to_ms: 0,
            first_price: 0.0,
            last_price: 0.0,
            gaps: 0,
            gap_minutes: 0,
        }
    }

    fn on_row(&mut self, ts: TimestampNs, open: f64, close: f64) {
        if self.rows == 0 {
            self.from_ms = ts.as_ms();
            self.first_price = open;
        }
        self.rows += 1;
        self.to_ms = ts.as_ms();
        self.last_price = close;
    }

    /// Returns the buy-and-hold return over its data, percent.
    #[must_use]
    pub fn buy_and_hold_pct(&self) -> f64 {
        if self.first_price > 0.0 {
            (self.last_price / self.first_price - 1.0) * 100.0
        } else {
            0.0
        }
    }

    /// Returns the files joined for messages.
    #[must_use]
    pub fn files_text(&self) -> String {
        self.files
            .iter()
            .map(|p: &PathBuf| Path::display(p).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The engine entered HALTED during a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HaltRow {
    /// When, Unix ms.
    pub time_ms: i64,
    /// Why: `kill_switch`, `stop_file` or `command`.
    pub reason: &'static str,
    /// Mark-to-market equity at that moment.
    pub equity: f64,
    /// For the kill switch: `risk.max_drawdown_pct` that was reached.
    pub drawdown_limit_pct: Option<f64>,
}

/// Why a backtest failed.
#[derive(Debug)]
pub enum BacktestError {
    /// A data file could not be read or is corrupt.
    Data(DataFileError),
    /// The engine core rejected the configuration.
    Core(CoreError),
    /// No row fell inside the date range.
    NoData,
    /// More symbols than a `SymbolId` can number.
    TooManySymbols,
    /// A funding or mark-price file could not be used.
    Funding(FundingLoadError),
    /// Funding files were given for a symbol the data does not hold.
    FundingSymbol {
        /// Symbol of the funding files.
        symbol: String,
        /// Symbol of the data.
        data_symbol: String,
    },
}

impl fmt::Display for BacktestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Data(e) => write!(f, "Cannot read data: {e}"),
            Self::Core(e) => write!(f, "Cannot build the engine: {e}"),
            Self::NoData => write!(f, "No data rows inside the date range"),
            Self::TooManySymbols => write!(f, "More than 65536 symbols"),
            Self::Funding(e) => write!(f, "Cannot use the funding data: {e}"),
            Self::FundingSymbol {
                symbol,
                data_symbol,
            } => write!(
                f,
                "Funding files are for {symbol} but the data is {data_symbol} (name the symbol as SYMBOL=FILE)"
            ),
        }
    }
}

impl std::error::Error for BacktestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Data(e) => Some(e),
            Self::Core(e) => Some(e),
            Self::Funding(e) => Some(e),
            Self::NoData | Self::TooManySymbols | Self::FundingSymbol { .. } => None,
        }
    }
}

/// Runs a backtest of the configured strategies. `progress` is called
/// every `opts.progress_every` rows.
///
/// # Errors
/// [`BacktestError`] when the data cannot be read, the configuration is
/// unusable for the core, or no row is inside the range.
pub fn run(
    cfg: &Config,
    opts: &BacktestOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestResult, BacktestError> {
    run_with_strategies(cfg, opts, crate::strategy::build(&cfg.strategies), progress)
}

/// Runs a backtest like [`run`] with the given strategies instead of the
/// configured ones (a strategy outside the registry, or the scripted
/// strategy a paper run uses, see
/// [`RunOptions::strategies`](crate::runtime::RunOptions::strategies)).
/// All files are one symbol: the config's first (`BTC-USDT` by default).
///
/// # Errors
/// As [`run`].
pub fn run_with_strategies(
    cfg: &Config,
    opts: &BacktestOptions,
    strategies: Vec<Box<dyn crate::strategy::Strategy>>,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestResult, BacktestError> {
    let symbol = cfg
        .market
        .symbols
        .first()
        .cloned()
        .unwrap_or_else(|| "BTC-USDT".into());
    let portfolio = PortfolioOptions {
        instruments: vec![Instrument {
            symbol,
            files: opts.data.clone(),
            rules: opts.rules,
        }],
        from_ms: opts.from_ms,
        to_ms: opts.to_ms,
        progress_every: opts.progress_every,
        chart: false,
        trade_from_ms: None,
        funding: opts.funding.clone(),
    };
    run_portfolio(cfg, &portfolio, strategies, progress)
}

#[cfg(test)]
mod tests;
