//! The fill model of backtests and paper mode (an in-process simulated
//! exchange, not the loopback `bingx-sim`): market, stop-market and
//! take-profit-market orders against trades or 1m candles.
//!
//! Consumes [`OrderIntent`]s, cancels and market data; produces the engine
//! [`Event`]s an exchange would send (acks, fills with fees and slippage,
//! rejects, cancels) through a caller-supplied sink. Fill rules:
//! - Market orders fill at the next trade's price (trades data) or at once
//!   at the last candle close (klines data), moved against the order by
//!   `slippage_bps`.
//! - Stop and take-profit orders trigger on every trade at its price, or on
//!   a candle's high/low at the trigger (the open when the candle gapped
//!   through it), stops first: if one candle touches both the stop and a
//!   target, the stop wins. Take-profits fill nearest first.
//! - Every fill is a taker fill: `taker_fee_bps` of the notional.
//! - Reduce-only orders are capped to the open position; one that would
//!   reduce nothing is rejected (market) or cancelled (resting).
//!
//! Deterministic: no clock, no randomness. Allocates only in the
//! constructor (fixed-capacity order books).

use crate::config::SimulatorConfig;
use crate::core::Event;
use crate::money::Money;
use crate::orders::{Fill, OrderId, OrderIntent, OrderKind};
use crate::types::{Candle, Fx, Price, Qty, Side, SymbolId, TimestampNs, Trade, NS_PER_MIN};

/// Most resting or queued orders held at once.
pub const ORDER_CAPACITY: usize = 256;

/// Where market orders fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketFill {
    /// At the next trade (trades data).
    NextTrade,
    /// At once, at the last candle close (klines data).
    LastClose,
}

/// The fill model: the simulated exchange of backtest and paper mode.
#[derive(Debug)]
pub struct FillModel {
    taker_rate: f64,
    slippage_rate: f64,
    market_fill: MarketFill,
    /// Market orders waiting for the next trade.
    queued: Vec<OrderIntent>,
    /// Stop and take-profit orders.
    resting: Vec<OrderIntent>,
    /// Signed position per symbol (positive long).
    positions: Vec<Fx>,
    last_price: Vec<Option<Price>>,
    now: TimestampNs,
    fills: u64,
}

impl FillModel {
    /// Returns an exchange for `symbols` symbols with `cfg`'s fees and slippage.
    #[must_use]
    pub fn new(cfg: &SimulatorConfig, symbols: usize, market_fill: MarketFill) -> Self {
        Self {
            taker_rate: cfg.taker_fee_bps / 10_000.0,
            slippage_rate: cfg.slippage_bps / 10_000.0,
            market_fill,
            queued: Vec::with_capacity(ORDER_CAPACITY),
            resting: Vec::with_capacity(ORDER_CAPACITY),
            positions: vec![Fx::ZERO; symbols],
            last_price: vec![None; symbols],
            now: TimestampNs(0),
            fills: 0,
        }
    }

    /// Returns the signed position of `symbol` (positive long).
    #[must_use]
    pub fn position(&self, symbol: SymbolId) -> Fx {
        self.positions
            .get(usize::from(symbol.0))
            .copied()
            .unwrap_or(Fx::ZERO)
    }

    /// Returns the number of resting stop/take-profit orders.
    #[must_use]
    pub fn resting_orders(&self) -> usize {
        self.resting.len()
    }

    /// Returns the number of fills so far.
    #[must_use]
    pub fn fills(&self) -> u64 {
        self.fills
    }

    /// Accepts an order: a market order fills now (klines) or is queued for
    /// the next trade; a conditional order rests. A full book or an unknown
    /// symbol rejects it.
    pub fn submit(&mut self, o: &OrderIntent, out: &mut impl FnMut(Event)) {
        let known = usize::from(o.symbol.0) < self.positions.len();
        let now = self.now.max(o.ts);
        match o.kind {
            OrderKind::Market if known && self.market_fill == MarketFill::LastClose => {
                match self.last_price[usize::from(o.symbol.0)] {
                    Some(p) => self.fill(o, p, now, out),
                    None => out(Event::Rejected {
                        order: o.id,
                        ts: now,
                    }),
                }
            }
            OrderKind::Market if known && self.queued.len() < ORDER_CAPACITY => {
                out(Event::Ack {
                    order: o.id,
                    ts: now,
                });
                self.queued.push(*o);
            }
            OrderKind::StopMarket { .. } | OrderKind::TakeProfitMarket { .. }
                if known && self.resting.len() < ORDER_CAPACITY =>
            {
                out(Event::Ack {
                    order: o.id,
                    ts: now,
                });
                self.resting.push(*o);
            }
            _ => out(Event::Rejected {
                order: o.id,
                ts: now,
            }),
        }
    }

    /// Cancels a resting or queued order (reports `Cancelled` if it was live).
    pub fn cancel(&mut self, order: OrderId, out: &mut impl FnMut(Event)) {
        if let Some(k) = self.resting.iter().position(|o| o.id == order) {
            self.resting.remove(k);
        } else if let Some(k) = self.queued.iter().position(|o| o.id == order) {
            self.queued.remove(k);
        } else {
            return;
        }
        out(Event::Cancelled {
            order,
            ts: self.now,
        });
    }

