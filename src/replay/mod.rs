//! Replay and crash recovery: one mechanism. The journaled inputs are fed,
//! in order, into a fresh [`Core`] built from the journal's first session
//! record; replay also checks every action the core produces against the
//! journaled output records.
//!
//! Consumes a journal directory (read-only through [`journal::Reader`], safe
//! on a journal a live writer is still appending to); produces a
//! [`Rebuilt`] engine state for a restart ([`rebuild`]) or a
//! [`ReplayReport`] with the first mismatch ([`replay`]). Also provides the
//! single path that journals an event and its actions
//! ([`journal_event`]) and a journaling driver over the simulated exchange
//! ([`record::SimSession`]).
//!
//! Must never: write to the journal it reads, send anything anywhere, or
//! read a clock to decide anything (time comes from the journaled events).
//!
//! # Sessions, reloads and config changes
//! Every start of the engine writes a session record. The core is built
//! once, from the **first** session's config and instrument rules, and
//! keeps running across later sessions: positions, working orders, equity
//! peak, streaks, cooldowns and the halt state continue by construction,
//! because the core is deterministic and sees the same inputs in the same
//! order. A reload the live engine applied (SIGHUP or `ctl reload`) is
//! journaled as the whole new config (a reload-config record, right after
//! the accepted reload record, between two inputs); the pass applies it to
//! its core at that record ([`Core::reload`]), so a journal with reloads
//! replays with zero mismatches. A later session's config is compared with
//! the running one (the first, with every reload since): when it differs in
//! reloadable keys only, it is applied at the session record like a reload
//! ([`apply_session_config`], which a restarting engine calls at the same
//! point); otherwise the core keeps the running config. Either way the
//! differences, or why they were not taken, and changed instrument rules
//! are reported in [`Rebuilt::session_changes`] for the runtime to log. A
//! later session with other symbols is an error
//! ([`ReplayError::SymbolsChanged`]): start a new journal directory to change
//! symbols or non-reloadable parameters.
//!
//! # Torn tails and lost outputs
//! A crash can leave a partly written record at the end of the last segment
//! (the writer zeroes it when it reopens): the pass stops there and reports
//! it in `torn`. Corruption anywhere else is [`ReplayError::Corrupt`],
//! including a segment whose end marker was lost while a later segment
//! exists (a writer's recovery repairs that on open). A
//! restarting engine opens its [`journal::Writer`] first (recovery settles
//! the tail: a record whose padding alone was cut is kept by the writer but
//! refused by a reader of the raw files) and then rebuilds, so the rebuild
//! ends exactly where the writer continues. A
//! crash can also fall between an input record and its outputs: the actions
//! the core produces for that input are then missing from the journal. That
//! is not a mismatch; they are counted ([`ReplayCounts::unjournaled`]) and,
//! at the end of the journal, returned in [`Rebuilt::unjournaled`]. Orders
//! the core placed without a journaled outcome are in
//! [`Rebuilt::in_flight`], to be looked up by client order id before
//! anything is resent.

pub mod checkpoint;
mod error;
pub mod journaling;
mod pass;
pub mod record;
mod reload;
pub mod retention;
mod run;

pub use error::ReplayError;
pub use journaling::{journal_event, journal_event_probed, JournalEventError};
pub use reload::apply_session_config;

use core::fmt;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::core::{Action, Core, Event};
use crate::io::order::ClientOrderId;
use crate::journal_schema::{Field, JournalRecord};
use crate::orders::{OrderId, OrderIntent};
use crate::strategy::StrategyFactory;
use crate::types::{Side, SymbolId, TimestampNs};

/// Where a pass stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopAt {
    /// At the end of the journal (or a torn tail).
    End,
    /// At the first mismatch.
    FirstMismatch,
}

/// What a pass read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayCounts {
    /// Records read.
    pub records: u64,
    /// Input records fed to the core.
    pub inputs: u64,
    /// Output records compared.
    pub outputs: u64,
    /// Session records (engine starts).
    pub sessions: u64,
    /// Market trades among the inputs.
    pub market_trades: u64,
    /// Closed-trade records among the outputs.
    pub closed_trades: u64,
    /// Other known records (order routing, balances, streams, ...).
    pub system: u64,
    /// Records with a tag this engine does not know (skipped).
    pub unknown: u64,
    /// Actions the core produced that the journal lacks because a life of
    /// the engine ended between an input and its outputs.
    pub unjournaled: u64,
}

