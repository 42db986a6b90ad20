//! [`ReplayError`]: why a journal could not be rebuilt or replayed.

use core::fmt;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::core::{CoreError, CoreReloadError};
use crate::journal_schema::DecodeError;

/// Why [`rebuild`](super::rebuild) or [`replay`](super::replay) failed.
///
/// A torn tail (the last segment ends in a partly written record) is not an
/// error: the pass stops there and reports it.
#[derive(Debug)]
pub enum ReplayError {
    /// The journal directory could not be opened or a segment read.
    Open(journal::OpenError),
    /// A segment could not be read (file-system error).
    Read(journal::ReadError),
    /// Corruption, not a torn tail: damage with intact records after it,
    /// or anywhere before the last segment. Its message names the segment,
    /// the offset and the commands that inspect and repair it.
    Corrupt {
        /// Segment file.
        segment: PathBuf,
        /// Byte offset of the bad record in that file.
        offset: u64,
        /// What is wrong.
        reason: journal::Corruption,
    },
    /// A record passed its checksum but its payload does not decode.
    Decode {
        /// Sequence number of the record.
        seq: u64,
        /// Why.
        error: DecodeError,
    },
    /// An input record precedes the first session record.
    InputBeforeSession {
        /// Sequence number of the input.
        seq: u64,
    },
    /// A session record's config text is not a valid configuration.
    SessionConfig {
        /// Sequence number of the session record.
        seq: u64,
        /// Why.
        error: ConfigError,
    },
    /// A session record's instrument rules do not decode.
    SessionRules {
        /// Sequence number of the session record.
        seq: u64,
    },
    /// The core could not be built from the first session's config.
    Core {
        /// Sequence number of the session record.
        seq: u64,
        /// Why.
        error: CoreError,
    },
    /// A reload-config record's text is not a valid configuration.
    ReloadConfig {
        /// Sequence number of the reload-config record.
        seq: u64,
        /// Why.
        error: ConfigError,
    },
    /// The core refused a reload the live engine applied (the replay has
    /// diverged from the run that wrote the journal).
    Reload {
        /// Sequence number of the reload-config record.
        seq: u64,
        /// Why.
        error: CoreReloadError,
    },
    /// A checkpoint the pass must start from cannot be restored (the
    /// journal was trimmed by retention, so the records before it are gone).
    Checkpoint {
        /// Sequence number of the checkpoint.
        seq: u64,
        /// Why.
        error: super::checkpoint::CheckpointError,
    },
    /// Retention removed the journal's first segments and no complete
    /// checkpoint is left to start from.
    Trimmed {
        /// Journal directory.
        dir: PathBuf,
        /// Sequence number of the oldest record left.
        first_seq: u64,
    },
    /// A later session trades other symbols than the first: symbol ids in
    /// its records would mean other instruments.
    SymbolsChanged {
        /// Sequence number of the later session record.
        seq: u64,
        /// Symbols of the first session.
        first: String,
        /// Symbols of the later session.
        now: String,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(e) => write!(f, "cannot open the journal: {e}"),
            Self::Read(e) => write!(f, "cannot read the journal: {e}"),
            Self::Corrupt {
                segment,
                offset,
                reason,
            } => {
                let dir = segment.parent().unwrap_or(segment.as_path()).display();
                write!(
                    f,
                    "journal corrupt: segment {} at byte {offset}: {reason} (not a torn tail: \
                     intact records follow it or it is not at the journal's end); inspect it with \
                     `trading-engine journal verify --journal {dir}` (or `journal-dump --verify {dir}`), \
                     repair it with `trading-engine journal repair --journal {dir}` (keeps every \
                     record before the damage, sets the rest aside, deletes nothing)",
                    segment.display()
                )
            }
            Self::Decode { seq, error } => write!(f, "record {seq} does not decode: {error}"),
            Self::InputBeforeSession { seq } => {
                write!(f, "input record {seq} comes before any session record")
            }
            Self::SessionConfig { seq, error } => {
                write!(f, "session record {seq} holds an invalid config: {error}")
            }
            Self::SessionRules { seq } => {
                write!(f, "session record {seq} holds malformed instrument rules")
            }
            Self::Core { seq, error } => {
                write!(f, "cannot build the core from session record {seq}: {error}")
            }
            Self::ReloadConfig { seq, error } => {
                write!(f, "reload record {seq} holds an invalid config: {error}")
            }
            Self::Reload { seq, error } => write!(
                f,
                "the core refuses the reload of record {seq}, which the engine applied: {error}"
            ),
            Self::Checkpoint { seq, error } => write!(
                f,
                "the checkpoint at sequence {seq} cannot be restored and the records before it were removed by retention: {error}"
            ),
            Self::Trimmed { dir, first_seq } => write!(
                f,
                "journal {} starts at sequence {first_seq} (retention removed the records before it) but holds no complete checkpoint to start from",
                dir.display()
            ),
            Self::SymbolsChanged { seq, first, now } => write!(
                f,
                "session record {seq} trades symbols [{now}] but the journal started with [{first}]; use a new journal directory"
            ),
        }
    }
}

impl std::error::Error for ReplayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Read(e) => Some(e),
            Self::Decode { error, .. } => Some(error),
            Self::Checkpoint { error, .. } => Some(error),
            Self::SessionConfig { error, .. } => Some(error),
            Self::Core { error, .. } => Some(error),
            Self::ReloadConfig { error, .. } => Some(error),
            Self::Reload { error, .. } => Some(error),
            Self::Corrupt { .. }
            | Self::InputBeforeSession { .. }
            | Self::SessionRules { .. }
            | Self::Trimmed { .. }
            | Self::SymbolsChanged { .. } => None,
        }
    }
}
