//! The backtest driver: one engine [`Core`] over the rows of one or several
//! symbols in exchange-time order, with one equity and the portfolio risk
//! rules (`max_positions`, `max_portfolio_risk_pct`, margin cap) acting
//! across the symbols.
//!
//! Consumes [`Instrument`]s (a symbol, its files and its rules) either as
//! files streamed once ([`run_portfolio`]) or as rows already parsed into
//! memory ([`super::LoadedData`], [`super::run_loaded`]: a parameter sweep
//! reads the data once and runs it many times); produces a
//! [`BacktestResult`]. Cold-path
//! allocation (trade rows, the equity curve, the optional chart) happens
//! here, never in the core.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use super::chart::ChartCollector;
use super::funding::{self, FillRow, FundingClock, FundingInputs, FundingLedger, FundingRow};
use super::{decimal, BacktestError, BacktestResult, HaltRow, SymbolResult, TradeRow};
use crate::config::Config;
use crate::core::{Action, Command, Core, Event, Record};
use crate::datafile::{DataFileError, DataSet, FileKind, Record as Row};
use crate::fill_model::{FillModel, MarketFill};
use crate::funding::schedule::MarkSource;
use crate::funding::FundingSettlement;
use crate::money::Money;
use crate::orders::{OrderId, OrderPurpose, PositionId};
use crate::positions::PositionState;
use crate::risk::RejectReason;
use crate::strategy::Strategy;
use crate::types::{InstrumentRules, Side, SymbolId, TimestampNs, NS_PER_MIN, NS_PER_MS};

/// One traded symbol of a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// BingX symbol, e.g. `ETH-USDT`.
    pub symbol: String,
    /// Its data files, all of the run's kind, not overlapping in time.
    pub files: Vec<PathBuf>,
    /// Tick, step and minimum notional.
    pub rules: InstrumentRules,
}

impl Instrument {
    /// Returns the files of `instruments`, symbol by symbol.
    #[must_use]
    pub fn all_files(instruments: &[Self]) -> Vec<PathBuf> {
        instruments
            .iter()
            .flat_map(|i| i.files.iter().cloned())
            .collect()
    }
}

/// What a portfolio backtest runs.
#[derive(Debug, Clone)]
pub struct PortfolioOptions {
    /// The symbols (`SymbolId(i)` is `instruments[i]`), at least one.
    pub instruments: Vec<Instrument>,
    /// Rows before this Unix ms are skipped.
    pub from_ms: Option<i64>,
    /// Rows at or after this Unix ms are skipped.
    pub to_ms: Option<i64>,
    /// Called every this many rows with the rows read so far.
    pub progress_every: u64,
    /// Collect the candles, indicators, trades and stops of `chart.html`.
    pub chart: bool,
    /// Orders decided before this Unix ms are refused (the live warm-up
    /// refuses entries; without one no other order arises): earlier rows only warm the indicators (a walk-forward test
    /// span). `None`: trade from the first row.
    pub trade_from_ms: Option<i64>,
    /// Funding-rate and mark-price files, matched to the instruments by
    /// symbol (empty: funding not modelled).
    pub funding: FundingInputs,
}

/// Opens the files of `instruments` as one data set, `SymbolId(i)` for
/// `instruments[i]` (repeated or overlapping files of one symbol refused).
pub(super) fn open(instruments: &[Instrument]) -> Result<DataSet, BacktestError> {
    let mut tagged = Vec::new();
    for (i, inst) in instruments.iter().enumerate() {
        let id = SymbolId(u16::try_from(i).map_err(|_| BacktestError::TooManySymbols)?);
        tagged.extend(inst.files.iter().map(|p| (p.as_path(), id)));
    }
    if tagged.is_empty() {
        return Err(BacktestError::Data(DataFileError::NoFiles));
    }
    DataSet::open_symbols(&tagged).map_err(BacktestError::Data)
}

