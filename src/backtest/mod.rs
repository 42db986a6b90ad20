//! Backtests: Binance klines or aggTrades files driven through the engine
//! [`Core`] against the [`FillModel`], and the report files.
//!
//! Consumes a [`Config`], data files (auto-detected, merged in time order)
//! and an optional date range; produces a [`BacktestResult`] (closed trades,
//! an equity curve sampled once per minute, rejection and exit-reason
//! counts) and writes `report.json`, `trades.csv`, `equity.csv` and
//! `equity.svg`, plus `fills.csv` (every execution) and `funding.csv` (every
//! funding payment, when `--funding` files are given; see [`funding`]).
//! The driver is the only place that knows it is a backtest:
//! the core sees the same events as live. Deterministic: two runs on the
//! same input give byte-identical reports. Cold-path allocation (trade rows,
//! the equity curve) happens here, never in the core.

pub mod dates;
pub mod funding;
mod report;
pub mod stats;
mod svg;

pub use report::{
    push_trade_csv_row, trades_csv, write_outputs, Report, ReportInput, SeedFigures, SEED_FIGURES,
    TRADES_CSV_HEADER,
};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;

use crate::config::Config;
use crate::core::{Action, Command, Core, CoreError, Event, Record};
use crate::datafile::{DataFileError, DataSet, FileKind, Record as Row};
use crate::fill_model::{FillModel, MarketFill};
use crate::funding::schedule::FundingLoadError;
use crate::funding::FundingSettlement;
use crate::money::Money;
use crate::orders::{OrderId, OrderPurpose, PositionId};
use crate::positions::ClosedTrade;
use crate::risk::RejectReason;
use crate::types::{InstrumentRules, Side, SymbolId, TimestampNs, NS_PER_MIN, NS_PER_MS};
use funding::{FillRow, FundingClock, FundingInputs, FundingLedger, FundingRow};

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

/// A closed trade with its strategy name and exit legs.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    /// The core's record.
    pub trade: ClosedTrade,
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
    /// The traded symbol, normalized (`ETHUSDT`): from the data file name,
    /// else the first `market.symbols` entry.
    pub symbol: String,
    /// Every execution, in time order.
    pub fills: Vec<FillRow>,
    /// Funding charged (`None`: no funding data, funding not modelled).
    pub funding: Option<FundingLedger>,
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
            Self::NoData | Self::FundingSymbol { .. } => None,
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
    /// Position, side and purpose of every order sent.
    orders: HashMap<OrderId, (PositionId, Side, OrderPurpose)>,
    /// Strategy of every position.
    owners: HashMap<PositionId, &'static str>,
    fills: Vec<FillRow>,
    /// The exit fill being handled: its row takes the core's exit reason.
    exit_fill: Option<usize>,
    /// Funding per open position.
    funding_by_position: HashMap<PositionId, Money>,
    funding: Option<FundingClock>,
    /// Mark source of the settlement being handled.
    mark_source: crate::funding::schedule::MarkSource,
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
            if let Event::Fill(f) = &e {
                self.on_fill(f);
            }
            self.core.on_event(&e);
            while let Some(a) = self.core.next_action() {
                match a {
                    Action::Place(o) => {
                        self.orders.insert(o.id, (o.position, o.side, o.purpose));
                        self.sim.submit(&o, &mut |e| self.events.push_back(e));
                    }
                    Action::Cancel { order, .. } => {
                        self.sim.cancel(order, &mut |e| self.events.push_back(e));
                    }
                    Action::Record(r) => self.on_record(&r),
                    Action::Log(l) => log::debug!("Core: {l:?}"),
                }
            }
        }
    }

    /// Writes the `fills.csv` row of an execution before the core sees it.
    fn on_fill(&mut self, f: &crate::orders::Fill) {
        let Some(&(position, side, purpose)) = self.orders.get(&f.order) else {
            return;
        };
        let reason = match purpose {
            OrderPurpose::Entry => "entry",
            OrderPurpose::Stop => "stop",
            OrderPurpose::Partial1 | OrderPurpose::Partial2 => "partial",
            OrderPurpose::Target => "target",
            OrderPurpose::Close(r) => r.as_str(),
        };
        self.exit_fill = (purpose != OrderPurpose::Entry).then_some(self.fills.len());
        self.fills.push(FillRow {
            time_ms: f.ts.as_ms(),
            position_id: position.0,
            strategy: self.owners.get(&position).copied().unwrap_or("?"),
            side,
            qty: f.qty,
            price: f.price,
            fee: f.fee,
            reason,
        });
    }

    fn on_record(&mut self, r: &Record) {
        match r {
            Record::EntrySent {
                position, strategy, ..
            } => {
                let name = self.core.strategy_name(*strategy);
                self.owners.insert(*position, name);
            }
            Record::Funding(p) => {
                *self.funding_by_position.entry(p.position).or_default() += p.amount;
                let source = self.mark_source;
                if let Some(clock) = self.funding.as_mut() {
                    clock.ledger.rows.push(FundingRow {
                        time_ms: p.ts.as_ms(),
                        position_id: p.position.0,
                        strategy: self.owners.get(&p.position).copied().unwrap_or("?"),
                        position_qty: match p.side {
                            Side::Buy => p.qty.to_f64(),
                            Side::Sell => -p.qty.to_f64(),
                        },
                        mark_price: p.mark,
                        rate: p.rate,
                        amount: p.amount,
                        mark_source: source,
                    });
                }
            }
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
                if let Some(row) = self.exit_fill.take().and_then(|k| self.fills.get_mut(k)) {
                    if row.position_id == position.0 {
                        row.reason = reason.as_str();
                    }
                }
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
                    funding: self
                        .funding_by_position
                        .remove(&t.position)
                        .unwrap_or(Money::ZERO),
                });
            }
            _ => {}
        }
    }
}

