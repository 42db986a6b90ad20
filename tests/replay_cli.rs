//! `trading-engine replay`: exit 0 and "0 mismatches" on a journal written
//! by a paper session, non-zero with the first mismatch printed on a
//! tampered copy, non-zero on an empty journal.

#![allow(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::path::Path;
use std::process::Command;

use trading_engine::config::Config;
use trading_engine::core::{Action, Command as CoreCommand};
use trading_engine::datafile::{synthetic, DataSet};
use trading_engine::fill_model::{FillModel, MarketFill};
use trading_engine::journal_schema::{tags, JournalRecord, Mode};
use trading_engine::replay::record::SimSession;
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, SymbolId};

fn options(segment_bytes: usize) -> journal::WriterOptions {
    journal::WriterOptions {
        segment_bytes,
        durability: journal::Durability::None,
        prefault: false,
        precreate_next: false,
    }
}

/// Writes a paper journal over three synthetic days into `dir`.
fn paper_journal(dir: &Path) {
    paper_journal_with(dir, &Config::default());
}

/// Writes a paper journal over three synthetic days into `dir` with `cfg`
/// (a restart when `dir` already holds one).
fn paper_journal_with(dir: &Path, cfg: &Config) {
    paper_journal_in(dir, cfg, 1 << 20);
}

/// As [`paper_journal_with`], in segments of `segment_bytes`.
fn paper_journal_in(dir: &Path, cfg: &Config, segment_bytes: usize) {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("k.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    synthetic::write_klines_csv(&mut f, 1, synthetic::DEFAULT_START_MS, 3 * 1440).unwrap();
    let step = DecimalStep::from_precision(3);
    let rules = InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap(),
    };
    let sim = FillModel::new(&cfg.simulator, 1, MarketFill::LastClose);
    let mut set = DataSet::open(&[&path], SymbolId(0)).unwrap();
    let mut rows = Vec::new();
    while let Some(row) = set.next_record().unwrap() {
        rows.push(row);
    }
    let first = rows[0].timestamp();
    let last = rows[rows.len() - 1].timestamp();
    let mut s = SimSession::open(
        dir,
        cfg,
        &[rules],
        sim,
        Mode::Paper,
        first,
        options(segment_bytes),
    )
    .unwrap();
    for row in &rows {
        s.on_row(row).unwrap();
    }
    s.command(CoreCommand::Shutdown, last).unwrap();
    s.flush_exchange().unwrap();
    s.finish().unwrap();
}

fn run_replay(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["replay", "--quiet", "--journal"])
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn replay_of_a_paper_journal_exits_zero_with_zero_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    paper_journal(dir.path());
    let out = run_replay(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 mismatches"), "{stdout}");
    assert!(stdout.contains("sessions 1"), "{stdout}");
    assert!(stdout.contains("events/s"), "{stdout}");
}

#[test]
fn replay_of_a_tampered_journal_prints_the_first_mismatch_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    paper_journal(dir.path());
    let tampered = tempfile::tempdir().unwrap();
    let mut reader = journal::Reader::open(dir.path()).unwrap();
    let mut writer = journal::Writer::open(tampered.path(), options(1 << 20)).unwrap();
    let mut changed_seq = None;
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        let mut payload = r.payload.to_vec();
        if r.type_tag == tags::PLACE && changed_seq.is_none() {
            if let JournalRecord::Output(Action::Place(mut o)) =
                JournalRecord::decode(r.type_tag, r.payload).unwrap()
            {
                o.qty = Qty(o.qty.0 + o.qty.0);
                let rec = JournalRecord::Output(Action::Place(o));
                payload = vec![0; rec.encoded_len()];
                rec.encode(&mut payload);
                changed_seq = Some(r.seq);
            }
        }
        writer.append(r.type_tag, r.ts_ns, &payload).unwrap();
    }
    writer.close().unwrap();
    let seq = changed_seq.unwrap();
    let out = run_replay(tampered.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("first mismatch at record {seq}")),
        "{stdout}"
    );
    assert!(stdout.contains("  input    #"), "{stdout}");
    assert!(stdout.contains("  expected : place"), "{stdout}");
    assert!(stdout.contains("  actual   : place"), "{stdout}");
    assert!(!stdout.contains("0 mismatches"), "{stdout}");
    assert!(
        stderr.contains(&format!("journal record {seq}")),
        "{stderr}"
    );
}

#[test]
fn replay_of_an_empty_journal_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_replay(&dir.path().join("none"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no record"));
}

#[test]
fn replay_of_a_restart_with_another_config_prints_the_change_applied() {
    let dir = tempfile::tempdir().unwrap();
    paper_journal(dir.path());
    let mut changed = Config::default();
    changed.risk.cooldown_minutes += 5;
    paper_journal_with(dir.path(), &changed);
    let out = run_replay(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("sessions 2"), "{stdout}");
    assert!(
        stdout.contains("reloadable change applied: risk.cooldown_minutes"),
        "{stdout}"
    );
    assert!(stdout.contains("0 mismatches"), "{stdout}");
}

#[test]
fn issue_20_replay_of_a_journal_trimmed_by_retention_starts_at_its_checkpoint_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let seg = 16 << 10;
    let mut cfg = Config::default();
    cfg.journal.segment_size_bytes = seg as u64;
    paper_journal_in(dir.path(), &cfg, seg);
    // The restart journals a checkpoint; retention then removes the
    // segments before it down to three segments.
    cfg.journal.max_total_bytes = 3 * seg as u64;
    paper_journal_in(dir.path(), &cfg, seg);
    let segments = journal::list_segments(dir.path()).unwrap();
    assert!(segments[0].0 > 0, "nothing removed");
    let out = run_replay(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .contains("journal trimmed by retention: replay starts at the checkpoint at sequence"),
        "{stdout}"
    );
    assert!(stdout.contains("0 mismatches"), "{stdout}");
}
