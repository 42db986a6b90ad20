//! Follow (tail) mode: a reader polls a journal that a writer thread is appending to, across
//! segment rotations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

mod util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use journal::{Durability, Reader, Writer, WriterOptions};
use util::{payload, segment_files};

fn follow(options: WriterOptions, count: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    // The reader starts before the writer created anything.
    let mut reader = Reader::open(&path).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writer_done = Arc::clone(&done);
    let writer_path = path.clone();
    let writer = thread::spawn(move || {
        let mut writer = Writer::open(&writer_path, options).unwrap();
        for i in 0..count {
            let len = (i as usize * 37) % 180;
            assert_eq!(
                writer
                    .append((i % 5) as u16, i as i64, &payload(i, len))
                    .unwrap(),
                i
            );
            if i % 64 == 0 {
                thread::yield_now();
            }
        }
        writer_done.store(true, Ordering::Release);
        // Keep the writer (and its maps) alive until the reader is done.
        writer
    });

    // Bounded wait so a bug cannot hang the test suite; not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next = 0u64;
    while next < count {
        match reader.next() {
            Some(Ok(record)) => {
                assert_eq!(record.seq, next);
                assert_eq!(record.type_tag, (next % 5) as u16);
                assert_eq!(record.ts_ns, next as i64);
                assert_eq!(record.payload, payload(next, (next as usize * 37) % 180));
                next += 1;
            }
            Some(Err(e)) => panic!("reader failed on a live journal at record {next}: {e}"),
            None => {
                assert!(Instant::now() < deadline, "reader stuck at record {next}");
                thread::yield_now();
            }
        }
    }
    let mut writer = writer.join().unwrap();
    assert!(done.load(Ordering::Acquire));
    writer.sync().unwrap();
    assert!(reader.next().is_none(), "nothing after the last record");
    let segments = segment_files(&path).len();
    assert!(
        segments > 5,
        "only {segments} segments: no rotation exercised"
    );
    let stats = writer.stats();
    assert_eq!(stats.rotations, segments as u64 - 1, "{stats:?}");
    if options.precreate_next {
        assert_eq!(stats.background_rotations, stats.rotations, "{stats:?}");
    }
    writer.close().unwrap();
}

#[test]
fn reader_follows_a_concurrent_writer_across_rotations() {
    let options = WriterOptions {
        segment_bytes: 8192,
        durability: Durability::None,
        prefault: false,
        precreate_next: false,
    };
    follow(options, 3000);
}

#[test]
fn reader_follows_a_writer_with_flusher_and_preparer_threads() {
    let options = WriterOptions {
        segment_bytes: 16384,
        durability: Durability::Interval(Duration::from_millis(1)),
        prefault: true,
        precreate_next: true,
    };
    follow(options, 3000);
}

#[test]
fn reader_follows_a_writer_whose_rotations_complete_on_the_preparer_thread() {
    // Tiny segments: many rotations in flight at once, so the reader regularly waits at the
    // end of a segment whose marker the background thread has not published yet.
    let options = WriterOptions {
        segment_bytes: 4096,
        durability: Durability::None,
        prefault: false,
        precreate_next: true,
    };
    follow(options, 3000);
}

#[test]
fn reader_opened_mid_stream_catches_up_and_follows() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Writer::open(
        dir.path(),
        WriterOptions {
            segment_bytes: 4096,
            durability: Durability::None,
            prefault: false,
            precreate_next: true,
        },
    )
    .unwrap();
    for i in 0..100 {
        writer.append(0, i, &[1; 50]).unwrap();
    }
    let mut reader = Reader::open(dir.path()).unwrap();
    let mut seen = 0;
    // Records of a new segment become visible once the background thread has renamed it and
    // published the marker of the old one: poll, as a follower does.
    read_until(&mut reader, &mut seen, 100);
    for round in 0..5u64 {
        for i in 0..40 {
            writer.append(1, i, &[2; 70]).unwrap();
        }
        read_until(&mut reader, &mut seen, 100 + 40 * (round + 1));
    }
    writer.sync().unwrap();
    assert!(reader.next().is_none(), "nothing after the last record");
    let (path, offset) = reader.position().unwrap();
    assert_eq!(path, writer.current_segment());
    assert!(offset > 64);
}

/// Reads records in order until `target` records were seen; bounded wait (not a timing
/// assertion).
fn read_until(reader: &mut Reader, seen: &mut u64, target: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while *seen < target {
        match reader.next() {
            Some(r) => {
                assert_eq!(r.unwrap().seq, *seen);
                *seen += 1;
            }
            None => {
                assert!(Instant::now() < deadline, "reader stuck at record {seen}");
                thread::sleep(Duration::from_millis(1));
            }
        }
    }
}
