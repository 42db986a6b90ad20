//! The live runtime's hot path as the `tick-to-order` harness drives it:
//! a BingX gzip frame → the market protocol the hot loop reads
//! ([`Timed`]`<`[`BingxMarket`]`>`: receive stamp, inflate + parse) →
//! [`Engine::on_market`] (journal input, candles + indicators, strategies +
//! risk, order routing) → the order as an [`IoCommand`] in the I/O
//! thread's queue, exactly what [`trading_engine::runtime::HotLoop`] runs
//! for every market message (only the socket read is missing). The engine
//! times its own stages; its [`FrameSample`] is what this module hands on.
//!
//! Consumes gzip frames; produces a [`FrameTiming`] per frame, orders in
//! the command queue (answered by [`HotPath::answer_orders`], standing in
//! for the I/O thread) and, when asked, a journal written by the runtime's
//! own code. Must never allocate after warm-up, lock or log inside
//! [`HotPath::on_frame`]: the harness counts allocations around it.

use std::fmt;
use std::path::Path;

use ringbuf::spsc::{Consumer, Producer};
use trading_engine::clock::SystemClock;
use trading_engine::config::{Config, Mode};
use trading_engine::core::{Core, CoreError};
use trading_engine::feed::{BingxDecoder, SymbolTable};
use trading_engine::io::bridge::{self, IoReport, IoSide};
use trading_engine::io::error::ExchangeCode;
use trading_engine::io::order::{IoCommand, OrderOutcome, OrderResult};
use trading_engine::io::ws::{BingxMarket, MessageKind, Outbox, WsProtocol};
use trading_engine::metrics::handoff::{latency_channel, LatencyCollector};
use trading_engine::metrics::latency::HistogramError;
use trading_engine::runtime::setup::{open_journal, RuntimeError};
use trading_engine::runtime::timed::{Timed, TimedEvent};
use trading_engine::runtime::{Engine, EngineParts, FrameSample, FromHot, HotLog, ToHot, Venue};
use trading_engine::strategy::{self, Strategy};
use trading_engine::types::{Candle, InstrumentRules, TimestampNs, NS_PER_MIN};

/// Slots of the order command queue (the bridge's default).
pub const COMMAND_QUEUE: usize = 1024;
/// Slots of the hot thread's queue to the service thread (the runtime's).
pub const SERVICE_QUEUE: usize = 8192;
/// Client order id prefix of the harness's orders.
pub const CLIENT_PREFIX: &str = "tb-";
/// The code the stand-in I/O thread rejects every order with
/// (BingX 101204: insufficient margin).
pub const REJECT_CODE: i64 = 101_204;

/// The scripted every-candle entry strategy (the library's, re-exported for
/// the harnesses).
pub use trading_engine::strategy::EveryCandleEntry;

/// Why a [`HotPath`] could not be built.
#[derive(Debug)]
pub enum HotPathError {
    /// The core rejected the configuration or the rules.
    Core(CoreError),
    /// The journal could not be opened.
    Journal(RuntimeError),
    /// The latency histograms could not be built.
    Latency(HistogramError),
}

impl fmt::Display for HotPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "cannot build the engine core: {e}"),
            Self::Journal(e) => write!(f, "cannot open the journal: {e}"),
            Self::Latency(e) => write!(f, "cannot build the latency histograms: {e}"),
        }
    }
}

impl std::error::Error for HotPathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::Journal(e) => Some(e),
            Self::Latency(e) => Some(e),
        }
    }
}

/// Why a frame produced no timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The market protocol could not inflate or parse it.
    Malformed,
    /// It carried no trade for the engine (a control message, an empty
    /// trade list).
    NoTrades,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("the frame could not be inflated or parsed"),
            Self::NoTrades => f.write_str("the frame carried no trade"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The stage durations of one frame, as the engine measured them, in
/// nanoseconds, plus the orders it queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameTiming {
    /// Received → decoded (inflate + parse).
    pub parse_ns: u64,
    /// Candle building and indicator updates, summed over the frame's trades.
    pub candles_indicators_ns: u64,
    /// Strategies, aggregation, risk and position management, summed.
    pub strategies_risk_ns: u64,
    /// Routing orders into the command queue, summed (0 when none).
    pub enqueue_ns: u64,
    /// Received → first order in the command queue, if the frame produced one.
    pub tick_to_order_ns: Option<u64>,
    /// Orders the core placed on this frame.
    pub intents: u32,
}

