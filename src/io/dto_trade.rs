//! Trading and account DTOs of the BingX REST API (§4.6–4.14): orders,
//! cancel results, positions, balances, leverage, margin type, position mode,
//! the dead-man switch and listen keys.
//!
//! Consumes response bodies (via serde_json); produces typed structs with
//! fixed-point prices/quantities and exact 64-bit order ids (number or
//! string). Accepts both order-reply shapes (`data.order` and flat `data`)
//! and both spellings of the client order id. Never used on the hot path.

use serde::Deserialize;

use crate::io::order::{OrderKind, OrderStatus, PositionSide};
use crate::io::wire::{
    bool_lenient, i64_lenient, leverage_lenient, price_lenient, qty_lenient, string_lenient,
    u64_lenient,
};
use crate::types::{Price, Qty, Side};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderRaw {
    #[serde(default)]
    symbol: String,
    #[serde(default, deserialize_with = "u64_lenient")]
    order_id: u64,
    #[serde(default, deserialize_with = "string_lenient")]
    side: String,
    #[serde(default, deserialize_with = "string_lenient")]
    position_side: String,
    #[serde(default, rename = "type", deserialize_with = "string_lenient")]
    order_type: String,
    #[serde(default, deserialize_with = "string_lenient")]
    status: String,
    #[serde(default, deserialize_with = "qty_lenient")]
    orig_qty: Qty,
    #[serde(default, deserialize_with = "qty_lenient")]
    quantity: Qty,
    #[serde(default, deserialize_with = "price_lenient")]
    price: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    stop_price: Price,
    #[serde(default, deserialize_with = "qty_lenient")]
    executed_qty: Qty,
    #[serde(default, deserialize_with = "price_lenient")]
    avg_price: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    commission: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    profit: Price,
    // Both spellings may appear in one object (flat place-order variant).
    #[serde(default, rename = "clientOrderId", deserialize_with = "string_lenient")]
    client_order_id_lower: String,
    #[serde(default, rename = "clientOrderID", deserialize_with = "string_lenient")]
    client_order_id_upper: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    time: i64,
    #[serde(default, deserialize_with = "i64_lenient")]
    update_time: i64,
    #[serde(default, deserialize_with = "bool_lenient")]
    reduce_only: bool,
    #[serde(default, deserialize_with = "leverage_lenient")]
    leverage: u32,
    #[serde(default, deserialize_with = "string_lenient")]
    working_type: String,
}

/// One order as reported by place / cancel / query / open-orders (§4.9).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "OrderRaw")]
pub struct OrderInfo {
    /// Symbol.
    pub symbol: String,
    /// Exchange order id (exact 64-bit).
    pub order_id: u64,
    /// Side, when reported.
    pub side: Option<Side>,
    /// Position side, when reported.
    pub position_side: Option<PositionSide>,
    /// Raw order type text (`LIMIT`, `STOP_MARKET`, ...).
    pub order_type: String,
    /// Status (`Unknown` when the reply had none).
    pub status: OrderStatus,
    /// Ordered quantity (`origQty`, or `quantity` in place replies).
    pub orig_qty: Qty,
    /// Limit price (zero when none).
    pub price: Price,
    /// Trigger price (zero when none).
    pub stop_price: Price,
    /// Filled quantity.
    pub executed_qty: Qty,
    /// Average fill price.
    pub avg_price: Price,
    /// Commission (negative = paid).
    pub commission: Price,
    /// Realised profit.
    pub profit: Price,
    /// Client order id (either spelling; empty when none).
    pub client_order_id: String,
    /// Creation time, ms.
    pub time_ms: i64,
    /// Last update time, ms.
    pub update_time_ms: i64,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Leverage (`"5X"` → 5; 0 when not reported).
    pub leverage: u32,
    /// Trigger source.
    pub working_type: String,
}

impl From<OrderRaw> for OrderInfo {
    fn from(r: OrderRaw) -> Self {
        let side = match r.side.as_str() {
            "BUY" => Some(Side::Buy),
            "SELL" => Some(Side::Sell),
            _ => None,
        };
        let client_order_id = if r.client_order_id_lower.is_empty() {
            r.client_order_id_upper
        } else {
            r.client_order_id_lower
        };
        Self {
            symbol: r.symbol,
            order_id: r.order_id,
            side,
            position_side: PositionSide::parse(&r.position_side),
            status: OrderStatus::parse(&r.status),
            order_type: r.order_type,
            orig_qty: if r.orig_qty.is_zero() {
                r.quantity
            } else {
                r.orig_qty
            },
            price: r.price,
            stop_price: r.stop_price,
            executed_qty: r.executed_qty,
            avg_price: r.avg_price,
            commission: r.commission,
            profit: r.profit,
            client_order_id,
            time_ms: r.time,
            update_time_ms: r.update_time,
            reduce_only: r.reduce_only,
            leverage: r.leverage,
            working_type: r.working_type,
        }
    }
}

