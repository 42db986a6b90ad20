//! `[journal]`: where the append-only journal lives, its segment size and
//! how hard it tries to reach the disk.
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
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("journal-data"),
            segment_size_bytes: 64 * 1024 * 1024,
            durability: Durability::Interval,
            msync_interval_ms: 1000,
            snapshot_interval_secs: 300,
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
    }
}
