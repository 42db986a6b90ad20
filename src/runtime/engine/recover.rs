//! The engine's part of a restart: tracking the rebuilt core's orders
//! again, carrying out what the start-up corrections (journaled and fed to
//! the core as they were applied) leave to it, and resuming the market
//! clock after the journal's last market time.
//!
//! Consumes [`Tracked`] orders and [`ResumeStep`]s; produces order
//! commands and journal records. Runs before the hot loop starts (cold);
//! never sends an entry by itself (only what the core decides on the
//! corrected state leaves).

use crate::clock::Clock;
use crate::core::{Action, Event};
use crate::journal_schema::JournalRecord;
use crate::types::TimestampNs;

use super::super::recovery::Tracked;
use super::super::recovery_journal::ResumeStep;
use super::{Engine, Gap, Venue};

impl<C: Clock> Engine<C> {
    /// Tracks the working orders of a rebuilt core: user-stream updates of
    /// orders placed in an earlier life route to them; the position's
    /// acknowledged stop becomes the working stop of the live coalescer.
    pub fn adopt_orders(&mut self, orders: &[Tracked]) {
        let live = matches!(self.venue, Venue::Live { .. });
        for t in orders {
            self.orders
                .seed(&t.intent, t.exchange_id, Some(t.client_id));
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

    /// Carries out what the start-up corrections (already journaled and
    /// fed to the core, see
    /// [`CorrectionJournal`](super::super::recovery_journal::CorrectionJournal))
    /// leave to the engine, in order: the order table follows each
    /// correction, the core's orders decided on them go to the venue, and a
    /// stop found or placed on the exchange becomes the router's working stop.
    pub fn resume_steps(&mut self, steps: &[ResumeStep], ts: TimestampNs) {
        let live = matches!(self.venue, Venue::Live { .. });
        for step in steps {
            match *step {
                ResumeStep::Track(c) => self.orders.apply(&c),
                ResumeStep::Act(Action::Place(o)) => self.place(&o, ts),
                ResumeStep::Act(Action::Cancel { order, symbol }) => {
                    self.cancel(order, symbol, ts);
                }
                ResumeStep::Act(_) => {}
                ResumeStep::AdoptStop { symbol, order } => {
                    if live {
                        self.stops.adopt(symbol, order);
                    }
                }
            }
            self.end_stop_batch();
            self.drain_events();
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
