//! Issue 19, repro 5: candles that are right. The engine runs against the
//! BingX simulator sending 1 % of its market frames malformed and dropping
//! the market connection every few seconds (frames in flight are lost);
//! every 1m candle the strategies saw — rebuilt from the journal's inputs
//! exactly as the core builds them — must equal the simulator's own candle
//! of that minute (its REST kline, aggregated from the trades it sent).

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::collections::BTreeMap;
use std::time::Duration;

use bingx_sim::{FaultConfig, SimConfig, Simulator, Speed};
use trading_engine::candles::{CandleBuilder, CandleEvent, DEFAULT_GRACE_NS};
use trading_engine::config::Mode;
use trading_engine::core::Event;
use trading_engine::io::rest_market::KlineInterval;
use trading_engine::journal_schema::{JournalRecord, ReplaceCause};
use trading_engine::types::{Candle, SymbolId, NS_PER_MIN, NS_PER_MS};

use util::live::*;

/// Market time per wall time: ten market minutes per second.
const FAST: f64 = 600.0;
/// Largest volume difference that is rounding, not a lost trade.
const VOLUME_EPS: f64 = 1e-6;

/// The closed 1m candles the core built from the journal's inputs (trades,
/// REST candles, clock ticks), after the first live trade.
fn candles_seen(inputs: &[Event]) -> Vec<Candle> {
    let mut b = CandleBuilder::new(SymbolId(0), DEFAULT_GRACE_NS);
    let mut out = Vec::new();
    let mut live = false;
    for e in inputs {
        live |= matches!(e, Event::Trade(_));
        let mut push = |ev: CandleEvent| {
            if let CandleEvent::Closed1m(c) = ev {
                out.push((live, c));
            }
        };
        match e {
            Event::Trade(t) => b.on_trade(t, &mut push),
            Event::Candle(c) => b.on_closed_1m(c, &mut push),
            Event::Clock(now) => b.on_clock(*now, &mut push),
            _ => {}
        }
    }
    // Warm-up candles are REST candles; only what live data built counts.
    out.into_iter()
        .filter(|(live, _)| *live)
        .map(|(_, c)| c)
        .collect()
}

#[test]
fn malformed_and_dropped_frames_never_reach_the_strategies_as_wrong_candles() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(SimConfig {
        speed: Speed::Times(FAST),
        seed: 19,
        warmup_minutes: 120,
        faults: FaultConfig {
            malformed_rate: 0.01,
            drop_ws_every_ms: Some(3_000),
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    })
    .unwrap();
    let mut o = options(&sim, dir.path(), Mode::DryRun, 12);
    o.time_scale = FAST;
    o.ws = Some(trading_engine::io::ws::WsConfig {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(300),
        ..Default::default()
    });
    let report = run_in_background(o).join().unwrap();
    let c = report.hot.counters;
    assert!(c.lost_messages >= 5, "malformed frames seen: {c:?}");
    assert!(
        report.hot.ws.connects >= 3,
        "reconnects: {:?}",
        report.hot.ws
    );
    assert!(c.replaced_candles >= 3, "replaced candles: {c:?}");

    let journal = report.journal_dir.clone().unwrap();
    let mut inputs = Vec::new();
    let mut causes = BTreeMap::new();
    let mut reader = journal::Reader::open(&journal).unwrap();
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        match JournalRecord::decode(rec.type_tag, rec.payload).unwrap() {
            JournalRecord::Input(e) => inputs.push(e),
            JournalRecord::CandleReplaced {
                local, rest, cause, ..
            } => {
                assert_eq!(local.open_time, rest.open_time);
                *causes.entry(cause.as_str()).or_insert(0) += 1;
            }
            _ => {}
        }
    }
    assert!(
        causes.contains_key(ReplaceCause::Malformed.as_str())
            && causes.contains_key(ReplaceCause::Reconnect.as_str()),
        "both causes journaled: {causes:?}"
    );

    let seen = candles_seen(&inputs);
    assert!(seen.len() >= 60, "only {} live minutes", seen.len());
    let from_ms = seen.first().unwrap().open_time.0 / NS_PER_MS;
    let to_ms = seen.last().unwrap().open_time.0 / NS_PER_MS;
    let mut rest = sim_rest(&sim);
    let source: BTreeMap<i64, _> = rest
        .klines_range("BTC-USDT", KlineInterval::M1, from_ms, to_ms)
        .unwrap()
        .into_iter()
        .map(|k| (k.open_time_ms, k))
        .collect();
    let mut wrong = Vec::new();
    for c in &seen {
        let Some(k) = source.get(&(c.open_time.0 / NS_PER_MS)) else {
            wrong.push(format!("{}: no source candle", c.open_time.0 / NS_PER_MIN));
            continue;
        };
        let got = (c.open, c.high, c.low, c.close);
        let want = (k.open, k.high, k.low, k.close);
        // Quantities are binary fixed point: a sum of decimal trade sizes
        // carries ~1e-11 of rounding per trade, while a lost trade is at
        // least one step (0.0001).
        let volume_off = (c.volume.to_f64() - k.volume.to_f64()).abs();
        if got != want || volume_off > VOLUME_EPS {
            wrong.push(format!(
                "minute {}: saw {got:?} volume {:?}, source {want:?} volume {:?}",
                c.open_time.0 / NS_PER_MIN,
                c.volume,
                k.volume
            ));
        }
    }
    println!(
        "{} live minutes checked, {} differ; {} malformed messages, {} reconnects, {} candles replaced ({causes:?})",
        seen.len(),
        wrong.len(),
        c.lost_messages,
        report.hot.ws.connects.saturating_sub(1),
        c.replaced_candles
    );
    assert!(
        wrong.is_empty(),
        "{} of {} minutes differ from the source: {wrong:#?}",
        wrong.len(),
        seen.len()
    );
    replay_complete(&journal);
}
