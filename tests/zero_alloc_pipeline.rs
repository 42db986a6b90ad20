//! The market-data pipeline allocates nothing per trade after warm-up.
//!
//! Source: the real one-day futures trades file (137,988 trades). Three
//! front ends feed the same candle builder (1m/5m) and the two indicator sets:
//! - the data-file reader (file → candles → indicators);
//! - the Binance decoder on `aggTrade` text frames built from the file's rows
//!   (frame → parse → candles → indicators);
//! - the BingX decoder on gzip `@trade` frames of 10 trades each, newest
//!   first as BingX sends them (inflate → parse → candles → indicators).
//!
//! Each warms up on the first 20,000 trades, then counts heap allocations
//! with `allocation_counter` over the remaining ~118,000: the count must be
//! 0. All three must close the same candles (checksums equal).

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::io::Write;

use bingx_sim::testdata::shared_file;
use trading_engine::candles::{CandleBuilder, CandleEvent, DEFAULT_GRACE_NS};
use trading_engine::datafile::{DataFile, Record};
use trading_engine::feed::{BinanceDecoder, BingxDecoder, MarketEvent, SymbolTable};
use trading_engine::indicators::TimeframeIndicators;
use trading_engine::types::{Candle, SymbolId, Trade};

const TRADES: &str = "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv";
const WARM_UP: usize = 20_000;
const MIN_MEASURED: u64 = 100_000;
const SYM: SymbolId = SymbolId(0);
const BINGX_TRADES_PER_FRAME: usize = 10;

/// Candle builder and indicators, with checksums of what they produced.
struct Pipeline {
    builder: CandleBuilder,
    ind_1m: TimeframeIndicators,
    ind_5m: TimeframeIndicators,
    trades: u64,
    closed_1m: u64,
    closed_5m: u64,
    candle_sum: i64,
    indicator_sum: f64,
}

fn candle_sum(c: &Candle) -> i64 {
    c.open_time.0
        ^ c.open.to_bits()
        ^ c.high.to_bits().rotate_left(7)
        ^ c.low.to_bits().rotate_left(13)
        ^ c.close.to_bits().rotate_left(19)
        ^ c.volume.to_bits().rotate_left(29)
}

impl Pipeline {
    fn new() -> Self {
        Self {
            builder: CandleBuilder::new(SYM, DEFAULT_GRACE_NS),
            ind_1m: TimeframeIndicators::with_default_periods(),
            ind_5m: TimeframeIndicators::with_default_periods(),
            trades: 0,
            closed_1m: 0,
            closed_5m: 0,
            candle_sum: 0,
            indicator_sum: 0.0,
        }
    }

    fn on_trade(&mut self, t: &Trade) {
        let Self {
            builder,
            ind_1m,
            ind_5m,
            trades,
            closed_1m,
            closed_5m,
            candle_sum: csum,
            indicator_sum,
        } = self;
        *trades += 1;
        builder.on_trade(t, &mut |e| match e {
            CandleEvent::Closed1m(c) => {
                ind_1m.update(&c);
                *closed_1m += 1;
                *csum = csum.wrapping_add(candle_sum(&c));
                *indicator_sum += ind_1m.snapshot().atr.unwrap_or(0.0);
            }
            CandleEvent::Closed5m(c) => {
                ind_5m.update(&c);
                *closed_5m += 1;
                *csum = csum.wrapping_add(candle_sum(&c).rotate_left(3));
                *indicator_sum += ind_5m.snapshot().sma_slow.unwrap_or(0.0);
            }
            CandleEvent::Gap { .. } => panic!("the day file has a trade every minute"),
        });
    }

    fn on_market_event(&mut self, e: MarketEvent) {
        match e {
            MarketEvent::Trade(t) => self.on_trade(&t),
            other => panic!("only trades expected, got {other:?}"),
        }
    }

    fn check_finished(&self) {
        assert_eq!(self.trades, 137_988);
        assert_eq!(self.closed_1m, 1439, "the last minute stays open");
        assert_eq!(self.closed_5m, 287);
        assert!(self.ind_1m.is_warm() && self.ind_5m.is_warm());
        assert!(self.indicator_sum > 0.0);
    }
}

fn counter_is_active() {
    let probe = allocation_counter::measure(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(64));
    });
    assert_eq!(probe.count_total, 1, "the counting allocator is active");
}

/// One CSV row of the day file: id, price text, qty text, time ms, buyer is maker.
type Row = (u64, String, String, u64, bool);

/// The CSV rows of the day file.
fn rows() -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(shared_file(TRADES)?).unwrap();
    Some(
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[0].parse().unwrap(),
                    f[1].to_owned(),
                    f[2].to_owned(),
                    f[5].parse().unwrap(),
                    f[6] == "true",
                )
            })
            .collect(),
    )
}

