//! Tests of the `.hgrm` writer: the text is parsed back by a small parser
//! and compared with the histogram it came from.

use super::*;

/// One parsed percentile row.
#[derive(Debug)]
struct Row {
    value: f64,
    percentile: f64,
    total: u64,
    inverse: Option<f64>,
}

/// A parsed `.hgrm` file.
#[derive(Debug)]
struct Parsed {
    rows: Vec<Row>,
    mean: f64,
    stdev: f64,
    max: f64,
    count: u64,
    buckets: u64,
    sub_buckets: u64,
}

/// Returns the two `name = value` numbers of a `#[a = x, b = y]` footer.
fn footer(line: &str, first: &str, second: &str) -> (String, String) {
    let inner = line
        .strip_prefix("#[")
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not a footer: {line:?}"));
    let (a, b) = inner.split_once(',').unwrap();
    let (ka, va) = a.split_once('=').unwrap();
    let (kb, vb) = b.split_once('=').unwrap();
    assert_eq!(ka.trim(), first, "{line:?}");
    assert_eq!(kb.trim(), second, "{line:?}");
    (va.trim().to_owned(), vb.trim().to_owned())
}

/// Parses the percentile-distribution text, asserting its layout.
fn parse(text: &str) -> Parsed {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    );
    assert_eq!(lines.next(), Some(""), "a blank line follows the header");
    let mut rows = Vec::new();
    let mut line = lines.next().unwrap();
    while !line.starts_with("#[") {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols.len() == 3 || cols.len() == 4, "{line:?}");
        rows.push(Row {
            value: cols[0].parse().unwrap(),
            percentile: cols[1].parse().unwrap(),
            total: cols[2].parse().unwrap(),
            inverse: cols.get(3).map(|c| c.parse().unwrap()),
        });
        line = lines.next().unwrap();
    }
    let (mean, stdev) = footer(line, "Mean", "StdDeviation");
    let (max, count) = footer(lines.next().unwrap(), "Max", "Total count");
    let (buckets, sub_buckets) = footer(lines.next().unwrap(), "Buckets", "SubBuckets");
    assert_eq!(lines.next(), None);
    Parsed {
        rows,
        mean: mean.parse().unwrap(),
        stdev: stdev.parse().unwrap(),
        max: max.parse().unwrap(),
        count: count.parse().unwrap(),
        buckets: buckets.parse().unwrap(),
        sub_buckets: sub_buckets.parse().unwrap(),
    }
}

