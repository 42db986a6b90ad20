//! All indicators of one timeframe, updated together once per closed candle.
//!
//! Consumes closed [`Candle`]s of a single timeframe (1m or 5m) and produces an
//! [`IndicatorSnapshot`]: the eight TA-Lib reference columns (SMA 20/50/200,
//! EMA 20/50, RSI 14, ATR 14, Bollinger 20/2), the EMA(fast) one candle
//! earlier, the volume SMA and the prior-candle channel. Periods come from
//! [`IndicatorPeriods`] (config). Allocates only in the constructor; an update
//! is O(1) and never allocates, locks or logs.

use std::fmt;

use crate::types::Candle;

use super::{Atr, Bands, Bollinger, Ema, PriorChannel, Rsi, Sma};

/// Periods of the indicators of one timeframe; the defaults are the
/// reference columns and the docs/STRATEGIES.md lookbacks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorPeriods {
    /// Fast SMA of closes (default 20).
    pub sma_fast: usize,
    /// Middle SMA of closes (default 50).
    pub sma_mid: usize,
    /// Slow SMA of closes (default 200).
    pub sma_slow: usize,
    /// Fast EMA of closes (default 20).
    pub ema_fast: usize,
    /// Slow EMA of closes (default 50).
    pub ema_slow: usize,
    /// RSI period (default 14).
    pub rsi: usize,
    /// ATR period (default 14).
    pub atr: usize,
    /// Bollinger window (default 20).
    pub bollinger: usize,
    /// Bollinger width in population standard deviations (default 2.0).
    pub bollinger_k: f64,
    /// SMA of volume (default 20).
    pub volume_sma: usize,
    /// Highest-high lookback over the candles before the newest (default 60).
    pub channel_high: usize,
    /// Lowest-low lookback over the candles before the newest (default 20).
    pub channel_low: usize,
}

impl Default for IndicatorPeriods {
    fn default() -> Self {
        Self {
            sma_fast: 20,
            sma_mid: 50,
            sma_slow: 200,
            ema_fast: 20,
            ema_slow: 50,
            rsi: 14,
            atr: 14,
            bollinger: 20,
            bollinger_k: 2.0,
            volume_sma: 20,
            channel_high: 60,
            channel_low: 20,
        }
    }
}

/// Why a set of [`IndicatorPeriods`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PeriodError {
    /// A period is 0; names the field.
    Zero {
        /// Field name in [`IndicatorPeriods`].
        field: &'static str,
    },
    /// The Bollinger width is negative, infinite or NaN.
    BollingerWidth {
        /// The rejected width.
        k: f64,
    },
}

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zero { field } => write!(f, "Indicator period `{field}` must be at least 1"),
            Self::BollingerWidth { k } => write!(
                f,
                "Bollinger width `bollinger_k` must be finite and non-negative, got {k}"
            ),
        }
    }
}

impl std::error::Error for PeriodError {}

impl IndicatorPeriods {
    /// Checks every period is at least 1 and the Bollinger width is usable.
    ///
    /// # Errors
    /// [`PeriodError::Zero`] naming the first zero period, or
    /// [`PeriodError::BollingerWidth`].
    pub fn validate(&self) -> Result<(), PeriodError> {
        let periods = [
            ("sma_fast", self.sma_fast),
            ("sma_mid", self.sma_mid),
            ("sma_slow", self.sma_slow),
            ("ema_fast", self.ema_fast),
            ("ema_slow", self.ema_slow),
            ("rsi", self.rsi),
            ("atr", self.atr),
            ("bollinger", self.bollinger),
            ("volume_sma", self.volume_sma),
            ("channel_high", self.channel_high),
            ("channel_low", self.channel_low),
        ];
        if let Some((field, _)) = periods.iter().find(|(_, period)| *period == 0) {
            return Err(PeriodError::Zero { field });
        }
        if !(self.bollinger_k.is_finite() && self.bollinger_k >= 0.0) {
            return Err(PeriodError::BollingerWidth {
                k: self.bollinger_k,
            });
        }
        Ok(())
    }
}

/// Indicator values after the latest candle; `None` where not yet warm.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IndicatorSnapshot {
    /// SMA(`sma_fast`) of closes.
    pub sma_fast: Option<f64>,
    /// SMA(`sma_mid`) of closes.
    pub sma_mid: Option<f64>,
    /// SMA(`sma_slow`) of closes.
    pub sma_slow: Option<f64>,
    /// EMA(`ema_fast`) of closes.
    pub ema_fast: Option<f64>,
    /// EMA(`ema_fast`) one candle earlier.
    pub ema_fast_prev: Option<f64>,
    /// EMA(`ema_slow`) of closes.
    pub ema_slow: Option<f64>,
    /// RSI(`rsi`) of closes, in [0, 100].
    pub rsi: Option<f64>,
    /// ATR(`atr`), never negative.
    pub atr: Option<f64>,
    /// Bollinger(`bollinger`, `bollinger_k`) of closes.
    pub bands: Option<Bands>,
    /// SMA(`volume_sma`) of volumes.
    pub volume_sma: Option<f64>,
    /// Highest high of the `channel_high` candles before the latest.
    pub prior_high: Option<f64>,
    /// Lowest low of the `channel_low` candles before the latest.
    pub prior_low: Option<f64>,
}

