//! Average true range, Wilder smoothing, TA-Lib style.
//!
//! Consumes high, low and close per candle and produces ATR. The first candle
//! has no true range (it has no previous close); the average is seeded by the
//! simple average of the first `n` true ranges, so the first value appears
//! after `n + 1` candles, exactly where TA-Lib's `ATR` has its first value.
//! Never allocates; O(1) per update.

use super::kind::{check_period, Bar, Indicator, ParamError};

/// Wilder ATR over `period` true ranges.
#[derive(Debug, Clone)]
pub struct Atr {
    /// Period as f64 (seed divisor).
    period_f64: f64,
    /// `1 / period`: Wilder weight of the new true range.
    inv_period: f64,
    /// `(period - 1) / period`: Wilder weight of the previous average.
    decay: f64,
    /// Configured period, at least 1.
    period: usize,
    /// Previous close; `None` before the first update.
    prev_close: Option<f64>,
    /// Number of true ranges folded into the seed; stops at `period`.
    ranges_seen: usize,
    /// Running average (a plain sum while seeding).
    avg: f64,
    /// Current ATR; `None` until warm.
    current: Option<f64>,
}

/// Returns the true range of a candle given the previous close:
/// `max(high - low, |high - prev_close|, |low - prev_close|)`.
#[inline]
#[must_use]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    // The same three candidates as TA-Lib's TRANGE; `max` is branch-free.
    (high - low)
        .max((prev_close - high).abs())
        .max((prev_close - low).abs())
}

impl Atr {
    /// Creates an ATR over `period` true ranges.
    ///
    /// # Panics
    /// Panics when `period` is 0 (periods are validated with the config).
    #[must_use]
    pub fn new(period: usize) -> Self {
        assert!(period > 0, "ATR period must be at least 1");
        #[allow(
            clippy::cast_precision_loss,
            reason = "periods are small integers, exact in f64"
        )]
        let period_f64 = period as f64;
        Self {
            period_f64,
            inv_period: 1.0 / period_f64,
            decay: (period_f64 - 1.0) / period_f64,
            period,
            prev_close: None,
            ranges_seen: 0,
            avg: 0.0,
            current: None,
        }
    }

    /// Folds in one candle.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) {
        let Some(prev_close) = self.prev_close.replace(close) else {
            return;
        };
        let range = true_range(high, low, prev_close);
        if self.current.is_some() {
            // Wilder: avg = (avg * (n - 1) + tr) / n with the division folded
            // into constants, so the loop-carried chain is one mul and one
            // add (bench `indicators/atr14`); within an ulp per update of
            // TA-Lib's operation order, damped by the smoothing.
            self.avg = self.avg * self.decay + range * self.inv_period;
        } else {
            self.avg += range;
            self.ranges_seen += 1;
            if self.ranges_seen < self.period {
                return;
            }
            // Seed exactly like TA-Lib: simple average of the first n ranges.
            self.avg /= self.period_f64;
        }
        self.current = Some(self.avg);
    }

    /// Returns the ATR (never negative), or `None` until `period + 1` candles were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.current
    }

    /// Returns true once `period + 1` candles were seen.
    #[inline]
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.current.is_some()
    }

    /// Returns the configured period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    /// Forgets all candles; the ATR is cold again.
    pub fn reset(&mut self) {
        self.prev_close = None;
        self.ranges_seen = 0;
        self.avg = 0.0;
        self.current = None;
    }
}

impl Indicator for Atr {
    type Params = usize;
    type Output = f64;
    const KIND: &'static str = "atr";

    fn check(period: usize) -> Result<(), ParamError> {
        check_period(Self::KIND, period)
    }

    fn create(period: usize) -> Self {
        Self::new(period)
    }

    fn warmup_candles(period: usize) -> usize {
        period + 1
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.update(bar.high, bar.low, bar.close);
    }

    #[inline]
    fn output(&self) -> Option<f64> {
        self.value()
    }

    fn reset(&mut self) {
        Atr::reset(self);
    }
}

crate::checkpoint::state_struct!(Atr {
    period_f64,
    inv_period,
    decay,
    period,
    prev_close,
    ranges_seen,
    avg,
    current
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_range_covers_gaps_on_both_sides() {
        assert_eq!(true_range(12.0, 10.0, 11.0), 2.0);
        assert_eq!(true_range(12.0, 11.0, 8.0), 4.0);
        assert_eq!(true_range(9.0, 7.0, 12.0), 5.0);
    }

    #[test]
    fn first_candle_has_no_range_and_seed_is_the_simple_average() {
        let mut atr = Atr::new(2);
        atr.update(10.0, 9.0, 9.5);
        atr.update(11.0, 9.0, 10.0);
        assert_eq!(atr.value(), None);
        atr.update(10.5, 10.0, 10.2);
        // ranges 2 and 0.5
        assert_eq!(atr.value(), Some(1.25));
        atr.update(14.0, 10.0, 13.0);
        // (1.25 * 1 + 4) / 2
        assert_eq!(atr.value(), Some(2.625));
    }

    #[test]
    fn reset_makes_it_cold_again() {
        let mut atr = Atr::new(1);
        atr.update(2.0, 1.0, 1.5);
        atr.update(2.0, 1.0, 1.5);
        assert_eq!(atr.value(), Some(1.0));
        atr.reset();
        atr.update(2.0, 1.0, 1.5);
        assert!(!atr.is_warm());
    }

    #[test]
    #[should_panic(expected = "ATR period must be at least 1")]
    fn zero_period_panics() {
        let _ = Atr::new(0);
    }
}
