//! Strategy 1, Multi-Timeframe LONG: an explosive bullish 1m candle breaking
//! out above the prior `breakout_lookback` highs, in a 5m EMA uptrend, not
//! exhausted (RSI cap).
//!
//! Consumes a [`MarketView`]; produces a long [`Signal`]. Reads ATR, the
//! volume SMA, RSI and the prior high (`breakout_lookback`) on 1m, and the
//! fast EMA (with its previous value) and slow EMA on 5m. Silent while any
//! of them is cold. Never allocates.

use serde::{Deserialize, Serialize};

use super::{
    is_explosive, Explosive, MarketView, ParamCheck, Plugin, Signal, StrategyConfig,
};
use crate::indicators::{Atr, Declare, Ema, Ind, PriorHigh, Rsi, Timeframe, VolumeSma};
use crate::types::Side;

/// `[strategies.mtf_long]`: explosive bullish 1m breakout in a 5m EMA uptrend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtfLongConfig {
    /// Whether the strategy runs; default true.
    pub enabled: bool,
    /// Body `close - open` at least this many ATR1, in (0, 100]; default 2.5.
    pub body_atr_mult: f64,
    /// Volume at least this many times its SMA, in (0, 100]; default 3.0.
    pub volume_mult: f64,
    /// Close in the top `close_position` of the range, in (0, 1]; default 0.75.
    pub close_position: f64,
    /// Close above the highest high of this many prior 1m candles,
    /// 1..=10080; default 60.
    pub breakout_lookback: usize,
    /// RSI(1m) must be at most this, in (0, 100]; default 80.
    pub rsi_max: f64,
    /// RSI period on 1m closes, 1..=10080; default 14.
    pub rsi_period: usize,
    /// Fast EMA period on 5m closes, below `ema_slow_period`; default 20.
    pub ema_fast_period: usize,
    /// Slow EMA period on 5m closes, 1..=2016; default 50.
    pub ema_slow_period: usize,
    /// ATR period on 1m candles (Wilder), 1..=10080; default 14.
    pub atr_period: usize,
    /// Volume SMA period on 1m candles, 1..=10080; default 20.
    pub volume_sma_period: usize,
    /// Stop distance in ATR1 (this is 1R); below `target_atr_mult`; default 3.
    pub stop_atr_mult: f64,
    /// Target distance in ATR1, in (0, 100]; default 12 (= 4R).
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

impl StrategyConfig for MtfLongConfig {
    const RELOADABLE: &'static [&'static str] = &[
        "enabled",
        "body_atr_mult",
        "volume_mult",
        "close_position",
        "rsi_max",
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
        c.period("breakout_lookback", self.breakout_lookback, Timeframe::M1);
        c.pct("rsi_max", self.rsi_max);
        c.period("rsi_period", self.rsi_period, Timeframe::M1);
        c.period("ema_fast_period", self.ema_fast_period, Timeframe::M5);
        c.period("ema_slow_period", self.ema_slow_period, Timeframe::M5);
        c.period_below(
            "ema_fast_period",
            self.ema_fast_period,
            "ema_slow_period",
            self.ema_slow_period,
        );
    }
}

/// The indicators the long reads.
#[derive(Debug, Clone, Copy)]
pub struct MtfLongInputs {
    atr: Ind<Atr>,
    volume_sma: Ind<VolumeSma>,
    rsi: Ind<Rsi>,
    prior_high: Ind<PriorHigh>,
    ema_fast: Ind<Ema>,
    ema_slow: Ind<Ema>,
}

/// The multi-timeframe long strategy.
#[derive(Debug, Clone)]
pub struct MtfLong {
    cfg: MtfLongConfig,
    pattern: Explosive,
}

impl MtfLong {
    /// Returns the parameters in force.
    #[must_use]
    pub fn params(&self) -> &MtfLongConfig {
        &self.cfg
    }

