//! The engine's hot path as the `tick-to-order` harness drives it: BingX
//! gzip frame → [`BingxDecoder`] (inflate + parse) → [`Core::on_event_probed`]
//! (candles + indicators, strategies + risk) → order intents pushed into a
//! ringbuf SPSC queue, with each stage timed.
//!
//! Consumes frames and the instant each was "received" (taken by the caller
//! right before inflate); produces a [`FrameTiming`] per frame and
//! [`OrderIntent`]s in the queue. Other core actions (records, logs,
//! cancels) are drained and counted; a live driver would journal them.
//! Must never allocate after construction, lock or log: the harness counts
//! allocations around [`HotPath::on_frame`].
//!
//! When the live runtime's hot-path function lands, [`HotPath::on_frame`] is
//! the one place to switch to it.

use std::fmt;
use std::time::Instant;

use ringbuf::spsc::Producer;
use trading_engine::config::Config;
use trading_engine::core::{Action, Core, CoreError, Event, Stage, StageProbe};
use trading_engine::feed::{BingxDecoder, FeedError, MarketEvent, SymbolTable};
use trading_engine::orders::OrderIntent;
use trading_engine::strategy::{self, MarketView, Signal, Strategy, StrategyId};
use trading_engine::types::{InstrumentRules, Side, Trade, NS_PER_MIN};

/// Most trades one frame may carry; later trades of a larger frame are
/// counted in [`HotPathStats::trades_overflow`] and not processed.
pub const MAX_TRADES_PER_FRAME: usize = 256;

/// A strategy that signals a long entry on every closed 1m candle, with a
/// stop 0.5% and a target 1% away from the close. The harness appends it to
/// the configured strategies (which are evaluated too) so that an order
/// intent follows every candle close; the share of frames that close a
/// candle sets the share of frames with an order.
#[derive(Debug, Clone, Copy, Default)]
pub struct EveryCandleEntry;

impl Strategy for EveryCandleEntry {
    fn name(&self) -> &'static str {
        "every_candle_entry"
    }

    fn evaluate(&self, view: &MarketView<'_>) -> Option<Signal> {
        let close = view.c1.close.to_f64();
        let stop = close * 0.005;
        Some(Signal {
            strategy: StrategyId(0),
            symbol: view.symbol,
            side: Side::Buy,
            confidence: 0.5,
            price: view.c1.close,
            atr: view.ind1.atr.unwrap_or(stop),
            stop_distance: stop,
            target_distance: 2.0 * stop,
            ts: view.c1.open_time.add_ns(NS_PER_MIN),
        })
    }
}

/// Why a [`HotPath`] could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum HotPathError {
    /// The core rejected the configuration or the rules.
    Core(CoreError),
}

impl fmt::Display for HotPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "cannot build the engine core: {e}"),
        }
    }
}

impl std::error::Error for HotPathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
        }
    }
}

/// The stage durations of one frame, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameTiming {
    /// Received → decoded (inflate + parse).
    pub parse_ns: u64,
    /// Candle building and indicator updates, summed over the frame's trades.
    pub candles_indicators_ns: u64,
    /// Strategies, aggregation, risk and position management, summed.
    pub strategies_risk_ns: u64,
    /// Draining the core's actions and pushing intents, summed over the
    /// drains that pushed an intent (0 when none did).
    pub enqueue_ns: u64,
    /// Received → first order intent in the queue, if the frame produced one.
    pub tick_to_order_ns: Option<u64>,
    /// Order intents pushed.
    pub intents: u32,
}

/// Counters of a [`HotPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HotPathStats {
    /// Frames handed to [`HotPath::on_frame`].
    pub frames: u64,
    /// Trades given to the core.
    pub trades: u64,
    /// Trades beyond [`MAX_TRADES_PER_FRAME`] in one frame (not processed).
    pub trades_overflow: u64,
    /// Order intents pushed into the queue.
    pub intents: u64,
    /// Order intents lost because the queue was full.
    pub queue_full: u64,
    /// Other actions drained (records, logs, cancels).
    pub other_actions: u64,
}

/// Times the core's stages: accumulates the time between stage boundaries.
#[derive(Debug, Clone, Copy)]
struct TimingProbe {
    last: Instant,
    current: Option<Stage>,
    candles_indicators_ns: u64,
    strategies_risk_ns: u64,
}

impl TimingProbe {
    fn new() -> Self {
        Self {
            last: Instant::now(),
            current: None,
            candles_indicators_ns: 0,
            strategies_risk_ns: 0,
        }
    }

    fn close(&mut self, now: Instant) {
        let ns = u64::try_from(now.saturating_duration_since(self.last).as_nanos()).unwrap_or(0);
        match self.current {
            Some(Stage::CandlesIndicators) => self.candles_indicators_ns += ns,
            Some(_) => self.strategies_risk_ns += ns,
            None => {}
        }
        self.current = None;
    }
}

impl StageProbe for TimingProbe {
    #[inline]
    fn enter(&mut self, stage: Stage) {
        let now = Instant::now();
        self.close(now);
        self.current = Some(stage);
        self.last = now;
    }
}

