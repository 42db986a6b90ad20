//! The strategy plug-in interface: what one strategy file implements
//! ([`Plugin`] for the strategy, [`StrategyConfig`] for its
//! `[strategies.<name>]` table), the parameter bounds every strategy
//! shares ([`ParamCheck`]), and the adapter ([`Plugged`]) that turns a
//! plug-in into the [`Strategy`] the core evaluates.
//!
//! Consumes a plug-in's declarations; produces config checks with the full
//! key path, indicator declarations and a `Box<dyn Strategy>`. Evaluation
//! through [`Plugged`] never allocates, logs or reads a clock.

use core::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{MarketView, Signal, StrategiesConfig, Strategy};
use crate::indicators::{Declare, Declared, Timeframe};

/// Longest period or lookback on 1m candles: one week. The warm-up fetches
/// this much 1m history from the exchange at start-up.
pub const MAX_PERIOD_1M: usize = 10_080;
/// Longest period on 5m candles: one week (2,016 candles = 10,080 minutes
/// of warm-up).
pub const MAX_PERIOD_5M: usize = 2_016;
/// Largest multiple of ATR a threshold or exit distance may be.
pub const MAX_ATR_MULT: f64 = 100.0;
/// Largest multiple of the volume SMA the volume test may ask for.
pub const MAX_VOLUME_MULT: f64 = 100.0;

/// A strategy's `[strategies.<name>]` table: a serde struct with defaults
/// (missing keys take them, unknown keys are refused) and its checks.
pub trait StrategyConfig:
    Serialize + DeserializeOwned + Default + Clone + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// Keys a reload may change (thresholds, exits, `enabled`); every other
    /// key needs a restart (periods size preallocated windows).
    const RELOADABLE: &'static [&'static str];

    /// Returns whether the strategy runs.
    fn enabled(&self) -> bool;

    /// Switches the strategy on or off (`backtest --strategy`).
    fn set_enabled(&mut self, on: bool);

    /// Records every out-of-range value and broken relation.
    fn validate(&self, check: &mut ParamCheck<'_>);
}

/// One strategy type. Everything else (config parsing, `strategies.order`,
/// the indicator windows, warm-up, reload, `backtest --strategy`, the
/// report's row) derives from this and one line in the registry
/// (`src/strategy/mod.rs`).
pub trait Plugin: fmt::Debug + Send + Sized + 'static {
    /// Configuration name: the `[strategies.<NAME>]` table, the
    /// `strategies.order` entry, the journal and report name. Must equal
    /// the registry line's field name (checked at compile time).
    const NAME: &'static str;
    /// The `[strategies.<NAME>]` table.
    type Config: StrategyConfig;
    /// Handles to the indicators it reads, from [`inputs`](Self::inputs).
    type Inputs: Copy + fmt::Debug + Send;

    /// Returns the strategy with `cfg`'s parameters.
    fn new(cfg: &Self::Config) -> Self;

    /// Declares every indicator the strategy reads (kind, timeframe,
    /// parameters, config key) and returns the handles. A pure function of
    /// `cfg`'s periods: the core calls it to size the windows and again to
    /// compare periods on a reload.
    fn inputs(cfg: &Self::Config, ind: &mut Declare<'_>) -> Self::Inputs;

    /// Returns the minutes of 1m history the strategy needs before its
    /// first signal. Defaults to the longest warm-up of its indicators.
    fn warmup_minutes(cfg: &Self::Config) -> u64 {
        let mut declared = Declared::default();
        let _ = Self::inputs(cfg, &mut Declare::collect(&mut declared));
        declared.warmup_minutes()
    }

    /// Evaluates a closed 1m candle; `None` when there is no entry or an
    /// indicator it reads is cold. Must not allocate, log or read a clock.
    fn evaluate(&self, ind: &Self::Inputs, view: &MarketView<'_>) -> Option<Signal>;

    /// Takes the [`RELOADABLE`](StrategyConfig::RELOADABLE) values of
    /// `cfg`, never its periods. Must not allocate.
    fn reload(&mut self, cfg: &Self::Config);
}

/// Selects a plug-in's table in [`StrategiesConfig`] (implemented by the
/// registry).
pub trait ConfigOf<P: Plugin> {
    /// Returns `P`'s table.
    fn config_of(&self) -> &P::Config;
}

/// A plug-in as the core holds it: the strategy, the config its periods
/// came from, and its resolved indicator handles.
#[derive(Debug)]
pub struct Plugged<P: Plugin> {
    strategy: P,
    /// The construction-time table: the periods it declares with.
    cfg: P::Config,
    /// Set by [`Strategy::declare`] once the core resolved the layout.
    inputs: Option<P::Inputs>,
}

impl<P: Plugin> Plugged<P> {
    /// Returns the strategy for `cfg`, its indicators not yet resolved.
    #[must_use]
    pub fn new(cfg: &P::Config) -> Self {
        Self {
            strategy: P::new(cfg),
            cfg: cfg.clone(),
            inputs: None,
        }
    }

    /// Returns the wrapped strategy.
    #[must_use]
    pub fn strategy(&self) -> &P {
        &self.strategy
    }
}

impl<P: Plugin> Strategy for Plugged<P>
where
    StrategiesConfig: ConfigOf<P>,
{
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn declare(&mut self, ind: &mut Declare<'_>) {
        self.inputs = Some(P::inputs(&self.cfg, ind));
    }

    #[inline]
    fn evaluate(&self, view: &MarketView<'_>) -> Option<Signal> {
        self.strategy.evaluate(self.inputs.as_ref()?, view)
    }

    fn reload(&mut self, cfg: &StrategiesConfig) {
        self.strategy.reload(cfg.config_of());
    }
}

/// Collects problems of one `[strategies.<name>]` table under its full key
/// path; the bounds every strategy shares.
#[derive(Debug)]
pub struct ParamCheck<'a> {
    /// Table name, e.g. `mtf_long`.
    table: &'static str,
    /// `(full key, message)` pairs.
    out: &'a mut Vec<(String, String)>,
}

