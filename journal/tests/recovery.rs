//! Reopening after a simulated crash: every good record is kept, the torn tail is zeroed and
//! appends continue with the next sequence number.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

mod util;

use std::fs;
use std::path::Path;

use journal::{record_len, repair, verify, Corruption, OpenError, Writer, SEGMENT_HEADER_LEN};
use util::{payload, read_all, segment_files, small_options, Owned};

const SEG: usize = 4096;

fn write(dir: &Path, from: u64, count: u64, len: usize) -> Vec<Owned> {
    let mut writer = Writer::open(dir, small_options(SEG)).unwrap();
    assert_eq!(writer.next_seq(), from);
    let out = (from..from + count)
        .map(|i| {
            let p = payload(i, len);
            assert_eq!(writer.append(3, i as i64, &p).unwrap(), i);
            Owned {
                seq: i,
                type_tag: 3,
                ts_ns: i as i64,
                payload: p,
            }
        })
        .collect();
    // Simulated crash: no close (Drop leaves the files exactly as a crash after the last
    // append would, apart from the msync).
    drop(writer);
    out
}

fn assert_continues(dir: &Path, mut kept: Vec<Owned>, next_seq: u64) {
    let mut writer = Writer::open(dir, small_options(SEG)).unwrap();
    assert_eq!(writer.next_seq(), next_seq);
    for i in next_seq..next_seq + 40 {
        let p = payload(i, 50);
        assert_eq!(writer.append(4, 0, &p).unwrap(), i);
        kept.push(Owned {
            seq: i,
            type_tag: 4,
            ts_ns: 0,
            payload: p,
        });
    }
    writer.close().unwrap();
    let (read, err) = read_all(dir);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read, kept);
    verify(dir).unwrap();
}

#[test]
fn reopen_after_drop_without_close_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 100, 70);
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    let rec = writer.recovery().clone();
    assert_eq!(
        (rec.last_seq, rec.next_seq, rec.discarded_bytes),
        (Some(99), 100, 0)
    );
    assert!(rec.torn.is_none() && rec.orphaned_segments.is_empty());
    drop(writer);
    assert_continues(dir.path(), written, 100);
}

#[test]
fn reopen_zeroes_a_garbled_tail_and_appends_after_the_last_good_record() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 100, 70);
    let last = segment_files(dir.path()).pop().unwrap();
    // Garble the last three records of the last segment and the zeroes after them.
    let mut bytes = fs::read(&last).unwrap();
    let rec = record_len(70);
    let used_end = (SEGMENT_HEADER_LEN..bytes.len())
        .step_by(rec)
        .find(|&o| bytes[o..o + 8] == [0; 8])
        .unwrap();
    let in_last = (used_end - SEGMENT_HEADER_LEN) / rec;
    assert!(in_last > 3);
    let torn_at = used_end - 3 * rec;
    for b in &mut bytes[torn_at + 40..used_end + 200] {
        *b ^= 0xA5;
    }
    fs::write(&last, &bytes).unwrap();

    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    let rec_report = writer.recovery().clone();
    assert_eq!(rec_report.last_seq, Some(96));
    assert_eq!(rec_report.next_seq, 97);
    let torn = rec_report.torn.clone().unwrap();
    assert_eq!(
        (torn.segment.as_path(), torn.offset),
        (last.as_path(), torn_at as u64)
    );
    assert!(
        matches!(torn.reason, Corruption::ChecksumMismatch { .. }),
        "{:?}",
        torn.reason
    );
    assert_eq!(
        rec_report.discarded_bytes,
        (used_end + 200 - torn_at) as u64
    );
    assert_eq!(torn.discarded_bytes, rec_report.discarded_bytes);
    drop(writer);
    assert_continues(dir.path(), written[..97].to_vec(), 97);
}

