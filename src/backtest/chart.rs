//! `chart.html`: what a run did, drawn over the market it saw.
//!
//! Consumes the rows, exits and stop moves of a run (through
//! [`ChartCollector`], only when the chart was asked for) and the equity
//! curve; produces one self-contained HTML page: per symbol 5-minute candles,
//! the strategies' trend indicators (EMA fast/slow, SMA mid/slow of the 5m
//! closes), entries, exits and the stop of every position as it moved, and
//! below them the equity and drawdown. The data and the drawing code (plain
//! JavaScript on a canvas) are inline: nothing is fetched when the page is
//! viewed. The wheel zooms, dragging pans, a double click resets. The page
//! sets `data-render="ok"` on `<body>` once drawn, or `data-render="error"`
//! with the message in `#render-error` on any script error (the headless
//! browser test reads these). Cold path.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::datafile::Record as Row;
use crate::indicators::{IndicatorPeriods, TimeframeIndicators};
use crate::orders::PositionId;
use crate::positions::ClosedTrade;
use crate::types::{Side, SymbolId, TimestampNs};

/// Milliseconds per chart candle.
const BUCKET_MS: i64 = 5 * 60_000;

/// One chart candle: open time ms, open, high, low, close.
pub type ChartCandle = (i64, f64, f64, f64, f64);

/// One symbol's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolChart {
    /// 5m candles: open time ms, open, high, low, close.
    pub candles: Vec<ChartCandle>,
    /// Indicator lines (name, value per candle).
    pub lines: Vec<(String, Vec<Option<f64>>)>,
    /// Entries and exits: time ms, price, kind (`long`, `short`, `exit`), label.
    pub markers: Vec<(i64, f64, &'static str, String)>,
    /// The stop of each position: (time ms, level) steps.
    pub stops: Vec<Vec<(i64, f64)>>,
}

/// What `chart.html` shows, per symbol in `SymbolId` order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartData {
    /// Per symbol.
    pub symbols: Vec<SymbolChart>,
}

/// Gathers the chart while a run goes.
#[derive(Debug)]
pub(crate) struct ChartCollector {
    building: Vec<Option<ChartCandle>>,
    indicators: Vec<TimeframeIndicators>,
    charts: Vec<SymbolChart>,
    /// Open positions: symbol and index into that symbol's `stops`.
    positions: HashMap<PositionId, (usize, usize)>,
}

impl ChartCollector {
    pub(crate) fn new(symbols: usize) -> Self {
        let periods = IndicatorPeriods::default();
        let names = [
            format!("EMA{}", periods.ema_fast),
            format!("EMA{}", periods.ema_slow),
            format!("SMA{}", periods.sma_mid),
            format!("SMA{}", periods.sma_slow),
        ];
        Self {
            building: vec![None; symbols],
            indicators: (0..symbols)
                .map(|_| TimeframeIndicators::with_default_periods())
                .collect(),
            charts: (0..symbols)
                .map(|_| SymbolChart {
                    candles: Vec::new(),
                    lines: names.iter().map(|n| (n.clone(), Vec::new())).collect(),
                    markers: Vec::new(),
                    stops: Vec::new(),
                })
                .collect(),
            positions: HashMap::new(),
        }
    }

    /// Folds one data row into its symbol's 5m candle.
    pub(crate) fn on_row(&mut self, row: &Row) {
        let (symbol, ts, o, h, l, c) = match row {
            Row::Trade(t) => {
                let p = t.price.to_f64();
                (t.symbol, t.exchange_ts, p, p, p, p)
            }
            Row::Candle(k) => (
                k.symbol,
                k.open_time,
                k.open.to_f64(),
                k.high.to_f64(),
                k.low.to_f64(),
                k.close.to_f64(),
            ),
        };
        let i = usize::from(symbol.0);
        let bucket = ts.as_ms().div_euclid(BUCKET_MS) * BUCKET_MS;
        let Some(slot) = self.building.get_mut(i) else {
            return;
        };
        match slot {
            Some(b) if b.0 == bucket => {
                b.2 = b.2.max(h);
                b.3 = b.3.min(l);
                b.4 = c;
            }
            _ => {
                if let Some(done) = slot.replace((bucket, o, h, l, c)) {
                    self.close(i, done);
                }
            }
        }
    }

