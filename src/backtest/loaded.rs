//! Backtests over rows already in memory: the data files of a parameter
//! sweep or a walk-forward are read and parsed once, then shared read-only
//! by every run (and every worker thread).
//!
//! Consumes data files (read once by [`LoadedData::load`]); produces
//! [`BacktestResult`]s through the same driver loop as [`super::run`], so a
//! run over loaded rows is identical to a run over the files. Never copies
//! the rows per run: a run borrows the slice of its date range.

use std::path::{Path, PathBuf};

use super::portfolio::{drive, Instrument, PortfolioOptions};
use super::{BacktestError, BacktestResult};
use crate::config::Config;
use crate::datafile::{DataFileError, DataSet, FileKind, Record as Row};
use crate::types::{InstrumentRules, SymbolId, NS_PER_MS};

/// Every row of a set of data files, merged in time order, in memory.
#[derive(Debug, Clone)]
pub struct LoadedData {
    files: Vec<PathBuf>,
    kind: FileKind,
    rows: Vec<Row>,
}

impl LoadedData {
    /// Reads and parses `paths` (merged in time order like a backtest reads
    /// them) into memory.
    ///
    /// # Errors
    /// Any [`DataFileError`] of opening or reading the files.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Self, DataFileError> {
        let mut set = DataSet::open(paths, SymbolId(0))?;
        let kind = set.kind();
        let mut rows = Vec::new();
        while let Some(row) = set.next_record()? {
            rows.push(row);
        }
        rows.shrink_to_fit();
        Ok(Self {
            files: paths.iter().map(|p| p.as_ref().to_path_buf()).collect(),
            kind,
            rows,
        })
    }

    /// Returns the files the rows came from, as given.
    #[must_use]
    pub fn files(&self) -> &[PathBuf] {
        &self.files
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
/// inside `range`: the same run as [`super::run`] on the files with that
/// range (and, with [`LoadedRange::trade_from_ms`], a warm-up without
/// orders before it).
///
/// # Errors
/// [`BacktestError::Core`] when the configuration is unusable for the core,
/// [`BacktestError::NoData`] when no row is inside the range.
pub fn run_loaded(
    cfg: &Config,
    data: &LoadedData,
    range: LoadedRange,
    rules: InstrumentRules,
) -> Result<BacktestResult, BacktestError> {
    let symbol = cfg
        .market
        .symbols
        .first()
        .cloned()
        .unwrap_or_else(|| "BTC-USDT".into());
    let opts = PortfolioOptions {
        instruments: vec![Instrument {
            symbol,
            files: data.files.clone(),
            rules,
        }],
        from_ms: range.from_ms,
        to_ms: range.to_ms,
        progress_every: u64::MAX,
        chart: false,
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
