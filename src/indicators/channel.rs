//! Highest high and lowest low of the candles *before* the latest one.
//!
//! Consumes high and low per candle and produces `HH(n)` / `LL(n)` as the
//! strategies define them (docs/STRATEGIES.md: the `n` 1m candles before `c1[0]`,
//! not including it), so a breakout test `close > highest()` compares the
//! newest candle against the channel it is breaking out of. The newest
//! candle is held back one update before it enters the rolling windows.
//! O(1) amortized per update with van Herk / Gil-Werman blocks
//! ([`ringbuf::BlockMax`]: same results as the monotonic deque of
//! `RollingMax`, measured faster on real BTCUSDT highs/lows by
//! `prior_channel60_20` in `bench/src/bin/indicators_latency.rs`);
//! allocates only in `new`.

use ringbuf::{BlockMax, BlockMin};

use super::kind::{check_period, Bar, Indicator, ParamError};

/// Rolling highest high and lowest low over the candles before the newest.
#[derive(Debug)]
pub struct PriorChannel {
    /// Highs of the candles before the newest; window `high_period`.
    highs: BlockMax<f64>,
    /// Lows of the candles before the newest; window `low_period`.
    lows: BlockMin<f64>,
    /// High and low of the newest candle, not yet in the windows.
    newest: Option<(f64, f64)>,
    /// Lookback of `highest`, at least 1.
    high_period: usize,
    /// Lookback of `lowest`, at least 1.
    low_period: usize,
}

impl PriorChannel {
    /// Creates a channel with the same lookback for highs and lows.
    ///
    /// # Panics
    /// Panics when `period` is 0 (periods are validated with the config).
    #[must_use]
    pub fn new(period: usize) -> Self {
        Self::with_periods(period, period)
    }

    /// Creates a channel whose highest high looks back `high_period` candles
    /// and whose lowest low looks back `low_period` candles (the long and
    /// short strategies use different lookbacks).
    ///
    /// # Panics
    /// Panics when either period is 0 (periods are validated with the config).
    #[must_use]
    pub fn with_periods(high_period: usize, low_period: usize) -> Self {
        assert!(
            high_period > 0 && low_period > 0,
            "Channel periods must be at least 1"
        );
        Self {
            highs: BlockMax::new(high_period),
            lows: BlockMin::new(low_period),
            newest: None,
            high_period,
            low_period,
        }
    }

    /// Folds in one candle; afterwards the extremes cover the candles before it.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64) {
        if let Some((prev_high, prev_low)) = self.newest.replace((high, low)) {
            self.highs.push(prev_high);
            self.lows.push(prev_low);
        }
    }

    /// Returns the highest high of the `high_period` candles before the
    /// newest, or `None` until `high_period + 1` candles were seen.
    #[inline]
    #[must_use]
    pub fn highest(&self) -> Option<f64> {
        if self.highs.is_full() {
            self.highs.max()
        } else {
            None
        }
    }

    /// Returns the lowest low of the `low_period` candles before the newest,
    /// or `None` until `low_period + 1` candles were seen.
    #[inline]
    #[must_use]
    pub fn lowest(&self) -> Option<f64> {
        if self.lows.is_full() {
            self.lows.min()
        } else {
            None
        }
    }

    /// Returns true once both extremes are available.
    #[inline]
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.highs.is_full() && self.lows.is_full()
    }

    /// Returns the lookback of [`highest`](Self::highest).
    #[must_use]
    pub fn high_period(&self) -> usize {
        self.high_period
    }

    /// Returns the lookback of [`lowest`](Self::lowest).
    #[must_use]
    pub fn low_period(&self) -> usize {
        self.low_period
    }

    /// Forgets all candles; the channel is cold again. Does not allocate.
    pub fn reset(&mut self) {
        self.highs.clear();
        self.lows.clear();
        self.newest = None;
    }
}

