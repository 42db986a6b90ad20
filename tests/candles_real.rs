//! Candles built from real trades files.
//!
//! The spot BTCUSDT trades of 2024-08-08 23:54 to 00:05 (shared data README
//! §6) were checked by the data's curator to equal Binance spot 1m klines on
//! the 10 complete minutes 23:55..00:04; those klines (a freqtrade download)
//! are not in the shared data set. The independent source available here is
//! the raw websocket capture the CSV was taken from (`ws/`, `@trade`
//! messages): candles built through the reader and the builder must equal a
//! naive group-by of the capture's trades, exactly, on every minute.

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};

use bingx_sim::testdata::shared_file;
use trading_engine::candles::{CandleBuilder, CandleEvent, DEFAULT_GRACE_NS};
use trading_engine::datafile::{DataFile, Record};
use trading_engine::types::{Candle, Price, Qty, SymbolId, TimestampNs, NS_PER_MIN};

const SYM: SymbolId = SymbolId(2);
const SPOT_TRADES: &str = "binance-spot-BTCUSDT-aggTrades-2024-08-08T23-54_2024-08-09T00-05.csv";
const SPOT_WS: [&str; 2] = [
    "ws/binance-spot-BTCUSDT-ws-2024-08-08T23-54_2024-08-09T00-00.jsonl.gz",
    "ws/binance-spot-BTCUSDT-ws-2024-08-09T00-00_2024-08-09T00-05.jsonl.gz",
];
/// 2024-08-08 23:54 UTC.
const FIRST_MINUTE_MS: i64 = 1_723_161_240_000;

/// Runs a trades file through the builder; returns (1m, 5m, gap events, builder).
fn build(name: &str) -> Option<(Vec<Candle>, Vec<Candle>, usize, CandleBuilder)> {
    let path = shared_file(name)?;
    let mut builder = CandleBuilder::new(SYM, DEFAULT_GRACE_NS);
    let (mut ones, mut fives, mut gaps) = (Vec::new(), Vec::new(), 0);
    let mut on_event = |e: CandleEvent| match e {
        CandleEvent::Closed1m(c) => ones.push(c),
        CandleEvent::Closed5m(c) => fives.push(c),
        CandleEvent::Gap { .. } => gaps += 1,
    };
    for record in DataFile::open(path, SYM).unwrap() {
        let Record::Trade(t) = record.unwrap() else {
            panic!("expected trades")
        };
        builder.on_trade(&t, &mut on_event);
    }
    builder.flush(&mut on_event);
    Some((ones, fives, gaps, builder))
}

/// Naive 1m OHLCV of the `@trade` messages of the spot websocket captures.
fn capture_candles() -> Option<Vec<Candle>> {
    let mut map: BTreeMap<i64, Candle> = BTreeMap::new();
    let mut last_id = 0u64;
    for name in SPOT_WS {
        let path = shared_file(name)?;
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
        for line in BufReader::new(gz).lines() {
            let line = line.unwrap();
            let json = line.split_once(' ').unwrap().1;
            if !json.contains("@trade\"") {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            let d = &v["data"];
            let id = d["t"].as_u64().unwrap();
            assert!(id > last_id, "capture trades are in id order");
            last_id = id;
            let price = Price::from_f64(d["p"].as_str().unwrap().parse().unwrap()).unwrap();
            let qty = Qty::from_f64(d["q"].as_str().unwrap().parse().unwrap()).unwrap();
            let ts = TimestampNs::from_ms(d["T"].as_i64().unwrap());
            let minute = ts.floor_to(NS_PER_MIN);
            map.entry(minute.0)
                .and_modify(|c| {
                    c.high = c.high.max(price);
                    c.low = c.low.min(price);
                    c.close = price;
                    c.volume = c.volume + qty;
                    c.trade_count += 1;
                })
                .or_insert(Candle {
                    symbol: SYM,
                    open_time: minute,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: qty,
                    trade_count: 1,
                });
        }
    }
    Some(map.into_values().collect())
}

#[test]
fn spot_trade_candles_equal_the_raw_capture_on_every_minute() {
    let (Some((ones, fives, gaps, builder)), Some(expected)) =
        (build(SPOT_TRADES), capture_candles())
    else {
        return;
    };
    // 23:54 (partial) .. 00:05 (partial): 12 minutes, no gap, nothing late.
    assert_eq!(ones.len(), 12);
    assert_eq!(ones[0].open_time, TimestampNs::from_ms(FIRST_MINUTE_MS));
    assert_eq!(gaps, 0);
    assert_eq!(builder.late_trades(), 0);
    assert_eq!(
        ones.iter().map(|c| u64::from(c.trade_count)).sum::<u64>(),
        19_904
    );
    assert!(
        ones == expected,
        "candles differ from the capture:\n{ones:?}\n{expected:?}"
    );
    // The 10 complete minutes the curator matched against exchange klines.
    assert!(ones[1..11].iter().all(|c| c.trade_count > 0));
    // 5m: 23:50 (partial: 23:54), 23:55 (complete), 00:00 (complete), 00:05 (partial).
    let five_opens: Vec<i64> = fives.iter().map(|c| c.open_time.as_ms()).collect();
    assert_eq!(
        five_opens,
        [
            FIRST_MINUTE_MS - 240_000,
            FIRST_MINUTE_MS + 60_000,
            FIRST_MINUTE_MS + 360_000,
            FIRST_MINUTE_MS + 660_000
        ]
    );
    let full = &fives[1];
    assert_eq!(full.open, ones[1].open);
    assert_eq!(full.close, ones[5].close);
    assert_eq!(full.high, ones[1..6].iter().map(|c| c.high).max().unwrap());
    assert_eq!(full.low, ones[1..6].iter().map(|c| c.low).min().unwrap());
    let volume = ones[1..6].iter().fold(Qty::ZERO, |a, c| a + c.volume);
    assert_eq!(full.volume, volume);
}

#[test]
fn a_full_day_of_futures_trades_has_a_candle_every_minute() {
    let Some((ones, fives, gaps, builder)) =
        build("binance-futures-BTCUSDT-aggTrades-2020-02-22.csv")
    else {
        return;
    };
    assert_eq!(ones.len(), 1440);
    assert_eq!(fives.len(), 288);
    assert_eq!(gaps, 0);
    assert_eq!(builder.late_trades(), 0);
    assert_eq!(
        ones.iter().map(|c| u64::from(c.trade_count)).sum::<u64>(),
        137_988
    );
    assert_eq!(
        fives.iter().map(|c| u64::from(c.trade_count)).sum::<u64>(),
        137_988
    );
    assert!(ones
        .windows(2)
        .all(|w| w[1].open_time.0 - w[0].open_time.0 == NS_PER_MIN));
    // Every 5m candle equals the fold of its five 1m candles.
    for (five, group) in fives.iter().zip(ones.chunks(5)) {
        assert_eq!(five.open_time, group[0].open_time);
        assert_eq!(five.open, group[0].open);
        assert_eq!(five.close, group[4].close);
        assert_eq!(five.high, group.iter().map(|c| c.high).max().unwrap());
        assert_eq!(five.low, group.iter().map(|c| c.low).min().unwrap());
    }
}
