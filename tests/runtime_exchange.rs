//! The live runtime's exchange-facing extras against the BingX simulator on
//! 127.0.0.1: the cancel-all-after dead-man switch the service thread keeps
//! armed, and the Binance market-data feed (`market.feed = "binance"`)
//! served by a local WebSocket server. Each run stops by itself and is
//! bounded in time.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::time::{Duration, Instant};

use trading_engine::config::Mode;
use util::live::{options, run_in_background, start_sim};

#[test]
fn live_mode_arms_the_dead_man_switch_refreshes_it_periodically_and_disarms_it_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::Live, 10);
    // The shortest time-out BingX accepts: refreshed every 10 / 3 = 3 s.
    o.config.exchange.cancel_all_after_secs = 10;
    let handle = run_in_background(o);
    let mut deadlines = Vec::new();
    let start = Instant::now();
    while !handle.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "run did not stop"
        );
        let d = sim.dead_man();
        if let Some(at) = d.deadline_ms {
            if deadlines.last() != Some(&at) {
                deadlines.push(at);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = handle.join().unwrap();
    let seen = sim.dead_man();
    assert!(
        seen.activations >= 3,
        "armed at start and refreshed at least twice in 10 s: {seen:?}"
    );
    assert_eq!(seen.activations, report.service.dead_man_refreshes);
    assert_eq!(seen.last_timeout, 10);
    // Disarmed twice: at start-up, before the rebuilt positions' stops are
    // checked (a timer left by a previous life must not fire in between;
    // issue 19), and at shutdown.
    assert_eq!(
        seen.closes, 2,
        "disarmed at start-up and at shutdown: {seen:?}"
    );
    assert_eq!(seen.deadline_ms, None, "nothing left armed after the run");
    assert_eq!(seen.fired, 0, "the refreshes kept the timer from firing");
    assert!(deadlines.len() >= 2, "the deadline moved: {deadlines:?}");
    assert!(
        deadlines.windows(2).all(|w| w[1] > w[0]),
        "every refresh pushes the deadline later: {deadlines:?}"
    );
}

#[test]
fn a_dead_man_time_out_of_zero_never_touches_the_cancel_all_after_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::Live, 4);
    o.config.exchange.cancel_all_after_secs = 0;
    let report = run_in_background(o).join().unwrap();
    assert!(report.hot.counters.trades > 0, "the run saw the market");
    assert_eq!(report.service.dead_man_refreshes, 0);
    assert_eq!(sim.dead_man(), bingx_sim::DeadManState::default());
}

/// Market data from Binance (`market.feed = "binance"`): the run builds
/// the combined-stream URL and the Binance decoder; a loopback server
/// serves aggTrade frames over 3 market minutes while the BingX simulator
/// answers REST. Every trade reaches the core (journaled inputs) and the
/// candles close: the scripted strategy signals on every closed 1m candle
/// with its close.
#[test]
fn a_binance_market_feed_reaches_the_core_and_closes_candles() {
    use trading_engine::config::FeedSource;
    use trading_engine::core::{Action, Event, Record};
    use trading_engine::strategy::{MarketView, Signal, Strategy};
    use trading_engine::types::{Price, NS_PER_MS};
    use util::binance_ws::{AggTrade, BinanceWs};

    #[derive(Debug)]
    struct EveryCandle;
    impl Strategy for EveryCandle {
        fn name(&self) -> &'static str {
            "every_candle"
        }
        fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
            Some(util::live::long_at_close(v, 100.0))
        }
    }
    fn every_candle(_: &trading_engine::strategy::StrategiesConfig) -> Vec<Box<dyn Strategy>> {
        vec![Box::new(EveryCandle)]
    }

    // Four minutes from the next whole minute: 6 trades a minute, the last
    // price of minute k is 60 000 + 10 k; the fourth minute stays open.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let m0 = (now_ms / 60_000 + 1) * 60_000;
    let mut trades = Vec::new();
    for minute in 0..4i64 {
        for k in 0..6i64 {
            let price = 60_000 + 10 * minute - if k < 5 { 3 } else { 0 };
            trades.push(AggTrade {
                time_ms: m0 + minute * 60_000 + k * 10_000,
                price: format!("{price}.00"),
                qty: "0.010".into(),
            });
        }
    }
    let binance = BinanceWs::start("BTCUSDT", trades.clone(), Duration::from_millis(20));

    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::DryRun, 4);
    o.strategies = Some(every_candle);
    o.config.market.feed = FeedSource::Binance;
    o.config.exchange.binance_ws_url = binance.base_url.clone();
    o.warmup_candles = 0;
    o.time_scale = 1.0;
    let report = run_in_background(o).join().unwrap();

    assert_eq!(
        binance.targets(),
        vec!["/stream?streams=btcusdt@aggTrade".to_owned()]
    );
    assert_eq!(report.hot.counters.trades, trades.len() as u64);
    let j = util::live::read_journal(report.journal_dir.as_ref().unwrap());
    let journaled: Vec<(i64, Price)> = j
        .inputs
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some((t.exchange_ts.0 / NS_PER_MS, t.price)),
            _ => None,
        })
        .collect();
    let sent: Vec<(i64, Price)> = trades
        .iter()
        .map(|t| {
            (
                t.time_ms,
                Price::from_f64(t.price.parse().unwrap()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        journaled, sent,
        "every trade journaled as an input, in order"
    );
    let closes: Vec<(i64, f64)> = j
        .outputs
        .iter()
        .filter_map(|a| match a {
            Action::Record(Record::Signal(s)) => Some((s.ts.0 / NS_PER_MS, s.price.to_f64())),
            _ => None,
        })
        .collect();
    assert_eq!(
        closes,
        vec![
            (m0 + 60_000, 60_000.0),
            (m0 + 120_000, 60_010.0),
            (m0 + 180_000, 60_020.0)
        ],
        "one closed candle per complete minute, with its last price"
    );
}
