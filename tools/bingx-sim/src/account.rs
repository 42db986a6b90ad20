//! Account state: wallet, positions per position side, leverage and margin mode; applies
//! fills and produces the REST position/balance objects and the `ACCOUNT_UPDATE` payload.
//!
//! Consumes fills (price, quantity, side) from the exchange; produces realised PnL and JSON.
//! Never decides whether an order fills (the exchange does) and never liquidates.

use super::market::MarketState;
use super::num::to_f64;
use super::orders::{PosSide, Side};
use serde_json::{json, Value};

/// One position. In hedge mode `qty ≥ 0` and the side is in the key; in one-way mode (`BOTH`)
/// `qty` is signed (negative = short).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Position {
    /// Quantity in steps.
    pub qty: i64,
    /// Average entry price (as a float of the quote currency).
    pub entry: f64,
    /// Realised PnL accumulated on this position.
    pub realised: f64,
}

/// Margin mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarginType {
    /// Cross margin (`CROSSED`).
    Crossed,
    /// Isolated margin (`ISOLATED`).
    Isolated,
    /// Separate isolated (`SEPARATE_ISOLATED`).
    SeparateIsolated,
}

impl MarginType {
    /// Parses the REST value.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CROSSED" => Some(Self::Crossed),
            "ISOLATED" => Some(Self::Isolated),
            "SEPARATE_ISOLATED" => Some(Self::SeparateIsolated),
            _ => None,
        }
    }

    /// Returns the REST value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crossed => "CROSSED",
            Self::Isolated => "ISOLATED",
            Self::SeparateIsolated => "SEPARATE_ISOLATED",
        }
    }

    /// Returns the user-stream value (`cross`/`isolated`).
    #[must_use]
    pub fn ws(self) -> &'static str {
        match self {
            Self::Crossed => "cross",
            _ => "isolated",
        }
    }
}

/// The simulated account (USDT margin, one symbol).
#[derive(Debug, Clone)]
pub struct Account {
    /// Wallet balance (deposits + realised PnL − fees).
    pub wallet: f64,
    /// Cumulative realised PnL.
    pub realised: f64,
    /// Hedge (dual-side) mode.
    pub hedge: bool,
    /// Margin mode.
    pub margin_type: MarginType,
    /// Leverage of long exposure (and of one-way positions).
    pub long_leverage: u32,
    /// Leverage of short exposure.
    pub short_leverage: u32,
    /// Hedge-mode long.
    pub long: Position,
    /// Hedge-mode short.
    pub short: Position,
    /// One-way position.
    pub both: Position,
}

/// The effect of one fill on the account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillResult {
    /// Quantity actually filled (capped for reducing orders).
    pub qty: i64,
    /// Realised PnL of this fill (before fees).
    pub pnl: f64,
}

impl Account {
    /// Returns a flat account with `balance` USDT.
    #[must_use]
    pub fn new(balance: f64, hedge: bool, leverage: u32) -> Self {
        Self {
            wallet: balance,
            realised: 0.0,
            hedge,
            margin_type: MarginType::Crossed,
            long_leverage: leverage,
            short_leverage: leverage,
            long: Position::default(),
            short: Position::default(),
            both: Position::default(),
        }
    }

    /// Returns the position for `ps`.
    #[must_use]
    pub fn position(&self, ps: PosSide) -> &Position {
        match ps {
            PosSide::Long => &self.long,
            PosSide::Short => &self.short,
            PosSide::Both => &self.both,
        }
    }

    fn position_mut(&mut self, ps: PosSide) -> &mut Position {
        match ps {
            PosSide::Long => &mut self.long,
            PosSide::Short => &mut self.short,
            PosSide::Both => &mut self.both,
        }
    }

    /// Returns true when any position is open.
    #[must_use]
    pub fn has_positions(&self) -> bool {
        self.long.qty != 0 || self.short.qty != 0 || self.both.qty != 0
    }