impl OrderInfo {
    /// Returns the order type when it is one the engine sends.
    #[must_use]
    pub fn kind(&self) -> Option<OrderKind> {
        match self.order_type.as_str() {
            "MARKET" => Some(OrderKind::Market),
            "LIMIT" => Some(OrderKind::Limit),
            "STOP_MARKET" => Some(OrderKind::StopMarket),
            "TAKE_PROFIT_MARKET" => Some(OrderKind::TakeProfitMarket),
            _ => None,
        }
    }
}

/// `data` of place / cancel / query: `{"order": {...}}`, or the order itself (flat variant).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OrderData {
    Wrapped { order: OrderInfo },
    Flat(OrderInfo),
}

impl OrderData {
    pub(crate) fn into_order(self) -> OrderInfo {
        match self {
            Self::Wrapped { order } | Self::Flat(order) => order,
        }
    }
}

/// `data` of open orders / all orders: `{"orders": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderList {
    /// The orders.
    #[serde(default)]
    pub orders: Vec<OrderInfo>,
}

/// One failure inside a cancel-all reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelFailure {
    /// Order id.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub order_id: u64,
    /// Client order id.
    #[serde(default, deserialize_with = "string_lenient")]
    pub client_order_id: String,
    /// Error code.
    #[serde(default, deserialize_with = "i64_lenient")]
    pub error_code: i64,
    /// Error text.
    #[serde(default, deserialize_with = "string_lenient")]
    pub error_message: String,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// §4.8 cancel-all reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CancelAllResult {
    /// Cancelled orders.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub success: Vec<OrderInfo>,
    /// Orders that could not be cancelled (`null` → empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub failed: Vec<CancelFailure>,
}

/// An order id that may be a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct LenientId(#[serde(deserialize_with = "u64_lenient")] pub u64);

/// `POST /openApi/swap/v2/trade/closeAllPositions` reply (parsed for completeness).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CloseAllResult {
    /// Ids of the closing orders.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub success: Vec<LenientId>,
    /// Failures (shape undocumented; kept as JSON).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub failed: Vec<serde_json::Value>,
}

/// §4.11 one position row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// Position id (text; some replies mask it).
    #[serde(default, deserialize_with = "string_lenient")]
    pub position_id: String,
    /// Symbol.
    pub symbol: String,
    /// Position side text (`LONG`, `SHORT`, `BOTH`).
    #[serde(default, deserialize_with = "string_lenient")]
    pub position_side: String,
    /// Isolated margin.
    #[serde(default, deserialize_with = "bool_lenient")]
    pub isolated: bool,
    /// Position amount (positive in hedge mode; sign in one-way mode UNCONFIRMED).
    #[serde(deserialize_with = "qty_lenient")]
    pub position_amt: Qty,
    /// Amount available to close.
    #[serde(default, deserialize_with = "qty_lenient")]
    pub available_amt: Qty,
    /// Entry price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub avg_price: Price,
    /// Initial margin (USDT).
    #[serde(default, deserialize_with = "price_lenient")]
    pub initial_margin: Price,
    /// Leverage.
    #[serde(default, deserialize_with = "leverage_lenient")]
    pub leverage: u32,
    /// Unrealised PnL (USDT).
    #[serde(default, deserialize_with = "price_lenient")]
    pub unrealized_profit: Price,
    /// Realised PnL (USDT), British spelling on the wire.
    #[serde(default, deserialize_with = "price_lenient")]
    pub realised_profit: Price,
    /// Liquidation price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub liquidation_price: Price,
    /// Mark price.
    #[serde(default, deserialize_with = "price_lenient")]
    pub mark_price: Price,
}

impl Position {
    /// Returns the parsed position side.
    #[must_use]
    pub fn side(&self) -> Option<PositionSide> {
        PositionSide::parse(&self.position_side)
    }
}

