//! A scripted strategy for latency sampling and benchmarks: a long entry on
//! every closed 1m candle.
//!
//! Consumes the closed candle of a [`MarketView`]; produces one [`Signal`]
//! per evaluation, with the stop 0.5 % and the target 1 % away from the
//! close. It is not in the configuration's registry ([`super::build`]):
//! drivers append it explicitly (`demo --every-candle`, the benchmark
//! harnesses), so that every candle close that finds the engine flat ends
//! in a sized entry order after the real risk checks. A journal written
//! with it does not replay against the configured strategies alone. Never
//! allocates, logs or reads a clock. Reads ATR(14) on 1m for the signal's
//! `atr` (the stop distance stands in while it is cold).

use super::{MarketView, Signal, Strategy, StrategyId};
use crate::indicators::{Atr, Declare, Ind, Timeframe};
use crate::types::{Side, NS_PER_MIN};

/// Period of the ATR the signal reports (the strategies' default).
const ATR_PERIOD: usize = 14;

/// Stop distance as a fraction of the close.
const STOP_FRACTION: f64 = 0.005;

/// Signals a long on every closed 1m candle (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct EveryCandleEntry {
    /// ATR(14) on 1m, once the core resolved it.
    atr: Option<Ind<Atr>>,
}

impl Strategy for EveryCandleEntry {
    fn name(&self) -> &'static str {
        "every_candle_entry"
    }

    fn declare(&mut self, ind: &mut Declare<'_>) {
        self.atr = Some(ind.read(Timeframe::M1, ATR_PERIOD, "atr_period"));
    }

    fn evaluate(&self, view: &MarketView<'_>) -> Option<Signal> {
        let close = view.c1.close.to_f64();
        let stop = close * STOP_FRACTION;
        Some(Signal {
            strategy: StrategyId(0),
            symbol: view.symbol,
            side: Side::Buy,
            confidence: 0.5,
            price: view.c1.close,
            atr: self.atr.and_then(|h| view.get(h)).unwrap_or(stop),
            stop_distance: stop,
            target_distance: 2.0 * stop,
            ts: view.c1.open_time.add_ns(NS_PER_MIN),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::IndicatorValues;
    use crate::strategy::test_support::candle;
    use crate::types::SymbolId;

    #[test]
    fn every_closed_candle_gives_a_long_with_stop_and_target_around_the_close() {
        let c1 = candle(100.0, 127.0, 95.0, 120.0, 30.0);
        let ind = IndicatorValues::default();
        let view = MarketView {
            symbol: SymbolId(3),
            c1: &c1,
            ind1: &ind,
            c5: None,
            ind5: &ind,
        };
        let s = EveryCandleEntry::default().evaluate(&view).unwrap();
        assert_eq!(s.side, Side::Buy);
        assert_eq!(s.symbol, SymbolId(3));
        assert_eq!(s.price, c1.close);
        assert!((s.stop_distance - 0.6).abs() < 1e-9);
        assert!((s.target_distance - 1.2).abs() < 1e-9);
        // No ATR yet: the stop distance stands in for it.
        assert!((s.atr - 0.6).abs() < 1e-9);
        assert_eq!(s.ts, c1.open_time.add_ns(NS_PER_MIN));
    }
}
