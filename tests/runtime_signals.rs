//! `trading-engine run` stopped by a real signal: the binary runs in paper
//! mode against the BingX simulator on 127.0.0.1 (market data and symbol
//! rules from the simulator, orders filled in-process), the test sends it
//! SIGTERM or SIGINT with `kill`, and checks the graceful shutdown: exit
//! status 0, the latency summary printed and saved as `.hgrm`, the journal
//! complete (it verifies, ends with a clean shutdown record) and replaying
//! with zero mismatches. Every wait is bounded.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bingx_sim::{SimConfig, SimHandle, Simulator, Speed};
use trading_engine::config::Config;
use trading_engine::core::Event;
use trading_engine::journal_schema::JournalRecord;

/// Longest wait for the engine to start trading or to stop.
const WAIT: Duration = Duration::from_secs(60);

fn start_sim() -> SimHandle {
    Simulator::start(SimConfig {
        speed: Speed::Times(60.0),
        warmup_minutes: 300,
        ..SimConfig::default()
    })
    .unwrap()
}

/// Writes a config for a paper run against `sim` with everything under `dir`.
fn write_config(sim: &SimHandle, dir: &Path) -> PathBuf {
    let mut cfg = Config::default();
    cfg.exchange.rest_base_url = Some(sim.rest_base());
    cfg.exchange.ws_url = Some(sim.ws_url());
    cfg.market.symbols = vec!["BTC-USDT".into()];
    cfg.metrics.enabled = false;
    cfg.journal.dir = dir.join("journal");
    cfg.latency.hgrm_dir = Some(dir.join("hgrm"));
    cfg.risk.stop_file = dir.join("STOP");
    cfg.risk.halt_file = dir.join("HALT");
    let path = dir.join("config.toml");
    std::fs::write(&path, cfg.to_toml_string().unwrap()).unwrap();
    path
}

fn spawn_engine(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["run", "--mode", "paper", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Returns true once the journal in `dir` holds a live market trade fed to
/// the core (the run is past its start-up and warm-up).
fn journal_has_trade(dir: &Path) -> bool {
    let Ok(mut r) = journal::Reader::open(dir) else {
        return false;
    };
    while let Some(Ok(rec)) = r.next() {
        if let Ok(JournalRecord::Input(Event::Trade(_))) =
            JournalRecord::decode(rec.type_tag, rec.payload)
        {
            return true;
        }
    }
    false
}

/// Kills the child (SIGKILL) so a failed test leaves no engine behind.
struct Reap(Option<Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts the engine, waits for live trades in its journal, sends `signal`
/// and checks the graceful shutdown.
fn stops_gracefully_on(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim();
    let config = write_config(&sim, dir.path());
    let journal_dir = dir.path().join("journal");
    let mut child = Reap(Some(spawn_engine(&config)));
    let start = Instant::now();
    while !journal_has_trade(&journal_dir) {
        let c = child.0.as_mut().unwrap();
        if let Some(status) = c.try_wait().unwrap() {
            let out = child.0.take().unwrap().wait_with_output().unwrap();
            panic!(
                "the engine exited early ({status}):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(start.elapsed() < WAIT, "no live trade journaled");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.0.as_ref().unwrap().id().to_string();
    let sent = Command::new("kill")
        .args([signal, pid.as_str()])
        .status()
        .unwrap();
    assert!(sent.success());
    let stopping = Instant::now();
    while child.0.as_mut().unwrap().try_wait().unwrap().is_none() {
        assert!(stopping.elapsed() < WAIT, "no exit after {signal}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{signal}: {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("Running in paper mode"), "{stdout}");
    assert!(stdout.contains("Stopped (signal)"), "{stdout}");
    assert!(stdout.contains("tick_to_order"), "{stdout}");
    assert!(
        dir.path().join("hgrm/shutdown-parse.hgrm").exists(),
        "{stdout}"
    );

    let summary = journal::verify(&journal_dir).unwrap();
    assert!(summary.records > 10, "{summary:?}");
    let mut r = journal::Reader::open(&journal_dir).unwrap();
    let mut last = None;
    let mut signal_records = 0;
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload).unwrap();
        if let JournalRecord::Operator { source, .. } = decoded {
            if source == trading_engine::journal_schema::OperatorSource::Signal {
                signal_records += 1;
            }
        }
        // The checkpoint of the state at the end follows the shutdown
        // record (it is state, not an event).
        if rec.type_tag != trading_engine::journal_schema::tags::CHECKPOINT {
            last = Some(decoded.tag());
        }
    }
    assert_eq!(signal_records, 1, "the stop by signal is journaled once");
    assert_eq!(
        last,
        Some(trading_engine::journal_schema::tags::SHUTDOWN),
        "the journal ends with the shutdown record"
    );
    let report = trading_engine::replay::replay(&journal_dir, &mut |_| {}).unwrap();
    assert!(report.counts.inputs > 0);
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.torn, None);
}

#[test]
fn sigterm_stops_the_engine_gracefully_with_a_complete_journal() {
    stops_gracefully_on("-TERM");
}

#[test]
fn sigint_stops_the_engine_gracefully_with_a_complete_journal() {
    stops_gracefully_on("-INT");
}
