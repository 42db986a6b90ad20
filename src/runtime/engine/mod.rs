//! The hot thread's engine half: feeds events to the core with stage
//! timing, routes the core's actions to the venue (exchange, in-process
//! simulator or nowhere), turns exchange answers into core events and
//! journals every input, output and system fact.
//!
//! Consumes market [`Stamped`] events, I/O-thread [`IoReport`]s,
//! service-thread [`ToHot`] messages and accepted reloads; produces core events, order
//! commands, journal records, latency samples and [`FromHot`] messages.
//! Must never allocate after start-up (every queue is reserved up front),
//! lock, block, make a blocking syscall or log: log-worthy things leave as
//! [`HotLog`] messages.

use std::collections::VecDeque;

use ringbuf::spsc::{Consumer, Producer};

use crate::clock::{Clock, SystemClock};
use crate::core::{Action, Command, Core, Event, Record};
use crate::feed::MarketEvent;
use crate::fill_model::FillModel;
use crate::io::bridge::HotSide;
use crate::journal_schema::{
    self as js, JournalRecord, OperatorSource, RefusalReason, ReplaceCause, StreamKind, StreamState,
};
use crate::metrics::handoff::LatencyRecorder;
use crate::metrics::latency::Stage;
use crate::types::{SymbolId, TimestampNs, Trade, NS_PER_MIN};

mod frame;
mod gap;
mod live;
mod recover;
mod reload;
mod status;
mod sync;
#[cfg(test)]
mod sync_tests;

pub use frame::FrameSample;
use frame::{FrameAcc, Probe};
use gap::Gap;

use super::msg::{FromHot, HotLog, StopReason, ToHot};
use super::reload::HotReloads;
use super::route::OrderTable;
use super::startup::daily::DailyTracker;
use super::stops::StopCoalescer;
use super::timed::Stamped;
use crate::orders::{OrderId, OrderPurpose};

/// Capacity of the internal event queue (simulator answers, exchange
/// answers); one market event produces a handful.
pub const EVENT_QUEUE: usize = 4096;
/// Trades held while a feed gap is backfilled.
pub const GAP_BUFFER: usize = 65_536;
/// Losses of market data marked among the held trades of one backfill.
const LOST_MARKS: usize = 1_024;
/// Journal append failures tolerated before the journal is closed for the run.
const JOURNAL_FAILURES_MAX: u32 = 16;

/// Where orders go.
#[derive(Debug)]
pub enum Venue {
    /// To the exchange through the I/O thread.
    Live {
        /// The hot thread's queue ends.
        io: HotSide,
        /// Hedge (dual-side) position mode on the account.
        hedge: bool,
    },
    /// To the in-process simulated exchange, fed with the same market data.
    Paper(Box<FillModel>),
    /// Nowhere: journaled only; the core is told the order was refused so
    /// it keeps evaluating signals.
    DryRun,
}

impl Venue {
    /// Returns the journal's name of the mode.
    #[must_use]
    pub const fn mode(&self) -> js::Mode {
        match self {
            Self::Live { .. } => js::Mode::Live,
            Self::Paper(_) => js::Mode::Paper,
            Self::DryRun => js::Mode::DryRun,
        }
    }
}