/// Decoder, core and order queue of the measured pipeline. See the module
/// docs.
#[derive(Debug)]
pub struct HotPath {
    decoder: BingxDecoder,
    core: Core,
    orders: Producer<OrderIntent>,
    trades: Vec<Trade>,
    stats: HotPathStats,
}

impl HotPath {
    /// Builds the pipeline: a decoder for `symbols`, a core for `cfg` and
    /// `rules` running the configured strategies followed by `extra`, and
    /// `orders` as the order queue. Allocates every buffer here.
    ///
    /// # Errors
    /// [`HotPathError::Core`] when the core rejects `cfg` or `rules`.
    pub fn try_new(
        cfg: &Config,
        rules: &[InstrumentRules],
        symbols: SymbolTable,
        extra: Vec<Box<dyn Strategy>>,
        orders: Producer<OrderIntent>,
    ) -> Result<Self, HotPathError> {
        let mut strategies = strategy::build(&cfg.strategies);
        strategies.extend(extra);
        let core = Core::try_with_strategies(cfg, rules, strategies).map_err(HotPathError::Core)?;
        Ok(Self {
            decoder: BingxDecoder::new(symbols),
            core,
            orders,
            trades: Vec::with_capacity(MAX_TRADES_PER_FRAME),
            stats: HotPathStats::default(),
        })
    }

    /// Runs one frame through the pipeline. `received` is the instant the
    /// frame was read off the socket (the caller takes it right before this
    /// call); tick-to-order runs from it to the first intent in the queue.
    ///
    /// # Errors
    /// The decoder's [`FeedError`] for a frame it rejects (nothing reaches
    /// the core then).
    pub fn on_frame(&mut self, frame: &[u8], received: Instant) -> Result<FrameTiming, FeedError> {
        self.stats.frames += 1;
        self.trades.clear();
        let trades = &mut self.trades;
        let overflow = &mut self.stats.trades_overflow;
        self.decoder.decode(frame, &mut |e| {
            if let MarketEvent::Trade(t) = e {
                if trades.len() < MAX_TRADES_PER_FRAME {
                    trades.push(t);
                } else {
                    *overflow += 1;
                }
            }
        })?;
        let decoded = Instant::now();
        let mut timing = FrameTiming {
            parse_ns: ns_between(received, decoded),
            ..FrameTiming::default()
        };
        let mut probe = TimingProbe::new();
        for k in 0..self.trades.len() {
            let event = Event::Trade(self.trades[k]);
            self.stats.trades += 1;
            probe.last = Instant::now();
            probe.current = None;
            self.core.on_event_probed(&event, &mut probe);
            let drain_start = Instant::now();
            probe.close(drain_start);
            let pushed = self.drain();
            if pushed > 0 {
                let queued = Instant::now();
                timing.enqueue_ns += ns_between(drain_start, queued);
                timing.intents += pushed;
                if timing.tick_to_order_ns.is_none() {
                    timing.tick_to_order_ns = Some(ns_between(received, queued));
                }
            }
        }
        timing.candles_indicators_ns = probe.candles_indicators_ns;
        timing.strategies_risk_ns = probe.strategies_risk_ns;
        Ok(timing)
    }

    /// Feeds an exchange event (ack, fill, reject, cancel) to the core and
    /// queues the intents it produces; returns how many. Used by the harness
    /// between frames, outside the timed window.
    pub fn on_exchange_event(&mut self, event: &Event) -> u32 {
        self.core.on_event(event);
        self.drain()
    }

    /// Returns the core (read-only: equity, positions, stats).
    #[must_use]
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> HotPathStats {
        self.stats
    }

    /// Drains the core's actions; pushes intents; returns how many were
    /// pushed.
    fn drain(&mut self) -> u32 {
        let mut pushed = 0;
        while let Some(action) = self.core.next_action() {
            match action {
                Action::Place(intent) => match self.orders.push(intent) {
                    Ok(()) => {
                        pushed += 1;
                        self.stats.intents += 1;
                    }
                    Err(_) => self.stats.queue_full += 1,
                },
                Action::Cancel { .. } | Action::Record(_) | Action::Log(_) => {
                    self.stats.other_actions += 1;
                }
            }
        }
        pushed
    }
}

