//! Torn tails and corruption: the reader returns exactly the good prefix, then a corruption
//! error naming the segment and offset (or a clean end at a record boundary); never garbage,
//! never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use journal::{record_len, verify, Corruption, ReadError, Writer, MARKER_LEN, SEGMENT_HEADER_LEN};
use util::{payload, read_all, segment_files, small_options, Owned, Rng};

const SEGMENT_BYTES: usize = 4096;

/// What occupies a byte range of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Header,
    Record(u64),
    Marker,
}

/// Layout of one segment: `(start, end, item)` for every used range.
#[derive(Debug)]
struct Layout {
    path: PathBuf,
    first_seq: u64,
    items: Vec<(usize, usize, Item)>,
    used_end: usize,
}

/// Writes a journal of `count` records with varied sizes and returns them with the layout.
fn build_journal(dir: &Path, count: u64) -> (Vec<Owned>, Vec<Layout>) {
    let mut writer = Writer::open(dir, small_options(SEGMENT_BYTES)).unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut records = Vec::new();
    for i in 0..count {
        let len = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(64) as usize,
            7 | 8 => rng.below(400) as usize,
            _ => 1000 + rng.below(1500) as usize,
        };
        let p = payload(i, len);
        let tag = rng.below(1 << 16) as u16;
        let ts = rng.next_u64() as i64;
        assert_eq!(writer.append(tag, ts, &p).unwrap(), i);
        records.push(Owned {
            seq: i,
            type_tag: tag,
            ts_ns: ts,
            payload: p,
        });
    }
    writer.close().unwrap();

    let files = segment_files(dir);
    let mut layouts = Vec::new();
    let mut next = 0usize;
    for (k, path) in files.iter().enumerate() {
        let first_seq = next as u64;
        let mut items = vec![(0, SEGMENT_HEADER_LEN, Item::Header)];
        let mut offset = SEGMENT_HEADER_LEN;
        let last = k + 1 == files.len();
        while next < records.len() {
            let len = record_len(records[next].payload.len());
            if !last && offset + len > SEGMENT_BYTES - MARKER_LEN {
                break;
            }
            items.push((offset, offset + len, Item::Record(next as u64)));
            offset += len;
            next += 1;
        }
        if !last {
            items.push((offset, offset + MARKER_LEN, Item::Marker));
            offset += MARKER_LEN;
        }
        layouts.push(Layout {
            path: path.clone(),
            first_seq,
            items,
            used_end: offset,
        });
    }
    assert_eq!(next, records.len(), "layout accounts for every record");
    assert!(layouts.len() >= 5, "the journal spans several segments");
    (records, layouts)
}

/// Asserts the reader delivers exactly `records[..good]` and then `Corrupt` at `(path, offset)`.
fn assert_prefix_then_corrupt(
    dir: &Path,
    records: &[Owned],
    good: usize,
    path: &Path,
    offset: usize,
) {
    let (read, err) = read_all(dir);
    assert_eq!(
        read.len(),
        good,
        "good prefix length (corruption at {} {offset})",
        path.display()
    );
    assert_eq!(read[..], records[..good]);
    match err {
        Some(ReadError::Corrupt {
            segment,
            offset: at,
            ..
        }) => {
            assert_eq!((segment.as_path(), at), (path, offset as u64));
        }
        other => panic!(
            "expected corruption at {} {offset}, got {other:?}",
            path.display()
        ),
    }
}

#[test]
fn truncating_the_last_segment_at_every_offset_of_its_last_records_keeps_the_good_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (records, layouts) = build_journal(dir.path(), 300);
    let last = layouts.last().unwrap();
    let original = fs::read(&last.path).unwrap();
    let tail_items: Vec<_> = last.items.iter().rev().take(6).rev().copied().collect();
    let from = tail_items[0].0;
    let mut clean_ends = 0;
    let mut corruptions = 0;
    for cut in from..=last.used_end + 16 {
        fs::write(&last.path, &original[..cut]).unwrap();
        // Records wholly inside the cut file are good.
        let good_in_last = last
            .items
            .iter()
            .filter(|(_, end, item)| matches!(item, Item::Record(_)) && *end <= cut)
            .count();
        let good = last.first_seq as usize + good_in_last;
        let torn = last
            .items
            .iter()
            .find(|(start, end, _)| *start < cut && cut < *end);
        // A cut at a record boundary, or one leaving only zero bytes of a torn record (which
        // cannot be told from preallocated space), is a clean end.
        let boundary = cut >= last.used_end
            || torn.is_none_or(|(start, _, _)| original[*start..cut].iter().all(|&b| b == 0));
        if boundary {
            let (read, err) = read_all(dir.path());
            assert!(
                err.is_none(),
                "cut {cut} at a boundary must be a clean end: {err:?}"
            );
            assert_eq!(read[..], records[..good]);
            clean_ends += 1;
        } else {
            let torn = torn.unwrap();
            assert_prefix_then_corrupt(dir.path(), &records, good, &last.path, torn.0);
            corruptions += 1;
        }
    }
    assert!(
        clean_ends >= 6 && corruptions > 100,
        "{clean_ends} clean ends, {corruptions} corruptions"
    );
}

