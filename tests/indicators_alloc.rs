//! Steady-state indicator updates never allocate.
//!
//! Builds the indicators (construction allocates the windows), warms them up,
//! then counts heap allocations over 100k further updates with
//! `allocation_counter`: the count must be 0.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a panic is a test failure"
)]

use trading_engine::indicators::{
    Atr, Bollinger, Ema, IndicatorPeriods, PriorChannel, Rsi, Sma, TimeframeIndicators,
};
use trading_engine::types::{Candle, Price, Qty, SymbolId, TimestampNs};

const WARM_UP: usize = 5_000;
const MEASURED: usize = 100_000;

/// Deterministic candle `i` of a bounded zig-zag walk around 100 000.
fn candle_values(i: usize) -> (f64, f64, f64, f64) {
    #[allow(clippy::cast_precision_loss, reason = "small test indices")]
    let t = i as f64;
    let close = 100_000.0 + 500.0 * (t * 0.013).sin() + 7.0 * (t * 1.7).cos();
    (
        close + 3.5,
        close - 4.25,
        close,
        10.0 + 5.0 * (t * 0.31).sin(),
    )
}

fn candle(i: usize) -> Candle {
    let (high, low, close, volume) = candle_values(i);
    Candle {
        symbol: SymbolId(1),
        open_time: TimestampNs::from_ms(60_000 * i64::try_from(i).unwrap()),
        open: Price::from_f64(close - 1.0).unwrap(),
        high: Price::from_f64(high).unwrap(),
        low: Price::from_f64(low).unwrap(),
        close: Price::from_f64(close).unwrap(),
        volume: Qty::from_f64(volume).unwrap(),
        trade_count: 10,
    }
}

#[test]
fn timeframe_updates_after_warm_up_allocate_nothing() {
    let mut set = TimeframeIndicators::try_new(IndicatorPeriods::default()).unwrap();
    let candles: Vec<Candle> = (0..WARM_UP + MEASURED).map(candle).collect();
    for c in &candles[..WARM_UP] {
        set.update(c);
    }
    assert!(set.is_warm());
    let mut checksum = 0.0;
    let info = allocation_counter::measure(|| {
        for c in &candles[WARM_UP..] {
            set.update(c);
            let snap = set.snapshot();
            checksum += snap.sma_slow.unwrap_or(0.0) + snap.rsi.unwrap_or(0.0);
        }
        // A reset must not allocate either (it reuses the windows).
        set.reset();
    });
    assert_eq!(
        info.count_total, 0,
        "allocations during steady-state updates"
    );
    assert!(checksum > 0.0);
    assert!(!set.is_warm());
}

#[test]
fn standalone_indicator_updates_after_warm_up_allocate_nothing() {
    let mut sma = Sma::new(200);
    let mut ema = Ema::new(50);
    let mut rsi = Rsi::new(14);
    let mut atr = Atr::new(14);
    let mut bb = Bollinger::new(20, 2.0);
    let mut channel = PriorChannel::with_periods(60, 20);
    let mut step = |i: usize| {
        let (high, low, close, _) = candle_values(i);
        sma.update(close);
        ema.update(close);
        rsi.update(close);
        atr.update(high, low, close);
        bb.update(close);
        channel.update(high, low);
    };
    for i in 0..WARM_UP {
        step(i);
    }
    let info = allocation_counter::measure(|| {
        for i in WARM_UP..WARM_UP + MEASURED {
            step(i);
        }
    });
    assert_eq!(
        info.count_total, 0,
        "allocations during steady-state updates"
    );
    assert!(sma.is_warm() && ema.is_warm() && rsi.is_warm() && atr.is_warm());
    assert!(bb.is_warm() && channel.is_warm());
}
