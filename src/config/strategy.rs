//! `[strategies]`: evaluation order and the parameters of the two
//! strategies of STRATEGIES.md (multi-timeframe long, trend + distance
//! short).
//!
//! Consumes the `[strategies]` TOML tables; produces [`StrategiesConfig`].
//! Never evaluates a strategy. Indicator periods and lookbacks size
//! preallocated windows, so they are not reloadable; thresholds are.

use super::validate::{Bound, Issues};
use serde::{Deserialize, Serialize};

/// A strategy's name as used in `strategies.order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyName {
    /// Strategy 1: multi-timeframe long.
    MtfLong,
    /// Strategy 2: trend + distance short.
    TrendDistanceShort,
}

impl StrategyName {
    /// Every strategy, in default priority order.
    pub const ALL: [Self; 2] = [Self::MtfLong, Self::TrendDistanceShort];

    /// Returns the configuration name (`mtf_long`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MtfLong => "mtf_long",
            Self::TrendDistanceShort => "trend_distance_short",
        }
    }
}

/// The `[strategies]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategiesConfig {
    /// Priority for equal-confidence signals, first wins; every enabled
    /// strategy must be listed once. Default `["mtf_long", "trend_distance_short"]`.
    pub order: Vec<StrategyName>,
    /// `[strategies.mtf_long]`.
    pub mtf_long: MtfLongConfig,
    /// `[strategies.trend_distance_short]`.
    pub trend_distance_short: TrendDistanceShortConfig,
}

impl Default for StrategiesConfig {
    fn default() -> Self {
        Self {
            order: StrategyName::ALL.to_vec(),
            mtf_long: MtfLongConfig::default(),
            trend_distance_short: TrendDistanceShortConfig::default(),
        }
    }
}

/// `[strategies.mtf_long]`: explosive bullish 1m breakout in a 5m EMA uptrend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtfLongConfig {
    /// Whether the strategy runs; default true.
    pub enabled: bool,
    /// Body `close - open` at least this many ATR1; default 2.5.
    pub body_atr_mult: f64,
    /// Volume at least this many times its SMA; default 3.0.
    pub volume_mult: f64,
    /// Close in the top `close_position` of the range, in (0, 1]; default 0.75.
    pub close_position: f64,
    /// Close above the highest high of this many prior 1m candles; default 60.
    pub breakout_lookback: usize,
    /// RSI(1m) must be at most this, in (0, 100]; default 80.
    pub rsi_max: f64,
    /// RSI period on 1m closes; default 14.
    pub rsi_period: usize,
    /// Fast EMA period on 5m closes; below `ema_slow_period`; default 20.
    pub ema_fast_period: usize,
    /// Slow EMA period on 5m closes; default 50.
    pub ema_slow_period: usize,
    /// ATR period on 1m candles (Wilder); default 14.
    pub atr_period: usize,
    /// Volume SMA period on 1m candles; default 20.
    pub volume_sma_period: usize,
    /// Stop distance in ATR1 (this is 1R); below `target_atr_mult`; default 3.
    pub stop_atr_mult: f64,
    /// Target distance in ATR1; default 12 (= 4R).
    pub target_atr_mult: f64,
}

impl Default for MtfLongConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            body_atr_mult: 2.5,
            volume_mult: 3.0,
            close_position: 0.75,
            breakout_lookback: 60,
            rsi_max: 80.0,
            rsi_period: 14,
            ema_fast_period: 20,
            ema_slow_period: 50,
            atr_period: 14,
            volume_sma_period: 20,
            stop_atr_mult: 3.0,
            target_atr_mult: 12.0,
        }
    }
}

/// `[strategies.trend_distance_short]`: explosive bearish 1m breakdown far
/// below the 5m SMA(200) in a 5m SMA downtrend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendDistanceShortConfig {
    /// Whether the strategy runs; default true.
    pub enabled: bool,
    /// Body `open - close` at least this many ATR1; default 1.5.
    pub body_atr_mult: f64,
    /// Volume at least this many times its SMA; default 2.0.
    pub volume_mult: f64,
    /// Close in the bottom `close_position` of the range, in (0, 1]; default 0.75.
    pub close_position: f64,
    /// Close below the lowest low of this many prior 1m candles; default 20.
    pub breakdown_lookback: usize,
    /// Fast SMA period on 5m closes; below `sma_slow_period`; default 50.
    pub sma_fast_period: usize,
    /// Slow SMA period on 5m closes; default 200.
    pub sma_slow_period: usize,
    /// Close at least this far below the slow SMA, percent of it, in [0, 100);
    /// default 2.0.
    pub min_distance_pct: f64,
    /// ATR period on 1m candles (Wilder); default 14.
    pub atr_period: usize,
    /// Volume SMA period on 1m candles; default 20.
    pub volume_sma_period: usize,
    /// Stop distance in ATR1 (this is 1R); below `target_atr_mult`; default 3.
    pub stop_atr_mult: f64,
    /// Target distance in ATR1; default 15 (= 5R).
    pub target_atr_mult: f64,
}