impl IndicatorSnapshot {
    /// Returns true when every value is present.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.sma_fast.is_some()
            && self.sma_mid.is_some()
            && self.sma_slow.is_some()
            && self.ema_fast.is_some()
            && self.ema_fast_prev.is_some()
            && self.ema_slow.is_some()
            && self.rsi.is_some()
            && self.atr.is_some()
            && self.bands.is_some()
            && self.volume_sma.is_some()
            && self.prior_high.is_some()
            && self.prior_low.is_some()
    }
}

/// The indicators of one timeframe, fed one closed candle at a time.
#[derive(Debug)]
pub struct TimeframeIndicators {
    /// Validated periods this set was built with.
    periods: IndicatorPeriods,
    /// `None` when `sma_fast == bollinger`: the Bollinger middle band is the
    /// same SMA over the same window (bit-identical arithmetic), so it is
    /// not computed twice (saves one window per candle, bench
    /// `indicators/timeframe_bundle`).
    sma_fast: Option<Sma>,
    sma_mid: Sma,
    sma_slow: Sma,
    ema_fast: Ema,
    ema_slow: Ema,
    rsi: Rsi,
    atr: Atr,
    bollinger: Bollinger,
    volume_sma: Sma,
    channel: PriorChannel,
}

impl TimeframeIndicators {
    /// Builds the set, preallocating every window.
    ///
    /// # Errors
    /// The [`PeriodError`] of [`IndicatorPeriods::validate`].
    pub fn try_new(periods: IndicatorPeriods) -> Result<Self, PeriodError> {
        periods.validate()?;
        Ok(Self::build(periods))
    }

    /// Builds the set with [`IndicatorPeriods::default`].
    #[must_use]
    pub fn with_default_periods() -> Self {
        Self::build(IndicatorPeriods::default())
    }

    /// Builds the set from periods that passed [`IndicatorPeriods::validate`].
    fn build(periods: IndicatorPeriods) -> Self {
        Self {
            periods,
            sma_fast: (periods.sma_fast != periods.bollinger).then(|| Sma::new(periods.sma_fast)),
            sma_mid: Sma::new(periods.sma_mid),
            sma_slow: Sma::new(periods.sma_slow),
            ema_fast: Ema::new(periods.ema_fast),
            ema_slow: Ema::new(periods.ema_slow),
            rsi: Rsi::new(periods.rsi),
            atr: Atr::new(periods.atr),
            bollinger: Bollinger::new(periods.bollinger, periods.bollinger_k),
            volume_sma: Sma::new(periods.volume_sma),
            channel: PriorChannel::with_periods(periods.channel_high, periods.channel_low),
        }
    }

    /// Folds in one closed candle.
    #[inline]
    pub fn update(&mut self, candle: &Candle) {
        self.update_values(
            candle.high.to_f64(),
            candle.low.to_f64(),
            candle.close.to_f64(),
            candle.volume.to_f64(),
        );
    }

    /// Folds in one closed candle given as f64 high, low, close and volume
    /// (the open is used by no indicator).
    #[inline]
    pub fn update_values(&mut self, high: f64, low: f64, close: f64, volume: f64) {
        if let Some(sma) = &mut self.sma_fast {
            sma.update(close);
        }
        self.sma_mid.update(close);
        self.sma_slow.update(close);
        self.ema_fast.update(close);
        self.ema_slow.update(close);
        self.rsi.update(close);
        self.atr.update(high, low, close);
        self.bollinger.update(close);
        self.volume_sma.update(volume);
        self.channel.update(high, low);
    }

    /// Returns every value after the latest candle.
    #[inline]
    #[must_use]
    pub fn snapshot(&self) -> IndicatorSnapshot {
        let bands = self.bollinger.value();
        IndicatorSnapshot {
            sma_fast: match &self.sma_fast {
                Some(sma) => sma.value(),
                None => bands.map(|b| b.middle),
            },
            sma_mid: self.sma_mid.value(),
            sma_slow: self.sma_slow.value(),
            ema_fast: self.ema_fast.value(),
            ema_fast_prev: self.ema_fast.prev_value(),
            ema_slow: self.ema_slow.value(),
            rsi: self.rsi.value(),
            atr: self.atr.value(),
            bands,
            volume_sma: self.volume_sma.value(),
            prior_high: self.channel.highest(),
            prior_low: self.channel.lowest(),
        }
    }