/// Counters of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HotCounters {
    /// Market frames with at least one trade.
    pub frames: u64,
    /// Trades fed to the core.
    pub trades: u64,
    /// Events fed to the core (all kinds).
    pub events: u64,
    /// Orders sent to the venue.
    pub orders: u64,
    /// Cancels sent to the venue.
    pub cancels: u64,
    /// Fills fed to the core.
    pub fills: u64,
    /// Trades the core closed.
    pub closed_trades: u64,
    /// Journal records written.
    pub journal_records: u64,
    /// Journal appends that failed.
    pub journal_failures: u64,
    /// Candles fed from REST backfills.
    pub backfilled_candles: u64,
    /// Trades dropped because a gap buffer overflowed.
    pub gap_dropped: u64,
    /// Orders the venue refused after the warm-up (in dry-run every order).
    pub rejected: u64,
    /// Market-feed outages (gaps) reported by the socket.
    pub outages: u64,
    /// Market messages that could not be decoded (their data lost).
    pub lost_messages: u64,
    /// Candles built from trades that were replaced by their REST candle.
    pub replaced_candles: u64,
    /// Closed trades with a positive net PnL.
    pub wins: u64,
    /// Equity samples journaled (one per market minute).
    pub equity_samples: u64,
    /// Daily metrics records journaled (day roll-overs and the shutdown).
    pub daily_records: u64,
}

/// Estimates market time between events: the latest event time plus the
/// wall time since, scaled (a simulator replaying `scale` times faster).
#[derive(Debug, Clone, Copy)]
struct MarketTime {
    last_ts: TimestampNs,
    last_mono: u64,
    scale: f64,
}

impl MarketTime {
    fn observe(&mut self, ts: TimestampNs, mono: u64) {
        if ts >= self.last_ts {
            self.last_ts = ts;
            self.last_mono = mono;
        }
    }

    fn now(&self, mono: u64) -> TimestampNs {
        let wall = mono.saturating_sub(self.last_mono) as f64;
        self.last_ts.add_ns((wall * self.scale) as i64)
    }
}