    /// Returns the leverage applying to a position side (`BOTH` uses the long value).
    #[must_use]
    pub fn leverage_for(&self, ps: PosSide) -> u32 {
        match ps {
            PosSide::Short => self.short_leverage,
            _ => self.long_leverage,
        }
    }

    /// Returns how many steps an order of `side` on `ps` would close (0 = it only opens).
    #[must_use]
    pub fn closable(&self, side: Side, ps: PosSide) -> i64 {
        match (ps, side) {
            (PosSide::Long, Side::Sell) => self.long.qty,
            (PosSide::Short, Side::Buy) => self.short.qty,
            (PosSide::Both, Side::Sell) => self.both.qty.max(0),
            (PosSide::Both, Side::Buy) => (-self.both.qty).max(0),
            _ => 0,
        }
    }

    /// Applies a fill and returns the filled quantity and realised PnL; a reducing order
    /// (`cap_to_position`) never fills more than the position it closes.
    pub fn apply_fill(
        &mut self,
        m: &MarketState,
        side: Side,
        ps: PosSide,
        price: i64,
        qty: i64,
        cap_to_position: bool,
    ) -> FillResult {
        let px = to_f64(price, m.precision().price);
        let unit = |q: i64| to_f64(q, m.precision().qty);
        let closable = self.closable(side, ps);
        let qty = if cap_to_position {
            qty.min(closable)
        } else {
            qty
        };
        let pos = self.position_mut(ps);
        let mut pnl = 0.0;
        match ps {
            PosSide::Long | PosSide::Short => {
                let opening = matches!(
                    (ps, side),
                    (PosSide::Long, Side::Buy) | (PosSide::Short, Side::Sell)
                );
                if opening {
                    let total = pos.qty + qty;
                    pos.entry = (pos.entry * unit(pos.qty) + px * unit(qty))
                        / unit(total).max(f64::MIN_POSITIVE);
                    pos.qty = total;
                } else {
                    let closed = qty.min(pos.qty);
                    let dir = if ps == PosSide::Long { 1.0 } else { -1.0 };
                    pnl = (px - pos.entry) * unit(closed) * dir;
                    pos.qty -= closed;
                    if pos.qty == 0 {
                        pos.entry = 0.0;
                    }
                }
            }
            PosSide::Both => {
                let delta = if side == Side::Buy { qty } else { -qty };
                if pos.qty == 0 || pos.qty.signum() == delta.signum() {
                    let total = pos.qty + delta;
                    pos.entry = (pos.entry * unit(pos.qty.abs()) + px * unit(qty))
                        / unit(total.abs()).max(f64::MIN_POSITIVE);
                    pos.qty = total;
                } else {
                    let closed = delta.abs().min(pos.qty.abs());
                    pnl = (px - pos.entry) * unit(closed) * pos.qty.signum() as f64;
                    let rest = pos.qty + delta;
                    if rest.signum() == pos.qty.signum() || rest == 0 {
                        pos.qty = rest;
                        if rest == 0 {
                            pos.entry = 0.0;
                        }
                    } else {
                        pos.qty = rest;
                        pos.entry = px;
                    }
                }
            }
        }
        pos.realised += pnl;
        self.realised += pnl;
        self.wallet += pnl;
        FillResult { qty, pnl }
    }

    fn positions(&self) -> [(PosSide, &Position); 3] {
        [
            (PosSide::Long, &self.long),
            (PosSide::Short, &self.short),
            (PosSide::Both, &self.both),
        ]
    }

    /// Returns the unrealised PnL of one position at `mark` ticks.
    #[must_use]
    pub fn unrealised(&self, m: &MarketState, ps: PosSide, mark: i64) -> f64 {
        let p = self.position(ps);
        let signed = match ps {
            PosSide::Short => -p.qty,
            _ => p.qty,
        };
        (to_f64(mark, m.precision().price) - p.entry) * to_f64(signed, m.precision().qty)
    }

    /// Returns the initial margin of one position.
    #[must_use]
    pub fn margin(&self, m: &MarketState, ps: PosSide) -> f64 {
        let p = self.position(ps);
        p.entry * to_f64(p.qty.abs(), m.precision().qty) / f64::from(self.leverage_for(ps).max(1))
    }

