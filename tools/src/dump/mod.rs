//! `journal-dump`: reads an engine journal (read-only, through the journal crate's
//! [`journal::Reader`]) and prints it as text, JSON lines or CSV, statistics, closed trades,
//! latency percentiles, an export into SQLite or PostgreSQL that can follow a live journal, or
//! a checksum verification.
//!
//! Consumes a journal directory, possibly one a live engine is still appending to; produces
//! text on the given writers and, for `--sqlite` / `--postgres`, database rows ([`export`]).
//! It must never write to the journal, and never stop at a record it cannot decode (such a
//! record is reported with its sequence number and the dump goes on). A corrupt or torn tail
//! ends the scan and is reported on the error writer with its segment file and byte offset.
//!
//! Every command is a function over one scan ([`scan`]) so tests call them directly; the
//! binary only parses arguments ([`cli`]).

pub mod cli;
pub mod export;
pub mod latency;
pub mod list;
pub mod stats;
mod time;
pub mod trades;
pub mod verify;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use time::{parse_time_ns, TimeError};
use trading_engine::journal_schema::{all_type_names, tag_of};

/// How a dump ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every record was read up to a clean end (exit status 0).
    Clean,
    /// A corrupt or torn record stopped the scan (exit status 2).
    Corrupt,
}

impl Outcome {
    /// Returns the process exit status: 0 clean, 2 corruption found.
    #[must_use]
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Corrupt => 2,
        }
    }
}

/// Why a dump failed (exit status 1).
#[derive(Debug)]
pub enum DumpError {
    /// The journal directory does not exist or is not a directory.
    NotADirectory(PathBuf),
    /// The journal could not be opened.
    Open(journal::OpenError),
    /// A segment could not be read (an io error; corruption is an [`Outcome`]).
    Read(journal::ReadError),
    /// `--type` named no known record type.
    UnknownType(String),
    /// `--from` / `--to` is not a time.
    Time(TimeError),
    /// `--from` is not before `--to`.
    EmptyRange,
    /// Writing the output failed.
    Output(io::Error),
    /// The database export failed.
    Export(export::ExportError),
    /// The `--postgres` / `--postgres-url-file` target was refused.
    Target(export::TargetError),
    /// The latency histograms could not be allocated.
    Histogram(trading_engine::metrics::latency::HistogramError),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotADirectory(p) => write!(f, "not a journal directory: {}", p.display()),
            Self::Open(e) => write!(f, "cannot open the journal: {e}"),
            Self::Read(e) => write!(f, "cannot read the journal: {e}"),
            Self::UnknownType(name) => {
                let valid: Vec<&str> = all_type_names().collect();
                write!(
                    f,
                    "unknown record type {name:?}; valid types: {}",
                    valid.join(", ")
                )
            }
            Self::Time(e) => write!(f, "{e}"),
            Self::EmptyRange => write!(f, "--from must be before --to"),
            Self::Output(e) => write!(f, "cannot write the output: {e}"),
            Self::Export(e) => write!(f, "export failed: {e}"),
            Self::Target(e) => write!(f, "{e}"),
            Self::Histogram(e) => write!(f, "cannot allocate the latency histograms: {e}"),
        }
    }
}

impl std::error::Error for DumpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Read(e) => Some(e),
            Self::Time(e) => Some(e),
            Self::Output(e) => Some(e),
            Self::Export(e) => Some(e),
            Self::Target(e) => Some(e),
            Self::Histogram(e) => Some(e),
            Self::NotADirectory(_) | Self::UnknownType(_) | Self::EmptyRange => None,
        }
    }
}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        Self::Output(e)
    }
}

impl From<export::ExportError> for DumpError {
    fn from(e: export::ExportError) -> Self {
        Self::Export(e)
    }
}

/// Which records a command looks at: by type tag and by header time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Tags to keep; empty keeps every record (undecodable ones included).
    pub tags: Vec<u16>,
    /// Keep records with header time at or after this (ns).
    pub from_ns: Option<i64>,
    /// Keep records with header time before this (ns).
    pub to_ns: Option<i64>,
}

