//! The engine's gap handling driven by hand (no socket, no service
//! thread): warm-up, live trades, an outage, the backfill request and the
//! candles answering it, with a paper venue and a journal.

use std::path::Path;

use ringbuf::spsc::{Consumer, Producer};

use super::super::{Engine, EngineParts, MarketStatus, Venue};
use crate::clock::{Clock, ManualClock};
use crate::config::Config;
use crate::core::{Action, Core, Event, Record};
use crate::feed::MarketEvent;
use crate::fill_model::{FillModel, MarketFill};
use crate::journal_schema::{JournalRecord, RefusalReason, ReplaceCause};
use crate::metrics::handoff::{latency_channel, LatencyCollector};
use crate::runtime::msg::{FromHot, ToHot};
use crate::runtime::timed::Stamped;
use crate::strategy::{MarketView, Signal, Strategy, StrategyId};
use crate::types::{
    Candle, DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs, Trade,
    NS_PER_MIN, NS_PER_SEC,
};

/// Minute 0 of the scenario, ns.
const T0: i64 = 1_700_000_040 * NS_PER_SEC;

/// Long on a closed candle at 60 100 (the path's signal minute only).
#[derive(Debug)]
struct OnSignalMinute;

impl Strategy for OnSignalMinute {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        (v.c1.close.to_f64() > 60_050.0).then(|| Signal {
            strategy: StrategyId(0),
            symbol: v.symbol,
            side: Side::Buy,
            confidence: 1.0,
            price: v.c1.close,
            atr: 50.0,
            stop_distance: 100.0,
            target_distance: 800.0,
            ts: v.c1.open_time.add_ns(NS_PER_MIN),
        })
    }
}

fn rules() -> InstrumentRules {
    InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step: DecimalStep::from_precision(4),
        min_qty: Qty::from_decimal(1, 4).unwrap(),
        min_notional: Price::from_decimal(2, 0).unwrap(),
    }
}

fn at(minute: i64, secs: i64) -> TimestampNs {
    TimestampNs(T0 + minute * NS_PER_MIN + secs * NS_PER_SEC)
}

fn candle(minute: i64, close: f64) -> Candle {
    let px = |v: f64| Price::from_f64(v).unwrap();
    Candle {
        symbol: SymbolId(0),
        open_time: at(minute, 0),
        open: px(60_000.0),
        high: px(close.max(60_000.0)),
        low: px(close.min(60_000.0)),
        close: px(close),
        volume: Qty::from_decimal(1, 0).unwrap(),
        trade_count: 0,
    }
}

struct Harness {
    engine: Engine<&'static ManualClock>,
    from_hot: Consumer<FromHot>,
    to_hot: Producer<ToHot>,
    _latency: LatencyCollector,
    /// The engine's clock: the scenarios move it by hand.
    clock: &'static ManualClock,
    next_id: u64,
}

impl Harness {
    /// A paper engine journaling into `dir`, warmed up on minutes 0..20.
    fn new(dir: &Path) -> Self {
        Self::with_time_scale(dir, 1.0)
    }

    /// Like [`new`](Self::new) with market time running `scale` times
    /// faster than wall time between events (clock ticks).
    fn with_time_scale(dir: &Path, scale: f64) -> Self {
        let mut cfg = Config::default();
        cfg.market.symbols = vec!["BTC-USDT".into()];
        let core =
            Core::try_with_strategies(&cfg, &[rules()], vec![Box::new(OnSignalMinute)]).unwrap();
        let (recorder, collector) = latency_channel(
            cfg.latency.histogram_max_ns,
            cfg.latency.histogram_sigfig,
            4,
        )
        .unwrap();
        let (to_hot, inbox) = ringbuf::spsc::channel(1024);
        let (out, from_hot) = ringbuf::spsc::channel(8192);
        let journal = journal::Writer::open(
            dir,
            journal::WriterOptions {
                durability: journal::Durability::None,
                ..journal::WriterOptions::default()
            },
        )
        .unwrap();
        // Leaked: one small clock per scenario, shared with the engine.
        let clock: &'static ManualClock = Box::leak(Box::new(ManualClock::new(at(20, 0))));
        // The service end is dropped: these scenarios send no reload.
        let (_, reloads) = crate::runtime::reload::reload_channel();
        let mut engine = Engine::new(EngineParts {
            core,
            venue: Venue::Paper(Box::new(FillModel::new(
                &cfg.simulator,
                1,
                MarketFill::NextTrade,
            ))),
            journal: Some(journal),
            latency: recorder,
            out,
            inbox,
            clock,
            prefix: "te-".into(),
            time_scale: scale,
            start_ts: at(20, 0),
            symbols: 1,
            reloads,
        });
        let warm: Vec<Candle> = (0..20).map(|m| candle(m, 60_000.0)).collect();
        engine.warm_up(&warm);
        Self {
            engine,
            from_hot,
            to_hot,
            _latency: collector,
            clock,
            next_id: 1,
        }
    }

