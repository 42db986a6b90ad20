//! Strategy 1, Multi-Timeframe LONG: an explosive bullish 1m candle breaking
//! out above the prior `breakout_lookback` highs, in a 5m EMA uptrend, not
//! exhausted (RSI cap).
//!
//! Consumes a [`MarketView`]; produces a long [`Signal`]. Reads from the 1m
//! snapshot `atr`, `volume_sma`, `rsi` and `prior_high` (the engine sizes the
//! channel to `breakout_lookback`), and from the 5m snapshot `ema_fast`,
//! `ema_fast_prev` and `ema_slow`. Silent while any of them is cold. Never
//! allocates.

use super::{is_explosive, Explosive, MarketView, Signal, Strategy};
use crate::config::MtfLongConfig;
use crate::types::Side;

/// The multi-timeframe long strategy.
#[derive(Debug, Clone)]
pub struct MtfLong {
    cfg: MtfLongConfig,
    pattern: Explosive,
}

impl MtfLong {
    /// Returns the strategy with `cfg`'s parameters.
    #[must_use]
    pub fn new(cfg: MtfLongConfig) -> Self {
        let pattern = Explosive {
            body_atr_mult: cfg.body_atr_mult,
            volume_mult: cfg.volume_mult,
            close_position: cfg.close_position,
        };
        Self { cfg, pattern }
    }

    /// Returns the parameters in force.
    #[must_use]
    pub fn params(&self) -> &MtfLongConfig {
        &self.cfg
    }
}