/// Everything the hot thread owns besides the market socket.
pub struct Engine {
    pub(super) core: Core,
    pub(super) venue: Venue,
    journal: Option<journal::Writer>,
    journal_failures: u32,
    latency: LatencyRecorder,
    out: Producer<FromHot>,
    inbox: Consumer<ToHot>,
    reloads: HotReloads,
    pub(super) clock: SystemClock,
    orders: OrderTable,
    stops: StopCoalescer,
    /// The actions of the event being handled (reserved at the core's queue size).
    batch: Vec<Action>,
    /// Commands in flight to the I/O thread: `Some(order)` for a placement
    /// of an engine order, `None` for a cancel or another placement.
    /// Protective commands overtake entries on the I/O thread, so results
    /// are matched by order, not by position.
    inflight: VecDeque<Option<OrderId>>,
    events: VecDeque<Event>,
    held: VecDeque<Trade>,
    /// Trades held (and released) since the held queue was last empty:
    /// where the losses in `lost_marks` fall among them.
    held_in: u64,
    held_out: u64,
    /// Losses (undecodable messages, disconnects) reported while trades
    /// were held: (held trades before it, cause), oldest first.
    lost_marks: VecDeque<(u64, ReplaceCause)>,
    gap: Gap,
    /// Why the gap awaiting its first trade began.
    gap_cause: ReplaceCause,
    /// Data may be missing after the last trade fed: its minute is
    /// replaced by its REST candle (set by a loss, taken by the next trade).
    distrust_last: bool,
    /// True when the last market data fed was a live trade (not a warm-up
    /// or backfilled candle).
    last_was_trade: bool,
    /// The minute of the first trade after a gap (trades of it before that
    /// one were missed); its REST candle replaces the one built from trades.
    partial: Option<(SymbolId, TimestampNs)>,
    /// Why `partial` is distrusted.
    partial_cause: ReplaceCause,
    /// The minute whose REST candle is being fetched to replace it.
    refill: Option<TimestampNs>,
    /// Why `refill` is replaced.
    refill_cause: ReplaceCause,
    /// Market time of the trade that ended the gap being backfilled: what a
    /// backfilled candle's age is measured against.
    gap_end_ts: TimestampNs,
    /// Set while feeding candles whose decisions must not reach the venue.
    refuse: Option<(RefusalReason, TimestampNs)>,
    last_trade_ts: Option<TimestampNs>,
    time: MarketTime,
    frame: Option<FrameAcc>,
    last_frame: Option<FrameSample>,
    /// The core's last stage reading of the event being fed: where routing
    /// its first order starts (taken by that order).
    route_start: Option<u64>,
    pub(super) counters: HotCounters,
    pub(super) stop: Option<(StopReason, u64)>,
    pub(super) connected: bool,
    last_price: f64,
    symbol0: SymbolId,
    symbols: u16,
    flatten: bool,
    user_ready: bool,
    io_gone: bool,
    /// Per-UTC-day metrics (journaled at each roll-over and at shutdown).
    daily: DailyTracker,
    /// Market minute of the last equity sample.
    equity_minute: Option<i64>,
    /// Wall time (monotonic) of the last market message.
    last_msg_mono: Option<u64>,
    /// Operator commands taken from the inbox (the service thread counts
    /// the ones it sends; a status carrying this tells it which applied).
    pub(super) commands_applied: u64,
    /// A status is owed now (an operator command was applied).
    status_due: bool,
    /// A stop is in progress on a core nobody had halted: the status shows
    /// "stopped (reason)", not HALTED (the stop's own halt, or its
    /// shutdown, is not a halt for a person to clear).
    stop_halted: bool,
    /// Running reconciliation with the exchange (live mode).
    sync: sync::SyncState,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("venue", &self.venue.mode())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// What [`Engine::new`] needs.
pub struct EngineParts {
    /// The core, already warmed up.
    pub core: Core,
    /// Where orders go.
    pub venue: Venue,
    /// The journal (session record already written), if journaling.
    pub journal: Option<journal::Writer>,
    /// Latency samples go here.
    pub latency: LatencyRecorder,
    /// To the service thread.
    pub out: Producer<FromHot>,
    /// From the service thread.
    pub inbox: Consumer<ToHot>,
    /// Accepted reloads from the service thread (and back).
    pub reloads: HotReloads,
    /// Shared with the market protocol's [`super::timed::Timed`].
    pub clock: SystemClock,
    /// Client order id prefix.
    pub prefix: String,
    /// Market time per wall time (1 live; the simulator's speed in a demo).
    pub time_scale: f64,
    /// Market time of the last warm-up candle's close, if any.
    pub start_ts: TimestampNs,
    /// Number of symbols (ids `0..symbols`).
    pub symbols: u16,
}

impl std::fmt::Debug for EngineParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineParts")
            .field("venue", &self.venue.mode())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds the engine half (cold: reserves every queue).
    #[must_use]
    pub fn new(p: EngineParts) -> Self {
        let mono = p.clock.mono_ns();
        Self {
            core: p.core,
            venue: p.venue,
            journal: p.journal,
            journal_failures: 0,
            latency: p.latency,
            out: p.out,
            inbox: p.inbox,
            reloads: p.reloads,
            clock: p.clock,
            orders: OrderTable::new(&p.prefix),
            stops: StopCoalescer::new(usize::from(p.symbols)),
            batch: Vec::with_capacity(crate::core::ACTION_CAPACITY),
            inflight: VecDeque::with_capacity(EVENT_QUEUE),
            events: VecDeque::with_capacity(EVENT_QUEUE),
            held: VecDeque::with_capacity(GAP_BUFFER),
            held_in: 0,
            held_out: 0,
            lost_marks: VecDeque::with_capacity(LOST_MARKS),
            gap: Gap::None,
            gap_cause: ReplaceCause::FirstLive,
            distrust_last: false,
            last_was_trade: false,
            partial: None,
            partial_cause: ReplaceCause::FirstLive,
            refill: None,
            refill_cause: ReplaceCause::FirstLive,
            gap_end_ts: p.start_ts,
            refuse: None,
            last_trade_ts: None,
            time: MarketTime {
                last_ts: p.start_ts,
                last_mono: mono,
                scale: p.time_scale,
            },
            frame: None,
            last_frame: None,
            route_start: None,
            counters: HotCounters::default(),
            stop: None,
            connected: false,
            last_price: 0.0,
            symbol0: SymbolId(0),
            symbols: p.symbols,
            flatten: false,
            user_ready: false,
            io_gone: false,
            commands_applied: 0,
            status_due: false,
            stop_halted: false,
            daily: DailyTracker::new(),
            equity_minute: None,
            last_msg_mono: None,
            sync: sync::SyncState::new(
                p.symbols,
                &p.prefix,
                u64::try_from(p.clock.now_ns().0 / 1_000_000).unwrap_or(0),
            ),
        }
    }