/// The first difference between what the core produced and the journal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mismatch {
    /// Sequence number of the output record that differs, or of the record
    /// after which a produced action is missing.
    pub seq: u64,
    /// Sequence number of the input that caused it.
    pub input_seq: Option<u64>,
    /// That input.
    pub input: Option<Event>,
    /// The journaled action (`None`: the journal has no more outputs for
    /// this input).
    pub expected: Option<Action>,
    /// The action the core produced (`None`: the core produced no more).
    pub actual: Option<Action>,
}

/// Appends `type name=value ...` for `record`.
fn describe(out: &mut String, record: &JournalRecord<'_>) {
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
    record.fields(&mut fields);
    out.push_str(crate::journal_schema::type_name(record.tag()).unwrap_or("unknown"));
    for f in &fields {
        out.push(' ');
        out.push_str(f.name);
        out.push('=');
        crate::journal_schema::push_value_text(out, &f.value);
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        writeln!(f, "first mismatch at record {}", self.seq)?;
        match (self.input_seq, self.input) {
            (Some(seq), Some(e)) => {
                describe(&mut line, &JournalRecord::Input(e));
                writeln!(f, "  input    #{seq}: {line}")?;
            }
            _ => writeln!(f, "  input    : none (before the first input)")?,
        }
        line.clear();
        match self.expected {
            Some(a) => describe(&mut line, &JournalRecord::Output(a)),
            None => line.push_str("(no further output in the journal)"),
        }
        writeln!(f, "  expected : {line}")?;
        line.clear();
        match self.actual {
            Some(a) => describe(&mut line, &JournalRecord::Output(a)),
            None => line.push_str("(the core produced no further action)"),
        }
        write!(f, "  actual   : {line}")
    }
}

/// How one of our orders was routed to the exchange (from the order-sent
/// and order-acked records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRoute {
    /// Client order id it was sent under.
    pub client_id: ClientOrderId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// The exchange's order id, once acknowledged.
    pub exchange_id: Option<u64>,
}

/// An order the core placed whose outcome (ack, fill, reject or cancel) the
/// journal does not hold: it may or may not have reached the exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InFlight {
    /// The intent.
    pub intent: OrderIntent,
    /// The client order id, when an order-sent record holds it (otherwise
    /// it was never handed to the exchange, or the crash came first).
    pub client_id: Option<ClientOrderId>,
    /// Sequence number of the input that produced it.
    pub input_seq: u64,
}

/// A cancel the core requested whose outcome (cancelled, filled or
/// rejected) the journal does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingCancel {
    /// Order to cancel.
    pub order: OrderId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Sequence number of the input that produced it.
    pub input_seq: u64,
}

/// A later session whose config or rules differ from the running ones (the
/// reloadable config differences are applied; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionChange {
    /// Sequence number of the session record.
    pub seq: u64,
    /// The instrument rules differ.
    pub rules_changed: bool,
    /// Reloadable differences, `key: old -> new` (applied to the core when
    /// `refused` is `None`).
    pub config_changes: Vec<String>,
    /// Why the differences were not applied, when they were not.
    pub refused: Option<String>,
}

