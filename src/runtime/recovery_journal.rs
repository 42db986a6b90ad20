//! Journaling of start-up corrections as they are applied: each
//! [`Correction`] reconciliation (or the paper/dry-run start) applies is
//! journaled at once, and the events it implies are fed to the rebuilt
//! core through the journaled dispatch ([`crate::replay::journal_event`]),
//! so a kill during reconciliation keeps everything done so far: the next
//! start rebuilds it from the journal and looks up only what is left.
//!
//! Consumes corrections, the journal writer and the rebuilt core before the
//! engine exists; produces journal records and the [`ResumeStep`]s the
//! engine carries out once it runs (the core's orders to route, stops to
//! adopt). Runs at start-up only (cold); never sends anything itself.

use std::collections::BTreeMap;

use crate::core::{Action, Core, Event, ExchangeClose};
use crate::journal_schema::{self as js, JournalRecord};
use crate::orders::{OrderId, OrderIntent, OrderPurpose};
use crate::types::{SymbolId, TimestampNs};

use super::route;
use super::startup::reconcile::{CoreView, Correction};

/// What the engine carries out for the corrections journaled at start-up,
/// in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResumeStep {
    /// Bring the order table in line with a correction.
    Track(Correction),
    /// Route an order or cancel the core decided on a correction (already
    /// journaled as an output).
    Act(Action),
    /// `order` is the working stop of `symbol` on the exchange.
    AdoptStop {
        /// Instrument.
        symbol: SymbolId,
        /// The core's stop order.
        order: OrderId,
    },
}

/// Journals corrections as they are applied and feeds them to the core.
#[derive(Debug)]
pub struct CorrectionJournal<'a> {
    writer: &'a mut journal::Writer,
    core: &'a mut Core,
    view: &'a CoreView,
    ts: TimestampNs,
    /// The journaled intents of the rebuilt core's orders (see
    /// [`CorrectionJournal::with_intents`]).
    intents: Option<&'a BTreeMap<OrderId, OrderIntent>>,
    /// What the engine does once it runs.
    pub steps: Vec<ResumeStep>,
    /// The first journal failure, if any (later records are still tried).
    pub failed: Option<String>,
}

impl<'a> CorrectionJournal<'a> {
    /// Returns a journal of corrections stamped `ts` into `writer`, fed to
    /// `core` (rebuilt; `view` is what reconciliation compares).
    pub fn new(
        writer: &'a mut journal::Writer,
        core: &'a mut Core,
        view: &'a CoreView,
        ts: TimestampNs,
    ) -> Self {
        Self {
            writer,
            core,
            view,
            ts,
            intents: None,
            steps: Vec::new(),
            failed: None,
        }
    }

    /// Names the journaled intents of the rebuilt core's orders: a fill
    /// found for an exit order of the open position that the core no
    /// longer remembers (a stop replaced more than
    /// `RETIRED_ORDERS` (32) times since) is then
    /// booked as an `exchange_close` at its price and fee instead of being
    /// dropped as an unknown order.
    #[must_use]
    pub fn with_intents(mut self, intents: &'a BTreeMap<OrderId, OrderIntent>) -> Self {
        self.intents = Some(intents);
        self
    }

    /// A fill of an exit order of `f.symbol`'s open position that the core
    /// no longer knows becomes the close of that position it is.
    fn forgotten_exit(&self, e: Event) -> Event {
        let Event::Fill(f) = e else { return e };
        if self.core.knows_order(f.order) {
            return e;
        }
        let Some(intent) = self.intents.and_then(|m| m.get(&f.order)) else {
            return e;
        };
        let Some(p) = self.core.position(f.symbol) else {
            return e;
        };
        if intent.purpose == OrderPurpose::Entry || intent.position != p.id {
            return e;
        }
        Event::ExchangeClose(ExchangeClose {
            symbol: f.symbol,
            side: p.side,
            qty: f.qty,
            price: f.price,
            fee: f.fee,
            ts: f.ts,
        })
    }

    /// Journals `c`, feeds the events it implies to the core (their outputs
    /// journaled and kept as steps) and records what the engine must track.
    pub fn apply(&mut self, c: &Correction) {
        let ts = self.ts;
        if let Err(e) = js::write(
            self.writer,
            ts,
            &JournalRecord::Correction(c.to_journal(ts)),
        ) {
            self.fail(format!("correction: {e}"));
        }
        self.steps.push(ResumeStep::Track(*c));
        for e in c.core_events(ts).into_iter().flatten() {
            let e = self.forgotten_exit(self.exact_qty(e));
            let steps = &mut self.steps;
            let r = crate::replay::journal_event(self.writer, self.core, &e, ts, |a| {
                if matches!(a, Action::Place(_) | Action::Cancel { .. }) {
                    steps.push(ResumeStep::Act(a));
                }
            });
            if let Err(err) = r {
                self.fail(format!("correction event: {err}"));
            }
        }
        let stop = match *c {
            Correction::Adopted { order, symbol, .. }
            | Correction::StopPlaced {
                replaces: Some(order),
                symbol,
                ..
            } => Some((symbol, order)),
            _ => None,
        };
        if let Some((symbol, order)) = stop {
            if self.core.position(symbol).and_then(|p| p.stop_order) == Some(order) {
                self.steps.push(ResumeStep::AdoptStop { symbol, order });
            }
        }
    }

    /// A fill of a whole order (or of what is left of the position) in the
    /// core's exact quantity bits.
    fn exact_qty(&self, e: Event) -> Event {
        let Event::Fill(mut f) = e else { return e };
        if let Some(q) = self
            .view
            .orders
            .iter()
            .find(|o| o.order == f.order)
            .and_then(|o| route::same_qty(f.qty, o.qty))
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

    fn fail(&mut self, what: String) {
        log::error!("Journaling a start-up correction failed: {what}");
        if self.failed.is_none() {
            self.failed = Some(what);
        }
    }
}
