//! Order routing vocabulary between the core and the exchange: engine
//! order intents become [`OrderRequest`]s with a client order id derived
//! from the engine order id, and the exchange's answers (REST results,
//! user-stream order updates) become core [`Event`]s.
//!
//! Consumes [`OrderIntent`]s, [`OrderResult`]s and [`OrderUpdate`]s;
//! produces [`OrderRequest`]s and [`Event`]s. Never allocates after
//! construction (the order table is a fixed array), never reads a clock
//! (event times are passed in) and never logs.

use crate::core::Event;
use crate::io::order::{
    ClientOrderId, OrderKind as WireKind, OrderOutcome, OrderRequest, OrderResult, PositionSide,
};
use crate::io::ws::user::{ExecType, OrderUpdate};
use crate::money::Money;
use crate::orders::{Fill, OrderId, OrderIntent, OrderKind, OrderPurpose};
use crate::types::{Price, Qty, Side, TimestampNs};

use super::startup::reconcile::Correction;

/// Two quantities closer than this are the same grid quantity (steps are
/// at least 1e-8; fixed-point rounding differs by about 1e-10).
pub const QTY_EPSILON: f64 = 1e-9;

/// Returns `theirs` when `ours` and `theirs` are the same quantity up to
/// fixed-point rounding, `None` otherwise. Used to express an exchange
/// quantity in the core's exact bits.
#[must_use]
pub fn same_qty(exchange: Qty, ours: Qty) -> Option<Qty> {
    ((exchange.to_f64() - ours.to_f64()).abs() < QTY_EPSILON).then_some(ours)
}

/// Orders tracked at once (working plus recently finished).
pub const ORDER_SLOTS: usize = 256;

/// Returns the client order id of engine order `order` (`prefix` followed
/// by the decimal id), or `None` when the prefix is not a valid id prefix.
#[must_use]
pub fn client_id(prefix: &str, order: OrderId) -> Option<ClientOrderId> {
    ClientOrderId::from_sequence(prefix, order.0)
}

/// Returns the engine order id encoded in `id` when it carries `prefix`
/// followed by decimal digits only; `None` for anybody else's order.
#[must_use]
pub fn engine_order(prefix: &str, id: &ClientOrderId) -> Option<OrderId> {
    let digits = id.as_str().strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(OrderId)
}

/// Returns the exchange request for `intent`. In hedge mode the position
/// side names the leg (exits of a long sell the `LONG` leg) and no
/// reduce-only flag is sent; in one-way mode the side is `BOTH` and exits
/// carry reduce-only.
#[must_use]
pub fn request(intent: &OrderIntent, client_order_id: ClientOrderId, hedge: bool) -> OrderRequest {
    let long_leg = (intent.side == Side::Buy) != intent.reduce_only;
    let position_side = match (hedge, long_leg) {
        (false, _) => PositionSide::Both,
        (true, true) => PositionSide::Long,
        (true, false) => PositionSide::Short,
    };
    let (kind, stop_price) = match intent.kind {
        OrderKind::Market => (WireKind::Market, Price::ZERO),
        OrderKind::StopMarket { trigger } => (WireKind::StopMarket, trigger),
        OrderKind::TakeProfitMarket { trigger } => (WireKind::TakeProfitMarket, trigger),
    };
    OrderRequest {
        symbol: intent.symbol,
        side: intent.side,
        position_side,
        kind,
        qty: intent.qty,
        price: Price::ZERO,
        stop_price,
        reduce_only: intent.reduce_only && !hedge,
        time_in_force: None,
        client_order_id,
    }
}

/// Where one tracked order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sent, no answer yet.
    Sent,
    /// Accepted by the exchange.
    Working,
    /// Filled, cancelled or rejected: nothing more goes to the core.
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    order: OrderId,
    symbol: crate::types::SymbolId,
    purpose: OrderPurpose,
    /// Quantity asked, in the core's own representation.
    qty: Qty,
    phase: Phase,
    /// Cumulative filled quantity reported so far.
    filled: Qty,
    /// Cumulative filled notional (avg price × filled), quote units.
    notional: f64,
    exchange_id: u64,
    /// The client order id the order carries on the exchange when it is
    /// not its engine id (`prefix` + order id, derived, kept empty here):
    /// the recovery id of a stop put back by a start-up reconciliation.
    /// Cancels and lookups name this one.
    wire: ClientOrderId,
    /// Set for a working order at the start of a reconciliation pass,
    /// cleared when the pass finds it on the book: still set at the end,
    /// it is looked up (filled or cancelled unseen).
    check: bool,
}

