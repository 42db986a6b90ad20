//! Strategy 2, Trend + Distance SHORT: an explosive bearish 1m candle
//! breaking down below the prior `breakdown_lookback` lows, in a strong 5m
//! SMA downtrend, far enough below the 5m SMA(200).
//!
//! Consumes a [`MarketView`]; produces a short [`Signal`]. Reads from the 1m
//! snapshot `atr`, `volume_sma` and `prior_low` (the engine sizes the channel
//! to `breakdown_lookback`), and from the 5m snapshot `sma_mid` (the fast
//! SMA, 50) and `sma_slow` (200). Silent while any of them is cold. Never
//! allocates.

use super::{is_explosive, Explosive, MarketView, Signal, Strategy};
use crate::config::TrendDistanceShortConfig;
use crate::types::Side;

/// The trend + distance short strategy.
#[derive(Debug, Clone)]
pub struct TrendDistanceShort {
    cfg: TrendDistanceShortConfig,
    pattern: Explosive,
}

impl TrendDistanceShort {
    /// Returns the strategy with `cfg`'s parameters.
    #[must_use]
    pub fn new(cfg: TrendDistanceShortConfig) -> Self {
        let pattern = Explosive {
            body_atr_mult: cfg.body_atr_mult,
            volume_mult: cfg.volume_mult,
            close_position: cfg.close_position,
        };
        Self { cfg, pattern }
    }

    /// Returns the parameters in force.
    #[must_use]
    pub fn params(&self) -> &TrendDistanceShortConfig {
        &self.cfg
    }
}