impl FrameTiming {
    fn of(s: FrameSample, intents: u32) -> Self {
        Self {
            parse_ns: s.parse_ns,
            candles_indicators_ns: s.candles_indicators_ns,
            strategies_risk_ns: s.strategies_risk_ns,
            enqueue_ns: s.enqueue_ns,
            tick_to_order_ns: s.tick_to_order_ns,
            intents,
        }
    }
}

/// Counters of a [`HotPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HotPathStats {
    /// Frames handed to [`HotPath::on_frame`].
    pub frames: u64,
    /// Frames the protocol could not decode.
    pub malformed: u64,
    /// Order commands the stand-in I/O thread answered.
    pub commands: u64,
    /// Orders refused because the command queue was full (the engine's note).
    pub queue_full: u64,
    /// Messages from the hot side to the service thread, drained.
    pub service_messages: u64,
}

/// The runtime's engine half behind the market protocol, with the queue
/// ends the I/O and service threads would hold. See the module docs.
pub struct HotPath {
    market: Timed<BingxMarket>,
    engine: Engine,
    io: IoSide,
    from_hot: Consumer<FromHot>,
    to_hot: Producer<ToHot>,
    _collector: LatencyCollector,
    send_buf: Vec<u8>,
    rng: u64,
    stats: HotPathStats,
}

