//! The shared entry pattern of docs/STRATEGIES.md: the explosive candle, and the
//! confidence score both strategies use.
//!
//! Consumes a closed 1m candle with ATR(1m) and the volume SMA; produces a
//! yes/no and a score. Pure functions, never allocate.

use crate::types::{Candle, Side};

/// Thresholds of the explosive-candle test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Explosive {
    /// Body at least this many ATR1.
    pub body_atr_mult: f64,
    /// Volume at least this many times its SMA.
    pub volume_mult: f64,
    /// Close within this fraction of the range from the extreme in the
    /// direction of the move (0.75: top/bottom quarter).
    pub close_position: f64,
}

/// Returns true when `c` is an explosive candle in direction `side` (`Buy`
/// bullish, `Sell` bearish) given ATR1 `atr` and volume SMA `vsma`.
#[must_use]
pub fn is_explosive(c: &Candle, side: Side, atr: f64, vsma: f64, p: &Explosive) -> bool {
    let (open, high, low, close) = (
        c.open.to_f64(),
        c.high.to_f64(),
        c.low.to_f64(),
        c.close.to_f64(),
    );
    let range = high - low;
    let (directional, body, position) = match side {
        Side::Buy => (close > open, close - open, close - low),
        Side::Sell => (open > close, open - close, high - close),
    };
    directional
        && body >= p.body_atr_mult * atr
        && position >= p.close_position * range
        && c.volume.to_f64() >= p.volume_mult * vsma
}

/// Returns `min(1, 0.5 * (body / atr) / (2 * body_atr_mult) + 0.5 *
/// (volume / vsma) / (2 * volume_mult))`.
#[must_use]
pub fn confidence(c: &Candle, atr: f64, vsma: f64, p: &Explosive) -> f64 {
    let body = (c.close.to_f64() - c.open.to_f64()).abs();
    let score = 0.5 * (body / atr) / (2.0 * p.body_atr_mult)
        + 0.5 * (c.volume.to_f64() / vsma) / (2.0 * p.volume_mult);
    score.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::candle;

    const P: Explosive = Explosive {
        body_atr_mult: 2.5,
        volume_mult: 3.0,
        close_position: 0.75,
    };

    #[test]
    fn bullish_candle_passes_body_close_position_and_volume_tests() {
        // body 25 = 2.5 ATR, close - low = 30 >= 0.75 * 32, volume 30 = 3 * 10
        let c = candle(100.0, 127.0, 95.0, 125.0, 30.0);
        assert!(is_explosive(&c, Side::Buy, 10.0, 10.0, &P));
        assert!(!is_explosive(&c, Side::Sell, 10.0, 10.0, &P));
    }

    #[test]
    fn small_body_fails() {
        let c = candle(100.0, 125.0, 99.0, 124.9, 30.0);
        assert!(!is_explosive(&c, Side::Buy, 10.0, 10.0, &P));
    }

    #[test]
    fn close_outside_the_top_quarter_fails() {
        // range 100 (95..195), close - low = 30 < 75
        let c = candle(100.0, 195.0, 95.0, 125.0, 30.0);
        assert!(!is_explosive(&c, Side::Buy, 10.0, 10.0, &P));
    }

    #[test]
    fn low_volume_fails() {
        let c = candle(100.0, 127.0, 95.0, 125.0, 29.9);
        assert!(!is_explosive(&c, Side::Buy, 10.0, 10.0, &P));
    }

    #[test]
    fn bearish_mirror_passes() {
        // body 25, high - close = 27 >= 0.75 * 29
        let c = candle(100.0, 102.0, 73.0, 75.0, 30.0);
        assert!(is_explosive(&c, Side::Sell, 10.0, 10.0, &P));
        assert!(!is_explosive(&c, Side::Buy, 10.0, 10.0, &P));
    }

    #[test]
    fn confidence_follows_the_formula_and_caps_at_one() {
        let c = candle(100.0, 127.0, 95.0, 125.0, 30.0);
        // 0.5 * 2.5 / 5 + 0.5 * 3 / 6 = 0.25 + 0.25
        assert!((confidence(&c, 10.0, 10.0, &P) - 0.5).abs() < 1e-12);
        let big = candle(100.0, 300.0, 95.0, 300.0, 300.0);
        assert!((confidence(&big, 10.0, 10.0, &P) - 1.0).abs() < 1e-12);
    }
}
