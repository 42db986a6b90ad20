//! Simple moving average over a fixed window.
//!
//! Consumes one f64 per candle (a close, a volume) and produces the mean of
//! the last `n` values; the first value appears on the `n`-th update, like
//! TA-Lib's `SMA`. O(1) per update with drift-free sums (see `window`);
//! allocates only in `new`.

use super::kind::{check_period, Bar, Indicator, ParamError};
use super::window::WindowSums;

/// Simple moving average over `period` values.
#[derive(Debug)]
pub struct Sma {
    /// The window and its running sum.
    window: WindowSums<false>,
}

impl Sma {
    /// Creates an SMA over `period` values, preallocating its window.
    ///
    /// # Panics
    /// Panics when `period` is 0 (periods are validated with the config).
    #[must_use]
    pub fn new(period: usize) -> Self {
        assert!(period > 0, "SMA period must be at least 1");
        Self {
            window: WindowSums::new(period),
        }
    }

    /// Folds in one value.
    #[inline]
    pub fn update(&mut self, value: f64) {
        self.window.push(value);
    }

    /// Returns the mean of the last `period` values, or `None` until `period`
    /// values were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.window.is_full().then(|| self.window.mean())
    }

    /// Returns true once `period` values were seen.
    #[inline]
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.window.is_full()
    }

    /// Returns the configured period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.window.period()
    }

    /// Forgets all values; the SMA is cold again. Does not allocate.
    pub fn reset(&mut self) {
        self.window.reset();
    }
}

impl Indicator for Sma {
    type Params = usize;
    type Output = f64;
    const KIND: &'static str = "sma";

    fn check(period: usize) -> Result<(), ParamError> {
        check_period(Self::KIND, period)
    }

    fn create(period: usize) -> Self {
        Self::new(period)
    }

    fn warmup_candles(period: usize) -> usize {
        period
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
        Sma::reset(self);
    }
}

/// SMA of candle volumes (the explosive-candle volume test), a kind of
/// its own so that it never shares an instance with an SMA of closes.
#[derive(Debug)]
pub struct VolumeSma(Sma);

impl Indicator for VolumeSma {
    type Params = usize;
    type Output = f64;
    const KIND: &'static str = "volume_sma";

    fn check(period: usize) -> Result<(), ParamError> {
        check_period(Self::KIND, period)
    }

    fn create(period: usize) -> Self {
        Self(Sma::new(period))
    }

    fn warmup_candles(period: usize) -> usize {
        period
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.0.update(bar.volume);
    }

    #[inline]
    fn output(&self) -> Option<f64> {
        self.0.value()
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}

impl crate::checkpoint::Restore for Sma {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        crate::checkpoint::Restore::save(&self.window, w);
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::Restore::restore(&mut self.window, r)
    }
}

impl crate::checkpoint::Restore for VolumeSma {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        crate::checkpoint::Restore::save(&self.0, w);
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::Restore::restore(&mut self.0, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_on_the_period_th_update_then_slides() {
        let mut sma = Sma::new(3);
        sma.update(1.0);
        sma.update(2.0);
        assert_eq!(sma.value(), None);
        sma.update(6.0);
        assert_eq!(sma.value(), Some(3.0));
        sma.update(10.0);
        assert_eq!(sma.value(), Some(6.0));
    }

    #[test]
    fn reset_makes_it_cold_again() {
        let mut sma = Sma::new(2);
        sma.update(1.0);
        sma.update(3.0);
        sma.reset();
        sma.update(10.0);
        assert!(!sma.is_warm());
        sma.update(20.0);
        assert_eq!(sma.value(), Some(15.0));
    }

    #[test]
    #[should_panic(expected = "SMA period must be at least 1")]
    fn zero_period_panics() {
        let _ = Sma::new(0);
    }
}