impl<'a> ParamCheck<'a> {
    /// Returns a checker for `[strategies.<table>]` recording into `out`.
    pub fn new(table: &'static str, out: &'a mut Vec<(String, String)>) -> Self {
        Self { table, out }
    }

    /// Returns the full path of `key`: `strategies.<table>.<key>`.
    #[must_use]
    pub fn path(&self, key: &str) -> String {
        format!("strategies.{}.{key}", self.table)
    }

    /// Records `key: message`.
    pub fn push(&mut self, key: &str, message: impl Into<String>) {
        let path = self.path(key);
        self.out.push((path, message.into()));
    }

    /// Checks a period or lookback on `timeframe`: at least 1, at most one
    /// week of candles ([`MAX_PERIOD_1M`], [`MAX_PERIOD_5M`]).
    pub fn period(&mut self, key: &str, value: usize, timeframe: Timeframe) {
        let max = match timeframe {
            Timeframe::M1 => MAX_PERIOD_1M,
            Timeframe::M5 => MAX_PERIOD_5M,
        };
        if value == 0 {
            self.push(key, "must be greater than 0, got 0");
        } else if value > max {
            self.push(
                key,
                format!("must be at most {max} (one week of {timeframe} candles), got {value}"),
            );
        }
    }

    /// Checks a multiple of ATR in `(0, MAX_ATR_MULT]`.
    pub fn atr_mult(&mut self, key: &str, value: f64) {
        self.open_closed(key, value, 0.0, MAX_ATR_MULT);
    }

    /// Checks a multiple of the volume SMA in `(0, MAX_VOLUME_MULT]`.
    pub fn volume_mult(&mut self, key: &str, value: f64) {
        self.open_closed(key, value, 0.0, MAX_VOLUME_MULT);
    }

    /// Checks a fraction in `(0, 1]`.
    pub fn fraction(&mut self, key: &str, value: f64) {
        self.open_closed(key, value, 0.0, 1.0);
    }

    /// Checks a percentage in `(0, 100]`.
    pub fn pct(&mut self, key: &str, value: f64) {
        self.open_closed(key, value, 0.0, 100.0);
    }

    /// Checks `value` in `(low, high]` (finite).
    pub fn open_closed(&mut self, key: &str, value: f64, low: f64, high: f64) {
        if !(value.is_finite() && value > low && value <= high) {
            self.push(key, format!("must be in ({low}, {high}], got {value}"));
        }
    }

    /// Checks `value` in `[low, high)` (finite).
    pub fn closed_open(&mut self, key: &str, value: f64, low: f64, high: f64) {
        if !(value.is_finite() && value >= low && value < high) {
            self.push(key, format!("must be in [{low}, {high}), got {value}"));
        }
    }

    /// Checks that `low_key`'s value is below `high_key`'s (both finite).
    pub fn below(&mut self, low_key: &str, low: f64, high_key: &str, high: f64) {
        if low.is_finite() && high.is_finite() && low >= high {
            let high_path = self.path(high_key);
            self.push(
                low_key,
                format!("must be below {high_path} ({high}), got {low}"),
            );
        }
    }

    /// Checks that the period `fast_key` is below the period `slow_key`.
    pub fn period_below(&mut self, fast_key: &str, fast: usize, slow_key: &str, slow: usize) {
        if fast >= slow {
            let slow_path = self.path(slow_key);
            self.push(
                fast_key,
                format!("must be below {slow_path} ({slow}), got {fast}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_bounded_by_a_week_of_candles_of_their_timeframe() {
        let mut out = Vec::new();
        let mut c = ParamCheck::new("demo", &mut out);
        c.period("a", 0, Timeframe::M1);
        c.period("b", MAX_PERIOD_1M, Timeframe::M1);
        c.period("c", 4_000_000_000, Timeframe::M1);
        c.period("d", MAX_PERIOD_5M + 1, Timeframe::M5);
        assert_eq!(
            out,
            [
                (
                    "strategies.demo.a".to_owned(),
                    "must be greater than 0, got 0".to_owned()
                ),
                (
                    "strategies.demo.c".to_owned(),
                    "must be at most 10080 (one week of 1m candles), got 4000000000".to_owned()
                ),
                (
                    "strategies.demo.d".to_owned(),
                    "must be at most 2016 (one week of 5m candles), got 2017".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn multiples_and_relations_name_both_keys() {
        let mut out = Vec::new();
        let mut c = ParamCheck::new("demo", &mut out);
        c.atr_mult("body", 150.0);
        c.volume_mult("vol", f64::NAN);
        c.below("stop", 15.0, "target", 15.0);
        c.period_below("fast", 50, "slow", 20);
        c.closed_open("dist", 100.0, 0.0, 100.0);
        let msgs: Vec<String> = out.iter().map(|(k, m)| format!("{k}: {m}")).collect();
        assert_eq!(
            msgs,
            [
                "strategies.demo.body: must be in (0, 100], got 150",
                "strategies.demo.vol: must be in (0, 100], got NaN",
                "strategies.demo.stop: must be below strategies.demo.target (15), got 15",
                "strategies.demo.fast: must be below strategies.demo.slow (20), got 50",
                "strategies.demo.dist: must be in [0, 100), got 100",
            ]
        );
    }
}
