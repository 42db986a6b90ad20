//! Strategy 2, Trend + Distance SHORT: an explosive bearish 1m candle
//! breaking down below the prior `breakdown_lookback` lows, in a strong 5m
//! SMA downtrend, far enough below the 5m SMA(200).
//!
//! Consumes a [`MarketView`]; produces a short [`Signal`]. Reads ATR, the
//! volume SMA and the prior low (`breakdown_lookback`) on 1m, and the fast
//! (50) and slow (200) SMA on 5m. Silent while any of them is cold. Never
//! allocates.

use serde::{Deserialize, Serialize};

use super::{
    is_explosive, Explosive, MarketView, ParamCheck, Plugin, Signal, StrategyConfig,
};
use crate::indicators::{Atr, Declare, Ind, PriorLow, Sma, Timeframe, VolumeSma};
use crate::types::Side;

/// `[strategies.trend_distance_short]`: explosive bearish 1m breakdown far
/// below the 5m SMA(200) in a 5m SMA downtrend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendDistanceShortConfig {
    /// Whether the strategy runs; default true.
    pub enabled: bool,
    /// Body `open - close` at least this many ATR1, in (0, 100]; default 1.5.
    pub body_atr_mult: f64,
    /// Volume at least this many times its SMA, in (0, 100]; default 2.0.
    pub volume_mult: f64,
    /// Close in the bottom `close_position` of the range, in (0, 1]; default 0.75.
    pub close_position: f64,
    /// Close below the lowest low of this many prior 1m candles,
    /// 1..=10080; default 20.
    pub breakdown_lookback: usize,
    /// Fast SMA period on 5m closes; below `sma_slow_period`; default 50.
    pub sma_fast_period: usize,
    /// Slow SMA period on 5m closes, 1..=2016; default 200.
    pub sma_slow_period: usize,
    /// Close at least this far below the slow SMA, percent of it, in [0, 100);
    /// default 2.0.
    pub min_distance_pct: f64,
    /// ATR period on 1m candles (Wilder), 1..=10080; default 14.
    pub atr_period: usize,
    /// Volume SMA period on 1m candles, 1..=10080; default 20.
    pub volume_sma_period: usize,
    /// Stop distance in ATR1 (this is 1R); below `target_atr_mult`; default 3.
    pub stop_atr_mult: f64,
    /// Target distance in ATR1, in (0, 100]; default 15 (= 5R).
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

impl StrategyConfig for TrendDistanceShortConfig {
    const RELOADABLE: &'static [&'static str] = &[
        "enabled",
        "body_atr_mult",
        "volume_mult",
        "close_position",
        "min_distance_pct",
        "stop_atr_mult",
        "target_atr_mult",
    ];

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self, c: &mut ParamCheck<'_>) {
        c.atr_mult("body_atr_mult", self.body_atr_mult);
        c.volume_mult("volume_mult", self.volume_mult);
        c.fraction("close_position", self.close_position);
        c.period("atr_period", self.atr_period, Timeframe::M1);
        c.period("volume_sma_period", self.volume_sma_period, Timeframe::M1);
        c.atr_mult("stop_atr_mult", self.stop_atr_mult);
        c.atr_mult("target_atr_mult", self.target_atr_mult);
        c.below(
            "stop_atr_mult",
            self.stop_atr_mult,
            "target_atr_mult",
            self.target_atr_mult,
        );
        c.period("breakdown_lookback", self.breakdown_lookback, Timeframe::M1);
        c.period("sma_fast_period", self.sma_fast_period, Timeframe::M5);
        c.period("sma_slow_period", self.sma_slow_period, Timeframe::M5);
        c.period_below(
            "sma_fast_period",
            self.sma_fast_period,
            "sma_slow_period",
            self.sma_slow_period,
        );
        c.closed_open("min_distance_pct", self.min_distance_pct, 0.0, 100.0);
    }
}

