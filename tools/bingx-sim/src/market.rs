//! Market state shared by the WebSocket pushes and the REST market endpoints: last trade,
//! 1-minute candle history, recent trades and a synthetic order book around the last price.
//!
//! Consumes [`Tick`]s; produces BingX-shaped JSON for trades, klines, book ticker, depth,
//! ticker and price. Never matches orders (the account does that).

use super::num::{format_scaled, pow10, to_f64};
use super::source::{Precision, Tick};
use serde_json::{json, Value};
use std::collections::VecDeque;

/// How many recent trades are kept for `/quote/trades`.
const RECENT_TRADES: usize = 1_000;
/// Candle history kept for REST klines (about 1 year of minutes).
const MAX_CANDLES: usize = 525_600;

/// One aggregated 1-minute candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    /// Open time, ms (multiple of 60 000).
    pub open_ms: i64,
    /// Open, high, low, close in ticks.
    pub ohlc: [i64; 4],
    /// Base volume in steps.
    pub volume: i64,
    /// Quote volume.
    pub quote: f64,
}

/// The served symbol's market.
#[derive(Debug)]
pub struct MarketState {
    symbol: String,
    precision: Precision,
    candles: VecDeque<Candle>,
    recent: VecDeque<Tick>,
    last: Option<Tick>,
    update_id: u64,
}

/// Kline intervals accepted by REST, in ms (`1M` is not served).
fn interval_ms(interval: &str) -> Option<i64> {
    const MIN: i64 = 60_000;
    Some(match interval {
        "1m" => MIN,
        "3m" => 3 * MIN,
        "5m" => 5 * MIN,
        "15m" => 15 * MIN,
        "30m" => 30 * MIN,
        "1h" => 60 * MIN,
        "2h" => 120 * MIN,
        "4h" => 240 * MIN,
        "6h" => 360 * MIN,
        "8h" => 480 * MIN,
        "12h" => 720 * MIN,
        "1d" => 1_440 * MIN,
        "3d" => 3 * 1_440 * MIN,
        "1w" => 7 * 1_440 * MIN,
        _ => return None,
    })
}

/// Parses `depth<N>@<ms>ms`, returning N.
fn depth_levels(kind: &str) -> Option<usize> {
    let (n, ms) = kind.strip_prefix("depth")?.split_once('@')?;
    let n: usize = n.parse().ok()?;
    let ms: u32 = ms.strip_suffix("ms")?.parse().ok()?;
    (matches!(n, 5 | 10 | 20 | 50 | 100) && matches!(ms, 100 | 200 | 500 | 1000)).then_some(n)
}

fn bucket_start(t: i64, width: i64) -> i64 {
    // Weeks start on Monday; the epoch was a Thursday, four days after a Monday boundary.
    let offset = if width == 7 * 86_400_000 {
        4 * 86_400_000
    } else {
        0
    };
    (t - offset).div_euclid(width) * width + offset
}

impl MarketState {
    /// Returns an empty market for `symbol`.
    #[must_use]
    pub fn new(symbol: &str, precision: Precision) -> Self {
        Self {
            symbol: symbol.to_owned(),
            precision,
            candles: VecDeque::new(),
            recent: VecDeque::new(),
            last: None,
            update_id: 0,
        }
    }

    /// Returns the served symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// Returns price and quantity decimals.
    #[must_use]
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Returns the last trade price in ticks, if any.
    #[must_use]
    pub fn last_price(&self) -> Option<i64> {
        self.last.map(|t| t.price)
    }

    /// Formats a price in ticks.
    #[must_use]
    pub fn px(&self, ticks: i64) -> String {
        format_scaled(ticks, self.precision.price)
    }

    /// Formats a quantity in steps.
    #[must_use]
    pub fn qty(&self, steps: i64) -> String {
        format_scaled(steps, self.precision.qty)
    }

    /// Returns `price * qty` in quote currency.
    #[must_use]
    pub fn notional(&self, price: i64, qty: i64) -> f64 {
        to_f64(price, self.precision.price) * to_f64(qty, self.precision.qty)
    }

