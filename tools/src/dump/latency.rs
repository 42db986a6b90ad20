//! `--latency`: stage latency percentiles rebuilt from the journaled per-frame timings.
//!
//! Consumes `frame_timing` records (one per market frame: parse, candles + indicators,
//! strategies + risk, enqueue, tick-to-order, nanoseconds; 0 means the stage did not run and is
//! not recorded) and `latency` summary records; produces one HdrHistogram per stage (the
//! engine's own [`StageHistograms`], 1 ns ..= 60 s, 3 significant digits) and their
//! p50/p90/p99/p99.9/max/count, plus the last journaled summary line of each stage. Never
//! writes the journal; samples beyond the range are clamped, never dropped.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use trading_engine::journal_schema::{format_ts, JournalRecord, LatencyLine};
use trading_engine::metrics::latency::{Stage, StageHistograms};
use trading_engine::metrics::summary::LatencySummary;

use super::list::Format;
use super::{scan, DumpError, Filter, Outcome, Step};

/// Highest latency recorded exactly (larger samples are clamped): one minute.
const MAX_NS: u64 = 60_000_000_000;

/// The rebuilt percentiles and the journal's own summary lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyReport {
    /// `frame_timing` records read.
    pub frames: u64,
    /// Percentiles per stage, from the frame timings.
    pub summary: LatencySummary,
    /// The last `latency` record of each stage (in [`Stage::ALL`] order, when present).
    pub journaled: Vec<LatencyLine>,
}

/// Builds the latency report of the records of `dir` inside the time range of `filter`.
///
/// # Errors
/// [`DumpError`] when the journal cannot be read.
pub fn compute(
    dir: &Path,
    filter: &Filter,
    err: &mut dyn Write,
) -> Result<(LatencyReport, Outcome), DumpError> {
    let mut hists = StageHistograms::try_new(MAX_NS, 3).map_err(DumpError::Histogram)?;
    let mut frames = 0u64;
    let mut last: [Option<LatencyLine>; Stage::COUNT] = [None; Stage::COUNT];
    let outcome = scan(dir, None, err, |step, _| {
        let Step::Record(r) = step else {
            return Ok(());
        };
        if !filter.time_matches(r.ts_ns) {
            return Ok(());
        }
        match JournalRecord::decode(r.type_tag, r.payload) {
            Ok(JournalRecord::FrameTiming(t)) => {
                frames += 1;
                for (stage, ns) in [
                    (Stage::Parse, t.parse_ns),
                    (Stage::CandlesIndicators, t.candles_ns),
                    (Stage::StrategiesRisk, t.strategies_ns),
                    (Stage::Enqueue, t.enqueue_ns),
                    (Stage::TickToOrder, t.tick_to_order_ns),
                ] {
                    if ns > 0 {
                        hists.record(stage, u64::from(ns));
                    }
                }
            }
            Ok(JournalRecord::Latency(l)) => last[l.stage.index()] = Some(l),
            _ => {}
        }
        Ok(())
    })?;
    Ok((
        LatencyReport {
            frames,
            summary: hists.summary(),
            journaled: last.into_iter().flatten().collect(),
        },
        outcome,
    ))
}

impl LatencyReport {
    /// Renders the report as text (a table in microseconds) or one JSON object (nanoseconds).
    #[must_use]
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json(),
            Format::Text | Format::Csv => self.to_text(),
        }
    }

    fn to_text(&self) -> String {
        let mut s = format!(
            "{} frame timings; percentiles from the journaled timings:\n{}",
            self.frames, self.summary
        );
        if !self.journaled.is_empty() {
            s.push_str("last journaled latency summary (ns):\n");
            for l in &self.journaled {
                s.push_str(&format!(
                    "  {:<20} count={} p50={} p90={} p99={} p99.9={} max={} at {}\n",
                    l.stage.name(),
                    l.count,
                    l.p50,
                    l.p90,
                    l.p99,
                    l.p999,
                    l.max,
                    format_ts(l.ts)
                ));
            }
        }
        s
    }

    fn to_json(&self) -> String {
        let stage = |s: &trading_engine::metrics::summary::StageSummary| {
            json!({
                "count": s.count,
                "p50_ns": s.p50_ns,
                "p90_ns": s.p90_ns,
                "p99_ns": s.p99_ns,
                "p999_ns": s.p999_ns,
                "max_ns": s.max_ns,
            })
        };
        let stages: serde_json::Map<String, serde_json::Value> = self
            .summary
            .stages
            .iter()
            .map(|s| (s.stage.name().to_owned(), stage(s)))
            .collect();
        let journaled: serde_json::Map<String, serde_json::Value> = self
            .journaled
            .iter()
            .map(|l| {
                (
                    l.stage.name().to_owned(),
                    json!({
                        "count": l.count, "p50_ns": l.p50, "p90_ns": l.p90, "p99_ns": l.p99,
                        "p999_ns": l.p999, "max_ns": l.max, "ts_ns": l.ts.0,
                    }),
                )
            })
            .collect();
        json!({ "frames": self.frames, "stages": stages, "journaled": journaled }).to_string()
    }
}
