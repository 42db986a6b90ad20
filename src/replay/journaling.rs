//! The one code path that feeds an event to the core and journals it:
//! `Input(event)`, then every `Output(action)` the core produced, in order.
//!
//! Consumes a [`Core`], a [`journal::Writer`] and one [`Event`]; produces the
//! journal records and hands every action to the caller's closure. The live
//! runtime, paper sessions and the tests all journal through here, so replay
//! and crash recovery ([`super::rebuild`]) read exactly what was written.
//!
//! Must never: allocate (records are encoded straight into the mapped
//! segment), log, or feed the core an event whose input record could not be
//! appended (the journal would no longer reproduce the core).

use core::fmt;

use crate::core::{Action, Core, Event, NoProbe, StageProbe};
use crate::journal_schema::{self, JournalRecord};
use crate::types::TimestampNs;

/// Why [`journal_event`] could not journal everything.
#[derive(Debug)]
pub enum JournalEventError {
    /// The input record could not be appended; the core did not see the
    /// event and no action was produced.
    Input(journal::AppendError),
    /// An output record could not be appended. The core handled the event
    /// and every action was still handed to the caller (it must execute
    /// them); the journal lacks the outputs from this one on.
    Output {
        /// Actions handed to the caller.
        actions: usize,
        /// The first append failure.
        error: journal::AppendError,
    },
}

impl fmt::Display for JournalEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(e) => write!(f, "cannot journal the input event (not processed): {e}"),
            Self::Output { actions, error } => write!(
                f,
                "cannot journal the core's actions ({actions} produced and executed): {error}"
            ),
        }
    }
}

impl std::error::Error for JournalEventError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Input(e) | Self::Output { error: e, .. } => Some(e),
        }
    }
}

/// Journals `event` as an input record (header time `ts`), feeds it to
/// `core`, then journals every action the core produced as an output record
/// and hands it to `on_action`, oldest first. Returns the number of actions.
/// Allocates nothing.
///
/// # Errors
/// [`JournalEventError::Input`] when the input cannot be appended (the core
/// is left untouched); [`JournalEventError::Output`] when an output cannot be
/// appended (every action was still delivered).
pub fn journal_event<F: FnMut(Action)>(
    writer: &mut journal::Writer,
    core: &mut Core,
    event: &Event,
    ts: TimestampNs,
    on_action: F,
) -> Result<usize, JournalEventError> {
    journal_event_probed(writer, core, event, ts, &mut NoProbe, on_action)
}

/// Like [`journal_event`], reporting the core's stage boundaries to `probe`
/// (see [`Core::on_event_probed`]).
///
/// # Errors
/// As [`journal_event`].
pub fn journal_event_probed<P: StageProbe, F: FnMut(Action)>(
    writer: &mut journal::Writer,
    core: &mut Core,
    event: &Event,
    ts: TimestampNs,
    probe: &mut P,
    mut on_action: F,
) -> Result<usize, JournalEventError> {
    journal_schema::write(writer, ts, &JournalRecord::Input(*event))
        .map_err(JournalEventError::Input)?;
    core.on_event_probed(event, probe);
    let mut actions = 0;
    let mut failed = None;
    while let Some(action) = core.next_action() {
        if failed.is_none() {
            if let Err(e) = journal_schema::write(writer, ts, &JournalRecord::Output(action)) {
                failed = Some(e);
            }
        }
        actions += 1;
        on_action(action);
    }
    match failed {
        None => Ok(actions),
        Some(error) => Err(JournalEventError::Output { actions, error }),
    }
}
