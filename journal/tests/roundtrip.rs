//! Round trips through `Writer` and `Reader`: rotation, durability modes, zero-copy appends,
//! limits, and random records (property tests).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

mod util;

use std::time::Duration;

use journal::{
    max_payload_len, record_len, verify, AppendError, Durability, Reader, Writer, WriterOptions,
    MARKER_LEN, SEGMENT_HEADER_LEN,
};
use util::{payload, read_all, segment_files, small_options, Owned};

fn write_records(writer: &mut Writer, count: u64, len_of: impl Fn(u64) -> usize) -> Vec<Owned> {
    (0..count)
        .map(|i| {
            let p = payload(i, len_of(i));
            let tag = (i % 7) as u16;
            let ts = i as i64 * 1_000 - 5;
            let seq = writer.append(tag, ts, &p).expect("append");
            assert_eq!(seq, i);
            Owned {
                seq,
                type_tag: tag,
                ts_ns: ts,
                payload: p,
            }
        })
        .collect()
}

#[test]
fn records_round_trip_across_many_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(dir.path(), small_options(1024)).unwrap();
    let written = write_records(&mut writer, 300, |i| (i as usize * 13) % 200);
    writer.close().unwrap();
    let (read, err) = read_all(dir.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read, written);
    assert!(
        segment_files(dir.path()).len() > 20,
        "expected many rotations"
    );
    let summary = verify(dir.path()).unwrap();
    assert_eq!(summary.records, 300);
    assert_eq!(summary.segments, segment_files(dir.path()).len());
}

#[test]
fn empty_and_maximum_payloads_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let seg = 4096;
    let mut writer = Writer::open(dir.path(), small_options(seg)).unwrap();
    let max = max_payload_len(seg);
    assert_eq!(writer.max_payload_len(), max);
    assert_eq!(writer.append(1, 0, &[]).unwrap(), 0);
    assert_eq!(writer.append(2, 1, &payload(1, max)).unwrap(), 1);
    assert_eq!(writer.append(3, 2, &[]).unwrap(), 2);
    let err = writer.append(4, 3, &payload(3, max + 1)).unwrap_err();
    assert!(matches!(err, AppendError::TooLarge { len, max: m } if len == max + 1 && m == max));
    assert_eq!(
        writer.next_seq(),
        3,
        "a rejected append consumes no sequence number"
    );
    drop(writer);
    let (read, err) = read_all(dir.path());
    assert!(err.is_none());
    assert_eq!(
        read.iter().map(|r| r.payload.len()).collect::<Vec<_>>(),
        [0, max, 0]
    );
    assert_eq!(read[1].payload, payload(1, max));
}

#[test]
fn a_record_that_exactly_fills_the_segment_needs_no_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let seg = 1024;
    let mut writer = Writer::open(dir.path(), small_options(seg)).unwrap();
    let len = seg - SEGMENT_HEADER_LEN - MARKER_LEN - 32;
    assert_eq!(record_len(len), seg - SEGMENT_HEADER_LEN - MARKER_LEN);
    writer.append(0, 0, &payload(0, len)).unwrap();
    assert_eq!(segment_files(dir.path()).len(), 1);
    writer.append(0, 0, &[]).unwrap();
    assert_eq!(segment_files(dir.path()).len(), 2);
    drop(writer);
    assert_eq!(read_all(dir.path()).0.len(), 2);
}

#[test]
fn append_with_serializes_into_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(dir.path(), small_options(4096)).unwrap();
    for i in 0..50u64 {
        let seq = writer
            .append_with(9, i as i64, 24, |buf| {
                assert!(buf.iter().all(|&b| b == 0), "buffer starts zeroed");
                buf[..8].copy_from_slice(&i.to_le_bytes());
                buf[8..16].copy_from_slice(&(i * 2).to_le_bytes());
            })
            .unwrap();
        assert_eq!(seq, i);
    }
    drop(writer);
    let (read, err) = read_all(dir.path());
    assert!(err.is_none());
    for (i, r) in read.iter().enumerate() {
        let i = i as u64;
        assert_eq!(r.payload[..8], i.to_le_bytes());
        assert_eq!(r.payload[8..16], (i * 2).to_le_bytes());
        assert_eq!(r.payload[16..], [0; 8]);
    }
}

#[test]
fn a_panicking_append_with_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(dir.path(), small_options(4096)).unwrap();
    writer.append(1, 1, b"before").unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = writer.append_with(1, 2, 100, |buf| {
            buf.fill(0xFF);
            panic!("serializer failed");
        });
    }));
    assert!(result.is_err());
    assert_eq!(writer.next_seq(), 1);
    writer.append(1, 3, b"after").unwrap();
    writer.close().unwrap();
    let (read, err) = read_all(dir.path());
    assert!(err.is_none());
    assert_eq!(
        read.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(),
        [b"before".to_vec(), b"after".to_vec()]
    );
    verify(dir.path()).expect("no garbage left after the panicking closure");
}

