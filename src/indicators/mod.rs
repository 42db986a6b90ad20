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
//! Each update is O(1) (amortized for the channel and the periodic exact
//! recomputation of window sums) and works in windows preallocated at
//! construction: nothing here allocates, locks, logs or blocks after `new`.
//! Maths is f64 (indicators never reach an order directly).

mod atr;
mod bollinger;
mod bundle;
mod channel;
mod ema;
mod rsi;
mod sma;
mod window;

#[cfg(test)]
mod property_tests;

pub use atr::{true_range, Atr};
pub use bollinger::{Bands, Bollinger};
pub use bundle::{IndicatorPeriods, IndicatorSnapshot, PeriodError, TimeframeIndicators};
pub use channel::PriorChannel;
pub use ema::Ema;
pub use rsi::Rsi;
pub use sma::Sma;
