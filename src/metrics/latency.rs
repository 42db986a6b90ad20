//! The latency stages of the hot path and one bounded histogram per stage.
//!
//! Consumes stage durations in nanoseconds; produces [`StageHistograms`]
//! (one [`Histogram`] per [`Stage`]), created once at start-up with a fixed
//! range. Never resizes a histogram and never allocates while recording: a
//! sample above the range is clamped to the highest trackable value
//! (`latency.histogram_max_ns`), so `record` cannot fail.

use crate::config::LatencyConfig;
pub use crate::metrics::stage::Stage;
use crate::metrics::summary::{LatencySummary, StageSummary};
use hdrhistogram::Histogram;
use std::fmt;

/// Why a set of histograms could not be created or combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistogramError {
    /// The range or precision is not accepted by HdrHistogram
    /// (`max_ns` below 2 or `sigfig` above 5).
    Bounds {
        /// Requested highest trackable value, ns.
        max_ns: u64,
        /// Requested significant digits.
        sigfig: u8,
        /// HdrHistogram's reason.
        reason: String,
    },
    /// Two sets with different ranges were added together.
    Mismatch {
        /// The stage whose histograms differ.
        stage: Stage,
        /// HdrHistogram's reason.
        reason: String,
    },
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bounds {
                max_ns,
                sigfig,
                reason,
            } => write!(
                f,
                "cannot create latency histograms up to {max_ns} ns with {sigfig} significant digits: {reason}"
            ),
            Self::Mismatch { stage, reason } => {
                write!(f, "cannot add {stage} latency histograms: {reason}")
            }
        }
    }
}

impl std::error::Error for HistogramError {}

/// One fixed-range histogram per [`Stage`], values in nanoseconds.
///
/// Invariant: every histogram has the same bounds (1 ns ..= `max_ns`,
/// `sigfig` digits) and auto-resize off, so recording never allocates.
#[derive(Debug, Clone)]
pub struct StageHistograms {
    /// Indexed by [`Stage::index`].
    hists: [Histogram<u64>; Stage::COUNT],
    /// Highest trackable value, ns; larger samples are clamped to it.
    max_ns: u64,
}

impl StageHistograms {
    /// Allocates the histograms for values 1 ..= `max_ns` nanoseconds with
    /// `sigfig` significant decimal digits (3 gives 0.1% resolution).
    ///
    /// # Errors
    /// [`HistogramError::Bounds`] when `max_ns < 2` or `sigfig > 5`.
    pub fn try_new(max_ns: u64, sigfig: u8) -> Result<Self, HistogramError> {
        let one = || {
            Histogram::<u64>::new_with_bounds(1, max_ns, sigfig).map_err(|e| {
                HistogramError::Bounds {
                    max_ns,
                    sigfig,
                    reason: format!("{e:?}"),
                }
            })
        };
        let mut hists = [one()?, one()?, one()?, one()?, one()?];
        for h in &mut hists {
            h.auto(false);
        }
        Ok(Self { hists, max_ns })
    }

    /// Allocates the histograms with the range and precision of `config`.
    ///
    /// # Errors
    /// [`HistogramError::Bounds`] when the configuration was not validated.
    pub fn from_config(config: &LatencyConfig) -> Result<Self, HistogramError> {
        Self::try_new(config.histogram_max_ns, config.histogram_sigfig)
    }

    /// Records one `ns`-long sample of `stage`, clamped to the highest
    /// trackable value. Never allocates, never fails.
    #[inline]
    pub fn record(&mut self, stage: Stage, ns: u64) {
        let h = &mut self.hists[stage.index()];
        // saturating_record clamps to the highest trackable value instead
        // of resizing (auto-resize is off) or failing.
        h.saturating_record(ns.min(self.max_ns));
    }

    /// Returns the histogram of `stage`.
    #[must_use]
    pub fn get(&self, stage: Stage) -> &Histogram<u64> {
        &self.hists[stage.index()]
    }

    /// Returns the highest trackable value, ns.
    #[must_use]
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// Returns the total number of samples over all stages.
    #[must_use]
    pub fn total_count(&self) -> u64 {
        self.hists.iter().map(Histogram::len).sum()
    }

    /// Empties every histogram (keeps the allocation).
    pub fn reset(&mut self) {
        for h in &mut self.hists {
            h.reset();
        }
    }

