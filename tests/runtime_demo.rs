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
    let summary = journal::verify(&journal).unwrap();
    assert!(summary.records > 1_000, "{summary:?}");
    assert!(journal.join("shutdown-tick_to_order.hgrm").exists());
}
