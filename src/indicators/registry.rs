//! The registered indicator kinds: one line per kind in
//! `indicator_kinds!` generates the declaration ([`IndicatorSpec`]), the
//! live instance (`Slot`) and the value ([`IndicatorValue`]) enums, and the
//! [`Registered`] impl that lets a strategy read its typed output.
//!
//! Consumes nothing at run time; produces static dispatch: a `match` per
//! instance and candle, never a `dyn` call, never an allocation after
//! `create`.
//!
//! Adding a kind: implement [`Indicator`] in a new file of this folder
//! and add one line to the invocation at the end of this file.

use super::kind::{Bar, Indicator, ParamError};

/// An [`Indicator`] listed in the registry: convertible to and from the
/// registry's enums. Implemented by `indicator_kinds!` only.
pub trait Registered: Indicator {
    /// Returns the declaration of an instance with `params`.
    fn spec(params: Self::Params) -> IndicatorSpec;

    /// Returns this kind's output held in `value`; `None` when cold or
    /// when `value` belongs to another kind.
    fn read(value: &IndicatorValue) -> Option<Self::Output>;

    /// Wraps an output (for tests and scripted views).
    fn value(output: Option<Self::Output>) -> IndicatorValue;
}

macro_rules! indicator_kinds {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// One declared indicator instance: kind and parameters (the
        /// timeframe is declared beside it).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum IndicatorSpec {
            $($(#[$doc])* $variant(<$ty as Indicator>::Params),)*
        }

        /// One live instance, dispatched by `match`.
        #[derive(Debug)]
        pub(crate) enum Slot {
            $($(#[$doc])* $variant($ty),)*
        }

        /// The output of one instance after the latest candle, `None`
        /// inside while cold.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum IndicatorValue {
            $($(#[$doc])* $variant(Option<<$ty as Indicator>::Output>),)*
        }

        impl IndicatorSpec {
            /// Returns the kind name, e.g. `ema`.
            #[must_use]
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$ty as Indicator>::KIND,)*
                }
            }

            /// Checks the parameters.
            ///
            /// # Errors
            /// The kind's [`ParamError`].
            pub fn check(&self) -> Result<(), ParamError> {
                match self {
                    $(Self::$variant(p) => <$ty as Indicator>::check(*p),)*
                }
            }

            /// Returns the candles of its timeframe before the first output.
            #[must_use]
            pub fn warmup_candles(&self) -> usize {
                match self {
                    $(Self::$variant(p) => <$ty as Indicator>::warmup_candles(*p),)*
                }
            }

            /// Builds the instance; the parameters passed [`check`](Self::check).
            pub(crate) fn create(&self) -> Slot {
                match self {
                    $(Self::$variant(p) => Slot::$variant(<$ty as Indicator>::create(*p)),)*
                }
            }

            /// Returns the cold value of this kind.
            pub(crate) fn cold(&self) -> IndicatorValue {
                match self {
                    $(Self::$variant(_) => IndicatorValue::$variant(None),)*
                }
            }
        }

        impl IndicatorValue {
            /// Returns true when the instance had its full warm-up.
            #[must_use]
            pub fn is_warm(&self) -> bool {
                match self {
                    $(Self::$variant(out) => out.is_some(),)*
                }
            }
        }

        impl Slot {
            /// Folds in one candle.
            #[inline]
            pub(crate) fn push(&mut self, bar: &Bar) {
                match self {
                    $(Self::$variant(x) => x.push(bar),)*
                }
            }

            /// Returns the current output.
            #[inline]
            pub(crate) fn output(&self) -> IndicatorValue {
                match self {
                    $(Self::$variant(x) => IndicatorValue::$variant(x.output()),)*
                }
            }

            /// Forgets every candle.
            pub(crate) fn reset(&mut self) {
                match self {
                    $(Self::$variant(x) => x.reset(),)*
                }
            }
        }

        impl crate::checkpoint::Restore for Slot {
            fn save(&self, w: &mut crate::checkpoint::StateWriter) {
                match self {
                    $(Self::$variant(x) => {
                        w.blob(<$ty as Indicator>::KIND.as_bytes());
                        crate::checkpoint::Restore::save(x, w);
                    })*
                }
            }

            fn restore(
                &mut self,
                r: &mut crate::checkpoint::StateReader<'_>,
            ) -> Result<(), crate::checkpoint::StateError> {
                let kind = r.text("indicator kind")?;
                match self {
                    $(Self::$variant(x) => {
                        if kind != <$ty as Indicator>::KIND {
                            return Err(crate::checkpoint::StateError::Kind {
                                expected: <$ty as Indicator>::KIND,
                                found: kind.to_owned(),
                            });
                        }
                        crate::checkpoint::Restore::restore(x, r)
                    })*
                }
            }
        }

        $(
            impl Registered for $ty {
                fn spec(params: Self::Params) -> IndicatorSpec {
                    IndicatorSpec::$variant(params)
                }

                #[inline]
                fn read(value: &IndicatorValue) -> Option<Self::Output> {
                    match value {
                        IndicatorValue::$variant(out) => *out,
                        #[allow(unreachable_patterns, reason = "one arm per registered kind")]
                        _ => None,
                    }
                }

                fn value(output: Option<Self::Output>) -> IndicatorValue {
                    IndicatorValue::$variant(output)
                }
            }
        )*
    };
}

indicator_kinds! {
    /// Simple moving average of closes.
    Sma(super::Sma),
    /// Simple moving average of volumes.
    VolumeSma(super::VolumeSma),
    /// Exponential moving average of closes, with its previous value.
    Ema(super::Ema),
    /// Wilder RSI of closes.
    Rsi(super::Rsi),
    /// Wilder average true range.
    Atr(super::Atr),
    /// Bollinger bands of closes.
    Bollinger(super::Bollinger),
    /// Highest high of the candles before the newest.
    PriorHigh(super::PriorHigh),
    /// Lowest low of the candles before the newest.
    PriorLow(super::PriorLow),
    /// MACD line, signal line and histogram of closes.
    Macd(super::Macd),
}

crate::checkpoint::restore_by_value!(super::Ema, super::Atr, super::Rsi, super::Macd);

impl IndicatorSpec {
    /// Returns true when `other` is the same kind (any parameters).
    #[must_use]
    pub fn same_kind(&self, other: &Self) -> bool {
        core::mem::discriminant(self) == core::mem::discriminant(other)
    }
}
