//! Exponential moving average, TA-Lib style.
//!
//! Consumes one f64 value per candle (usually the close) and produces the EMA
//! with `k = 2 / (n + 1)`, seeded by the simple average of the first `n`
//! values, so the first value appears on the `n`-th update exactly like
//! TA-Lib's `EMA`. Also keeps the value one update earlier (strategies compare
//! the 5m EMA(20) with its previous value). Never allocates; O(1) per update.

use super::kind::{check_period, Bar, Indicator, ParamError};

/// Exponential moving average over `period` values.
#[derive(Debug, Clone)]
pub struct Ema {
    /// Smoothing factor `2 / (period + 1)`, fixed at construction.
    k: f64,
    /// Period as f64 (the seed divisor).
    period_f64: f64,
    /// Configured period, at least 1.
    period: usize,
    /// Number of values folded into the seed so far; stops at `period`.
    seeded: usize,
    /// Running sum of the first `period` values (seed), unused once warm.
    seed_sum: f64,
    /// Current EMA; `None` until `period` values were seen.
    current: Option<f64>,
    /// EMA before the last update; `None` unless that one was warm.
    previous: Option<f64>,
}

impl Ema {
    /// Creates an EMA over `period` values.
    ///
    /// # Panics
    /// Panics when `period` is 0 (periods are validated with the config).
    #[must_use]
    pub fn new(period: usize) -> Self {
        assert!(period > 0, "EMA period must be at least 1");
        #[allow(
            clippy::cast_precision_loss,
            reason = "periods are small integers, exact in f64"
        )]
        let period_f64 = period as f64;
        Self {
            k: 2.0 / (period_f64 + 1.0),
            period_f64,
            period,
            seeded: 0,
            seed_sum: 0.0,
            current: None,
            previous: None,
        }
    }

    /// Folds in one value.
    #[inline]
    pub fn update(&mut self, value: f64) {
        self.previous = self.current;
        match self.current {
            // TA-Lib's exact formula and operation order: ((x - prev) * k) + prev.
            Some(prev) => self.current = Some((value - prev) * self.k + prev),
            None => {
                self.seed_sum += value;
                self.seeded += 1;
                if self.seeded == self.period {
                    self.current = Some(self.seed_sum / self.period_f64);
                }
            }
        }
    }

    /// Returns the EMA, or `None` until `period` values were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.current
    }

    /// Returns the EMA as it was before the last update, or `None` when it
    /// was not warm then.
    #[inline]
    #[must_use]
    pub fn prev_value(&self) -> Option<f64> {
        self.previous
    }

    /// Returns true once `period` values were seen.
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

    /// Forgets all values; the EMA is cold again.
    pub fn reset(&mut self) {
        self.seeded = 0;
        self.seed_sum = 0.0;
        self.current = None;
        self.previous = None;
    }
}

/// What an [`Ema`] gives a strategy: the value and the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmaValue {
    /// EMA after the latest candle.
    pub value: f64,
    /// EMA one candle earlier; `None` when it was not warm then.
    pub previous: Option<f64>,
}

impl Indicator for Ema {
    type Params = usize;
    type Output = EmaValue;
    const KIND: &'static str = "ema";

    fn check(period: usize) -> Result<(), ParamError> {
        check_period(Self::KIND, period)
    }

    fn create(period: usize) -> Self {
        Self::new(period)
    }

    /// One more than the period: strategies compare with the previous value.
    fn warmup_candles(period: usize) -> usize {
        period + 1
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.update(bar.close);
    }

    #[inline]
    fn output(&self) -> Option<EmaValue> {
        self.value().map(|value| EmaValue {
            value,
            previous: self.prev_value(),
        })
    }

    fn reset(&mut self) {
        Ema::reset(self);
    }
}

crate::checkpoint::state_struct!(Ema {
    k,
    period_f64,
    period,
    seeded,
    seed_sum,
    current,
    previous
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_is_the_simple_average_of_the_first_period_values() {
        let mut ema = Ema::new(3);
        ema.update(1.0);
        ema.update(2.0);
        assert_eq!(ema.value(), None);
        ema.update(6.0);
        assert_eq!(ema.value(), Some(3.0));
        assert_eq!(ema.prev_value(), None);
    }

    #[test]
    fn later_values_use_k_two_over_n_plus_one_and_keep_the_previous_value() {
        let mut ema = Ema::new(3);
        for x in [1.0, 2.0, 6.0, 7.0] {
            ema.update(x);
        }
        // k = 0.5: 3 + (7 - 3) * 0.5 = 5
        assert_eq!(ema.value(), Some(5.0));
        assert_eq!(ema.prev_value(), Some(3.0));
    }

    #[test]
    fn period_one_follows_the_input() {
        let mut ema = Ema::new(1);
        ema.update(4.0);
        assert_eq!(ema.value(), Some(4.0));
        ema.update(9.5);
        assert_eq!(ema.value(), Some(9.5));
    }

    #[test]
    fn reset_makes_it_cold_again() {
        let mut ema = Ema::new(2);
        ema.update(1.0);
        ema.update(3.0);
        assert!(ema.is_warm());
        ema.reset();
        assert!(!ema.is_warm());
        assert_eq!(ema.prev_value(), None);
        ema.update(10.0);
        ema.update(20.0);
        assert_eq!(ema.value(), Some(15.0));
    }

    #[test]
    #[should_panic(expected = "EMA period must be at least 1")]
    fn zero_period_panics() {
        let _ = Ema::new(0);
    }
}
