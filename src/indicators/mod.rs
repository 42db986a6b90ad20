//! Incremental technical indicators, equal to TA-Lib on the same input.
//!
//! Consumes closed candles (or their f64 high/low/close/volume) one at a time
//! and produces indicator values: [`Sma`], [`Ema`], [`Rsi`], [`Atr`],
//! [`Bollinger`] and the [`PriorChannel`] (highest high / lowest low of the
//! candles before the newest), bundled per timeframe in
//! [`TimeframeIndicators`]. Every indicator reports `None` until it has seen
//! its full period, and its first value appears on exactly the candle where
//! TA-Lib's first non-empty value appears.
//!
//! Strategies do not use a fixed bundle: each declares the indicators it
//! reads (kind, [`Timeframe`], parameters) to a [`Declare`]; the engine
//! preallocates the union as one [`IndicatorSet`] per timeframe and hands
//! back typed [`Ind`] handles. A kind is one file implementing
//! [`Indicator`] plus one line in `registry.rs`. [`TimeframeIndicators`]
//! is the fixed set of the TA-Lib reference columns (the `indicators`
//! command, the TA-Lib tests and the benches).
//!
//! Each update is O(1) (amortized for the channel and the periodic exact
//! recomputation of window sums) and works in windows preallocated at
//! construction: nothing here allocates, locks, logs or blocks after `new`.
//! Maths is f64 (indicators never reach an order directly).
//!
//! Agreement with TA-Lib (tests/indicators_talib.rs, BTCUSDT 1m and 5m):
//! EMA is bit-identical; SMA, Bollinger, RSI and ATR agree within 2e-14
//! relative (required: 1e-9). The differences are deliberate: window sums are
//! drift-free (TA-Lib's running sums carry rounding over the whole history),
//! Wilder smoothing and means multiply by `1/n` instead of dividing (one ulp
//! per update, damped), and the zero tests are exact: TA-Lib reports RSI 0
//! when the average gain plus loss is below an absolute epsilon and a
//! standard deviation of 0 when the variance is below it (1e-8 in the
//! classic C library), which would zero out instruments priced below about
//! 1e-4; here RSI is 0 only for an exactly flat window and
//! only a negative rounding residue of the variance is clamped to 0.

mod atr;
mod bollinger;
mod bundle;
mod channel;
mod declare;
mod ema;
mod kind;
mod macd;
mod registry;
mod rsi;
mod set;
mod sma;
mod window;

#[cfg(test)]
mod property_tests;

pub use atr::{true_range, Atr};
pub use bollinger::{Bands, Bollinger, BollingerParams};
pub use bundle::{IndicatorPeriods, IndicatorSnapshot, PeriodError, TimeframeIndicators};
pub use channel::{PriorChannel, PriorHigh, PriorLow};
pub use declare::{Declare, Declared, Ind, IndicatorLayout, Input, MAX_INPUTS};
pub use ema::{Ema, EmaValue};
pub use kind::{check_period, Bar, Indicator, ParamError, Timeframe, MAX_PERIOD};
pub use macd::{Macd, MacdParams, MacdValue};
pub use registry::{IndicatorSpec, IndicatorValue, Registered};
pub use rsi::Rsi;
pub use set::{IndicatorSet, IndicatorValues};
pub use sma::{Sma, VolumeSma};
