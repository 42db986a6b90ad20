//! `trading-engine run` against the BingX simulator on 127.0.0.1 on a
//! journal with a flipped byte in the middle of its newest segment (issue
//! 20, repro 1): the run refuses to start naming the segment, the offset
//! and the commands, changes nothing and journals nothing; after `journal
//! repair` it starts again on the kept records. A torn tail (damage in the
//! final record only) is truncated and the run starts.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use trading_engine::clock::ManualClock;
use trading_engine::config::Mode;
use trading_engine::replay::ReplayError;
use trading_engine::runtime::recovery::RecoveryError;
use trading_engine::runtime::{run, RuntimeError};
use trading_engine::types::TimestampNs;

use util::live::*;

fn newest_segment(journal: &Path) -> PathBuf {
    let mut v: Vec<PathBuf> = fs::read_dir(journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v.pop().unwrap()
}

/// Offsets of the records of a segment's bytes.
fn record_starts(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = journal::SEGMENT_HEADER_LEN;
    while at + 32 <= bytes.len() && bytes[at..at + 8] != [0; 8] {
        out.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += journal::record_len(len);
    }
    out
}

fn record_count(journal: &Path) -> u64 {
    journal::verify(journal).unwrap().records
}

#[test]
fn run_refuses_a_corrupt_journal_and_starts_after_journal_repair() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let first = run_in_background(options(&sim, dir.path(), Mode::DryRun, 1))
        .join()
        .unwrap();
    assert!(!first.resumed);
    let journal = dir.path().join("journal");
    let segment = newest_segment(&journal);
    let mut bytes = fs::read(&segment).unwrap();
    let starts = record_starts(&bytes);
    assert!(starts.len() > 10, "{} records", starts.len());
    let victim = starts[starts.len() / 2];
    bytes[victim + 36] ^= 0x20;
    fs::write(&segment, &bytes).unwrap();

    let err = run(
        options(&sim, dir.path(), Mode::DryRun, 1),
        &mut std::io::sink(),
    )
    .unwrap_err();
    match &err {
        RuntimeError::Recovery(RecoveryError::Rebuild(ReplayError::Corrupt {
            segment: s,
            offset,
            ..
        })) => assert_eq!((s, *offset), (&segment, victim as u64)),
        other => panic!("not a corruption refusal: {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&format!("at byte {victim}"))
            && text.contains("trading-engine journal verify --journal")
            && text.contains("trading-engine journal repair --journal"),
        "{text}"
    );
    assert_eq!(fs::read(&segment).unwrap(), bytes, "the refused run wrote");

    let clock = ManualClock::new(TimestampNs(1_800_000_000_000_000_000));
    let report = trading_engine::cli::journal::repair(&journal, &clock, &mut Vec::new())
        .unwrap()
        .unwrap();
    assert_eq!(report.records_kept(), starts.len() as u64 / 2);
    let second = run_in_background(options(&sim, dir.path(), Mode::DryRun, 1))
        .join()
        .unwrap();
    assert!(second.resumed);
    assert!(record_count(&journal) > report.next_seq + 1);
}

#[test]
fn run_truncates_a_torn_final_record_and_starts() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    run_in_background(options(&sim, dir.path(), Mode::DryRun, 1))
        .join()
        .unwrap();
    let journal = dir.path().join("journal");
    let records = record_count(&journal);
    let segment = newest_segment(&journal);
    let mut bytes = fs::read(&segment).unwrap();
    let last = *record_starts(&bytes).last().unwrap();
    bytes[last + 33] ^= 0x01;
    fs::write(&segment, &bytes).unwrap();
    let second = run_in_background(options(&sim, dir.path(), Mode::DryRun, 1))
        .join()
        .unwrap();
    assert!(second.resumed);
    // The torn record was zeroed and the new life continues after the one before it.
    let mut reader = journal::Reader::open(&journal).unwrap();
    let mut seqs = 0;
    while let Some(r) = reader.next() {
        r.unwrap();
        seqs += 1;
    }
    assert!(seqs > records - 1);
    let rebuilt = trading_engine::replay::rebuild(&journal).unwrap();
    assert!(rebuilt.torn.is_none());
}