    /// Returns the run's counters so far.
    #[must_use]
    pub fn counters(&self) -> HotCounters {
        self.counters
    }

    /// Returns the current market-time estimate.
    pub(super) fn market_now(&self) -> TimestampNs {
        self.time.now(self.clock.mono_ns())
    }

    pub(super) fn log(&mut self, l: HotLog) {
        // A full log queue drops the note: the hot thread never waits.
        let _ = self.out.push(FromHot::Log(l));
    }

    /// Appends a journal record; failures are counted and reported, and
    /// after [`JOURNAL_FAILURES_MAX`] the journal is closed for the run.
    pub(super) fn journal(&mut self, ts: TimestampNs, rec: &JournalRecord<'_>) {
        let Some(w) = self.journal.as_mut() else {
            return;
        };
        match js::write(w, ts, rec) {
            Ok(_) => self.counters.journal_records += 1,
            Err(_) => {
                self.counters.journal_failures += 1;
                self.journal_failures += 1;
                if self.journal_failures >= JOURNAL_FAILURES_MAX {
                    self.journal = None;
                    self.log(HotLog::JournalDisabled);
                } else {
                    self.log(HotLog::JournalFailed);
                }
            }
        }
    }

    /// Takes the journal out (shutdown).
    pub(super) fn take_journal(&mut self) -> Option<journal::Writer> {
        self.journal.take()
    }

    /// Feeds the warm-up candles (journaled, untimed). Orders the core
    /// decides on this history are answered as refused, never sent (the
    /// moment has passed), each with an `order_refused` journal record.
    pub fn warm_up(&mut self, candles: &[crate::types::Candle]) {
        for c in candles {
            self.refuse = Some((RefusalReason::WarmUp, c.open_time.add_ns(NS_PER_MIN)));
            self.feed_candle(*c);
        }
        self.refuse = None;
        // The minutes between the warm-up and the first live trade are
        // backfilled like any other feed gap.
        if let Some(last) = candles.last() {
            self.last_trade_ts = Some(last.open_time.add_ns(NS_PER_MIN - 1));
            self.last_was_trade = false;
            self.gap = Gap::AwaitFirstTrade;
            self.gap_cause = ReplaceCause::FirstLive;
        }
    }

    /// Returns true when trading may start: always, except in live mode
    /// before the user stream is connected (fills would be missed).
    pub(super) fn ready(&self) -> bool {
        self.user_ready || !matches!(self.venue, Venue::Live { .. })
    }

    /// Feeds a warm-up or backfill candle (journaled, untimed).
    pub fn feed_candle(&mut self, c: crate::types::Candle) {
        self.sample_equity(c.open_time.add_ns(NS_PER_MIN));
        self.time
            .observe(c.open_time.add_ns(NS_PER_MIN), self.clock.mono_ns());
        self.dispatch(Event::Candle(c));
    }

