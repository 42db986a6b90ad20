//! `repair` for each kind of damage (record, wiped header of a record, segment header, torn
//! tail) keeps every record before it and deletes nothing; `apply_retention` removes only whole
//! old segments before the first record the caller needs, oldest first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

mod util;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use journal::{
    apply_retention, record_len, repair, Corruption, OpenError, RetentionPolicy, Writer,
    SEGMENT_HEADER_LEN,
};
use util::{payload, read_all, segment_files, small_options, Owned};

const SEG: usize = 4096;
const LEN: usize = 100;

fn write(dir: &Path, count: u64) -> Vec<Owned> {
    let mut writer = Writer::open(dir, small_options(SEG)).unwrap();
    let out = (0..count)
        .map(|i| {
            let p = payload(i, LEN);
            assert_eq!(writer.append(3, i as i64, &p).unwrap(), i);
            Owned {
                seq: i,
                type_tag: 3,
                ts_ns: i as i64,
                payload: p,
            }
        })
        .collect();
    writer.close().unwrap();
    out
}

fn first_seq(path: &Path) -> u64 {
    path.file_name().unwrap().to_str().unwrap()[8..28]
        .parse()
        .unwrap()
}

fn all_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Damages the newest segment with `damage`, checks the writer refuses it with `reason`, then
/// that repair keeps exactly the records before `keep` and the writer continues after them.
fn refused_then_repaired(
    damage: impl Fn(&mut Vec<u8>),
    reason: impl Fn(&Corruption) -> bool,
    keep: impl Fn(u64) -> u64,
) {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 120);
    let newest = segment_files(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&newest).unwrap();
    damage(&mut bytes);
    fs::write(&newest, &bytes).unwrap();
    let before = all_files(dir.path());
    match Writer::open(dir.path(), small_options(SEG)) {
        Err(OpenError::Corrupt {
            segment, reason: r, ..
        }) => {
            assert_eq!(segment, newest);
            assert!(reason(&r), "{r:?}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(
        all_files(dir.path()),
        before,
        "a refused open changed files"
    );
    let report = repair(dir.path()).unwrap().unwrap();
    let keep = keep(first_seq(&newest));
    assert_eq!((report.first_seq, report.next_seq), (0, keep));
    assert_eq!(report.records_kept(), keep);
    assert_eq!(fs::read(&report.damaged_copy).unwrap(), bytes);
    let (read, err) = read_all(dir.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read, written[..keep as usize]);
    let mut writer = Writer::open(dir.path(), small_options(SEG)).unwrap();
    assert_eq!(writer.append(9, 0, b"after repair").unwrap(), keep);
    writer.close().unwrap();
    journal::verify(dir.path()).unwrap();
}

#[test]
fn a_bad_record_before_intact_ones_is_refused_and_repaired() {
    let at = SEGMENT_HEADER_LEN + record_len(LEN);
    refused_then_repaired(
        |b| b[at + 50] ^= 0x10,
        |r| matches!(r, Corruption::ChecksumMismatch { .. }),
        |first| first + 1,
    );
}

#[test]
fn a_wiped_record_header_before_intact_ones_is_refused_and_repaired() {
    let at = SEGMENT_HEADER_LEN + 2 * record_len(LEN);
    refused_then_repaired(
        |b| b[at..at + 8].fill(0),
        |r| matches!(r, Corruption::LostRecord { .. }),
        |first| first + 2,
    );
}

#[test]
fn a_damaged_length_field_does_not_hide_the_records_after_it() {
    let at = SEGMENT_HEADER_LEN + record_len(LEN);
    refused_then_repaired(
        |b| b[at + 1] ^= 0x7F,
        |r| {
            matches!(
                r,
                Corruption::RecordTooLong { .. } | Corruption::ChecksumMismatch { .. }
            )
        },
        |first| first + 1,
    );
}

#[test]
fn a_damaged_segment_header_before_records_is_refused_and_repaired() {
    refused_then_repaired(
        |b| b[20] ^= 0x01,
        |r| matches!(r, Corruption::BadSegmentHeader(_)),
        |first| first,
    );
}

#[test]
fn repair_also_truncates_a_torn_tail_and_a_clean_journal_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 50);
    assert!(repair(dir.path()).unwrap().is_none());
    let newest = segment_files(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&newest).unwrap();
    let end = bytes.len() - 64;
    bytes[end] = 0xEE;
    fs::write(&newest, &bytes).unwrap();
    let report = repair(dir.path()).unwrap().unwrap();
    assert!(matches!(
        report.reason,
        Corruption::TrailingGarbage { bytes: 1.. }
    ));
    assert_eq!(report.next_seq, 50);
    let (read, err) = read_all(dir.path());
    assert!(err.is_none());
    assert_eq!(read, written);
    journal::verify(dir.path()).unwrap();
    assert!(report.damaged_copy.exists());
}

#[test]
fn retention_removes_only_whole_segments_before_the_first_needed_record() {
    let dir = tempfile::tempdir().unwrap();
    let written = write(dir.path(), 300);
    let files = segment_files(dir.path());
    assert!(files.len() > 6);
    let seg_bytes = fs::metadata(&files[0]).unwrap().len();
    let keep_from = first_seq(&files[4]) + 3;
    let policy = RetentionPolicy {
        max_total_bytes: 2 * seg_bytes,
        max_age: Duration::ZERO,
    };
    let report = apply_retention(dir.path(), &policy, keep_from, SystemTime::now()).unwrap();
    // Segments 0..4 hold only records before keep_from; segment 4 holds keep_from itself.
    assert_eq!(report.removed, files[..4].to_vec());
    assert_eq!(report.removed_bytes, 4 * seg_bytes);
    assert_eq!(report.segments_left, files.len() - 4);
    assert!(
        report.limit_exceeded,
        "the needed segments stay over the limit"
    );
    let (read, err) = read_all(dir.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read, written[first_seq(&files[4]) as usize..]);
    // Applying it again removes nothing more.
    let again = apply_retention(dir.path(), &policy, keep_from, SystemTime::now()).unwrap();
    assert!(again.removed.is_empty());
}

#[test]
fn retention_by_age_never_removes_the_newest_segment_or_a_needed_one() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 300);
    let files = segment_files(dir.path());
    fs::write(
        dir.path().join("journal-00000000000000000000.seg.damaged"),
        b"kept",
    )
    .unwrap();
    let policy = RetentionPolicy {
        max_total_bytes: 0,
        max_age: Duration::from_secs(86_400),
    };
    let later = SystemTime::now() + Duration::from_secs(2 * 86_400);
    // Nothing is old yet.
    let report = apply_retention(dir.path(), &policy, u64::MAX, SystemTime::now()).unwrap();
    assert!(report.removed.is_empty() && !report.limit_exceeded);
    // Everything is old, but the first record is needed: nothing goes.
    let report = apply_retention(dir.path(), &policy, 0, later).unwrap();
    assert!(report.removed.is_empty() && report.limit_exceeded);
    // Nothing is needed: every segment but the newest goes; other files stay.
    let report = apply_retention(dir.path(), &policy, u64::MAX, later).unwrap();
    assert_eq!(report.removed, files[..files.len() - 1].to_vec());
    assert_eq!(segment_files(dir.path()), files[files.len() - 1..].to_vec());
    assert!(dir
        .path()
        .join("journal-00000000000000000000.seg.damaged")
        .exists());
    let report = apply_retention(dir.path(), &RetentionPolicy::default(), 0, later).unwrap();
    assert!(report.removed.is_empty() && !report.limit_exceeded);
}
