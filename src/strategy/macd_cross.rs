//! MACD cross, long and short (off by default): the 1m MACD histogram
//! changes sign on the far side of the zero line, in the direction of the
//! 5m trend.
//!
//! Long on the close of `c1[0]` when the histogram `macd - signal` turns
//! positive (previous `<= 0`, now `> 0`) while the MACD line is still below
//! zero (a cross from oversold), and the last closed 5m candle closes above
//! its EMA(`trend_ema_period`). Short is the mirror: the histogram turns
//! negative while the MACD line is above zero, 5m close below the EMA.
//! Stop and target at ATR(1m) multiples; confidence
//! `min(1, |histogram| / ATR)`.
//!
//! Consumes a [`MarketView`]; produces a long or short [`Signal`]. Reads
//! MACD(fast, slow, signal) and ATR on 1m and the trend EMA on 5m. Silent
//! while any of them is cold. Never allocates.

use serde::{Deserialize, Serialize};

use super::{
    close_time, MarketView, ParamCheck, Plugin, Signal, StrategyConfig, StrategyId,
};
use crate::indicators::{Atr, Declare, Ema, Ind, Macd, MacdParams, Timeframe};
use crate::types::Side;

/// `[strategies.macd_cross]`: 1m MACD/signal cross with a 5m EMA trend filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MacdCrossConfig {
    /// Whether the strategy runs; default false.
    pub enabled: bool,
    /// Fast EMA period of the MACD on 1m closes, below `slow_period`;
    /// default 12.
    pub fast_period: usize,
    /// Slow EMA period of the MACD on 1m closes, 1..=10080; default 26.
    pub slow_period: usize,
    /// Signal EMA period (of the MACD line), 1..=10080; default 9.
    pub signal_period: usize,
    /// Trend filter: EMA period on 5m closes, 1..=2016; default 50.
    pub trend_ema_period: usize,
    /// ATR period on 1m candles (Wilder), 1..=10080; default 14.
    pub atr_period: usize,
    /// Stop distance in ATR1 (this is 1R), below `target_atr_mult`; default 2.
    pub stop_atr_mult: f64,
    /// Target distance in ATR1, in (0, 100]; default 4 (= 2R).
    pub target_atr_mult: f64,
}

impl Default for MacdCrossConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            fast_period: 12,
            slow_period: 26,
            signal_period: 9,
            trend_ema_period: 50,
            atr_period: 14,
            stop_atr_mult: 2.0,
            target_atr_mult: 4.0,
        }
    }
}

impl StrategyConfig for MacdCrossConfig {
    const RELOADABLE: &'static [&'static str] = &["enabled", "stop_atr_mult", "target_atr_mult"];

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self, c: &mut ParamCheck<'_>) {
        c.period("fast_period", self.fast_period, Timeframe::M1);
        c.period("slow_period", self.slow_period, Timeframe::M1);
        c.period_below(
            "fast_period",
            self.fast_period,
            "slow_period",
            self.slow_period,
        );
        c.period("signal_period", self.signal_period, Timeframe::M1);
        c.period("trend_ema_period", self.trend_ema_period, Timeframe::M5);
        c.period("atr_period", self.atr_period, Timeframe::M1);
        c.atr_mult("stop_atr_mult", self.stop_atr_mult);
        c.atr_mult("target_atr_mult", self.target_atr_mult);
        c.below(
            "stop_atr_mult",
            self.stop_atr_mult,
            "target_atr_mult",
            self.target_atr_mult,
        );
    }
}

/// The indicators the MACD cross reads.
#[derive(Debug, Clone, Copy)]
pub struct MacdCrossInputs {
    macd: Ind<Macd>,
    atr: Ind<Atr>,
    trend: Ind<Ema>,
}

/// The MACD cross strategy.
#[derive(Debug, Clone)]
pub struct MacdCross {
    cfg: MacdCrossConfig,
}

impl Plugin for MacdCross {
    const NAME: &'static str = "macd_cross";
    type Config = MacdCrossConfig;
    type Inputs = MacdCrossInputs;