    /// Returns (equity, used margin, unrealised PnL) at the last price.
    #[must_use]
    pub fn totals(&self, m: &MarketState) -> (f64, f64, f64) {
        let mark = m.last_price().unwrap_or(0);
        let mut used = 0.0;
        let mut upnl = 0.0;
        for (ps, p) in self.positions() {
            if p.qty != 0 {
                used += self.margin(m, ps);
                upnl += self.unrealised(m, ps, mark);
            }
        }
        (self.wallet + upnl, used, upnl)
    }

    /// Returns one REST position row.
    #[must_use]
    pub fn position_json(&self, m: &MarketState, ps: PosSide, update_ms: i64) -> Value {
        let p = self.position(ps);
        let mark = m.last_price().unwrap_or(0);
        let lev = self.leverage_for(ps);
        let margin = self.margin(m, ps);
        let upnl = self.unrealised(m, ps, mark);
        let long = match ps {
            PosSide::Short => false,
            PosSide::Long => true,
            PosSide::Both => p.qty > 0,
        };
        let inv = 1.0 / f64::from(lev.max(1));
        let liq = if long {
            p.entry * (1.0 - inv)
        } else {
            p.entry * (1.0 + inv)
        };
        let value = to_f64(mark, m.precision().price) * to_f64(p.qty.abs(), m.precision().qty);
        let dp = m.precision().price as usize + 2;
        json!({
            "positionId": format!("{}", 1_773_289_330_136_281_088u64 + ps as u64),
            "symbol": m.symbol(), "currency": "USDT", "positionAmt": m.qty(p.qty),
            "availableAmt": m.qty(p.qty), "positionSide": ps.as_str(),
            "isolated": self.margin_type != MarginType::Crossed,
            "avgPrice": format!("{:.dp$}", p.entry), "initialMargin": format!("{margin:.4}"),
            "leverage": lev, "unrealizedProfit": format!("{upnl:.4}"),
            "realisedProfit": format!("{:.4}", p.realised), "liquidationPrice": liq,
            "pnlRatio": format!("{:.4}", if margin > 0.0 { upnl / margin } else { 0.0 }),
            "maxMarginReduction": "0.0000", "riskRate": "0.0000", "markPrice": m.px(mark),
            "positionValue": format!("{value:.4}"), "onlyOnePosition": !self.hedge,
            "updateTime": update_ms,
        })
    }

    /// Returns the REST positions array (open positions only).
    #[must_use]
    pub fn positions_json(&self, m: &MarketState, update_ms: i64) -> Value {
        Value::Array(
            self.positions()
                .into_iter()
                .filter(|(_, p)| p.qty != 0)
                .map(|(ps, _)| self.position_json(m, ps, update_ms))
                .collect(),
        )
    }

    /// Returns the v3 balance row of USDT (`frozen` = margin reserved by open orders).
    #[must_use]
    pub fn balance_row(&self, m: &MarketState, frozen: f64) -> Value {
        let (equity, used, upnl) = self.totals(m);
        json!({
            "userId": "1341158271307522053", "asset": "USDT",
            "balance": format!("{:.4}", self.wallet), "equity": format!("{equity:.4}"),
            "unrealizedProfit": format!("{upnl:.4}"), "realisedProfit": format!("{:.4}", self.realised),
            "availableMargin": format!("{:.4}", (equity - used - frozen).max(0.0)),
            "usedMargin": format!("{used:.4}"), "freezedMargin": format!("{frozen:.4}"),
            "shortUid": "25307298",
        })
    }

