//! Checkpoints on a paper journal of the synthetic market: a rebuild from a
//! checkpoint equals the rebuild from the first record (the state encodings
//! compared byte for byte) wherever the checkpoint falls, also when it was
//! taken behind the writer; retention removes only segments before the
//! checkpoint; replay of a trimmed journal starts at its oldest checkpoint.

use std::fs;
use std::path::Path;

use super::checkpoint::{self, write_checkpoint, Which};
use super::pass::{From, Pass};
use super::record::SimSession;
use super::tests::{journal_fixture, options, records, rows, rules, sim};
use super::*;
use crate::journal_schema::{self as schema, tags, Mode};

type Rec = (u64, u16, i64, Vec<u8>);

/// The pass from the first record and the pass from the newest checkpoint.
fn both_passes(dir: &Path) -> (Pass, Pass) {
    let (full, _) = Pass::run(dir, StopAt::End, None, From::First, &mut |_| {}).unwrap();
    let (from_checkpoint, _) =
        Pass::run(dir, StopAt::End, None, From::NewestCheckpoint, &mut |_| {}).unwrap();
    (full, from_checkpoint)
}

fn assert_same_state(full: &Pass, from_checkpoint: &Pass) {
    assert!(full.end_state.is_some());
    assert_eq!(
        full.end_state, from_checkpoint.end_state,
        "the states differ"
    );
    assert_eq!(full.next_seq, from_checkpoint.next_seq);
    assert_eq!(full.counts, from_checkpoint.counts);
    assert_eq!(full.unjournaled, from_checkpoint.unjournaled);
    assert!(full.first_mismatch.is_none() && from_checkpoint.first_mismatch.is_none());
}

/// Writes `recs[..k]`, then `recs[k..k + behind]`, then a checkpoint of the
/// state after `recs[..k]`, then the rest, into a journal in `dir`.
fn journal_with_checkpoint(dir: &Path, recs: &[Rec], k: usize, behind: usize) {
    let mut w = journal::Writer::open(dir, options(64 << 10)).unwrap();
    for (_, tag, ts, payload) in &recs[..k] {
        w.append(*tag, *ts, payload).unwrap();
    }
    let state = rebuild(dir).unwrap().checkpoint.unwrap();
    for (_, tag, ts, payload) in &recs[k..k + behind] {
        w.append(*tag, *ts, payload).unwrap();
    }
    let ts = TimestampNs(recs[k].2);
    let first_part = write_checkpoint(&mut w, &state, k as u64, ts).unwrap();
    assert_eq!(first_part, (k + behind) as u64);
    for (_, tag, ts, payload) in &recs[k + behind..] {
        w.append(*tag, *ts, payload).unwrap();
    }
    w.close().unwrap();
}

#[test]
fn a_checkpoint_rebuild_equals_the_full_rebuild_wherever_the_checkpoint_falls() {
    let (fixture, _core, _rows) = journal_fixture();
    let recs = records(fixture.path());
    let n = recs.len();
    // Right after an input whose outputs follow: the state holds them.
    let mid_event = recs
        .windows(2)
        .position(|w| schema::is_input(w[0].1) && schema::is_output(w[1].1))
        .unwrap()
        + 1;
    let mut cuts = vec![1, mid_event, n / 3, n / 2, n - 1];
    let trade_closed = recs.iter().position(|r| r.1 == tags::TRADE_CLOSED).unwrap();
    cuts.push(trade_closed);
    for k in cuts {
        for behind in [0, 7] {
            let dir = tempfile::tempdir().unwrap();
            let behind = behind.min(n - k - 1);
            journal_with_checkpoint(dir.path(), &recs, k, behind);
            let (full, from_checkpoint) = both_passes(dir.path());
            assert_eq!(full.started_at, None);
            assert_eq!(from_checkpoint.started_at, Some(k as u64), "cut {k}");
            assert_same_state(&full, &from_checkpoint);
            // And the public rebuild takes the checkpoint.
            let rebuilt = rebuild(dir.path()).unwrap();
            assert_eq!(rebuilt.started_at, Some(k as u64));
            assert_eq!(rebuilt.checkpoint, full.end_state);
            let report = replay(dir.path(), &mut |_| {}).unwrap();
            assert!(report.first_mismatch.is_none(), "cut {k}");
            assert_eq!(
                report.started_at, None,
                "an untrimmed journal replays whole"
            );
        }
    }
}