    /// Records a trade: updates the current candle (opening a new one on a new minute),
    /// the recent-trade ring and the book.
    pub fn apply(&mut self, t: &Tick) {
        let minute = t.time_ms.div_euclid(60_000) * 60_000;
        let quote = self.notional(t.price, t.qty);
        match self.candles.back_mut() {
            Some(c) if c.open_ms == minute => {
                c.ohlc[1] = c.ohlc[1].max(t.price);
                c.ohlc[2] = c.ohlc[2].min(t.price);
                c.ohlc[3] = t.price;
                c.volume += t.qty;
                c.quote += quote;
            }
            _ => {
                self.candles.push_back(Candle {
                    open_ms: minute,
                    ohlc: [t.price; 4],
                    volume: t.qty,
                    quote,
                });
                if self.candles.len() > MAX_CANDLES {
                    self.candles.pop_front();
                }
            }
        }
        self.recent.push_back(*t);
        if self.recent.len() > RECENT_TRADES {
            self.recent.pop_front();
        }
        self.last = Some(*t);
        self.update_id += 1;
    }

    /// Returns (best bid, best ask) in ticks: the last trade sits on the side it hit.
    #[must_use]
    pub fn best_bid_ask(&self) -> Option<(i64, i64)> {
        let t = self.last?;
        Some(if t.buyer_maker {
            (t.price, t.price + 1)
        } else {
            ((t.price - 1).max(1), t.price)
        })
    }

    /// Returns a deterministic resting quantity (steps) for a book level.
    fn level_qty(&self, price: i64) -> i64 {
        let mut z = (price as u64) ^ (self.update_id / 16).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let unit = (pow10(self.precision.qty) / 100).max(1);
        (1 + (z >> 40) as i64 % 500) * unit
    }

    /// Returns the trade push for `batch` (oldest first in, newest first out).
    #[must_use]
    pub fn trade_push(&self, topic: &str, batch: &[Tick]) -> Value {
        let data: Vec<Value> = batch
            .iter()
            .rev()
            .map(|t| {
                json!({"q": self.qty(t.qty), "p": self.px(t.price), "T": t.time_ms,
                       "m": t.buyer_maker, "s": self.symbol})
            })
            .collect();
        json!({"code": 0, "dataType": topic, "data": data})
    }

    /// Returns the current 1-minute candle push, if a candle exists.
    #[must_use]
    pub fn kline_push(&self, topic: &str) -> Option<Value> {
        let c = self.candles.back()?;
        Some(
            json!({"code": 0, "dataType": topic, "s": self.symbol, "data": [{
            "c": self.px(c.ohlc[3]), "o": self.px(c.ohlc[0]), "h": self.px(c.ohlc[1]),
            "l": self.px(c.ohlc[2]), "v": self.qty(c.volume), "T": c.open_ms}]}),
        )
    }

    /// Returns the book-ticker push, if a trade exists.
    #[must_use]
    pub fn book_ticker_push(&self, topic: &str, now_ms: i64) -> Option<Value> {
        let t = self.last?;
        let (b, a) = self.best_bid_ask()?;
        Some(json!({"code": 0, "dataType": topic, "data": {
            "e": "bookTicker", "u": self.update_id, "E": now_ms, "T": t.time_ms,
            "s": self.symbol, "b": self.px(b), "B": self.qty(self.level_qty(b)),
            "a": self.px(a), "A": self.qty(self.level_qty(a))}}))
    }

    /// Returns the last-price push.
    #[must_use]
    pub fn last_price_push(&self, topic: &str, now_ms: i64) -> Option<Value> {
        let t = self.last?;
        Some(json!({"code": 0, "dataType": topic, "data": {
            "e": "lastPriceUpdate", "E": now_ms, "s": self.symbol, "c": self.px(t.price)}}))
    }

    /// Returns the mark-price push (mark = last trade in the simulator).
    #[must_use]
    pub fn mark_price_push(&self, topic: &str, now_ms: i64) -> Option<Value> {
        let t = self.last?;
        Some(json!({"code": 0, "dataType": topic, "data": {
            "e": "markPriceUpdate", "E": now_ms, "s": self.symbol, "p": self.px(t.price)}}))
    }

