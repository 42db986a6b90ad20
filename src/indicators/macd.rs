//! MACD (moving average convergence/divergence), TA-Lib style.
//!
//! Consumes one close per candle and produces [`MacdValue`]: the MACD line
//! `EMA(fast) - EMA(slow)`, its signal line `EMA(signal)` of the MACD line,
//! the histogram `macd - signal` and the histogram one candle earlier (a
//! cross is a sign change of the histogram). As TA-Lib's `MACD`: both EMAs
//! use `k = 2 / (n + 1)` and start on the same candle (the slow period's
//! last), the fast one seeded with the average of the `fast` closes ending
//! there, the slow one with the average of the first `slow` closes; the
//! signal EMA is seeded with the average of the first `signal` MACD values,
//! so the first output appears on candle `slow + signal - 1`, where
//! TA-Lib's first non-empty MACD row is. Never allocates; O(1) per update.

use super::ema::Ema;
use super::kind::{check_period, Bar, Indicator, ParamError};

/// Periods of a [`Macd`] instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacdParams {
    /// Fast EMA period; below `slow`.
    pub fast: usize,
    /// Slow EMA period.
    pub slow: usize,
    /// Signal EMA period (of the MACD line).
    pub signal: usize,
}

/// What a [`Macd`] gives a strategy after one candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// MACD line: fast EMA minus slow EMA.
    pub macd: f64,
    /// Signal line: EMA of the MACD line.
    pub signal: f64,
    /// `macd - signal`.
    pub histogram: f64,
    /// The histogram one candle earlier; `None` on the first output.
    pub previous_histogram: Option<f64>,
}

/// MACD over closes (see the module docs).
#[derive(Debug, Clone)]
pub struct Macd {
    /// Closes to skip before the fast EMA starts: `slow - fast`.
    fast_delay: usize,
    /// Closes seen, counted up to `fast_delay` only.
    seen: usize,
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Latest output; `None` until the signal line is warm.
    current: Option<MacdValue>,
}

impl Macd {
    /// Creates a MACD with the given periods.
    ///
    /// # Panics
    /// Panics when a period is 0 or `fast >= slow` (checked with the
    /// config and by [`Indicator::check`]).
    #[must_use]
    pub fn new(p: MacdParams) -> Self {
        assert!(
            p.fast > 0 && p.fast < p.slow && p.signal > 0,
            "MACD periods must satisfy 0 < fast < slow and signal > 0"
        );
        Self {
            fast_delay: p.slow - p.fast,
            seen: 0,
            fast: Ema::new(p.fast),
            slow: Ema::new(p.slow),
            signal: Ema::new(p.signal),
            current: None,
        }
    }

    /// Folds in one close.
    #[inline]
    pub fn update(&mut self, close: f64) {
        self.slow.update(close);
        if self.seen < self.fast_delay {
            self.seen += 1;
        } else {
            self.fast.update(close);
        }
        let (Some(fast), Some(slow)) = (self.fast.value(), self.slow.value()) else {
            return;
        };
        let macd = fast - slow;
        self.signal.update(macd);
        if let Some(signal) = self.signal.value() {
            let previous_histogram = self.current.map(|v| v.histogram);
            self.current = Some(MacdValue {
                macd,
                signal,
                histogram: macd - signal,
                previous_histogram,
            });
        }
    }

    /// Returns the latest output, or `None` until `slow + signal - 1`
    /// closes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<MacdValue> {
        self.current
    }

    /// Forgets all closes; cold again. Does not allocate.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.current = None;
    }
}

impl Indicator for Macd {
    type Params = MacdParams;
    type Output = MacdValue;
    const KIND: &'static str = "macd";

    fn check(p: MacdParams) -> Result<(), ParamError> {
        check_period(Self::KIND, p.fast)?;
        check_period(Self::KIND, p.slow)?;
        check_period(Self::KIND, p.signal)?;
        if p.fast < p.slow {
            Ok(())
        } else {
            Err(ParamError::Value {
                kind: Self::KIND,
                reason: "the fast period must be below the slow period",
            })
        }
    }

    fn create(p: MacdParams) -> Self {
        Self::new(p)
    }

    /// The first output, plus one candle for the previous histogram.
    fn warmup_candles(p: MacdParams) -> usize {
        p.slow + p.signal
    }

    #[inline]
    fn push(&mut self, bar: &Bar) {
        self.update(bar.close);
    }

    #[inline]
    fn output(&self) -> Option<MacdValue> {
        self.value()
    }

    fn reset(&mut self) {
        Macd::reset(self);
    }
}

crate::checkpoint::state_struct!(MacdValue {
    macd,
    signal,
    histogram,
    previous_histogram
});
crate::checkpoint::state_struct!(Macd {
    fast_delay,
    seen,
    fast,
    slow,
    signal,
    current
});

#[cfg(test)]
#[path = "macd_tests.rs"]
mod tests;