/// Position stops tracked at once (see [`OrderTable::apply`]).
pub const POSITION_STOP_SLOTS: usize = 16;

/// A stop a start-up reconciliation placed for a position that had no
/// stop order of the core (client id `{recovery_prefix}p{symbol}`): no core
/// order stands for it, so its fill reaches the core as an
/// [`Event::ExchangeClose`] at the fill's price and fee.
#[derive(Debug, Clone, Copy)]
struct PositionStop {
    symbol: crate::types::SymbolId,
    /// The stop's side (opposite to the position's).
    side: Side,
    exchange_id: u64,
    wire: ClientOrderId,
    filled: Qty,
    notional: f64,
    done: bool,
    check: bool,
}

/// What a REST result means for the core and the journal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResultEffect {
    /// Nothing for the core (duplicate, cancel-all, or an ambiguous outcome
    /// the user stream will settle).
    None,
    /// The order was accepted with this exchange id.
    Acked {
        /// Event for the core.
        event: Event,
        /// Exchange order id.
        exchange_id: u64,
    },
    /// The order was refused or could not be sent.
    Rejected {
        /// Event for the core.
        event: Event,
        /// Exchange business code (0 when refused locally or not sent).
        code: i64,
    },
}

/// The engine's orders on the exchange: turns answers into core events,
/// each order's acknowledgement, fills and end exactly once.
#[derive(Debug)]
pub struct OrderTable {
    prefix: String,
    slots: [Option<Slot>; ORDER_SLOTS],
    next: usize,
    position_stops: [Option<PositionStop>; POSITION_STOP_SLOTS],
}