/// The engine state rebuilt from a journal, for a restart.
#[derive(Debug)]
pub struct Rebuilt {
    /// The core after every journaled input (`None` when the journal holds
    /// no session yet: a first start).
    pub core: Option<Core>,
    /// The config the core runs: the first session's, with every reload
    /// and reloadable session change applied since.
    pub config: Option<Config>,
    /// Sequence number the journal's writer continues with.
    pub next_seq: u64,
    /// Every order routed to the exchange, by engine order id.
    pub orders: BTreeMap<OrderId, OrderRoute>,
    /// Orders placed without a journaled outcome, by engine order id order.
    pub in_flight: Vec<InFlight>,
    /// Cancels requested without a journaled outcome.
    pub pending_cancels: Vec<PendingCancel>,
    /// Actions the core produced for the journal's last input that the
    /// journal lacks (the previous life may not have executed them). A
    /// restarting engine that executes them journals them as outputs
    /// *before* its session record: replay then matches them; otherwise they
    /// are counted in [`ReplayCounts::unjournaled`].
    pub unjournaled: Vec<Action>,
    /// What was read.
    pub counts: ReplayCounts,
    /// Later sessions whose config or rules differ from the running ones.
    pub session_changes: Vec<SessionChange>,
    /// The first difference between the core and the journaled outputs
    /// (a rebuild goes on past it; a different engine version is the usual
    /// cause).
    pub first_mismatch: Option<Mismatch>,
    /// Where a torn tail ended the journal, if one did.
    pub torn: Option<journal::TornTail>,
    /// Time of the first session record (the journal's identity: the
    /// client order id prefix derives from it, see [`client_prefix`]).
    pub first_session_ts: Option<TimestampNs>,
    /// Market time of the last journaled trade (or the last nanosecond of
    /// the last journaled candle's minute): a restart feeds only history
    /// after it.
    pub last_market_ts: Option<TimestampNs>,
    /// Intents of the orders the core placed that were neither rejected
    /// nor cancelled, by engine order id (a restart looks up the core's
    /// working orders here).
    pub intents: BTreeMap<OrderId, OrderIntent>,
    /// The last operator record (command, source): how the previous life
    /// was stopped, when it was stopped cleanly.
    pub last_operator: Option<(crate::core::Command, crate::journal_schema::OperatorSource)>,
    /// Stops start-up reconciliations placed: the core may hold no order
    /// for them (any more), so a close they made is found by looking them
    /// up (see [`RecoveryStop`]).
    pub recovery_stops: Vec<RecoveryStop>,
    /// Start-up reconciliations that journaled sending recovery orders
    /// (see [`RecoverySend`]), oldest first.
    pub recovery_sends: Vec<RecoverySend>,
    /// Fills fed to the core, per engine order id (a restart's lookups
    /// report only what the exchange filled beyond them).
    pub booked: BTreeMap<OrderId, crate::orders::Booked>,
    /// Sequence number of the checkpoint the rebuild started from (`None`:
    /// it read the journal from its first record).
    pub started_at: Option<u64>,
    /// The state after the journal's last record, as a checkpoint holds it
    /// (`None` without a session, or after a torn tail): a restarting
    /// engine journals it ([`checkpoint::write_checkpoint`]) before its
    /// first new record, so the next rebuild starts there.
    pub checkpoint: Option<Vec<u8>>,
}

/// A stop a start-up reconciliation placed (journaled as a `stop_placed`
/// correction), for a position of the core that had no stop order or in
/// place of the core's stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryStop {
    /// Instrument.
    pub symbol: crate::types::SymbolId,
    /// The exchange's order id.
    pub exchange_id: u64,
    /// When the correction was journaled.
    pub ts: TimestampNs,
}

/// A start-up reconciliation's journaled announcement that it was sending
/// recovery orders for a position (`recovery_sending`): a later start looks
/// those orders up by the ids that session gave them, even when the session
/// was killed before journaling what it placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverySend {
    /// Instrument.
    pub symbol: crate::types::SymbolId,
    /// Number of the session (1 = the journal's first) that sent them.
    pub session: u64,
    /// The core's stop order they stood for, if any.
    pub replaces: Option<crate::orders::OrderId>,
    /// When the announcement was journaled.
    pub ts: TimestampNs,
}

/// Returns the client order id prefix of the journal whose first session
/// started at `first_session`: `te` + the start second in base 36 + `-`.
/// Every life of the engine on one journal uses it, so an order placed in
/// an earlier life keeps its id on the exchange.
#[must_use]
pub fn client_prefix(first_session: TimestampNs) -> String {
    let mut secs = u64::try_from(first_session.0 / 1_000_000_000).unwrap_or(0);
    let mut digits = Vec::new();
    while secs > 0 {
        let d = (secs % 36) as u8;
        digits.push(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        secs /= 36;
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    format!("te{}-", String::from_utf8_lossy(&digits))
}

/// Returns the prefix of the orders the start-up reconciliation of session
/// number `session` (1-based, counting session records) places:
/// `{client_prefix}r{session}-`, unique per start and still carrying the
/// client prefix.
#[must_use]
pub fn recovery_prefix(client_prefix: &str, session: u64) -> String {
    format!("{client_prefix}r{session}-")
}

/// The result of [`replay`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayReport {
    /// What was read (up to the first mismatch).
    pub counts: ReplayCounts,
    /// The first mismatch; the replay stopped there.
    pub first_mismatch: Option<Mismatch>,
    /// Where a torn tail ended the journal, if one did.
    pub torn: Option<journal::TornTail>,
    /// Sequence number after the last record read.
    pub next_seq: u64,
    /// Later sessions whose config or rules differ from the first.
    pub session_changes: Vec<SessionChange>,
    /// Wall time of the pass.
    pub elapsed: Duration,
    /// Sequence number of the checkpoint the replay started from: retention
    /// removed the records before it, so the replay restored the state
    /// there and checked the records from it on (`None`: every record from
    /// the first).
    pub started_at: Option<u64>,
}

impl ReplayReport {
    /// Returns the input events fed to the core per second of wall time.
    #[must_use]
    pub fn events_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.counts.inputs as f64 / secs
        } else {
            0.0
        }
    }
}