    /// Adds every sample of `other` to `self`, stage by stage.
    ///
    /// # Errors
    /// [`HistogramError::Mismatch`] when a value of `other` is out of this
    /// set's range (sets created with different bounds).
    pub fn add(&mut self, other: &Self) -> Result<(), HistogramError> {
        for stage in Stage::ALL {
            self.hists[stage.index()]
                .add(&other.hists[stage.index()])
                .map_err(|e| HistogramError::Mismatch {
                    stage,
                    reason: format!("{e:?}"),
                })?;
        }
        Ok(())
    }

    /// Replaces the contents with those of `other` (same bounds).
    ///
    /// # Errors
    /// [`HistogramError::Mismatch`] as for [`StageHistograms::add`].
    pub fn set_to(&mut self, other: &Self) -> Result<(), HistogramError> {
        self.reset();
        self.add(other)
    }

    /// Returns p50/p90/p99/p99.9/max, mean and count of every stage.
    #[must_use]
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            stages: Stage::ALL.map(|stage| StageSummary::of(stage, self.get(stage))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_and_indices_follow_the_pipeline() {
        for (i, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(stage.index(), i);
        }
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "parse",
                "candles_indicators",
                "strategies_risk",
                "enqueue",
                "tick_to_order"
            ]
        );
        assert_eq!(Stage::TickToOrder.to_string(), "tick_to_order");
    }

    #[test]
    fn invalid_bounds_are_rejected_with_the_values_in_the_message() {
        let err = StageHistograms::try_new(1, 3).unwrap_err();
        assert!(matches!(err, HistogramError::Bounds { max_ns: 1, .. }));
        assert!(err.to_string().contains("up to 1 ns"), "{err}");
        let err = StageHistograms::try_new(1_000, 6).unwrap_err();
        assert!(err.to_string().contains("6 significant digits"), "{err}");
    }

    #[test]
    fn samples_above_the_range_are_clamped_not_resized() {
        let mut h = StageHistograms::try_new(1_000_000, 3).unwrap();
        let len_before = h.get(Stage::Parse).distinct_values();
        h.record(Stage::Parse, u64::MAX);
        h.record(Stage::Parse, 5_000_000);
        assert_eq!(h.get(Stage::Parse).len(), 2);
        assert!(h.get(Stage::Parse).max() <= h.get(Stage::Parse).highest_equivalent(1_000_000));
        assert!(h.get(Stage::Parse).max() >= 1_000_000);
        assert_eq!(h.get(Stage::Parse).distinct_values(), len_before);
        assert!(!h.get(Stage::Parse).is_auto_resize());
    }

    #[test]
    fn recording_allocates_nothing() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        let info = allocation_counter::measure(|| {
            for i in 0..10_000u64 {
                for stage in Stage::ALL {
                    h.record(stage, i * 997 + 1);
                }
                h.record(Stage::TickToOrder, u64::MAX);
            }
        });
        assert_eq!(info.count_total, 0, "{info:?}");
        assert_eq!(h.total_count(), 60_000);
    }

    #[test]
    fn add_and_set_to_combine_sets_stage_by_stage() {
        let mut a = StageHistograms::try_new(1_000_000, 3).unwrap();
        let mut b = StageHistograms::try_new(1_000_000, 3).unwrap();
        a.record(Stage::Parse, 100);
        b.record(Stage::Parse, 200);
        b.record(Stage::Enqueue, 50);
        a.add(&b).unwrap();
        assert_eq!(a.get(Stage::Parse).len(), 2);
        assert_eq!(a.get(Stage::Enqueue).len(), 1);
        a.set_to(&b).unwrap();
        assert_eq!(a.get(Stage::Parse).len(), 1);
        assert_eq!(a.get(Stage::Parse).max(), 200);
        a.reset();
        assert_eq!(a.total_count(), 0);
    }

    #[test]
    fn adding_a_wider_set_with_out_of_range_values_is_a_mismatch() {
        let mut narrow = StageHistograms::try_new(1_000, 3).unwrap();
        let mut wide = StageHistograms::try_new(1_000_000_000, 3).unwrap();
        wide.record(Stage::StrategiesRisk, 500_000_000);
        let err = narrow.add(&wide).unwrap_err();
        assert!(matches!(
            err,
            HistogramError::Mismatch {
                stage: Stage::StrategiesRisk,
                ..
            }
        ));
    }

    #[test]
    fn from_config_uses_the_configured_bounds() {
        let config = LatencyConfig {
            histogram_max_ns: 1_000_000,
            histogram_sigfig: 2,
            ..LatencyConfig::default()
        };
        let h = StageHistograms::from_config(&config).unwrap();
        assert_eq!(h.max_ns(), 1_000_000);
        assert_eq!(h.get(Stage::Parse).sigfig(), 2);
        assert_eq!(h.get(Stage::Parse).high(), 1_000_000);
    }
}