impl OrderTable {
    /// Returns an empty table for client order ids starting with `prefix`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            slots: [None; ORDER_SLOTS],
            next: 0,
            position_stops: [None; POSITION_STOP_SLOTS],
        }
    }

    /// Returns the client order id prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn find(&mut self, order: OrderId) -> Option<&mut Slot> {
        self.slots.iter_mut().flatten().find(|s| s.order == order)
    }

    /// Starts tracking order `o` (just sent). The oldest finished order's
    /// slot is reused; with every slot working the oldest slot is overwritten.
    pub fn sent(&mut self, o: &OrderIntent) {
        self.sent_as(o, ClientOrderId::EMPTY);
    }

    fn sent_as(&mut self, o: &OrderIntent, wire: ClientOrderId) {
        let slot = Slot {
            order: o.id,
            symbol: o.symbol,
            purpose: o.purpose,
            qty: o.qty,
            phase: Phase::Sent,
            filled: Qty::ZERO,
            notional: 0.0,
            exchange_id: 0,
            wire,
            check: false,
        };
        self.track(slot);
    }

    /// Stores `slot`: the oldest finished order's slot is reused; with
    /// every slot working the oldest slot is overwritten.
    fn track(&mut self, slot: Slot) {
        let free = self
            .slots
            .iter()
            .position(|s| s.is_none_or(|s| s.phase == Phase::Done));
        let i = free.unwrap_or(self.next);
        self.slots[i] = Some(slot);
        self.next = (i + 1) % ORDER_SLOTS;
    }

    /// Tracks order `o` of an earlier life of the engine (restart): working
    /// under `exchange_id` when its acknowledgement was journaled, else
    /// sent and not yet answered. `wire` is the client order id it carries
    /// on the exchange (a recovery id for a stop an earlier start-up put
    /// back); `None` means the engine id.
    pub fn seed(&mut self, o: &OrderIntent, exchange_id: Option<u64>, wire: Option<ClientOrderId>) {
        let derived = client_id(&self.prefix, o.id);
        let wire = wire
            .filter(|w| !w.is_empty() && Some(*w) != derived)
            .unwrap_or(ClientOrderId::EMPTY);
        self.sent_as(o, wire);
        if let (Some(id), Some(slot)) = (exchange_id, self.find(o.id)) {
            slot.phase = Phase::Working;
            slot.exchange_id = id;
        }
    }

    /// Brings the table in line with what a start-up reconciliation found:
    /// adopted and partly filled orders work under their exchange id, a
    /// replacement stop works under its own exchange id for the core's stop
    /// it stands for (its user-stream updates route to that order), and
    /// orders found finished are done.
    pub fn apply(&mut self, c: &Correction) {
        match *c {
            Correction::Adopted {
                order,
                exchange_order_id,
                ..
            } => {
                if let Some(slot) = self.find(order) {
                    slot.phase = Phase::Working;
                    slot.exchange_id = exchange_order_id;
                }
            }
            Correction::Filled {
                order,
                exchange_order_id,
                qty,
                price,
                ..
            } => {
                if let Some(slot) = self.find(order) {
                    let filled = same_qty(qty, slot.qty).unwrap_or(qty);
                    slot.exchange_id = exchange_order_id;
                    slot.filled = filled;
                    slot.notional = price.to_f64() * filled.to_f64();
                    slot.phase = if filled >= slot.qty {
                        Phase::Done
                    } else {
                        Phase::Working
                    };
                }
            }
            Correction::StopPlaced {
                replaces: Some(order),
                symbol,
                qty,
                exchange_order_id,
                client_order_id,
                ..
            } => {
                if self.find(order).is_none() {
                    self.track(Slot {
                        order,
                        symbol,
                        purpose: OrderPurpose::Stop,
                        qty,
                        phase: Phase::Sent,
                        filled: Qty::ZERO,
                        notional: 0.0,
                        exchange_id: 0,
                        wire: client_order_id,
                        check: false,
                    });
                }
                if let Some(slot) = self.find(order) {
                    slot.phase = Phase::Working;
                    slot.exchange_id = exchange_order_id;
                    slot.wire = client_order_id;
                    slot.filled = Qty::ZERO;
                    slot.notional = 0.0;
                }
            }
            Correction::StopPlaced {
                replaces: None,
                symbol,
                side,
                exchange_order_id,
                client_order_id,
                ..
            } => {
                let stop = PositionStop {
                    symbol,
                    side,
                    exchange_id: exchange_order_id,
                    wire: client_order_id,
                    filled: Qty::ZERO,
                    notional: 0.0,
                    done: false,
                    check: false,
                };
                let free = self
                    .position_stops
                    .iter()
                    .position(|s| s.is_none_or(|s| s.done))
                    .unwrap_or(0);
                self.position_stops[free] = Some(stop);
            }
            Correction::Cancelled { order, .. }
            | Correction::NotPlaced { order, .. }
            | Correction::PositionClosedOnExchange {
                booked_on: Some(order),
                ..
            }
            | Correction::Flattened {
                booked_on: Some(order),
                ..
            } => {
                if let Some(slot) = self.find(order) {
                    slot.phase = Phase::Done;
                }
            }
            _ => {}
        }
    }

    /// Returns the client order id `order` carries on the exchange: the
    /// recovery id of a stop a start-up reconciliation put back, else the
    /// engine id. `None` when the prefix makes no valid id.
    #[must_use]
    pub fn wire_id(&self, order: OrderId) -> Option<ClientOrderId> {
        self.slots
            .iter()
            .flatten()
            .find(|s| s.order == order && !s.wire.is_empty())
            .map(|s| s.wire)
            .or_else(|| client_id(&self.prefix, order))
    }

    /// Returns the engine order a REST result's client order id names:
    /// an engine id, or the recovery id of a tracked stop.
    #[must_use]
    pub fn order_of_client(&self, id: &ClientOrderId) -> Option<OrderId> {
        if let Some(order) = engine_order(&self.prefix, id) {
            return Some(order);
        }
        if id.is_empty() || !id.as_str().starts_with(&self.prefix) {
            return None;
        }
        self.slots
            .iter()
            .flatten()
            .find(|s| s.wire == *id)
            .map(|s| s.order)
    }

    /// Returns the quantity order `order` asked for, when tracked.
    #[must_use]
    pub fn qty_of(&self, order: OrderId) -> Option<Qty> {
        self.slots
            .iter()
            .flatten()
            .find(|s| s.order == order)
            .map(|s| s.qty)
    }

    /// Returns the engine order of an update: by our client order id, or
    /// else, for an id that carries our prefix without being an engine id
    /// (a replacement stop placed at start-up under a recovery id), by that
    /// recovery id or by the exchange order id of a working order.
    fn order_of_update(&self, u: &OrderUpdate) -> Option<OrderId> {
        if let Some(order) = engine_order(&self.prefix, &u.client_order_id) {
            return Some(order);
        }
        if !u.client_order_id.as_str().starts_with(&self.prefix) {
            return None;
        }
        self.slots
            .iter()
            .flatten()
            .find(|s| {
                s.phase != Phase::Done
                    && ((s.exchange_id != 0 && s.exchange_id == u.order_id)
                        || s.wire == u.client_order_id)
            })
            .map(|s| s.order)
    }

    /// Calls `f` with the id and symbol of every unfinished take-profit
    /// order (partials and target): what a shutdown without flattening
    /// cancels, leaving the protective stops.
    pub fn open_take_profits(&self, f: &mut impl FnMut(OrderId, crate::types::SymbolId)) {
        for s in self.slots.iter().flatten() {
            let tp = matches!(
                s.purpose,
                OrderPurpose::Partial1 | OrderPurpose::Partial2 | OrderPurpose::Target
            );
            if tp && s.phase != Phase::Done {
                f(s.order, s.symbol);
            }
        }
    }

    /// A reconciliation pass starts: every working order (its placement
    /// result already seen) must show up on the exchange's book.
    pub fn begin_check(&mut self) {
        for s in self.slots.iter_mut().flatten() {
            s.check = s.phase == Phase::Working;
        }
        for s in self.position_stops.iter_mut().flatten() {
            s.check = !s.done;
        }
    }

    /// The pass found an open order with `client_order_id` / `exchange_id`
    /// on the book; returns true when it is one of the tracked orders.
    pub fn on_book(&mut self, client_order_id: &ClientOrderId, exchange_id: u64) -> bool {
        let by_id = engine_order(&self.prefix, client_order_id);
        let slot = self.slots.iter_mut().flatten().find(|s| {
            by_id == Some(s.order)
                || (s.exchange_id != 0 && s.exchange_id == exchange_id)
                || (!s.wire.is_empty() && s.wire == *client_order_id)
        });
        match slot {
            Some(s) => {
                s.check = false;
                true
            }
            None => match self.position_stops.iter_mut().flatten().find(|s| {
                (s.exchange_id != 0 && s.exchange_id == exchange_id)
                    || (!s.wire.is_empty() && s.wire == *client_order_id)
            }) {
                Some(s) => {
                    s.check = false;
                    true
                }
                None => false,
            },
        }
    }

    /// Calls `f` with the symbol and client order id of every position
    /// stop (see [`OrderTable::apply`]) the pass did not find on the book,
    /// and clears their marks: each is looked up, its fill booked.
    pub fn missing_position_stops(
        &mut self,
        f: &mut impl FnMut(crate::types::SymbolId, ClientOrderId),
    ) {
        for s in self.position_stops.iter_mut().flatten() {
            if s.check && !s.done {
                f(s.symbol, s.wire);
            }
            s.check = false;
        }
    }

    /// A position stop's update (by exchange id or client id): the newly
    /// filled part becomes an [`Event::ExchangeClose`] of the position;
    /// returns false when the update is not one of them.
    fn on_position_stop_update(
        &mut self,
        u: &OrderUpdate,
        ts: TimestampNs,
        out: &mut impl FnMut(Event),
    ) -> bool {
        let Some(s) = self.position_stops.iter_mut().flatten().find(|s| {
            !s.done
                && ((s.exchange_id != 0 && s.exchange_id == u.order_id)
                    || (!s.wire.is_empty() && s.wire == u.client_order_id))
        }) else {
            return false;
        };
        if u.filled_qty > s.filled {
            let total_notional = u.avg_price.to_f64() * u.filled_qty.to_f64();
            let qty = Qty::from_bits(u.filled_qty.to_bits() - s.filled.to_bits());
            let leg = total_notional - s.notional;
            let price = if qty.to_f64() > 0.0 {
                Price::from_f64(leg / qty.to_f64()).unwrap_or(u.avg_price)
            } else {
                u.avg_price
            };
            s.filled = u.filled_qty;
            s.notional = total_notional;
            out(Event::ExchangeClose(crate::core::ExchangeClose {
                symbol: s.symbol,
                side: s.side.opposite(),
                qty,
                price,
                fee: Money::from_f64(u.fee.to_f64().abs()),
                ts,
            }));
        }
        if u.status.is_final() {
            s.done = true;
        }
        true
    }

    /// Calls `f` with every working order the pass did not find on the
    /// book (its fill or cancel was missed) and clears the marks.
    pub fn missing(&mut self, f: &mut impl FnMut(OrderId, crate::types::SymbolId)) {
        for s in self.slots.iter_mut().flatten() {
            if s.check && s.phase != Phase::Done {
                f(s.order, s.symbol);
            }
            s.check = false;
        }
    }

    /// Returns true when `id` carries the engine's prefix.
    #[must_use]
    pub fn is_ours(&self, id: &ClientOrderId) -> bool {
        id.as_str().starts_with(&self.prefix)
    }

    /// Returns how many tracked orders are not finished.
    #[must_use]
    pub fn open(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|s| s.phase != Phase::Done)
            .count()
    }

    /// Interprets the REST result of a placement at event time `ts`.
    pub fn on_place_result(&mut self, r: &OrderResult, ts: TimestampNs) -> ResultEffect {
        let Some(order) = engine_order(&self.prefix, &r.client_order_id) else {
            return ResultEffect::None;
        };
        let Some(slot) = self.find(order) else {
            return ResultEffect::None;
        };
        match r.outcome {
            OrderOutcome::Accepted(ack) => {
                if slot.phase != Phase::Sent {
                    return ResultEffect::None;
                }
                slot.phase = Phase::Working;
                slot.exchange_id = ack.order_id;
                ResultEffect::Acked {
                    event: Event::Ack { order, ts },
                    exchange_id: ack.order_id,
                }
            }
            OrderOutcome::Rejected { code, .. } => Self::reject(slot, order, ts, code),
            OrderOutcome::Invalid(_) | OrderOutcome::Failed => Self::reject(slot, order, ts, 0),
            OrderOutcome::CancelledAll { .. } | OrderOutcome::Unknown => ResultEffect::None,
        }
    }

    fn reject(slot: &mut Slot, order: OrderId, ts: TimestampNs, code: i64) -> ResultEffect {
        if slot.phase == Phase::Done {
            return ResultEffect::None;
        }
        slot.phase = Phase::Done;
        ResultEffect::Rejected {
            event: Event::Rejected { order, ts },
            code,
        }
    }

    /// Marks `order` as refused locally (e.g. the command queue was full)
    /// and returns the event for the core, or `None` when not tracked.
    pub fn refuse(&mut self, order: OrderId, ts: TimestampNs) -> Option<Event> {
        let slot = self.find(order)?;
        match Self::reject(slot, order, ts, 0) {
            ResultEffect::Rejected { event, .. } => Some(event),
            _ => None,
        }
    }

    /// Interprets a user-stream order update at event time `ts`, calling
    /// `out` with the core events it implies (an ack if none came yet, a
    /// fill for the newly filled quantity, a cancel).
    pub fn on_update(&mut self, u: &OrderUpdate, ts: TimestampNs, out: &mut impl FnMut(Event)) {
        let Some(order) = self.order_of_update(u) else {
            if u.client_order_id.as_str().starts_with(&self.prefix) {
                self.on_position_stop_update(u, ts, out);
            }
            return;
        };
        let Some(slot) = self.find(order) else {
            return;
        };
        if slot.phase == Phase::Done {
            return;
        }
        if slot.phase == Phase::Sent && u.exec != ExecType::Canceled {
            slot.phase = Phase::Working;
            slot.exchange_id = u.order_id;
            out(Event::Ack { order, ts });
        }
        // The exchange's decimal text and the core's grid arithmetic may
        // differ in the last bits: a fill of the whole order is the core's
        // own quantity, so its position ends exactly flat.
        let filled = same_qty(u.filled_qty, slot.qty).unwrap_or(u.filled_qty);
        if filled > slot.filled {
            let total_notional = u.avg_price.to_f64() * filled.to_f64();
            let qty = Qty::from_bits(filled.to_bits() - slot.filled.to_bits());
            let leg_notional = total_notional - slot.notional;
            let price_f = if qty.to_f64() > 0.0 {
                leg_notional / qty.to_f64()
            } else {
                u.avg_price.to_f64()
            };
            let price = Price::from_f64(price_f).unwrap_or(u.avg_price);
            slot.filled = filled;
            slot.notional = total_notional;
            out(Event::Fill(Fill {
                order,
                symbol: u.symbol,
                qty,
                price,
                fee: Money::from_f64(-u.fee.to_f64()),
                slippage: Money::ZERO,
                ts,
            }));
        }
        if u.status.is_final() {
            slot.phase = Phase::Done;
            if matches!(u.exec, ExecType::Canceled | ExecType::Expired)
                || (u.status != crate::io::order::OrderStatus::Filled)
            {
                out(Event::Cancelled { order, ts });
            }
        }
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
