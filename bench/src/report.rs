//! Latency report of the hdrhistogram harnesses (`tick-to-order`,
//! `wire-to-wire`): percentiles per stage, the printed table and the JSON
//! file.
//!
//! Consumes [`Histogram`]s of nanosecond samples; produces a
//! [`LatencyReport`] whose JSON has exactly the keys
//! `{"frames", "allocations", "stages": {STAGE: {"p50_ns", "p90_ns",
//! "p99_ns", "p999_ns", "max_ns"}}, "tick_to_order": {same keys}}`, plus,
//! when a floor was measured, `"floor": {same keys}` and `"ratio": {"p50",
//! "p90", "p99", "p999", "max"}` (tick-to-order / floor).
//! Never used while measuring: reports are built after the run.

use std::io::{self, Write};
use std::path::Path;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

/// The percentiles reported for one stage, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
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
    /// Largest sample.
    pub max_ns: u64,
}

impl Percentiles {
    /// Returns the percentiles of `hist` (all zero for an empty histogram).
    #[must_use]
    pub fn of(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self::default();
        }
        Self {
            count: hist.len(),
            p50_ns: hist.value_at_quantile(0.50),
            p90_ns: hist.value_at_quantile(0.90),
            p99_ns: hist.value_at_quantile(0.99),
            p999_ns: hist.value_at_quantile(0.999),
            max_ns: hist.max(),
        }
    }

    /// Returns the JSON object with the five `*_ns` keys (the sample count
    /// is not part of the documented schema).
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "p50_ns": self.p50_ns,
            "p90_ns": self.p90_ns,
            "p99_ns": self.p99_ns,
            "p999_ns": self.p999_ns,
            "max_ns": self.max_ns,
        })
    }

    /// Returns one table row: name, count and the percentiles in µs.
    #[must_use]
    pub fn row(&self, name: &str) -> String {
        let us = |v: u64| v as f64 / 1000.0;
        format!(
            "{name:<20} n={:>9}  p50={:>8.3}µs  p90={:>8.3}µs  p99={:>8.3}µs  p99.9={:>8.3}µs  max={:>9.3}µs",
            self.count,
            us(self.p50_ns),
            us(self.p90_ns),
            us(self.p99_ns),
            us(self.p999_ns),
            us(self.max_ns),
        )
    }
}

/// What a latency harness measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyReport {
    /// Frames measured (market frames through the hot path).
    pub frames: u64,
    /// Heap allocations counted on the measured path.
    pub allocations: u64,
    /// Per-stage percentiles, in pipeline order, by stage name.
    pub stages: Vec<(String, Percentiles)>,
    /// End-to-end percentiles (tick to order, or wire to wire).
    pub tick_to_order: Percentiles,
    /// The floor of the end-to-end path measured on the same frames
    /// (inflate + decode only), if measured.
    pub floor: Option<Percentiles>,
}