fn ns_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_frames::{generate_ticks, FrameBuilder, FramePlan, SYMBOL};
    use trading_engine::orders::OrderPurpose;
    use trading_engine::types::{DecimalStep, Price, Qty, SymbolId, TimestampNs};

    /// 2020-02-22 00:00 UTC, the day of the shared aggTrades file.
    const START_MS: i64 = 1_582_329_600_000;

    pub(crate) fn rules() -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(3),
            min_qty: Qty::from_f64(0.001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        }
    }

    fn hot_path(capacity: usize) -> (HotPath, ringbuf::spsc::Consumer<OrderIntent>) {
        let (tx, rx) = ringbuf::spsc::channel(capacity);
        let mut table = SymbolTable::new();
        table.insert(SYMBOL, SymbolId(0)).unwrap();
        let hot = HotPath::try_new(
            &Config::default(),
            &[rules()],
            table,
            vec![Box::new(EveryCandleEntry)],
            tx,
        )
        .unwrap();
        (hot, rx)
    }

    #[test]
    fn an_entry_intent_follows_every_candle_close_when_entries_are_rejected() {
        let (mut hot, mut rx) = hot_path(64);
        let ticks = generate_ticks(1000);
        let plan = FramePlan::for_order_share(0.1, 2, START_MS);
        let mut builder = FrameBuilder::new();
        let mut with_order = Vec::new();
        for frame in 0..100u64 {
            let gz = builder.gzip(&ticks, &plan, frame);
            let timing = hot.on_frame(&gz, Instant::now()).unwrap();
            if timing.intents > 0 {
                with_order.push(frame);
                let tto = timing.tick_to_order_ns.unwrap();
                assert!(tto >= timing.parse_ns);
                assert!(timing.enqueue_ns > 0 || tto > 0);
            } else {
                assert_eq!(timing.tick_to_order_ns, None);
                assert_eq!(timing.enqueue_ns, 0);
            }
            while let Some(intent) = rx.pop() {
                assert_eq!(intent.purpose, OrderPurpose::Entry);
                assert_eq!(intent.side, Side::Buy);
                hot.on_exchange_event(&Event::Rejected {
                    order: intent.id,
                    ts: TimestampNs(intent.ts.0),
                });
            }
        }
        let expected: Vec<u64> = (1..100).filter(|f| plan.closes_candle(*f)).collect();
        assert_eq!(with_order, expected);
        let stats = hot.stats();
        assert_eq!(stats.frames, 100);
        assert_eq!(stats.trades, 200);
        assert_eq!(stats.intents, 9);
        assert_eq!(stats.queue_full, 0);
        assert!(hot.core().position(SymbolId(0)).is_none());
    }

    #[test]
    fn an_open_entry_blocks_the_next_one_until_it_is_answered() {
        let (mut hot, mut rx) = hot_path(64);
        let ticks = generate_ticks(100);
        let plan = FramePlan::for_order_share(0.5, 1, START_MS);
        let mut builder = FrameBuilder::new();
        let mut intents = 0;
        for frame in 0..10u64 {
            let gz = builder.gzip(&ticks, &plan, frame);
            intents += hot.on_frame(&gz, Instant::now()).unwrap().intents;
        }
        // Only the first close sends an entry: max_positions = 1 and the
        // pending entry is never answered.
        assert_eq!(intents, 1);
        assert_eq!(rx.pop().map(|i| i.purpose), Some(OrderPurpose::Entry));
        assert!(rx.pop().is_none());
    }

    #[test]
    fn a_full_order_queue_counts_the_lost_intent() {
        let (mut hot, _rx) = hot_path(1);
        let ticks = generate_ticks(100);
        let plan = FramePlan::for_order_share(1.0, 1, START_MS);
        let mut builder = FrameBuilder::new();
        let gz = builder.gzip(&ticks, &plan, 0);
        hot.on_frame(&gz, Instant::now()).unwrap();
        let gz = builder.gzip(&ticks, &plan, 1);
        let t = hot.on_frame(&gz, Instant::now()).unwrap();
        assert_eq!(t.intents, 1);
        // A reject of the intent frees the position; the next entry finds
        // the one-slot queue still full.
        hot.on_exchange_event(&Event::Rejected {
            order: trading_engine::orders::OrderId(1),
            ts: TimestampNs(0),
        });
        let gz = builder.gzip(&ticks, &plan, 2);
        let t = hot.on_frame(&gz, Instant::now()).unwrap();
        assert_eq!(t.intents, 0);
        assert_eq!(hot.stats().queue_full, 1);
    }

    #[test]
    fn a_corrupt_frame_is_an_error_and_reaches_no_stage() {
        let (mut hot, _rx) = hot_path(4);
        assert!(hot.on_frame(b"not gzip", Instant::now()).is_err());
        assert_eq!(hot.stats().trades, 0);
    }

    #[test]
    fn the_measured_frame_path_does_not_allocate_after_warm_up() {
        let (mut hot, mut rx) = hot_path(64);
        let ticks = generate_ticks(1000);
        let plan = FramePlan::for_order_share(0.05, 2, START_MS);
        let mut builder = FrameBuilder::new();
        let frames: Vec<Vec<u8>> = (0..400).map(|f| builder.gzip(&ticks, &plan, f)).collect();
        let mut run = |range: std::ops::Range<usize>, hot: &mut HotPath| {
            let mut allocations = 0;
            for frame in &frames[range] {
                let info = allocation_counter::measure(|| {
                    hot.on_frame(frame, Instant::now()).unwrap();
                });
                allocations += info.count_total;
                while let Some(intent) = rx.pop() {
                    hot.on_exchange_event(&Event::Rejected {
                        order: intent.id,
                        ts: intent.ts,
                    });
                }
            }
            allocations
        };
        run(0..200, &mut hot);
        assert_eq!(run(200..400, &mut hot), 0);
        assert!(hot.stats().intents >= 19);
    }
}