    /// Handles one stamped market event from the socket.
    pub fn on_market(&mut self, s: &Stamped) {
        self.last_msg_mono = Some(s.recv_mono);
        if let MarketEvent::Trade(t) = s.event {
            if self.gap == Gap::AwaitFirstTrade {
                self.begin_backfill(&t);
            } else if self.gap == Gap::None {
                self.refill_partial(&t);
            }
            if self.gap == Gap::Backfilling {
                self.hold(t);
            } else {
                let acc = self.frame.get_or_insert(FrameAcc {
                    recv_mono: s.recv_mono,
                    parse_ns: s.parse_ns,
                    ..FrameAcc::default()
                });
                acc.trades = acc.trades.saturating_add(1);
                // The frame's receive reading dates the trade: one clock
                // read less per trade (each costs ~25 ns on this VM).
                self.on_trade(t, s.recv_mono);
            }
        }
        if s.last_in_frame {
            self.end_frame();
        }
    }

    fn on_trade(&mut self, t: Trade, recv_mono: u64) {
        self.counters.trades += 1;
        if t.symbol == self.symbol0 {
            self.last_price = t.price.to_f64();
        }
        self.sample_equity(t.exchange_ts);
        self.last_trade_ts = Some(t.exchange_ts);
        self.last_was_trade = true;
        self.time.observe(t.exchange_ts, recv_mono);
        if let Venue::Paper(sim) = &mut self.venue {
            let events = &mut self.events;
            sim.on_trade(&t, &mut |e| events.push_back(e));
        }
        self.dispatch(Event::Trade(t));
    }

    /// Feeds `first` and everything it causes (venue answers) to the core.
    pub(super) fn dispatch(&mut self, first: Event) {
        self.events.push_back(first);
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.events.pop_front() {
            self.feed(e);
        }
    }

    fn feed(&mut self, e: Event) {
        self.counters.events += 1;
        match e {
            Event::Fill(_) => self.counters.fills += 1,
            Event::Rejected { .. } if self.refuse.is_none() => self.counters.rejected += 1,
            _ => {}
        }
        let ts = event_ts(&e);
        self.journal(ts, &JournalRecord::Input(e));
        match (&e, self.frame.as_mut()) {
            (Event::Trade(_), Some(acc)) => {
                let mut probe = Probe {
                    clock: &self.clock,
                    current: None,
                    since: 0,
                    acc: &mut acc.stage_ns,
                };
                self.core.on_event_probed(&e, &mut probe);
                // The core's last reading starts the routing (enqueue) of
                // its orders: draining the actions is part of it.
                self.route_start = probe.finish();
            }
            _ => self.core.on_event(&e),
        }
        // Orders leave first (the input is already journaled, so a restart
        // regenerates them); then every output is journaled in order.
        self.batch.clear();
        while let Some(a) = self.core.next_action() {
            if self.batch.len() == self.batch.capacity() {
                // Cannot happen (the core's queue is no longer than the
                // batch); handled in order rather than grown.
                self.act(a, ts);
                continue;
            }
            self.batch.push(a);
        }
        for k in 0..self.batch.len() {
            match self.batch[k] {
                Action::Place(o) => self.place(&o, ts),
                Action::Cancel { order, symbol } => self.cancel(order, symbol, ts),
                _ => {}
            }
        }
        self.end_stop_batch();
        self.route_start = None;
        for k in 0..self.batch.len() {
            let a = self.batch[k];
            self.journal(ts, &JournalRecord::Output(a));
            self.note(a);
        }
    }

    /// Routes and journals one action at once.
    fn act(&mut self, a: Action, ts: TimestampNs) {
        match a {
            Action::Place(o) => self.place(&o, ts),
            Action::Cancel { order, symbol } => self.cancel(order, symbol, ts),
            _ => {}
        }
        self.end_stop_batch();
        self.journal(ts, &JournalRecord::Output(a));
        self.note(a);
    }

    /// Counts and forwards what an output means outside the core.
    fn note(&mut self, a: Action) {
        match a {
            Action::Place(_) | Action::Cancel { .. } | Action::Record(_) => {}
            Action::Log(l) => self.log(HotLog::Core(l)),
        }
        if let Action::Record(Record::TradeClosed(t)) = a {
            self.counters.closed_trades += 1;
            if t.pnl.is_positive() {
                self.counters.wins += 1;
            }
            let equity = self.core.equity();
            if let Some(day) = self.daily.on_trade_closed(&t, equity) {
                self.journal_daily(&day, t.exit_ts);
            }
            // A full queue loses the summary row only; the journal has it.
            let _ = self.out.push(FromHot::TradeClosed(t));
        }
    }