    /// Returns true when `topic` is a market stream the simulator serves for `symbol`:
    /// `@trade`, `@kline_1m`, `@bookTicker`, `@lastPrice`, `@markPrice`, `@ticker` and
    /// `@depth<N>@<ms>ms` with N ∈ {5, 10, 20, 50, 100} and ms ∈ {100, 200, 500, 1000}.
    #[must_use]
    pub fn serves_topic(symbol: &str, topic: &str) -> bool {
        let Some(kind) = topic.strip_prefix(symbol).and_then(|t| t.strip_prefix('@')) else {
            return false;
        };
        match kind {
            "trade" | "kline_1m" | "bookTicker" | "lastPrice" | "markPrice" | "ticker" => true,
            other => depth_levels(other).is_some(),
        }
    }

    /// Returns the push for `topic` after `batch` (the trades of this push, oldest first);
    /// `None` when there is nothing to push yet or the topic is not served.
    #[must_use]
    pub fn push_for(&self, topic: &str, batch: &[Tick], now_ms: i64) -> Option<Value> {
        let kind = topic
            .strip_prefix(self.symbol.as_str())?
            .strip_prefix('@')?;
        match kind {
            "trade" => (!batch.is_empty()).then(|| self.trade_push(topic, batch)),
            "kline_1m" => self.kline_push(topic),
            "bookTicker" => self.book_ticker_push(topic, now_ms),
            "lastPrice" => self.last_price_push(topic, now_ms),
            "markPrice" => self.mark_price_push(topic, now_ms),
            "ticker" => self.ticker_push(topic, now_ms),
            other => {
                let levels = depth_levels(other)?;
                self.last?;
                let d = self.depth_data(levels, now_ms);
                Some(json!({"code": 0, "dataType": topic, "ts": now_ms,
                    "data": {"bids": d["bids"], "asks": d["asks"]}}))
            }
        }
    }

