//! Order model of the simulator: enums parsed from BingX parameters, the order record and its
//! JSON forms (REST order object, place-order acknowledgement, user-stream event).
//!
//! Consumes validated parameters; produces JSON. Never changes positions or balances.

use super::market::MarketState;
use serde_json::{json, Value};

/// Order side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// BUY.
    Buy,
    /// SELL.
    Sell,
}

impl Side {
    /// Parses `BUY`/`SELL`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BUY" => Some(Self::Buy),
            "SELL" => Some(Self::Sell),
            _ => None,
        }
    }

    /// Returns the wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// Position side of an order or position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PosSide {
    /// Hedge-mode long.
    Long,
    /// Hedge-mode short.
    Short,
    /// One-way mode (signed position).
    Both,
}

impl PosSide {
    /// Parses `LONG`/`SHORT`/`BOTH`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LONG" => Some(Self::Long),
            "SHORT" => Some(Self::Short),
            "BOTH" => Some(Self::Both),
            _ => None,
        }
    }

    /// Returns the wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "LONG",
            Self::Short => "SHORT",
            Self::Both => "BOTH",
        }
    }
}

/// Supported order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// Fills at the last trade ± slippage.
    Market,
    /// Rests until a trade crosses its price.
    Limit,
    /// Becomes a market order when a trade reaches `stopPrice` adversely.
    StopMarket,
    /// Becomes a market order when a trade reaches `stopPrice` favourably.
    TakeProfitMarket,
}

impl OrderKind {
    /// Parses the BingX `type`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MARKET" => Some(Self::Market),
            "LIMIT" => Some(Self::Limit),
            "STOP_MARKET" => Some(Self::StopMarket),
            "TAKE_PROFIT_MARKET" => Some(Self::TakeProfitMarket),
            _ => None,
        }
    }

    /// Returns the wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Market => "MARKET",
            Self::Limit => "LIMIT",
            Self::StopMarket => "STOP_MARKET",
            Self::TakeProfitMarket => "TAKE_PROFIT_MARKET",
        }
    }

    /// Returns true for the trigger types.
    #[must_use]
    pub fn is_trigger(self) -> bool {
        matches!(self, Self::StopMarket | Self::TakeProfitMarket)
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Maker only (`PostOnly`).
    PostOnly,
}

impl Tif {
    /// Parses `GTC`/`IOC`/`FOK`/`PostOnly`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GTC" => Some(Self::Gtc),
            "IOC" => Some(Self::Ioc),
            "FOK" => Some(Self::Fok),
            "PostOnly" => Some(Self::PostOnly),
            _ => None,
        }
    }

    /// Returns the wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::PostOnly => "PostOnly",
        }
    }
}

/// Order lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Trigger order waiting for its stop price (REST `NEW`).
    New,
    /// Resting limit order (REST `PENDING`).
    Pending,
    /// Completely filled.
    Filled,
    /// Cancelled by the client, cancel-all or cancel-all-after.
    Cancelled,
    /// Expired by the simulator (IOC/FOK not crossed, nothing left to reduce).
    Expired,
}

impl Status {
    /// Returns the REST spelling (`CANCELLED` with double L).
    #[must_use]
    pub fn rest(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Pending => "PENDING",
            Self::Filled => "FILLED",
            Self::Cancelled | Self::Expired => "CANCELLED",
        }
    }

    /// Returns the user-stream spelling (`CANCELED` with single L).
    #[must_use]
    pub fn ws(self) -> &'static str {
        match self {
            Self::New | Self::Pending => "NEW",
            Self::Filled => "FILLED",
            Self::Cancelled => "CANCELED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Returns true while the order can still fill or be cancelled.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Pending)
    }
}

/// The fill an order event reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillInfo {
    /// Fee of this fill (positive = paid).
    pub fee: f64,
    /// Realised PnL of this fill.
    pub pnl: f64,
    /// Simulator trade id.
    pub trade_id: u64,
    /// Trade time, ms.
    pub trade_ms: i64,
}

/// One order as the simulator tracks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// 19-digit order id.
    pub id: u64,
    /// Client order id, lower-cased ("" when none).
    pub client_id: String,
    /// Side.
    pub side: Side,
    /// Position side.
    pub pos_side: PosSide,
    /// Type.
    pub kind: OrderKind,
    /// Quantity in steps (0 with `close_position` until triggered).
    pub qty: i64,
    /// Limit price in ticks (0 when none).
    pub price: i64,
    /// Trigger price in ticks (0 when none).
    pub stop: i64,
    /// Time in force.
    pub tif: Tif,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Close the whole position when triggered.
    pub close_position: bool,
    /// Current status.
    pub status: Status,
    /// Filled quantity in steps.
    pub executed: i64,
    /// Average fill price in ticks (0 when unfilled).
    pub avg_price: i64,
    /// Fees paid so far (positive number; shown negated).
    pub fee: f64,
    /// Realised PnL of the fills.
    pub profit: f64,
    /// Leverage at placement.
    pub leverage: u32,
    /// Placement time, ms.
    pub time_ms: i64,
    /// Last change, ms.
    pub update_ms: i64,
    /// `workingType` echoed back.
    pub working_type: String,
}