#[test]
fn a_restored_state_encodes_to_the_same_bytes_and_garbage_is_refused() {
    let (fixture, _core, _rows) = journal_fixture();
    let state = rebuild(fixture.path()).unwrap().checkpoint.unwrap();
    let pass = checkpoint::restore(&state, None).unwrap();
    assert_eq!(checkpoint::encode(&pass).unwrap().unwrap(), state);
    assert!(checkpoint::restore(&state[..state.len() - 1], None).is_err());
    assert!(checkpoint::restore(b"not a state", None).is_err());
    let mut longer = state.clone();
    longer.push(0);
    assert!(checkpoint::restore(&longer, None).is_err());
}

#[test]
fn a_checkpoint_split_in_parts_across_segments_is_found_and_a_damaged_one_skipped() {
    let (fixture, _core, _rows) = journal_fixture();
    let recs = records(fixture.path());
    let k = recs.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    // 4 KiB segments: the state takes several parts and segments.
    let mut w = journal::Writer::open(dir.path(), options(4096)).unwrap();
    for (_, tag, ts, payload) in &recs[..k] {
        w.append(*tag, *ts, payload).unwrap();
    }
    let state = rebuild(dir.path()).unwrap().checkpoint.unwrap();
    assert!(state.len() > 4096, "{} bytes", state.len());
    write_checkpoint(&mut w, &state, k as u64, TimestampNs(recs[k].2)).unwrap();
    // A second checkpoint whose last part is lost (a crash while writing).
    let later = k + 10;
    for (_, tag, ts, payload) in &recs[k..later] {
        w.append(*tag, *ts, payload).unwrap();
    }
    let parts = state.len().div_ceil(w.max_payload_len() - 64);
    for part in 0..parts - 1 {
        let rec = JournalRecord::Checkpoint {
            state_seq: w.next_seq(),
            part: u32::try_from(part).unwrap(),
            parts: u32::try_from(parts).unwrap(),
            state_bytes: state.len() as u64,
            crc32: crc32fast::hash(&state),
            data: &state[..16],
            ts: TimestampNs(0),
        };
        schema::write(&mut w, TimestampNs(0), &rec).unwrap();
    }
    for (_, tag, ts, payload) in &recs[later..] {
        w.append(*tag, *ts, payload).unwrap();
    }
    w.close().unwrap();
    let found = checkpoint::find(dir.path(), Which::Newest)
        .unwrap()
        .unwrap();
    assert_eq!(found.state_seq, k as u64);
    assert_eq!(found.state, state);
    let (full, from_checkpoint) = both_passes(dir.path());
    assert_eq!(from_checkpoint.started_at, Some(k as u64));
    assert_same_state(&full, &from_checkpoint);
}

/// The segment files of `dir`, oldest first.
fn segment_files(dir: &Path) -> Vec<(u64, std::path::PathBuf)> {
    journal::list_segments(dir).unwrap()
}

