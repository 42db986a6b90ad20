//! Protective-stop replacement in live mode: place the new stop first,
//! cancel the old one once the new one is acknowledged, and coalesce
//! bursts of replacements.
//!
//! The core tightens a trailing stop on every favourable trade: a cancel
//! of the old stop and a new STOP_MARKET each time, in that order. Sent
//! that way, the position has no stop on the exchange between the two
//! requests (up to a REST round trip or more). Here the cancel is held
//! until the end of the core's batch: when a new stop follows, it is sent
//! first and the old one is cancelled only after the exchange acknowledged
//! the new one, so there is never a moment without a stop; a failed cancel
//! is retried (bounded), so exactly one stop remains once the replacement
//! settles.
//!
//! At most one new stop per symbol is in flight: while it waits for its
//! acknowledgement, further replacements are held and only the newest is
//! sent when the one in flight is acknowledged. A replacement dropped that
//! way never reaches the exchange; it is reported as settled
//! ([`Settled::Coalesced`]) so the journal never holds it as in flight.
//! Fills and exchange-side cancels of a stop are reported to the core under
//! the id of the stop the core currently holds, so the core's position
//! always ends with its own stop's fill.
//!
//! Consumes the core's stop placements and cancels and the exchange's
//! events for stop orders; produces [`StopOut`]s (what to tell the core,
//! what to send, what to journal). Never allocates after construction,
//! never reads a clock.

use crate::core::Event;
use crate::orders::{OrderId, OrderIntent, OrderPurpose};
use crate::types::SymbolId;

pub use crate::journal_schema::StopSettleKind as Settled;

/// Stops sent to the exchange and since cancelled by us, remembered until
/// their cancel is confirmed: a late fill of one is the core's stop's fill,
/// a confirmation is not passed on. Held stops never reach the exchange and
/// are not remembered.
const RETIRED: usize = 32;

/// Times the cancel of a replaced stop is sent before giving up on it (the
/// exchange then keeps two stops until a reconciliation removes one).
pub const CANCEL_ATTEMPTS: u8 = 5;

/// What to do after a stop decision.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StopOut {
    /// Send the core's action to the exchange unchanged.
    pub send_original: bool,
    /// Tell the core this (instead of, or translated from, the exchange).
    pub to_core: Option<Event>,
    /// Cancel these orders on the exchange.
    pub cancel: [Option<OrderId>; 2],
    /// Place this stop on the exchange.
    pub place: Option<OrderIntent>,
    /// Journal that this stop (of this symbol) was settled here (no event
    /// reaches the core).
    pub settled: Option<(OrderId, SymbolId, Settled)>,
    /// Look this stop up on the exchange: its cancel found it finished,
    /// and whether it filled (a fill the core must book) or was cancelled
    /// decides how it settles.
    pub query: Option<OrderId>,
}

impl StopOut {
    fn send() -> Self {
        Self {
            send_original: true,
            ..Self::default()
        }
    }

    fn settle(order: OrderId, how: Settled) -> Self {
        Self {
            settled: Some((order, SymbolId(0), how)),
            ..Self::default()
        }
    }

    /// Names the symbol of the settled stop.
    fn on(mut self, symbol: Option<SymbolId>) -> Self {
        if let (Some((_, s, _)), Some(symbol)) = (self.settled.as_mut(), symbol) {
            *s = symbol;
        }
        self
    }

    fn push_cancel(&mut self, id: OrderId) {
        if let Some(slot) = self.cancel.iter_mut().find(|c| c.is_none()) {
            *slot = Some(id);
        }
    }
}

/// A stop we cancelled (or are about to), until the exchange confirms it.
#[derive(Debug, Clone, Copy, Default)]
struct Retired {
    order: Option<OrderId>,
    /// Cancel requests sent for it so far.
    attempts: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// The stop the core believes is working.
    core: Option<OrderId>,
    /// The newest stop sent to the exchange and not known to be gone.
    real: Option<OrderId>,
    real_acked: bool,
    /// The core has cancelled `real` before it was acknowledged.
    orphan: bool,
    /// The previous stop, still working on the exchange: cancelled once
    /// `real` is acknowledged (place new, then cancel old).
    old: Option<OrderId>,
    /// An acknowledged stop the core cancelled during the batch being
    /// routed: its cancel waits for the end of the batch, so that a
    /// replacement in the same batch is placed first.
    releasing: Option<OrderId>,
    /// Newest stop wanted but not sent.
    pending: Option<OrderIntent>,
    retired: [Retired; RETIRED],
    next_retired: usize,
}