macro_rules! prior_extreme {
    ($(#[$doc:meta])* $name:ident, $window:ident, $read:ident, $field:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            /// The candles before the newest; window = the lookback.
            window: $window<f64>,
            /// The newest candle's value, not yet in the window.
            newest: Option<f64>,
        }

        impl Indicator for $name {
            type Params = usize;
            type Output = f64;
            const KIND: &'static str = $kind;

            fn check(lookback: usize) -> Result<(), ParamError> {
                check_period(Self::KIND, lookback)
            }

            fn create(lookback: usize) -> Self {
                Self {
                    window: $window::new(lookback),
                    newest: None,
                }
            }

            /// The lookback plus the newest candle, which is not in it.
            fn warmup_candles(lookback: usize) -> usize {
                lookback + 1
            }

            #[inline]
            fn push(&mut self, bar: &Bar) {
                if let Some(prev) = self.newest.replace(bar.$field) {
                    self.window.push(prev);
                }
            }

            #[inline]
            fn output(&self) -> Option<f64> {
                if self.window.is_full() {
                    self.window.$read()
                } else {
                    None
                }
            }

            fn reset(&mut self) {
                self.window.clear();
                self.newest = None;
            }
        }

        impl crate::checkpoint::Restore for $name {
            fn save(&self, w: &mut crate::checkpoint::StateWriter) {
                crate::checkpoint::save_block(&self.window.state(), w);
                w.put(&self.newest);
            }

            fn restore(
                &mut self,
                r: &mut crate::checkpoint::StateReader<'_>,
            ) -> Result<(), crate::checkpoint::StateError> {
                let state = crate::checkpoint::take_block(r)?;
                self.window
                    .restore(&state)
                    .map_err(|e| crate::checkpoint::StateError::Shape {
                        what: "channel window",
                        expected: e.window as u64,
                        found: state.current.len() as u64,
                    })?;
                self.newest = r.take()?;
                Ok(())
            }
        }
    };
}

prior_extreme!(
    /// Highest high of the `lookback` candles before the newest (`HH(n)`
    /// of docs/STRATEGIES.md), the same values as [`PriorChannel::highest`].
    PriorHigh,
    BlockMax,
    max,
    high,
    "prior_high"
);

prior_extreme!(
    /// Lowest low of the `lookback` candles before the newest (`LL(n)`
    /// of docs/STRATEGIES.md), the same values as [`PriorChannel::lowest`].
    PriorLow,
    BlockMin,
    min,
    low,
    "prior_low"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_exclude_the_newest_candle() {
        let mut ch = PriorChannel::new(2);
        ch.update(10.0, 5.0);
        ch.update(12.0, 6.0);
        assert!(!ch.is_warm());
        ch.update(100.0, 1.0);
        // covers the two candles before the newest one only
        assert_eq!(ch.highest(), Some(12.0));
        assert_eq!(ch.lowest(), Some(5.0));
        ch.update(11.0, 7.0);
        assert_eq!(ch.highest(), Some(100.0));
        assert_eq!(ch.lowest(), Some(1.0));
    }

    #[test]
    fn separate_lookbacks_warm_separately() {
        let mut ch = PriorChannel::with_periods(3, 1);
        ch.update(10.0, 5.0);
        ch.update(11.0, 6.0);
        assert_eq!(ch.lowest(), Some(5.0));
        assert_eq!(ch.highest(), None);
        assert!(!ch.is_warm());
        ch.update(9.0, 4.0);
        ch.update(8.0, 3.0);
        assert_eq!(ch.highest(), Some(11.0));
        assert_eq!(ch.lowest(), Some(4.0));
        assert!(ch.is_warm());
    }

    #[test]
    fn reset_makes_it_cold_again() {
        let mut ch = PriorChannel::new(1);
        ch.update(2.0, 1.0);
        ch.update(3.0, 2.0);
        assert!(ch.is_warm());
        ch.reset();
        ch.update(9.0, 8.0);
        assert!(!ch.is_warm());
        assert_eq!(ch.highest(), None);
    }

    #[test]
    #[should_panic(expected = "Channel periods must be at least 1")]
    fn zero_period_panics() {
        let _ = PriorChannel::with_periods(20, 0);
    }

    #[test]
    fn prior_high_and_low_kinds_equal_the_channel() {
        let mut ch = PriorChannel::with_periods(3, 2);
        let mut high = PriorHigh::create(3);
        let mut low = PriorLow::create(2);
        for i in 0..40i32 {
            let mid = f64::from((i * 7) % 11);
            let bar = Bar {
                high: mid + 1.0,
                low: mid - 1.0,
                close: mid,
                volume: 1.0,
            };
            ch.update(bar.high, bar.low);
            high.push(&bar);
            low.push(&bar);
            assert_eq!(high.output(), ch.highest(), "candle {i}");
            assert_eq!(low.output(), ch.lowest(), "candle {i}");
        }
        high.reset();
        assert_eq!(high.output(), None);
        assert_eq!(PriorHigh::warmup_candles(3), 4);
    }
}