    fn pattern_of(c: &MtfLongConfig) -> Explosive {
        Explosive {
            body_atr_mult: c.body_atr_mult,
            volume_mult: c.volume_mult,
            close_position: c.close_position,
        }
    }
}

impl Plugin for MtfLong {
    const NAME: &'static str = "mtf_long";
    type Config = MtfLongConfig;
    type Inputs = MtfLongInputs;

    fn new(cfg: &MtfLongConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            pattern: Self::pattern_of(cfg),
        }
    }

    fn inputs(cfg: &MtfLongConfig, ind: &mut Declare<'_>) -> MtfLongInputs {
        use Timeframe::{M1, M5};
        MtfLongInputs {
            atr: ind.read(M1, cfg.atr_period, "atr_period"),
            volume_sma: ind.read(M1, cfg.volume_sma_period, "volume_sma_period"),
            rsi: ind.read(M1, cfg.rsi_period, "rsi_period"),
            prior_high: ind.read(M1, cfg.breakout_lookback, "breakout_lookback"),
            ema_fast: ind.read(M5, cfg.ema_fast_period, "ema_fast_period"),
            ema_slow: ind.read(M5, cfg.ema_slow_period, "ema_slow_period"),
        }
    }

    fn reload(&mut self, new: &MtfLongConfig) {
        let c = &mut self.cfg;
        c.enabled = new.enabled;
        c.body_atr_mult = new.body_atr_mult;
        c.volume_mult = new.volume_mult;
        c.close_position = new.close_position;
        c.rsi_max = new.rsi_max;
        c.stop_atr_mult = new.stop_atr_mult;
        c.target_atr_mult = new.target_atr_mult;
        self.pattern = Self::pattern_of(c);
    }

    fn evaluate(&self, ind: &MtfLongInputs, v: &MarketView<'_>) -> Option<Signal> {
        let atr = v.get(ind.atr)?;
        let vsma = v.get(ind.volume_sma)?;
        let rsi = v.get(ind.rsi)?;
        let prior_high = v.get(ind.prior_high)?;
        let c5 = v.c5?;
        let fast = v.get(ind.ema_fast)?;
        let ema_fast = fast.value;
        let ema_fast_prev = fast.previous?;
        let ema_slow = v.get(ind.ema_slow)?.value;
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
    use crate::indicators::{EmaValue, IndicatorValues};
    use crate::strategy::test_support::{candle, inputs_of};
    use crate::types::{Candle, SymbolId};

    struct Setup {
        ind: MtfLongInputs,
        c1: Candle,
        i1: IndicatorValues,
        c5: Candle,
        i5: IndicatorValues,
    }

    fn ema(value: f64, previous: f64) -> Option<EmaValue> {
        Some(EmaValue {
            value,
            previous: Some(previous),
        })
    }

    /// A passing setup: ATR 10, VSMA 10, RSI 60, prior high 120; 5m close
    /// 130 > EMA20 110 (rising from 109) > EMA50 100.
    fn setup() -> Setup {
        let (ind, mut i1, mut i5) = inputs_of::<MtfLong>(&MtfLongConfig::default());
        i1.set(ind.atr, Some(10.0));
        i1.set(ind.volume_sma, Some(10.0));
        i1.set(ind.rsi, Some(60.0));
        i1.set(ind.prior_high, Some(120.0));
        i5.set(ind.ema_fast, ema(110.0, 109.0));
        i5.set(ind.ema_slow, ema(100.0, 100.0));
        Setup {
            ind,
            c1: candle(100.0, 127.0, 95.0, 125.0, 30.0),
            i1,
            c5: candle(100.0, 131.0, 95.0, 130.0, 100.0),
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
        MtfLong::new(&MtfLongConfig::default()).evaluate(&s.ind, &view(s))
    }

    #[test]
    fn all_conditions_give_a_long_with_stop_and_target_in_atr() {
        let s = eval(&setup()).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert!((s.stop_distance - 30.0).abs() < 1e-9);
        assert!((s.target_distance - 120.0).abs() < 1e-9);
        assert!((s.confidence - 0.5).abs() < 1e-9);
        assert_eq!(s.ts.0, 60_000_000_000);
    }

    #[test]
    fn non_explosive_candle_gives_nothing() {
        let mut s = setup();
        s.c1 = candle(100.0, 127.0, 95.0, 125.0, 29.0);
        assert!(eval(&s).is_none());
    }

    #[test]
    fn close_at_or_below_the_prior_high_is_no_breakout() {
        let mut s = setup();
        s.i1.set(s.ind.prior_high, Some(125.0));
        assert!(eval(&s).is_none());
    }

    #[test]
    fn five_minute_close_below_fast_ema_is_no_uptrend() {
        let mut s = setup();
        s.c5 = candle(100.0, 131.0, 95.0, 109.0, 100.0);
        assert!(eval(&s).is_none());
    }

    #[test]
    fn fast_ema_below_slow_ema_is_no_uptrend() {
        let mut s = setup();
        s.i5.set(s.ind.ema_slow, ema(111.0, 111.0));
        assert!(eval(&s).is_none());
    }

    #[test]
    fn falling_fast_ema_is_no_uptrend() {
        let mut s = setup();
        s.i5.set(s.ind.ema_fast, ema(110.0, 110.5));
        assert!(eval(&s).is_none());
    }

    #[test]
    fn rsi_above_the_cap_is_exhausted_and_at_the_cap_is_not() {
        let mut s = setup();
        s.i1.set(s.ind.rsi, Some(80.01));
        assert!(eval(&s).is_none());
        s.i1.set(s.ind.rsi, Some(80.0));
        assert!(eval(&s).is_some());
    }

    #[test]
    fn any_cold_indicator_keeps_it_silent() {
        let mut s = setup();
        s.i1.set(s.ind.rsi, None);
        assert!(eval(&s).is_none());
        let mut s = setup();
        s.i5.set(
            s.ind.ema_fast,
            Some(EmaValue {
                value: 110.0,
                previous: None,
            }),
        );
        assert!(eval(&s).is_none());
        let s = setup();
        let no5 = MarketView { c5: None, ..view(&s) };
        assert!(MtfLong::new(&MtfLongConfig::default())
            .evaluate(&s.ind, &no5)
            .is_none());
    }

    #[test]
    fn a_reload_takes_thresholds_and_exits_but_keeps_the_periods() {
        let s = setup();
        let mut strat = MtfLong::new(&MtfLongConfig::default());
        assert!(strat.evaluate(&s.ind, &view(&s)).is_some());
        let mut cfg = MtfLongConfig {
            body_atr_mult: 3.5,
            rsi_period: 99,
            ..MtfLongConfig::default()
        };
        strat.reload(&cfg);
        assert!(
            strat.evaluate(&s.ind, &view(&s)).is_none(),
            "a body of 3 ATR is no longer explosive"
        );
        assert_eq!(strat.params().rsi_period, 14, "periods are not reloadable");
        cfg.body_atr_mult = 2.5;
        cfg.stop_atr_mult = 2.0;
        strat.reload(&cfg);
        let sig = strat.evaluate(&s.ind, &view(&s)).unwrap();
        assert!((sig.stop_distance - 20.0).abs() < 1e-9);
    }

    #[test]
    fn it_declares_its_six_indicators_with_their_config_keys() {
        let d = crate::strategy::StrategiesConfig::default()
            .declared(crate::strategy::StrategyName::MtfLong);
        let keys: Vec<&str> = d.iter().map(|i| i.key).collect();
        assert_eq!(
            keys,
            [
                "atr_period",
                "volume_sma_period",
                "rsi_period",
                "breakout_lookback",
                "ema_fast_period",
                "ema_slow_period"
            ]
        );
        // EMA(50) on 5m plus its previous value: 51 five-minute candles.
        assert_eq!(d.warmup_minutes(), 255);
    }
}
