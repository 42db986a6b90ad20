//! `trading-engine journal verify|repair --journal DIR`: checks a journal
//! and repairs a damaged one.
//!
//! Consumes a journal directory that no engine has open (stop the engine
//! first); `verify` produces a verdict line, `repair` a description of what
//! it did. `repair` keeps every intact record before the first damage,
//! keeps the damaged segment's original bytes (`*.seg.damaged`), renames
//! later segments to `*.seg.orphaned` and journals a `journal_repaired`
//! system record (tag 92); it never deletes a file.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::journal_schema::{self as js, JournalRecord};
use crate::types::TimestampNs;

use super::CliError;

/// `trading-engine journal [--journal DIR] verify|repair`: `--journal` may
/// stand before or after the subcommand.
#[derive(Debug, Args)]
pub struct JournalCli {
    /// Journal directory (required).
    #[arg(long, value_name = "DIR", global = true)]
    pub journal: Option<PathBuf>,
    /// What to do with it.
    #[command(subcommand)]
    pub command: JournalCommand,
}

/// `journal` subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum JournalCommand {
    /// Check every record's checksum and sequence to the journal's end;
    /// exits non-zero naming the segment and byte offset of the first
    /// damage.
    Verify,
    /// Repair a damaged journal (stop the engine first): keep every intact
    /// record before the first damage, keep the damaged segment's original
    /// bytes as *.seg.damaged, rename later segments to *.seg.orphaned
    /// (nothing is deleted) and journal what was done.
    Repair,
}

/// Why a `journal` subcommand failed.
#[derive(Debug)]
pub enum JournalCliError {
    /// No `--journal DIR` was given.
    MissingDir,
    /// The directory does not exist, is not a directory or holds no segment.
    NoJournal(PathBuf),
    /// `verify` found damage (the verdict was printed).
    Damaged {
        /// Segment file.
        segment: PathBuf,
        /// Byte offset of the damage.
        offset: u64,
        /// What is wrong.
        reason: journal::Corruption,
    },
    /// A segment could not be read.
    Read(journal::ReadError),
    /// The repair failed (the message says where; running it again continues).
    Repair(journal::RepairError),
    /// The repaired journal could not be opened to journal the repair.
    Open(journal::OpenError),
    /// The repair record could not be appended or made durable.
    Append(String),
    /// Writing the output failed.
    Output(io::Error),
}

impl fmt::Display for JournalCliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingDir => write!(f, "the journal directory is required: --journal DIR"),
            Self::NoJournal(dir) => write!(f, "no journal segments in {}", dir.display()),
            Self::Damaged {
                segment,
                offset,
                reason,
            } => {
                let dir = segment.parent().unwrap_or(segment.as_path()).display();
                write!(
                    f,
                    "journal damaged: segment {} at byte {offset}: {reason}; repair it with `trading-engine journal repair --journal {dir}`",
                    segment.display()
                )
            }
            Self::Read(e) => write!(f, "cannot read the journal: {e}"),
            Self::Repair(e) => write!(f, "{e}"),
            Self::Open(e) => write!(f, "cannot open the repaired journal: {e}"),
            Self::Append(m) => write!(f, "cannot journal the repair: {m}"),
            Self::Output(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for JournalCliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(e) => Some(e),
            Self::Repair(e) => Some(e),
            Self::Open(e) => Some(e),
            Self::Output(e) => Some(e),
            Self::MissingDir | Self::NoJournal(_) | Self::Damaged { .. } | Self::Append(_) => None,
        }
    }
}

impl From<io::Error> for JournalCliError {
    fn from(e: io::Error) -> Self {
        Self::Output(e)
    }
}

impl JournalCli {
    /// Runs the subcommand.
    ///
    /// # Errors
    /// [`CliError::Journal`].
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let Some(dir) = self.journal else {
            return Err(CliError::Journal(JournalCliError::MissingDir));
        };
        match self.command {
            JournalCommand::Verify => verify(&dir, out),
            JournalCommand::Repair => repair(&dir, &SystemClock::new(), out).map(|_| ()),
        }
        .map_err(CliError::Journal)
    }
}

/// Fails unless `dir` is a directory holding at least one segment file.
fn check_journal_dir(dir: &Path) -> Result<(), JournalCliError> {
    let has_segment = std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                e.file_name()
                    .to_str()
                    .and_then(journal::parse_segment_file_name)
                    .is_some()
            })
        })
        .unwrap_or(false);
    if has_segment {
        Ok(())
    } else {
        Err(JournalCliError::NoJournal(dir.to_path_buf()))
    }
}

