//! Entry strategies: one [`Strategy`] trait, evaluated once per closed 1m
//! candle, and the registry that builds the enabled strategies by name in
//! config order.
//!
//! Consumes a [`MarketView`] (the closed 1m candle, the last closed 5m
//! candle and the values of the 1m/5m indicators after them); produces at
//! most one [`Signal`] per evaluation. A strategy is silent (returns
//! `None`) until every indicator it reads is warm. Must never allocate,
//! log, read a clock or look at candles that are not closed.
//!
//! Adding a strategy: write `src/strategy/<name>.rs` with its config table
//! ([`StrategyConfig`]) and a type implementing [`Plugin`], then add one
//! line `<name>: <Type>,` to the registry below. Config parsing,
//! `strategies.order`, the indicator windows, warm-up, reload,
//! `backtest --strategy` and the report derive from that (README:
//! "Writing a strategy").

#[macro_use]
mod registry;
mod every_candle;
mod explosive;
mod plugin;

pub use every_candle::EveryCandleEntry;
pub use explosive::{confidence, is_explosive, Explosive};
pub use plugin::{
    ConfigOf, ParamCheck, Plugged, Plugin, StrategyConfig, MAX_ATR_MULT, MAX_PERIOD_1M,
    MAX_PERIOD_5M, MAX_VOLUME_MULT,
};

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::indicators::{
    Declare, Declared, Ind, IndicatorLayout, IndicatorValues, Registered, Timeframe,
};
use crate::types::{Candle, Price, Side, SymbolId, TimestampNs};

strategy_registry! {
    /// Strategy 1: multi-timeframe long.
    mtf_long: MtfLong,
    /// Strategy 2: trend + distance short.
    trend_distance_short: TrendDistanceShort,
    /// MACD cross, long and short (off by default).
    macd_cross: MacdCross,
}

impl StrategyName {
    /// Returns the registry strategy called `name`, if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// Returns the registry names joined by `, ` (for messages).
    #[must_use]
    pub fn list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for StrategyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StrategyName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StrategyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The names serde lists in an unknown-variant message.
        const NAMES: [&str; StrategyName::ALL.len()] = {
            let mut out = [""; StrategyName::ALL.len()];
            let mut i = 0;
            while i < out.len() {
                out[i] = StrategyName::ALL[i].as_str();
                i += 1;
            }
            out
        };
        let name = String::deserialize(d)?;
        Self::from_name(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, &NAMES))
    }
}

/// Index of a strategy in the engine's evaluation order (config order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StrategyId(pub u8);

impl StrategyId {
    /// The strategy id of a position the engine adopted from the exchange
    /// (`reconcile.unknown_position = "adopt"`): no strategy opened it.
    pub const ADOPTED: Self = Self(u8::MAX);
}

crate::checkpoint::value_newtype!(StrategyId(u8));

/// What a strategy sees on the close of a 1m candle.
#[derive(Debug, Clone, Copy)]
pub struct MarketView<'a> {
    /// The symbol.
    pub symbol: SymbolId,
    /// `c1[0]`, the 1m candle that just closed.
    pub c1: &'a Candle,
    /// 1m indicator values after `c1[0]` was folded in.
    pub ind1: &'a IndicatorValues,
    /// The last closed 5m candle, if any.
    pub c5: Option<&'a Candle>,
    /// 5m indicator values after `c5` was folded in.
    pub ind5: &'a IndicatorValues,
}

impl MarketView<'_> {
    /// Returns the value of the indicator behind `handle` (on its
    /// timeframe), `None` while it is cold.
    #[inline]
    #[must_use]
    pub fn get<K: Registered>(&self, handle: Ind<K>) -> Option<K::Output> {
        match handle.timeframe() {
            Timeframe::M1 => self.ind1.get(handle),
            Timeframe::M5 => self.ind5.get(handle),
        }
    }
}

/// An entry signal: direction, confidence and the exit distances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// Strategy that produced it (set by the engine).
    pub strategy: StrategyId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Entry side: `Buy` is a long, `Sell` a short.
    pub side: Side,
    /// Confidence in [0, 1] for conflict resolution.
    pub confidence: f64,
    /// Reference entry price: the close of `c1[0]`.
    pub price: Price,
    /// ATR(1m) at the signal.
    pub atr: f64,
    /// Initial stop distance from the entry, price units (this is 1R).
    pub stop_distance: f64,
    /// Target distance from the entry, price units.
    pub target_distance: f64,
    /// Close time of `c1[0]` (its open time + 1 minute).
    pub ts: TimestampNs,
}

impl Signal {
    /// Returns the entry signal of an explosive-candle strategy on `view.c1`:
    /// the candle's close as reference price, the pattern's confidence, and
    /// stop and target at the given ATR multiples. Every strategy built on
    /// the shared explosive-candle pattern reports its signal through this.
    #[must_use]
    pub fn explosive_entry(
        view: &MarketView<'_>,
        side: Side,
        atr: f64,
        vsma: f64,
        pattern: &Explosive,
        stop_atr_mult: f64,
        target_atr_mult: f64,
    ) -> Self {
        Self {
            strategy: StrategyId(0),
            symbol: view.symbol,
            side,
            confidence: confidence(view.c1, atr, vsma, pattern),
            price: view.c1.close,
            atr,
            stop_distance: stop_atr_mult * atr,
            target_distance: target_atr_mult * atr,
            ts: close_time(view.c1),
        }
    }
}

