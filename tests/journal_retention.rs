//! Issue 20, journal retention, end to end: the real `run` (paper mode
//! against the BingX simulator on 127.0.0.1) journals checkpoints at
//! start-up, at each segment rotation (with a retention limit) and at
//! shutdown; a rebuild from the newest checkpoint equals the rebuild from
//! the first record; a run with tiny segments and `journal.max_total_bytes`
//! keeps the journal's disk use bounded, and the trimmed journal still
//! replays with zero mismatches from its oldest checkpoint. Each run stops
//! by itself and every loop is bounded.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::path::Path;
use std::time::{Duration, Instant};

use trading_engine::config::Mode;
use trading_engine::journal_schema::{tags, JournalRecord};
use trading_engine::replay;
use util::live::{options, run_in_background, scripted, start_sim_on, write_rows, SPEED, T0};

/// A dense market: a trade every 50 ms of market time for 60 minutes (the
/// simulator's first 20 are history), so a run journals tens of KiB a
/// second.
fn dense_rows() -> Vec<String> {
    (0..72_000i64)
        .map(|k| {
            let n = k + 1;
            let price = 60_000.0 + 50.0 * ((k as f64) / 600.0).sin();
            let time = T0 + k * 50;
            format!("{n},{price:.1},0.0100,{n},{n},{time},false")
        })
        .collect()
}

/// Bytes the segment files of `dir` take (each is preallocated whole).
fn segment_bytes(dir: &Path) -> u64 {
    journal::list_segments(dir)
        .map(|s| {
            s.iter()
                .filter_map(|(_, p)| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Counts (checkpoint parts, retention records, bytes removed by those
/// records) of the journal in `dir`.
fn checkpoint_records(dir: &Path) -> (u64, u64, u64) {
    let mut r = journal::Reader::open(dir).unwrap();
    let (mut parts, mut retentions, mut removed) = (0, 0, 0);
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        match JournalRecord::decode(rec.type_tag, rec.payload).unwrap() {
            JournalRecord::Checkpoint { .. } => parts += 1,
            JournalRecord::JournalRetention { bytes_removed, .. } => {
                retentions += 1;
                removed += bytes_removed;
            }
            _ => {}
        }
    }
    (parts, retentions, removed)
}

#[test]
fn issue_20_a_run_with_tiny_segments_and_a_size_limit_keeps_its_journal_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim_on(
        write_rows(dir.path(), &dense_rows()),
        Default::default(),
        SPEED,
    );
    let seg: u64 = 64 << 10;
    let limit = 4 * seg;
    let mut o = options(&sim, dir.path(), Mode::Paper, 8);
    o.config.journal.segment_size_bytes = seg;
    o.config.journal.max_total_bytes = limit;
    let journal_dir = dir.path().join("journal");
    let run = run_in_background(o);
    let mut largest = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    while !run.is_finished() && Instant::now() < deadline {
        largest = largest.max(segment_bytes(&journal_dir));
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = run.join().unwrap();
    largest = largest.max(segment_bytes(&journal_dir));
    let segments = journal::list_segments(&journal_dir).unwrap();
    let first_seq = segments[0].0;
    let (parts, retentions, removed) = checkpoint_records(&journal_dir);
    println!(
        "journal records {}, oldest kept {first_seq}, largest on disk {largest} bytes (limit {limit}, segment {seg}), checkpoint parts {parts}, retention records {retentions} (the last removal journaled; {removed} bytes removed in the segments left)",
        report.hot.counters.journal_records
    );
    // Retention removed the oldest segments while the run went on (each
    // removal is journaled), and the disk use stayed within the limit plus
    // what is written while a checkpoint is taken (a few segments here).
    assert!(first_seq > 0, "nothing removed");
    assert!(retentions >= 1, "{retentions} retention records");
    assert!(largest <= limit + 4 * seg, "{largest} bytes on disk");
    // The trimmed journal replays from its oldest checkpoint, every record
    // after it checked.
    let replayed = util::live::replay(&journal_dir);
    assert!(replayed.started_at.is_some_and(|s| s >= first_seq));
    assert_eq!(replayed.torn, None);
    // And a restart on it rebuilds from its newest checkpoint.
    let rebuilt = replay::rebuild_with(&journal_dir, Some(scripted)).unwrap();
    assert!(rebuilt.started_at.is_some());
    assert!(rebuilt.core.is_some());
}

#[test]
fn issue_20_a_real_journal_rebuilds_from_its_checkpoint_to_the_state_of_a_full_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim_on(
        write_rows(dir.path(), &dense_rows()),
        Default::default(),
        SPEED,
    );
    let journal_dir = dir.path().join("journal");
    // Two lives on one journal, no retention: checkpoints at the first
    // life's shutdown and at the second's start-up and shutdown.
    for secs in [3, 3] {
        let report = run_in_background(options(&sim, dir.path(), Mode::Paper, secs))
            .join()
            .unwrap();
        assert!(report.hot.counters.journal_records > 100);
    }
    let mut r = journal::Reader::open(&journal_dir).unwrap();
    let mut firsts = Vec::new();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        if rec.type_tag == tags::CHECKPOINT {
            if let JournalRecord::Checkpoint { part: 0, .. } =
                JournalRecord::decode(rec.type_tag, rec.payload).unwrap()
            {
                firsts.push(rec.seq);
            }
        }
    }
    assert_eq!(firsts.len(), 3, "checkpoints at {firsts:?}");
    let full = replay::rebuild_from_first_with(&journal_dir, Some(scripted)).unwrap();
    let from_checkpoint = replay::rebuild_with(&journal_dir, Some(scripted)).unwrap();
    assert_eq!(full.started_at, None);
    assert_eq!(from_checkpoint.started_at, firsts.last().copied());
    assert!(full.checkpoint.is_some());
    assert_eq!(full.checkpoint, from_checkpoint.checkpoint, "states differ");
    assert_eq!(full.next_seq, from_checkpoint.next_seq);
    assert_eq!(full.counts, from_checkpoint.counts);
    assert_eq!(full.in_flight, from_checkpoint.in_flight);
    assert_eq!(full.orders, from_checkpoint.orders);
    let replayed = util::live::replay(&journal_dir);
    assert_eq!(
        replayed.started_at, None,
        "an untrimmed journal replays whole"
    );
}