    fn trade(&mut self, ts: TimestampNs, price: f64) {
        let t = Trade {
            symbol: SymbolId(0),
            trade_id: self.next_id,
            price: Price::from_f64(price).unwrap(),
            qty: Qty::from_decimal(1, 2).unwrap(),
            exchange_ts: ts,
            aggressor: Side::Buy,
        };
        self.next_id += 1;
        self.engine.on_market(&Stamped {
            event: MarketEvent::Trade(t),
            recv_mono: self.clock.mono_ns(),
            parse_ns: 0,
            last_in_frame: true,
        });
    }

    /// Returns the backfill requests waiting (other messages dropped).
    fn requests(&mut self) -> Vec<(TimestampNs, TimestampNs)> {
        let mut out = Vec::new();
        while let Some(m) = self.from_hot.pop() {
            if let FromHot::Backfill { from, to, .. } = m {
                out.push((from, to));
            }
        }
        out
    }

    /// Answers a backfill request with `candles` like the service thread.
    fn answer(&mut self, from: TimestampNs, to: TimestampNs, candles: &[Candle]) {
        for c in candles {
            assert!(self.to_hot.push(ToHot::BackfillCandle(*c)).is_ok());
        }
        let done = ToHot::BackfillDone {
            symbol: SymbolId(0),
            from,
            to,
            candles: u32::try_from(candles.len()).unwrap(),
        };
        assert!(self.to_hot.push(done).is_ok());
        self.engine.poll_inbox();
    }

    /// Live from minute 20, then an outage after 20:50 that ends with a
    /// trade at `resume`; the gap's candles have the signal close (60 100)
    /// in minute 22. Returns the backfill window asked for.
    fn gap_with_signal_in_minute_22(&mut self, resume: TimestampNs) -> (TimestampNs, TimestampNs) {
        for s in [10, 30, 50] {
            self.trade(at(20, s), 60_000.0);
        }
        assert!(self.requests().is_empty(), "no minute missing yet");
        self.engine.on_market_status(MarketStatus::Outage {
            from: at(20, 55),
            to: resume,
        });
        self.trade(resume, 60_000.0);
        let reqs = self.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        let (from, to) = reqs[0];
        let last = TimestampNs(resume.0.div_euclid(NS_PER_MIN) * NS_PER_MIN - NS_PER_MIN);
        let candles: Vec<Candle> = (20..)
            .map(|m| candle(m, if m == 22 { 60_100.0 } else { 60_000.0 }))
            .take_while(|c| c.open_time <= last)
            .collect();
        self.answer(from, to, &candles);
        (from, to)
    }

    fn finish(self) {
        drop(self.engine);
    }
}

fn journal_of(dir: &Path) -> Vec<(u16, Vec<u8>)> {
    let mut r = journal::Reader::open(dir).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        out.push((rec.type_tag, rec.payload.to_vec()));
    }
    out
}

