//! The file → candles → indicators pipeline allocates nothing per trade.
//!
//! Opens the real one-day futures trades file (137,988 trades; opening
//! allocates the read buffer), builds the candle builder and both indicator
//! sets, warms everything up on the first 20,000 trades, then counts heap
//! allocations with `allocation_counter` while the remaining ~118,000 trades
//! are parsed, folded into 1m/5m candles and the closed candles into the
//! indicators. The count must be 0.

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use trading_engine::candles::{CandleBuilder, CandleEvent, DEFAULT_GRACE_NS};
use trading_engine::datafile::{DataFile, Record};
use trading_engine::indicators::TimeframeIndicators;
use trading_engine::testdata::shared_file;
use trading_engine::types::{SymbolId, Trade};

const TRADES: &str = "binance-futures-BTCUSDT-aggTrades-2020-02-22.csv";
const WARM_UP: usize = 20_000;
const MIN_MEASURED: u64 = 100_000;

struct Pipeline {
    builder: CandleBuilder,
    ind_1m: TimeframeIndicators,
    ind_5m: TimeframeIndicators,
    closed_1m: u64,
    closed_5m: u64,
    checksum: f64,
}

impl Pipeline {
    fn on_trade(&mut self, t: &Trade) {
        let Self {
            builder,
            ind_1m,
            ind_5m,
            closed_1m,
            closed_5m,
            checksum,
        } = self;
        builder.on_trade(t, &mut |e| match e {
            CandleEvent::Closed1m(c) => {
                ind_1m.update(&c);
                *closed_1m += 1;
                *checksum += ind_1m.snapshot().atr.unwrap_or(0.0);
            }
            CandleEvent::Closed5m(c) => {
                ind_5m.update(&c);
                *closed_5m += 1;
                *checksum += ind_5m.snapshot().sma_slow.unwrap_or(0.0);
            }
            CandleEvent::Gap { .. } => panic!("the day file has a trade every minute"),
        });
    }
}

#[test]
fn parsing_candles_and_indicators_allocate_nothing_per_trade() {
    let Some(path) = shared_file(TRADES) else {
        return;
    };
    let symbol = SymbolId(0);
    let mut file = DataFile::open(&path, symbol).unwrap();
    let mut p = Pipeline {
        builder: CandleBuilder::new(symbol, DEFAULT_GRACE_NS),
        ind_1m: TimeframeIndicators::with_default_periods(),
        ind_5m: TimeframeIndicators::with_default_periods(),
        closed_1m: 0,
        closed_5m: 0,
        checksum: 0.0,
    };
    for _ in 0..WARM_UP {
        let Some(Record::Trade(t)) = file.next_record().unwrap() else {
            panic!("expected a trade")
        };
        p.on_trade(&t);
    }
    let mut measured = 0u64;
    let mut failed = false;
    let info = allocation_counter::measure(|| {
        while let Ok(Some(record)) = file.next_record() {
            let Record::Trade(t) = record else {
                failed = true;
                break;
            };
            p.on_trade(&t);
            measured += 1;
        }
    });
    assert!(!failed);
    assert!(
        file.next_record().unwrap().is_none(),
        "the whole file was read"
    );
    assert!(measured >= MIN_MEASURED, "measured only {measured} trades");
    assert_eq!(info.count_total, 0, "allocations on the pipeline: {info:?}");
    // The measured part did real work: candles closed and both sets got warm.
    assert_eq!(p.closed_1m, 1439, "the last minute stays open");
    assert_eq!(p.closed_5m, 287);
    assert!(p.ind_1m.is_warm() && p.ind_5m.is_warm());
    assert!(p.checksum > 0.0);
}
