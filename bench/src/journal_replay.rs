//! Journal workload of the `throughput` harness: writes a session journal
//! the way the live engine does (every event fed to the core as an `Input`
//! record, every action it produced as an `Output` record, through
//! `trading_engine::journal_schema`), then reads it back and replays it.
//!
//! Consumes trades and a core factory; produces journal files in a
//! directory and [`ReplayOutcome`] counts. Replay feeds the journaled
//! inputs, in order, to a fresh core and compares every action it produces
//! with the journaled outputs, as replay and crash recovery do. Cold path:
//! runs in a benchmark, never on the engine's hot thread.

use std::fmt;
use std::path::Path;

use journal::{Durability, Reader, Writer, WriterOptions};
use trading_engine::core::{Core, Event};
use trading_engine::journal_schema::{self, DecodeError, JournalRecord};
use trading_engine::types::{TimestampNs, Trade};

/// Why writing or replaying the journal failed.
#[derive(Debug)]
pub enum JournalRunError {
    /// The journal could not be opened.
    Open(journal::OpenError),
    /// An append failed.
    Append(journal::AppendError),
    /// A record could not be read (a corrupt or torn journal).
    Read(journal::ReadError),
    /// A payload did not decode (a corrupt record).
    Decode {
        /// Sequence number of the record.
        seq: u64,
        /// The decoder's reason.
        source: DecodeError,
    },
    /// Closing the writer failed.
    Close(journal::SyncError),
}

impl fmt::Display for JournalRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(e) => write!(f, "cannot open the journal: {e}"),
            Self::Append(e) => write!(f, "cannot append to the journal: {e}"),
            Self::Read(e) => write!(f, "cannot read the journal: {e}"),
            Self::Decode { seq, source } => write!(f, "record {seq} does not decode: {source}"),
            Self::Close(e) => write!(f, "cannot close the journal: {e}"),
        }
    }
}

impl std::error::Error for JournalRunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Append(e) => Some(e),
            Self::Read(e) => Some(e),
            Self::Decode { source, .. } => Some(source),
            Self::Close(e) => Some(e),
        }
    }
}

/// What a write or a replay went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayOutcome {
    /// Journal records (inputs + outputs + others).
    pub records: u64,
    /// `Input` records (events fed to the core).
    pub inputs: u64,
    /// `Output` records (actions).
    pub outputs: u64,
    /// Journaled outputs that differ from what the replayed core produced,
    /// plus actions the core produced that were not journaled.
    pub mismatches: u64,
}

/// Writes a session journal into `dir`: each trade as an `Input` record
/// followed by the `Output` records of the actions `core` produced for it.
/// Returns the counts.
///
/// # Errors
/// [`JournalRunError`] when the journal cannot be opened, appended to or
/// closed.
pub fn write_session(
    dir: &Path,
    core: &mut Core,
    trades: impl IntoIterator<Item = Trade>,
) -> Result<ReplayOutcome, JournalRunError> {
    let options = WriterOptions {
        durability: Durability::None,
        ..WriterOptions::default()
    };
    let mut writer = Writer::open(dir, options).map_err(JournalRunError::Open)?;
    let mut out = ReplayOutcome::default();
    for t in trades {
        let event = Event::Trade(t);
        journal_schema::write(&mut writer, t.exchange_ts, &JournalRecord::Input(event))
            .map_err(JournalRunError::Append)?;
        out.inputs += 1;
        core.on_event(&event);
        while let Some(action) = core.next_action() {
            journal_schema::write(&mut writer, t.exchange_ts, &JournalRecord::Output(action))
                .map_err(JournalRunError::Append)?;
            out.outputs += 1;
        }
    }
    writer.close().map_err(JournalRunError::Close)?;
    out.records = out.inputs + out.outputs;
    Ok(out)
}

/// Reads and decodes every record of the journal in `dir`, in order,
/// handing each to `on_record`. The one reading loop of both passes below.
fn for_each_record(
    dir: &Path,
    on_record: &mut dyn FnMut(JournalRecord<'_>),
) -> Result<(), JournalRunError> {
    let mut reader = Reader::open(dir).map_err(JournalRunError::Open)?;
    while let Some(next) = reader.next() {
        let rec = next.map_err(JournalRunError::Read)?;
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).map_err(|source| {
            JournalRunError::Decode {
                seq: rec.seq,
                source,
            }
        })?;
        on_record(decoded);
    }
    Ok(())
}

