//! `trading-engine demo`: the engine in live mode against the in-process
//! TLS simulator, through the real binary, short and bounded.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_runs_live_against_the_tls_simulator_prints_its_summary_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["demo", "--duration", "6", "--journal"])
        .arg(&journal)
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("(TLS)"), "{stdout}");
    assert!(stdout.contains("Stopped (duration)"), "{stdout}");
    assert!(stdout.contains("Closed trades:"), "{stdout}");
    assert!(stdout.contains("tick_to_order"), "{stdout}");
    assert!(
        stdout.contains("Exchange: 0 open position(s), 0 open order(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("engine positions open: 0"), "{stdout}");
    // The final dashboard of the run.
    assert!(stdout.contains("\nDashboard "), "{stdout}");
    assert!(stdout.contains(" (live)\nequity "), "{stdout}");
    assert!(stdout.contains("\npositions none\n"), "{stdout}");
    // Issue 20: a normal --duration stop is not a halt, and leaves no
    // halt marker behind.
    assert!(!stdout.contains("HALTED"), "{stdout}");
    assert!(stdout.contains("risk stopped (duration)"), "{stdout}");
    assert!(!journal.join("HALT").exists());
    let summary = journal::verify(&journal).unwrap();
    assert!(summary.records > 1_000, "{summary:?}");
    assert!(journal.join("shutdown-tick_to_order.hgrm").exists());
}

/// Returns the sample count of the `tick_to_order` row of the latency table.
fn tick_to_order_samples(stdout: &str) -> u64 {
    stdout
        .lines()
        .find(|l| l.starts_with("tick_to_order"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn demo_dry_run_with_an_entry_on_every_candle_samples_tick_to_order_on_most_candles() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args([
            "demo",
            "--mode",
            "dry-run",
            "--every-candle",
            "--speed",
            "1200",
            "--duration",
            "6",
            "--journal",
        ])
        .arg(&journal)
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("dry-run orders, an entry on every closed candle"),
        "{stdout}"
    );
    // 1200x market time: 20 candles a wall second, each closing flat into
    // an entry that dry-run refuses at once. The default demo gives ~16
    // samples a minute; this gives one per candle once live data flows.
    let samples = tick_to_order_samples(&stdout);
    assert!(samples >= 40, "tick_to_order samples {samples}:\n{stdout}");
    assert!(stdout.contains("Closed trades: 0"), "{stdout}");
}

#[test]
fn issue_20_demo_speed_is_validated_and_max_is_accepted() {
    let bad = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["demo", "--speed", "1e-300"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--speed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args([
            "demo",
            "--speed",
            "max",
            "--mode",
            "dry-run",
            "--duration",
            "3",
            "--journal",
        ])
        .arg(dir.path().join("journal"))
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("market at max speed for 3 s"), "{stdout}");
    assert!(stdout.contains("Stopped (duration)"), "{stdout}");
}
