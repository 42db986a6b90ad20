//! Two-thread stress tests of the SPSC queue: sequence numbers cross the
//! threads in order, none lost, none duplicated. Loop counts are scaled down
//! under Miri.

use ringbuf::spsc::{self, PushError};

/// Sequence numbers moved by the single-value test.
const COUNT: u64 = if cfg!(miri) { 2_000 } else { 10_000_000 };
/// Sequence numbers moved by the batch test (small queue, many wraps). Kept
/// small: with 8 slots nearly every hand-off waits for the other thread, which
/// on a loaded 2-core machine means a yield (13 s for 2 * 10^6 at load 20).
const BATCH_COUNT: u64 = if cfg!(miri) { 2_000 } else { 200_000 };

/// Backs off while the other thread is descheduled: the machine running the
/// tests is busy, and a pure spin would burn the other thread's time slice.
fn back_off(failures: &mut u32) {
    *failures += 1;
    if *failures < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

fn produce(mut tx: spsc::Producer<u64>, count: u64) {
    let mut failures = 0;
    for seq in 0..count {
        let mut value = seq;
        loop {
            match tx.push(value) {
                Ok(()) => break,
                Err(PushError::Full(back)) => {
                    assert!(!tx.is_abandoned(), "Consumer gone before the end");
                    value = back;
                    back_off(&mut failures);
                }
            }
        }
        failures = 0;
    }
}

#[test]
fn ten_million_sequence_numbers_arrive_in_order_without_loss_or_duplicates() {
    let (tx, mut rx) = spsc::channel::<u64>(1024);
    let producer = std::thread::spawn(move || produce(tx, COUNT));
    let mut expected = 0u64;
    let mut failures = 0;
    loop {
        match rx.pop() {
            Some(seq) => {
                assert_eq!(seq, expected, "out of order, lost or duplicated");
                expected += 1;
                failures = 0;
            }
            // Abandoned and empty: the producer has finished (its pushes are
            // visible once the flag is), so a last empty pop means the end.
            None if rx.is_abandoned() => {
                if rx.is_empty() {
                    break;
                }
            }
            None => back_off(&mut failures),
        }
    }
    producer.join().unwrap();
    assert_eq!(expected, COUNT);
}

#[test]
fn batched_pops_through_a_tiny_queue_keep_order_without_loss() {
    let (tx, mut rx) = spsc::channel::<u64>(8);
    let producer = std::thread::spawn(move || produce(tx, BATCH_COUNT));
    let mut out = [0u64; 5];
    let mut expected = 0u64;
    let mut failures = 0;
    while expected < BATCH_COUNT {
        let n = rx.pop_batch(&mut out);
        if n == 0 {
            back_off(&mut failures);
            continue;
        }
        failures = 0;
        for &seq in &out[..n] {
            assert_eq!(seq, expected, "out of order, lost or duplicated");
            expected += 1;
        }
    }
    producer.join().unwrap();
    assert!(rx.is_abandoned());
    assert_eq!(rx.pop(), None, "a value beyond the last sequence number");
}

#[test]
fn owned_values_cross_threads_and_leftovers_drop_with_the_queue() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = spsc::channel::<Counted>(16);
    let sent = if cfg!(miri) { 50 } else { 10_000 };
    let drops_in_producer = Arc::clone(&drops);
    let producer = std::thread::spawn(move || {
        let mut failures = 0;
        for _ in 0..sent {
            let mut value = Counted(Arc::clone(&drops_in_producer));
            while let Err(PushError::Full(back)) = tx.push(value) {
                value = back;
                back_off(&mut failures);
            }
        }
        // Hand the producer back alive: the consumer stops short of the end.
        tx
    });
    // Leave `LEFT` (< capacity) values queued, so the producer can finish.
    const LEFT: usize = 10;
    let mut received = 0;
    let mut failures = 0;
    while received < sent - LEFT {
        if rx.pop().is_some() {
            received += 1;
        } else {
            back_off(&mut failures);
        }
    }
    let tx = producer.join().unwrap();
    // The values still queued (at most the capacity) are dropped with the
    // queue, in the consumer's thread, exactly once.
    assert_eq!(rx.len(), LEFT);
    assert_eq!(drops.load(Ordering::Relaxed), received);
    drop(rx);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        received,
        "dropped while the producer lives"
    );
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), sent);
}
