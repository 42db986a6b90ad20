//! Percentile summaries of the stage histograms and their text table.
//!
//! Consumes [`Histogram`]s; produces [`StageSummary`] values (p50, p90,
//! p99, p99.9, max, mean, count in nanoseconds) and the table printed on
//! request, on a timer and at shutdown. Runs on the I/O thread: never on
//! the hot path (formatting allocates).

use crate::metrics::stage::Stage;
use hdrhistogram::Histogram;
use std::fmt;

/// The percentiles of one stage, nanoseconds. All zero when no sample was
/// recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageSummary {
    /// The stage.
    pub stage: Stage,
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest sample (to the histogram's precision).
    pub max_ns: u64,
    /// Arithmetic mean.
    pub mean_ns: f64,
}

impl StageSummary {
    /// Returns the summary of `hist` for `stage`. Each percentile is the
    /// highest value equivalent (to the histogram's precision) to the
    /// sample at that rank, as HdrHistogram reports it.
    #[must_use]
    pub fn of(stage: Stage, hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self::empty(stage);
        }
        Self {
            stage,
            count: hist.len(),
            p50_ns: hist.value_at_quantile(0.50),
            p90_ns: hist.value_at_quantile(0.90),
            p99_ns: hist.value_at_quantile(0.99),
            p999_ns: hist.value_at_quantile(0.999),
            max_ns: hist.max(),
            mean_ns: hist.mean(),
        }
    }

    /// Returns the summary of a stage with no sample.
    #[must_use]
    pub const fn empty(stage: Stage) -> Self {
        Self {
            stage,
            count: 0,
            p50_ns: 0,
            p90_ns: 0,
            p99_ns: 0,
            p999_ns: 0,
            max_ns: 0,
            mean_ns: 0.0,
        }
    }
}

/// The summaries of every stage, indexed by [`Stage::index`].
///
/// `Display` prints a table in microseconds:
///
/// ```text
/// stage                   count        p50        p90        p99      p99.9        max   (µs)
/// parse                 1000000      1.207      1.503      2.415      7.711     41.215
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    /// One entry per stage, in [`Stage::ALL`] order.
    pub stages: [StageSummary; Stage::COUNT],
}

impl LatencySummary {
    /// Returns a summary with no sample in any stage.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            stages: [
                StageSummary::empty(Stage::Parse),
                StageSummary::empty(Stage::CandlesIndicators),
                StageSummary::empty(Stage::StrategiesRisk),
                StageSummary::empty(Stage::Enqueue),
                StageSummary::empty(Stage::TickToOrder),
            ],
        }
    }

    /// Returns the summary of `stage`.
    #[must_use]
    pub fn get(&self, stage: Stage) -> &StageSummary {
        &self.stages[stage.index()]
    }
}

impl Default for LatencySummary {
    fn default() -> Self {
        Self::empty()
    }
}

/// Formats nanoseconds as microseconds with three decimals.
fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000, ns % 1_000)
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}   (µs)",
            "stage", "count", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                s.stage.name(),
                s.count,
                us(s.p50_ns),
                us(s.p90_ns),
                us(s.p99_ns),
                us(s.p999_ns),
                us(s.max_ns)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::latency::StageHistograms;

    /// Returns true when `got` is within the 3-digit precision of `want`.
    fn close(got: u64, want: u64) -> bool {
        got.abs_diff(want) * 1_000 <= want.max(1)
    }

    #[test]
    fn uniform_distribution_percentiles_are_the_ranks() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        // 1..=100_000 ns, each once: p50 = 50_000, p99.9 = 99_900.
        for v in 1..=100_000u64 {
            h.record(Stage::Parse, v);
        }
        let s = *h.summary().get(Stage::Parse);
        assert_eq!(s.count, 100_000);
        assert!(close(s.p50_ns, 50_000), "{s:?}");
        assert!(close(s.p90_ns, 90_000), "{s:?}");
        assert!(close(s.p99_ns, 99_000), "{s:?}");
        assert!(close(s.p999_ns, 99_900), "{s:?}");
        assert!(close(s.max_ns, 100_000), "{s:?}");
        assert!((s.mean_ns - 50_000.5).abs() < 50.0, "{s:?}");
    }

    #[test]
    fn bimodal_distribution_puts_the_tail_in_the_high_percentiles() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        // 98.5% at 1 µs, 1.5% at 1 ms: p50 and p90 at 1 µs, p99 and above at 1 ms.
        for _ in 0..985 {
            h.record(Stage::TickToOrder, 1_000);
        }
        for _ in 0..15 {
            h.record(Stage::TickToOrder, 1_000_000);
        }
        let s = *h.summary().get(Stage::TickToOrder);
        assert!(close(s.p50_ns, 1_000), "{s:?}");
        assert!(close(s.p90_ns, 1_000), "{s:?}");
        assert!(close(s.p99_ns, 1_000_000), "{s:?}");
        assert!(close(s.p999_ns, 1_000_000), "{s:?}");
        assert!(close(s.max_ns, 1_000_000), "{s:?}");
        // Other stages stay empty.
        assert_eq!(
            *h.summary().get(Stage::Parse),
            StageSummary::empty(Stage::Parse)
        );
    }

    #[test]
    fn constant_samples_give_equal_percentiles() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        for _ in 0..1_000 {
            h.record(Stage::Enqueue, 42);
        }
        let s = *h.summary().get(Stage::Enqueue);
        assert_eq!(
            (s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns, s.max_ns),
            (42, 42, 42, 42, 42)
        );
    }

    #[test]
    fn table_has_a_header_and_one_row_per_stage_in_microseconds() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        h.record(Stage::Parse, 1_207);
        let table = h.summary().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + Stage::COUNT, "{table}");
        assert!(lines[0].starts_with("stage"), "{table}");
        assert!(lines[0].contains("p99.9"), "{table}");
        let parse: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            parse,
            ["parse", "1", "1.207", "1.207", "1.207", "1.207", "1.207"]
        );
        assert!(lines[5].starts_with("tick_to_order"), "{table}");
        assert!(lines[5]
            .split_whitespace()
            .skip(1)
            .all(|c| c == "0" || c == "0.000"));
    }
}