impl fmt::Debug for HotPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotPath")
            .field("engine", &self.engine)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl HotPath {
    /// Builds the path as `trading-engine run` builds it in live mode: a
    /// core for `cfg` and `rules` running the configured strategies
    /// followed by `extra`, the engine routing to an I/O command queue, a
    /// decoder for `symbols`, and — with `journal_dir` — the run's journal
    /// (session record first). `start_ts` is the market time the engine
    /// starts from; `clock` is the runtime's
    /// ([`SystemClock::cycle_counter`]) or the OS clock
    /// ([`SystemClock::new`]) for a comparison. Allocates every buffer here.
    ///
    /// # Errors
    /// [`HotPathError`] when the core, the journal or the histograms cannot
    /// be built.
    pub fn try_new(
        cfg: &Config,
        rules: &[InstrumentRules],
        symbols: SymbolTable,
        extra: Vec<Box<dyn Strategy>>,
        journal_dir: Option<&Path>,
        start_ts: TimestampNs,
        clock: SystemClock,
    ) -> Result<Self, HotPathError> {
        let mut strategies = strategy::build(&cfg.strategies);
        strategies.extend(extra);
        let core = Core::try_with_strategies(cfg, rules, strategies).map_err(HotPathError::Core)?;
        let journal = match journal_dir {
            Some(dir) => Some(
                open_journal(cfg, dir, Mode::Live, rules, &clock).map_err(HotPathError::Journal)?,
            ),
            None => None,
        };
        let (latency, collector) = latency_channel(
            cfg.latency.histogram_max_ns,
            cfg.latency.histogram_sigfig,
            4,
        )
        .map_err(HotPathError::Latency)?;
        let (hot_io, io) = bridge::queue_pair(COMMAND_QUEUE, COMMAND_QUEUE);
        let (to_hot, inbox) = ringbuf::spsc::channel(1024);
        let (out, from_hot) = ringbuf::spsc::channel(SERVICE_QUEUE);
        let engine = Engine::new(EngineParts {
            core,
            venue: Venue::Live {
                io: hot_io,
                hedge: true,
            },
            journal,
            latency,
            out,
            inbox,
            clock,
            prefix: CLIENT_PREFIX.to_owned(),
            time_scale: 1.0,
            start_ts,
            symbols: u16::try_from(rules.len()).unwrap_or(u16::MAX),
            // No reloads in the benchmark: the service end is dropped.
            reloads: trading_engine::runtime::reload_channel().1,
        });
        Ok(Self {
            market: Timed::new(BingxMarket::new(BingxDecoder::new(symbols)), clock),
            engine,
            io,
            from_hot,
            to_hot,
            _collector: collector,
            send_buf: Vec::with_capacity(256),
            rng: 0x2545_F491_4F6C_DD1D,
            stats: HotPathStats::default(),
        })
    }

    /// Feeds history candles to the indicators through the runtime's
    /// warm-up (journaled, untimed; orders decided on history are refused,
    /// never sent). Candles ending with the minute before the first frame's
    /// trades need no backfill (see [`warmup_candles`]).
    pub fn warm_up(&mut self, candles: &[Candle]) {
        self.engine.warm_up(candles);
    }

    /// Runs one frame as the hot loop runs a complete market message: the
    /// protocol stamps its arrival, inflates and parses it and the engine
    /// handles every trade; returns the engine's timing of the frame.
    ///
    /// # Errors
    /// [`FrameError::Malformed`] when the frame does not decode (nothing
    /// reaches the engine), [`FrameError::NoTrades`] when it carries no trade.
    pub fn on_frame(&mut self, frame: &[u8]) -> Result<FrameTiming, FrameError> {
        self.stats.frames += 1;
        let orders = self.engine.counters().orders;
        let engine = &mut self.engine;
        let mut out = Outbox::new(&mut self.send_buf, &mut self.rng);
        let kind = self
            .market
            .on_message(false, frame, &mut out, &mut |e| match e {
                TimedEvent::Market(s) => engine.on_market(&s),
                TimedEvent::Lost { .. } => engine.on_market_lost(),
            });
        self.send_buf.clear();
        if kind == MessageKind::Malformed {
            self.stats.malformed += 1;
            return Err(FrameError::Malformed);
        }
        let sample = self
            .engine
            .take_frame_sample()
            .ok_or(FrameError::NoTrades)?;
        let intents = self.engine.counters().orders.saturating_sub(orders);
        Ok(FrameTiming::of(
            sample,
            u32::try_from(intents).unwrap_or(u32::MAX),
        ))
    }

    /// Stands in for the I/O thread and the service thread between frames
    /// (outside the timed window): rejects every queued order command
    /// ([`REJECT_CODE`]), lets the engine take the answers back to the core
    /// and drains the engine's messages. Returns the commands answered.
    pub fn answer_orders(&mut self) -> u32 {
        let mut answered = 0;
        while let Some(cmd) = self.io.next_command() {
            answered += 1;
            let (symbol, client_order_id) = match cmd {
                IoCommand::Place(r) => (r.symbol, r.client_order_id),
                IoCommand::Cancel { symbol, .. }
                | IoCommand::CancelAll { symbol }
                | IoCommand::Query { symbol, .. } => {
                    (symbol, trading_engine::io::order::ClientOrderId::EMPTY)
                }
                IoCommand::Sync => continue,
            };
            let report = IoReport::Order(OrderResult {
                symbol,
                client_order_id,
                outcome: OrderOutcome::Rejected {
                    code: REJECT_CODE,
                    kind: ExchangeCode::from_code(REJECT_CODE),
                },
            });
            // The report queue is as long as the command queue, and this
            // loop empties it (poll_io) before the engine can fill it again.
            let _ = self.io.report(report);
            self.engine.poll_io();
        }
        while let Some(m) = self.from_hot.pop() {
            self.stats.service_messages += 1;
            match m {
                FromHot::Log(HotLog::QueueFull(_)) => self.stats.queue_full += 1,
                // The engine asks for the REST candle of its first, partly
                // seen live minute (or a gap's minutes) and holds trades
                // until it comes: the benchmark has no REST history, so it
                // answers at once with none, and the held trades are fed
                // here, outside any measured frame.
                FromHot::Backfill { symbol, from, to } => {
                    let done = ToHot::BackfillDone {
                        symbol,
                        from,
                        to,
                        candles: 0,
                    };
                    if self.to_hot.push(done).is_ok() {
                        self.engine.poll_inbox();
                    }
                }
                _ => {}
            }
        }
        self.stats.commands += u64::from(answered);
        answered
    }

    /// Returns the engine (counters, core state).
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> HotPathStats {
        self.stats
    }
}