impl Slot {
    /// Remembers `id` as cancelled by us; returns it (to send the cancel).
    fn retire(&mut self, id: OrderId) -> OrderId {
        if !self.is_retired(id) {
            self.retired[self.next_retired] = Retired {
                order: Some(id),
                attempts: 1,
            };
            self.next_retired = (self.next_retired + 1) % RETIRED;
        }
        id
    }

    fn is_retired(&self, id: OrderId) -> bool {
        self.retired.iter().any(|r| r.order == Some(id))
    }

    fn forget(&mut self, id: OrderId) {
        for r in &mut self.retired {
            if r.order == Some(id) {
                *r = Retired::default();
            }
        }
    }

    fn knows(&self, id: OrderId) -> bool {
        self.real == Some(id)
            || self.core == Some(id)
            || self.old == Some(id)
            || self.releasing == Some(id)
            || self.pending.is_some_and(|p| p.id == id)
            || self.is_retired(id)
    }

    /// The stop standing in for `real` is gone: the next held stop goes
    /// out (the old one keeps protecting until it is acknowledged); with
    /// none held, the core wants no stop and the old one is cancelled.
    fn next_after_orphan(&mut self, out: &mut StopOut) {
        self.real = None;
        self.real_acked = false;
        self.orphan = false;
        if let Some(next) = self.pending.take() {
            self.real = Some(next.id);
            out.place = Some(next);
        } else if let Some(old) = self.old.take() {
            out.push_cancel(self.retire(old));
        }
    }
}

/// Per-symbol stop routing state; see the module docs.
#[derive(Debug)]
pub struct StopCoalescer {
    slots: Vec<Slot>,
}

fn order_of(e: &Event) -> Option<OrderId> {
    match *e {
        Event::Ack { order, .. }
        | Event::Rejected { order, .. }
        | Event::Cancelled { order, .. } => Some(order),
        Event::Fill(f) => Some(f.order),
        _ => None,
    }
}

fn with_order(e: &Event, order: OrderId) -> Event {
    match *e {
        Event::Ack { ts, .. } => Event::Ack { order, ts },
        Event::Rejected { ts, .. } => Event::Rejected { order, ts },
        Event::Cancelled { ts, .. } => Event::Cancelled { order, ts },
        Event::Fill(f) => Event::Fill(crate::orders::Fill { order, ..f }),
        other => other,
    }
}

impl StopCoalescer {
    /// Returns the state for `symbols` symbols (cold).
    #[must_use]
    pub fn new(symbols: usize) -> Self {
        Self {
            slots: vec![Slot::default(); symbols],
        }
    }

