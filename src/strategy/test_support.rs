//! Test helpers: candles and snapshots from plain numbers.

use crate::indicators::IndicatorSnapshot;
use crate::types::{Candle, Price, Qty, SymbolId, TimestampNs};

/// Returns a 1m candle at minute 0.
pub(crate) fn candle(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Candle {
    Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(0),
        open: Price::from_f64(open).unwrap(),
        high: Price::from_f64(high).unwrap(),
        low: Price::from_f64(low).unwrap(),
        close: Price::from_f64(close).unwrap(),
        volume: Qty::from_f64(volume).unwrap(),
        trade_count: 1,
    }
}

/// Returns a snapshot with every value set to `v`.
pub(crate) fn warm_snapshot(v: f64) -> IndicatorSnapshot {
    IndicatorSnapshot {
        sma_fast: Some(v),
        sma_mid: Some(v),
        sma_slow: Some(v),
        ema_fast: Some(v),
        ema_fast_prev: Some(v),
        ema_slow: Some(v),
        rsi: Some(50.0),
        atr: Some(v),
        bands: None,
        volume_sma: Some(v),
        prior_high: Some(v),
        prior_low: Some(v),
    }
}
