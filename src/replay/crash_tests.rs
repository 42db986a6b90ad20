//! Simulated crashes: a journal cut or zeroed at many offsets of its last
//! segment, corruption before it, a lost end-of-segment marker.

use std::fs;
use std::path::Path;

use super::record::SimSession;
use super::tests::{
    assert_same_state, copy_dir, fed, inputs, options, records, rows, rules, segments, session,
    sim, DAYS,
};
use super::*;
use crate::journal_schema::Mode;

/// Cuts the last segment of a copy of `dir` at `offset` (shortened file, or
/// zeroed from `offset` on when `zero`), rebuilds it, and checks the core
/// against a core fed the same prefix of inputs.
fn crash_at(dir: &Path, all_inputs: &[Event], offset: u64, zero: bool) -> Rebuilt {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir, copy.path());
    let last = segments(copy.path()).pop().unwrap();
    if zero {
        let mut bytes = fs::read(&last).unwrap();
        let at = (offset as usize).min(bytes.len());
        bytes[at..].fill(0);
        fs::write(&last, bytes).unwrap();
    } else {
        fs::OpenOptions::new()
            .write(true)
            .open(&last)
            .unwrap()
            .set_len(offset)
            .unwrap();
    }
    let rebuilt = rebuild(copy.path()).unwrap();
    let n = rebuilt.counts.inputs as usize;
    assert_same_state(rebuilt.core.as_ref().unwrap(), &fed(&all_inputs[..n]));
    assert_eq!(rebuilt.first_mismatch, None);
    // A restart opens the writer first (its recovery repairs the tail),
    // then rebuilds: the writer continues exactly where the rebuild stopped.
    let w = journal::Writer::open(copy.path(), options(256 << 10)).unwrap();
    let after = rebuild(copy.path()).unwrap();
    assert_eq!(w.next_seq(), after.next_seq);
    assert_eq!(after.torn, None);
    let n = after.counts.inputs as usize;
    assert_same_state(after.core.as_ref().unwrap(), &fed(&all_inputs[..n]));
    rebuilt
}

#[test]
fn rebuild_after_a_crash_at_many_offsets_equals_a_core_fed_the_same_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let rows = rows(DAYS);
    let ts = rows[0].timestamp();
    // Small segments so the journal spans several and the cut lands in the last.
    let mut s = SimSession::open(
        dir.path(),
        &cfg,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        ts,
        options(1 << 20),
    )
    .unwrap();
    for r in &rows {
        s.on_row(r).unwrap();
    }
    s.finish().unwrap();
    let all_inputs = inputs(&records(dir.path()));
    let last = segments(dir.path()).pop().unwrap();
    let used = fs::read(&last)
        .unwrap()
        .iter()
        .rposition(|&b| b != 0)
        .unwrap() as u64;
    let mut torn = 0;
    for k in 1..=12u64 {
        let offset = 64 + (used - 64) * k / 12 - 13 * (k % 3);
        let rebuilt = crash_at(dir.path(), &all_inputs, offset, false);
        torn += usize::from(rebuilt.torn.is_some());
        let rebuilt = crash_at(dir.path(), &all_inputs, offset, true);
        torn += usize::from(rebuilt.torn.is_some());
    }
    assert!(torn >= 12, "most cuts land inside a record: {torn}");
}

#[test]
fn corruption_before_the_last_segment_is_a_typed_error_naming_segment_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let rows = rows(2);
    let ts = rows[0].timestamp();
    let mut s = SimSession::open(
        dir.path(),
        &cfg,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        ts,
        options(64 << 10),
    )
    .unwrap();
    for r in &rows {
        s.on_row(r).unwrap();
    }
    s.finish().unwrap();
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "{segs:?}");
    let mut bytes = fs::read(&segs[1]).unwrap();
    bytes[5000] ^= 0x40;
    fs::write(&segs[1], bytes).unwrap();
    match rebuild(dir.path()) {
        Err(ReplayError::Corrupt {
            segment, offset, ..
        }) => {
            assert_eq!(segment, segs[1]);
            assert!(offset <= 5000 && offset > 64, "{offset}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert!(matches!(
        replay(dir.path(), &mut |_| {}),
        Err(ReplayError::Corrupt { .. })
    ));
}

#[test]
fn a_segment_that_lost_its_end_marker_is_corruption_until_a_writer_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::default();
    let (_, _) = session(dir.path(), &cfg, sim(&cfg), &rows(2), true);
    // Where the first segment's records end: its end-of-segment marker.
    let mut reader = journal::Reader::open(dir.path()).unwrap();
    let first = segments(dir.path())[0].clone();
    let mut marker = None;
    while let Some(r) = reader.next() {
        r.unwrap();
        if let Some((seg, offset)) = reader.position() {
            if seg == first.as_path() {
                marker = Some(offset as usize);
            }
        }
    }
    drop(reader);
    let marker = marker.unwrap();
    let mut bytes = fs::read(&first).unwrap();
    bytes[marker..marker + 8].fill(0);
    fs::write(&first, bytes).unwrap();
    match rebuild(dir.path()) {
        Err(ReplayError::Corrupt {
            segment,
            offset,
            reason: journal::Corruption::MissingMarker { .. },
        }) => {
            assert_eq!(segment, first);
            assert_eq!(offset, marker as u64);
        }
        other => panic!("expected a missing marker, got {other:?}"),
    }
    drop(journal::Writer::open(dir.path(), options(256 << 10)).unwrap());
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    assert_eq!(report.counts.records, records(dir.path()).len() as u64);
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config as RunnerConfig, TestRunner};

    #[test]
    fn prop_rebuild_after_a_cut_at_any_offset_equals_a_core_fed_the_same_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::default();
        let rows = rows(2);
        let (_, _) = session(dir.path(), &cfg, sim(&cfg), &rows, true);
        let all_inputs = inputs(&records(dir.path()));
        let last = segments(dir.path()).pop().unwrap();
        let used = fs::read(&last)
            .unwrap()
            .iter()
            .rposition(|&b| b != 0)
            .unwrap() as u64
            + 1;
        let mut runner = TestRunner::new(RunnerConfig {
            cases: 24,
            ..RunnerConfig::default()
        });
        let offsets = prop_oneof![
            Just(0u64),
            Just(64u64),
            64u64..=used,
            Just(used),
            (used - 40)..=used,
        ];
        runner
            .run(&(offsets, any::<bool>()), |(offset, zero)| {
                let rebuilt = crash_at(dir.path(), &all_inputs, offset, zero);
                prop_assert!(rebuilt.counts.inputs as usize <= all_inputs.len());
                Ok(())
            })
            .unwrap();
    }
}
