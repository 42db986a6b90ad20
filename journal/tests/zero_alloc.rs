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