#[test]
fn an_entry_decided_on_a_stale_backfilled_candle_is_refused_and_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    // The gap ends at 25:10: minute 22's candle closed 130 s earlier,
    // beyond risk.stale_data_secs (30 s).
    let (from, to) = h.gap_with_signal_in_minute_22(at(25, 10));
    assert_eq!(
        (from, to),
        (at(20, 0), at(24, 0)),
        "the partly seen minute 20 comes back with the gap"
    );
    h.trade(at(25, 20), 60_000.0);
    assert_eq!(h.engine.counters().orders, 0, "nothing reached the venue");
    assert!(h.engine.core.position(SymbolId(0)).is_none());
    h.finish();

    let records = journal_of(dir.path());
    let decoded: Vec<JournalRecord<'_>> = records
        .iter()
        .map(|(tag, p)| JournalRecord::decode(*tag, p).unwrap())
        .collect();
    let refused: Vec<_> = decoded
        .iter()
        .enumerate()
        .filter_map(|(k, r)| match r {
            JournalRecord::OrderRefused {
                order,
                reason,
                data_ts,
                ts,
                ..
            } => Some((k, *order, *reason, *data_ts, *ts)),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{decoded:?}");
    let (k, order, reason, data_ts, ts) = refused[0];
    assert_eq!(reason, RefusalReason::StaleCandle);
    assert_eq!(data_ts, at(23, 0), "decided on minute 22's close");
    assert_eq!(ts, at(25, 10), "refused at the market time the gap ended");
    // The decision (signal, entry intent) and the core's view of the
    // refusal (a rejected input) are journaled around it.
    let rest = &decoded[k..];
    assert!(rest.iter().any(|r| matches!(
        r,
        JournalRecord::Output(Action::Place(o)) if o.id == order
    )));
    assert!(rest.iter().any(|r| matches!(
        r,
        JournalRecord::Input(Event::Rejected { order: o, .. }) if *o == order
    )));
    assert!(decoded
        .iter()
        .any(|r| matches!(r, JournalRecord::Output(Action::Record(Record::Signal(_))))));
}

#[test]
fn an_entry_decided_on_a_fresh_backfilled_candle_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    // The gap ends at 23:10: minute 22's candle closed 10 s earlier.
    h.gap_with_signal_in_minute_22(at(23, 10));
    h.trade(at(23, 20), 60_100.0);
    // The entry, then its protection once filled.
    assert!(
        h.engine.counters().orders >= 1,
        "the entry reached the venue"
    );
    assert!(
        h.engine.counters().fills >= 1,
        "and the paper venue filled it"
    );
    assert!(h.engine.core.position(SymbolId(0)).is_some());
    h.finish();
    let refusals = journal_of(dir.path())
        .iter()
        .filter(|(tag, _)| *tag == crate::journal_schema::tags::ORDER_REFUSED)
        .count();
    assert_eq!(refusals, 0);
}