impl Driver {
    /// Applies every settlement before `before_ms`: fed to the core when
    /// `apply` (inside the data span), else passed over.
    fn settle_before(&mut self, before_ms: i64, apply: bool, symbol: SymbolId) {
        loop {
            let Some(clock) = self.funding.as_mut() else {
                return;
            };
            let Some((time_ms, rate)) = clock.next_before(before_ms) else {
                return;
            };
            if !apply {
                continue;
            }
            let Some((mark, source)) = clock.mark(time_ms, self.core.last_price(symbol)) else {
                continue;
            };
            self.mark_source = source;
            self.dispatch(Event::Funding(FundingSettlement {
                symbol,
                rate,
                mark,
                ts: TimestampNs::from_ms(time_ms),
            }));
        }
    }
}

/// Returns the traded symbol, normalized: from the first data file's name,
/// else the first configured symbol.
fn data_symbol(cfg: &Config, opts: &BacktestOptions) -> String {
    opts.data
        .first()
        .and_then(|p| crate::funding::files::symbol_of_path(p))
        .or_else(|| {
            cfg.market
                .symbols
                .first()
                .map(|s| crate::funding::files::normalize(s))
        })
        .unwrap_or_default()
}

/// Loads the funding clock of `symbol` (`None` without funding files).
fn funding_clock(
    symbol: &str,
    inputs: &FundingInputs,
) -> Result<Option<FundingClock>, BacktestError> {
    if inputs.funding.is_empty() && inputs.marks.is_empty() {
        return Ok(None);
    }
    let mut all = crate::funding::schedule::load(&inputs.funding, &inputs.marks)
        .map_err(BacktestError::Funding)?;
    if let Some(other) = all.keys().find(|k| k.as_str() != symbol) {
        return Err(BacktestError::FundingSymbol {
            symbol: other.clone(),
            data_symbol: symbol.to_string(),
        });
    }
    Ok(all
        .remove(symbol)
        .map(|data| FundingClock::new(symbol.to_string(), data)))
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
    let symbol = SymbolId(0);
    let mut cfg = cfg.clone();
    cfg.market.symbols.truncate(1);
    if cfg.market.symbols.is_empty() {
        cfg.market.symbols.push("BTC-USDT".into());
    }
    let symbol_name = data_symbol(&cfg, opts);
    let funding = funding_clock(&symbol_name, &opts.funding)?;
    let mut data = DataSet::open(&opts.data, symbol).map_err(BacktestError::Data)?;
    let kind = data.kind();
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
        orders: HashMap::new(),
        owners: HashMap::new(),
        fills: Vec::new(),
        exit_fill: None,
        funding_by_position: HashMap::new(),
        funding,
        mark_source: crate::funding::schedule::MarkSource::LastPrice,
    };
    let from_ns = opts.from_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let to_ns = opts.to_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let (mut rows, mut first, mut last) = (0u64, None, TimestampNs(0));
    let mut equity = Vec::new();
    let mut minute = i64::MIN;
    let every = opts.progress_every.max(1);
    while let Some(row) = data.next_record().map_err(BacktestError::Data)? {
        let ts = row.timestamp();
        if from_ns.is_some_and(|f| ts.0 < f) || to_ns.is_some_and(|t| ts.0 >= t) {
            continue;
        }
        rows += 1;
        if rows % every == 0 {
            progress(rows);
        }
        let available_ms = match row {
            Row::Trade(t) => t.exchange_ts.as_ms(),
            Row::Candle(c) => c.open_time.add_ns(NS_PER_MIN).as_ms(),
        };
        d.settle_before(available_ms, first.is_some(), symbol);
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
    d.settle_before(end.as_ms() + 1, true, symbol);
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
        symbol: symbol_name,
        fills: d.fills,
        funding: d.funding.map(|c| c.ledger),
    })
}

#[cfg(test)]
mod tests;