impl Filter {
    /// Builds a filter from `--type` names and `--from` / `--to` texts.
    ///
    /// # Errors
    /// [`DumpError::UnknownType`] (listing the valid names), [`DumpError::Time`],
    /// [`DumpError::EmptyRange`].
    pub fn try_new(
        types: &[String],
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, DumpError> {
        let mut tags = Vec::with_capacity(types.len());
        for name in types {
            let tag = tag_of(name.trim()).ok_or_else(|| DumpError::UnknownType(name.clone()))?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let from_ns = from
            .map(parse_time_ns)
            .transpose()
            .map_err(DumpError::Time)?;
        let to_ns = to.map(parse_time_ns).transpose().map_err(DumpError::Time)?;
        if let (Some(f), Some(t)) = (from_ns, to_ns) {
            if f >= t {
                return Err(DumpError::EmptyRange);
            }
        }
        Ok(Self {
            tags,
            from_ns,
            to_ns,
        })
    }

    /// True when the header time `ts_ns` is inside the range.
    #[must_use]
    pub fn time_matches(&self, ts_ns: i64) -> bool {
        self.from_ns.is_none_or(|f| ts_ns >= f) && self.to_ns.is_none_or(|t| ts_ns < t)
    }

    /// True when a record with `tag` and header time `ts_ns` is selected.
    #[must_use]
    pub fn matches(&self, tag: u16, ts_ns: i64) -> bool {
        (self.tags.is_empty() || self.tags.contains(&tag)) && self.time_matches(ts_ns)
    }
}

/// What [`scan`] hands to its callback.
#[derive(Debug, Clone, Copy)]
pub enum Step<'r, 'p> {
    /// The next record.
    Record(&'r journal::Record<'p>),
    /// A followed journal has no new record right now.
    Idle,
}

/// How to follow a live journal after its current end.
#[derive(Debug, Clone, Copy)]
pub struct Follow<'a> {
    /// Set (by SIGINT, SIGTERM or a test) to stop following.
    pub stop: &'a AtomicBool,
    /// Stop after this long in any case (`--follow-timeout`).
    pub timeout: Option<Duration>,
    /// Sleep between polls at the end of the journal.
    pub poll: Duration,
}

/// Checks that `dir` is a directory (the journal reader accepts a missing one, as a journal
/// not created yet; the tool is meant for existing journals).
///
/// # Errors
/// [`DumpError::NotADirectory`].
pub fn check_dir(dir: &Path) -> Result<(), DumpError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(DumpError::NotADirectory(dir.to_path_buf()))
    }
}

/// Reads every record of the journal in `dir` in order and hands it to `each` (with `err`,
/// for problems worth reporting); `each` also gets [`Step::Idle`] whenever a followed journal
/// has no new record (time to flush the output). Without
/// `follow` it stops at the current end; with it, it polls for records a live writer appends
/// until `follow.stop` is set or the timeout passes. A corrupt record ends the scan: it is
/// reported on `err` with its segment and offset, and the outcome is [`Outcome::Corrupt`].
///
/// # Errors
/// [`DumpError`] when the journal cannot be opened or read, or `each` fails.
pub fn scan(
    dir: &Path,
    follow: Option<Follow<'_>>,
    err: &mut dyn Write,
    mut each: impl FnMut(Step<'_, '_>, &mut dyn Write) -> Result<(), DumpError>,
) -> Result<Outcome, DumpError> {
    check_dir(dir)?;
    let mut reader = journal::Reader::open(dir).map_err(DumpError::Open)?;
    let started = Instant::now();
    loop {
        match reader.next() {
            Some(Ok(record)) => each(Step::Record(&record), err)?,
            Some(Err(journal::ReadError::Corrupt {
                segment,
                offset,
                reason,
            })) => {
                writeln!(
                    err,
                    "journal-dump: corrupt record in segment {} at byte offset {offset}: {reason} \
                     (every record before it was read)",
                    segment.display()
                )?;
                return Ok(Outcome::Corrupt);
            }
            Some(Err(e @ journal::ReadError::Io(_))) => return Err(DumpError::Read(e)),
            None => {
                let Some(f) = follow else {
                    return Ok(Outcome::Clean);
                };
                each(Step::Idle, err)?;
                if f.stop.load(Ordering::Relaxed)
                    || f.timeout.is_some_and(|t| started.elapsed() >= t)
                {
                    return Ok(Outcome::Clean);
                }
                std::thread::sleep(f.poll);
            }
        }
    }
}
