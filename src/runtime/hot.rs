//! The hot loop: one thread, pinned, busy-polling the market socket, the
//! I/O thread's reports and the service thread's messages, driving the
//! [`Engine`] and its timers (coarse clock ticks, status, snapshots,
//! latency hand-off) until a stop request has drained.
//!
//! Consumes a connected-on-first-poll market [`WsClient`] and an
//! [`Engine`]; produces a [`HotSummary`]. Never blocks, allocates, locks or
//! logs inside the loop; start-up (pinning) and the final journal records
//! happen outside it.

use crate::clock::{Clock, WallAnchor};
use crate::feed::MarketEvent;
use crate::io::ws::{WsClient, WsEvent, WsProtocol, WsStats};

use super::engine::{Engine, HotCounters, MarketStatus};
use super::msg::StopReason;
use super::timed::{Timed, TimedEvent};
use crate::journal_schema::JournalRecord;

/// Longest wait for the user stream before the market is read anyway.
const USER_STREAM_WAIT_NS: u64 = 10_000_000_000;

/// How often the loop re-reads the OS wall clock; in between, wall time is
/// derived from the one monotonic reading of each iteration.
const WALL_RESYNC_NS: u64 = 100_000_000;

/// Timers of the hot loop (wall-clock nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopTimers {
    /// A clock tick goes to the core at most this often ...
    pub clock_every_ns: u64,
    /// ... and only after this long without a trade (trades carry time).
    pub clock_quiet_ns: u64,
    /// Status snapshots and latency intervals to the service thread.
    pub status_every_ns: u64,
    /// State snapshot into the journal (equity samples follow market
    /// minutes instead, see `runtime::engine::status`).
    pub snapshot_every_ns: u64,
    /// Longest wait for in-flight orders (and the flatten) after a stop.
    pub drain_timeout_ns: u64,
}

impl Default for LoopTimers {
    fn default() -> Self {
        Self {
            clock_every_ns: 1_000_000_000,
            clock_quiet_ns: 200_000_000,
            status_every_ns: 250_000_000,
            snapshot_every_ns: 60_000_000_000,
            drain_timeout_ns: 5_000_000_000,
        }
    }
}

/// What a finished hot loop hands back.
#[derive(Debug)]
pub struct HotSummary {
    /// Counters of the run.
    pub counters: HotCounters,
    /// Why it stopped.
    pub reason: StopReason,
    /// True when everything in flight settled before the drain timeout.
    pub drained: bool,
    /// Market socket counters.
    pub ws: WsStats,
    /// Final equity, cash and whether HALTED.
    pub equity: f64,
    /// Realised cash at the end.
    pub cash: f64,
    /// True when the core ended HALTED (not only because the run stopped).
    pub halted: bool,
    /// Open positions left at the end.
    pub open_positions: usize,
    /// Live mode: whether the last reconciliation pass of the shutdown
    /// found engine and exchange in agreement (`None`: no pass ended, or
    /// not live). `Some(false)` makes `run` and `demo` exit non-zero.
    pub exchange_agrees: Option<bool>,
    /// The journal, with the shutdown record written, for closing.
    pub journal: Option<journal::Writer>,
}

/// The hot thread's loop state.
pub struct HotLoop<P: WsProtocol<Event = MarketEvent>> {
    market: WsClient<Timed<P>>,
    engine: Engine,
    timers: LoopTimers,
    flatten_on_stop: bool,
    started: Option<u64>,
    last: Timers,
    /// Wall time from the iteration's monotonic reading.
    wall: WallAnchor,
}

/// When each timer last fired (monotonic ns).
#[derive(Debug, Clone, Copy, Default)]
struct Timers {
    clock: u64,
    status: u64,
    snapshot: u64,
}

