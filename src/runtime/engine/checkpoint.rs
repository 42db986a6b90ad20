//! The hot thread's side of the checkpointer
//! ([`crate::runtime::checkpointer`]): journals the states and retention
//! facts it sends and hands the state buffers back.
//!
//! Consumes [`CheckpointRequest`]s from a bounded channel, polled on the
//! coarse clock tick; produces `checkpoint` and `journal_retention` records
//! through the engine's own writer (the only writer of the journal). Never
//! allocates or frees: a state buffer goes back to the checkpointer with
//! the sequence number its first part got.

use super::Engine;
use crate::clock::Clock;
use crate::replay::checkpoint::write_checkpoint;
use crate::runtime::checkpointer::{CheckpointRequest, HotEnd, Journaled};

impl<C: Clock> Engine<C> {
    /// Takes the checkpointer's requests from now on.
    pub fn set_checkpoints(&mut self, end: HotEnd) {
        self.checkpoints = Some(end);
    }

    /// Journals every pending checkpointer request (called on the clock
    /// tick; appending a state is a copy of a few tens of KiB).
    pub(crate) fn poll_checkpoints(&mut self) {
        let Some(end) = self.checkpoints.take() else {
            return;
        };
        while let Ok(req) = end.requests.try_recv() {
            match req {
                CheckpointRequest::State {
                    state_seq,
                    state,
                    ts,
                } => {
                    let mut parts = 0;
                    let first_part_seq = match self.journal.as_mut() {
                        Some(w) => {
                            let first = write_checkpoint(w, &state, state_seq, ts).ok();
                            parts = first.map_or(0, |f| w.next_seq().saturating_sub(f));
                            first
                        }
                        None => None,
                    };
                    self.counters.journal_records += parts;
                    // The checkpointer waits for this answer (bounded: one
                    // request in flight at a time).
                    let _ = end.journaled.try_send(Journaled {
                        first_part_seq,
                        state,
                    });
                }
                CheckpointRequest::Retention(facts) => {
                    self.journal(facts.ts, &facts.record());
                }
            }
        }
        self.checkpoints = Some(end);
    }
}
