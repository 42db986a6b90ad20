//! Applying an accepted config reload on the hot thread, between two
//! events: the core takes the new config, the journal gets the reload
//! record and the config that replay applies at the same point, and the
//! payload goes back to the service thread to be freed.
//!
//! Consumes a [`ToHot::Reload`](crate::runtime::ToHot::Reload) decision and,
//! when accepted, its payload from the reload queue; produces the core's new
//! parameters, journal records and a [`HotLog`] note. Never allocates or
//! frees.

use super::Engine;
use crate::journal_schema::{JournalRecord, ReloadOutcome};
use crate::runtime::msg::{HotLog, Note};
use crate::types::TimestampNs;

impl Engine {
    /// Journals a reload decision; an accepted one is applied to the core
    /// first and its config journaled after the decision. A core that
    /// refuses it (the service thread checked the same, so this does not
    /// happen) leaves its parameters and journals the refusal instead.
    pub(super) fn on_reload(&mut self, outcome: ReloadOutcome, detail: &Note, ts: TimestampNs) {
        if outcome == ReloadOutcome::Refused {
            let rec = JournalRecord::Reload {
                outcome,
                detail: detail.as_str(),
                ts,
            };
            self.journal(ts, &rec);
            return;
        }
        let Some(payload) = self.reloads.take() else {
            let rec = JournalRecord::Reload {
                outcome: ReloadOutcome::Refused,
                detail: "reload refused by the engine: its parameters never arrived",
                ts,
            };
            self.journal(ts, &rec);
            self.log(HotLog::ReloadMissing);
            return;
        };
        match self.core.reload(&payload.config) {
            Ok(()) => {
                let rec = JournalRecord::Reload {
                    outcome,
                    detail: detail.as_str(),
                    ts,
                };
                self.journal(ts, &rec);
                let rec = JournalRecord::ReloadConfig {
                    config_toml: &payload.config_toml,
                    ts,
                };
                self.journal(ts, &rec);
                self.log(HotLog::ReloadApplied);
            }
            Err(e) => {
                let note = Note::from_display(&e);
                let rec = JournalRecord::Reload {
                    outcome: ReloadOutcome::Refused,
                    detail: note.as_str(),
                    ts,
                };
                self.journal(ts, &rec);
                self.log(HotLog::ReloadFailed(e));
            }
        }
        // At most RELOAD_SLOTS payloads exist, so the return queue has room;
        // were it full, the payload would be freed here rather than lost.
        let _ = self.reloads.give_back(payload);
    }
}