    /// Returns true when every indicator has seen its full period (and the
    /// previous fast EMA exists).
    #[must_use]
    pub fn is_warm(&self) -> bool {
        self.sma_fast.as_ref().is_none_or(Sma::is_warm)
            && self.sma_mid.is_warm()
            && self.sma_slow.is_warm()
            && self.ema_fast.prev_value().is_some()
            && self.ema_slow.is_warm()
            && self.rsi.is_warm()
            && self.atr.is_warm()
            && self.bollinger.is_warm()
            && self.volume_sma.is_warm()
            && self.channel.is_warm()
    }

    /// Returns the periods this set was built with.
    #[must_use]
    pub fn periods(&self) -> &IndicatorPeriods {
        &self.periods
    }

    /// Forgets every candle (after a gap that cannot be backfilled, say).
    /// Does not allocate.
    pub fn reset(&mut self) {
        if let Some(sma) = &mut self.sma_fast {
            sma.reset();
        }
        self.sma_mid.reset();
        self.sma_slow.reset();
        self.ema_fast.reset();
        self.ema_slow.reset();
        self.rsi.reset();
        self.atr.reset();
        self.bollinger.reset();
        self.volume_sma.reset();
        self.channel.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, Qty, SymbolId, TimestampNs};

    #[test]
    fn zero_period_is_rejected_naming_the_field() {
        let periods = IndicatorPeriods {
            channel_low: 0,
            ..IndicatorPeriods::default()
        };
        let err = TimeframeIndicators::try_new(periods).unwrap_err();
        assert_eq!(
            err,
            PeriodError::Zero {
                field: "channel_low"
            }
        );
        assert_eq!(
            err.to_string(),
            "Indicator period `channel_low` must be at least 1"
        );
    }

    #[test]
    fn unusable_bollinger_width_is_rejected() {
        for k in [-0.5, f64::NAN, f64::INFINITY] {
            let periods = IndicatorPeriods {
                bollinger_k: k,
                ..IndicatorPeriods::default()
            };
            let err = periods.validate().unwrap_err();
            assert!(matches!(err, PeriodError::BollingerWidth { .. }), "{k}");
            assert!(err.to_string().contains("bollinger_k"));
        }
        assert_eq!(IndicatorPeriods::default().validate(), Ok(()));
    }

    #[test]
    fn candle_update_equals_update_with_its_f64_fields() {
        let mut from_candles = TimeframeIndicators::with_default_periods();
        let mut from_values = TimeframeIndicators::with_default_periods();
        for i in 0..300i32 {
            let close = 100_000.0 + f64::from(i % 17) * 3.1 - f64::from(i % 5) * 7.3;
            let candle = Candle {
                symbol: SymbolId(1),
                open_time: TimestampNs::from_ms(60_000 * i64::from(i)),
                open: Price::from_f64(close - 1.0).unwrap(),
                high: Price::from_f64(close + 2.5).unwrap(),
                low: Price::from_f64(close - 4.0).unwrap(),
                close: Price::from_f64(close).unwrap(),
                volume: Qty::from_f64(1.5 + f64::from(i % 7)).unwrap(),
                trade_count: 3,
            };
            from_candles.update(&candle);
            from_values.update_values(
                candle.high.to_f64(),
                candle.low.to_f64(),
                candle.close.to_f64(),
                candle.volume.to_f64(),
            );
            assert_eq!(from_candles.snapshot(), from_values.snapshot());
        }
        assert!(from_candles.is_warm());
        assert!(from_candles.snapshot().is_complete());
        assert_eq!(from_candles.periods(), &IndicatorPeriods::default());
    }

    #[test]
    fn warm_only_once_every_indicator_has_its_period_and_reset_clears_it() {
        let periods = IndicatorPeriods::default();
        let mut set = TimeframeIndicators::with_default_periods();
        // SMA(200) is the longest window: warm on the 200th candle.
        for i in 0..periods.sma_slow {
            assert!(!set.is_warm(), "warm after {i} candles");
            #[allow(clippy::cast_precision_loss, reason = "small test index")]
            let close = 50.0 + (i % 9) as f64;
            set.update_values(close + 1.0, close - 1.0, close, 10.0);
        }
        assert!(set.is_warm());
        set.reset();
        assert!(!set.is_warm());
        assert_eq!(set.snapshot(), IndicatorSnapshot::default());
    }
}
