//! `trading-engine backtest` end to end through the binary: outputs,
//! summary, throughput line, date range, strategy filter and bad arguments.

use std::process::Command;

use bingx_sim::testdata::shared_file;

const KLINES: &str = "binance-futures-BTCUSDT-1m-2025-05-04_2025-06-24.csv";

#[test]
fn backtest_writes_the_four_outputs_and_prints_summary_and_throughput() {
    let Some(data) = shared_file(KLINES) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args([
            "--from",
            "2025-05-10",
            "--to",
            "2025-05-30",
            "--strategy",
            "mtf_long",
            "--compare-seed",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("seed mtf_long"), "{stdout}");
    assert!(stdout.contains("rows 30240 (klines)"), "{stdout}");
    assert!(stdout.contains("rows/s"), "{stdout}");
    for f in ["report.json", "trades.csv", "equity.csv", "equity.svg"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["input"]["kind"], "klines");
    assert_eq!(report["strategies"]["trend_distance_short"]["trades"], 0);
    assert_eq!(report["input"]["rows"], 30240);
}

#[test]
fn unknown_strategy_and_bad_date_are_named_errors() {
    let Some(data) = shared_file(KLINES) else {
        return;
    };
    for (flag, value, expect) in [
        ("--strategy", "nope", "unknown strategy \"nope\""),
        ("--from", "2025-5", "--from: expected YYYY-MM-DD"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
            .args(["backtest", "--data"])
            .arg(&data)
            .args([flag, value, "--out", "/nonexistent-dir-never-created"])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expect), "{stderr}");
    }
}