/// An entry strategy.
pub trait Strategy: core::fmt::Debug + Send {
    /// Returns the strategy's configuration name, e.g. `mtf_long`.
    fn name(&self) -> &'static str;

    /// Declares the indicators the strategy reads and keeps the handles
    /// (see [`Declare`]); called by the core before the first evaluation,
    /// once to collect and once to resolve. The default reads none.
    fn declare(&mut self, ind: &mut Declare<'_>) {
        let _ = ind;
    }

    /// Evaluates the strategy on a closed 1m candle. Returns `None` when
    /// there is no entry or some indicator it reads is not warm. The
    /// returned signal's `strategy` field is overwritten by the engine.
    fn evaluate(&self, view: &MarketView<'_>) -> Option<Signal>;

    /// Takes the reloadable parameters of `cfg` in place, between two
    /// evaluations (a config reload): thresholds, exit multiples and the
    /// `enabled` flag, never indicator periods or lookbacks (they size the
    /// engine's preallocated windows). Must not allocate. The default keeps
    /// the current parameters: a strategy outside the registry has none in
    /// the config.
    fn reload(&mut self, cfg: &StrategiesConfig) {
        let _ = cfg;
    }
}

/// Builds the strategies of a run from its strategies' configuration, in
/// place of the configured ones (scripted scenarios, the demo's
/// every-candle entry); [`build`] is the factory of the configured ones.
pub type StrategyFactory = fn(&StrategiesConfig) -> Vec<Box<dyn Strategy>>;

/// Builds every registry strategy the core holds: the enabled ones in
/// `cfg.order` (the tie-break order), then, in [`StrategyName::ALL`]
/// order, the disabled ones a reload can enable without allocating (those
/// on by default, see [`is_held`]). The second value is the number of
/// enabled strategies (the first ones).
#[must_use]
pub fn build_all(cfg: &StrategiesConfig) -> (Vec<Box<dyn Strategy>>, usize) {
    let mut out = build(cfg);
    let enabled = out.len();
    for name in StrategyName::ALL {
        if is_held(cfg, name) && out.iter().all(|s| s.name() != name.as_str()) {
            out.push(cfg.build_one(name));
        }
    }
    (out, enabled)
}

/// Returns whether a core built from `cfg` holds `name`: when it is
/// enabled, or on standby (switched off but on by default, so a reload can
/// switch it back on). A strategy off by default that `cfg` leaves off is
/// not held and costs nothing: enabling it takes a restart.
#[must_use]
pub fn is_held(cfg: &StrategiesConfig, name: StrategyName) -> bool {
    cfg.is_enabled(name) || name.enabled_by_default()
}

/// Returns the registry name of a strategy's configuration name, `None`
/// for a strategy outside the registry.
#[must_use]
pub fn registry_name(name: &str) -> Option<StrategyName> {
    StrategyName::from_name(name)
}

/// Builds the enabled strategies in `cfg.order` (the tie-break order).
#[must_use]
pub fn build(cfg: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
    let mut out: Vec<Box<dyn Strategy>> = Vec::with_capacity(cfg.order.len());
    for name in &cfg.order {
        if cfg.is_enabled(*name) {
            out.push(cfg.build_one(*name));
        }
    }
    out
}

/// A strategy declares more indicators than [`crate::indicators::MAX_INPUTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyInputs {
    /// The strategy's name.
    pub strategy: &'static str,
}

impl fmt::Display for TooManyInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "strategy {} declares more than {} indicators",
            self.strategy,
            crate::indicators::MAX_INPUTS
        )
    }
}

impl std::error::Error for TooManyInputs {}

/// Returns the indicator instances the registry strategies of `cfg` need:
/// the union of what the enabled strategies declare, plus the standby
/// indicators of the strategies that are on by default but switched off
/// (so that a reload can switch them back on with warm windows): those of
/// a kind no enabled strategy reads on that timeframe. A strategy off by
/// default costs nothing until it is enabled (by a restart).
///
/// # Errors
/// [`TooManyInputs`] naming a strategy that declares too many.
pub fn layout(cfg: &StrategiesConfig) -> Result<IndicatorLayout, TooManyInputs> {
    let declared = |name: StrategyName| -> Result<Declared, TooManyInputs> {
        let d = cfg.declared(name);
        if d.overflow() > 0 {
            return Err(TooManyInputs {
                strategy: name.as_str(),
            });
        }
        Ok(d)
    };
    let mut layout = IndicatorLayout::default();
    for name in StrategyName::ALL {
        if cfg.is_enabled(name) {
            for input in declared(name)?.iter() {
                layout.add(input);
            }
        }
    }
    let enabled = layout.clone();
    for name in StrategyName::ALL {
        if !cfg.is_enabled(name) && name.enabled_by_default() {
            for input in declared(name)?.iter() {
                if !enabled.has_kind(input.timeframe, &input.spec) {
                    layout.add(input);
                }
            }
        }
    }
    Ok(layout)
}