    fn new(cfg: &MacdCrossConfig) -> Self {
        Self { cfg: cfg.clone() }
    }

    fn inputs(cfg: &MacdCrossConfig, ind: &mut Declare<'_>) -> MacdCrossInputs {
        let macd = MacdParams {
            fast: cfg.fast_period,
            slow: cfg.slow_period,
            signal: cfg.signal_period,
        };
        MacdCrossInputs {
            macd: ind.read(Timeframe::M1, macd, "slow_period"),
            atr: ind.read(Timeframe::M1, cfg.atr_period, "atr_period"),
            trend: ind.read(Timeframe::M5, cfg.trend_ema_period, "trend_ema_period"),
        }
    }

    fn reload(&mut self, new: &MacdCrossConfig) {
        self.cfg.enabled = new.enabled;
        self.cfg.stop_atr_mult = new.stop_atr_mult;
        self.cfg.target_atr_mult = new.target_atr_mult;
    }

    fn evaluate(&self, ind: &MacdCrossInputs, v: &MarketView<'_>) -> Option<Signal> {
        let m = v.get(ind.macd)?;
        let previous = m.previous_histogram?;
        let atr = v.get(ind.atr)?;
        let trend = v.get(ind.trend)?.value;
        let close5 = v.c5?.close.to_f64();
        if atr.is_nan() || atr <= 0.0 {
            return None;
        }
        let side = if previous <= 0.0 && m.histogram > 0.0 && m.macd < 0.0 && close5 > trend {
            Side::Buy
        } else if previous >= 0.0 && m.histogram < 0.0 && m.macd > 0.0 && close5 < trend {
            Side::Sell
        } else {
            return None;
        };
        Some(Signal {
            strategy: StrategyId(0),
            symbol: v.symbol,
            side,
            confidence: (m.histogram.abs() / atr).min(1.0),
            price: v.c1.close,
            atr,
            stop_distance: self.cfg.stop_atr_mult * atr,
            target_distance: self.cfg.target_atr_mult * atr,
            ts: close_time(v.c1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, StrategyName};
    use crate::core::{Core, CoreReloadError};
    use crate::indicators::{EmaValue, IndicatorValues, MacdValue};
    use crate::strategy::test_support::{candle, inputs_of};
    use crate::types::{Candle, DecimalStep, InstrumentRules, Price, Qty, SymbolId};

    struct Setup {
        ind: MacdCrossInputs,
        c1: Candle,
        i1: IndicatorValues,
        c5: Candle,
        i5: IndicatorValues,
    }

    fn macd(macd: f64, histogram: f64, previous: f64) -> Option<MacdValue> {
        Some(MacdValue {
            macd,
            signal: macd - histogram,
            histogram,
            previous_histogram: Some(previous),
        })
    }

    /// A long setup: histogram -1 -> +2 with the MACD line at -5, ATR 10,
    /// 5m close 105 above its EMA 100.
    fn setup() -> Setup {
        let (ind, mut i1, mut i5) = inputs_of::<MacdCross>(&MacdCrossConfig::default());
        i1.set(ind.macd, macd(-5.0, 2.0, -1.0));
        i1.set(ind.atr, Some(10.0));
        i5.set(
            ind.trend,
            Some(EmaValue {
                value: 100.0,
                previous: Some(99.0),
            }),
        );
        Setup {
            ind,
            c1: candle(100.0, 104.0, 99.0, 103.0, 5.0),
            i1,
            c5: candle(100.0, 106.0, 99.0, 105.0, 20.0),
            i5,
        }
    }

    fn eval(s: &Setup) -> Option<Signal> {
        MacdCross::new(&MacdCrossConfig::default()).evaluate(
            &s.ind,
            &MarketView {
                symbol: SymbolId(0),
                c1: &s.c1,
                ind1: &s.i1,
                c5: Some(&s.c5),
                ind5: &s.i5,
            },
        )
    }

    #[test]
    fn a_cross_up_below_zero_in_an_uptrend_is_a_long_with_atr_exits() {
        let s = eval(&setup()).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert!((s.stop_distance - 20.0).abs() < 1e-9);
        assert!((s.target_distance - 40.0).abs() < 1e-9);
        assert!((s.confidence - 0.2).abs() < 1e-9);
        assert_eq!(s.price, Price::from_f64(103.0).unwrap());
    }

    #[test]
    fn a_cross_down_above_zero_in_a_downtrend_is_a_short() {
        let mut s = setup();
        s.i1.set(s.ind.macd, macd(5.0, -3.0, 0.5));
        s.c5 = candle(100.0, 101.0, 94.0, 95.0, 20.0);
        let sig = eval(&s).unwrap();
        assert_eq!(sig.side, Side::Sell);
        assert!((sig.confidence - 0.3).abs() < 1e-9);
    }

    #[test]
    fn no_sign_change_the_wrong_side_of_zero_or_against_the_trend_is_silent() {
        let mut s = setup();
        s.i1.set(s.ind.macd, macd(-5.0, 2.0, 0.5));
        assert!(eval(&s).is_none(), "already positive: no cross");
        s.i1.set(s.ind.macd, macd(1.0, 2.0, -1.0));
        assert!(eval(&s).is_none(), "MACD line above zero: no long");
        let mut s = setup();
        s.c5 = candle(100.0, 101.0, 94.0, 95.0, 20.0);
        assert!(eval(&s).is_none(), "5m close below the trend EMA");
    }

    #[test]
    fn any_cold_input_keeps_it_silent() {
        let mut s = setup();
        s.i1.set(s.ind.atr, None);
        assert!(eval(&s).is_none());
        let mut s = setup();
        s.i1.set(
            s.ind.macd,
            Some(MacdValue {
                previous_histogram: None,
                ..macd(-5.0, 2.0, -1.0).unwrap()
            }),
        );
        assert!(eval(&s).is_none());
    }

    #[test]
    fn periods_are_bounded_and_related_naming_the_key() {
        let cfg = MacdCrossConfig {
            fast_period: 26,
            signal_period: 20_000,
            stop_atr_mult: 5.0,
            ..MacdCrossConfig::default()
        };
        let mut out = Vec::new();
        cfg.validate(&mut ParamCheck::new("macd_cross", &mut out));
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "strategies.macd_cross.fast_period",
                "strategies.macd_cross.signal_period",
                "strategies.macd_cross.stop_atr_mult",
            ]
        );
    }

    fn rules() -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::from_precision(2),
            step: DecimalStep::from_precision(3),
            min_qty: Qty::from_f64(0.001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        }
    }