/// `journal verify`: prints `OK: ...` or the first damage.
///
/// # Errors
/// [`JournalCliError::Damaged`] for damage, other variants when the
/// journal cannot be read.
pub fn verify(dir: &Path, out: &mut dyn Write) -> Result<(), JournalCliError> {
    check_journal_dir(dir)?;
    match journal::verify(dir) {
        Ok(s) => {
            let span = match (s.first_seq, s.last_seq) {
                (Some(a), Some(b)) => format!("sequences {a}..={b}"),
                _ => "no records".to_owned(),
            };
            writeln!(
                out,
                "OK: {} records in {} segments ({span}), every checksum valid to the end",
                s.records, s.segments
            )?;
            Ok(())
        }
        Err(journal::ReadError::Corrupt {
            segment,
            offset,
            reason,
        }) => {
            writeln!(
                out,
                "CORRUPT: segment {} at byte offset {offset}: {reason}",
                segment.display()
            )?;
            Err(JournalCliError::Damaged {
                segment,
                offset,
                reason,
            })
        }
        Err(e) => Err(JournalCliError::Read(e)),
    }
}

/// `journal repair`: repairs the journal in `dir` (see the module docs),
/// journals a `journal_repaired` record stamped by `clock` and prints what
/// was done. Returns the repair (`None`: nothing needed repair).
///
/// # Errors
/// [`JournalCliError`] when the journal cannot be read, repaired or
/// appended to.
pub fn repair(
    dir: &Path,
    clock: &dyn Clock,
    out: &mut dyn Write,
) -> Result<Option<journal::RepairReport>, JournalCliError> {
    check_journal_dir(dir)?;
    let Some(r) = journal::repair(dir).map_err(JournalCliError::Repair)? else {
        writeln!(
            out,
            "Journal {}: nothing to repair, every record reads cleanly to the end",
            dir.display()
        )?;
        return Ok(None);
    };
    let seq = journal_repair_record(dir, &r, clock.now_ns())?;
    writeln!(out, "Journal {} repaired", dir.display())?;
    writeln!(
        out,
        "  damage: segment {} at byte {}: {}",
        r.segment.display(),
        r.offset,
        r.reason
    )?;
    writeln!(
        out,
        "  kept: {} records (sequences {}..{})",
        r.records_kept(),
        r.first_seq,
        r.next_seq
    )?;
    writeln!(
        out,
        "  original bytes of the damaged segment kept in {}",
        r.damaged_copy.display()
    )?;
    writeln!(
        out,
        "  set aside: {} later segments, {} intact records after the damage",
        r.set_aside.len(),
        r.records_set_aside
    )?;
    for p in &r.set_aside {
        writeln!(out, "    {}", p.display())?;
    }
    writeln!(
        out,
        "  journaled: journal_repaired record at sequence {seq}"
    )?;
    Ok(Some(r))
}

/// Appends the `journal_repaired` record for `r` to the repaired journal
/// (every record made durable) and returns its sequence number.
fn journal_repair_record(
    dir: &Path,
    r: &journal::RepairReport,
    ts: TimestampNs,
) -> Result<u64, JournalCliError> {
    let segment_bytes = usize::try_from(r.segment_bytes)
        .unwrap_or(usize::MAX)
        .max(journal::MIN_SEGMENT_BYTES)
        & !(journal::RECORD_ALIGN - 1);
    let options = journal::WriterOptions {
        segment_bytes,
        durability: journal::Durability::EveryRecord,
        prefault: false,
        precreate_next: false,
    };
    let mut writer = journal::Writer::open(dir, options).map_err(JournalCliError::Open)?;
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let segment = name(&r.segment);
    let damaged_copy = name(&r.damaged_copy);
    let reason = r.reason.to_string();
    let record = JournalRecord::JournalRepaired {
        segment: &segment,
        offset: r.offset,
        reason: &reason,
        first_seq: r.first_seq,
        next_seq: r.next_seq,
        damaged_copy: &damaged_copy,
        segments_set_aside: u32::try_from(r.set_aside.len()).unwrap_or(u32::MAX),
        records_set_aside: r.records_set_aside,
        ts,
    };
    let seq =
        js::write(&mut writer, ts, &record).map_err(|e| JournalCliError::Append(e.to_string()))?;
    writer
        .close()
        .map_err(|e| JournalCliError::Append(e.to_string()))?;
    Ok(seq)
}