#[test]
fn the_partly_seen_first_live_minute_is_replaced_by_its_rest_candle() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    h.trade(at(20, 40), 60_000.0);
    h.trade(at(20, 50), 60_000.0);
    assert!(h.requests().is_empty());
    // The first trade of minute 21 asks for minute 20 and waits for it.
    h.trade(at(21, 0), 60_000.0);
    assert_eq!(h.requests(), vec![(at(20, 0), at(20, 0))]);
    let trades_before = h.engine.counters().trades;
    let mut full = candle(20, 60_000.0);
    full.high = Price::from_f64(60_080.0).unwrap();
    h.answer(at(20, 0), at(20, 0), &[full]);
    assert_eq!(h.engine.counters().backfilled_candles, 1);
    assert_eq!(
        h.engine.counters().trades,
        trades_before + 1,
        "the held trade followed the candle"
    );
    // Later minutes close from trades alone.
    h.trade(at(22, 0), 60_000.0);
    assert!(h.requests().is_empty());
    h.finish();
    let candles: Vec<Candle> = journal_of(dir.path())
        .iter()
        .filter_map(|(tag, p)| match JournalRecord::decode(*tag, p).unwrap() {
            JournalRecord::Input(Event::Candle(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(candles.len(), 21, "20 warm-up candles and the replacement");
    assert_eq!(candles[20], full);
}

fn inputs_of(dir: &Path) -> Vec<Event> {
    journal_of(dir)
        .iter()
        .filter_map(|(tag, p)| match JournalRecord::decode(*tag, p).unwrap() {
            JournalRecord::Input(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn a_clock_tick_past_the_partly_seen_minute_fetches_its_candle_instead_of_closing_it() {
    let dir = tempfile::tempdir().unwrap();
    // A million times faster: any wall time between the last trade and a
    // tick is minutes of market time.
    let mut h = Harness::with_time_scale(dir.path(), 1e6);
    h.trade(at(20, 40), 60_000.0);
    h.trade(at(20, 50), 60_000.0);
    // 1 ms of wall time: minutes of market time at this scale.
    h.clock.advance(1_000_000);
    h.engine.tick();
    let reqs = h.requests();
    assert_eq!(reqs, vec![(at(20, 0), at(20, 0))]);
    h.engine.tick();
    assert!(h.requests().is_empty(), "one request, ticks wait for it");
    let full = candle(20, 60_010.0);
    h.answer(at(20, 0), at(20, 0), &[full]);
    h.engine.tick();
    h.finish();
    let inputs = inputs_of(dir.path());
    let live: Vec<&Event> = inputs
        .iter()
        .skip_while(|e| !matches!(e, Event::Trade(_)))
        .collect();
    assert!(
        matches!(live.as_slice(), [Event::Trade(_), Event::Trade(_), Event::Candle(c), Event::Clock(_)] if *c == full),
        "no tick before the replacement candle: {live:?}"
    );
}

#[test]
fn no_clock_tick_reaches_the_core_while_the_feed_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::with_time_scale(dir.path(), 1e6);
    h.trade(at(20, 10), 60_000.0);
    h.trade(at(21, 0), 60_000.0);
    h.answer(at(20, 0), at(20, 0), &[candle(20, 60_000.0)]);
    h.engine.on_market_status(MarketStatus::Disconnected(
        crate::io::ws::DisconnectReason::Silent,
    ));
    h.clock.advance(1_000_000);
    h.engine.tick();
    h.engine.tick();
    h.finish();
    let clocks = inputs_of(dir.path())
        .iter()
        .filter(|e| matches!(e, Event::Clock(_)))
        .count();
    assert_eq!(
        clocks, 0,
        "a tick would close minutes still to be backfilled"
    );
}

/// The `candle_replaced` records of the journal in `dir`: (local, REST, cause).
fn replaced_of(dir: &Path) -> Vec<(Candle, Candle, ReplaceCause)> {
    journal_of(dir)
        .iter()
        .filter_map(|(tag, p)| match JournalRecord::decode(*tag, p).unwrap() {
            JournalRecord::CandleReplaced {
                local, rest, cause, ..
            } => Some((local, rest, cause)),
            _ => None,
        })
        .collect()
}

/// Live from minute 20 with its REST candle in (minute 21 open, one trade).
fn live_past_first_minute(h: &mut Harness) {
    h.trade(at(20, 40), 60_000.0);
    h.trade(at(21, 0), 60_000.0);
    assert_eq!(h.requests(), vec![(at(20, 0), at(20, 0))]);
    h.answer(at(20, 0), at(20, 0), &[candle(20, 60_000.0)]);
}

#[test]
fn a_malformed_message_inside_a_minute_gets_that_minute_replaced_by_its_rest_candle() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    live_past_first_minute(&mut h);
    h.trade(at(21, 10), 60_010.0);
    h.engine.on_market_lost();
    h.trade(at(21, 30), 60_020.0);
    assert!(h.requests().is_empty(), "the minute is still open");
    // The first trade past minute 21 asks for it and waits.
    h.trade(at(22, 5), 60_000.0);
    assert_eq!(h.requests(), vec![(at(21, 0), at(21, 0))]);
    let rest = candle(21, 60_040.0);
    h.answer(at(21, 0), at(21, 0), &[rest]);
    assert_eq!(h.engine.counters().lost_messages, 1);
    assert_eq!(h.engine.counters().replaced_candles, 2);
    h.finish();
    let replaced = replaced_of(dir.path());
    assert_eq!(replaced.len(), 2, "{replaced:?}");
    assert_eq!(replaced[0].2, ReplaceCause::FirstLive);
    let (local, got, cause) = replaced[1];
    assert_eq!(cause, ReplaceCause::Malformed);
    assert_eq!(got, rest);
    assert_eq!(local.open_time, at(21, 0));
    assert_eq!(
        local.trade_count, 3,
        "the trades received: 21:00, 21:10, 21:30"
    );
    assert_eq!(local.close, Price::from_f64(60_020.0).unwrap());
    // The core saw the REST candle, never the one built from trades.
    let candles: Vec<Candle> = inputs_of(dir.path())
        .into_iter()
        .filter_map(|e| match e {
            Event::Candle(c) if c.open_time == at(21, 0) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(candles, vec![rest]);
}

#[test]
fn a_malformed_message_before_a_later_minute_backfills_from_the_last_trades_minute() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    live_past_first_minute(&mut h);
    h.trade(at(21, 10), 60_010.0);
    h.engine.on_market_lost();
    // The lost message may have held the rest of minute 21, all of 22 and
    // the start of 23.
    h.trade(at(23, 5), 60_000.0);
    assert_eq!(h.requests(), vec![(at(21, 0), at(22, 0))]);
    h.answer(
        at(21, 0),
        at(22, 0),
        &[candle(21, 60_030.0), candle(22, 60_020.0)],
    );
    assert_eq!(h.engine.counters().backfilled_candles, 3);
    // Minute 23 was partly seen: its REST candle replaces it too.
    h.trade(at(24, 1), 60_000.0);
    assert_eq!(h.requests(), vec![(at(23, 0), at(23, 0))]);
    h.answer(at(23, 0), at(23, 0), &[candle(23, 60_000.0)]);
    h.finish();
    let causes: Vec<ReplaceCause> = replaced_of(dir.path()).iter().map(|r| r.2).collect();
    assert_eq!(
        causes,
        [
            ReplaceCause::FirstLive,
            ReplaceCause::Malformed,
            ReplaceCause::Malformed
        ]
    );
}

#[test]
fn a_malformed_message_while_trades_are_held_is_applied_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    h.trade(at(20, 40), 60_000.0);
    h.trade(at(21, 0), 60_000.0);
    assert_eq!(h.requests(), vec![(at(20, 0), at(20, 0))]);
    // Held while minute 20's candle is fetched: 21:00, 21:10, a loss, 22:05.
    h.trade(at(21, 10), 60_000.0);
    h.engine.on_market_lost();
    h.trade(at(22, 5), 60_000.0);
    h.answer(at(20, 0), at(20, 0), &[candle(20, 60_000.0)]);
    // The release feeds 21:00 and 21:10, then meets the loss: 22:05 asks
    // for minute 21 (the last trade's, distrusted) before it is fed.
    assert_eq!(h.requests(), vec![(at(21, 0), at(21, 0))]);
    let trades = h.engine.counters().trades;
    h.answer(at(21, 0), at(21, 0), &[candle(21, 60_000.0)]);
    assert_eq!(h.engine.counters().trades, trades + 1, "22:05 followed");
    h.finish();
    let causes: Vec<ReplaceCause> = replaced_of(dir.path()).iter().map(|r| r.2).collect();
    assert_eq!(causes, [ReplaceCause::FirstLive, ReplaceCause::Malformed]);
}

#[test]
fn a_reconnect_gets_the_minute_of_the_last_trade_before_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path());
    live_past_first_minute(&mut h);
    h.trade(at(21, 10), 60_010.0);
    h.engine.on_market_status(MarketStatus::Disconnected(
        crate::io::ws::DisconnectReason::Silent,
    ));
    h.engine.on_market_status(MarketStatus::Outage {
        from: at(21, 12),
        to: at(23, 5),
    });
    h.trade(at(23, 5), 60_000.0);
    assert_eq!(h.requests(), vec![(at(21, 0), at(22, 0))]);
    h.answer(
        at(21, 0),
        at(22, 0),
        &[candle(21, 60_030.0), candle(22, 60_020.0)],
    );
    h.finish();
    let replaced = replaced_of(dir.path());
    assert_eq!(replaced.len(), 2, "{replaced:?}");
    assert_eq!(replaced[1].2, ReplaceCause::Reconnect);
    assert_eq!(replaced[1].1, candle(21, 60_030.0));
}