    /// Processes one trade: queued market orders fill at its price, then
    /// stops, then take-profits trigger on it.
    pub fn on_trade(&mut self, t: &Trade, out: &mut impl FnMut(Event)) {
        let i = usize::from(t.symbol.0);
        if i >= self.positions.len() {
            return;
        }
        self.now = t.exchange_ts;
        self.last_price[i] = Some(t.price);
        let mut k = 0;
        while k < self.queued.len() {
            if self.queued[k].symbol == t.symbol {
                let o = self.queued.remove(k);
                self.fill(&o, t.price, t.exchange_ts, out);
            } else {
                k += 1;
            }
        }
        let p = t.price;
        self.trigger(t.symbol, t.exchange_ts, out, |o| match o.kind {
            OrderKind::StopMarket { trigger } => match o.side {
                Side::Sell => (p <= trigger).then_some(p),
                Side::Buy => (p >= trigger).then_some(p),
            },
            _ => None,
        });
        self.trigger_take_profits(t.symbol, t.exchange_ts, out, p, p, p);
    }

    /// Processes one closed 1m candle: stops on its adverse extreme first,
    /// then take-profits on its favourable extreme; the candle close becomes
    /// the market-order price.
    pub fn on_candle(&mut self, c: &Candle, out: &mut impl FnMut(Event)) {
        let i = usize::from(c.symbol.0);
        if i >= self.positions.len() {
            return;
        }
        let ts = c.open_time;
        self.now = ts;
        let (open, high, low) = (c.open, c.high, c.low);
        self.trigger(c.symbol, ts, out, |o| match o.kind {
            OrderKind::StopMarket { trigger } => match o.side {
                Side::Sell => (low <= trigger).then_some(open.min(trigger)),
                Side::Buy => (high >= trigger).then_some(open.max(trigger)),
            },
            _ => None,
        });
        self.trigger_take_profits(c.symbol, ts, out, open, high, low);
        self.now = ts.add_ns(NS_PER_MIN);
        self.last_price[i] = Some(c.close);
    }

    /// Fills the queued market orders at the last known price (end of data).
    pub fn flush(&mut self, out: &mut impl FnMut(Event)) {
        while !self.queued.is_empty() {
            let o = self.queued.remove(0);
            match self.last_price[usize::from(o.symbol.0)] {
                Some(p) => self.fill(&o, p, self.now, out),
                None => out(Event::Rejected {
                    order: o.id,
                    ts: self.now,
                }),
            }
        }
    }

    /// Fills every resting order of `symbol` for which `price_of` gives a
    /// reference price, in book order.
    fn trigger(
        &mut self,
        symbol: SymbolId,
        ts: TimestampNs,
        out: &mut impl FnMut(Event),
        price_of: impl Fn(&OrderIntent) -> Option<Price>,
    ) {
        let mut k = 0;
        while k < self.resting.len() {
            let o = self.resting[k];
            match (o.symbol == symbol).then(|| price_of(&o)).flatten() {
                Some(p) => {
                    self.resting.remove(k);
                    self.fill(&o, p, ts, out);
                }
                None => k += 1,
            }
        }
    }

    /// Fills triggered take-profits nearest first. A sell (long exit)
    /// triggers when `high >= trigger` at `max(open, trigger)`; a buy when
    /// `low <= trigger` at `min(open, trigger)`.
    fn trigger_take_profits(
        &mut self,
        symbol: SymbolId,
        ts: TimestampNs,
        out: &mut impl FnMut(Event),
        open: Price,
        high: Price,
        low: Price,
    ) {
        loop {
            let mut best: Option<(usize, Fx, Price)> = None;
            for (k, o) in self.resting.iter().enumerate() {
                let OrderKind::TakeProfitMarket { trigger } = o.kind else {
                    continue;
                };
                if o.symbol != symbol {
                    continue;
                }
                let hit = match o.side {
                    Side::Sell => (high >= trigger).then_some(open.max(trigger)),
                    Side::Buy => (low <= trigger).then_some(open.min(trigger)),
                };
                let Some(px) = hit else { continue };
                let distance = (trigger.0 - open.0).abs();
                if best.is_none_or(|(_, d, _)| distance < d) {
                    best = Some((k, distance, px));
                }
            }
            let Some((k, _, px)) = best else { return };
            let o = self.resting.remove(k);
            self.fill(&o, px, ts, out);
        }
    }

    /// Executes `o` at `reference` moved by slippage, with the taker fee.
    fn fill(
        &mut self,
        o: &OrderIntent,
        reference: Price,
        ts: TimestampNs,
        out: &mut impl FnMut(Event),
    ) {
        let i = usize::from(o.symbol.0);
        let pos = self.positions[i];
        let mut qty = o.qty.0;
        if o.reduce_only {
            let reducible = match o.side {
                Side::Sell if pos > Fx::ZERO => pos,
                Side::Buy if pos < Fx::ZERO => -pos,
                _ => Fx::ZERO,
            };
            qty = qty.min(reducible);
            if qty <= Fx::ZERO {
                let event = match o.kind {
                    OrderKind::Market => Event::Rejected { order: o.id, ts },
                    _ => Event::Cancelled { order: o.id, ts },
                };
                out(event);
                return;
            }
        }
        let r = reference.to_f64();
        let px = match o.side {
            Side::Buy => r * (1.0 + self.slippage_rate),
            Side::Sell => r * (1.0 - self.slippage_rate),
        };
        let price = Price::from_f64(px).unwrap_or(reference);
        let q = Qty(qty);
        let notional = q.to_f64() * price.to_f64();
        let fee = Money::from_f64(notional * self.taker_rate);
        let slippage = Money::from_f64((price.to_f64() - r).abs() * q.to_f64());
        self.positions[i] = match o.side {
            Side::Buy => pos.saturating_add(qty),
            Side::Sell => pos.saturating_sub(qty),
        };
        self.fills += 1;
        out(Event::Fill(Fill {
            order: o.id,
            symbol: o.symbol,
            qty: q,
            price,
            fee,
            slippage,
            ts,
        }));
    }
}

#[cfg(test)]
mod tests;