/// Returns `n` warm-up candles of `symbol` ending with the minute before
/// `start`: consecutive groups of ticks as OHLCV, so the indicators (SMA(200)
/// on 5m needs 1,000 minutes) start warm at the prices the frames carry.
#[must_use]
pub fn warmup_candles(
    ticks: &[crate::market_frames::Tick],
    symbol: trading_engine::types::SymbolId,
    start: TimestampNs,
    n: usize,
) -> Vec<Candle> {
    use trading_engine::types::{Price, Qty};
    const PER_CANDLE: usize = 40;
    if ticks.is_empty() {
        return Vec::new();
    }
    let first = start.0.div_euclid(NS_PER_MIN) * NS_PER_MIN - NS_PER_MIN * n as i64;
    (0..n)
        .filter_map(|i| {
            let group = (0..PER_CANDLE).map(|k| ticks[(i * PER_CANDLE + k) % ticks.len()]);
            let (mut o, mut h, mut l, mut c, mut v) = (0.0, f64::MIN, f64::MAX, 0.0, 0.0);
            for (k, t) in group.enumerate() {
                if k == 0 {
                    o = t.price;
                }
                h = h.max(t.price);
                l = l.min(t.price);
                c = t.price;
                v += t.qty;
            }
            Some(Candle {
                symbol,
                open_time: TimestampNs(first + NS_PER_MIN * i as i64),
                open: Price::from_f64(o)?,
                high: Price::from_f64(h)?,
                low: Price::from_f64(l)?,
                close: Price::from_f64(c)?,
                volume: Qty::from_f64(v)?,
                trade_count: PER_CANDLE as u32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_frames::{generate_ticks, FrameBuilder, FramePlan, SYMBOL};
    use trading_engine::types::{DecimalStep, Price, Qty, SymbolId};

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

    fn hot_path(journal: Option<&Path>) -> HotPath {
        let mut table = SymbolTable::new();
        table.insert(SYMBOL, SymbolId(0)).unwrap();
        HotPath::try_new(
            &Config::default(),
            &[rules()],
            table,
            vec![Box::new(EveryCandleEntry::default())],
            journal,
            TimestampNs(START_MS * 1_000_000),
            // The runtime's clock: the allocation test covers its readings.
            SystemClock::cycle_counter(),
        )
        .unwrap()
    }

    #[test]
    fn an_entry_order_follows_every_candle_close_when_entries_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut hot = hot_path(Some(dir.path()));
        let ticks = generate_ticks(1000);
        let plan = FramePlan::for_order_share(0.1, 2, START_MS);
        let mut builder = FrameBuilder::new();
        let mut with_order = Vec::new();
        for frame in 0..100u64 {
            let gz = builder.gzip(&ticks, &plan, frame);
            let timing = hot.on_frame(&gz).unwrap();
            if timing.intents > 0 {
                with_order.push(frame);
                let tto = timing.tick_to_order_ns.unwrap();
                assert!(tto >= timing.parse_ns);
                assert_eq!(hot.answer_orders(), 1);
            } else {
                assert_eq!(timing.tick_to_order_ns, None);
                assert_eq!(timing.enqueue_ns, 0);
                assert_eq!(hot.answer_orders(), 0);
            }
        }
        let expected: Vec<u64> = (1..100).filter(|f| plan.closes_candle(*f)).collect();
        assert_eq!(with_order, expected);
        let c = hot.engine().counters();
        assert_eq!(c.frames, 100);
        assert_eq!(c.trades, 200);
        assert_eq!(c.orders, 9);
        // Every trade is journaled as an input, every frame's timing too.
        assert!(c.journal_records >= 300, "{c:?}");
        assert_eq!(c.journal_failures, 0);
        let stats = hot.stats();
        assert_eq!(stats.commands, 9);
        assert_eq!(stats.queue_full, 0);
        assert!(
            stats.service_messages >= 9,
            "each reject is noted: {stats:?}"
        );
    }

    #[test]
    fn an_unanswered_entry_blocks_the_next_one() {
        let mut hot = hot_path(None);
        let ticks = generate_ticks(100);
        let plan = FramePlan::for_order_share(0.5, 1, START_MS);
        let mut builder = FrameBuilder::new();
        let mut intents = 0;
        for frame in 0..10u64 {
            let gz = builder.gzip(&ticks, &plan, frame);
            intents += hot.on_frame(&gz).unwrap().intents;
        }
        // Only the first close sends an entry: max_positions = 1 and the
        // pending entry is never answered.
        assert_eq!(intents, 1);
        assert_eq!(hot.answer_orders(), 1);
        let gz = builder.gzip(&ticks, &plan, 10);
        assert_eq!(hot.on_frame(&gz).unwrap().intents, 1);
    }

    #[test]
    fn a_corrupt_frame_is_an_error_and_reaches_no_stage() {
        let mut hot = hot_path(None);
        assert_eq!(hot.on_frame(b"not gzip"), Err(FrameError::Malformed));
        assert_eq!(hot.engine().counters().trades, 0);
        assert_eq!(hot.stats().malformed, 1);
    }

    #[test]
    fn a_frame_without_trades_gives_no_timing() {
        let mut hot = hot_path(None);
        let gz = bingx_sim::gzip(b"Ping");
        assert_eq!(hot.on_frame(&gz), Err(FrameError::NoTrades));
    }

    #[test]
    fn warm_up_candles_end_with_the_minute_before_the_start_and_feed_the_core() {
        let ticks = generate_ticks(500);
        let start = TimestampNs(START_MS * 1_000_000 + 7);
        let candles = warmup_candles(&ticks, SymbolId(0), start, 30);
        assert_eq!(candles.len(), 30);
        assert_eq!(
            candles.last().unwrap().open_time.0,
            START_MS * 1_000_000 - NS_PER_MIN
        );
        assert!(candles.iter().all(|c| c.low <= c.open && c.open <= c.high));
        assert!(warmup_candles(&[], SymbolId(0), start, 3).is_empty());
        let mut hot = hot_path(None);
        hot.warm_up(&candles);
        // Every history candle is an input; the scripted entries it causes
        // are refused by the warm-up, never sent.
        // (refused orders are journaled as order_refused, not counted as sent).
        assert_eq!(hot.engine().counters().orders, 0);
        assert_eq!(hot.answer_orders(), 0);
        // The first live trade is in the next minute: no backfill, it reaches the core.
        let plan = FramePlan::for_order_share(0.5, 1, START_MS);
        let gz = FrameBuilder::new().gzip(&ticks, &plan, 0);
        assert!(hot.on_frame(&gz).is_ok());
        assert_eq!(hot.engine().counters().trades, 1);
    }

    #[test]
    fn the_measured_frame_path_does_not_allocate_after_warm_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut hot = hot_path(Some(dir.path()));
        let ticks = generate_ticks(1000);
        hot.warm_up(&warmup_candles(
            &ticks,
            SymbolId(0),
            TimestampNs(START_MS * 1_000_000),
            300,
        ));
        let plan = FramePlan::for_order_share(0.05, 2, START_MS);
        let mut builder = FrameBuilder::new();
        let frames: Vec<Vec<u8>> = (0..400).map(|f| builder.gzip(&ticks, &plan, f)).collect();
        let run = |range: std::ops::Range<usize>, hot: &mut HotPath| {
            let mut allocations = 0;
            for frame in &frames[range] {
                let info = allocation_counter::measure(|| {
                    // The frame whose first trade ends the partly seen
                    // first live minute only queues its trades (fed by
                    // answer_orders once the minute's candle is answered).
                    match hot.on_frame(frame) {
                        Ok(_) | Err(FrameError::NoTrades) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                });
                allocations += info.count_total;
                hot.answer_orders();
            }
            allocations
        };
        run(0..200, &mut hot);
        let trades_before = hot.engine().counters().trades;
        assert_eq!(run(200..400, &mut hot), 0);
        // Every trade of the measured frames reached the core.
        let fed = hot.engine().counters().trades - trades_before;
        assert!(fed >= 200, "{fed}");
        assert!(hot.stats().commands >= 19);
    }
}
