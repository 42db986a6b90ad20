//! The I/O thread's half of running reconciliation: reads positions and
//! open orders by REST and reports them as a bracketed sequence of
//! fixed-size [`SyncItem`]s; looks single orders up and reports what it
//! finds as the user-stream order update the stream would have carried.
//!
//! Consumes a [`RestClient`] (symbols loaded) and the engine's client
//! order id prefix; produces [`SyncItem`]s and [`OrderUpdate`]s for the
//! hot thread. Runs on the I/O thread only (it blocks on REST); never
//! decides anything: the hot thread compares and corrects.

use crate::io::dto_trade::OrderInfo;
use crate::io::error::{ExchangeCode, OrderError};
use crate::io::order::{ClientOrderId, OrderRef, OrderStatus, PositionSide};
use crate::io::rest::RestClient;
use crate::io::ws::user::{ExecType, OrderUpdate};
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

/// Why a reconciliation pass ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCause {
    /// The `reconcile.interval_secs` timer.
    Periodic,
    /// The user stream had a gap (reconnect, outage, new listen key):
    /// fills may have been missed.
    StreamGap,
    /// The hot thread asked (e.g. before declaring a shutdown clean).
    Requested,
}

/// One item of a reconciliation pass, in this order: `Begin`, every
/// non-zero position, every open order carrying our prefix, `End`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncItem {
    /// A pass starts: every command result reported before this one was
    /// executed before the exchange was read.
    Begin {
        /// Why.
        cause: SyncCause,
    },
    /// A non-zero exchange position.
    Position {
        /// Instrument.
        symbol: SymbolId,
        /// Entry side (`Buy` = long).
        side: Side,
        /// Quantity (positive).
        qty: Qty,
        /// Average entry price.
        entry_price: Price,
    },
    /// An open order whose client order id carries our prefix.
    Order {
        /// Instrument.
        symbol: SymbolId,
        /// Client order id.
        client_order_id: ClientOrderId,
        /// Exchange order id.
        exchange_id: u64,
    },
    /// The pass ends; `complete` is false when a read failed (compare
    /// nothing then).
    End {
        /// Both reads succeeded.
        complete: bool,
    },
}

/// Reads positions and open orders and pushes the items of one pass
/// (`Begin` … `End`) through `out`.
pub fn read_exchange<C: crate::io::clock::IoClock>(
    rest: &mut RestClient<C>,
    prefix: &str,
    cause: SyncCause,
    out: &mut impl FnMut(SyncItem),
) {
    out(SyncItem::Begin { cause });
    let positions = match rest.positions(None) {
        Ok(p) => p,
        Err(e) => {
            log::warn!("Reconciliation: reading positions failed: {e}");
            out(SyncItem::End { complete: false });
            return;
        }
    };
    let orders = match rest.open_orders(None) {
        Ok(o) => o,
        Err(e) => {
            log::warn!("Reconciliation: reading open orders failed: {e}");
            out(SyncItem::End { complete: false });
            return;
        }
    };
    for p in &positions {
        let Some(symbol) = rest.symbols().id_of(&p.symbol) else {
            continue;
        };
        let qty = Qty(p.position_amt.0.saturating_abs());
        if qty.is_zero() {
            continue;
        }
        let side = match p.position_side.as_str() {
            "SHORT" => Side::Sell,
            "LONG" => Side::Buy,
            _ if p.position_amt.0.is_negative() => Side::Sell,
            _ => Side::Buy,
        };
        out(SyncItem::Position {
            symbol,
            side,
            qty,
            entry_price: p.avg_price,
        });
    }
    for o in &orders {
        if !o.client_order_id.starts_with(prefix) {
            continue;
        }
        let (Some(symbol), Some(client_order_id)) = (
            rest.symbols().id_of(&o.symbol),
            ClientOrderId::try_new(&o.client_order_id),
        ) else {
            continue;
        };
        out(SyncItem::Order {
            symbol,
            client_order_id,
            exchange_id: o.order_id,
        });
    }
    out(SyncItem::End { complete: true });
}

/// Looks order `order` of `symbol` up and returns it as the user-stream
/// update that reports its current state (cumulative fill, final status);
/// an order the exchange does not know comes back cancelled with nothing
/// filled. `None` when the lookup failed (the next pass retries).
pub fn look_up<C: crate::io::clock::IoClock>(
    rest: &mut RestClient<C>,
    symbol: SymbolId,
    order: OrderRef,
    now: TimestampNs,
) -> Option<OrderUpdate> {
    let client_order_id = match order {
        OrderRef::Client(id) => id,
        OrderRef::OrderId(_) => ClientOrderId::EMPTY,
    };
    match rest.query_order(symbol, order) {
        Ok(info) => Some(update_of(symbol, client_order_id, &info, now)),
        Err(OrderError::Request(e)) if e.exchange_code() == Some(ExchangeCode::OrderNotFound) => {
            Some(OrderUpdate {
                symbol,
                event_time: now,
                trade_time: now,
                order_id: match order {
                    OrderRef::OrderId(id) => id,
                    OrderRef::Client(_) => 0,
                },
                client_order_id,
                side: Side::Buy,
                position_side: None,
                exec: ExecType::Canceled,
                status: OrderStatus::Cancelled,
                qty: Qty::ZERO,
                price: Price::ZERO,
                avg_price: Price::ZERO,
                filled_qty: Qty::ZERO,
                fee: Price::ZERO,
                realized_pnl: Price::ZERO,
                trade_id: 0,
                trade_update: false,
            })
        }
        Err(e) => {
            log::warn!("Reconciliation: looking up order {order:?} failed: {e}");
            None
        }
    }
}

/// Returns the update reporting `info`'s state at `now`.
fn update_of(
    symbol: SymbolId,
    client_order_id: ClientOrderId,
    info: &OrderInfo,
    now: TimestampNs,
) -> OrderUpdate {
    let update_ts = if info.update_time_ms > 0 {
        TimestampNs(info.update_time_ms.saturating_mul(1_000_000))
    } else {
        now
    };
    let exec = match info.status {
        OrderStatus::Cancelled | OrderStatus::Failed => ExecType::Canceled,
        OrderStatus::Filled | OrderStatus::PartiallyFilled => ExecType::Trade,
        _ => ExecType::New,
    };
    OrderUpdate {
        symbol,
        event_time: update_ts,
        trade_time: update_ts,
        order_id: info.order_id,
        client_order_id: ClientOrderId::try_new(&info.client_order_id).unwrap_or(client_order_id),
        side: info.side.unwrap_or(Side::Buy),
        position_side: info.position_side.or(Some(PositionSide::Both)),
        exec,
        status: info.status,
        qty: info.orig_qty,
        price: info.price,
        avg_price: info.avg_price,
        filled_qty: info.executed_qty,
        fee: info.commission,
        realized_pnl: info.profit,
        trade_id: 0,
        trade_update: false,
    }
}
