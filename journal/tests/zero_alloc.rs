//! The steady-state append path allocates nothing (counting global allocator).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions may panic on failure"
)]

use journal::{Durability, Writer, WriterOptions};

fn writer(dir: &std::path::Path, durability: Durability) -> Writer {
    let options = WriterOptions {
        segment_bytes: 1 << 20,
        durability,
        prefault: true,
        precreate_next: false,
    };
    Writer::open(dir, options).unwrap()
}

#[test]
fn append_and_append_with_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = writer(dir.path(), Durability::None);
    writer.append(0, 0, b"warm-up").unwrap();
    let payload = [0x42u8; 64];
    let info = allocation_counter::measure(|| {
        for i in 0..2_000 {
            writer.append(1, i, &payload).unwrap();
            writer
                .append_with(2, i, 16, |buf| buf.copy_from_slice(&[1; 16]))
                .unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert_eq!(writer.next_seq(), 4_001);
}

#[test]
fn append_with_an_interval_flusher_does_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = writer(
        dir.path(),
        Durability::Interval(std::time::Duration::from_millis(1)),
    );
    writer.append(0, 0, b"warm-up").unwrap();
    let info = allocation_counter::measure(|| {
        for i in 0..2_000 {
            writer.append(1, i, &[7u8; 100]).unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// Appends across `rotations` segment rotations with the preparer thread and returns the
/// allocations counted on this (the writer's) thread. Before each rotation the test waits for
/// the prepared segment, so every rotation takes the common path (a rotation that does not is
/// counted in `stats().inline_segment_creates`, asserted 0).
fn allocations_across_rotations(durability: Durability, rotations: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions {
        segment_bytes: 64 << 10,
        durability,
        prefault: true,
        precreate_next: true,
    };
    let mut writer = Writer::open(dir.path(), options).unwrap();
    let payload = [0x5au8; 200];
    // Warm-up: one full rotation, so every lazily initialised piece (channel, thread-locals,
    // futex paths) has run once.
    let mut ts = 0;
    let timeout = std::time::Duration::from_secs(10);
    assert!(writer.wait_next_segment_ready(timeout), "preparer stalled");
    while writer.stats().rotations < 1 {
        writer.append(1, ts, &payload).unwrap();
        ts += 1;
    }
    let mut allocations = 0;
    for target in 2..=rotations + 1 {
        assert!(writer.wait_next_segment_ready(timeout), "preparer stalled");
        let info = allocation_counter::measure(|| {
            while writer.stats().rotations < target {
                writer.append(1, ts, &payload).unwrap();
                ts += 1;
            }
        });
        allocations += info.count_total;
    }
    let stats = writer.stats();
    assert_eq!(stats.rotations, rotations + 1);
    assert_eq!(stats.inline_segment_creates, 0, "{stats:?}");
    writer.sync().unwrap();
    assert_eq!(writer.stats().background_rotations, rotations + 1);
    writer.close().unwrap();
    let summary = journal::verify(dir.path()).unwrap();
    assert_eq!(summary.records, ts as u64);
    allocations
}

#[test]
fn rotations_with_the_preparer_thread_do_not_allocate_on_the_writer_thread() {
    assert_eq!(allocations_across_rotations(Durability::None, 6), 0);
}

#[test]
fn rotations_with_flusher_and_preparer_threads_do_not_allocate_on_the_writer_thread() {
    let durability = Durability::Interval(std::time::Duration::from_millis(1));
    assert_eq!(allocations_across_rotations(durability, 6), 0);
}

#[test]
fn rotations_without_the_preparer_thread_allocate_which_the_test_can_see() {
    // Guards the two tests above against a counter that never counts.
    let dir = tempfile::tempdir().unwrap();
    let mut writer = writer(dir.path(), Durability::None);
    let info = allocation_counter::measure(|| {
        while writer.stats().rotations < 1 {
            writer.append(1, 0, &[1u8; 500]).unwrap();
        }
    });
    assert!(info.count_total > 0, "{info:?}");
}