/// Runs the file-reader pipeline and returns it (the reference for the decoders).
fn file_pipeline() -> Option<Pipeline> {
    let mut file = DataFile::open(shared_file(TRADES)?, SYM).unwrap();
    let mut p = Pipeline::new();
    for _ in 0..WARM_UP {
        let Some(Record::Trade(t)) = file.next_record().unwrap() else {
            panic!("expected a trade")
        };
        p.on_trade(&t);
    }
    let before = p.trades;
    let mut failed = false;
    let info = allocation_counter::measure(|| {
        while let Ok(Some(record)) = file.next_record() {
            let Record::Trade(t) = record else {
                failed = true;
                break;
            };
            p.on_trade(&t);
        }
    });
    assert!(!failed);
    assert!(
        file.next_record().unwrap().is_none(),
        "the whole file was read"
    );
    assert!(p.trades - before >= MIN_MEASURED);
    assert_eq!(
        info.count_total, 0,
        "allocations on the file pipeline: {info:?}"
    );
    p.check_finished();
    Some(p)
}

#[test]
fn parsing_candles_and_indicators_allocate_nothing_per_trade() {
    counter_is_active();
    file_pipeline();
}

#[test]
fn binance_frames_through_candles_and_indicators_allocate_nothing() {
    counter_is_active();
    let (Some(rows), Some(reference)) = (rows(), file_pipeline()) else {
        return;
    };
    // All frames in one buffer, built before measuring.
    let mut frames: Vec<u8> = Vec::new();
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
    for (i, (id, price, qty, ms, maker)) in rows.iter().enumerate() {
        let start = frames.len();
        let body = format!(
            r#"{{"e":"aggTrade","E":{ms},"s":"BTCUSDT","a":{id},"p":"{price}","q":"{qty}","f":{id},"l":{id},"T":{ms},"m":{maker}}}"#
        );
        if i % 2 == 0 {
            write!(frames, r#"{{"stream":"btcusdt@aggTrade","data":{body}}}"#).unwrap();
        } else {
            frames.extend_from_slice(body.as_bytes());
        }
        bounds.push((start, frames.len()));
    }
    let mut symbols = SymbolTable::new();
    symbols.insert("BTCUSDT", SYM).unwrap();
    let mut decoder = BinanceDecoder::new(symbols);
    let mut p = Pipeline::new();
    let mut errors = 0u64;
    for &(s, e) in &bounds[..WARM_UP] {
        decoder
            .decode(&frames[s..e], &mut |ev| p.on_market_event(ev))
            .unwrap();
    }
    let info = allocation_counter::measure(|| {
        for &(s, e) in &bounds[WARM_UP..] {
            if decoder
                .decode(&frames[s..e], &mut |ev| p.on_market_event(ev))
                .is_err()
            {
                errors += 1;
            }
        }
    });
    assert_eq!(errors, 0);
    assert!((bounds.len() - WARM_UP) as u64 >= MIN_MEASURED);
    assert_eq!(
        info.count_total, 0,
        "allocations on the Binance pipeline: {info:?}"
    );
    p.check_finished();
    assert_eq!(
        p.candle_sum, reference.candle_sum,
        "same candles as from the file"
    );
    assert_eq!(p.indicator_sum.to_bits(), reference.indicator_sum.to_bits());
}

#[test]
fn bingx_gzip_frames_through_candles_and_indicators_allocate_nothing() {
    counter_is_active();
    let (Some(rows), Some(reference)) = (rows(), file_pipeline()) else {
        return;
    };
    let mut frames: Vec<u8> = Vec::new();
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    for chunk in rows.chunks(BINGX_TRADES_PER_FRAME) {
        let items: Vec<String> = chunk
            .iter()
            .rev()
            .map(|(_, price, qty, ms, maker)| {
                format!(r#"{{"q":"{qty}","p":"{price}","T":{ms},"m":{maker},"s":"BTC-USDT"}}"#)
            })
            .collect();
        let json = format!(
            r#"{{"code":0,"dataType":"BTC-USDT@trade","data":[{}]}}"#,
            items.join(",")
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json.as_bytes()).unwrap();
        let start = frames.len();
        frames.extend_from_slice(&gz.finish().unwrap());
        bounds.push((start, frames.len()));
    }
    let mut symbols = SymbolTable::new();
    symbols.insert("BTC-USDT", SYM).unwrap();
    let mut decoder = BingxDecoder::new(symbols);
    let mut p = Pipeline::new();
    let warm_frames = WARM_UP / BINGX_TRADES_PER_FRAME;
    for &(s, e) in &bounds[..warm_frames] {
        decoder
            .decode(&frames[s..e], &mut |ev| p.on_market_event(ev))
            .unwrap();
    }
    let mut errors = 0u64;
    let before = p.trades;
    let info = allocation_counter::measure(|| {
        for &(s, e) in &bounds[warm_frames..] {
            if decoder
                .decode(&frames[s..e], &mut |ev| p.on_market_event(ev))
                .is_err()
            {
                errors += 1;
            }
        }
    });
    assert_eq!(errors, 0);
    assert!(p.trades - before >= MIN_MEASURED);
    assert_eq!(
        info.count_total, 0,
        "allocations on the BingX pipeline: {info:?}"
    );
    p.check_finished();
    assert_eq!(
        p.candle_sum, reference.candle_sum,
        "same candles as from the file"
    );
    assert_eq!(p.indicator_sum.to_bits(), reference.indicator_sum.to_bits());
}