    fn close(&mut self, i: usize, b: ChartCandle) {
        let (Some(ind), Some(chart)) = (self.indicators.get_mut(i), self.charts.get_mut(i)) else {
            return;
        };
        ind.update_values(b.2, b.3, b.4, 0.0);
        let s = ind.snapshot();
        for (k, v) in [s.ema_fast, s.ema_slow, s.sma_mid, s.sma_slow]
            .into_iter()
            .enumerate()
        {
            if let Some(line) = chart.lines.get_mut(k) {
                line.1.push(v);
            }
        }
        chart.candles.push(b);
    }

    /// A position opened on `symbol` with its first stop.
    pub(crate) fn on_stop(
        &mut self,
        position: PositionId,
        symbol: SymbolId,
        ts: TimestampNs,
        stop: f64,
    ) {
        let i = usize::from(symbol.0);
        if let Some(chart) = self.charts.get_mut(i) {
            chart.stops.push(vec![(ts.as_ms(), stop)]);
            self.positions.insert(position, (i, chart.stops.len() - 1));
        }
    }

    /// A position's stop moved.
    pub(crate) fn on_stop_moved(&mut self, position: PositionId, ts: TimestampNs, stop: f64) {
        if let Some(&(i, k)) = self.positions.get(&position) {
            if let Some(steps) = self.charts.get_mut(i).and_then(|c| c.stops.get_mut(k)) {
                steps.push((ts.as_ms(), stop));
            }
        }
    }

    /// A trade closed: its entry and exit markers; its stop line ends.
    pub(crate) fn on_trade_closed(&mut self, t: &ClosedTrade, exits: &str) {
        let i = usize::from(t.symbol.0);
        if let Some((_, k)) = self.positions.remove(&t.position) {
            if let Some(steps) = self.charts.get_mut(i).and_then(|c| c.stops.get_mut(k)) {
                let last = steps.last().map_or(0.0, |s| s.1);
                steps.push((t.exit_ts.as_ms(), last));
            }
        }
        let Some(chart) = self.charts.get_mut(i) else {
            return;
        };
        let (kind, side) = match t.side {
            Side::Buy => ("long", "long"),
            Side::Sell => ("short", "short"),
        };
        chart.markers.push((
            t.entry_ts.as_ms(),
            t.entry_price.to_f64(),
            kind,
            format!("#{} {side} @{}", t.position.0, t.entry_price.to_f64()),
        ));
        chart.markers.push((
            t.exit_ts.as_ms(),
            t.avg_exit_price.to_f64(),
            "exit",
            format!("#{} {exits} pnl {:.2}", t.position.0, t.pnl.to_f64()),
        ));
    }

    /// Closes the candles still being built.
    pub(crate) fn finish(mut self) -> ChartData {
        for i in 0..self.building.len() {
            if let Some(b) = self.building[i].take() {
                self.close(i, b);
            }
        }
        ChartData {
            symbols: self.charts,
        }
    }
}