    #[test]
    fn off_by_default_it_costs_nothing_and_enabling_it_takes_a_restart() {
        let cfg = Config::default();
        assert!(!cfg.strategies.macd_cross.enabled);
        let layout = crate::strategy::layout(&cfg.strategies).unwrap();
        assert!(layout
            .specs(Timeframe::M1)
            .iter()
            .all(|s| s.kind() != "macd"));
        let mut core = Core::try_new(&cfg, &[rules()]).unwrap();
        assert_eq!(core.strategy_count(), 2);
        let mut on = cfg.clone();
        on.strategies.macd_cross.enabled = true;
        assert_eq!(
            core.reload(&on),
            Err(CoreReloadError::NotHeld {
                strategy: "macd_cross"
            })
        );
        let mut started = Core::try_new(&on, &[rules()]).unwrap();
        assert_eq!(started.enabled_strategy_count(), 3);
        assert_eq!(
            started.strategy_name(crate::strategy::StrategyId(2)),
            "macd_cross"
        );
        let mut tighter = on.clone();
        tighter.strategies.macd_cross.stop_atr_mult = 1.5;
        assert_eq!(started.reload(&tighter), Ok(()));
        assert!(StrategyName::MacdCross.is_reloadable_key("stop_atr_mult"));
        assert!(!StrategyName::MacdCross.is_reloadable_key("slow_period"));
    }
}