impl LatencyReport {
    /// Returns the report as the documented JSON object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut stages = Map::new();
        for (name, p) in &self.stages {
            stages.insert(name.clone(), p.to_json());
        }
        let mut out = json!({
            "frames": self.frames,
            "allocations": self.allocations,
            "stages": Value::Object(stages),
            "tick_to_order": self.tick_to_order.to_json(),
        });
        if let (Some(floor), Some(obj)) = (&self.floor, out.as_object_mut()) {
            obj.insert("floor".to_owned(), floor.to_json());
            let r = self.ratios().unwrap_or_default();
            obj.insert(
                "ratio".to_owned(),
                json!({"p50": r[0], "p90": r[1], "p99": r[2], "p999": r[3], "max": r[4]}),
            );
        }
        out
    }

    /// Returns end-to-end / floor for p50, p90, p99, p99.9 and max (`None`
    /// without a floor; a zero floor percentile gives 0).
    #[must_use]
    pub fn ratios(&self) -> Option<[f64; 5]> {
        let f = self.floor?;
        let e = self.tick_to_order;
        let r = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Some([
            r(e.p50_ns, f.p50_ns),
            r(e.p90_ns, f.p90_ns),
            r(e.p99_ns, f.p99_ns),
            r(e.p999_ns, f.p999_ns),
            r(e.max_ns, f.max_ns),
        ])
    }

    /// Writes [`to_json`](Self::to_json), pretty-printed, to `path`.
    ///
    /// # Errors
    /// The error of creating or writing the file.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        serde_json::to_writer_pretty(&mut file, &self.to_json()).map_err(io::Error::other)?;
        file.write_all(b"\n")
    }

    /// Returns the human-readable table: one row per stage, then the
    /// end-to-end row under `end_to_end_name`.
    #[must_use]
    pub fn table(&self, end_to_end_name: &str) -> String {
        let mut out = String::new();
        for (name, p) in &self.stages {
            out.push_str(&p.row(name));
            out.push('\n');
        }
        out.push_str(&self.tick_to_order.row(end_to_end_name));
        out.push('\n');
        if let (Some(floor), Some(r)) = (&self.floor, self.ratios()) {
            out.push_str(&floor.row("floor"));
            out.push('\n');
            out.push_str(&format!(
                "{end_to_end_name} / floor: p50 {:.2}×  p90 {:.2}×  p99 {:.2}×  p99.9 {:.2}×  max {:.2}×\n",
                r[0], r[1], r[2], r[3], r[4]
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn percentiles_of_one_to_thousand_are_the_ranks() {
        let p = Percentiles::of(&hist(1..=1000));
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50_ns, 500);
        assert_eq!(p.p90_ns, 900);
        assert_eq!(p.p99_ns, 990);
        assert_eq!(p.p999_ns, 999);
        assert_eq!(p.max_ns, 1000);
    }

    #[test]
    fn percentiles_of_an_empty_histogram_are_zero() {
        assert_eq!(Percentiles::of(&hist([])), Percentiles::default());
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let p = Percentiles::of(&hist([100, 200]));
        let report = LatencyReport {
            frames: 2,
            allocations: 0,
            stages: vec![("parse".to_owned(), p), ("enqueue".to_owned(), p)],
            tick_to_order: p,
            floor: None,
        };
        let v = report.to_json();
        let obj = v.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["allocations", "frames", "stages", "tick_to_order"]);
        assert_eq!(v["frames"], 2);
        assert_eq!(v["allocations"], 0);
        let stage_keys: Vec<&str> = v["stages"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(stage_keys.len(), 2);
        for stage in [&v["stages"]["parse"], &v["tick_to_order"]] {
            let mut k: Vec<&str> = stage
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            k.sort_unstable();
            assert_eq!(k, ["max_ns", "p50_ns", "p90_ns", "p999_ns", "p99_ns"]);
        }
        assert_eq!(v["tick_to_order"]["max_ns"], 200);
    }

    #[test]
    fn a_floor_adds_its_percentiles_with_the_same_keys_and_the_ratios() {
        let engine = Percentiles::of(&hist([300, 400]));
        let floor = Percentiles::of(&hist([100, 200]));
        let report = LatencyReport {
            frames: 2,
            allocations: 0,
            stages: vec![],
            tick_to_order: engine,
            floor: Some(floor),
        };
        let v = report.to_json();
        let mut k: Vec<&str> = v["floor"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        k.sort_unstable();
        assert_eq!(k, ["max_ns", "p50_ns", "p90_ns", "p999_ns", "p99_ns"]);
        assert_eq!(v["ratio"]["p50"], 3.0);
        assert_eq!(v["ratio"]["max"], 2.0);
        assert!(report
            .table("tick_to_order")
            .contains("tick_to_order / floor: p50 3.00×"));
    }

    #[test]
    fn write_json_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let report = LatencyReport {
            frames: 7,
            allocations: 3,
            stages: Vec::new(),
            tick_to_order: Percentiles::of(&hist([5])),
            floor: None,
        };
        report.write_json(&path).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, report.to_json());
        assert!(report.table("tick_to_order").contains("tick_to_order"));
    }
}