fn to_text(hist: &Histogram<u64>, ratio: f64) -> String {
    let mut out = Vec::new();
    write_hgrm(hist, ratio, TICKS_PER_HALF_DISTANCE, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Checks the parsed file against the histogram it was written from.
fn check_matches(hist: &Histogram<u64>, p: &Parsed) {
    assert_eq!(p.count, hist.len());
    assert!((p.mean - hist.mean() / 1_000.0).abs() < 0.001, "{p:?}");
    assert!((p.stdev - hist.stdev() / 1_000.0).abs() < 0.001, "{p:?}");
    assert_eq!((p.max * 1_000.0).round() as u64, hist.max());
    assert_eq!(p.buckets, u64::from(hist.buckets()));
    assert_eq!(p.sub_buckets, 2048, "3 significant digits");
    let last = p.rows.last().unwrap();
    assert_eq!(last.percentile, 1.0);
    assert_eq!(last.total, hist.len());
    assert!(last.inverse.is_none(), "the last row has no 1/(1-p)");
    let mut prev = (0.0, 0u64, 0.0);
    for row in &p.rows {
        let value_ns = (row.value * 1_000.0).round() as u64;
        // The cumulative count is the number of samples up to this value.
        assert_eq!(row.total, hist.count_between(0, value_ns), "{row:?}");
        // The value is where the iterated percentile is first reached.
        assert!(row.total as f64 / hist.len() as f64 >= row.percentile - 1e-9);
        assert!(row.percentile >= prev.0 && row.total >= prev.1 && row.value >= prev.2);
        if let Some(inv) = row.inverse {
            let want = 1.0 / (1.0 - row.percentile);
            assert!((inv - want).abs() <= 0.005 + want * 1e-9, "{row:?}");
        }
        prev = (row.percentile, row.total, row.value);
    }
}

#[test]
fn uniform_histogram_written_in_microseconds_parses_back_and_matches() {
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for v in 1..=100_000u64 {
        h.record(Stage::Parse, v * 7);
    }
    let hist = h.get(Stage::Parse);
    let p = parse(&to_text(hist, UNIT_RATIO_US));
    check_matches(hist, &p);
    // 5 ticks per half distance down to 1 / 100_000: well over 50 rows.
    assert!(p.rows.len() > 50, "{}", p.rows.len());
    let median = p.rows.iter().find(|r| r.percentile >= 0.5).unwrap();
    assert!((median.value - 350.0).abs() < 0.5, "{median:?}");
}

#[test]
fn skewed_histogram_with_a_far_tail_parses_back_and_matches() {
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for i in 0..10_000u64 {
        h.record(Stage::TickToOrder, 2_000 + i % 300);
    }
    h.record(Stage::TickToOrder, 3_000_000_000);
    let hist = h.get(Stage::TickToOrder);
    check_matches(hist, &parse(&to_text(hist, UNIT_RATIO_US)));
}

#[test]
fn small_histogram_in_nanoseconds_has_the_exact_java_layout() {
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for v in [10, 20, 30, 40] {
        h.record(Stage::Enqueue, v);
    }
    let text = to_text(h.get(Stage::Enqueue), 1.0);
    // The 0.75 row shows 40: the iterated percentile, summed in steps of
    // 0.1 then 0.05, is 0.7500000000000002, a hair above 3/4 (Java's
    // iterator sums the same way).
    let want = "       Value     Percentile TotalCount 1/(1-Percentile)\n\
                \n\
                \x20     10.000 0.000000000000          1           1.00\n\
                \x20     10.000 0.100000000000          1           1.11\n\
                \x20     10.000 0.200000000000          1           1.25\n\
                \x20     20.000 0.300000000000          2           1.43\n\
                \x20     20.000 0.400000000000          2           1.67\n\
                \x20     20.000 0.500000000000          2           2.00\n\
                \x20     30.000 0.550000000000          3           2.22\n\
                \x20     30.000 0.600000000000          3           2.50\n\
                \x20     30.000 0.650000000000          3           2.86\n\
                \x20     30.000 0.700000000000          3           3.33\n\
                \x20     40.000 0.750000000000          4           4.00\n\
                \x20     40.000 1.000000000000          4\n\
                #[Mean    =       25.000, StdDeviation   =       11.180]\n\
                #[Max     =       40.000, Total count    =            4]\n\
                #[Buckets =           24, SubBuckets     =         2048]\n";
    assert_eq!(text, want);
}

#[test]
fn empty_histogram_has_header_and_footer_only() {
    let h = StageHistograms::try_new(1_000_000, 3).unwrap();
    let text = to_text(h.get(Stage::Parse), UNIT_RATIO_US);
    let p = parse(&text);
    assert!(p.rows.is_empty());
    assert_eq!((p.count, p.max, p.mean), (0, 0.0, 0.0));
}

#[test]
fn sub_bucket_count_matches_hdrhistogram_sizing() {
    assert_eq!(sub_bucket_count(0), 2);
    assert_eq!(sub_bucket_count(1), 32);
    assert_eq!(sub_bucket_count(2), 256);
    assert_eq!(sub_bucket_count(3), 2048);
    assert_eq!(sub_bucket_count(5), 262_144);
    // Cross-check through the crate: values below the sub-bucket count are
    // recorded exactly, the next bucket has resolution 2.
    for sigfig in 0..=4u8 {
        let h = Histogram::<u64>::new_with_bounds(1, 1 << 40, sigfig).unwrap();
        let n = sub_bucket_count(sigfig);
        assert_eq!(h.highest_equivalent(n - 1), n - 1, "sigfig {sigfig}");
        assert_eq!(h.highest_equivalent(n), n + 1, "sigfig {sigfig}");
    }
}

#[test]
fn save_hgrm_writes_one_parsable_file_per_stage() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for (i, stage) in Stage::ALL.iter().enumerate() {
        h.record(*stage, 1_000 * (i as u64 + 1));
    }
    let paths = h.save_hgrm(dir.path(), "shutdown-").unwrap();
    assert_eq!(paths.len(), Stage::COUNT);
    assert_eq!(
        paths[4].file_name().unwrap().to_str().unwrap(),
        "shutdown-tick_to_order.hgrm"
    );
    for (path, stage) in paths.iter().zip(Stage::ALL) {
        let text = std::fs::read_to_string(path).unwrap();
        check_matches(h.get(stage), &parse(&text));
    }
}

#[test]
fn save_hgrm_into_a_missing_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let h = StageHistograms::try_new(1_000_000, 3).unwrap();
    let err = h.save_hgrm(&missing, "").unwrap_err();
    assert!(err.to_string().contains("parse.hgrm"), "{err}");
    assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
}
