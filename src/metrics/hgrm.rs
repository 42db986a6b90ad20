//! Export of histograms in HdrHistogram's percentile-distribution text
//! format (`.hgrm`), as Java's `Histogram.outputPercentileDistribution`
//! writes it, so that the standard plotters and `HistogramLogAnalyzer`
//! read our files.
//!
//! Consumes a [`Histogram`] (values in nanoseconds); produces the text:
//! a header line, one row per percentile tick (value scaled by the unit
//! ratio, percentile as a fraction, cumulative count, `1/(1-percentile)`;
//! the last row, at percentile 1, has no fourth column) and three footer
//! lines with mean, standard deviation, max, total count, bucket and
//! sub-bucket counts. The hdrhistogram crate has no text serializer (its
//! `serialization` feature is the binary V2 format), so the text is
//! written here from its quantile iterator. Runs on the I/O thread only.

use crate::metrics::latency::{Stage, StageHistograms};
use hdrhistogram::Histogram;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Percentile ticks per half distance to 100%, Java's default.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Unit ratio for files in microseconds: values are recorded in ns.
pub const UNIT_RATIO_US: f64 = 1_000.0;

/// Returns the sub-bucket count HdrHistogram uses for `sigfig` digits
/// (with lowest discernible value 1): the next power of two at or above
/// `2 * 10^sigfig`. The crate keeps it private.
#[must_use]
pub fn sub_bucket_count(sigfig: u8) -> u64 {
    let largest_single_unit = 2 * 10u64.pow(u32::from(sigfig));
    largest_single_unit.next_power_of_two()
}

/// Writes `hist` in the `.hgrm` percentile-distribution format, dividing
/// values by `unit_ratio` (1.0 keeps nanoseconds, [`UNIT_RATIO_US`]
/// writes microseconds), with `ticks_per_half_distance` rows per halving
/// of the distance to 100% ([`TICKS_PER_HALF_DISTANCE`]).
///
/// An empty histogram gives the header and footer with no row.
///
/// # Errors
/// The error of `out`.
///
/// # Panics
/// Panics (inside hdrhistogram) when `ticks_per_half_distance` is 0.
pub fn write_hgrm(
    hist: &Histogram<u64>,
    unit_ratio: f64,
    ticks_per_half_distance: u32,
    out: &mut dyn Write,
) -> io::Result<()> {
    let digits = usize::from(hist.sigfig());
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    if !hist.is_empty() {
        let mut total = 0u64;
        for v in hist.iter_quantiles(ticks_per_half_distance) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / unit_ratio;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:12.digits$} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:12.digits$} {q:2.12} {total:10}")?;
            }
        }
    }
    let (mean, stdev, max) = if hist.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            hist.mean() / unit_ratio,
            hist.stdev() / unit_ratio,
            hist.max() as f64 / unit_ratio,
        )
    };
    writeln!(
        out,
        "#[Mean    = {mean:12.digits$}, StdDeviation   = {stdev:12.digits$}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:12.digits$}, Total count    = {:12}]",
        hist.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        hist.buckets(),
        sub_bucket_count(hist.sigfig())
    )
}

/// Why saving histograms to files failed.
#[derive(Debug)]
pub struct SaveHgrmError {
    /// The file being written.
    pub path: PathBuf,
    /// The operating-system error.
    pub source: io::Error,
}

impl fmt::Display for SaveHgrmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot write latency histogram {}: {}",
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for SaveHgrmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl StageHistograms {
    /// Writes one `.hgrm` file per stage into `dir` (which must exist), in
    /// microseconds: `<dir>/<prefix><stage>.hgrm`, e.g.
    /// `shutdown-tick_to_order.hgrm`. Returns the paths written.
    ///
    /// # Errors
    /// [`SaveHgrmError`] naming the file that could not be created or
    /// written.
    pub fn save_hgrm(&self, dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, SaveHgrmError> {
        let mut paths = Vec::with_capacity(Stage::COUNT);
        for stage in Stage::ALL {
            let path = dir.join(format!("{prefix}{}.hgrm", stage.name()));
            let write = || -> io::Result<()> {
                let mut file = io::BufWriter::new(std::fs::File::create(&path)?);
                write_hgrm(
                    self.get(stage),
                    UNIT_RATIO_US,
                    TICKS_PER_HALF_DISTANCE,
                    &mut file,
                )?;
                file.flush()
            };
            write().map_err(|source| SaveHgrmError {
                path: path.clone(),
                source,
            })?;
            paths.push(path);
        }
        Ok(paths)
    }
}

#[cfg(test)]
#[path = "hgrm_tests.rs"]
mod tests;