/// Reads every record of the journal in `dir` and decodes it, without
/// replaying; returns the counts (no mismatches by construction).
///
/// # Errors
/// [`JournalRunError`] for an unreadable journal or a record that does not
/// decode.
pub fn read_decode(dir: &Path) -> Result<ReplayOutcome, JournalRunError> {
    let mut out = ReplayOutcome::default();
    for_each_record(dir, &mut |decoded| {
        out.records += 1;
        match decoded {
            JournalRecord::Input(_) => out.inputs += 1,
            JournalRecord::Output(_) => out.outputs += 1,
            _ => {}
        }
        std::hint::black_box(&decoded);
    })?;
    Ok(out)
}

/// Replays the journal in `dir` into `core` (a fresh core built like the
/// journaled one): feeds every `Input`, compares every `Output` with the
/// next action the core produced. Returns the counts with the mismatches.
///
/// # Errors
/// As [`read_decode`].
pub fn replay(dir: &Path, core: &mut Core) -> Result<ReplayOutcome, JournalRunError> {
    let mut out = ReplayOutcome::default();
    for_each_record(dir, &mut |decoded| {
        out.records += 1;
        match decoded {
            JournalRecord::Input(event) => {
                out.inputs += 1;
                // Actions produced for the previous input but never journaled.
                while core.next_action().is_some() {
                    out.mismatches += 1;
                }
                core.on_event(&event);
            }
            JournalRecord::Output(action) => {
                out.outputs += 1;
                if core.next_action() != Some(action) {
                    out.mismatches += 1;
                }
            }
            _ => {}
        }
    })?;
    while core.next_action().is_some() {
        out.mismatches += 1;
    }
    Ok(out)
}

/// Returns `trades` repeated until `n` trades, each repetition shifted in
/// time past the previous one (timestamps keep increasing) and renumbered.
#[must_use]
pub fn cycle_trades(trades: &[Trade], n: usize) -> Vec<Trade> {
    let Some((first, last)) = trades.first().zip(trades.last()) else {
        return Vec::new();
    };
    let span = last.exchange_ts.0 - first.exchange_ts.0 + 60_000_000_000;
    (0..n)
        .map(|i| {
            let t = trades[i % trades.len()];
            let cycle = i64::try_from(i / trades.len()).unwrap_or(0);
            Trade {
                trade_id: i as u64,
                exchange_ts: TimestampNs(t.exchange_ts.0 + cycle * span),
                ..t
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hot_path::EveryCandleEntry;
    use trading_engine::config::Config;
    use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId};

    fn core() -> Core {
        let cfg = Config::default();
        let rules = InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(3),
            min_qty: Qty::from_f64(0.001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        };
        let mut strategies = trading_engine::strategy::build(&cfg.strategies);
        strategies.push(Box::new(EveryCandleEntry::default()));
        Core::try_with_strategies(&cfg, &[rules], strategies).unwrap()
    }

    fn trades(n: usize) -> Vec<Trade> {
        (0..n)
            .map(|i| Trade {
                symbol: SymbolId(0),
                trade_id: i as u64,
                price: Price::from_f64(50_000.0 + (i % 37) as f64).unwrap(),
                qty: Qty::from_f64(0.01).unwrap(),
                // One trade every 10 s: a candle closes every 6 trades.
                exchange_ts: TimestampNs(1_582_329_600_000_000_000 + i as i64 * 10_000_000_000),
                aggressor: if i % 2 == 0 { Side::Buy } else { Side::Sell },
            })
            .collect()
    }

    #[test]
    fn replay_of_a_written_session_reproduces_every_output() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_session(dir.path(), &mut core(), trades(300)).unwrap();
        assert_eq!(written.inputs, 300);
        // The scripted entry: at least one signal record, entry and transition.
        assert!(written.outputs >= 3, "{written:?}");
        let read = read_decode(dir.path()).unwrap();
        assert_eq!(read, written);
        let replayed = replay(dir.path(), &mut core()).unwrap();
        assert_eq!(replayed, written);
    }

    #[test]
    fn replay_into_a_core_that_decides_differently_counts_mismatches() {
        let dir = tempfile::tempdir().unwrap();
        write_session(dir.path(), &mut core(), trades(300)).unwrap();
        // A core without the scripted strategy never enters.
        let cfg = Config::default();
        let mut other = Core::try_new(&cfg, &[rules_for_other()]).unwrap();
        let replayed = replay(dir.path(), &mut other).unwrap();
        assert!(replayed.mismatches > 0);
    }

    fn rules_for_other() -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(3),
            min_qty: Qty::from_f64(0.001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        }
    }

    #[test]
    fn cycled_trades_keep_increasing_in_time() {
        let base = trades(5);
        let cycled = cycle_trades(&base, 12);
        assert_eq!(cycled.len(), 12);
        assert!(cycled
            .windows(2)
            .all(|w| w[0].exchange_ts < w[1].exchange_ts));
        assert_eq!(cycled[7].price, base[2].price);
        assert!(cycle_trades(&[], 3).is_empty());
    }
}
