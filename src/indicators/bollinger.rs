//! Bollinger bands: SMA plus and minus `k` population standard deviations.
//!
//! Consumes one close per candle and produces [`Bands`] over the last `n`
//! closes, first on the `n`-th update like TA-Lib's `BBANDS` (SMA, equal up
//! and down deviations). The variance comes from drift-free anchored sums
//! (see `window`) and is clamped at 0, so it never goes negative. O(1) per
//! update; allocates only in `new`.

use super::kind::{check_period, Bar, Indicator, ParamError};
use super::window::WindowSums;

/// Upper, middle and lower Bollinger band at one candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// `middle + k * stddev`.
    pub upper: f64,
    /// SMA of the window.
    pub middle: f64,
    /// `middle - k * stddev`.
    pub lower: f64,
}

/// Bollinger bands over `period` closes, `k` standard deviations wide.
#[derive(Debug)]
pub struct Bollinger {
    /// The window with its running sum and sum of squares.
    window: WindowSums<true>,
    /// Band width in standard deviations, finite and non-negative.
    k: f64,
}

impl Bollinger {
    /// Creates bands over `period` closes, `k` standard deviations wide.
    ///
    /// # Panics
    /// Panics when `period` is 0 or `k` is negative or not finite (both are
    /// validated with the config).
    #[must_use]
    pub fn new(period: usize, k: f64) -> Self {
        assert!(period > 0, "Bollinger period must be at least 1");
        assert!(
            k.is_finite() && k >= 0.0,
            "Bollinger width must be finite and non-negative"
        );
        Self {
            window: WindowSums::new(period),
            k,
        }
    }

    /// Folds in one close.
    #[inline]
    pub fn update(&mut self, close: f64) {
        self.window.push(close);
    }

    /// Returns the bands, or `None` until `period` closes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<Bands> {
        if !self.window.is_full() {
            return None;
        }
        let middle = self.window.mean();
        let width = self.k * self.window.variance().sqrt();
        Some(Bands {
            upper: middle + width,
            middle,
            lower: middle - width,
        })
    }

    /// Returns the population standard deviation of the window, or `None`
    /// until `period` closes were seen.
    #[inline]
    #[must_use]
    pub fn stddev(&self) -> Option<f64> {
        self.window.is_full().then(|| self.window.variance().sqrt())
    }

    /// Returns true once `period` closes were seen.
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

    /// Returns the band width in standard deviations.
    #[must_use]
    pub fn k(&self) -> f64 {
        self.k
    }

    /// Forgets all closes; the bands are cold again. Does not allocate.
    pub fn reset(&mut self) {
        self.window.reset();
    }
}

/// Parameters of a [`Bollinger`] instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerParams {
    /// Window, closes.
    pub period: usize,
    /// Width in population standard deviations, finite and non-negative.
    pub k: f64,
}

impl Indicator for Bollinger {
    type Params = BollingerParams;
    type Output = Bands;
    const KIND: &'static str = "bollinger";

    fn check(p: BollingerParams) -> Result<(), ParamError> {
        check_period(Self::KIND, p.period)?;
        if p.k.is_finite() && p.k >= 0.0 {
            Ok(())
        } else {
            Err(ParamError::Value {
                kind: Self::KIND,
                reason: "the width k must be finite and non-negative",
            })
        }
    }

    fn create(p: BollingerParams) -> Self {
        Self::new(p.period, p.k)
    }

    fn warmup_candles(p: BollingerParams) -> usize {
        p.period
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.update(bar.close);
    }

    #[inline]
    fn output(&self) -> Option<Bands> {
        self.value()
    }

    fn reset(&mut self) {
        Bollinger::reset(self);
    }
}

impl crate::checkpoint::Restore for Bollinger {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        crate::checkpoint::Restore::save(&self.window, w);
        w.put(&self.k);
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::Restore::restore(&mut self.window, r)?;
        self.k = r.take()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_mean_plus_minus_k_population_stddev() {
        let mut bb = Bollinger::new(4, 2.0);
        for x in [2.0, 4.0, 4.0, 4.0] {
            bb.update(x);
        }
        // mean 3.5, population variance (2.25 + 3 * 0.25) / 4 = 0.75
        let bands = bb.value().unwrap();
        let sd = 0.75f64.sqrt();
        assert!((bands.middle - 3.5).abs() < 1e-15);
        assert!((bands.upper - (3.5 + 2.0 * sd)).abs() < 1e-14);
        assert!((bands.lower - (3.5 - 2.0 * sd)).abs() < 1e-14);
        assert!((bb.stddev().unwrap() - sd).abs() < 1e-15);
    }

    #[test]
    fn flat_window_has_zero_width_not_nan() {
        let mut bb = Bollinger::new(3, 2.0);
        for _ in 0..5000 {
            bb.update(104_250.3);
        }
        let bands = bb.value().unwrap();
        assert_eq!(bb.stddev(), Some(0.0));
        assert_eq!(bands.upper, bands.lower);
    }

    #[test]
    fn cold_until_period_then_reset_makes_it_cold_again() {
        let mut bb = Bollinger::new(2, 1.0);
        bb.update(1.0);
        assert_eq!(bb.value(), None);
        bb.update(3.0);
        assert_eq!(
            bb.value(),
            Some(Bands {
                upper: 3.0,
                middle: 2.0,
                lower: 1.0
            })
        );
        bb.reset();
        assert!(!bb.is_warm());
        assert_eq!(bb.stddev(), None);
    }

    #[test]
    #[should_panic(expected = "Bollinger width must be finite and non-negative")]
    fn negative_width_panics() {
        let _ = Bollinger::new(20, -1.0);
    }
}
