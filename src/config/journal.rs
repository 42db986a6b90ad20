//! `[journal]`: where the append-only journal lives, its segment size, how
//! hard it tries to reach the disk and how much of it is retained.
//!
//! Consumes the `[journal]` TOML table; produces [`JournalConfig`]. Never
//! opens a journal itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// When journal writes are forced to disk (msync).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Never forced; the OS writes back dirty pages when it likes.
    None,
    /// Forced by the I/O thread every `msync_interval_ms`.
    Interval,
    /// Forced after every record (slow; for tests and debugging).
    EveryRecord,
}

/// Smallest allowed segment: one 4 KiB page.
pub const MIN_SEGMENT_SIZE_BYTES: u64 = 4096;

/// Largest allowed segment: 1 GiB. A segment is preallocated and mapped
/// whole, and the next one is prepared while the current one fills, so
/// two segments' worth of disk and address space must always be at hand.
pub const MAX_SEGMENT_SIZE_BYTES: u64 = 1 << 30;

/// Longest msync period, ms (a minute of writes at risk is the most a
/// crash may cost).
pub const MAX_MSYNC_INTERVAL_MS: u64 = 60_000;

/// Longest snapshot period, seconds (one day).
pub const MAX_SNAPSHOT_INTERVAL_SECS: u64 = 86_400;

/// Largest `max_total_bytes`: 1 PiB.
pub const MAX_TOTAL_BYTES_LIMIT: u64 = 1 << 50;

/// Largest `retain_days`: ten years.
pub const MAX_RETAIN_DAYS: u32 = 3650;

/// The `[journal]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// Directory of the journal segments (relative to
    /// `engine.working_dir`); default `journal-data`.
    pub dir: PathBuf,
    /// Size of one preallocated segment, bytes; a multiple of 4096 in
    /// [4096, 1 GiB]; default 64 MiB.
    pub segment_size_bytes: u64,
    /// `none`, `interval` or `every_record`; default `interval`.
    pub durability: Durability,
    /// msync period with `durability = "interval"`, ms; in [1, 60000],
    /// default 1000.
    pub msync_interval_ms: u64,
    /// Period of state snapshot records, seconds; in [1, 86400], default
    /// 300.
    pub snapshot_interval_secs: u64,
    /// Retention size limit, bytes: after each state checkpoint (start-up,
    /// segment rotations, shutdown), whole old segments before it are
    /// removed while the segments hold more; 0 = off (default), else at
    /// least two segments, at most 1 PiB.
    pub max_total_bytes: u64,
    /// Retention age limit, days: after each state checkpoint, whole old
    /// segments before it last written longer ago are removed; 0 = off
    /// (default), at most 3650.
    pub retain_days: u32,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("journal-data"),
            segment_size_bytes: 64 * 1024 * 1024,
            durability: Durability::Interval,
            msync_interval_ms: 1000,
            snapshot_interval_secs: 300,
            max_total_bytes: 0,
            retain_days: 0,
        }
    }
}

impl JournalConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        issues.path("journal.dir", &self.dir);
        if self.segment_size_bytes < MIN_SEGMENT_SIZE_BYTES
            || self.segment_size_bytes > MAX_SEGMENT_SIZE_BYTES
            || self.segment_size_bytes % MIN_SEGMENT_SIZE_BYTES != 0
        {
            issues.push(
                "journal.segment_size_bytes",
                format!(
                    "must be a multiple of 4096 in [4096, {MAX_SEGMENT_SIZE_BYTES}] (1 GiB), got {}",
                    self.segment_size_bytes
                ),
            );
        }
        if self.durability == Durability::Interval {
            issues.int_range(
                "journal.msync_interval_ms",
                self.msync_interval_ms,
                1,
                MAX_MSYNC_INTERVAL_MS,
            );
        }
        issues.int_range(
            "journal.snapshot_interval_secs",
            self.snapshot_interval_secs,
            1,
            MAX_SNAPSHOT_INTERVAL_SECS,
        );
        let min_total = self.segment_size_bytes.saturating_mul(2);
        if self.max_total_bytes != 0
            && !(min_total..=MAX_TOTAL_BYTES_LIMIT).contains(&self.max_total_bytes)
        {
            issues.push(
                "journal.max_total_bytes",
                format!(
                    "must be 0 (off) or between two segments ({min_total}) and {MAX_TOTAL_BYTES_LIMIT}, got {}",
                    self.max_total_bytes
                ),
            );
        }
        if self.retain_days > MAX_RETAIN_DAYS {
            issues.push(
                "journal.retain_days",
                format!(
                    "must be 0 (off) or at most {MAX_RETAIN_DAYS}, got {}",
                    self.retain_days
                ),
            );
        }
    }

    /// Returns the retention limits as the journal crate takes them.
    #[must_use]
    pub fn retention(&self) -> ::journal::RetentionPolicy {
        ::journal::RetentionPolicy {
            max_total_bytes: self.max_total_bytes,
            max_age: std::time::Duration::from_secs(u64::from(self.retain_days) * 86_400),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn issue_keys(cfg: &Config) -> Vec<String> {
        cfg.validate().map_or_else(
            |e| e.issues().iter().map(|i| i.key.clone()).collect(),
            |()| Vec::new(),
        )
    }

    #[test]
    fn retention_is_off_by_default_and_bounded() {
        let mut cfg = Config::default();
        assert!(cfg.journal.retention().is_off());
        cfg.journal.max_total_bytes = cfg.journal.segment_size_bytes;
        cfg.journal.retain_days = super::MAX_RETAIN_DAYS + 1;
        assert_eq!(
            issue_keys(&cfg),
            ["journal.max_total_bytes", "journal.retain_days"]
        );
        cfg.journal.max_total_bytes = super::MAX_TOTAL_BYTES_LIMIT + 1;
        cfg.journal.retain_days = 0;
        assert_eq!(issue_keys(&cfg), ["journal.max_total_bytes"]);
        cfg.journal.max_total_bytes = 2 * cfg.journal.segment_size_bytes;
        cfg.journal.retain_days = 30;
        assert!(issue_keys(&cfg).is_empty());
        let policy = cfg.journal.retention();
        assert_eq!(policy.max_total_bytes, 2 * cfg.journal.segment_size_bytes);
        assert_eq!(policy.max_age.as_secs(), 30 * 86_400);
    }
}
