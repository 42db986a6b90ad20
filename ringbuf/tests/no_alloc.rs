//! Steady-state hot-path operations allocate nothing after construction.

use ringbuf::{BlockMax, BlockMin, HistoryRing, RollingMax, RollingMin};

#[test]
fn history_and_rolling_pushes_allocate_nothing_after_construction() {
    let mut ring = HistoryRing::new(50);
    let mut max = RollingMax::new(50);
    let mut min = RollingMin::new(50);
    let info = allocation_counter::measure(|| {
        for i in 0..1_000i64 {
            let v = (i * 7919) % 101;
            ring.push(v);
            max.push(v);
            min.push(v);
            std::hint::black_box((ring.get(3), ring.iter().sum::<i64>(), max.max(), min.min()));
            if i == 500 {
                ring.clear();
                max.clear();
                min.clear();
            }
        }
    });
    assert_eq!(info.count_total, 0, "allocations on the hot path: {info:?}");
    assert_eq!(ring.len(), 50);
    assert_eq!(max.len(), 50);
}

#[test]
fn block_max_min_pushes_allocate_nothing_after_construction() {
    let mut max = BlockMax::new(60);
    let mut min = BlockMin::new(20);
    let info = allocation_counter::measure(|| {
        for i in 0..1_000i64 {
            let v = (i * 7919) % 101;
            max.push(v);
            min.push(v);
            std::hint::black_box((max.max(), max.max_age(), min.min(), min.min_age()));
            if i == 500 {
                max.clear();
                min.clear();
            }
        }
    });
    assert_eq!(info.count_total, 0, "allocations on the hot path: {info:?}");
    assert_eq!((max.len(), min.len()), (60, 20));
}

#[test]
fn spsc_push_pop_and_batch_allocate_nothing_after_channel() {
    let (mut tx, mut rx) = ringbuf::spsc::channel::<u64>(64);
    let mut out = [0u64; 16];
    let mut popped = 0u64;
    let info = allocation_counter::measure(|| {
        for i in 0..1_000u64 {
            tx.push(i).unwrap();
            if i % 3 == 0 {
                popped += rx.pop_batch(&mut out) as u64;
            }
        }
        while rx.pop().is_some() {
            popped += 1;
        }
        assert!(tx.push(1).is_ok() && !tx.is_abandoned() && rx.len() == 1);
    });
    assert_eq!(info.count_total, 0, "allocations on the hot path: {info:?}");
    assert_eq!(popped, 1_000);
}
