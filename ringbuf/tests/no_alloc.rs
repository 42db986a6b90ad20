//! Steady-state hot-path operations allocate nothing after construction.

use ringbuf::{HistoryRing, RollingMax, RollingMin};

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