#[test]
fn retention_removes_only_segments_before_the_checkpoint_and_replay_starts_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    let rows = rows(2);
    let half = rows.len() / 2;
    let seg = 16 << 10;
    cfg.journal.segment_size_bytes = seg as u64;
    let open = |cfg: &Config, ts| {
        SimSession::open(
            dir.path(),
            cfg,
            &[rules()],
            sim(cfg),
            Mode::Paper,
            ts,
            options(seg),
        )
        .unwrap()
    };
    let mut life = open(&cfg, rows[0].timestamp());
    for r in &rows[..half] {
        life.on_row(r).unwrap();
    }
    life.finish().unwrap();
    let before = segment_files(dir.path());
    assert!(before.len() > 6, "{} segments", before.len());
    assert!(rebuild(dir.path()).unwrap().started_at.is_none());
    let untrimmed = tempfile::tempdir().unwrap();
    for (_, p) in &before {
        fs::copy(p, untrimmed.path().join(p.file_name().unwrap())).unwrap();
    }
    // A restart with a limit of three segments: the checkpoint written at
    // the restart lets retention remove every segment before it.
    cfg.journal.max_total_bytes = 3 * seg as u64;
    let checkpoint_seq = rebuild(dir.path()).unwrap().next_seq;
    let mut life = open(&cfg, rows[half].timestamp());
    let after = segment_files(dir.path());
    let holder = before
        .iter()
        .rev()
        .find(|(s, _)| *s <= checkpoint_seq)
        .unwrap()
        .0;
    let kept_first = after.first().unwrap().0;
    assert!(
        kept_first > 0 && kept_first <= holder,
        "{kept_first} {holder}"
    );
    // Nothing from the checkpoint's segment on is removed; what is removed
    // is the oldest, and only while the journal was over the limit.
    for (first, path) in &before {
        assert_eq!(path.exists(), *first >= kept_first, "{}", path.display());
    }

    for r in &rows[half..] {
        life.on_row(r).unwrap();
    }
    life.finish().unwrap();
    // What was removed is journaled.
    let mut reader = journal::Reader::open(dir.path()).unwrap();
    let mut retention = None;
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        if let Ok(JournalRecord::JournalRetention {
            segments_removed,
            first_seq_kept,
            checkpoint_seq,
            bytes_left,
            ..
        }) = JournalRecord::decode(rec.type_tag, rec.payload)
        {
            retention = Some((segments_removed, first_seq_kept, checkpoint_seq, bytes_left));
        }
    }
    let (removed, kept_from, ck, bytes_left) = retention.unwrap();
    // Removed while over the limit, and only down to it.
    assert!(bytes_left <= cfg.journal.max_total_bytes || kept_from == holder);
    assert!(bytes_left + seg as u64 > cfg.journal.max_total_bytes);
    assert_eq!(
        removed as usize,
        before.iter().filter(|(s, _)| *s < kept_first).count()
    );
    assert_eq!((kept_from, ck), (kept_first, checkpoint_seq));
    // The trimmed journal rebuilds to the state of the whole journal: the
    // removed segments put back beside the trimmed one read from record 0.
    let whole = tempfile::tempdir().unwrap();
    for (_, p) in segment_files(dir.path()) {
        fs::copy(&p, whole.path().join(p.file_name().unwrap())).unwrap();
    }
    for (first, p) in segment_files(untrimmed.path()) {
        if first < kept_first {
            fs::copy(&p, whole.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let (full, _) = Pass::run(whole.path(), StopAt::End, None, From::First, &mut |_| {}).unwrap();
    let trimmed = rebuild(dir.path()).unwrap();
    assert_eq!(trimmed.checkpoint, full.end_state);
    assert_eq!(trimmed.next_seq, full.next_seq);
    // Replay of the trimmed journal starts at its oldest checkpoint and
    // checks every record after it.
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.started_at, Some(checkpoint_seq));
    assert!(report.first_mismatch.is_none());
    assert!(report.torn.is_none());
    assert_eq!(report.next_seq, full.next_seq);
}

#[test]
fn a_journal_trimmed_without_a_checkpoint_is_refused_naming_its_first_record() {
    let (fixture, _core, _rows) = journal_fixture();
    let segments = segment_files(fixture.path());
    assert!(segments.len() > 1);
    fs::remove_file(&segments[0].1).unwrap();
    let err = replay(fixture.path(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, ReplayError::Trimmed { first_seq, .. } if first_seq == segments[1].0),
        "{err}"
    );
    assert!(matches!(
        rebuild(fixture.path()).unwrap_err(),
        ReplayError::Trimmed { .. }
    ));
}