#[test]
fn flipping_random_bytes_stops_the_reader_at_the_damaged_record() {
    let dir = tempfile::tempdir().unwrap();
    let (records, layouts) = build_journal(dir.path(), 300);
    let mut rng = Rng(0xF11F_F11F_0000_0042);
    for trial in 0..400 {
        let layout = &layouts[rng.below(layouts.len() as u64) as usize];
        let (start, end, item) = layout.items[rng.below(layout.items.len() as u64) as usize];
        let at = start + rng.below((end - start) as u64) as usize;
        let bit = 1u8 << rng.below(8);
        let original = fs::read(&layout.path).unwrap();
        let mut damaged = original.clone();
        damaged[at] ^= bit;
        fs::write(&layout.path, &damaged).unwrap();

        let good = match item {
            Item::Header => layout.first_seq as usize,
            Item::Record(seq) => seq as usize,
            Item::Marker => (layout.first_seq as usize..records.len())
                .find(|&s| {
                    !layout
                        .items
                        .iter()
                        .any(|(_, _, it)| *it == Item::Record(s as u64))
                })
                .unwrap_or(records.len()),
        };
        let (read, err) = read_all(dir.path());
        assert_eq!(
            read[..],
            records[..good],
            "trial {trial}: flip at {at} of {item:?}"
        );
        match err {
            Some(ReadError::Corrupt {
                segment,
                offset,
                reason,
            }) => {
                assert_eq!(segment, layout.path, "trial {trial}");
                assert_eq!(offset, start as u64, "trial {trial}: {reason}");
            }
            None => {
                // Only a flip that zeroes a whole commit word (an empty record of tag 0 losing
                // its kind bit) reads as a clean end; verify must still catch it.
                assert!(
                    item != Item::Header,
                    "trial {trial}: header flip not detected"
                );
                let err = verify(dir.path()).unwrap_err();
                assert!(
                    matches!(err, ReadError::Corrupt { .. }),
                    "trial {trial}: {err}"
                );
            }
            Some(other) => panic!("trial {trial}: {other}"),
        }
        fs::write(&layout.path, &original).unwrap();
    }
}

#[test]
fn flipping_bytes_after_the_last_record_is_a_clean_end_for_readers_but_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (records, layouts) = build_journal(dir.path(), 120);
    let last = layouts.last().unwrap();
    let original = fs::read(&last.path).unwrap();
    for at in [last.used_end + 8, last.used_end + 100, SEGMENT_BYTES - 1] {
        let mut damaged = original.clone();
        damaged[at] = 0x5A;
        fs::write(&last.path, &damaged).unwrap();
        let (read, err) = read_all(dir.path());
        assert!(err.is_none());
        assert_eq!(read, records);
        match verify(dir.path()) {
            Err(ReadError::Corrupt {
                offset,
                reason: Corruption::TrailingGarbage { bytes },
                ..
            }) => {
                assert_eq!(offset, last.used_end as u64);
                assert_eq!(bytes, (at + 1 - last.used_end) as u64);
            }
            other => panic!("expected trailing garbage, got {other:?}"),
        }
    }
    // A non-zero commit word right after the last record is a corrupt record for everyone.
    let mut damaged = original.clone();
    damaged[last.used_end] = 0x01;
    fs::write(&last.path, &damaged).unwrap();
    assert_prefix_then_corrupt(
        dir.path(),
        &records,
        records.len(),
        &last.path,
        last.used_end,
    );
    fs::write(&last.path, &original).unwrap();
    assert_eq!(verify(dir.path()).unwrap().records, records.len() as u64);
}

#[test]
fn a_missing_next_segment_is_reported_at_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (records, layouts) = build_journal(dir.path(), 200);
    let victim = &layouts[2];
    fs::remove_file(&victim.path).unwrap();
    let marker = layouts[1].items.last().unwrap();
    assert_eq!(marker.2, Item::Marker);
    let (read, err) = read_all(dir.path());
    assert_eq!(read[..], records[..victim.first_seq as usize]);
    match err {
        Some(ReadError::Corrupt {
            segment,
            offset,
            reason: Corruption::MissingSegment { first_seq },
        }) => {
            assert_eq!(
                (segment, offset, first_seq),
                (layouts[1].path.clone(), marker.0 as u64, victim.first_seq)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_repeat_until_the_damage_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (records, layouts) = build_journal(dir.path(), 100);
    let last = layouts.last().unwrap();
    let (start, _, _) = last.items[2];
    let original = fs::read(&last.path).unwrap();
    let mut damaged = original.clone();
    damaged[start + 20] ^= 0xFF;
    fs::write(&last.path, &damaged).unwrap();
    let mut reader = journal::Reader::open(dir.path()).unwrap();
    let mut n = 0;
    let first = loop {
        match reader.next() {
            Some(Ok(_)) => n += 1,
            Some(Err(e)) => break e.to_string(),
            None => panic!("expected corruption"),
        }
    };
    assert_eq!(n, last.first_seq as usize + 1);
    let again = reader.next().unwrap().unwrap_err().to_string();
    assert_eq!(first, again);
    assert!(
        first.contains(&last.path.display().to_string()) && first.contains(&start.to_string()),
        "{first}"
    );
    let _ = records;
}