/// The indicators the short reads.
#[derive(Debug, Clone, Copy)]
pub struct TrendDistanceShortInputs {
    atr: Ind<Atr>,
    volume_sma: Ind<VolumeSma>,
    prior_low: Ind<PriorLow>,
    sma_fast: Ind<Sma>,
    sma_slow: Ind<Sma>,
}

/// The trend + distance short strategy.
#[derive(Debug, Clone)]
pub struct TrendDistanceShort {
    cfg: TrendDistanceShortConfig,
    pattern: Explosive,
}

impl TrendDistanceShort {
    /// Returns the parameters in force.
    #[must_use]
    pub fn params(&self) -> &TrendDistanceShortConfig {
        &self.cfg
    }

    fn pattern_of(c: &TrendDistanceShortConfig) -> Explosive {
        Explosive {
            body_atr_mult: c.body_atr_mult,
            volume_mult: c.volume_mult,
            close_position: c.close_position,
        }
    }
}

impl Plugin for TrendDistanceShort {
    const NAME: &'static str = "trend_distance_short";
    type Config = TrendDistanceShortConfig;
    type Inputs = TrendDistanceShortInputs;

    fn new(cfg: &TrendDistanceShortConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            pattern: Self::pattern_of(cfg),
        }
    }

    fn inputs(cfg: &TrendDistanceShortConfig, ind: &mut Declare<'_>) -> TrendDistanceShortInputs {
        use Timeframe::{M1, M5};
        TrendDistanceShortInputs {
            atr: ind.read(M1, cfg.atr_period, "atr_period"),
            volume_sma: ind.read(M1, cfg.volume_sma_period, "volume_sma_period"),
            prior_low: ind.read(M1, cfg.breakdown_lookback, "breakdown_lookback"),
            sma_fast: ind.read(M5, cfg.sma_fast_period, "sma_fast_period"),
            sma_slow: ind.read(M5, cfg.sma_slow_period, "sma_slow_period"),
        }
    }

    fn reload(&mut self, new: &TrendDistanceShortConfig) {
        let c = &mut self.cfg;
        c.enabled = new.enabled;
        c.body_atr_mult = new.body_atr_mult;
        c.volume_mult = new.volume_mult;
        c.close_position = new.close_position;
        c.min_distance_pct = new.min_distance_pct;
        c.stop_atr_mult = new.stop_atr_mult;
        c.target_atr_mult = new.target_atr_mult;
        self.pattern = Self::pattern_of(c);
    }

    fn evaluate(&self, ind: &TrendDistanceShortInputs, v: &MarketView<'_>) -> Option<Signal> {
        let atr = v.get(ind.atr)?;
        let vsma = v.get(ind.volume_sma)?;
        let prior_low = v.get(ind.prior_low)?;
        let c5 = v.c5?;
        let sma_fast = v.get(ind.sma_fast)?;
        let sma_slow = v.get(ind.sma_slow)?;
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
    use crate::indicators::IndicatorValues;
    use crate::strategy::test_support::{candle, inputs_of};
    use crate::types::{Candle, SymbolId};

    struct Setup {
        ind: TrendDistanceShortInputs,
        c1: Candle,
        i1: IndicatorValues,
        c5: Candle,
        i5: IndicatorValues,
    }

    /// A passing setup: ATR 10, VSMA 10, prior low 80; 5m close 85 < SMA50
    /// 95 < SMA200 100; c1 close 75 is 25% below SMA200.
    fn setup() -> Setup {
        let (ind, mut i1, mut i5) =
            inputs_of::<TrendDistanceShort>(&TrendDistanceShortConfig::default());
        i1.set(ind.atr, Some(10.0));
        i1.set(ind.volume_sma, Some(10.0));
        i1.set(ind.prior_low, Some(80.0));
        i5.set(ind.sma_fast, Some(95.0));
        i5.set(ind.sma_slow, Some(100.0));
        Setup {
            ind,
            c1: candle(100.0, 102.0, 73.0, 75.0, 30.0),
            i1,
            c5: candle(90.0, 91.0, 80.0, 85.0, 100.0),
            i5,
        }
    }

    fn view(s: &Setup) -> MarketView<'_> {
        MarketView {
            symbol: SymbolId(0),
            c1: &s.c1,
            ind1: &s.i1,
            c5: Some(&s.c5),
            ind5: &s.i5,
        }
    }

    fn eval(s: &Setup) -> Option<Signal> {
        TrendDistanceShort::new(&TrendDistanceShortConfig::default()).evaluate(&s.ind, &view(s))
    }

    #[test]
    fn all_conditions_give_a_short_with_stop_and_target_in_atr() {
        let s = eval(&setup()).unwrap();
        assert_eq!(s.side, Side::Sell);
        assert!((s.stop_distance - 30.0).abs() < 1e-9);
        assert!((s.target_distance - 150.0).abs() < 1e-9);
        // body 25 / ATR 10 = 2.5 -> 0.5 * 2.5 / 3; volume 3 -> 0.5 * 3 / 4
        assert!((s.confidence - (2.5 / 6.0 + 3.0 / 8.0)).abs() < 1e-9);
    }

    #[test]
    fn five_minute_close_above_fast_sma_is_no_downtrend() {
        let mut s = setup();
        s.c5 = candle(90.0, 99.0, 80.0, 96.0, 100.0);
        assert!(eval(&s).is_none());
    }

    #[test]
    fn fast_sma_above_slow_sma_is_no_downtrend() {
        let mut s = setup();
        s.i5.set(s.ind.sma_fast, Some(101.0));
        assert!(eval(&s).is_none());
    }

    #[test]
    fn close_within_two_percent_of_the_slow_sma_is_too_close() {
        let mut s = setup();
        // close 98.5 is 1.5% below SMA200 100 (still below SMA50 99)
        s.c1 = candle(114.5, 115.0, 98.0, 98.5, 30.0);
        s.i1.set(s.ind.prior_low, Some(99.0));
        s.i5.set(s.ind.sma_fast, Some(99.5));
        s.c5 = Candle {
            close: crate::types::Price::from_f64(99.0).unwrap(),
            ..s.c5
        };
        assert!(eval(&s).is_none());
        // exactly 2% passes
        s.c1 = candle(114.0, 114.5, 97.5, 98.0, 30.0);
        assert!(eval(&s).is_some());
    }

    #[test]
    fn non_explosive_bearish_candle_gives_nothing() {
        let mut s = setup();
        s.c1 = candle(100.0, 102.0, 73.0, 75.0, 19.0);
        assert!(eval(&s).is_none());
    }

    #[test]
    fn close_at_or_above_the_prior_low_is_no_breakdown() {
        let mut s = setup();
        s.i1.set(s.ind.prior_low, Some(75.0));
        assert!(eval(&s).is_none());
    }

    #[test]
    fn cold_slow_sma_keeps_it_silent() {
        let mut s = setup();
        s.i5.set(s.ind.sma_slow, None);
        assert!(eval(&s).is_none());
    }

    #[test]
    fn a_reload_takes_the_distance_threshold_but_keeps_the_periods() {
        let s = setup();
        let mut strat = TrendDistanceShort::new(&TrendDistanceShortConfig::default());
        assert!(strat.evaluate(&s.ind, &view(&s)).is_some());
        let cfg = TrendDistanceShortConfig {
            min_distance_pct: 30.0,
            sma_slow_period: 7,
            ..TrendDistanceShortConfig::default()
        };
        strat.reload(&cfg);
        assert!(
            strat.evaluate(&s.ind, &view(&s)).is_none(),
            "25% below the SMA is no longer far enough"
        );
        assert_eq!(
            strat.params().sma_slow_period,
            200,
            "periods are not reloadable"
        );
        assert!((strat.params().min_distance_pct - 30.0).abs() < 1e-12);
    }
}
