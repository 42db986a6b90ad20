//! Coalescing of protective-stop replacements in live mode.
//!
//! The core tightens a trailing stop on every favourable trade: a cancel
//! of the old stop and a new STOP_MARKET each time. Sent one for one, a
//! fast market queues more REST calls than the exchange answers. Here at
//! most one stop per symbol is in flight: while a new stop waits for its
//! acknowledgement, further replacements are answered to the core at once
//! (acknowledged / cancelled) and only the newest is sent when the one in
//! flight is acknowledged. Fills and exchange-side cancels of the stop on
//! the exchange are reported to the core under the id of the stop the
//! core currently holds, so the core's position always ends with its own
//! stop's fill.
//!
//! Consumes the core's stop placements and cancels and the exchange's
//! events for stop orders; produces [`StopOut`]s (what to tell the core,
//! what to send). Never allocates after construction, never reads a clock.

use crate::core::Event;
use crate::orders::{OrderId, OrderIntent, OrderPurpose};

/// Stops sent to the exchange and since cancelled by us, remembered until
/// their cancel is confirmed: a late fill of one is the core's stop's fill,
/// a confirmation is not passed on. Held stops never reach the exchange and
/// are not remembered.
const RETIRED: usize = 32;

/// What to do after a stop decision.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StopOut {
    /// Send the core's action to the exchange unchanged.
    pub send_original: bool,
    /// Tell the core this (instead of, or translated from, the exchange).
    pub to_core: Option<Event>,
    /// Cancel this order on the exchange.
    pub cancel: Option<OrderId>,
    /// Place this stop on the exchange.
    pub place: Option<OrderIntent>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// The stop the core believes is working.
    core: Option<OrderId>,
    /// The stop sent to the exchange and not known to be gone.
    real: Option<OrderId>,
    real_acked: bool,
    /// The core has cancelled `real` before it was acknowledged.
    orphan: bool,
    /// Newest stop wanted but not sent.
    pending: Option<OrderIntent>,
    retired: [Option<OrderId>; RETIRED],
    next_retired: usize,
}

impl Slot {
    fn retire(&mut self, id: OrderId) {
        self.retired[self.next_retired] = Some(id);
        self.next_retired = (self.next_retired + 1) % RETIRED;
    }

    fn is_retired(&self, id: OrderId) -> bool {
        self.retired.contains(&Some(id))
    }

    fn forget(&mut self, id: OrderId) {
        for r in &mut self.retired {
            if *r == Some(id) {
                *r = None;
            }
        }
    }

    fn knows(&self, id: OrderId) -> bool {
        self.real == Some(id)
            || self.core == Some(id)
            || self.pending.is_some_and(|p| p.id == id)
            || self.is_retired(id)
    }
}

/// Per-symbol stop coalescing state; see the module docs.
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
    pub fn symbol_of(&self, id: OrderId) -> Option<crate::types::SymbolId> {
        let i = self.slots.iter().position(|s| s.knows(id))?;
        u16::try_from(i).ok().map(crate::types::SymbolId)
    }

    /// Returns true when `id` is a stop order handled here.
    #[must_use]
    pub fn tracks(&self, id: OrderId) -> bool {
        self.slots.iter().any(|s| s.knows(id))
    }

    /// Takes over stop `id` of `symbol` that an earlier life of the engine
    /// placed and the exchange acknowledged (restart): it is the working
    /// stop of both the core and the exchange.
    pub fn adopt(&mut self, symbol: crate::types::SymbolId, id: OrderId) {
        if let Some(s) = self.slots.get_mut(usize::from(symbol.0)) {
            s.core = Some(id);
            s.real = Some(id);
            s.real_acked = true;
            s.orphan = false;
            s.pending = None;
        }
    }

    /// The core placed a protective stop.
    pub fn on_place(&mut self, o: &OrderIntent) -> StopOut {
        let Some(s) = self.slots.get_mut(usize::from(o.symbol.0)) else {
            return StopOut {
                send_original: true,
                ..StopOut::default()
            };
        };
        debug_assert!(o.purpose == OrderPurpose::Stop);
        s.core = Some(o.id);
        if s.real.is_none() {
            s.real = Some(o.id);
            s.real_acked = false;
            s.orphan = false;
            return StopOut {
                send_original: true,
                ..StopOut::default()
            };
        }
        s.pending = Some(*o);
        StopOut::default()
    }

    /// The core cancelled stop `id`.
    pub fn on_cancel(&mut self, id: OrderId) -> StopOut {
        let Some(s) = self.slot_of(id) else {
            return StopOut {
                send_original: true,
                ..StopOut::default()
            };
        };
        if s.core == Some(id) {
            s.core = None;
        }
        if s.pending.is_some_and(|p| p.id == id) {
            s.pending = None;
            return StopOut::default();
        }
        if s.real == Some(id) {
            s.retire(id);
            if s.real_acked {
                s.real = None;
                return StopOut {
                    send_original: true,
                    ..StopOut::default()
                };
            }
            s.orphan = true;
        }
        // Held or already gone on our side: nothing to send.
        StopOut::default()
    }

    /// Passes an exchange event through: returns what the core should see
    /// (possibly under another order id) and what to send next.
    pub fn on_exchange(&mut self, e: &Event) -> StopOut {
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
        match *e {
            Event::Ack { .. } | Event::Rejected { .. } if is_real && s.orphan => {
                // The core no longer wants it: cancel it (if it was placed)
                // and send the newest held stop instead.
                let mut out = StopOut {
                    cancel: matches!(e, Event::Ack { .. }).then_some(id),
                    ..StopOut::default()
                };
                s.real = None;
                if let Some(next) = s.pending.take() {
                    s.real = Some(next.id);
                    s.real_acked = false;
                    s.orphan = false;
                    out.place = Some(next);
                }
                out
            }
            Event::Ack { .. } if is_real => {
                s.real_acked = true;
                pass
            }
            Event::Rejected { .. } if is_real => {
                // The stop standing for the core's stop was refused: the
                // core must hear it under its own id (it then closes).
                s.real = None;
                s.pending = None;
                let to = s.core.take().unwrap_or(id);
                StopOut {
                    to_core: Some(with_order(e, to)),
                    ..StopOut::default()
                }
            }
            Event::Fill(_) => {
                // The stop on the exchange (or one being cancelled) fired:
                // the core hears it as a fill of the stop it holds.
                let to = s.core.unwrap_or(id);
                if is_real {
                    s.real = None;
                }
                s.pending = None;
                StopOut {
                    to_core: Some(with_order(e, to)),
                    ..StopOut::default()
                }
            }
            Event::Cancelled { .. } if is_real && !s.orphan => {
                // Cancelled by the exchange, not by us: the core's stop is gone.
                s.real = None;
                s.pending = None;
                let to = s.core.take().unwrap_or(id);
                StopOut {
                    to_core: Some(with_order(e, to)),
                    ..StopOut::default()
                }
            }
            Event::Cancelled { .. } | Event::Rejected { .. } if s.is_retired(id) => {
                s.forget(id);
                StopOut::default()
            }
            _ if s.is_retired(id) || is_real => StopOut::default(),
            _ => pass,
        }
    }
}

#[cfg(test)]
#[path = "stops_tests.rs"]
mod tests;
