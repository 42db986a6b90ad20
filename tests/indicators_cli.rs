//! End-to-end: `trading-engine indicators` on the real futures 1m klines file
//! equals the TA-Lib reference values (shared data `reference/`) within 1e-9
//! relative on every row, with the same warm-up (empty cells).

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::path::Path;
use std::process::Command;

use bingx_sim::testdata::shared_file;
use trading_engine::cli::indicators::{write_indicators_csv, CSV_HEADER};
use trading_engine::datafile::FileKind;

const KLINES: &str = "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv";
const REF_1M: &str = "reference/ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_1m.csv";
const REF_5M: &str = "reference/ta-lib-binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24_5m.csv";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

/// Compares our rows of one timeframe (without the timeframe column) to the
/// reference file (open_time_ms .. bb_lower, possibly followed by n_1m).
/// Returns how many rows had every indicator warm.
fn compare(ours: &[Vec<&str>], reference: &Path, what: &str) -> usize {
    let text = std::fs::read_to_string(reference).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(ours.len(), rows.len(), "{what}: row count");
    let mut warm = 0;
    for (n, (o, r)) in ours.iter().zip(&rows).enumerate() {
        assert_eq!(o[0], r[0], "{what} row {n}: open time");
        for col in 1..16 {
            match (o[col].is_empty(), r[col].is_empty()) {
                (true, true) => {}
                (false, false) => {
                    let (a, b): (f64, f64) = (o[col].parse().unwrap(), r[col].parse().unwrap());
                    assert!(
                        close(a, b),
                        "{what} row {n} col {col}: ours {a}, TA-Lib {b}"
                    );
                }
                _ => panic!(
                    "{what} row {n} col {col}: warm-up differs ({:?} vs {:?})",
                    o[col], r[col]
                ),
            }
        }
        warm += usize::from(o[6..16].iter().all(|c| !c.is_empty()));
    }
    warm
}

fn check_output(csv: &str) {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 17));
    let first_5m = rows.iter().position(|r| r[0] == "5m").unwrap();
    assert!(
        rows[..first_5m].iter().all(|r| r[0] == "1m"),
        "1m rows first"
    );
    assert!(
        rows[first_5m..].iter().all(|r| r[0] == "5m"),
        "then 5m rows"
    );
    let strip_1m: Vec<Vec<&str>> = rows[..first_5m].iter().map(|r| r[1..].to_vec()).collect();
    let strip_5m: Vec<Vec<&str>> = rows[first_5m..].iter().map(|r| r[1..].to_vec()).collect();
    let warm_1m = compare(&strip_1m, &shared_file(REF_1M).unwrap(), "1m");
    let warm_5m = compare(&strip_5m, &shared_file(REF_5M).unwrap(), "5m");
    assert_eq!(
        warm_1m,
        73_139 - 199,
        "every 1m row from the 200th on is warm"
    );
    assert_eq!(
        warm_5m,
        14_629 - 199,
        "every 5m row from the 200th on is warm"
    );
}

#[test]
fn indicators_of_real_klines_equal_ta_lib() {
    let (Some(data), Some(_), Some(_)) = (
        shared_file(KLINES),
        shared_file(REF_1M),
        shared_file(REF_5M),
    ) else {
        return;
    };
    let mut out = Vec::new();
    let summary = write_indicators_csv(&[&data], &mut out).unwrap();
    assert_eq!(summary.kind, Some(FileKind::Klines));
    assert_eq!(summary.records, 73_139);
    assert_eq!((summary.rows_1m, summary.rows_5m), (73_139, 14_629));
    assert_eq!(summary.gaps, 0);
    check_output(&String::from_utf8(out).unwrap());
}

#[test]
fn the_binary_writes_the_same_csv_to_the_out_file() {
    let Some(data) = shared_file(KLINES) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("ind.csv");
    let status = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["indicators", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(status.success());
    let mut expected = Vec::new();
    write_indicators_csv(&[&data], &mut expected).unwrap();
    assert!(
        std::fs::read(&out_path).unwrap() == expected,
        "binary output differs from the library's"
    );
}

#[test]
fn the_binary_fails_with_the_file_and_line_of_a_corrupt_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "1,61800.30,0.006,1,1,1723161256322,false\n2,61800.3x,0.006,2,2,1723161256344,false\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["indicators", "--data"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.csv:2: corrupt row: column 2"),
        "{stderr}"
    );
}
