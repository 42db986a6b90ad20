//! Relative strength index, Wilder smoothing, TA-Lib style.
//!
//! Consumes one close per candle and produces RSI in [0, 100]. The average
//! gain and loss are seeded by the simple average of the first `n` close to
//! close changes, so the first value appears after `n + 1` closes, exactly
//! where TA-Lib's `RSI` (classic, unstable period 0) has its first value.
//! Never allocates; O(1) per update.

/// Wilder RSI over `period` close-to-close changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    /// Period as f64 (Wilder divisor).
    period_f64: f64,
    /// `period - 1` as f64 (Wilder weight of the previous average).
    weight_prev: f64,
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
    /// Current RSI; `None` until warm.
    current: Option<f64>,
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
            weight_prev: period_f64 - 1.0,
            period,
            prev_close: None,
            changes_seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            current: None,
        }
    }

    /// Folds in one close.
    #[inline]
    pub fn update(&mut self, close: f64) {
        let Some(prev) = self.prev_close.replace(close) else {
            return;
        };
        let change = close - prev;
        if self.current.is_some() {
            // TA-Lib's operation order: scale, add the new change, divide.
            self.avg_gain *= self.weight_prev;
            self.avg_loss *= self.weight_prev;
            self.add_change(change);
            self.avg_gain /= self.period_f64;
            self.avg_loss /= self.period_f64;
        } else {
            self.add_change(change);
            self.changes_seen += 1;
            if self.changes_seen < self.period {
                return;
            }
            self.avg_gain /= self.period_f64;
            self.avg_loss /= self.period_f64;
        }
        let total = self.avg_gain + self.avg_loss;
        // A perfectly flat window has no defined RSI; TA-Lib reports 0.
        self.current = Some(if total == 0.0 {
            0.0
        } else {
            100.0 * (self.avg_gain / total)
        });
    }

    #[inline]
    fn add_change(&mut self, change: f64) {
        if change < 0.0 {
            self.avg_loss -= change;
        } else {
            self.avg_gain += change;
        }
    }

    /// Returns the RSI in [0, 100], or `None` until `period + 1` closes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.current
    }

    /// Returns true once `period + 1` closes were seen.
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

    /// Forgets all closes; the RSI is cold again.
    pub fn reset(&mut self) {
        self.prev_close = None;
        self.changes_seen = 0;
        self.avg_gain = 0.0;
        self.avg_loss = 0.0;
        self.current = None;
    }
}

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
