//! A config reload by a real SIGHUP reaching the running engine: the
//! simulator's scripted price path, the scripted strategy, paper mode. A
//! first SIGHUP finds a config that changes a restart-only key: refused,
//! journaled, the old sizing stays. A second finds a config that lowers
//! `sizing.base_risk_pct` to 0.1: accepted, applied by the core before the
//! scripted entry, journaled with the config, and the journal replays with
//! zero mismatches. One test in its own file: the signal hits the whole
//! process.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trading_engine::config::{Config, Mode};
use trading_engine::core::{Action, Event, Record};
use trading_engine::journal_schema::{tags, JournalRecord, ReloadOutcome};
use trading_engine::types::{Qty, NS_PER_MIN};
use util::live::{
    options, replay_complete, run_in_background, scripted, start_sim_at, T0, WARMUP_MIN,
};

/// Market time per wall time: the scripted entry (minute 22) comes about
/// six seconds after the live data starts, leaving room for two reloads.
const SPEED: f64 = 20.0;

/// What the journal holds so far, in order.
#[derive(Debug, Default)]
struct Seen {
    live_trades: usize,
    reloads: Vec<(u64, ReloadOutcome, String)>,
    configs: Vec<(u64, String)>,
    entries: Vec<(u64, Qty, bool)>,
}

fn seen(dir: &Path) -> Seen {
    let mut s = Seen::default();
    let Ok(mut r) = journal::Reader::open(dir) else {
        return s;
    };
    let live_from = T0 * 1_000_000 + i64::from(WARMUP_MIN) * NS_PER_MIN;
    while let Some(Ok(rec)) = r.next() {
        let Ok(decoded) = JournalRecord::decode(rec.type_tag, rec.payload) else {
            continue;
        };
        match decoded {
            JournalRecord::Input(Event::Trade(t)) if t.exchange_ts.0 >= live_from => {
                s.live_trades += 1;
            }
            JournalRecord::Reload {
                outcome, detail, ..
            } => s.reloads.push((rec.seq, outcome, detail.to_owned())),
            JournalRecord::ReloadConfig { config_toml, .. } => {
                s.configs.push((rec.seq, config_toml.to_owned()));
            }
            JournalRecord::Output(Action::Record(Record::EntrySent { qty, capped, .. })) => {
                s.entries.push((rec.seq, qty, capped));
            }
            _ => {}
        }
    }
    s
}

/// Waits until `done` holds for the journal, raising SIGHUP every 300 ms
/// when `hup` (a signal that lands before the service registered its
/// handler is missed, so it is repeated).
fn wait_for(journal: &Path, hup: bool, what: &str, done: impl Fn(&Seen) -> bool) -> Seen {
    let start = Instant::now();
    loop {
        if hup {
            signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
        let s = seen(journal);
        if done(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {s:?}");
    }
}

fn write_config(path: &Path, cfg: &Config) {
    std::fs::write(path, cfg.to_toml_string().unwrap()).unwrap();
}

/// Copies the journal in `from` to `to` without its reload-config records:
/// the journal of a run that never applied its reloads.
fn copy_without_reload_configs(from: &Path, to: &Path) {
    let mut r = journal::Reader::open(from).unwrap();
    let options = journal::WriterOptions {
        durability: journal::Durability::None,
        prefault: false,
        precreate_next: false,
        ..journal::WriterOptions::default()
    };
    let mut w = journal::Writer::open(to, options).unwrap();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        if rec.type_tag != tags::RELOAD_CONFIG {
            w.append(rec.type_tag, rec.ts_ns, rec.payload).unwrap();
        }
    }
    w.close().unwrap();
}

#[test]
fn sighup_refuses_a_restart_only_change_then_applies_a_reloadable_one_before_the_entry() {
    // A handler of our own first: a SIGHUP that lands before the engine's
    // handler is registered is ignored instead of killing the test process.
    let ours = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&ours)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim_at(dir.path(), Default::default(), SPEED);
    let mut o = options(&sim, dir.path(), Mode::Paper, 40);
    o.time_scale = SPEED;
    o.signals = true;
    let stop = Arc::new(AtomicBool::new(false));
    o.stop = Some(Arc::clone(&stop));
    let config_path = dir.path().join("config.toml");
    write_config(&config_path, &o.config);
    o.config_path = Some(config_path.clone());
    let running = o.config.clone();
    let journal = dir.path().join("journal");
    let handle = run_in_background(o);

    let s = wait_for(&journal, false, "live trades", |s| s.live_trades > 0);
    assert!(s.entries.is_empty(), "the reloads come before the entry");

    let mut restart_only = running.clone();
    restart_only.sizing.base_risk_pct = 0.05;
    restart_only.strategies.mtf_long.rsi_period = 21;
    write_config(&config_path, &restart_only);
    let s = wait_for(&journal, true, "the refused reload", |s| {
        !s.reloads.is_empty()
    });
    let (_, outcome, detail) = &s.reloads[0];
    assert_eq!(*outcome, ReloadOutcome::Refused, "{detail}");
    assert!(detail.contains("rsi_period"), "{detail}");
    assert!(s.configs.is_empty(), "nothing applied");

    let mut smaller = running.clone();
    smaller.sizing.base_risk_pct = 0.1;
    write_config(&config_path, &smaller);
    let s = wait_for(&journal, true, "the accepted reload", |s| {
        !s.configs.is_empty()
    });
    assert!(
        s.entries.is_empty(),
        "the reload was applied before the scripted entry of minute 22"
    );
    let accepted = s
        .reloads
        .iter()
        .find(|r| r.1 == ReloadOutcome::Accepted)
        .unwrap();
    assert!(accepted.2.contains("sizing.base_risk_pct"), "{accepted:?}");
    let journaled = Config::from_toml_str_with_cores(&s.configs[0].1, None).unwrap();
    assert_eq!(journaled, smaller);

    let s = wait_for(&journal, false, "the entry", |s| !s.entries.is_empty());
    stop.store(true, Ordering::Release);
    let report = handle.join().unwrap();
    assert!(report.service.reloads.0 >= 1 && report.service.reloads.1 >= 1);

    // 0.1% of 10 000 at a 100-point stop: 0.1 BTC; the refused 0.05% would
    // give 0.05, the running 1% the margin cap (40% of 10 000 at 5x).
    let (seq, qty, capped) = s.entries[0];
    assert!(seq > s.configs[0].0, "entry after the applied reload");
    assert!(!capped);
    assert_eq!(qty, Qty::from_f64(0.1).unwrap());

    let dir = report.journal_dir.unwrap();
    assert!(
        replay_complete(&dir) > 5,
        "zero mismatches with the journaled reload"
    );
    let ignored = tempfile::tempdir().unwrap();
    let copy = ignored.path().join("journal");
    copy_without_reload_configs(&dir, &copy);
    let without = trading_engine::replay::replay_with(&copy, Some(scripted), &mut |_| {}).unwrap();
    assert!(
        without.first_mismatch.is_some(),
        "ignoring the reload must diverge: {:?}",
        without.counts
    );
}
