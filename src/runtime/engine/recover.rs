//! The engine's part of a restart: tracking the rebuilt core's orders
//! again, applying the start-up corrections through the journaled dispatch
//! (so replay reproduces them), and resuming the market clock after the
//! journal's last market time.
//!
//! Consumes [`Tracked`] orders and [`Correction`]s; produces journal
//! records (corrections, then the events they imply as inputs) and core
//! events. Runs before the hot loop starts (cold); never sends an entry by
//! itself (only what the core decides on the corrected state leaves).

use crate::clock::Clock;
use crate::core::Event;
use crate::journal_schema::JournalRecord;
use crate::types::TimestampNs;

use super::super::recovery::Tracked;
use super::super::route;
use super::super::startup::reconcile::Correction;
use super::{Engine, Gap, Venue};

impl Engine {
    /// Tracks the working orders of a rebuilt core: user-stream updates of
    /// orders placed in an earlier life route to them; the position's
    /// acknowledged stop becomes the working stop of the live coalescer.
    pub fn adopt_orders(&mut self, orders: &[Tracked]) {
        let live = matches!(self.venue, Venue::Live { .. });
        for t in orders {
            self.orders.seed(&t.intent, t.exchange_id);
            if live && t.exchange_id.is_some() {
                self.adopt_stop(t.intent.id);
            }
        }
    }

    /// Makes `order` the coalescer's working stop when it is the core's
    /// current stop of its symbol.
    fn adopt_stop(&mut self, order: crate::orders::OrderId) {
        for i in 0..self.symbols {
            let symbol = crate::types::SymbolId(i);
            let current = self.core.position(symbol).and_then(|p| p.stop_order);
            if current == Some(order) {
                self.stops.adopt(symbol, order);
            }
        }
    }

    /// Journals every correction and feeds the events it implies to the
    /// core at `ts` through the journaled dispatch; the core's decisions on
    /// them (a stop after an entry fill found) go to the venue.
    pub fn apply_corrections(&mut self, corrections: &[Correction], ts: TimestampNs) {
        for c in corrections {
            self.journal(ts, &JournalRecord::Correction(c.to_journal(ts)));
            self.orders.apply(c);
            for e in c.core_events(ts).into_iter().flatten() {
                let e = match e {
                    Event::Fill(mut f) => {
                        if let Some(q) = self
                            .orders
                            .qty_of(f.order)
                            .and_then(|q| route::same_qty(f.qty, q))
                        {
                            f.qty = q;
                        }
                        if let Some(q) = self
                            .core
                            .position(f.symbol)
                            .and_then(|p| route::same_qty(f.qty, p.open_qty))
                        {
                            f.qty = q;
                        }
                        Event::Fill(f)
                    }
                    other => other,
                };
                self.dispatch(e);
            }
            if matches!(self.venue, Venue::Live { .. }) {
                match *c {
                    Correction::Adopted { order, .. }
                    | Correction::StopPlaced {
                        replaces: Some(order),
                        ..
                    } => self.adopt_stop(order),
                    _ => {}
                }
            }
        }
    }

    /// Resumes after a rebuild whose last market time is `last` and no
    /// newer history was fed: the minutes between it and the first live
    /// trade are backfilled like any other feed gap.
    pub fn resume(&mut self, last: TimestampNs) {
        self.time.observe(last, self.clock.mono_ns());
        self.last_trade_ts = Some(last);
        self.gap = Gap::AwaitFirstTrade;
    }

    /// Returns why the core is halted, if it is.
    #[must_use]
    pub fn core_halted(&self) -> Option<crate::risk::HaltReason> {
        self.core.halted()
    }

    /// Issues `command` to the core at `ts` as the engine itself (journaled
    /// as an operator record and a control input, like a control command).
    pub fn engine_command(&mut self, command: crate::core::Command, ts: TimestampNs) {
        self.journal(
            ts,
            &JournalRecord::Operator {
                command,
                source: crate::journal_schema::OperatorSource::Engine,
                ts,
            },
        );
        self.dispatch(Event::Control { command, ts });
    }
}