fn empty_tpsl() -> Value {
    json!({"type": "", "quantity": 0, "stopPrice": 0, "price": 0, "workingType": ""})
}

impl Order {
    fn px_or_empty(m: &MarketState, v: i64) -> String {
        if v == 0 {
            String::new()
        } else {
            m.px(v)
        }
    }

    /// Returns the REST order object (query, cancel, open orders, cancel all).
    #[must_use]
    pub fn rest_json(&self, m: &MarketState, one_way: bool) -> Value {
        let filled = self.executed > 0;
        json!({
            "symbol": m.symbol(), "orderId": self.id, "side": self.side.as_str(),
            "positionSide": self.pos_side.as_str(), "type": self.kind.as_str(),
            "origQty": m.qty(self.qty), "price": m.px(self.price),
            "executedQty": m.qty(self.executed), "avgPrice": m.px(self.avg_price),
            "cumQuote": if filled { format!("{:.4}", m.notional(self.avg_price, self.executed)) } else { "0".to_owned() },
            "stopPrice": Self::px_or_empty(m, self.stop),
            "profit": format!("{:.4}", self.profit), "commission": format!("{:.6}", -self.fee),
            "status": self.status.rest(), "time": self.time_ms, "updateTime": self.update_ms,
            "clientOrderId": self.client_id, "leverage": format!("{}X", self.leverage),
            "takeProfit": empty_tpsl(), "stopLoss": empty_tpsl(), "advanceAttr": 0,
            "positionID": 0, "takeProfitEntrustPrice": 0, "stopLossEntrustPrice": 0,
            "orderType": "", "workingType": self.working_type, "onlyOnePosition": one_way,
            "reduceOnly": self.reduce_only, "postOnly": self.tif == Tif::PostOnly,
            "stopGuaranteed": "false", "triggerOrderId": 0, "timeInForce": self.tif.as_str(),
            "closePosition": if self.close_position { "true" } else { "" },
        })
    }

    /// Returns the place-order acknowledgement (`data.order`).
    #[must_use]
    pub fn ack_json(&self, m: &MarketState) -> Value {
        json!({
            "symbol": m.symbol(), "orderId": self.id, "side": self.side.as_str(),
            "positionSide": self.pos_side.as_str(), "type": self.kind.as_str(),
            "clientOrderID": self.client_id, "clientOrderId": self.client_id,
            "workingType": self.working_type, "price": m.px(self.price),
            "quantity": m.qty(self.qty), "stopPrice": m.px(self.stop),
            "timeInForce": self.tif.as_str(), "reduceOnly": self.reduce_only,
            "status": self.status.rest(), "avgPrice": m.px(self.avg_price),
            "executedQty": m.qty(self.executed),
        })
    }

    /// Returns an `ORDER_TRADE_UPDATE` (or, with `name = "TRADE_UPDATE"`, the 2025 variant)
    /// for execution type `exec`; `fill` carries this event's fee, PnL and trade.
    #[must_use]
    pub fn event_json(
        &self,
        m: &MarketState,
        name: &str,
        exec: &str,
        now_ms: i64,
        fill: Option<&FillInfo>,
    ) -> Value {
        let event_fee = fill.map_or(0.0, |f| f.fee);
        let event_pnl = fill.map_or(0.0, |f| f.pnl);
        let trade = fill.map(|f| (f.trade_id, f.trade_ms));
        let d8 = |v: f64| format!("{v:.8}");
        let px8 = |t: i64| d8(super::num::to_f64(t, m.precision().price));
        let q8 = |s: i64| d8(super::num::to_f64(s, m.precision().qty));
        let mut o = json!({
            "s": m.symbol(), "c": self.client_id, "i": self.id, "S": self.side.as_str(),
            "o": self.kind.as_str(), "q": q8(self.qty), "p": px8(self.price), "sp": px8(self.stop),
            "ap": px8(self.avg_price), "x": exec, "X": self.status.ws(), "N": "USDT",
            "n": d8(-event_fee), "T": trade.map_or(self.update_ms, |(_, t)| t),
            "wt": self.working_type, "ps": self.pos_side.as_str(), "rp": d8(event_pnl),
            "z": q8(self.executed), "ro": self.reduce_only,
        });
        let mut ev = json!({"e": name, "E": now_ms});
        if let (Some((trade_id, t)), Some(obj)) = (trade, o.as_object_mut()) {
            if name == "TRADE_UPDATE" {
                obj.insert("td".into(), json!(trade_id));
                obj.insert(
                    "tv".into(),
                    json!(format!("{:.4}", m.notional(self.avg_price, self.executed))),
                );
                obj.insert("sg".into(), json!("false"));
                obj.insert("ti".into(), json!(0));
                ev["T"] = json!(t);
            }
        }
        ev["o"] = o;
        ev
    }
}