#[test]
fn reopen_after_truncation_at_every_offset_of_the_last_record_keeps_the_good_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 30, 100);
    let last = segment_files(dir.path()).pop().unwrap();
    let original = fs::read(&last).unwrap();
    let rec = record_len(100);
    let used_end = (SEGMENT_HEADER_LEN..original.len())
        .step_by(rec)
        .find(|&o| original[o..o + 8] == [0; 8])
        .unwrap();
    let last_start = used_end - rec;
    let snapshot: Vec<_> = segment_files(dir.path());
    for cut in (last_start..=used_end).step_by(3) {
        // Restore the journal as it was after the crash, then cut the last segment.
        for path in segment_files(dir.path()) {
            if !snapshot.contains(&path) {
                fs::remove_file(path).unwrap();
            }
        }
        fs::write(&last, &original[..cut]).unwrap();
        let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
        // Cutting only zero padding loses nothing: regrowing the file restores those zeroes.
        let intact = original[cut..used_end].iter().all(|&b| b == 0);
        let expected_next = if intact { 30 } else { 29 };
        assert_eq!(writer.next_seq(), expected_next, "cut {cut}");
        assert_eq!(
            fs::metadata(&last).unwrap().len(),
            SEG as u64,
            "segment regrown to capacity"
        );
        drop(writer);
        let (read, err) = read_all(dir.path());
        assert!(err.is_none(), "cut {cut}: {err:?}");
        assert_eq!(read[..], written[..expected_next as usize]);
    }
}

#[test]
fn a_lost_end_of_segment_marker_is_rewritten_when_the_next_segment_follows() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 200, 100);
    let files = segment_files(dir.path());
    assert!(files.len() >= 3);
    // Zero the marker of the second-to-last segment, as if it never reached the disk.
    let victim = &files[files.len() - 2];
    let mut bytes = fs::read(victim).unwrap();
    let rec = record_len(100);
    let marker_at = (SEGMENT_HEADER_LEN..)
        .step_by(rec)
        .find(|&o| bytes[o + 6] == 2)
        .unwrap();
    bytes[marker_at..marker_at + 32].fill(0);
    fs::write(victim, &bytes).unwrap();
    assert!(matches!(
        verify(dir.path()),
        Err(journal::ReadError::Corrupt {
            reason: Corruption::MissingMarker { .. },
            ..
        })
    ));

    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.recovery().repaired_markers, 1);
    assert_eq!(writer.next_seq(), 200);
    drop(writer);
    assert_continues(dir.path(), written, 200);
}

#[test]
fn damage_followed_by_intact_records_is_refused_then_repaired_without_deleting() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 200, 100);
    let files = segment_files(dir.path());
    // Damage the middle of the second-to-last segment: intact records follow it.
    let victim = files[files.len() - 2].clone();
    let mut bytes = fs::read(&victim).unwrap();
    let rec = record_len(100);
    let torn_at = SEGMENT_HEADER_LEN + 5 * rec;
    bytes[torn_at + 40] ^= 1;
    fs::write(&victim, &bytes).unwrap();
    let first_seq_victim: u64 = victim.file_name().unwrap().to_str().unwrap()[8..28]
        .parse()
        .unwrap();
    let keep = first_seq_victim + 5;
    let before: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();

    match Writer::open(dir.path(), small_options(SEG)) {
        Err(OpenError::Corrupt {
            segment,
            offset,
            reason: Corruption::ChecksumMismatch { .. },
        }) => assert_eq!((segment, offset), (victim.clone(), torn_at as u64)),
        other => panic!("expected corruption, got {other:?}"),
    }
    // Refusing changed nothing.
    assert_eq!(segment_files(dir.path()), files);
    let after: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    assert!(before == after, "a refused open changed the journal");

    let report = repair(dir.path()).unwrap().unwrap();
    assert_eq!(
        (report.segment.as_path(), report.offset, report.next_seq),
        (victim.as_path(), torn_at as u64, keep)
    );
    assert_eq!(fs::read(&report.damaged_copy).unwrap(), bytes);
    assert_eq!(report.set_aside.len(), 1);
    assert!(report.set_aside[0].exists() && !files.last().unwrap().exists());
    assert_eq!(report.records_set_aside, 200 - keep - 1);
    assert!(
        repair(dir.path()).unwrap().is_none(),
        "a second repair finds nothing"
    );
    assert_continues(dir.path(), written[..keep as usize].to_vec(), keep);
}

