//! The golden journal: a small journal written by the schema's first release
//! (`golden/`: segment files plus `expected.txt`, the text rendering of
//! every record). "Stable forever" means these bytes decode, forever, to
//! this rendering, and today's encoder still writes these bytes: a change to
//! a field's encoding fails here even when encode and decode change together
//! (a round trip cannot see that).
//!
//! The journal holds one record of every tag known when it was written. A
//! new tag gets its sample in `tests.rs`; the golden journal is never
//! rewritten. (`write_golden_journal` is the ignored test that wrote it,
//! kept so the procedure is on record: it refuses to overwrite.)

use super::tests::{rules_raw, samples};
use super::*;
use std::path::PathBuf;

/// Segment size of the golden journal: small, so it spans several segments.
const GOLDEN_SEGMENT_BYTES: usize = 1024;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/journal_schema/golden")
}

/// Timestamp of the golden record at `i` (distinct, increasing, realistic).
fn golden_ts(i: usize) -> i64 {
    1_700_000_000_000_000_000 + i as i64 * 1_000_000_007
}

fn render_all(dir: &std::path::Path) -> (String, Vec<(u16, Vec<u8>)>) {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut text = String::new();
    let mut raw = Vec::new();
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        let decoded = JournalRecord::decode(rec.type_tag, rec.payload)
            .unwrap_or_else(|e| panic!("golden record {} (tag {}): {e}", rec.seq, rec.type_tag));
        render_text(&mut text, rec.seq, rec.type_tag, rec.ts_ns, &decoded);
        text.push('\n');
        raw.push((rec.type_tag, rec.payload.to_vec()));
    }
    (text, raw)
}

#[test]
fn golden_journal_decodes_to_its_recorded_rendering() {
    let (text, raw) = render_all(&golden_dir());
    let expected = std::fs::read_to_string(golden_dir().join("expected.txt")).unwrap();
    assert_eq!(
        text, expected,
        "the golden journal no longer renders as recorded"
    );
    let mut tags_seen: Vec<u16> = raw.iter().map(|(t, _)| *t).collect();
    tags_seen.sort_unstable();
    tags_seen.dedup();
    assert!(
        tags_seen.len() >= 40,
        "every tag of the first release: {tags_seen:?}"
    );
}

#[test]
fn todays_encoder_writes_the_golden_bytes() {
    let (_, raw) = render_all(&golden_dir());
    let rules = rules_raw();
    let all = samples(&rules);
    for (tag, bytes) in &raw {
        let sample = all
            .iter()
            .find(|r| r.tag() == *tag)
            .unwrap_or_else(|| panic!("tag {tag} lost its sample"));
        let mut buf = vec![0u8; sample.encoded_len()];
        sample.encode(&mut buf);
        assert_eq!(
            &buf,
            bytes,
            "tag {tag} ({:?}) encodes differently",
            type_name(*tag)
        );
    }
}

/// Copies the golden journal's segment files into `to`.
fn copy_golden(to: &std::path::Path) {
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "seg") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn the_golden_journal_verifies_and_a_writer_continues_it_in_the_new_format() {
    // The golden segments are format version 1 (CRC-32); they verify as they are.
    let golden = journal::verify(golden_dir()).unwrap();
    assert!(golden.records >= 40, "{golden:?}");
    // A writer of today continues the last version-1 segment with its own checksum,
    // then rotates into version-2 (CRC-32C) segments: the mixed journal verifies and
    // reads back completely, old records first, rendering as recorded.
    let dir = tempfile::tempdir().unwrap();
    copy_golden(dir.path());
    let opts = journal::WriterOptions {
        segment_bytes: GOLDEN_SEGMENT_BYTES,
        durability: journal::Durability::None,
        prefault: false,
        precreate_next: false,
    };
    let mut w = journal::Writer::open(dir.path(), opts).unwrap();
    assert_eq!(w.next_seq(), golden.records);
    let rules = rules_raw();
    let all = samples(&rules);
    let first_new = w.next_seq();
    let trade = all
        .iter()
        .find(|r| r.tag() == tags::TRADE)
        .expect("a trade sample");
    for i in 0..100 {
        write(&mut w, TimestampNs(golden_ts(i)), trade).unwrap();
    }
    assert!(w.stats().rotations >= 3, "{:?}", w.stats());
    w.close().unwrap();
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        versions.push(u32::from_le_bytes(bytes[8..12].try_into().unwrap()));
    }
    assert!(
        versions.contains(&journal::MIN_FORMAT_VERSION),
        "{versions:?}"
    );
    assert!(versions.contains(&journal::FORMAT_VERSION), "{versions:?}");
    let mixed = journal::verify(dir.path()).unwrap();
    assert_eq!(mixed.records, golden.records + 100, "{mixed:?}");
    let (text, raw) = render_all(dir.path());
    let expected = std::fs::read_to_string(golden_dir().join("expected.txt")).unwrap();
    assert!(
        text.starts_with(&expected),
        "the old records read as recorded"
    );
    assert_eq!(raw.len() as u64, first_new + 100);
}

#[test]
#[ignore = "wrote the golden journal once; refuses to overwrite it"]
fn write_golden_journal() {
    let dir = golden_dir();
    assert!(
        !dir.join("expected.txt").exists(),
        "the golden journal is never rewritten"
    );
    std::fs::create_dir_all(&dir).unwrap();
    let rules = rules_raw();
    let all = samples(&rules);
    let opts = journal::WriterOptions {
        segment_bytes: GOLDEN_SEGMENT_BYTES,
        ..journal::WriterOptions::default()
    };
    let mut w = journal::Writer::open(&dir, opts).unwrap();
    for (i, r) in all.iter().enumerate() {
        write(&mut w, TimestampNs(golden_ts(i)), r).unwrap();
    }
    w.close().unwrap();
    let (text, _) = render_all(&dir);
    std::fs::write(dir.join("expected.txt"), text).unwrap();
}
