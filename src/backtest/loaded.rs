//! Backtests over rows already in memory: the data files of a parameter
//! sweep or a walk-forward are read and parsed once, then shared read-only
//! by every run (and every worker thread).
//!
//! Consumes data files (read once by [`LoadedData::load`]); produces
//! [`BacktestResult`]s through the same driver loop as [`super::run`], so a
//! run over loaded rows is identical to a run over the files. Never copies
//! the rows per run: a run borrows the slice of its date range.

use std::path::PathBuf;

use super::portfolio::{drive, open, Instrument, PortfolioOptions};
use super::{BacktestError, BacktestResult};
use crate::config::Config;
use crate::datafile::{FileKind, Record as Row};
use crate::types::NS_PER_MS;

/// Every row of the data files of one or several symbols, merged in
/// exchange-time order, in memory, with each symbol's instrument rules.
#[derive(Debug, Clone)]
pub struct LoadedData {
    instruments: Vec<Instrument>,
    kind: FileKind,
    rows: Vec<Row>,
}

impl LoadedData {
    /// Reads and parses the files of `instruments` (`SymbolId(i)` is
    /// `instruments[i]`) into memory, merged in time order with the checks
    /// of a portfolio backtest.
    ///
    /// # Errors
    /// [`BacktestError::Data`] when a file cannot be read, files mix kinds,
    /// or files of one symbol repeat or overlap;
    /// [`BacktestError::TooManySymbols`].
    pub fn load(instruments: &[Instrument]) -> Result<Self, BacktestError> {
        let mut set = open(instruments)?;
        let kind = set.kind();
        let mut rows = Vec::new();
        while let Some(row) = set.next_record().map_err(BacktestError::Data)? {
            rows.push(row);
        }
        rows.shrink_to_fit();
        Ok(Self {
            instruments: instruments.to_vec(),
            kind,
            rows,
        })
    }

    /// Returns the symbols with their files and rules, as given.
    #[must_use]
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// Returns the files the rows came from, symbol by symbol.
    #[must_use]
    pub fn files(&self) -> Vec<PathBuf> {
        Instrument::all_files(&self.instruments)
    }

    /// Returns the kind of the files.
    #[must_use]
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Returns the rows in time order.
    #[must_use]
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Returns the rows with a time in `[from_ms, to_ms)` (either bound open
    /// when `None`), found by binary search.
    #[must_use]
    pub fn range(&self, from_ms: Option<i64>, to_ms: Option<i64>) -> &[Row] {
        let start = from_ms.map_or(0, |ms| {
            let ns = ms.saturating_mul(NS_PER_MS);
            self.rows.partition_point(|r| r.timestamp().0 < ns)
        });
        let end = to_ms.map_or(self.rows.len(), |ms| {
            let ns = ms.saturating_mul(NS_PER_MS);
            self.rows.partition_point(|r| r.timestamp().0 < ns)
        });
        self.rows.get(start..end.max(start)).unwrap_or(&[])
    }

    /// Describes every symbol's instrument rules in one line (a sweep's
    /// manifest compares it): the rules alone for one symbol,
    /// `SYMBOL rules` joined by `; ` for several.
    #[must_use]
    pub fn rules_text(&self) -> String {
        match self.instruments.as_slice() {
            [one] => format!("{:?}", one.rules),
            many => many
                .iter()
                .map(|i| format!("{} {:?}", i.symbol, i.rules))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// The span of a run over [`LoadedData`], Unix ms; `None` bounds are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadedRange {
    /// First row time used (inclusive).
    pub from_ms: Option<i64>,
    /// Orders decided before this time are refused (the live warm-up refuses
    /// entries; without one no other order arises): rows before it only warm the indicators (`None`: trade from the start).
    pub trade_from_ms: Option<i64>,
    /// Rows at or after this time are not used; positions still open are
    /// closed at the end of the data used.
    pub to_ms: Option<i64>,
}

/// Runs a backtest of the configured strategies over the rows of `data`
/// inside `range`, every symbol of `data` with its rules: the same run as
/// [`super::run_portfolio`] on the files with that range (and, with
/// [`LoadedRange::trade_from_ms`], a warm-up without orders before it).
///
/// # Errors
/// [`BacktestError::Core`] when the configuration is unusable for the core,
/// [`BacktestError::NoData`] when no row is inside the range.
pub fn run_loaded(
    cfg: &Config,
    data: &LoadedData,
    range: LoadedRange,
) -> Result<BacktestResult, BacktestError> {
    run_loaded_with(cfg, data, range, false)
}

/// [`run_loaded`], also collecting the chart's data when `chart` is set
/// (`BacktestResult::chart`).
///
/// # Errors
/// As [`run_loaded`].
pub fn run_loaded_with(
    cfg: &Config,
    data: &LoadedData,
    range: LoadedRange,
    chart: bool,
) -> Result<BacktestResult, BacktestError> {
    let opts = PortfolioOptions {
        instruments: data.instruments.clone(),
        from_ms: range.from_ms,
        to_ms: range.to_ms,
        progress_every: u64::MAX,
        chart,
        trade_from_ms: range.trade_from_ms,
        funding: crate::backtest::funding::FundingInputs::default(),
    };
    let mut rows = data.range(range.from_ms, range.to_ms).iter();
    drive(
        cfg,
        &opts,
        data.kind,
        crate::strategy::build(&cfg.strategies),
        &mut |_| {},
        &mut || Ok(rows.next().copied()),
    )
}
