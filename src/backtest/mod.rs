//! Backtests: Binance klines or aggTrades files driven through the engine
//! [`Core`] against the [`FillModel`], and the report files.
//!
//! Consumes a [`Config`], data files (auto-detected, merged in time order)
//! and an optional date range; produces a [`BacktestResult`] (closed trades,
//! an equity curve sampled once per minute, rejection and exit-reason
//! counts) and writes `report.json`, `trades.csv`, `equity.csv` and
//! `equity.svg`. The driver is the only place that knows it is a backtest:
//! the core sees the same events as live. Deterministic: two runs on the
//! same input give byte-identical reports. Cold-path allocation (trade rows,
//! the equity curve) happens here, never in the core.

pub mod dates;
mod loaded;
mod report;
pub mod stats;
mod svg;

pub use loaded::{run_loaded, LoadedData, LoadedRange};
pub use report::{
    equity_csv, exit_fill_count, push_trade_csv_row, trades_csv, write_outputs, Report,
    ReportInput, SeedFigures, SEED_FIGURES, TRADES_CSV_HEADER,
};
pub use svg::equity_svg;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;

use crate::config::Config;
use crate::core::{Action, Command, Core, CoreError, Event, Record};
use crate::datafile::{DataFileError, DataSet, FileKind, Record as Row};
use crate::fill_model::{FillModel, MarketFill};
use crate::money::Money;
use crate::orders::PositionId;
use crate::positions::ClosedTrade;
use crate::risk::RejectReason;
use crate::types::{InstrumentRules, SymbolId, TimestampNs, NS_PER_MIN, NS_PER_MS};

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
}

/// A closed trade with its strategy name and exit legs.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    /// The core's record.
    pub trade: ClosedTrade,
    /// Strategy name.
    pub strategy: &'static str,
    /// Exit legs, `reason qty@price` joined by `;`.
    pub exits: String,
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
}

impl fmt::Display for BacktestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Data(e) => write!(f, "Cannot read data: {e}"),
            Self::Core(e) => write!(f, "Cannot build the engine: {e}"),
            Self::NoData => write!(f, "No data rows inside the date range"),
        }
    }
}

impl std::error::Error for BacktestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Data(e) => Some(e),
            Self::Core(e) => Some(e),
            Self::NoData => None,
        }
    }
}

/// The driver state between rows.
struct Driver {
    core: Core,
    sim: FillModel,
    events: VecDeque<Event>,
    exits: HashMap<PositionId, String>,
    trades: Vec<TradeRow>,
    rejections: BTreeMap<&'static str, u64>,
    exit_reasons: BTreeMap<&'static str, u64>,
    /// Orders decided before this time are refused (the warm-up of a
    /// walk-forward test span): indicators warm, no position opens.
    refuse_before: TimestampNs,
}

impl Driver {
    /// Feeds `event` to the core, then runs every action through the
    /// simulated exchange and its answers back into the core until quiet.
    fn dispatch(&mut self, event: Event) {
        self.events.push_back(event);
        self.drain();
    }

    /// Feeds the queued events, in order, and everything they cause.
    fn drain(&mut self) {
        while let Some(e) = self.events.pop_front() {
            self.core.on_event(&e);
            while let Some(a) = self.core.next_action() {
                match a {
                    Action::Place(o) if o.ts < self.refuse_before => {
                        self.events.push_back(Event::Rejected {
                            order: o.id,
                            ts: o.ts,
                        });
                    }
                    Action::Place(o) => self.sim.submit(&o, &mut |e| self.events.push_back(e)),
                    Action::Cancel { order, .. } => {
                        self.sim.cancel(order, &mut |e| self.events.push_back(e));
                    }
                    Action::Record(r) => self.on_record(&r),
                    Action::Log(l) => log::debug!("Core: {l:?}"),
                }
            }
        }
    }

