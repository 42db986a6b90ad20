//! Relative strength index, Wilder smoothing, TA-Lib style.
//!
//! Consumes one close per candle and produces RSI in [0, 100]. The average
//! gain and loss are seeded by the simple average of the first `n` close to
//! close changes, so the first value appears after `n + 1` closes, exactly
//! where TA-Lib's `RSI` (classic, unstable period 0) has its first value.
//! Never allocates; O(1) per update.

use super::kind::{check_period, Bar, Indicator, ParamError};

/// Wilder RSI over `period` close-to-close changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    /// Period as f64 (seed divisor).
    period_f64: f64,
    /// `1 / period`: Wilder weight of the new change.
    inv_period: f64,
    /// `(period - 1) / period`: Wilder weight of the previous average.
    decay: f64,
    /// Configured period, at least 1.
    period: usize,
    /// Previous close; `None` before the first update.
    prev_close: Option<f64>,
    /// Number of changes folded into the seed; stops at `period`.
    changes_seen: usize,
    /// Average gain (a plain sum while seeding).
    avg_gain: f64,
    /// Average loss as a positive number (a plain sum while seeding).
    avg_loss: f64,
    /// True once the averages are seeded (`period + 1` closes seen).
    warm: bool,
}

impl Rsi {
    /// Creates an RSI over `period` changes.
    ///
    /// # Panics
    /// Panics when `period` is 0 (periods are validated with the config).
    #[must_use]
    pub fn new(period: usize) -> Self {
        assert!(period > 0, "RSI period must be at least 1");
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
            changes_seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            warm: false,
        }
    }

    /// Folds in one close.
    #[inline]
    pub fn update(&mut self, close: f64) {
        let Some(prev) = self.prev_close.replace(close) else {
            return;
        };
        let change = close - prev;
        // Branch-free split: on real closes the sign of the change is a coin
        // flip, and a mispredicted branch costs more than both updates
        // (bench `indicators/rsi14`).
        let gain = change.max(0.0);
        let loss = (-change).max(0.0);
        if self.warm {
            // Wilder: avg = (avg * (n - 1) + x) / n, with the division folded
            // into constants (the loop-carried chain is one mul and one add);
            // differs from TA-Lib's operation order by an ulp per update,
            // which the smoothing damps.
            self.avg_gain = self.avg_gain * self.decay + gain * self.inv_period;
            self.avg_loss = self.avg_loss * self.decay + loss * self.inv_period;
        } else {
            self.avg_gain += gain;
            self.avg_loss += loss;
            self.changes_seen += 1;
            if self.changes_seen == self.period {
                // Seed exactly like TA-Lib: simple average of the first n changes.
                self.avg_gain /= self.period_f64;
                self.avg_loss /= self.period_f64;
                self.warm = true;
            }
        }
    }

    /// Returns the RSI in [0, 100], or `None` until `period + 1` closes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.warm.then(|| {
            let total = self.avg_gain + self.avg_loss;
            // A perfectly flat window has no defined RSI; TA-Lib reports 0.
            if total == 0.0 {
                0.0
            } else {
                100.0 * (self.avg_gain / total)
            }
        })
    }

    /// Returns true once `period + 1` closes were seen.
    #[inline]
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.warm
    }

    /// Returns the configured period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    /// Forgets all closes; the RSI is cold again.
    pub fn reset(&mut self) {
        self.prev_close = None;
        self.changes_seen = 0;
        self.avg_gain = 0.0;
        self.avg_loss = 0.0;
        self.warm = false;
    }
}

impl Indicator for Rsi {
    type Params = usize;
    type Output = f64;
    const KIND: &'static str = "rsi";

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
        self.update(bar.close);
    }

    #[inline]
    fn output(&self) -> Option<f64> {
        self.value()
    }

    fn reset(&mut self) {
        Rsi::reset(self);
    }
}

crate::checkpoint::state_struct!(Rsi {
    period_f64,
    inv_period,
    decay,
    period,
    prev_close,
    changes_seen,
    avg_gain,
    avg_loss,
    warm
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_needs_period_plus_one_closes() {
        let mut rsi = Rsi::new(3);
        for x in [10.0, 11.0, 10.0] {
            rsi.update(x);
            assert_eq!(rsi.value(), None);
        }
        rsi.update(12.0);
        // gains 1 + 2 = 3, losses 1: avg 1 and 1/3 -> 100 * 1 / (4/3) = 75
        let v = rsi.value().unwrap();
        assert!((v - 75.0).abs() < 1e-12, "{v}");
    }

    #[test]
    fn wilder_smoothing_after_the_seed() {
        let mut rsi = Rsi::new(3);
        for x in [10.0, 11.0, 10.0, 12.0, 11.0] {
            rsi.update(x);
        }
        // gain (1*2 + 0)/3 = 2/3, loss (1/3*2 + 1)/3 = 5/9 -> 100 * (6/9) / (11/9)
        let v = rsi.value().unwrap();
        assert!((v - 600.0 / 11.0).abs() < 1e-12, "{v}");
    }

    #[test]
    fn only_gains_is_one_hundred_and_flat_is_zero_like_ta_lib() {
        let mut up = Rsi::new(2);
        let mut flat = Rsi::new(2);
        for i in 0..5 {
            up.update(f64::from(i));
            flat.update(7.0);
        }
        assert_eq!(up.value(), Some(100.0));
        assert_eq!(flat.value(), Some(0.0));
    }

    #[test]
    fn reset_makes_it_cold_again() {
        let mut rsi = Rsi::new(1);
        rsi.update(1.0);
        rsi.update(2.0);
        assert!(rsi.is_warm());
        rsi.reset();
        rsi.update(5.0);
        assert!(!rsi.is_warm());
        rsi.update(4.0);
        assert_eq!(rsi.value(), Some(0.0));
    }

    #[test]
    #[should_panic(expected = "RSI period must be at least 1")]
    fn zero_period_panics() {
        let _ = Rsi::new(0);
    }
}