/// Returns the minutes of 1m history the strategies of `cfg` need before
/// they signal: the longest warm-up of the enabled and standby ones.
#[must_use]
pub fn warmup_minutes(cfg: &StrategiesConfig) -> u64 {
    StrategyName::ALL
        .into_iter()
        .filter(|n| is_held(cfg, *n))
        .map(|n| cfg.warmup_minutes(n))
        .max()
        .unwrap_or(0)
}

/// Returns the close time of a 1m candle.
#[must_use]
pub(crate) fn close_time(c: &Candle) -> TimestampNs {
    c.open_time.add_ns(crate::types::NS_PER_MIN)
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_follows_config_order_and_skips_disabled() {
        let mut cfg = StrategiesConfig::default();
        let names: Vec<_> = build(&cfg).iter().map(|s| s.name()).collect();
        assert_eq!(names, ["mtf_long", "trend_distance_short"]);
        cfg.order = vec![StrategyName::TrendDistanceShort, StrategyName::MtfLong];
        let names: Vec<_> = build(&cfg).iter().map(|s| s.name()).collect();
        assert_eq!(names, ["trend_distance_short", "mtf_long"]);
        cfg.mtf_long.enabled = false;
        let names: Vec<_> = build(&cfg).iter().map(|s| s.name()).collect();
        assert_eq!(names, ["trend_distance_short"]);
    }

    #[test]
    fn build_all_puts_the_enabled_first_in_order_then_the_disabled() {
        let mut cfg = StrategiesConfig {
            order: vec![StrategyName::TrendDistanceShort],
            ..StrategiesConfig::default()
        };
        cfg.mtf_long.enabled = false;
        let (all, enabled) = build_all(&cfg);
        let names: Vec<_> = all.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["trend_distance_short", "mtf_long"]);
        assert_eq!(enabled, 1);
        assert_eq!(registry_name("mtf_long"), Some(StrategyName::MtfLong));
        assert_eq!(registry_name("scripted"), None);
    }

    #[test]
    fn the_layout_is_what_the_enabled_strategies_declare_deduplicated() {
        let cfg = StrategiesConfig::default();
        let layout = layout(&cfg).unwrap();
        let kinds = |tf| -> Vec<&str> { layout.specs(tf).iter().map(|s| s.kind()).collect() };
        // ATR(14) and the volume SMA(20) are read by both: one instance each.
        assert_eq!(
            kinds(Timeframe::M1),
            ["atr", "volume_sma", "rsi", "prior_high", "prior_low"]
        );
        assert_eq!(kinds(Timeframe::M5), ["ema", "ema", "sma", "sma"]);
        // SMA(200) on 5m is the longest: 1000 minutes.
        assert_eq!(layout.warmup_minutes(), 1000);
        assert_eq!(warmup_minutes(&cfg), 1000);
    }

    #[test]
    fn enabled_strategies_with_different_periods_each_get_their_own_instance() {
        let mut cfg = StrategiesConfig::default();
        cfg.trend_distance_short.atr_period = 21;
        let layout = layout(&cfg).unwrap();
        let atrs = layout
            .specs(Timeframe::M1)
            .iter()
            .filter(|s| s.kind() == "atr")
            .count();
        assert_eq!(atrs, 2);
    }

    #[test]
    fn a_switched_off_default_strategy_stays_on_standby_for_new_kinds_only() {
        let mut cfg = StrategiesConfig::default();
        cfg.mtf_long.enabled = false;
        cfg.trend_distance_short.atr_period = 21;
        let layout = layout(&cfg).unwrap();
        let m1: Vec<String> = layout
            .specs(Timeframe::M1)
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        // The short's ATR(21) runs; the long's ATR(14) is not duplicated on
        // standby, its RSI and prior high (kinds nobody reads) are.
        assert_eq!(
            m1,
            [
                "Atr(21)",
                "VolumeSma(20)",
                "PriorLow(20)",
                "Rsi(14)",
                "PriorHigh(60)"
            ]
        );
        assert_eq!(layout.specs(Timeframe::M5).len(), 4);
    }

    #[test]
    fn names_serialize_as_their_table_and_unknown_names_list_the_registry() {
        let pair = [StrategyName::MtfLong, StrategyName::TrendDistanceShort];
        let json = serde_json::to_string(&pair).unwrap();
        assert_eq!(json, r#"["mtf_long","trend_distance_short"]"#);
        let err = serde_json::from_str::<StrategyName>(r#""mtf_lng""#).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with("unknown variant `mtf_lng`, expected "),
            "{shown}"
        );
        assert!(shown.contains("`trend_distance_short`"), "{shown}");
        assert!(StrategyName::list().starts_with("mtf_long, trend_distance_short"));
        assert!(StrategyName::MtfLong.is_reloadable_key("rsi_max"));
        assert!(!StrategyName::MtfLong.is_reloadable_key("rsi_period"));
    }
}