impl Default for TrendDistanceShortConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            body_atr_mult: 1.5,
            volume_mult: 2.0,
            close_position: 0.75,
            breakdown_lookback: 20,
            sma_fast_period: 50,
            sma_slow_period: 200,
            min_distance_pct: 2.0,
            atr_period: 14,
            volume_sma_period: 20,
            stop_atr_mult: 3.0,
            target_atr_mult: 15.0,
        }
    }
}

/// Checks the explosive-candle thresholds and exits shared by both strategies.
#[allow(
    clippy::too_many_arguments,
    reason = "one call per strategy, all values are named at the call"
)]
fn validate_common(
    prefix: &str,
    body_atr_mult: f64,
    volume_mult: f64,
    close_position: f64,
    atr_period: usize,
    volume_sma_period: usize,
    stop_atr_mult: f64,
    target_atr_mult: f64,
    issues: &mut Issues,
) {
    issues.positive(&format!("{prefix}.body_atr_mult"), body_atr_mult);
    issues.positive(&format!("{prefix}.volume_mult"), volume_mult);
    issues.range(
        &format!("{prefix}.close_position"),
        close_position,
        Bound::Open(0.0),
        Bound::Closed(1.0),
    );
    issues.nonzero(&format!("{prefix}.atr_period"), atr_period as u64);
    issues.nonzero(
        &format!("{prefix}.volume_sma_period"),
        volume_sma_period as u64,
    );
    issues.positive(&format!("{prefix}.stop_atr_mult"), stop_atr_mult);
    issues.positive(&format!("{prefix}.target_atr_mult"), target_atr_mult);
    if stop_atr_mult.is_finite() && target_atr_mult.is_finite() && stop_atr_mult >= target_atr_mult
    {
        issues.push(
            format!("{prefix}.stop_atr_mult"),
            format!(
                "must be below {prefix}.target_atr_mult ({target_atr_mult}), got {stop_atr_mult}"
            ),
        );
    }
}

/// Checks that a fast period is non-zero and below the slow one.
fn validate_fast_slow(
    fast_key: &str,
    fast: usize,
    slow_key: &str,
    slow: usize,
    issues: &mut Issues,
) {
    issues.nonzero(fast_key, fast as u64);
    issues.nonzero(slow_key, slow as u64);
    if fast >= slow {
        issues.push(
            fast_key,
            format!("must be below {slow_key} ({slow}), got {fast}"),
        );
    }
}

impl StrategiesConfig {
    /// Returns the parameters' `enabled` flag for `name`.
    #[must_use]
    pub fn is_enabled(&self, name: StrategyName) -> bool {
        match name {
            StrategyName::MtfLong => self.mtf_long.enabled,
            StrategyName::TrendDistanceShort => self.trend_distance_short.enabled,
        }
    }

    /// Records range and relation problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        for (i, name) in self.order.iter().enumerate() {
            if self.order[..i].contains(name) {
                issues.push(
                    format!("strategies.order[{i}]"),
                    format!("duplicate strategy \"{}\"", name.as_str()),
                );
            }
        }
        for name in StrategyName::ALL {
            if self.is_enabled(name) && !self.order.contains(&name) {
                issues.push(
                    "strategies.order",
                    format!("enabled strategy \"{}\" must be listed", name.as_str()),
                );
            }
        }
        let l = &self.mtf_long;
        let p = "strategies.mtf_long";
        validate_common(
            p,
            l.body_atr_mult,
            l.volume_mult,
            l.close_position,
            l.atr_period,
            l.volume_sma_period,
            l.stop_atr_mult,
            l.target_atr_mult,
            issues,
        );
        issues.nonzero(
            "strategies.mtf_long.breakout_lookback",
            l.breakout_lookback as u64,
        );
        issues.pct("strategies.mtf_long.rsi_max", l.rsi_max);
        issues.nonzero("strategies.mtf_long.rsi_period", l.rsi_period as u64);
        validate_fast_slow(
            "strategies.mtf_long.ema_fast_period",
            l.ema_fast_period,
            "strategies.mtf_long.ema_slow_period",
            l.ema_slow_period,
            issues,
        );
        let s = &self.trend_distance_short;
        let p = "strategies.trend_distance_short";
        validate_common(
            p,
            s.body_atr_mult,
            s.volume_mult,
            s.close_position,
            s.atr_period,
            s.volume_sma_period,
            s.stop_atr_mult,
            s.target_atr_mult,
            issues,
        );
        issues.nonzero(
            "strategies.trend_distance_short.breakdown_lookback",
            s.breakdown_lookback as u64,
        );
        validate_fast_slow(
            "strategies.trend_distance_short.sma_fast_period",
            s.sma_fast_period,
            "strategies.trend_distance_short.sma_slow_period",
            s.sma_slow_period,
            issues,
        );
        issues.range(
            "strategies.trend_distance_short.min_distance_pct",
            s.min_distance_pct,
            Bound::Closed(0.0),
            Bound::Open(100.0),
        );
    }
}
