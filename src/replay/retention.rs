//! Journal retention for a running engine: a state checkpoint journaled and
//! made durable, then the configured limits applied to the segments before
//! it.
//!
//! Consumes a journal writer, the state a rebuild ended with
//! ([`super::Rebuilt::checkpoint`]) and the `[journal]` config; produces the
//! checkpoint's sequence number and the journal crate's
//! [`RetentionReport`] after removing whole old segments, oldest first,
//! while the journal is over `max_total_bytes` or its oldest segment older
//! than `retain_days`. A rebuild starts from the newest complete checkpoint
//! ([`super::checkpoint`]), so only segments whose records all come before
//! the checkpoint just written are removable: never the segment holding it,
//! nothing after it, never the newest segment, never a `*.seg.damaged` or
//! `*.seg.orphaned` file. What was removed is journaled (a
//! `journal_retention` record) and logged. Cold path (start-up, shutdown).

use core::fmt;
use std::path::Path;
use std::time::SystemTime;

use journal::{JournalIoError, RetentionReport};

use super::checkpoint::write_checkpoint;
use crate::config::JournalConfig;
use crate::journal_schema::{self as schema, JournalRecord};
use crate::types::TimestampNs;

/// Why a checkpoint could not be journaled or retention applied.
#[derive(Debug)]
pub enum RetentionError {
    /// A checkpoint or retention record could not be appended.
    Append(journal::AppendError),
    /// The checkpoint could not be made durable before old segments go.
    Sync(journal::SyncError),
    /// The directory could not be read or a segment not removed.
    Io(JournalIoError),
}

impl fmt::Display for RetentionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Append(e) => write!(f, "cannot journal the checkpoint: {e}"),
            Self::Sync(e) => write!(f, "cannot make the checkpoint durable: {e}"),
            Self::Io(e) => write!(f, "cannot apply journal retention: {e}"),
        }
    }
}

impl std::error::Error for RetentionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Append(e) => Some(e),
            Self::Sync(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

/// What [`checkpoint_and_trim`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trimmed {
    /// Sequence number of the checkpoint written (its first part).
    pub checkpoint_seq: u64,
    /// Bytes of the checkpoint's state.
    pub state_bytes: usize,
    /// What retention removed (empty when the limits are off or met).
    pub report: RetentionReport,
}

/// Journals `state` (the engine state after every record before the
/// writer's next sequence number) as a checkpoint stamped `ts`, makes it
/// durable, then applies `cfg`'s retention limits at `now` to the segments
/// before it and journals a `journal_retention` record when any was
/// removed. Logs what was removed and, at WARN, a limit still exceeded.
///
/// # Errors
/// [`RetentionError`] when a record cannot be appended, the checkpoint not
/// made durable, or a segment not removed.
pub fn checkpoint_and_trim(
    writer: &mut journal::Writer,
    state: &[u8],
    cfg: &JournalConfig,
    ts: TimestampNs,
    now: SystemTime,
) -> Result<Trimmed, RetentionError> {
    let checkpoint_seq = writer.next_seq();
    write_checkpoint(writer, state, checkpoint_seq, ts).map_err(RetentionError::Append)?;
    let mut trimmed = Trimmed {
        checkpoint_seq,
        state_bytes: state.len(),
        report: RetentionReport::default(),
    };
    let policy = cfg.retention();
    if policy.is_off() {
        return Ok(trimmed);
    }
    // The checkpoint must be on disk before the records it replaces go.
    writer.sync().map_err(RetentionError::Sync)?;
    let dir = writer.dir().to_path_buf();
    let report = enforce(&dir, cfg, checkpoint_seq, now).map_err(RetentionError::Io)?;
    if !report.removed.is_empty() {
        let first_seq_kept = journal::list_segments(&dir)
            .map_err(RetentionError::Io)?
            .first()
            .map_or(checkpoint_seq, |(s, _)| *s);
        let record = JournalRecord::JournalRetention {
            segments_removed: u32::try_from(report.removed.len()).unwrap_or(u32::MAX),
            bytes_removed: report.removed_bytes,
            first_seq_kept,
            checkpoint_seq,
            segments_left: u32::try_from(report.segments_left).unwrap_or(u32::MAX),
            bytes_left: report.total_bytes,
            ts,
        };
        schema::write(writer, ts, &record).map_err(RetentionError::Append)?;
    }
    trimmed.report = report;
    Ok(trimmed)
}

/// Journals the state `rebuilt` ended with as a checkpoint (when it ended
/// exactly where `writer` continues) and applies the retention limits of
/// `cfg` to the segments before it. A failure is logged, not fatal: the
/// journal stays complete and the next rebuild reads more of it.
pub fn journal_rebuilt_state(
    writer: &mut journal::Writer,
    rebuilt: &super::Rebuilt,
    cfg: &JournalConfig,
    ts: TimestampNs,
) {
    let Some(state) = rebuilt.checkpoint.as_deref() else {
        return;
    };
    if rebuilt.next_seq != writer.next_seq() {
        log::warn!(
            "No checkpoint: the rebuild ended at sequence {} but the journal continues at {}",
            rebuilt.next_seq,
            writer.next_seq()
        );
        return;
    }
    let now = std::time::SystemTime::now();
    match checkpoint_and_trim(writer, state, cfg, ts, now) {
        Ok(t) => log::info!(
            "Journal checkpoint at sequence {} ({} bytes of state); retention removed {} segments",
            t.checkpoint_seq,
            t.state_bytes,
            t.report.removed.len()
        ),
        Err(e) => log::warn!("Journal checkpoint or retention failed: {e}"),
    }
}

/// Applies `cfg`'s retention limits (`max_total_bytes`, `retain_days`) to
/// the journal in `dir` at `now`, keeping every segment from the one
/// holding `keep_from_seq` (a durable checkpoint's first part); logs what
/// was removed and, at WARN, a limit still exceeded. Does nothing when both
/// limits are off.
///
/// # Errors
/// [`JournalIoError`] when the directory cannot be read or a segment not
/// removed.
pub fn enforce(
    dir: &Path,
    cfg: &JournalConfig,
    keep_from_seq: u64,
    now: SystemTime,
) -> Result<RetentionReport, JournalIoError> {
    let policy = cfg.retention();
    if policy.is_off() {
        return Ok(RetentionReport::default());
    }
    let report = journal::apply_retention(dir, &policy, keep_from_seq, now)?;
    if !report.removed.is_empty() {
        log::info!(
            "Journal retention removed {} old segments ({} bytes) from {}: the rebuild starts at the checkpoint at sequence {keep_from_seq}",
            report.removed.len(),
            report.removed_bytes,
            dir.display()
        );
    }
    if report.limit_exceeded {
        log::warn!(
            "Journal {} holds {} bytes in {} segments, over journal.max_total_bytes = {} or journal.retain_days = {}, but the segments left are needed: they hold the checkpoint at sequence {keep_from_seq} the rebuild starts from, or the records after it",
            dir.display(),
            report.total_bytes,
            report.segments_left,
            cfg.max_total_bytes,
            cfg.retain_days
        );
    }
    Ok(report)
}
