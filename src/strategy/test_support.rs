//! Test helpers: candles from plain numbers, and a plug-in's indicator
//! handles with cold values to fill in.

use super::Plugin;
use crate::indicators::{Declare, Declared, IndicatorLayout, IndicatorValues, Timeframe};
use crate::types::{Candle, Price, Qty, SymbolId, TimestampNs};

/// Returns a 1m candle at minute 0.
pub(crate) fn candle(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Candle {
    Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(0),
        open: Price::from_f64(open).unwrap(),
        high: Price::from_f64(high).unwrap(),
        low: Price::from_f64(low).unwrap(),
        close: Price::from_f64(close).unwrap(),
        volume: Qty::from_f64(volume).unwrap(),
        trade_count: 1,
    }
}

/// Returns `P`'s handles for `cfg` resolved against a layout of exactly
/// what it declares, with cold 1m and 5m values to set.
pub(crate) fn inputs_of<P: Plugin>(
    cfg: &P::Config,
) -> (P::Inputs, IndicatorValues, IndicatorValues) {
    let mut declared = Declared::default();
    let _ = P::inputs(cfg, &mut Declare::collect(&mut declared));
    let mut layout = IndicatorLayout::default();
    for input in declared.iter() {
        layout.add(input);
    }
    let ind = P::inputs(cfg, &mut Declare::resolve(&layout));
    (
        ind,
        IndicatorValues::cold(&layout, Timeframe::M1),
        IndicatorValues::cold(&layout, Timeframe::M5),
    )
}
