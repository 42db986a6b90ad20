//! `[latency]`: stage latency histograms: report period, where to save them
//! and their range and precision.
//!
//! Consumes the `[latency]` TOML table; produces [`LatencyConfig`]. Never
//! records a latency itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `[latency]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Period of the percentile log report, seconds; 0 disables the timer
    /// (reports still come on request and at shutdown). Default 60.
    pub report_interval_secs: u64,
    /// Directory where histograms are saved (`.hgrm` text) at each report
    /// and at shutdown; `None` does not save them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hgrm_dir: Option<PathBuf>,
    /// Highest trackable value, ns; larger samples are clamped. At least 2,
    /// default 10 s (10_000_000_000).
    pub histogram_max_ns: u64,
    /// Significant decimal digits kept, 0..=5; default 3.
    pub histogram_sigfig: u8,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            report_interval_secs: 60,
            hgrm_dir: None,
            histogram_max_ns: 10_000_000_000,
            histogram_sigfig: 3,
        }
    }
}

impl LatencyConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        if let Some(dir) = &self.hgrm_dir {
            issues.path("latency.hgrm_dir", dir);
        }
        // hdrhistogram needs high >= 2 * low with low = 1.
        if self.histogram_max_ns < 2 {
            issues.push(
                "latency.histogram_max_ns",
                format!("must be at least 2, got {}", self.histogram_max_ns),
            );
        }
        issues.int_range(
            "latency.histogram_sigfig",
            u64::from(self.histogram_sigfig),
            0,
            5,
        );
    }
}
