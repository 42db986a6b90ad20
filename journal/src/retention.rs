//! Retention: removes whole old segments, oldest first, once the journal exceeds a size or age
//! limit, but never a segment that holds a record the caller still needs.
//!
//! Consumes a journal directory, a [`RetentionPolicy`] and the first sequence number the caller
//! must keep (`keep_from_seq`: for example the record a state rebuild starts from); produces a
//! [`RetentionReport`]. Only removes segments from the front, so the remaining journal is
//! contiguous and a reader starts at its new oldest segment; never removes the newest segment
//! (a writer appends to it), a segment holding a record at or after `keep_from_seq`, or any
//! other file (`*.seg.damaged`, `*.seg.orphaned` stay for the operator). Cold path.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::JournalIoError;
use crate::reader::list_segments;
use crate::segment::sync_dir;

/// Size and age limits of a journal; `0` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    /// Remove old segments while the segments together hold more than this many bytes.
    pub max_total_bytes: u64,
    /// Remove old segments last modified longer ago than this.
    pub max_age: Duration,
}

impl RetentionPolicy {
    /// Returns true when neither limit is set.
    #[must_use]
    pub fn is_off(&self) -> bool {
        self.max_total_bytes == 0 && self.max_age.is_zero()
    }
}

/// What [`apply_retention`] removed and what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Segments removed, oldest first.
    pub removed: Vec<PathBuf>,
    /// Bytes the removed segments held.
    pub removed_bytes: u64,
    /// Segments left.
    pub segments_left: usize,
    /// Bytes the segments left hold.
    pub total_bytes: u64,
    /// True when a limit is still exceeded because every segment left is needed (holds a
    /// record at or after `keep_from_seq`, or is the newest).
    pub limit_exceeded: bool,
}

/// Applies `policy` to the journal in `dir` at time `now`: removes the oldest segments while
/// the total size is over `max_total_bytes` or the oldest segment was last modified more than
/// `max_age` before `now`, stopping at the first segment that holds a record at or after
/// `keep_from_seq` (its successor starts after `keep_from_seq`) or is the newest.
///
/// The age of a segment is its file modification time: when the last record was written to
/// it (the page cache writes it back within seconds, or each msync does).
///
/// # Errors
///
/// [`JournalIoError`] when the directory cannot be listed, a segment's size or time read, or a
/// segment removed.
pub fn apply_retention(
    dir: impl AsRef<Path>,
    policy: &RetentionPolicy,
    keep_from_seq: u64,
    now: SystemTime,
) -> Result<RetentionReport, JournalIoError> {
    let dir = dir.as_ref();
    let segments = list_segments(dir)?;
    let mut sizes = Vec::with_capacity(segments.len());
    for (_, path) in &segments {
        let meta = fs::metadata(path).map_err(|e| JournalIoError::new(path, "stat", e))?;
        let modified = meta
            .modified()
            .map_err(|e| JournalIoError::new(path, "read modification time", e))?;
        sizes.push((meta.len(), modified));
    }
    let mut total: u64 = sizes.iter().map(|(len, _)| len).sum();
    let mut report = RetentionReport::default();
    let over_size = |total: u64| policy.max_total_bytes > 0 && total > policy.max_total_bytes;
    let too_old = |modified: SystemTime| {
        !policy.max_age.is_zero()
            && now
                .duration_since(modified)
                .is_ok_and(|age| age > policy.max_age)
    };
    let mut first_kept = 0;
    for (i, (_, path)) in segments.iter().enumerate() {
        let (len, modified) = sizes[i];
        let Some(&(next_first_seq, _)) = segments.get(i + 1) else {
            break;
        };
        let needed = next_first_seq > keep_from_seq;
        if needed || !(over_size(total) || too_old(modified)) {
            break;
        }
        fs::remove_file(path).map_err(|e| JournalIoError::new(path, "remove old segment", e))?;
        log::info!(
            "Journal retention removed {} ({len} bytes, records before sequence {next_first_seq})",
            path.display()
        );
        total -= len;
        report.removed_bytes += len;
        report.removed.push(path.clone());
        first_kept = i + 1;
    }
    if !report.removed.is_empty() {
        sync_dir(dir)?;
    }
    report.segments_left = segments.len() - first_kept;
    report.total_bytes = total;
    report.limit_exceeded = over_size(total)
        || sizes
            .get(first_kept)
            .is_some_and(|(_, modified)| report.segments_left > 1 && too_old(*modified));
    Ok(report)
}