#[test]
fn a_torn_segment_header_is_replaced_by_a_fresh_segment() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 200, 100);
    let files = segment_files(dir.path());
    let last = files.last().unwrap();
    let first_seq: u64 = last.file_name().unwrap().to_str().unwrap()[8..28]
        .parse()
        .unwrap();
    fs::write(last, [0u8; 20]).unwrap();
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.next_seq(), first_seq);
    assert_eq!(writer.recovery().torn.as_ref().unwrap().offset, 0);
    drop(writer);
    assert_continues(
        dir.path(),
        written[..first_seq as usize].to_vec(),
        first_seq,
    );
}

#[test]
fn leftover_temporary_segments_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 10, 10);
    fs::write(dir.path().join("journal-next-1-0.seg.tmp"), [1u8; 100]).unwrap();
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.recovery().removed_tmp_files, 1);
    drop(writer);
    assert_continues(dir.path(), written, 10);
}

/// Byte offset just past the last record of every segment but the last (where its end
/// marker is), found by reading the journal.
fn marker_offsets(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut out = Vec::new();
    let mut last: Option<(std::path::PathBuf, u64)> = None;
    while let Some(r) = reader.next() {
        r.unwrap();
        let (path, offset) = reader.position().unwrap();
        if let Some((prev, prev_offset)) = &last {
            if prev != path {
                out.push((prev.clone(), *prev_offset));
            }
        }
        last = Some((path.to_path_buf(), offset));
    }
    out
}

/// Puts the journal in the state a crash leaves when the writer had started appending to its
/// last `started` segments but the background thread had not renamed them nor published the
/// end markers before them.
fn crash_before_background_rotations(dir: &Path, started: usize) {
    let files = segment_files(dir);
    let markers = marker_offsets(dir);
    assert!(files.len() > started + 1, "need more segments");
    for (path, offset) in &markers[markers.len() - started..] {
        let mut bytes = fs::read(path).unwrap();
        let at = *offset as usize;
        bytes[at..at + journal::MARKER_LEN].fill(0);
        fs::write(path, bytes).unwrap();
    }
    for (k, file) in files[files.len() - started..].iter().enumerate() {
        fs::rename(file, dir.join(format!("journal-next-9-{k}.seg.tmp"))).unwrap();
    }
    let (read, err) = read_all(dir);
    assert!(err.is_none(), "{err:?}");
    assert!(
        read.len() < 200,
        "the started segments are hidden before recovery"
    );
}

#[test]
fn a_started_segment_not_yet_renamed_is_adopted_and_its_predecessor_marker_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 200, 100);
    crash_before_background_rotations(dir.path(), 1);
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.recovery().adopted_tmp_segments, 1);
    assert_eq!(writer.recovery().removed_tmp_files, 0);
    assert_eq!(writer.recovery().repaired_markers, 1);
    drop(writer);
    assert_continues(dir.path(), written, 200);
}

#[test]
fn several_started_segments_not_yet_renamed_are_all_adopted_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 200, 100);
    crash_before_background_rotations(dir.path(), 3);
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.recovery().adopted_tmp_segments, 3);
    assert_eq!(writer.recovery().repaired_markers, 3);
    drop(writer);
    assert_continues(dir.path(), written, 200);
}

#[test]
fn a_prepared_segment_never_started_is_removed_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 0, 10, 10);
    // A preallocated, never-started segment: right size, all zero (no header).
    fs::write(dir.path().join("journal-next-1-7.seg.tmp"), vec![0u8; SEG]).unwrap();
    let writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.recovery().adopted_tmp_segments, 0);
    assert_eq!(writer.recovery().removed_tmp_files, 1);
    drop(writer);
    assert_continues(dir.path(), written, 10);
}
