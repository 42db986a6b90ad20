//! [`Core`]: event dispatch, candles, indicators, strategies, aggregation
//! and risk. Order management of open positions lives in `exits.rs`.

use std::collections::VecDeque;
use std::fmt;

use super::slot::{Slot, RETIRED_ORDERS};
use super::{
    Action, CandleBatch, Command, Event, LogEvent, NoProbe, Record, Stage, StageProbe,
    ACTION_CAPACITY,
};
use crate::candles::{CandleBuilder, CandleEvent};
use crate::config::{Config, ManagementConfig, StrategiesConfig};
use crate::indicators::{Declare, Declared, IndicatorLayout, IndicatorSet, ParamError, Timeframe};
use crate::money::Money;
use crate::orders::{ExitReason, OrderId, OrderIntent, OrderKind, OrderPurpose, PositionId};
use crate::positions::{Position, PositionState};
use crate::risk::liquidation::LiquidationRule;
use crate::risk::{EntryRequest, HaltReason, RejectReason, RiskManager};
use crate::signals::{aggregate, Exposure};
use crate::strategy::{
    self, registry_name, MarketView, Signal, Strategy, StrategyId, StrategyName, TooManyInputs,
};
use crate::types::{Candle, InstrumentRules, Price, SymbolId, TimestampNs, NS_PER_MIN};

/// Why a [`Core`] could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// One [`InstrumentRules`] per `market.symbols` entry is required.
    RulesCount {
        /// Symbols configured.
        symbols: usize,
        /// Rules given.
        rules: usize,
    },
    /// A strategy declares more indicators than the core takes.
    Inputs(TooManyInputs),
    /// A declared indicator's parameters are unusable.
    Indicators(ParamError),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RulesCount { symbols, rules } => write!(
                f,
                "Expected instrument rules for {symbols} symbols, got {rules}"
            ),
            Self::Inputs(e) => write!(f, "Indicator declarations rejected: {e}"),
            Self::Indicators(e) => write!(f, "Indicator periods rejected: {e}"),
        }
    }
}

impl std::error::Error for CoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Inputs(e) => Some(e),
            Self::Indicators(e) => Some(e),
            Self::RulesCount { .. } => None,
        }
    }
}

/// Counters of what the core has seen and done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreStats {
    /// Events handled.
    pub events: u64,
    /// Closed 1m candles evaluated.
    pub candles_1m: u64,
    /// Closed 5m candles folded in.
    pub candles_5m: u64,
    /// Signals produced by strategies.
    pub signals: u64,
    /// Entry orders sent.
    pub entries: u64,
    /// Gap events.
    pub gaps: u64,
    /// Actions lost to a full queue (a driver that does not drain).
    pub dropped_actions: u64,
}

/// Per-symbol market state and position.
#[derive(Debug)]
pub(super) struct SymbolState {
    pub(super) rules: InstrumentRules,
    builder: CandleBuilder,
    /// 1m indicators: the instances of the core's layout on 1m.
    ind1: IndicatorSet,
    /// 5m indicators; their values are those after `last5`.
    ind5: IndicatorSet,
    last5: Option<Candle>,
    pub(super) last_price: Option<Price>,
    last_data_ts: Option<TimestampNs>,
    pub(super) position: Option<Position>,
    /// Exit orders of this symbol the core asked to cancel (or replaced),
    /// newest last in ring order: a late ack, fill, cancel or reject of one
    /// is still the core's, so it is matched here instead of being unknown.
    /// Written only by the core; an entry is overwritten after
    /// [`RETIRED_ORDERS`] newer ones.
    pub(super) retired: [Option<(OrderId, Slot, PositionId)>; RETIRED_ORDERS],
    /// Next slot of `retired` to write.
    pub(super) retired_next: usize,
    /// Failed placements of the current protective stop in a row (reset
    /// by its ack and by a new position).
    pub(super) stop_failures: u32,
    /// Refused market closes of the closing position in a row (reset by a
    /// new position): sets the back-off of the next attempt.
    pub(super) close_failures: u32,
    /// Event time at which a refused close is sent again.
    pub(super) close_retry_at: Option<TimestampNs>,
    /// How this symbol's liquidation price is found.
    pub(super) liquidation: LiquidationRule,
}