impl<P: WsProtocol<Event = MarketEvent>> std::fmt::Debug for HotLoop<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotLoop")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl<P: WsProtocol<Event = MarketEvent>> HotLoop<P> {
    /// Returns the loop around `market` and `engine`.
    #[must_use]
    pub fn new(market: WsClient<Timed<P>>, engine: Engine, timers: LoopTimers) -> Self {
        let wall = WallAnchor::new(&engine.clock, WALL_RESYNC_NS);
        Self {
            market,
            engine,
            timers,
            flatten_on_stop: false,
            started: None,
            last: Timers::default(),
            wall,
        }
    }

    /// Runs until a stop request has drained; see the module docs.
    pub fn run(mut self) -> HotSummary {
        loop {
            if let Some(settled) = self.step() {
                return self.finish(settled);
            }
        }
    }

    /// Runs one iteration of the loop: polls the market socket, the I/O
    /// reports and the inbox, then the timers. Returns `Some(settled)` when
    /// a stop request has drained (or timed out) and the loop should end.
    ///
    /// One clock reading per iteration: wall time is derived from it
    /// ([`WallAnchor`]), and the timers use it too (they fire at 250 ms and
    /// coarser, so the time the polls took does not matter to them).
    pub fn step(&mut self) -> Option<bool> {
        let clock = self.engine.clock;
        let mono = clock.mono_ns();
        let now_wall = self.wall.wall_at(&clock, mono);
        let started = *self.started.get_or_insert(mono);
        // Live: the market waits for the user stream (or 10 s), so no fill
        // can happen before it is watched.
        if self.engine.ready() || mono.saturating_sub(started) > USER_STREAM_WAIT_NS {
            self.poll_market(now_wall);
        }
        self.engine.poll_io();
        self.engine.poll_inbox();
        let t = &mut self.last;
        if mono.saturating_sub(t.clock) >= self.timers.clock_every_ns
            && self.engine.idle_ns(mono) >= self.timers.clock_quiet_ns
        {
            t.clock = mono;
            self.engine.tick();
        }
        // An applied operator command is published at once, so `ctl halt`
        // answers with the new state and `ctl status` right after shows it.
        if self.engine.take_status_due()
            || mono.saturating_sub(t.status) >= self.timers.status_every_ns
        {
            t.status = mono;
            self.engine.publish(self.market.stats());
            // Checkpoint requests ride the status timer (cold path).
            self.engine.poll_checkpoints();
        }
        if mono.saturating_sub(t.snapshot) >= self.timers.snapshot_every_ns {
            t.snapshot = mono;
            self.engine.snapshot();
        }

        let (_, since) = self.engine.stop?;
        self.flatten_on_stop |= self.engine.flattening();
        let drained =
            self.engine.quiet() && (!self.flatten_on_stop || self.engine.open_positions() == 0);
        // Live: clean only once a reconciliation pass finds the exchange
        // in agreement (positions and their orders), see engine::sync.
        if drained {
            if let Some(agreed) = self.engine.exchange_agreement() {
                return Some(agreed);
            }
        }
        (mono.saturating_sub(since) >= self.timers.drain_timeout_ns).then_some(false)
    }

    /// Returns the engine half (counters, core state).
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn poll_market(&mut self, now_wall: crate::types::TimestampNs) {
        let engine = &mut self.engine;
        self.market.poll_once(now_wall, &mut |ev| match ev {
            WsEvent::Data(TimedEvent::Market(s)) => engine.on_market(&s),
            WsEvent::Data(TimedEvent::Lost { .. }) => engine.on_market_lost(),
            WsEvent::Connected { reconnect, .. } => {
                engine.on_market_status(MarketStatus::Connected { reconnect });
            }
            WsEvent::Disconnected { reason, .. } => {
                engine.on_market_status(MarketStatus::Disconnected(reason));
            }
            WsEvent::Outage(w) => engine.on_market_status(MarketStatus::Outage {
                from: w.from,
                to: w.to,
            }),
        });
    }

    /// Ends the loop: final snapshot, equity sample and daily metrics, a
    /// last status, the shutdown record; socket closed.
    #[must_use]
    pub fn finish(mut self, drained: bool) -> HotSummary {
        self.engine.snapshot();
        self.engine.close_day();
        self.engine.publish(self.market.stats());
        let reason = self.engine.stop.map_or(StopReason::Requested, |s| s.0);
        let ts = self.engine.market_now();
        self.engine.journal(
            ts,
            &JournalRecord::Shutdown {
                clean: drained,
                reason: reason.as_str(),
                ts,
            },
        );
        self.market.close();
        let e = &mut self.engine;
        HotSummary {
            counters: e.counters,
            reason,
            drained,
            ws: *self.market.stats(),
            equity: e.core.equity(),
            cash: e.core.cash().to_f64(),
            halted: e.core.halted().is_some() && e.stopping_reason().is_none(),
            open_positions: e.open_positions(),
            exchange_agrees: e.final_agreement(),
            journal: e.take_journal(),
        }
    }
}