/// Rebuilds the engine state from the journal in `dir`: every input record,
/// in order, fed to one core built from the first session record (see the
/// module docs). The core's actions are drained (the previous lives executed
/// them) and compared with the journaled outputs; the first difference is
/// reported, not fatal.
///
/// # Errors
/// [`ReplayError`] when the journal cannot be read, is corrupt before its
/// last segment's tail, or its session records are unusable.
pub fn rebuild(dir: &Path) -> Result<Rebuilt, ReplayError> {
    rebuild_with(dir, None)
}

/// As [`rebuild`], with the core's strategies built by `strategies` instead
/// of the configured ones (`None`: the configured ones), as a run with
/// [`RunOptions::strategies`](crate::runtime::RunOptions::strategies) builds
/// them.
///
/// # Errors
/// As [`rebuild`].
pub fn rebuild_with(
    dir: &Path,
    strategies: Option<StrategyFactory>,
) -> Result<Rebuilt, ReplayError> {
    let (pass, _) = pass::Pass::run(
        dir,
        StopAt::End,
        strategies,
        pass::From::NewestCheckpoint,
        &mut |_| {},
    )?;
    Ok(rebuilt_of(pass))
}

fn rebuilt_of(pass: pass::Pass) -> Rebuilt {
    Rebuilt {
        core: pass.core,
        config: pass.config,
        next_seq: pass.next_seq,
        orders: pass.orders,
        in_flight: pass.in_flight.into_values().collect(),
        pending_cancels: pass.pending_cancels.into_values().collect(),
        unjournaled: pass.unjournaled,
        counts: pass.counts,
        session_changes: pass.session_changes,
        first_mismatch: pass.first_mismatch,
        torn: pass.torn,
        first_session_ts: pass.first_session_ts,
        last_market_ts: pass.last_market_ts,
        intents: pass.intents,
        last_operator: pass.last_operator,
        recovery_stops: pass.recovery_stops,
        recovery_sends: pass.recovery_sends,
        booked: pass.booked,
        started_at: pass.started_at,
        checkpoint: pass.end_state,
    }
}

/// As [`rebuild_with`], but reading every record from the journal's first
/// one and ignoring its checkpoints: what a checkpoint rebuild must equal
/// (tests, audits). Fails on a journal retention trimmed.
///
/// # Errors
/// As [`rebuild`]; [`ReplayError::Trimmed`] when the first segments are
/// gone.
pub fn rebuild_from_first_with(
    dir: &Path,
    strategies: Option<StrategyFactory>,
) -> Result<Rebuilt, ReplayError> {
    if let Some((first_seq, _)) = journal::list_segments(dir)
        .map_err(|e| ReplayError::Open(journal::OpenError::Io(e)))?
        .first()
    {
        if *first_seq > 0 {
            return Err(ReplayError::Trimmed {
                dir: dir.to_path_buf(),
                first_seq: *first_seq,
            });
        }
    }
    let (pass, _) = pass::Pass::run(dir, StopAt::End, strategies, pass::From::First, &mut |_| {})?;
    Ok(rebuilt_of(pass))
}

/// Replays the journal in `dir`: feeds the inputs like [`rebuild`] and
/// checks that every action the core produces equals the journaled output
/// (byte-identical encoding, so every field is compared exactly), stopping
/// at the first mismatch. `progress` is called every 65 536 records and at
/// the end.
///
/// # Errors
/// As [`rebuild`]. A mismatch is not an error: it is in the report.
pub fn replay(
    dir: &Path,
    progress: &mut dyn FnMut(&ReplayCounts),
) -> Result<ReplayReport, ReplayError> {
    replay_with(dir, None, progress)
}

/// As [`replay`], with the core's strategies built by `strategies` (see
/// [`rebuild_with`]).
///
/// # Errors
/// As [`rebuild`].
pub fn replay_with(
    dir: &Path,
    strategies: Option<StrategyFactory>,
    progress: &mut dyn FnMut(&ReplayCounts),
) -> Result<ReplayReport, ReplayError> {
    let (pass, elapsed) = pass::Pass::run(
        dir,
        StopAt::FirstMismatch,
        strategies,
        pass::From::First,
        progress,
    )?;
    Ok(ReplayReport {
        counts: pass.counts,
        first_mismatch: pass.first_mismatch,
        torn: pass.torn,
        next_seq: pass.next_seq,
        session_changes: pass.session_changes,
        elapsed,
        started_at: pass.started_at,
    })
}

#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod reload_tests;
#[cfg(test)]
mod tests;