impl Strategy for MtfLong {
    fn name(&self) -> &'static str {
        "mtf_long"
    }

    fn reload(&mut self, cfg: &crate::config::StrategiesConfig) {
        let new = &cfg.mtf_long;
        let c = &mut self.cfg;
        c.enabled = new.enabled;
        c.body_atr_mult = new.body_atr_mult;
        c.volume_mult = new.volume_mult;
        c.close_position = new.close_position;
        c.rsi_max = new.rsi_max;
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
        let rsi = v.ind1.rsi?;
        let prior_high = v.ind1.prior_high?;
        let c5 = v.c5?;
        let ema_fast = v.ind5.ema_fast?;
        let ema_fast_prev = v.ind5.ema_fast_prev?;
        let ema_slow = v.ind5.ema_slow?;
        if !(atr > 0.0 && vsma > 0.0) {
            return None;
        }
        let close = v.c1.close.to_f64();
        let explosive = is_explosive(v.c1, Side::Buy, atr, vsma, &self.pattern);
        let breakout = close > prior_high;
        let close5 = c5.close.to_f64();
        let uptrend = close5 > ema_fast && ema_fast > ema_slow && ema_fast > ema_fast_prev;
        let not_exhausted = rsi <= self.cfg.rsi_max;
        if !(explosive && breakout && uptrend && not_exhausted) {
            return None;
        }
        Some(Signal::explosive_entry(
            v,
            Side::Buy,
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

    /// A passing setup: ATR 10, VSMA 10, RSI 60, prior high 120; 5m close
    /// 130 > EMA20 110 (rising from 109) > EMA50 100.
    fn setup() -> (Candle, IndicatorSnapshot, Candle, IndicatorSnapshot) {
        let c1 = candle(100.0, 127.0, 95.0, 125.0, 30.0);
        let mut i1 = warm_snapshot(10.0);
        i1.rsi = Some(60.0);
        i1.prior_high = Some(120.0);
        let c5 = candle(100.0, 131.0, 95.0, 130.0, 100.0);
        let mut i5 = warm_snapshot(0.0);
        i5.ema_fast = Some(110.0);
        i5.ema_fast_prev = Some(109.0);
        i5.ema_slow = Some(100.0);
        (c1, i1, c5, i5)
    }

    fn eval(
        c1: &Candle,
        i1: &IndicatorSnapshot,
        c5: &Candle,
        i5: &IndicatorSnapshot,
    ) -> Option<Signal> {
        let s = MtfLong::new(MtfLongConfig::default());
        s.evaluate(&MarketView {
            symbol: SymbolId(0),
            c1,
            ind1: i1,
            c5: Some(c5),
            ind5: i5,
        })
    }

    #[test]
    fn all_conditions_give_a_long_with_stop_and_target_in_atr() {
        let (c1, i1, c5, i5) = setup();
        let s = eval(&c1, &i1, &c5, &i5).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert!((s.stop_distance - 30.0).abs() < 1e-9);
        assert!((s.target_distance - 120.0).abs() < 1e-9);
        assert!((s.confidence - 0.5).abs() < 1e-9);
        assert_eq!(s.ts.0, 60_000_000_000);
    }

    #[test]
    fn non_explosive_candle_gives_nothing() {
        let (_, i1, c5, i5) = setup();
        let weak = candle(100.0, 127.0, 95.0, 125.0, 29.0);
        assert!(eval(&weak, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn close_at_or_below_the_prior_high_is_no_breakout() {
        let (c1, mut i1, c5, i5) = setup();
        i1.prior_high = Some(125.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn five_minute_close_below_fast_ema_is_no_uptrend() {
        let (c1, i1, _, i5) = setup();
        let c5 = candle(100.0, 131.0, 95.0, 109.0, 100.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn fast_ema_below_slow_ema_is_no_uptrend() {
        let (c1, i1, c5, mut i5) = setup();
        i5.ema_slow = Some(111.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn falling_fast_ema_is_no_uptrend() {
        let (c1, i1, c5, mut i5) = setup();
        i5.ema_fast_prev = Some(110.5);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
    }

    #[test]
    fn rsi_above_the_cap_is_exhausted_and_at_the_cap_is_not() {
        let (c1, mut i1, c5, i5) = setup();
        i1.rsi = Some(80.01);
        assert!(eval(&c1, &i1, &c5, &i5).is_none());
        i1.rsi = Some(80.0);
        assert!(eval(&c1, &i1, &c5, &i5).is_some());
    }

    #[test]
    fn any_cold_indicator_keeps_it_silent() {
        let (c1, i1, c5, i5) = setup();
        let mut cold = i1;
        cold.rsi = None;
        assert!(eval(&c1, &cold, &c5, &i5).is_none());
        let mut cold5 = i5;
        cold5.ema_fast_prev = None;
        assert!(eval(&c1, &i1, &c5, &cold5).is_none());
        let s = MtfLong::new(MtfLongConfig::default());
        let no5 = MarketView {
            symbol: SymbolId(0),
            c1: &c1,
            ind1: &i1,
            c5: None,
            ind5: &i5,
        };
        assert!(s.evaluate(&no5).is_none());
    }

    #[test]
    fn a_reload_takes_thresholds_and_exits_but_keeps_the_periods() {
        let (c1, i1, c5, i5) = setup();
        let mut s = MtfLong::new(MtfLongConfig::default());
        let view = MarketView {
            symbol: SymbolId(0),
            c1: &c1,
            ind1: &i1,
            c5: Some(&c5),
            ind5: &i5,
        };
        assert!(s.evaluate(&view).is_some());
        let mut cfg = crate::config::StrategiesConfig::default();
        cfg.mtf_long.body_atr_mult = 3.5;
        cfg.mtf_long.rsi_period = 99;
        s.reload(&cfg);
        assert!(
            s.evaluate(&view).is_none(),
            "a body of 3 ATR is no longer explosive"
        );
        assert_eq!(s.params().rsi_period, 14, "periods are not reloadable");
        cfg.mtf_long.body_atr_mult = 2.5;
        cfg.mtf_long.stop_atr_mult = 2.0;
        s.reload(&cfg);
        let sig = s.evaluate(&view).unwrap();
        assert!((sig.stop_distance - 20.0).abs() < 1e-9);
    }
}