/// The engine core. See the module docs.
#[derive(Debug)]
pub struct Core {
    pub(super) symbols: Vec<SymbolState>,
    /// Every strategy the core holds; a strategy's id is its index here.
    pub(super) strategies: Vec<Box<dyn Strategy>>,
    /// Indices into `strategies` of the enabled ones, in evaluation
    /// (tie-break) order; capacity = `strategies.len()`. A reload rewrites it.
    pub(super) eval: Vec<u8>,
    /// The indicator instances the windows were built for.
    pub(super) layout: IndicatorLayout,
    /// What each registry strategy declared at build, in
    /// [`StrategyName::ALL`] order: a reload must declare the same.
    pub(super) declared: Vec<Declared>,
    /// The registry strategies the build config holds (enabled or on
    /// standby, [`strategy::is_held`]): the ones a reload may enable.
    pub(super) held: Vec<StrategyName>,
    /// Scratch for one candle's signals; capacity = number of strategies.
    signals: Vec<Signal>,
    pub(super) risk: RiskManager,
    pub(super) mgmt: ManagementConfig,
    /// Taker fee as a fraction, for break-even.
    pub(super) fee_rate: f64,
    leverage: f64,
    /// Initial equity plus every realized fee and PnL.
    pub(super) cash: Money,
    initial: Money,
    next_order: u64,
    pub(super) next_position: u64,
    /// Failed stop placements in a row after which a position is closed
    /// (`reconcile.stop_attempts`, at least 1).
    pub(super) stop_attempts: u32,
    /// An adopted position's stop distance (percent of its entry price)
    /// and target (multiples of that distance): `reconcile.adopt_*`.
    pub(super) adopt: (f64, f64),
    shutdown: bool,
    actions: VecDeque<Action>,
    pub(super) stats: CoreStats,
}

/// The indicator layout for `cfg` plus what `extra` (strategies outside
/// the registry) declare, and each registry strategy's declarations.
pub(super) fn layout(
    cfg: &StrategiesConfig,
    extra: &mut [Box<dyn Strategy>],
) -> Result<(IndicatorLayout, Vec<Declared>), CoreError> {
    let mut layout = strategy::layout(cfg).map_err(CoreError::Inputs)?;
    for s in extra.iter_mut() {
        if registry_name(s.name()).is_some() {
            continue;
        }
        let mut declared = Declared::default();
        s.declare(&mut Declare::collect(&mut declared));
        if declared.overflow() > 0 {
            return Err(CoreError::Inputs(TooManyInputs { strategy: s.name() }));
        }
        for input in declared.iter() {
            layout.add(input);
        }
    }
    let declared = StrategyName::ALL.map(|n| cfg.declared(n)).to_vec();
    Ok((layout, declared))
}

impl Core {
    /// Builds the core for `cfg` with one [`InstrumentRules`] per
    /// `market.symbols` entry (SymbolId(i) is `rules[i]`). Allocates every
    /// buffer here; nothing after.
    ///
    /// # Errors
    /// [`CoreError`] when the rules do not match the symbols or the
    /// indicator periods are unusable.
    ///
    /// Every registry strategy is built, the disabled ones too (a reload
    /// may enable them): ids `0..n` are the enabled strategies in
    /// `strategies.order`, the disabled ones follow.
    pub fn try_new(cfg: &Config, rules: &[InstrumentRules]) -> Result<Self, CoreError> {
        let (strategies, enabled) = strategy::build_all(&cfg.strategies);
        let mut core = Self::try_with_strategies(cfg, rules, strategies)?;
        core.eval.truncate(enabled);
        Ok(core)
    }