    /// Returns the `ACCOUNT_UPDATE` event for a change of the `ps` position (or of the
    /// balance only when `ps` is `None`).
    #[must_use]
    pub fn account_update(
        &self,
        m: &MarketState,
        reason: &str,
        balance_change: f64,
        ps: Option<PosSide>,
        now_ms: i64,
    ) -> Value {
        let d8 = |v: f64| format!("{v:.8}");
        let positions: Vec<Value> = ps
            .map(|ps| {
                let p = self.position(ps);
                let mark = m.last_price().unwrap_or(0);
                json!({"s": m.symbol(), "pa": d8(to_f64(p.qty, m.precision().qty)), "ep": d8(p.entry),
                   "up": d8(self.unrealised(m, ps, mark)), "mt": self.margin_type.ws(),
                   "iw": d8(self.margin(m, ps)), "ps": ps.as_str(), "cr": d8(p.realised)})
            })
            .into_iter()
            .collect();
        let (_, used, _) = self.totals(m);
        json!({"e": "ACCOUNT_UPDATE", "E": now_ms, "T": now_ms, "a": {"m": reason,
            "B": [{"a": "USDT", "wb": d8(self.wallet), "cw": d8(self.wallet - if self.margin_type == MarginType::Crossed { 0.0 } else { used }),
                   "bc": d8(balance_change)}],
            "P": positions}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Precision, Tick};

    fn market(price: i64) -> MarketState {
        let mut m = MarketState::new("BTC-USDT", Precision { price: 1, qty: 4 });
        m.apply(&Tick {
            time_ms: 0,
            price,
            qty: 1,
            buyer_maker: false,
        });
        m
    }

    #[test]
    fn hedge_long_opens_then_closes_with_pnl() {
        let m = market(600_000);
        let mut a = Account::new(1_000.0, true, 10);
        let r = a.apply_fill(&m, Side::Buy, PosSide::Long, 600_000, 1_000, false);
        assert_eq!(r.qty, 1_000);
        assert_eq!(a.long.qty, 1_000);
        assert!((a.long.entry - 60_000.0).abs() < 1e-9);
        assert!((a.margin(&m, PosSide::Long) - 600.0).abs() < 1e-6);
        let r = a.apply_fill(&m, Side::Sell, PosSide::Long, 610_000, 5_000, true);
        assert_eq!(r.qty, 1_000, "capped at the position");
        assert!((r.pnl - 100.0).abs() < 1e-6);
        assert_eq!(a.long.qty, 0);
        assert!((a.wallet - 1_100.0).abs() < 1e-6);
    }

    #[test]
    fn one_way_position_flips_through_zero() {
        let m = market(600_000);
        let mut a = Account::new(1_000.0, false, 5);
        a.apply_fill(&m, Side::Sell, PosSide::Both, 600_000, 1_000, false);
        assert_eq!(a.both.qty, -1_000);
        let r = a.apply_fill(&m, Side::Buy, PosSide::Both, 590_000, 3_000, false);
        assert!((r.pnl - 100.0).abs() < 1e-6);
        assert_eq!(a.both.qty, 2_000);
        assert!((a.both.entry - 59_000.0).abs() < 1e-9);
        assert_eq!(a.closable(Side::Sell, PosSide::Both), 2_000);
        assert_eq!(a.closable(Side::Buy, PosSide::Both), 0);
    }

    #[test]
    fn json_rows_have_documented_keys() {
        let m = market(600_000);
        let mut a = Account::new(1_000.0, true, 10);
        a.apply_fill(&m, Side::Sell, PosSide::Short, 600_000, 100, false);
        let rows = a.positions_json(&m, 1);
        assert_eq!(rows.as_array().unwrap().len(), 1);
        assert_eq!(rows[0]["positionSide"], "SHORT");
        assert_eq!(rows[0]["positionAmt"], "0.0100");
        assert!(rows[0]["leverage"].is_number());
        let b = a.balance_row(&m, 0.0);
        assert_eq!(b["asset"], "USDT");
        assert_eq!(b["usedMargin"], "60.0000");
        let u = a.account_update(&m, "ORDER", 0.0, Some(PosSide::Short), 2);
        assert_eq!(u["a"]["P"][0]["ps"], "SHORT");
        assert_eq!(u["a"]["B"][0]["a"], "USDT");
    }
}
