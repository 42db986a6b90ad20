//! `[latency]`: stage latency histograms: report period, where to save them
//! and their range and precision.
//!
//! Consumes the `[latency]` TOML table; produces [`LatencyConfig`]. Never
//! records a latency itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Highest trackable latency: one hour, ns.
const MAX_HISTOGRAM_NS: u64 = 3_600_000_000_000;
/// Largest histogram allowed, bytes.
const MAX_HISTOGRAM_BYTES: u64 = 4 << 20;

/// Returns the bytes of counts an HdrHistogram tracking 1..=`max_ns` with
/// `sigfig` digits allocates (its own sizing rule: sub-buckets of the next
/// power of two above 2 x 10^sigfig, buckets doubling until `max_ns`).
fn histogram_bytes(max_ns: u64, sigfig: u8) -> u64 {
    let largest_single = 2 * 10u64.pow(u32::from(sigfig.min(5)));
    let sub_buckets = largest_single.next_power_of_two();
    let mut smallest_untrackable = sub_buckets;
    let mut buckets = 1u64;
    while smallest_untrackable <= max_ns && buckets < 64 {
        smallest_untrackable = smallest_untrackable.saturating_mul(2);
        buckets += 1;
    }
    (buckets + 1) * (sub_buckets / 2) * 8
}

/// The `[latency]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Period of the percentile log report, seconds; 0 disables the timer
    /// (reports still come on request and at shutdown), at most 86400.
    /// Default 60.
    pub report_interval_secs: u64,
    /// Directory where histograms are saved (`.hgrm` text) at each report
    /// and at shutdown; `None` does not save them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hgrm_dir: Option<PathBuf>,
    /// Highest trackable value, ns; larger samples are clamped. In
    /// [2, 3_600_000_000_000] (1 h), default 10 s (10_000_000_000).
    pub histogram_max_ns: u64,
    /// Significant decimal digits kept, 0..=5, and with
    /// `histogram_max_ns` one histogram must fit in 4 MiB (0 to 4 digits
    /// always do, 5 never does); default 3.
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
        issues.int_range(
            "latency.report_interval_secs",
            self.report_interval_secs,
            0,
            86_400,
        );
        // hdrhistogram needs high >= 2 * low with low = 1.
        issues.int_range(
            "latency.histogram_max_ns",
            self.histogram_max_ns,
            2,
            MAX_HISTOGRAM_NS,
        );
        issues.int_range(
            "latency.histogram_sigfig",
            u64::from(self.histogram_sigfig),
            0,
            5,
        );
        let bytes = histogram_bytes(self.histogram_max_ns, self.histogram_sigfig);
        if self.histogram_sigfig <= 5 && bytes > MAX_HISTOGRAM_BYTES {
            issues.push(
                "latency.histogram_sigfig",
                format!(
                    "with latency.histogram_max_ns = {} one histogram needs {bytes} bytes, above {MAX_HISTOGRAM_BYTES} (4 MiB; the engine keeps several per stage): lower the digits or the maximum",
                    self.histogram_max_ns
                ),
            );
        }
    }
}