    /// Returns the 24-hour ticker push (`e: "24hTicker"`).
    #[must_use]
    pub fn ticker_push(&self, topic: &str, now_ms: i64) -> Option<Value> {
        self.last?;
        let t = self.ticker_data(now_ms);
        Some(
            json!({"code": 0, "dataType": topic, "data": {"e": "24hTicker", "E": now_ms,
            "s": self.symbol, "p": t["priceChange"], "P": t["priceChangePercent"], "c": t["lastPrice"],
            "L": t["lastQty"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"],
            "q": t["quoteVolume"], "o": t["openPrice"], "O": t["openTime"], "C": t["closeTime"],
            "A": t["askPrice"], "a": t["askQty"], "B": t["bidPrice"], "b": t["bidQty"]}}),
        )
    }

    /// Returns REST `data` for `/ticker/price`.
    #[must_use]
    pub fn price_data(&self) -> Value {
        let t = self.last.unwrap_or(Tick {
            time_ms: 0,
            price: 0,
            qty: 0,
            buyer_maker: false,
        });
        json!({"symbol": self.symbol, "price": self.px(t.price), "time": t.time_ms})
    }

    /// Returns REST `data` for `/quote/bookTicker` (snake_case keys, JSON numbers).
    #[must_use]
    pub fn book_ticker_data(&self) -> Value {
        let (b, a) = self.best_bid_ask().unwrap_or((0, 0));
        let n = |v: i64, d: u32| to_f64(v, d);
        json!({"book_ticker": {"symbol": self.symbol,
            "bid_price": n(b, self.precision.price), "bid_qty": n(self.level_qty(b), self.precision.qty),
            "ask_price": n(a, self.precision.price), "ask_qty": n(self.level_qty(a), self.precision.qty)}})
    }

    /// Returns REST `data` for `/quote/depth`: bids descending, asks descending (best ask
    /// last), `limit` levels each, plus `bidsCoin`/`asksCoin` copies.
    #[must_use]
    pub fn depth_data(&self, limit: usize, now_ms: i64) -> Value {
        let (b, a) = self.best_bid_ask().unwrap_or((0, 0));
        let level = |p: i64| json!([self.px(p), self.qty(self.level_qty(p))]);
        let bids: Vec<Value> = (0..limit as i64)
            .map(|i| b - i)
            .filter(|p| *p > 0)
            .map(level)
            .collect();
        let asks: Vec<Value> = (0..limit as i64).rev().map(|i| a + i).map(level).collect();
        json!({"T": now_ms, "bids": bids, "asks": asks, "bidsCoin": bids, "asksCoin": asks})
    }

    /// Returns REST `data` for `/quote/ticker` over the last 24 hours of candles.
    #[must_use]
    pub fn ticker_data(&self, now_ms: i64) -> Value {
        let last = self.last.map_or(0, |t| t.price);
        let from = self
            .candles
            .back()
            .map_or(0, |c| c.open_ms - 24 * 3_600_000 + 60_000);
        let day: Vec<&Candle> = self.candles.iter().filter(|c| c.open_ms >= from).collect();
        let open = day.first().map_or(last, |c| c.ohlc[0]);
        let high = day.iter().map(|c| c.ohlc[1]).max().unwrap_or(last);
        let low = day.iter().map(|c| c.ohlc[2]).min().unwrap_or(last);
        let volume: i64 = day.iter().map(|c| c.volume).sum();
        let quote: f64 = day.iter().map(|c| c.quote).sum::<f64>() + 0.0;
        let pct = if open > 0 {
            (last - open) as f64 * 100.0 / open as f64
        } else {
            0.0
        };
        let (b, a) = self.best_bid_ask().unwrap_or((0, 0));
        json!({"symbol": self.symbol, "priceChange": self.px(last - open),
            "priceChangePercent": format!("{pct:.2}"), "lastPrice": self.px(last),
            "lastQty": self.qty(self.last.map_or(0, |t| t.qty)), "highPrice": self.px(high),
            "lowPrice": self.px(low), "volume": self.qty(volume), "quoteVolume": format!("{quote:.2}"),
            "openPrice": self.px(open), "openTime": day.first().map_or(now_ms, |c| c.open_ms),
            "closeTime": self.last.map_or(now_ms, |t| t.time_ms),
            "askPrice": self.px(a), "askQty": self.qty(self.level_qty(a)),
            "bidPrice": self.px(b), "bidQty": self.qty(self.level_qty(b))})
    }

    /// Returns REST `data` for `/quote/trades` (newest first).
    #[must_use]
    pub fn trades_data(&self, limit: usize) -> Value {
        let data: Vec<Value> = self
            .recent
            .iter()
            .rev()
            .take(limit)
            .map(|t| {
                json!({"time": t.time_ms, "isBuyerMaker": t.buyer_maker, "price": self.px(t.price),
                   "qty": self.qty(t.qty), "quoteQty": format!("{:.2}", self.notional(t.price, t.qty))})
            })
            .collect();
        Value::Array(data)
    }

    /// Returns REST `data` for `/quote/klines`: ascending bars of `interval` whose open time
    /// is within `[start, end]` (inclusive); without a range the latest `limit` bars.
    /// `None` for an unsupported interval.
    #[must_use]
    pub fn klines_data(
        &self,
        interval: &str,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Option<Value> {
        let width = interval_ms(interval)?;
        let mut bars: Vec<Candle> = Vec::new();
        for c in &self.candles {
            let open = bucket_start(c.open_ms, width);
            match bars.last_mut() {
                Some(b) if b.open_ms == open => {
                    b.ohlc[1] = b.ohlc[1].max(c.ohlc[1]);
                    b.ohlc[2] = b.ohlc[2].min(c.ohlc[2]);
                    b.ohlc[3] = c.ohlc[3];
                    b.volume += c.volume;
                    b.quote += c.quote;
                }
                _ => bars.push(Candle {
                    open_ms: open,
                    ..*c
                }),
            }
        }
        let in_range = |b: &&Candle| {
            start.is_none_or(|s| b.open_ms >= bucket_start(s, width))
                && end.is_none_or(|e| b.open_ms <= e)
        };
        let selected: Vec<&Candle> = bars.iter().filter(in_range).collect();
        let chosen: &[&Candle] = if start.is_some() {
            &selected[..selected.len().min(limit)]
        } else {
            &selected[selected.len().saturating_sub(limit)..]
        };
        Some(Value::Array(
            chosen
                .iter()
                .map(|c| {
                    json!({"open": self.px(c.ohlc[0]), "close": self.px(c.ohlc[3]),
                       "high": self.px(c.ohlc[1]), "low": self.px(c.ohlc[2]),
                       "volume": self.qty(c.volume), "time": c.open_ms})
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(t: i64, p: i64, q: i64) -> Tick {
        Tick {
            time_ms: t,
            price: p,
            qty: q,
            buyer_maker: false,
        }
    }

    fn market() -> MarketState {
        let mut m = MarketState::new("BTC-USDT", Precision { price: 1, qty: 4 });
        m.apply(&tick(60_000, 600_000, 10));
        m.apply(&tick(61_000, 600_100, 20));
        m.apply(&tick(120_500, 599_000, 5));
        m.apply(&tick(180_100, 601_000, 5));
        m
    }

    #[test]
    fn candles_aggregate_by_minute_and_interval() {
        let m = market();
        let one = m.klines_data("1m", None, None, 500).unwrap();
        assert_eq!(one.as_array().unwrap().len(), 3);
        assert_eq!(one[0]["open"], "60000.0");
        assert_eq!(one[0]["high"], "60010.0");
        assert_eq!(one[0]["volume"], "0.0030");
        assert_eq!(one[0]["time"], 60_000);
        let three = m.klines_data("3m", None, None, 500).unwrap();
        assert_eq!(three.as_array().unwrap().len(), 2);
        assert_eq!(three[0]["low"], "59900.0");
        let ranged = m
            .klines_data("1m", Some(120_000), Some(120_000), 500)
            .unwrap();
        assert_eq!(ranged.as_array().unwrap().len(), 1);
        let latest = m.klines_data("1m", None, None, 1).unwrap();
        assert_eq!(latest[0]["time"], 180_000);
        assert!(m.klines_data("1M", None, None, 5).is_none());
    }

    #[test]
    fn pushes_have_the_exchange_shapes() {
        let m = market();
        let trades = m.trade_push("BTC-USDT@trade", &[tick(1, 10, 1), tick(2, 11, 1)]);
        assert_eq!(trades["data"][0]["T"], 2, "newest first");
        assert_eq!(trades["data"][0]["s"], "BTC-USDT");
        let k = m.kline_push("BTC-USDT@kline_1m").unwrap();
        assert_eq!(k["s"], "BTC-USDT");
        assert_eq!(k["data"][0]["T"], 180_000);
        let b = m.book_ticker_push("BTC-USDT@bookTicker", 5).unwrap();
        assert_eq!(b["data"]["e"], "bookTicker");
        assert_eq!(b["data"]["a"], "60100.0");
    }

    #[test]
    fn topics_are_recognised_and_pushed() {
        let m = market();
        assert!(MarketState::serves_topic(
            "BTC-USDT",
            "BTC-USDT@depth20@500ms"
        ));
        assert!(MarketState::serves_topic("BTC-USDT", "BTC-USDT@ticker"));
        assert!(!MarketState::serves_topic(
            "BTC-USDT",
            "BTC-USDT@depth7@500ms"
        ));
        assert!(!MarketState::serves_topic(
            "BTC-USDT",
            "BTC-USDT@depth5@50ms"
        ));
        assert!(!MarketState::serves_topic("BTC-USDT", "ETH-USDT@trade"));
        assert!(!MarketState::serves_topic("BTC-USDT", "BTC-USDT@kline_5m"));
        let d = m.push_for("BTC-USDT@depth5@500ms", &[], 7).unwrap();
        assert_eq!(d["ts"], 7);
        assert_eq!(d["data"]["bids"].as_array().unwrap().len(), 5);
        let t = m.push_for("BTC-USDT@ticker", &[], 7).unwrap();
        assert_eq!(t["data"]["e"], "24hTicker");
        assert_eq!(t["data"]["c"], "60100.0");
        assert!(
            m.push_for("BTC-USDT@trade", &[], 7).is_none(),
            "no trades, no push"
        );
        assert!(m.push_for("BTC-USDT@nothing", &[], 7).is_none());
    }

    #[test]
    fn depth_lists_asks_descending_with_best_ask_last() {
        let m = market();
        let d = m.depth_data(5, 0);
        let asks = d["asks"].as_array().unwrap();
        let bids = d["bids"].as_array().unwrap();
        assert_eq!(asks.len(), 5);
        assert_eq!(asks[4][0], "60100.0");
        assert_eq!(bids[0][0], "60099.9");
        assert!(asks[0][0].as_str().unwrap() > asks[4][0].as_str().unwrap());
    }
}