    /// Builds the core like [`try_new`](Self::try_new) but with the given
    /// strategies (evaluation and tie-break order as given) instead of the
    /// configured ones: for a strategy outside the registry, or a scripted
    /// one in tests. All of them run until a reload
    /// ([`reload`](Self::reload)) applies `strategies.order` and the
    /// `enabled` flags to those with a registry name.
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new).
    pub fn try_with_strategies(
        cfg: &Config,
        rules: &[InstrumentRules],
        mut strategies: Vec<Box<dyn Strategy>>,
    ) -> Result<Self, CoreError> {
        if rules.len() != cfg.market.symbols.len() {
            return Err(CoreError::RulesCount {
                symbols: cfg.market.symbols.len(),
                rules: rules.len(),
            });
        }
        let (layout, declared) = layout(&cfg.strategies, &mut strategies)?;
        for s in &mut strategies {
            s.declare(&mut Declare::resolve(&layout));
        }
        let grace_ns = i64::try_from(cfg.market.candle_grace_period_ms)
            .unwrap_or(0)
            .saturating_mul(1_000_000);
        let mut symbols = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
            symbols.push(SymbolState {
                rules: *r,
                builder: CandleBuilder::new(id, grace_ns),
                ind1: IndicatorSet::try_new(&layout, Timeframe::M1)
                    .map_err(CoreError::Indicators)?,
                ind5: IndicatorSet::try_new(&layout, Timeframe::M5)
                    .map_err(CoreError::Indicators)?,
                last5: None,
                last_price: None,
                last_data_ts: None,
                position: None,
                retired: [None; RETIRED_ORDERS],
                retired_next: 0,
                stop_failures: 0,
                close_failures: 0,
                close_retry_at: None,
                liquidation: LiquidationRule {
                    margin_type: cfg.exchange.margin_type,
                    leverage: f64::from(cfg.exchange.leverage.max(1)),
                    maintenance_margin_rate: cfg.exchange.maintenance_margin_rate_of(
                        cfg.market.symbols.get(i).map_or("", String::as_str),
                    ),
                },
            });
        }
        let initial = Money::from_f64(cfg.simulator.initial_equity);
        let n = strategies.len().min(usize::from(u8::MAX));
        let mut eval = Vec::with_capacity(strategies.len());
        eval.extend((0..n).map(|k| u8::try_from(k).unwrap_or(u8::MAX)));
        Ok(Self {
            symbols,
            signals: Vec::with_capacity(strategies.len()),
            strategies,
            eval,
            layout,
            declared,
            held: StrategyName::ALL
                .into_iter()
                .filter(|n| strategy::is_held(&cfg.strategies, *n))
                .collect(),
            risk: RiskManager::new(
                cfg.risk.clone(),
                cfg.sizing.clone(),
                cfg.simulator.initial_equity,
            ),
            mgmt: cfg.management.clone(),
            fee_rate: cfg.simulator.taker_fee_bps / 10_000.0,
            leverage: f64::from(cfg.exchange.leverage.max(1)),
            cash: initial,
            initial,
            next_order: 1,
            next_position: 1,
            stop_attempts: cfg.reconcile.stop_attempts.max(1),
            adopt: (cfg.reconcile.adopt_stop_pct, cfg.reconcile.adopt_target_r),
            shutdown: false,
            actions: VecDeque::with_capacity(ACTION_CAPACITY),
            stats: CoreStats::default(),
        })
    }

    /// Handles one event; its actions are then available through
    /// [`next_action`](Self::next_action).
    pub fn on_event(&mut self, event: &Event) {
        self.on_event_probed(event, &mut NoProbe);
    }

    /// Handles one event like [`on_event`](Self::on_event), telling `probe`
    /// when the work switches between candles + indicators and strategies +
    /// risk (the driver times the stages; the core reads no clock).
    pub fn on_event_probed<P: StageProbe>(&mut self, event: &Event, probe: &mut P) {
        self.stats.events += 1;
        match *event {
            Event::Trade(t) => {
                let Some(i) = self.symbol_index(t.symbol) else {
                    return;
                };
                let mut batch = CandleBatch::default();
                let s = &mut self.symbols[i];
                s.last_price = Some(t.price);
                s.last_data_ts = Some(t.exchange_ts);
                probe.enter(Stage::CandlesIndicators);
                s.builder.on_trade(&t, &mut |e| batch.push(e));
                probe.enter(Stage::StrategiesRisk);
                self.check_liquidation(i, t.price.to_f64(), t.exchange_ts);
                self.on_price(i, t.price.to_f64(), t.exchange_ts);
                self.on_candles(i, &batch, t.exchange_ts, probe);
            }
            Event::Candle(c) => {
                let Some(i) = self.symbol_index(c.symbol) else {
                    return;
                };
                let now = c.open_time.add_ns(NS_PER_MIN);
                let mut batch = CandleBatch::default();
                let s = &mut self.symbols[i];
                s.last_price = Some(c.close);
                s.last_data_ts = Some(now);
                probe.enter(Stage::CandlesIndicators);
                s.builder.on_closed_1m(&c, &mut |e| batch.push(e));
                let (extreme, adverse) = match s.position.map(|p| p.side) {
                    Some(crate::types::Side::Sell) => (c.low, c.high),
                    _ => (c.high, c.low),
                };
                probe.enter(Stage::StrategiesRisk);
                self.check_liquidation(i, adverse.to_f64(), now);
                self.on_price(i, extreme.to_f64(), now);
                self.on_candles(i, &batch, now, probe);
            }
            Event::Clock(now) => {
                self.retry_closes(now);
                for i in 0..self.symbols.len() {
                    let mut batch = CandleBatch::default();
                    probe.enter(Stage::CandlesIndicators);
                    self.symbols[i]
                        .builder
                        .on_clock(now, &mut |e| batch.push(e));
                    self.on_candles(i, &batch, now, probe);
                }
            }
            Event::Ack { order, .. } => self.on_ack(order),
            Event::Fill(f) => self.on_fill(&f),
            Event::Rejected { order, ts } => self.on_order_gone(order, ts, true),
            Event::Cancelled { order, ts } => self.on_order_gone(order, ts, false),
            Event::Control { command, ts } => self.on_command(command, ts),
            Event::ExchangeClose(c) => self.on_exchange_close(&c),
            Event::AdoptPosition(a) => self.on_adopt(&a),
            Event::Funding(f) => self.on_funding(f.symbol, f.ts, |side, qty| {
                (
                    f.mark,
                    f.rate,
                    crate::funding::funding_amount(side, qty, f.mark, f.rate),
                )
            }),
            Event::FundingFee(f) => {
                let mark = self
                    .symbols
                    .get(usize::from(f.symbol.0))
                    .and_then(|s| s.last_price)
                    .unwrap_or(Price::ZERO);
                self.on_funding(f.symbol, f.ts, |side, qty| {
                    let rate = crate::funding::implied_rate(side, qty, mark, f.amount);
                    (mark, rate, f.amount)
                });
            }
        }
    }

    /// A new life of the engine continues this core (a restart on its
    /// journal): the clean shutdown that ended the previous life no longer
    /// blocks entries. Halts (kill switch, STOP file, commands) stay. Replay
    /// calls it at every later session record, the runtime when it resumes,
    /// so both cores stay equal.
    pub fn begin_life(&mut self) {
        self.shutdown = false;
    }

    /// Returns the next action, oldest first.
    pub fn next_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Returns the mark-to-market equity: cash plus unrealized PnL at the
    /// last trade prices.
    #[must_use]
    pub fn equity(&self) -> f64 {
        let mut eq = self.cash.to_f64();
        for s in &self.symbols {
            if let (Some(p), Some(mark)) = (&s.position, s.last_price) {
                eq += p.unrealized(mark.to_f64());
            }
        }
        eq
    }

    /// Returns initial equity plus every realized fee and PnL.
    #[must_use]
    pub fn cash(&self) -> Money {
        self.cash
    }

    /// Returns the starting equity.
    #[must_use]
    pub fn initial_equity(&self) -> Money {
        self.initial
    }

    /// Returns the last trade price of `symbol` (`None` before its first trade).
    #[must_use]
    pub fn last_price(&self, symbol: SymbolId) -> Option<Price> {
        self.symbols.get(usize::from(symbol.0))?.last_price
    }

    /// Returns the 1m candle of `symbol` being built from trades (not yet
    /// closed), if any.
    #[must_use]
    pub fn open_candle(&self, symbol: SymbolId) -> Option<&Candle> {
        self.symbols
            .get(usize::from(symbol.0))?
            .builder
            .open_candle()
    }

    /// Returns the position of `symbol`, if any.
    #[must_use]
    pub fn position(&self, symbol: SymbolId) -> Option<&Position> {
        self.symbols.get(usize::from(symbol.0))?.position.as_ref()
    }

    /// Returns why the engine is HALTED, if it is.
    #[must_use]
    pub fn halted(&self) -> Option<HaltReason> {
        self.risk.halted()
    }

    /// Returns the risk manager (limits, streaks, rejection counts).
    #[must_use]
    pub fn risk(&self) -> &RiskManager {
        &self.risk
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> CoreStats {
        self.stats
    }

    /// Returns the name of strategy `id` (`"?"` when unknown).
    #[must_use]
    pub fn strategy_name(&self, id: StrategyId) -> &'static str {
        if id == StrategyId::ADOPTED {
            return "adopted";
        }
        self.strategies
            .get(usize::from(id.0))
            .map_or("?", |s| s.name())
    }

    /// Returns the number of strategies the core holds (ids `0..count`),
    /// enabled or not: a reload may enable a disabled one.
    #[must_use]
    pub fn strategy_count(&self) -> usize {
        self.strategies.len()
    }

    /// Returns the number of enabled strategies (those evaluated).
    #[must_use]
    pub fn enabled_strategy_count(&self) -> usize {
        self.eval.len()
    }

    pub(super) fn symbol_index(&mut self, symbol: SymbolId) -> Option<usize> {
        let i = usize::from(symbol.0);
        if i < self.symbols.len() {
            Some(i)
        } else {
            self.push(Action::Log(LogEvent::UnknownSymbol(symbol)));
            None
        }
    }

    pub(super) fn push(&mut self, a: Action) {
        if self.actions.len() < ACTION_CAPACITY {
            self.actions.push_back(a);
        } else {
            self.stats.dropped_actions += 1;
        }
    }

    pub(super) fn record(&mut self, r: Record) {
        self.push(Action::Record(r));
    }

    pub(super) fn new_order_id(&mut self) -> OrderId {
        let id = OrderId(self.next_order);
        self.next_order += 1;
        id
    }

    /// Folds a batch of candle events in, strategies running after the 5m
    /// candle a 1m candle completes, then checks the kill switch.
    fn on_candles<P: StageProbe>(
        &mut self,
        i: usize,
        batch: &CandleBatch,
        now: TimestampNs,
        probe: &mut P,
    ) {
        if batch.len == 0 {
            return;
        }
        probe.enter(Stage::CandlesIndicators);
        let mut pending: Option<Candle> = None;
        for e in batch.events.iter().take(batch.len).flatten() {
            match *e {
                CandleEvent::Closed1m(c) => {
                    if let Some(prev) = pending.take() {
                        probe.enter(Stage::StrategiesRisk);
                        self.evaluate(i, &prev, now);
                        probe.enter(Stage::CandlesIndicators);
                    }
                    self.symbols[i].ind1.update(&c);
                    self.stats.candles_1m += 1;
                    pending = Some(c);
                }
                CandleEvent::Closed5m(c) => {
                    let s = &mut self.symbols[i];
                    s.ind5.update(&c);
                    s.last5 = Some(c);
                    self.stats.candles_5m += 1;
                }
                CandleEvent::Gap { from, to } => {
                    self.stats.gaps += 1;
                    let symbol = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
                    self.record(Record::Gap { symbol, from, to });
                }
            }
        }
        if let Some(c) = pending {
            probe.enter(Stage::StrategiesRisk);
            self.evaluate(i, &c, now);
            self.check_equity(now);
        }
    }

    /// Runs the strategies on a closed 1m candle, aggregates, checks risk
    /// and sends the entry.
    fn evaluate(&mut self, i: usize, c1: &Candle, now: TimestampNs) {
        let s = &self.symbols[i];
        let view = MarketView {
            symbol: c1.symbol,
            c1,
            ind1: s.ind1.values(),
            c5: s.last5.as_ref(),
            ind5: s.ind5.values(),
        };
        self.signals.clear();
        for &k in &self.eval {
            let Some(strat) = self.strategies.get(usize::from(k)) else {
                continue;
            };
            if let Some(mut sig) = strat.evaluate(&view) {
                sig.strategy = StrategyId(k);
                self.signals.push(sig);
            }
        }
        if self.signals.is_empty() {
            return;
        }
        self.stats.signals += self.signals.len() as u64;
        for k in 0..self.signals.len() {
            let sig = self.signals[k];
            self.record(Record::Signal(sig));
        }
        let exposure = match &self.symbols[i].position {
            None => Exposure::Flat,
            Some(p) if p.state == PositionState::Pending => Exposure::Pending(p.side),
            Some(p) => Exposure::Open(p.side),
        };
        let mut winner = None;
        {
            let Self {
                signals, actions, ..
            } = self;
            let mut dropped = |signal: &Signal, reason| {
                if actions.len() < ACTION_CAPACITY {
                    actions.push_back(Action::Record(Record::SignalDropped {
                        signal: *signal,
                        reason,
                    }));
                }
            };
            if let Some(w) = aggregate(signals, exposure, &mut dropped) {
                winner = Some(w);
            }
        }
        if let Some(sig) = winner {
            if self.shutdown {
                self.reject(sig, RejectReason::Halted);
                return;
            }
            self.try_enter(i, &sig, now);
        }
    }

    fn reject(&mut self, signal: Signal, reason: RejectReason) {
        self.record(Record::RiskRejected { signal, reason });
    }

    /// Sizes the winning signal through risk and sends its entry order.
    fn try_enter(&mut self, i: usize, sig: &Signal, now: TimestampNs) {
        let equity = self.equity();
        let mut margin = 0.0;
        let mut open_risk = 0.0;
        let mut open_positions = 0u32;
        for s in &self.symbols {
            if let Some(p) = &s.position {
                open_positions += 1;
                let mark = s.last_price.map_or(p.entry_price, Price::to_f64);
                margin += p.open_qty.to_f64() * mark / self.leverage;
                open_risk += p.open_risk(mark);
            }
        }
        let s = &self.symbols[i];
        let req = EntryRequest {
            price: sig.price,
            stop_distance: sig.stop_distance,
            last_price: s.last_price,
            last_data_ts: s.last_data_ts,
            now,
            equity,
            available: equity - margin,
            open_positions,
            open_risk,
            leverage: self.leverage,
            side: sig.side,
            liquidation: s.liquidation,
        };
        let rules = s.rules;
        match self.risk.check_entry(&req, &rules) {
            Err(reason) => self.reject(*sig, reason),
            Ok(sized) => {
                let order = self.new_order_id();
                let id = PositionId(self.next_position);
                self.next_position += 1;
                let pos = Position::pending(
                    id,
                    sig.symbol,
                    sig.strategy,
                    sig.side,
                    sized.qty,
                    sig.stop_distance,
                    sig.target_distance,
                    order,
                    now,
                );
                self.symbols[i].position = Some(pos);
                self.symbols[i].stop_failures = 0;
                self.symbols[i].close_failures = 0;
                self.symbols[i].close_retry_at = None;
                self.stats.entries += 1;
                self.record(Record::EntrySent {
                    position: id,
                    strategy: sig.strategy,
                    qty: sized.qty,
                    capped: sized.capped,
                    ts: now,
                });
                self.record(Record::Transition {
                    position: id,
                    symbol: sig.symbol,
                    from: None,
                    to: PositionState::Pending,
                    ts: now,
                });
                self.push(Action::Place(OrderIntent {
                    id: order,
                    position: id,
                    symbol: sig.symbol,
                    side: sig.side,
                    qty: sized.qty,
                    kind: OrderKind::Market,
                    reduce_only: false,
                    purpose: OrderPurpose::Entry,
                    ts: now,
                }));
            }
        }
    }

    /// Books one funding settlement of `symbol`: `price` returns the mark,
    /// the rate and the amount for the open position's side and quantity.
    /// Without an open quantity nothing is booked, except an
    /// exchange-reported fee (the wallet moved anyway): it is booked
    /// against no position. Cash moves by the amount and the kill switch
    /// sees it like any PnL.
    fn on_funding(
        &mut self,
        symbol: SymbolId,
        ts: TimestampNs,
        price: impl Fn(crate::types::Side, crate::types::Qty) -> (Price, f64, Money),
    ) {
        let Some(i) = self.symbol_index(symbol) else {
            return;
        };
        let open = self.symbols[i]
            .position
            .filter(|p| p.open_qty > crate::types::Qty::ZERO);
        let (position, side, qty) = match open {
            Some(p) => (p.id, p.side, p.open_qty),
            None => (
                PositionId(0),
                crate::types::Side::Buy,
                crate::types::Qty::ZERO,
            ),
        };
        let (mark, rate, amount) = price(side, qty);
        if open.is_none() && amount == Money::ZERO {
            return;
        }
        self.cash += amount;
        self.record(Record::Funding(crate::funding::FundingPayment {
            position,
            symbol,
            side,
            qty,
            mark,
            rate,
            amount,
            ts,
        }));
        self.check_equity(ts);
    }

    /// Marks equity to market and fires the kill switch when the drawdown
    /// from the peak reaches the limit.
    pub(super) fn check_equity(&mut self, now: TimestampNs) {
        let eq = self.equity();
        if self.risk.on_equity(eq) {
            self.record(Record::Halted {
                reason: HaltReason::KillSwitch,
                ts: now,
            });
            if self.risk.config().flatten_on_halt {
                self.flatten_all(ExitReason::Emergency, now);
            }
        }
    }

    fn on_command(&mut self, command: Command, ts: TimestampNs) {
        match command {
            Command::Halt => {
                if self.risk.halt(HaltReason::Command) {
                    self.record(Record::Halted {
                        reason: HaltReason::Command,
                        ts,
                    });
                }
            }
            Command::Resume | Command::Reset => {
                let was_halted = self.risk.halted().is_some();
                let eq = self.equity();
                self.risk.resume(eq, command == Command::Reset);
                if was_halted {
                    self.record(Record::Resumed { ts });
                }
            }
            Command::Flatten => self.flatten_all(ExitReason::Manual, ts),
            Command::EmergencyStop => {
                if self.risk.halt(HaltReason::StopFile) {
                    self.record(Record::Halted {
                        reason: HaltReason::StopFile,
                        ts,
                    });
                }
                self.flatten_all(ExitReason::Emergency, ts);
            }
            Command::Shutdown => {
                self.shutdown = true;
                self.flatten_all(ExitReason::Shutdown, ts);
            }
        }
    }
}

