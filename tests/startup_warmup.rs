//! Indicator warm-up and gap backfill (`runtime::startup::warmup`) against
//! the loopback BingX simulator's kline history: the right count, in order,
//! 5-minute aligned, without the still-open minute; a backfill returns
//! exactly the missing closed minutes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use bingx_sim::{now_ms, SimConfig, SimHandle, Simulator, Speed};
use std::time::Duration;
use trading_engine::config::Config;
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::ws::OutageWindow;
use trading_engine::runtime::startup::warmup::{
    backfill_range, fetch_backfill, fetch_warmup, fetch_warmup_all, warmup_minutes,
    FIVE_MINUTES_MS, MINUTE_MS,
};
use trading_engine::types::{Candle, SymbolId, TimestampNs};

const BTC: SymbolId = SymbolId(0);

fn sim(minutes: u32) -> SimHandle {
    Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: minutes,
        ..SimConfig::default()
    })
    .unwrap()
}

fn client(sim: &SimHandle) -> RestClient {
    let mut cfg = RestConfig::new(&sim.rest_base(), "sim-key", "sim-secret");
    cfg.http.request_timeout = Duration::from_secs(5);
    let mut c = RestClient::try_new(cfg).unwrap();
    c.sync_time().unwrap();
    c.load_symbols(&["BTC-USDT"]).unwrap();
    c
}

fn assert_strictly_ordered_minutes(candles: &[Candle]) {
    for pair in candles.windows(2) {
        assert!(
            pair[0].open_time < pair[1].open_time,
            "ordered, no duplicates"
        );
    }
    assert!(candles.iter().all(|c| c.open_time.as_ms() % MINUTE_MS == 0));
}

#[test]
fn warmup_returns_enough_ordered_aligned_closed_candles() {
    let sim = sim(1600);
    let mut rest = client(&sim);
    let cfg = Config::default();
    let minutes = warmup_minutes(&cfg);
    let now = now_ms();
    let candles = fetch_warmup(&mut rest, BTC, minutes, now).unwrap();
    assert_strictly_ordered_minutes(&candles);
    let first = candles.first().unwrap().open_time.as_ms();
    let last = candles.last().unwrap().open_time.as_ms();
    assert_eq!(first % FIVE_MINUTES_MS, 0, "starts on a 5m boundary");
    assert!(last + MINUTE_MS <= now, "the still-open minute is excluded");
    assert_eq!(
        last,
        (now / MINUTE_MS) * MINUTE_MS - MINUTE_MS,
        "ends at the last closed minute"
    );
    // The generated market trades every minute, so every minute is there.
    let span = (last - first) / MINUTE_MS + 1;
    assert_eq!(candles.len() as i64, span);
    assert!(
        candles.len() >= minutes as usize,
        "{} < {minutes}",
        candles.len()
    );
    assert!(candles.iter().all(|c| c.symbol == BTC && c.low <= c.high));

    let all = fetch_warmup_all(&mut rest, &cfg, now).unwrap();
    assert_eq!(all, candles, "one symbol: the same sequence");

    // More than one request holds (1440): pages join without gaps or repeats.
    let long = fetch_warmup(&mut rest, BTC, 1500, now).unwrap();
    assert_strictly_ordered_minutes(&long);
    assert!(long.len() >= 1500, "{}", long.len());
    assert_eq!(long.last(), candles.last());
}

#[test]
fn backfill_returns_exactly_the_missing_closed_minutes() {
    let sim = sim(120);
    let mut rest = client(&sim);
    let now = now_ms();
    let minute = |i: i64| (now / MINUTE_MS - i) * MINUTE_MS;
    // Lost 40 s into the minute 30 minutes ago, back 5 s into the minute 10
    // minutes ago; the core closed the minute of the loss from its trades.
    let window = OutageWindow {
        from: TimestampNs::from_ms(minute(30) + 40_000),
        to: TimestampNs::from_ms(minute(10) + 5_000),
    };
    let have = Some(TimestampNs::from_ms(minute(30)));
    let got = fetch_backfill(&mut rest, BTC, window, have, now).unwrap();
    let opens: Vec<i64> = got.iter().map(|c| c.open_time.as_ms()).collect();
    let want: Vec<i64> = (11..=29).rev().map(minute).collect();
    assert_eq!(opens, want);

    // A window reaching the present: every closed minute, never the open one.
    let window = OutageWindow {
        from: TimestampNs::from_ms(minute(3) + 1_000),
        to: TimestampNs::from_ms(now + MINUTE_MS),
    };
    let got = fetch_backfill(&mut rest, BTC, window, None, now).unwrap();
    let opens: Vec<i64> = got.iter().map(|c| c.open_time.as_ms()).collect();
    assert_eq!(opens, vec![minute(3), minute(2), minute(1)]);
    assert_eq!(
        backfill_range(window, None, now),
        Some((minute(3), minute(1)))
    );

    // Nothing missing: no request result.
    let have_all = Some(TimestampNs::from_ms(minute(1)));
    assert!(fetch_backfill(&mut rest, BTC, window, have_all, now)
        .unwrap()
        .is_empty());
}

#[test]
fn unknown_symbol_id_is_refused() {
    let sim = sim(10);
    let mut rest = client(&sim);
    let err = fetch_warmup(&mut rest, SymbolId(7), 10, now_ms()).unwrap_err();
    assert!(err.to_string().contains("symbol id 7"), "{err}");
}