    fn on_record(&mut self, r: &Record) {
        match r {
            Record::RiskRejected { reason, .. } => {
                *self.rejections.entry(reason.as_str()).or_default() += 1;
            }
            Record::Exit {
                position,
                reason,
                qty,
                price,
                ..
            } => {
                *self.exit_reasons.entry(reason.as_str()).or_default() += 1;
                let legs = self.exits.entry(*position).or_default();
                if !legs.is_empty() {
                    legs.push(';');
                }
                legs.push_str(&format!(
                    "{} {}@{}",
                    reason.as_str(),
                    report::decimal8(qty.to_f64()),
                    report::decimal8(price.to_f64())
                ));
            }
            Record::TradeClosed(t) => {
                let exits = self.exits.remove(&t.position).unwrap_or_default();
                self.trades.push(TradeRow {
                    trade: *t,
                    strategy: self.core.strategy_name(t.strategy),
                    exits,
                });
            }
            _ => {}
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
///
/// # Errors
/// As [`run`].
pub fn run_with_strategies(
    cfg: &Config,
    opts: &BacktestOptions,
    strategies: Vec<Box<dyn crate::strategy::Strategy>>,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestResult, BacktestError> {
    let mut data = DataSet::open(&opts.data, SymbolId(0)).map_err(BacktestError::Data)?;
    let kind = data.kind();
    run_source(
        cfg,
        opts,
        kind,
        &mut || data.next_record(),
        None,
        strategies,
        progress,
    )
}

/// The driver loop over any row source in time order (files read as they
/// go, or rows already in memory, see [`run_loaded`]).
fn run_source(
    cfg: &Config,
    opts: &BacktestOptions,
    kind: FileKind,
    next_row: &mut dyn FnMut() -> Result<Option<Row>, DataFileError>,
    refuse_before_ms: Option<i64>,
    strategies: Vec<Box<dyn crate::strategy::Strategy>>,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestResult, BacktestError> {
    let mut cfg = cfg.clone();
    cfg.market.symbols.truncate(1);
    if cfg.market.symbols.is_empty() {
        cfg.market.symbols.push("BTC-USDT".into());
    }
    let core =
        Core::try_with_strategies(&cfg, &[opts.rules], strategies).map_err(BacktestError::Core)?;
    let fill = match kind {
        FileKind::Klines => MarketFill::LastClose,
        FileKind::AggTrades => MarketFill::NextTrade,
    };
    let strategies = (0..core.enabled_strategy_count())
        .map(|k| {
            core.strategy_name(crate::strategy::StrategyId(
                u8::try_from(k).unwrap_or(u8::MAX),
            ))
        })
        .collect();
    let initial_equity = core.initial_equity();
    let mut d = Driver {
        core,
        sim: FillModel::new(&cfg.simulator, 1, fill),
        events: VecDeque::with_capacity(1024),
        exits: HashMap::new(),
        trades: Vec::new(),
        rejections: BTreeMap::new(),
        exit_reasons: BTreeMap::new(),
        refuse_before: TimestampNs(
            refuse_before_ms.map_or(i64::MIN, |ms| ms.saturating_mul(NS_PER_MS)),
        ),
    };
    let from_ns = opts.from_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let to_ns = opts.to_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let (mut rows, mut first, mut last) = (0u64, None, TimestampNs(0));
    let mut equity = Vec::new();
    let mut minute = i64::MIN;
    let every = opts.progress_every.max(1);
    while let Some(row) = next_row().map_err(BacktestError::Data)? {
        let ts = row.timestamp();
        if from_ns.is_some_and(|f| ts.0 < f) || to_ns.is_some_and(|t| ts.0 >= t) {
            continue;
        }
        rows += 1;
        if rows % every == 0 {
            progress(rows);
        }
        first.get_or_insert(ts);
        last = ts;
        let m = ts.0.div_euclid(NS_PER_MIN);
        if m != minute && minute != i64::MIN {
            equity.push((minute * 60_000, d.core.equity()));
        }
        minute = m;
        match row {
            Row::Trade(t) => {
                d.sim.on_trade(&t, &mut |e| d.events.push_back(e));
                d.dispatch(Event::Trade(t));
            }
            Row::Candle(c) => {
                d.sim.on_candle(&c, &mut |e| d.events.push_back(e));
                d.dispatch(Event::Candle(c));
            }
        }
    }
    let Some(first) = first else {
        return Err(BacktestError::NoData);
    };
    let end = match kind {
        FileKind::Klines => last.add_ns(NS_PER_MIN),
        FileKind::AggTrades => last,
    };
    d.dispatch(Event::Control {
        command: Command::Shutdown,
        ts: end,
    });
    let events = &mut d.events;
    d.sim.flush(&mut |e| events.push_back(e));
    d.drain();
    equity.push((minute * 60_000, d.core.equity()));
    let mut risk_rejections = d.rejections;
    for reason in RejectReason::ALL {
        risk_rejections.entry(reason.as_str()).or_insert(0);
    }
    Ok(BacktestResult {
        files: opts.data.clone(),
        kind,
        rows,
        from_ms: first.as_ms(),
        to_ms: end.as_ms(),
        initial_equity,
        final_equity: d.core.cash(),
        trades: d.trades,
        equity,
        risk_rejections,
        exit_reasons: d.exit_reasons,
        strategies,
    })
}

#[cfg(test)]
mod tests;