impl Strategy for TrendDistanceShort {
    fn name(&self) -> &'static str {
        "trend_distance_short"
    }

    fn reload(&mut self, cfg: &crate::config::StrategiesConfig) {
        let new = &cfg.trend_distance_short;
        let c = &mut self.cfg;
        c.enabled = new.enabled;
        c.body_atr_mult = new.body_atr_mult;
        c.volume_mult = new.volume_mult;
        c.close_position = new.close_position;
        c.min_distance_pct = new.min_distance_pct;
        c.stop_atr_mult = new.stop_atr_mult;
        c.target_atr_mult = new.target_atr_mult;
        self.pattern = Explosive {
            body_atr_mult: c.body_atr_mult,
            volume_mult: c.volume_mult,
            close_position: c.close_position,
        };
    }

    fn evaluate(&self, v: &MarketView<'_>) -> Option<Signal> {
        let atr = v.ind1.atr?;
        let vsma = v.ind1.volume_sma?;
        let prior_low = v.ind1.prior_low?;
        let c5 = v.c5?;
        let sma_fast = v.ind5.sma_mid?;
        let sma_slow = v.ind5.sma_slow?;
        if !(atr > 0.0 && vsma > 0.0 && sma_slow > 0.0) {
            return None;
        }
        let close = v.c1.close.to_f64();
        let downtrend = c5.close.to_f64() < sma_fast && sma_fast < sma_slow;
        let distance = (sma_slow - close) / sma_slow >= self.cfg.min_distance_pct / 100.0;
        let explosive = is_explosive(v.c1, Side::Sell, atr, vsma, &self.pattern);
        let breakdown = close < prior_low;
        if !(downtrend && distance && explosive && breakdown) {
            return None;
        }
        Some(Signal::explosive_entry(
            v,
            Side::Sell,
            atr,
            vsma,
            &self.pattern,
            self.cfg.stop_atr_mult,
            self.cfg.target_atr_mult,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::IndicatorSnapshot;
    use crate::strategy::test_support::{candle, warm_snapshot};
    use crate::types::{Candle, SymbolId};

    /// A passing setup: ATR 10, VSMA 10, prior low 80; 5m close 85 < SMA50
    /// 95 < SMA200 100; c1 close 75 is 25% below SMA200.
    fn setup() -> (Candle, IndicatorSnapshot, Candle, IndicatorSnapshot) {
        let c1 = candle(100.0, 102.0, 73.0, 75.0, 30.0);
        let mut i1 = warm_snapshot(10.0);
        i1.prior_low = Some(80.0);
        let c5 = candle(90.0, 91.0, 80.0, 85.0, 100.0);
        let mut i5 = warm_snapshot(0.0);
        i5.sma_mid = Some(95.0);
        i5.sma_slow = Some(100.0);
        (c1, i1, c5, i5)
    }

    fn eval(
        c1: &Candle,
        i1: &IndicatorSnapshot,
        c5: &Candle,
        i5: &IndicatorSnapshot,
    ) -> Option<Signal> {
        let s = TrendDistanceShort::new(TrendDistanceShortConfig::default());
        s.evaluate(&MarketView {
            symbol: SymbolId(0),
            c1,
            ind1: i1,
            c5: Some(c5),
            ind5: i5,
        })
    }

    #[test]
    fn all_conditions_give_a_short_with_stop_and_target_in_atr() {
        let (c1, i1, c5, i5) = setup();
        let s = eval(&c1, &i1, &c5, &i5).unwrap();
        assert_eq!(s.side, Side::Sell);
        assert!((s.stop_distance - 30.0).abs() < 1e-9);
        assert!((s.target_distance - 150.0).abs() < 1e-9);
        // body 25 / ATR 10 = 2.5 -> 0.5 * 2.5 / 3; volume 3 -> 0.5 * 3 / 4
        assert!((s.confidence - (2.5 / 6.0 + 3.0 / 8.0)).abs() < 1e-9);
    }

    #[test]
    fn five_minute_close_above_fast_sma_is_no_downtrend() {
        let (c1, i1, _, i5) = setup();
        let c5 = candle(90.0, 99.0, 80.0, 96.0, 100.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn fast_sma_above_slow_sma_is_no_downtrend() {
        let (c1, i1, c5, mut i5) = setup();
        i5.sma_mid = Some(101.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn close_within_two_percent_of_the_slow_sma_is_too_close() {
        let (_, mut i1, c5, mut i5) = setup();
        // close 98.5 is 1.5% below SMA200 100 (still below SMA50 99)
        let c1 = candle(114.5, 115.0, 98.0, 98.5, 30.0);
        i1.prior_low = Some(99.0);
        i5.sma_mid = Some(99.5);
        let c5 = Candle {
            close: crate::types::Price::from_f64(99.0).unwrap(),
            ..c5
        };
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
        // exactly 2% passes
        let c1 = candle(114.0, 114.5, 97.5, 98.0, 30.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_some());
    }

    #[test]
    fn non_explosive_bearish_candle_gives_nothing() {
        let (_, i1, c5, i5) = setup();
        let weak = candle(100.0, 102.0, 73.0, 75.0, 19.0);
        assert!(eval(&weak, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn close_at_or_above_the_prior_low_is_no_breakdown() {
        let (c1, mut i1, c5, i5) = setup();
        i1.prior_low = Some(75.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn cold_slow_sma_keeps_it_silent() {
        let (c1, i1, c5, mut i5) = setup();
        i5.sma_slow = None;
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn a_reload_takes_the_distance_threshold_but_keeps_the_periods() {
        let (c1, i1, c5, i5) = setup();
        let mut s = TrendDistanceShort::new(TrendDistanceShortConfig::default());
        let view = MarketView {
            symbol: SymbolId(0),
            c1: &c1,
            ind1: &i1,
            c5: Some(&c5),
            ind5: &i5,
        };
        assert!(s.evaluate(&view).is_some());
        let mut cfg = crate::config::StrategiesConfig::default();
        cfg.trend_distance_short.min_distance_pct = 30.0;
        cfg.trend_distance_short.sma_slow_period = 7;
        s.reload(&cfg);
        assert!(
            s.evaluate(&view).is_none(),
            "25% below the SMA is no longer far enough"
        );
        assert_eq!(
            s.params().sma_slow_period,
            200,
            "periods are not reloadable"
        );
        assert!((s.params().min_distance_pct - 30.0).abs() < 1e-12);
    }
}