fn num(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{}", super::decimal::decimal8(v));
    } else {
        out.push_str("null");
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// Returns the data block of the page as JSON text.
fn data_json(data: &ChartData, names: &[String], equity: &[(i64, f64)]) -> String {
    let mut o = String::with_capacity(1 << 20);
    o.push_str("{\"symbols\":[");
    for (k, c) in data.symbols.iter().enumerate() {
        if k > 0 {
            o.push(',');
        }
        o.push_str("{\"name\":");
        json_str(&mut o, names.get(k).map_or("", String::as_str));
        o.push_str(",\"candles\":[");
        for (j, (t, op, h, l, cl)) in c.candles.iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            let _ = write!(o, "[{t},");
            for (n, v) in [op, h, l, cl].into_iter().enumerate() {
                if n > 0 {
                    o.push(',');
                }
                num(&mut o, *v);
            }
            o.push(']');
        }
        o.push_str("],\"lines\":[");
        for (j, (name, values)) in c.lines.iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            o.push_str("{\"name\":");
            json_str(&mut o, name);
            o.push_str(",\"v\":[");
            for (n, v) in values.iter().enumerate() {
                if n > 0 {
                    o.push(',');
                }
                num(&mut o, v.unwrap_or(f64::NAN));
            }
            o.push_str("]}");
        }
        o.push_str("],\"markers\":[");
        for (j, (t, p, kind, label)) in c.markers.iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            let _ = write!(o, "[{t},");
            num(&mut o, *p);
            let _ = write!(o, ",\"{kind}\",");
            json_str(&mut o, label);
            o.push(']');
        }
        o.push_str("],\"stops\":[");
        for (j, steps) in c.stops.iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            o.push('[');
            for (n, (t, p)) in steps.iter().enumerate() {
                if n > 0 {
                    o.push(',');
                }
                let _ = write!(o, "[{t},");
                num(&mut o, *p);
                o.push(']');
            }
            o.push(']');
        }
        o.push_str("]}");
    }
    o.push_str("],\"equity\":[");
    let mut last_bucket = i64::MIN;
    let mut first = true;
    for (t, e) in equity {
        // One point per 5 minutes (the last of each) keeps the page small.
        let bucket = t.div_euclid(BUCKET_MS);
        if bucket == last_bucket {
            o.truncate(o.rfind('[').unwrap_or(o.len()));
        } else if !first {
            o.push(',');
        }
        first = false;
        last_bucket = bucket;
        let _ = write!(o, "[{t},");
        num(&mut o, *e);
        o.push(']');
    }
    o.push_str("]}");
    // `</` inside a script element would end it.
    o.replace("</", "<\\/")
}

/// Returns the text of `chart.html` for a run's chart data, its symbol
/// names (in `SymbolId` order) and its equity curve.
#[must_use]
pub fn chart_html(data: &ChartData, names: &[String], equity: &[(i64, f64)]) -> String {
    let json = data_json(data, names, equity);
    let mut page = String::with_capacity(json.len() + PAGE_HEAD.len() + PAGE_SCRIPT.len() + 64);
    page.push_str(PAGE_HEAD);
    page.push_str("<script id=\"chart-data\" type=\"application/json\">");
    page.push_str(&json);
    page.push_str("</script>\n<script>\n");
    page.push_str(PAGE_SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

const PAGE_HEAD: &str = include_str!("chart_head.html");
const PAGE_SCRIPT: &str = include_str!("chart.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained_and_its_data_cannot_close_the_script() {
        let data = ChartData {
            symbols: vec![SymbolChart {
                candles: vec![(0, 1.0, 2.0, 0.5, 1.5), (300_000, 1.5, 1.6, 1.4, 1.45)],
                lines: vec![("EMA20".into(), vec![None, Some(1.2)])],
                markers: vec![(0, 1.0, "long", "</script><b>".into())],
                stops: vec![vec![(0, 0.9), (300_000, 1.1)]],
            }],
        };
        let page = chart_html(
            &data,
            &["ETH-USDT".into()],
            &[(0, 10_000.0), (60_000, 9_990.0)],
        );
        // The error hook, the data and the drawing code: three script elements.
        assert_eq!(
            page.matches("</script>").count(),
            3,
            "data must not end its script"
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no network"
        );
        assert!(page.contains("\"ETH-USDT\"") && page.contains("[0,1,2,0.5,1.5]"));
        assert!(page.contains("[0,10000],[60000,9990]") || page.contains("[60000,9990]"));
    }
}