    fn place(&mut self, o: &crate::orders::OrderIntent, ts: TimestampNs) {
        if let Some((reason, data_ts)) = self.refuse {
            if reason == RefusalReason::WarmUp || o.purpose == OrderPurpose::Entry {
                self.refuse_order(o, reason, data_ts, ts);
                return;
            }
        }
        self.counters.orders += 1;
        let t0 = self
            .route_start
            .take()
            .unwrap_or_else(|| self.clock.mono_ns());
        let mut queued = None;
        match &mut self.venue {
            Venue::Live { .. } => {
                if o.purpose == OrderPurpose::Stop {
                    let out = self.stops.on_place(o);
                    self.apply_stop_out(out, ts);
                    if !out.send_original {
                        return;
                    }
                }
                queued = self.send_live_place(o, ts);
            }
            Venue::Paper(sim) => {
                let events = &mut self.events;
                sim.submit(o, &mut |e| events.push_back(e));
            }
            Venue::DryRun => self.events.push_back(Event::Rejected { order: o.id, ts }),
        }
        // Live: the reading taken as the command entered the I/O queue
        // (journaling the sent order follows it and is not part of
        // tick-to-order).
        let t1 = queued.unwrap_or_else(|| self.clock.mono_ns());
        self.latency.record(Stage::Enqueue, t1.saturating_sub(t0));
        if let Some(acc) = self.frame.as_mut() {
            acc.stage_ns[Stage::Enqueue.index()] += t1.saturating_sub(t0);
            if acc.tick_to_order.is_none() {
                acc.tick_to_order = Some(t1.saturating_sub(acc.recv_mono));
            }
        }
    }

    /// Handles a market-stream status change.
    pub fn on_market_status(&mut self, ev: MarketStatus) {
        let ts = self.market_now();
        let (state, from, to) = match ev {
            MarketStatus::Connected { reconnect } => {
                self.connected = true;
                self.log(HotLog::MarketConnected { reconnect });
                (StreamState::Connected, ts, ts)
            }
            MarketStatus::Disconnected(reason) => {
                self.connected = false;
                self.log(HotLog::MarketDisconnected(reason));
                // Minutes may go missing from now on: no clock tick closes
                // candles until the next trade tells what to backfill, and
                // the last trade's minute may miss its later trades.
                self.distrust(ReplaceCause::Reconnect);
                (StreamState::Disconnected, ts, ts)
            }
            MarketStatus::Outage { from, to } => {
                self.counters.outages += 1;
                self.log(HotLog::MarketOutage { from, to });
                self.distrust(ReplaceCause::Reconnect);
                (StreamState::Outage, from, to)
            }
        };
        let rec = JournalRecord::Stream(js::StreamStatus {
            stream: StreamKind::Market,
            state,
            from,
            to,
            ts,
        });
        self.journal(ts, &rec);
    }

    /// Drains the service thread's messages; returns how many.
    pub fn poll_inbox(&mut self) -> usize {
        let mut n = 0;
        while let Some(m) = self.inbox.pop() {
            n += 1;
            let ts = self.market_now();
            match m {
                ToHot::Command { command, source } => {
                    self.journal(
                        ts,
                        &JournalRecord::Operator {
                            command,
                            source,
                            ts,
                        },
                    );
                    self.dispatch(Event::Control { command, ts });
                    self.commands_applied += 1;
                    self.status_due = true;
                }
                ToHot::Reload { outcome, detail } => self.on_reload(outcome, &detail, ts),
                ToHot::BackfillCandle(c) => self.on_backfill_candle(c),
                ToHot::BackfillDone {
                    symbol,
                    from,
                    to,
                    candles,
                } => {
                    self.journal(
                        ts,
                        &JournalRecord::Backfill {
                            symbol,
                            from,
                            to,
                            candles,
                            ts,
                        },
                    );
                    self.gap = Gap::None;
                    self.refill = None;
                    self.release_held();
                }
                ToHot::Stop { reason, flatten } => {
                    if self.stop.is_none() {
                        self.begin_stop(reason, flatten);
                    }
                }
            }
        }
        n
    }