fn durability_round_trip(durability: Durability, precreate: bool) {
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions {
        segment_bytes: 8192,
        durability,
        prefault: true,
        precreate_next: precreate,
    };
    let mut writer = Writer::open(dir.path(), options).unwrap();
    let written = write_records(&mut writer, 400, |i| (i as usize * 29) % 300);
    writer.flush().unwrap();
    writer.sync().unwrap();
    let more = write_records_from(&mut writer, 400, 100);
    writer.close().unwrap();
    let (read, err) = read_all(dir.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read.len(), 500);
    assert_eq!(read[..400], written[..]);
    assert_eq!(read[400..], more[..]);
    verify(dir.path()).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".seg"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

fn write_records_from(writer: &mut Writer, first: u64, count: u64) -> Vec<Owned> {
    (first..first + count)
        .map(|i| {
            let p = payload(i, 40);
            let seq = writer.append(1, 0, &p).unwrap();
            assert_eq!(seq, i);
            Owned {
                seq,
                type_tag: 1,
                ts_ns: 0,
                payload: p,
            }
        })
        .collect()
}

#[test]
fn durability_none_round_trips() {
    durability_round_trip(Durability::None, false);
}

#[test]
fn durability_interval_round_trips_with_precreated_segments() {
    durability_round_trip(Durability::Interval(Duration::from_millis(1)), true);
}

#[test]
fn durability_interval_round_trips_without_precreation() {
    durability_round_trip(Durability::Interval(Duration::from_millis(5)), false);
}

#[test]
fn durability_every_record_round_trips() {
    durability_round_trip(Durability::EveryRecord, true);
}

#[test]
fn invalid_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for options in [
        small_options(100),
        small_options(4097),
        WriterOptions {
            durability: Durability::Interval(Duration::ZERO),
            ..small_options(4096)
        },
    ] {
        let err = Writer::open(dir.path(), options).unwrap_err();
        assert!(
            matches!(err, journal::OpenError::InvalidOptions(_)),
            "{err}"
        );
    }
}

#[test]
fn reader_of_an_empty_or_missing_directory_sees_a_clean_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Reader::open(dir.path().join("not-yet")).unwrap();
    assert!(reader.next().is_none());
    let mut writer = Writer::open(dir.path().join("not-yet"), small_options(4096)).unwrap();
    writer.append(5, 5, b"first").unwrap();
    let record = reader.next().unwrap().unwrap();
    assert_eq!((record.seq, record.payload), (0, &b"first"[..]));
}

#[test]
fn reopen_after_close_continues_the_sequence_in_the_same_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(dir.path(), small_options(8192)).unwrap();
    write_records(&mut writer, 10, |_| 16);
    writer.close().unwrap();
    let mut writer = Writer::open(dir.path(), small_options(8192)).unwrap();
    let rec = writer.recovery().clone();
    assert_eq!(
        (rec.last_seq, rec.next_seq, rec.discarded_bytes),
        (Some(9), 10, 0)
    );
    assert!(rec.torn.is_none());
    assert_eq!(writer.append(0, 0, b"x").unwrap(), 10);
    drop(writer);
    assert_eq!(segment_files(dir.path()).len(), 1);
    assert_eq!(read_all(dir.path()).0.len(), 11);
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn payload_len() -> impl Strategy<Value = usize> {
        prop_oneof![
            3 => Just(0usize),
            5 => 1usize..16,
            5 => 16usize..300,
            1 => 300usize..=max_payload_len(4096),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn prop_random_records_round_trip_across_rotations(
            records in proptest::collection::vec(
                (any::<u16>(), any::<i64>(), payload_len(), any::<u8>()),
                0..120,
            ),
            segment_kib in 1usize..=4,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let seg = segment_kib * 1024;
            let mut writer = Writer::open(dir.path(), small_options(seg)).unwrap();
            let mut expected = Vec::new();
            for (tag, ts, len, fill) in records {
                let p = vec![fill; len];
                match writer.append(tag, ts, &p) {
                    Ok(seq) => expected.push(Owned { seq, type_tag: tag, ts_ns: ts, payload: p }),
                    Err(AppendError::TooLarge { .. }) => prop_assert!(len > max_payload_len(seg)),
                    Err(e) => panic!("{e}"),
                }
            }
            drop(writer);
            let (read, err) = read_all(dir.path());
            prop_assert!(err.is_none());
            prop_assert_eq!(read, expected);
        }
    }
}