crate::checkpoint::state_struct!(CoreStats {
    events,
    candles_1m,
    candles_5m,
    signals,
    entries,
    gaps,
    dropped_actions
});

impl crate::checkpoint::Restore for SymbolState {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        w.put(&self.builder);
        crate::checkpoint::Restore::save(&self.ind1, w);
        crate::checkpoint::Restore::save(&self.ind5, w);
        w.put(&(self.last5, self.last_price, self.last_data_ts));
        w.put(&self.position);
        w.put(&self.retired);
        w.put(&(self.retired_next, self.stop_failures));
        w.put(&(self.close_failures, self.close_retry_at));
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        self.builder = r.take()?;
        crate::checkpoint::Restore::restore(&mut self.ind1, r)?;
        crate::checkpoint::Restore::restore(&mut self.ind5, r)?;
        (self.last5, self.last_price, self.last_data_ts) = r.take()?;
        self.position = r.take()?;
        self.retired = r.take()?;
        (self.retired_next, self.stop_failures) = r.take()?;
        (self.close_failures, self.close_retry_at) = r.take()?;
        if self.retired_next >= RETIRED_ORDERS {
            return Err(r.invalid("retired order slot", self.retired_next as u64));
        }
        Ok(())
    }
}

/// The core's state between two events: per symbol the candle builders,
/// indicator windows, last prices and position with its orders; the
/// strategies evaluated, the risk state, cash, the order and position id
/// counters, the shutdown flag and the counters. Everything else (rules,
/// layout, strategies, limits) is configuration: the core a checkpoint is
/// restored into is built from the journal's first session config and
/// reloaded to the running one, as the rebuild built it.
impl crate::checkpoint::Restore for Core {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        w.len(self.symbols.len());
        for s in &self.symbols {
            crate::checkpoint::Restore::save(s, w);
        }
        w.blob(&self.eval);
        crate::checkpoint::Restore::save(&self.risk, w);
        w.put(&(self.cash, self.next_order, self.next_position));
        w.put(&self.shutdown);
        w.put(&self.stats);
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::expect_count(r, "symbols", self.symbols.len())?;
        for s in &mut self.symbols {
            crate::checkpoint::Restore::restore(s, r)?;
        }
        let eval = r.blob("strategies evaluated")?;
        if eval.len() > self.eval.capacity()
            || eval
                .iter()
                .any(|&k| usize::from(k) >= self.strategies.len())
        {
            return Err(r.invalid("strategies evaluated", eval.len() as u64));
        }
        self.eval.clear();
        self.eval.extend_from_slice(eval);
        crate::checkpoint::Restore::restore(&mut self.risk, r)?;
        (self.cash, self.next_order, self.next_position) = r.take()?;
        self.shutdown = r.take()?;
        self.stats = r.take()?;
        self.actions.clear();
        Ok(())
    }
}
