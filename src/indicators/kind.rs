//! The indicator plug-in interface: what one indicator kind implements so
//! that strategies can declare it and the engine can preallocate it.
//!
//! Consumes nothing at run time; defines [`Indicator`] (created from its
//! parameters, fed one closed [`Bar`] at a time, read as its `Output`),
//! the [`Timeframe`] a declaration is on, and the bounds every period must
//! respect. An implementation allocates only in `create` and never
//! allocates, locks, logs or blocks in `push`, `output` or `reset`.

use core::fmt;

/// Largest period or lookback any indicator accepts, in candles of its
/// timeframe. The configuration bounds the strategy keys tighter (see
/// `config.toml`); this is the last line before a window is allocated.
pub const MAX_PERIOD: usize = 100_000;

/// One closed candle as the indicators see it (the open is used by none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Traded base quantity.
    pub volume: f64,
}

/// The candle timeframe an indicator is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    /// 1-minute candles.
    M1,
    /// 5-minute candles (aggregated from 1m, wall-clock aligned).
    M5,
}

impl Timeframe {
    /// Returns the candle length in minutes.
    #[must_use]
    pub const fn minutes(self) -> u32 {
        match self {
            Self::M1 => 1,
            Self::M5 => 5,
        }
    }

    /// Returns `1m` or `5m`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
        }
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an indicator's parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamError {
    /// A period is 0 or above [`MAX_PERIOD`].
    Period {
        /// Indicator kind, e.g. `ema`.
        kind: &'static str,
        /// The rejected period.
        period: usize,
    },
    /// A non-period parameter is out of range (a Bollinger width, a
    /// fast period not below the slow one).
    Value {
        /// Indicator kind.
        kind: &'static str,
        /// What is wrong, with the allowed range.
        reason: &'static str,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Period { kind, period } => write!(
                f,
                "{kind} period must be in [1, {MAX_PERIOD}], got {period}"
            ),
            Self::Value { kind, reason } => write!(f, "{kind}: {reason}"),
        }
    }
}

impl std::error::Error for ParamError {}

/// Checks one period against `1..=MAX_PERIOD`.
///
/// # Errors
/// [`ParamError::Period`] naming `kind`.
pub fn check_period(kind: &'static str, period: usize) -> Result<(), ParamError> {
    if (1..=MAX_PERIOD).contains(&period) {
        Ok(())
    } else {
        Err(ParamError::Period { kind, period })
    }
}

/// One indicator kind. Implemented once per file in `src/indicators/` and
/// registered in `registry.rs`; strategies then declare instances of it
/// by timeframe and parameters.
pub trait Indicator: fmt::Debug + Send + Sized + 'static {
    /// What identifies an instance: its period(s) and options. Two
    /// declarations with equal parameters on one timeframe share one
    /// instance.
    type Params: Copy + PartialEq + fmt::Debug + Send;
    /// What a strategy reads once the indicator is warm.
    type Output: Copy + PartialEq + fmt::Debug + Send;
    /// Kind name for messages, e.g. `ema`.
    const KIND: &'static str;

    /// Checks parameters before [`create`](Self::create).
    ///
    /// # Errors
    /// [`ParamError`] naming the bad parameter.
    fn check(params: Self::Params) -> Result<(), ParamError>;

    /// Builds a cold instance, preallocating every window. Called only
    /// with parameters that passed [`check`](Self::check).
    fn create(params: Self::Params) -> Self;

    /// Returns how many candles of its timeframe pass before the first
    /// output (the warm-up the engine fetches history for).
    fn warmup_candles(params: Self::Params) -> usize;

    /// Folds in one closed candle. Must not allocate.
    fn push(&mut self, bar: &Bar);

    /// Returns the value after the latest candle, `None` while cold.
    fn output(&self) -> Option<Self::Output>;

    /// Forgets every candle; cold again. Must not allocate.
    fn reset(&mut self);
}