/// §4.12 balance of one margin asset; amounts in that asset, fixed-point.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Asset, e.g. `USDT`.
    pub asset: String,
    /// Wallet balance.
    #[serde(default, deserialize_with = "price_lenient")]
    pub balance: Price,
    /// Equity.
    #[serde(default, deserialize_with = "price_lenient")]
    pub equity: Price,
    /// Unrealised PnL.
    #[serde(default, deserialize_with = "price_lenient")]
    pub unrealized_profit: Price,
    /// Realised PnL.
    #[serde(default, deserialize_with = "price_lenient")]
    pub realised_profit: Price,
    /// Available margin.
    #[serde(default, deserialize_with = "price_lenient")]
    pub available_margin: Price,
    /// Used margin.
    #[serde(default, deserialize_with = "price_lenient")]
    pub used_margin: Price,
    /// Frozen margin (`freezedMargin` on the wire).
    #[serde(default, rename = "freezedMargin", deserialize_with = "price_lenient")]
    pub frozen_margin: Price,
}

/// `data` of the balance endpoints: v3 array, or legacy v2 `{"balance": {...}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum BalanceData {
    V3(Vec<Balance>),
    V2 { balance: Balance },
}

impl BalanceData {
    pub(crate) fn into_vec(self) -> Vec<Balance> {
        match self {
            Self::V3(v) => v,
            Self::V2 { balance } => vec![balance],
        }
    }
}

/// §4.13a leverage of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leverage {
    /// Long leverage.
    #[serde(deserialize_with = "leverage_lenient")]
    pub long_leverage: u32,
    /// Short leverage.
    #[serde(deserialize_with = "leverage_lenient")]
    pub short_leverage: u32,
    /// Maximum long leverage.
    #[serde(default, deserialize_with = "leverage_lenient")]
    pub max_long_leverage: u32,
    /// Maximum short leverage.
    #[serde(default, deserialize_with = "leverage_lenient")]
    pub max_short_leverage: u32,
}

/// §4.13b set-leverage reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LeverageSet {
    /// The leverage now in force.
    #[serde(deserialize_with = "leverage_lenient")]
    pub leverage: u32,
    /// Symbol.
    #[serde(default)]
    pub symbol: String,
}

/// §4.13c margin type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarginType {
    /// `ISOLATED`.
    Isolated,
    /// `CROSSED`.
    Crossed,
    /// `SEPARATE_ISOLATED`.
    SeparateIsolated,
}

impl MarginType {
    /// Returns the exchange spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Isolated => "ISOLATED",
            Self::Crossed => "CROSSED",
            Self::SeparateIsolated => "SEPARATE_ISOLATED",
        }
    }

    /// Parses the exchange spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ISOLATED" => Some(Self::Isolated),
            "CROSSED" => Some(Self::Crossed),
            "SEPARATE_ISOLATED" => Some(Self::SeparateIsolated),
            _ => None,
        }
    }
}

/// `data` of get margin type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MarginTypeData {
    pub margin_type: String,
}

/// `data` of get position mode (`"true"` as a string).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PositionModeData {
    #[serde(deserialize_with = "bool_lenient")]
    pub dual_side_position: bool,
}

/// Status of the dead-man switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadManStatus {
    /// Timer running.
    Activated,
    /// Timer stopped.
    Closed,
    /// The request failed.
    Failed,
    /// Undocumented status text.
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelAllAfterRaw {
    #[serde(default, deserialize_with = "i64_lenient")]
    trigger_time: i64,
    #[serde(default, deserialize_with = "string_lenient")]
    status: String,
    #[serde(default, deserialize_with = "string_lenient")]
    note: String,
}

/// §4.13e cancel-all-after reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "CancelAllAfterRaw")]
pub struct CancelAllAfter {
    /// When the orders will be cancelled (as sent by the server; seconds in the sample).
    pub trigger_time: i64,
    /// Timer status.
    pub status: DeadManStatus,
    /// Server note.
    pub note: String,
}

impl From<CancelAllAfterRaw> for CancelAllAfter {
    fn from(r: CancelAllAfterRaw) -> Self {
        let status = match r.status.as_str() {
            "ACTIVATED" => DeadManStatus::Activated,
            "CLOSED" => DeadManStatus::Closed,
            "FAILED" => DeadManStatus::Failed,
            _ => DeadManStatus::Other,
        };
        Self {
            trigger_time: r.trigger_time,
            status,
            note: r.note,
        }
    }
}

/// §4.14 listen key (bare object, no envelope).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListenKey {
    /// The key.
    #[serde(rename = "listenKey")]
    pub listen_key: String,
}