    fn begin_stop(&mut self, reason: StopReason, flatten: bool) {
        let ts = self.market_now();
        let source = match reason {
            StopReason::Signal => OperatorSource::Signal,
            StopReason::StopFile => OperatorSource::StopFile,
            StopReason::Duration | StopReason::Requested => OperatorSource::Engine,
        };
        let command = if flatten {
            Command::Shutdown
        } else {
            Command::Halt
        };
        self.stop_halted = self.core.halted().is_none();
        self.journal(
            ts,
            &JournalRecord::Operator {
                command,
                source,
                ts,
            },
        );
        self.dispatch(Event::Control { command, ts });
        self.stop = Some((reason, self.clock.mono_ns()));
        self.flatten = flatten;
    }

    /// Returns true when no command waits for its answer from the exchange.
    pub(super) fn quiet(&self) -> bool {
        self.inflight.is_empty()
    }

    /// Returns true once (then false until the next command) when an
    /// operator command was applied since the last call: its effect is
    /// published at once.
    pub(super) fn take_status_due(&mut self) -> bool {
        std::mem::take(&mut self.status_due)
    }

    /// Returns the reason of the stop in progress when it, and not a
    /// person or the kill switch, is why the core takes no new entries.
    pub(super) fn stopping_reason(&self) -> Option<StopReason> {
        match self.stop {
            Some((reason, _)) if self.stop_halted => Some(reason),
            _ => None,
        }
    }

    /// Returns true when the stop in progress closes every position.
    pub(super) fn flattening(&self) -> bool {
        self.flatten
    }

    /// Returns the number of open positions.
    pub(super) fn open_positions(&self) -> usize {
        (0..self.symbols)
            .filter(|i| self.core.position(SymbolId(*i)).is_some())
            .count()
    }

    /// Returns the wall time since the last trade, ns.
    pub(super) fn idle_ns(&self, mono: u64) -> u64 {
        mono.saturating_sub(self.time.last_mono)
    }

    /// Issues a clock tick to the core (journaled), unless the feed is in
    /// a gap or a partly seen minute waits for its REST candle (see
    /// [`gap`]): a tick then would close candles before the missing data
    /// is in.
    pub fn tick(&mut self) {
        let now = self.market_now();
        if self.clock_may_close(now) {
            self.dispatch(Event::Clock(now));
        }
    }
}

/// A market-stream status change, as the hot loop reports it to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketStatus {
    /// Connected.
    Connected {
        /// After the first connection.
        reconnect: bool,
    },
    /// Lost.
    Disconnected(crate::io::ws::DisconnectReason),
    /// Data flows again after this wall-clock window.
    Outage {
        /// Start.
        from: TimestampNs,
        /// End.
        to: TimestampNs,
    },
}

/// Returns the time an event happened at.
#[must_use]
pub fn event_ts(e: &Event) -> TimestampNs {
    match *e {
        Event::Trade(t) => t.exchange_ts,
        Event::Candle(c) => c.open_time.add_ns(NS_PER_MIN),
        Event::Clock(ts)
        | Event::Ack { ts, .. }
        | Event::Rejected { ts, .. }
        | Event::Cancelled { ts, .. }
        | Event::Control { ts, .. } => ts,
        Event::Fill(f) => f.ts,
        Event::Funding(f) => f.ts,
        Event::FundingFee(f) => f.ts,
    }
}