/// Runs `strategies` over the files of `opts.instruments`, streamed once.
///
/// # Errors
/// [`BacktestError`] when the data cannot be read (repeated or overlapping
/// files of one symbol included), the configuration is unusable for the
/// core, or no row is inside the range.
pub fn run_portfolio(
    cfg: &Config,
    opts: &PortfolioOptions,
    strategies: Vec<Box<dyn Strategy>>,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestResult, BacktestError> {
    let mut set = open(&opts.instruments)?;
    let kind = set.kind();
    drive(cfg, opts, kind, strategies, progress, &mut || {
        set.next_record().map_err(BacktestError::Data)
    })
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
    symbols: Vec<SymbolResult>,
    halts: Vec<HaltRow>,
    chart: Option<ChartCollector>,
    /// Orders decided before this time are refused (see
    /// [`PortfolioOptions::trade_from_ms`]).
    refuse_before: TimestampNs,
    /// Position, side and purpose of every order sent.
    orders: HashMap<OrderId, (PositionId, Side, OrderPurpose)>,
    /// Strategy of every position.
    owners: HashMap<PositionId, &'static str>,
    fills: Vec<FillRow>,
    /// The exit fill being handled: its row takes the core's exit reason.
    exit_fill: Option<usize>,
    /// Funding per open position.
    funding_by_position: HashMap<PositionId, Money>,
    /// Settlement clock per symbol (index = `SymbolId`); empty without
    /// funding files.
    clocks: Vec<Option<FundingClock>>,
    /// Every funding payment (`None`: funding not modelled).
    ledger: Option<FundingLedger>,
    /// Mark source of the settlement being handled.
    mark_source: MarkSource,
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
                    Action::Place(o) if o.ts < self.refuse_before => {
                        self.events.push_back(Event::Rejected {
                            order: o.id,
                            ts: o.ts,
                        });
                    }
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
            symbol: f.symbol,
            position_id: position.0,
            strategy: self.owners.get(&position).copied().unwrap_or("?"),
            side,
            qty: f.qty,
            price: f.price,
            fee: f.fee,
            reason,
        });
    }

    /// Applies every settlement of every symbol before `before_ms`: fed to
    /// the core when the symbol's data has begun (its first row was
    /// handled), else passed over.
    fn settle_before(&mut self, before_ms: i64) {
        for i in 0..self.clocks.len() {
            let symbol = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
            let started = self.symbols.get(i).is_some_and(|s| s.rows > 0);
            while let Some(clock) = self.clocks[i].as_mut() {
                let Some((time_ms, rate)) = clock.next_before(before_ms) else {
                    break;
                };
                let Some(ledger) = self.ledger.as_mut() else {
                    break;
                };
                if !started {
                    continue;
                }
                let Some((mark, source)) =
                    clock.mark(time_ms, self.core.last_price(symbol), ledger)
                else {
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
                if let Some(ledger) = self.ledger.as_mut() {
                    ledger.rows.push(FundingRow {
                        time_ms: p.ts.as_ms(),
                        symbol: p.symbol,
                        position_id: p.position.0,
                        strategy: self.owners.get(&p.position).copied().unwrap_or("?"),
                        position_qty: match p.side {
                            Side::Buy => p.qty.to_f64(),
                            Side::Sell => -p.qty.to_f64(),
                        },
                        mark_price: p.mark,
                        rate: p.rate,
                        amount: p.amount,
                        mark_source: self.mark_source,
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
                    decimal::decimal8(qty.to_f64()),
                    decimal::decimal8(price.to_f64())
                ));
            }
            Record::TradeClosed(t) => {
                let exits = self.exits.remove(&t.position).unwrap_or_default();
                let symbol = self
                    .symbols
                    .get(usize::from(t.symbol.0))
                    .map_or_else(String::new, |s| s.symbol.clone());
                if let Some(chart) = &mut self.chart {
                    chart.on_trade_closed(t, &exits);
                }
                self.trades.push(TradeRow {
                    trade: *t,
                    symbol,
                    strategy: self.core.strategy_name(t.strategy),
                    exits,
                    funding: self
                        .funding_by_position
                        .remove(&t.position)
                        .unwrap_or(Money::ZERO),
                });
            }
            Record::Transition {
                position,
                symbol,
                from,
                to: PositionState::Open,
                ts,
            } if *from != Some(PositionState::Open) => {
                if let (Some(chart), Some(p)) = (&mut self.chart, self.core.position(*symbol)) {
                    chart.on_stop(*position, *symbol, *ts, p.stop.to_f64());
                }
            }
            Record::StopMoved {
                position, to, ts, ..
            } => {
                if let Some(chart) = &mut self.chart {
                    chart.on_stop_moved(*position, *ts, to.to_f64());
                }
            }
            Record::Halted { reason, ts } => self.halts.push(HaltRow {
                time_ms: ts.as_ms(),
                reason: reason.as_str(),
                equity: self.core.equity(),
                drawdown_limit_pct: None,
            }),
            Record::Gap { symbol, from, to } => {
                if let Some(s) = self.symbols.get_mut(usize::from(symbol.0)) {
                    s.gaps += 1;
                    s.gap_minutes += u64::try_from((to.0 - from.0) / NS_PER_MIN).unwrap_or(0);
                }
            }
            _ => {}
        }
    }
}

/// The run itself, over rows from `next`.
pub(super) fn drive(
    cfg: &Config,
    opts: &PortfolioOptions,
    kind: FileKind,
    strategies: Vec<Box<dyn Strategy>>,
    progress: &mut dyn FnMut(u64),
    next: &mut dyn FnMut() -> Result<Option<Row>, BacktestError>,
) -> Result<BacktestResult, BacktestError> {
    let mut cfg = cfg.clone();
    cfg.market.symbols = opts.instruments.iter().map(|i| i.symbol.clone()).collect();
    let rules: Vec<InstrumentRules> = opts.instruments.iter().map(|i| i.rules).collect();
    let (clocks, ledger) = match funding::load_clocks(&opts.instruments, &opts.funding)? {
        Some((clocks, ledger)) => (clocks, Some(ledger)),
        None => (Vec::new(), None),
    };
    let core = Core::try_with_strategies(&cfg, &rules, strategies).map_err(BacktestError::Core)?;
    let fill = match kind {
        FileKind::Klines => MarketFill::LastClose,
        FileKind::AggTrades => MarketFill::NextTrade,
    };
    let strategy_names = (0..core.enabled_strategy_count())
        .map(|k| {
            core.strategy_name(crate::strategy::StrategyId(
                u8::try_from(k).unwrap_or(u8::MAX),
            ))
        })
        .collect();
    let initial_equity = core.initial_equity();
    let symbols = opts
        .instruments
        .iter()
        .map(|i| SymbolResult::new(&i.symbol, &i.files))
        .collect();
    let mut d = Driver {
        core,
        sim: FillModel::new(&cfg.simulator, opts.instruments.len(), fill),
        events: VecDeque::with_capacity(1024),
        exits: HashMap::new(),
        trades: Vec::new(),
        rejections: BTreeMap::new(),
        exit_reasons: BTreeMap::new(),
        symbols,
        halts: Vec::new(),
        chart: opts
            .chart
            .then(|| ChartCollector::new(opts.instruments.len())),
        refuse_before: TimestampNs(
            opts.trade_from_ms
                .map_or(i64::MIN, |ms| ms.saturating_mul(NS_PER_MS)),
        ),
        orders: HashMap::new(),
        owners: HashMap::new(),
        fills: Vec::new(),
        exit_fill: None,
        funding_by_position: HashMap::new(),
        clocks,
        ledger,
        mark_source: MarkSource::LastPrice,
    };
    let from_ns = opts.from_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let to_ns = opts.to_ms.map(|ms| ms.saturating_mul(NS_PER_MS));
    let (mut rows, mut first, mut last) = (0u64, None, TimestampNs(0));
    let mut equity = Vec::new();
    let mut minute = i64::MIN;
    let every = opts.progress_every.max(1);
    while let Some(row) = next()? {
        let ts = row.timestamp();
        if from_ns.is_some_and(|f| ts.0 < f) || to_ns.is_some_and(|t| ts.0 >= t) {
            continue;
        }
        rows += 1;
        if rows % every == 0 {
            progress(rows);
        }
        if !d.clocks.is_empty() {
            let available_ms = match row {
                Row::Trade(t) => t.exchange_ts.as_ms(),
                Row::Candle(c) => c.open_time.add_ns(NS_PER_MIN).as_ms(),
            };
            d.settle_before(available_ms);
        }
        first.get_or_insert(ts);
        last = ts;
        let m = ts.0.div_euclid(NS_PER_MIN);
        if m != minute && minute != i64::MIN {
            equity.push((minute * 60_000, d.core.equity()));
        }
        minute = m;
        if let Some(chart) = &mut d.chart {
            chart.on_row(&row);
        }
        match row {
            Row::Trade(t) => {
                if let Some(s) = d.symbols.get_mut(usize::from(t.symbol.0)) {
                    s.on_row(ts, t.price.to_f64(), t.price.to_f64());
                }
                d.sim.on_trade(&t, &mut |e| d.events.push_back(e));
                d.dispatch(Event::Trade(t));
            }
            Row::Candle(c) => {
                if let Some(s) = d.symbols.get_mut(usize::from(c.symbol.0)) {
                    s.on_row(ts, c.open.to_f64(), c.close.to_f64());
                }
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
    d.settle_before(end.as_ms() + 1);
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
    let limit = cfg.risk.max_drawdown_pct;
    let mut halts = d.halts;
    for h in &mut halts {
        if h.reason == crate::risk::HaltReason::KillSwitch.as_str() {
            h.drawdown_limit_pct = Some(limit);
        }
    }
    if kind == FileKind::Klines {
        for s in &mut d.symbols {
            s.to_ms = s.to_ms.saturating_add(60_000);
        }
    }
    Ok(BacktestResult {
        files: Instrument::all_files(&opts.instruments),
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
        strategies: strategy_names,
        symbols: d.symbols,
        halts,
        chart: d.chart.map(ChartCollector::finish),
        fills: d.fills,
        funding: d.ledger,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{DecimalStep, Price, Qty};

    fn rules() -> InstrumentRules {
        let step = DecimalStep::from_precision(3);
        InstrumentRules {
            tick: DecimalStep::from_precision(2),
            step,
            min_qty: Qty(step.to_fixed()),
            min_notional: Price::from_f64(5.0).unwrap(),
        }
    }

    #[test]
    fn queued_events_reach_the_core_in_the_order_they_were_queued() {
        let cfg = Config::default();
        let core = Core::try_new(&cfg, &[rules()]).unwrap();
        let mut d = Driver {
            core,
            sim: FillModel::new(&cfg.simulator, 1, MarketFill::NextTrade),
            events: VecDeque::new(),
            exits: HashMap::new(),
            trades: Vec::new(),
            rejections: BTreeMap::new(),
            exit_reasons: BTreeMap::new(),
            symbols: Vec::new(),
            halts: Vec::new(),
            chart: None,
            refuse_before: TimestampNs(i64::MIN),
            orders: HashMap::new(),
            owners: HashMap::new(),
            fills: Vec::new(),
            exit_fill: None,
            funding_by_position: HashMap::new(),
            clocks: Vec::new(),
            ledger: None,
            mark_source: MarkSource::LastPrice,
        };
        let ts = TimestampNs(1_700_000_000_000_000_000);
        // Two answers queued at once (as a final flush of the simulated
        // exchange yields them): halt, then resume. Fed out of order the core
        // would end halted.
        d.events.push_back(Event::Control {
            command: Command::Halt,
            ts,
        });
        d.events.push_back(Event::Control {
            command: Command::Resume,
            ts,
        });
        d.drain();
        assert!(d.events.is_empty());
        assert_eq!(d.core.halted(), None);
    }
}
