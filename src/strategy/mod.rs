//! Entry strategies: one [`Strategy`] trait, evaluated once per closed 1m
//! candle, and a registry that builds the enabled strategies by name in
//! config order.
//!
//! Consumes a [`MarketView`] (the closed 1m candle, the last closed 5m
//! candle and the 1m/5m indicator snapshots after them); produces at most
//! one [`Signal`] per evaluation. A strategy is silent (returns `None`)
//! until every indicator it reads is warm. Must never allocate, log, read a
//! clock or look at candles that are not closed.
//!
//! Adding a strategy: write `src/strategy/<name>.rs` implementing
//! [`Strategy`], add its name to `config::StrategyName` with its
//! parameters, and one arm in [`build`]. The others are not touched.

mod every_candle;
mod explosive;
mod mtf_long;
mod trend_distance_short;

pub use every_candle::EveryCandleEntry;
pub use explosive::{confidence, is_explosive, Explosive};
pub use mtf_long::MtfLong;
pub use trend_distance_short::TrendDistanceShort;

use crate::config::{StrategiesConfig, StrategyName};
use crate::indicators::IndicatorSnapshot;
use crate::types::{Candle, Price, Side, SymbolId, TimestampNs};

/// Index of a strategy in the engine's evaluation order (config order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StrategyId(pub u8);

/// What a strategy sees on the close of a 1m candle.
#[derive(Debug, Clone, Copy)]
pub struct MarketView<'a> {
    /// The symbol.
    pub symbol: SymbolId,
    /// `c1[0]`, the 1m candle that just closed.
    pub c1: &'a Candle,
    /// 1m indicators after `c1[0]` was folded in.
    pub ind1: &'a IndicatorSnapshot,
    /// The last closed 5m candle, if any.
    pub c5: Option<&'a Candle>,
    /// 5m indicators after `c5` was folded in.
    pub ind5: &'a IndicatorSnapshot,
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

/// Builds every registry strategy: the enabled ones in `cfg.order` (the
/// tie-break order), then the disabled ones in [`StrategyName::ALL`] order,
/// so that a reload can enable them without allocating. The second value
/// is the number of enabled strategies (the first ones).
#[must_use]
pub fn build_all(cfg: &StrategiesConfig) -> (Vec<Box<dyn Strategy>>, usize) {
    let mut out = build(cfg);
    let enabled = out.len();
    for name in StrategyName::ALL {
        if out.iter().all(|s| s.name() != name.as_str()) {
            out.push(one(cfg, name));
        }
    }
    (out, enabled)
}

/// Builds the strategy `name` with its parameters from `cfg`.
fn one(cfg: &StrategiesConfig, name: StrategyName) -> Box<dyn Strategy> {
    match name {
        StrategyName::MtfLong => Box::new(MtfLong::new(cfg.mtf_long.clone())),
        StrategyName::TrendDistanceShort => {
            Box::new(TrendDistanceShort::new(cfg.trend_distance_short.clone()))
        }
    }
}

/// Returns the registry name of a strategy's configuration name, `None`
/// for a strategy outside the registry.
#[must_use]
pub fn registry_name(name: &str) -> Option<StrategyName> {
    StrategyName::ALL.into_iter().find(|n| n.as_str() == name)
}

/// Builds the enabled strategies in `cfg.order` (the tie-break order).
#[must_use]
pub fn build(cfg: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
    let mut out: Vec<Box<dyn Strategy>> = Vec::with_capacity(cfg.order.len());
    for name in &cfg.order {
        if cfg.is_enabled(*name) {
            out.push(one(cfg, *name));
        }
    }
    out
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
}