    fn slot_of(&mut self, id: OrderId) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.knows(id))
    }

    /// Returns the symbol of stop order `id`, if handled here.
    #[must_use]
    pub fn symbol_of(&self, id: OrderId) -> Option<SymbolId> {
        let i = self.slots.iter().position(|s| s.knows(id))?;
        u16::try_from(i).ok().map(SymbolId)
    }

    /// Returns true when `id` is a stop order handled here.
    #[must_use]
    pub fn tracks(&self, id: OrderId) -> bool {
        self.slots.iter().any(|s| s.knows(id))
    }

    /// Returns how many stops of `symbol` are working or in flight on the
    /// exchange as far as the router knows (the newest, the previous one
    /// until its cancel is sent, one being released): 1 once a replacement
    /// has settled.
    #[must_use]
    pub fn live_stops(&self, symbol: SymbolId) -> usize {
        self.slots.get(usize::from(symbol.0)).map_or(0, |s| {
            usize::from(s.real.is_some())
                + usize::from(s.old.is_some())
                + usize::from(s.releasing.is_some())
        })
    }

    /// Takes over stop `id` of `symbol` that an earlier life of the engine
    /// placed and the exchange acknowledged (restart): it is the working
    /// stop of both the core and the exchange.
    pub fn adopt(&mut self, symbol: SymbolId, id: OrderId) {
        if let Some(s) = self.slots.get_mut(usize::from(symbol.0)) {
            s.core = Some(id);
            s.real = Some(id);
            s.real_acked = true;
            s.orphan = false;
            s.old = None;
            s.releasing = None;
            s.pending = None;
        }
    }

    /// The core placed a protective stop.
    pub fn on_place(&mut self, o: &OrderIntent) -> StopOut {
        let Some(s) = self.slots.get_mut(usize::from(o.symbol.0)) else {
            return StopOut::send();
        };
        debug_assert!(
            o.purpose == OrderPurpose::Stop,
            "Invariant: only stops are routed here"
        );
        s.core = Some(o.id);
        if let Some(prev) = s.releasing.take() {
            // A replacement: the new stop goes first, the previous one is
            // cancelled once the new one is acknowledged.
            s.real = Some(o.id);
            s.real_acked = false;
            s.orphan = false;
            s.old = Some(prev);
            return StopOut::send();
        }
        if s.real.is_none() {
            s.real = Some(o.id);
            s.real_acked = false;
            s.orphan = false;
            return StopOut::send();
        }
        match s.pending.replace(*o) {
            Some(dropped) => StopOut::settle(dropped.id, Settled::Coalesced).on(Some(o.symbol)),
            None => StopOut::default(),
        }
    }

    /// The core cancelled stop `id`. The cancel of an acknowledged stop is
    /// held until [`end_batch`](Self::end_batch).
    pub fn on_cancel(&mut self, id: OrderId) -> StopOut {
        let symbol = self.symbol_of(id);
        self.cancel_inner(id).on(symbol)
    }

    fn cancel_inner(&mut self, id: OrderId) -> StopOut {
        let Some(s) = self.slot_of(id) else {
            return StopOut::send();
        };
        if s.core == Some(id) {
            s.core = None;
        }
        if s.pending.is_some_and(|p| p.id == id) {
            s.pending = None;
            return StopOut::settle(id, Settled::Coalesced);
        }
        if s.real == Some(id) {
            if s.real_acked {
                s.real = None;
                s.real_acked = false;
                s.releasing = Some(id);
            } else {
                s.orphan = true;
            }
        }
        // Held, released later or already gone on our side: nothing now.
        StopOut::default()
    }

    /// Ends the routing of one batch of the core's actions: returns a held
    /// cancel of a stop of `symbol` that no replacement followed (the core
    /// wants no stop: the position closes or is closed).
    pub fn end_batch(&mut self, symbol: SymbolId) -> Option<OrderId> {
        let s = self.slots.get_mut(usize::from(symbol.0))?;
        let id = s.releasing.take()?;
        Some(s.retire(id))
    }

    /// The exchange did not carry out our cancel of stop `id` (`finished`:
    /// because the order is already filled or gone). Returns the order to
    /// cancel again, while attempts remain; the order to look up when the
    /// stop turned out finished.
    pub fn on_cancel_failed(&mut self, id: OrderId, finished: bool) -> StopOut {
        let symbol = self.symbol_of(id);
        self.cancel_failed_inner(id, finished).on(symbol)
    }

    fn cancel_failed_inner(&mut self, id: OrderId, finished: bool) -> StopOut {
        let Some(s) = self.slot_of(id) else {
            return StopOut::default();
        };
        if finished {
            // Filled or gone: a fill must reach the core (nothing else may
            // report it: the user stream can have missed it), so the stop
            // stays retired until the lookup's answer settles it, as a
            // fill or as a confirmed cancel.
            if s.is_retired(id) {
                return StopOut {
                    query: Some(id),
                    ..StopOut::default()
                };
            }
            return StopOut::default();
        }
        let mut out = StopOut::default();
        if let Some(r) = s.retired.iter_mut().find(|r| r.order == Some(id)) {
            if r.attempts < CANCEL_ATTEMPTS {
                r.attempts += 1;
                out.push_cancel(id);
            }
        }
        out
    }

    /// Passes an exchange event through: returns what the core should see
    /// (possibly under another order id), what to send next and what to
    /// journal.
    pub fn on_exchange(&mut self, e: &Event) -> StopOut {
        let symbol = order_of(e).and_then(|id| self.symbol_of(id));
        self.exchange_inner(e).on(symbol)
    }

    fn exchange_inner(&mut self, e: &Event) -> StopOut {
        let pass = StopOut {
            to_core: Some(*e),
            ..StopOut::default()
        };
        let Some(id) = order_of(e) else {
            return pass;
        };
        let Some(s) = self.slot_of(id) else {
            return pass;
        };
        let is_real = s.real == Some(id);
        let is_old = s.old == Some(id);
        match *e {
            Event::Ack { .. } if is_real && s.orphan => {
                // The core no longer wants it. It protects now: the older
                // stop goes; the newest held one is placed, and this one
                // is cancelled once that is acknowledged (or at once when
                // the core wants no stop).
                let mut out = StopOut::default();
                if let Some(old) = s.old.take() {
                    out.push_cancel(s.retire(old));
                }
                s.orphan = false;
                s.real_acked = true;
                if let Some(next) = s.pending.take() {
                    s.old = Some(id);
                    s.real = Some(next.id);
                    s.real_acked = false;
                    out.place = Some(next);
                } else {
                    s.real = None;
                    s.real_acked = false;
                    out.push_cancel(s.retire(id));
                }
                out
            }
            Event::Ack { .. } if is_real => {
                s.real_acked = true;
                let mut out = pass;
                if let Some(old) = s.old.take() {
                    out.push_cancel(s.retire(old));
                }
                out
            }
            Event::Rejected { .. } | Event::Cancelled { .. } if is_real && s.orphan => {
                // Refused or cancelled before the core's cancel reached it;
                // the core already forgot it.
                let mut out = StopOut::settle(id, Settled::GoneOnExchange);
                s.next_after_orphan(&mut out);
                out
            }
            Event::Rejected { .. } | Event::Cancelled { .. } if is_real => {
                // The core's stop was refused or cancelled by the exchange:
                // the core hears it under its own id (and reacts). The
                // stop it replaced is cancelled: the core counts it gone.
                s.real = None;
                s.real_acked = false;
                s.pending = None;
                let to = s.core.take().unwrap_or(id);
                let mut out = StopOut {
                    to_core: Some(with_order(e, to)),
                    ..StopOut::default()
                };
                if let Some(old) = s.old.take() {
                    out.push_cancel(s.retire(old));
                }
                out
            }
            Event::Fill(_) => {
                // A stop on the exchange fired (the newest, or one being
                // replaced): the core hears it as a fill of the stop it
                // holds, and any other stop of the position goes.
                let to = s.core.unwrap_or(id);
                let mut out = StopOut {
                    to_core: Some(with_order(e, to)),
                    // Booked on another order of the core: the journal
                    // says this one is settled, or a restart would look it
                    // up, find it filled and book the fill a second time.
                    settled: (to != id).then_some((id, SymbolId(0), Settled::FilledAsCurrent)),
                    ..StopOut::default()
                };
                s.pending = None;
                if is_real {
                    // Remembered so that the rest of a partly filled stop
                    // still reaches the core under its stop's id.
                    s.retire(id);
                    s.real = None;
                    s.real_acked = false;
                    s.orphan = false;
                    if let Some(old) = s.old.take() {
                        out.push_cancel(s.retire(old));
                    }
                } else {
                    if is_old {
                        s.old = None;
                        s.retire(id);
                    }
                    if let Some(real) = s.real {
                        if s.real_acked {
                            s.real = None;
                            s.real_acked = false;
                            out.push_cancel(s.retire(real));
                        } else {
                            // Cancelled once acknowledged.
                            s.orphan = true;
                        }
                    }
                }
                out
            }
            Event::Rejected { .. } | Event::Cancelled { .. } if is_old => {
                s.old = None;
                StopOut::settle(id, Settled::GoneOnExchange)
            }
            Event::Cancelled { .. } if s.is_retired(id) => {
                s.forget(id);
                StopOut::settle(id, Settled::CancelConfirmed)
            }
            Event::Rejected { .. } if s.is_retired(id) => {
                s.forget(id);
                StopOut::settle(id, Settled::GoneOnExchange)
            }
            _ if s.is_retired(id) || is_real || is_old => StopOut::default(),
            _ => pass,
        }
    }
}

#[cfg(test)]
#[path = "stops_tests.rs"]
mod tests;
