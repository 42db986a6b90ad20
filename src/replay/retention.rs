//! Journal retention for a restarting engine: which segments the rebuild
//! still needs, and the configured limits applied to the rest.
//!
//! Consumes a journal directory and its `[journal]` config; produces the
//! journal crate's [`RetentionReport`] after removing whole old segments
//! the rebuild no longer needs. The rebuild ([`super::rebuild`]) feeds every
//! input from the journal's first session record into one core (there is
//! no state snapshot it could start from), so it needs every record from
//! the oldest segment's first one: no segment of a journal is ever removed
//! here, and a limit the journal exceeds is logged at WARN with what to do.
//! Never removes a `*.seg.damaged` or `*.seg.orphaned` file. Cold path
//! (start-up).

use std::path::Path;
use std::time::SystemTime;

use journal::{JournalIoError, RetentionReport};

use crate::config::JournalConfig;

/// Returns the first sequence number the rebuild of the journal in `dir`
/// reads: the first record of its oldest segment (0 for a journal that
/// starts empty).
///
/// # Errors
/// [`journal::OpenError`] when the directory cannot be listed or the oldest
/// segment mapped.
pub fn rebuild_start_seq(dir: &Path) -> Result<u64, journal::OpenError> {
    journal::Reader::open(dir).map(|r| r.next_seq())
}

/// Applies `cfg`'s retention limits (`max_total_bytes`, `retain_days`) to
/// the journal in `dir` at `now`, keeping every segment from the one the
/// rebuild starts in ([`rebuild_start_seq`]); logs what was removed and,
/// at WARN, a limit still exceeded. Does nothing when both limits are off.
///
/// # Errors
/// [`JournalIoError`] when the directory cannot be read or a segment not
/// removed.
pub fn enforce(
    dir: &Path,
    cfg: &JournalConfig,
    now: SystemTime,
) -> Result<RetentionReport, JournalIoError> {
    let policy = cfg.retention();
    if policy.is_off() {
        return Ok(RetentionReport::default());
    }
    let keep_from = rebuild_start_seq(dir).map_err(|e| match e {
        journal::OpenError::Io(e) => e,
        other => JournalIoError::new(dir, "open reader", std::io::Error::other(other.to_string())),
    })?;
    let report = journal::apply_retention(dir, &policy, keep_from, now)?;
    if !report.removed.is_empty() {
        log::info!(
            "Journal retention removed {} old segments ({} bytes) from {}",
            report.removed.len(),
            report.removed_bytes,
            dir.display()
        );
    }
    if report.limit_exceeded {
        log::warn!(
            "Journal {} holds {} bytes in {} segments, over journal.max_total_bytes = {} or journal.retain_days = {}, but every segment is needed: the crash-recovery rebuild replays every record from sequence {keep_from}; archive the directory and start a new journal directory while flat",
            dir.display(),
            report.total_bytes,
            report.segments_left,
            cfg.max_total_bytes,
            cfg.retain_days
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn no_segment_is_removed_because_the_rebuild_needs_every_record() {
        let (dir, _core, _rows) = super::super::tests::journal_fixture();
        let before = journal::verify(dir.path()).unwrap();
        assert!(before.segments >= 2, "{before:?}");
        let mut cfg = crate::config::Config::default().journal;
        cfg.max_total_bytes = 1;
        cfg.retain_days = 1;
        let later = SystemTime::now() + Duration::from_secs(10 * 86_400);
        let report = enforce(dir.path(), &cfg, later).unwrap();
        assert!(report.removed.is_empty());
        assert!(report.limit_exceeded);
        assert_eq!(report.segments_left, before.segments);
        assert_eq!(rebuild_start_seq(dir.path()).unwrap(), 0);
        assert_eq!(journal::verify(dir.path()).unwrap(), before);
        // Off: nothing looked at.
        let off = enforce(dir.path(), &crate::config::Config::default().journal, later).unwrap();
        assert_eq!(off, RetentionReport::default());
    }
}
