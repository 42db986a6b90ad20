//! Property tests of the SPSC queue against a `VecDeque` model, plus drop
//! counting: every value pushed is dropped exactly once, whether popped,
//! rejected by a full queue, or still queued when the halves are dropped.

mod property_tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use proptest::prelude::*;
    use ringbuf::spsc::{self, PushError};

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32),
        Pop,
        PopBatch(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => any::<u32>().prop_map(Op::Push),
            4 => Just(Op::Pop),
            1 => (0usize..12).prop_map(Op::PopBatch),
        ]
    }

    /// Requested capacities: the edge cases 1, 2, 3 (rounded to 4) and a range.
    fn capacity() -> impl Strategy<Value = usize> {
        prop_oneof![Just(1usize), Just(2usize), Just(3usize), 1usize..=33]
    }

    /// A value that records its id in a shared log when dropped.
    #[derive(Debug)]
    struct Tracked {
        id: u32,
        log: Rc<RefCell<Vec<u32>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.id);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_spsc_matches_vecdeque_model(
            requested in capacity(),
            ops in prop::collection::vec(op(), 0..300),
        ) {
            let (mut tx, mut rx) = spsc::channel::<u32>(requested);
            let cap = requested.next_power_of_two();
            prop_assert_eq!(tx.capacity(), cap);
            let mut model = VecDeque::new();
            let mut out = [0u32; 12];
            for op in ops {
                match op {
                    Op::Push(v) => {
                        let expected = if model.len() == cap {
                            Err(PushError::Full(v))
                        } else {
                            model.push_back(v);
                            Ok(())
                        };
                        prop_assert_eq!(tx.push(v), expected);
                    }
                    Op::Pop => prop_assert_eq!(rx.pop(), model.pop_front()),
                    Op::PopBatch(k) => {
                        let n = rx.pop_batch(&mut out[..k]);
                        let expected: Vec<u32> =
                            model.drain(..k.min(model.len())).collect();
                        prop_assert_eq!(&out[..n], &expected[..]);
                    }
                }
                prop_assert_eq!(tx.len(), model.len());
                prop_assert_eq!(rx.len(), model.len());
                prop_assert_eq!(tx.is_empty(), model.is_empty());
                prop_assert_eq!(rx.is_empty(), model.is_empty());
                prop_assert_eq!(tx.free_slots(), cap - model.len());
                prop_assert_eq!(rx.free_slots(), cap - model.len());
            }
            prop_assert!(!tx.is_abandoned() && !rx.is_abandoned());
        }

        #[test]
        fn prop_spsc_drops_every_value_exactly_once(
            requested in capacity(),
            ops in prop::collection::vec(op(), 0..120),
            consumer_dropped_first in any::<bool>(),
        ) {
            let log = Rc::new(RefCell::new(Vec::new()));
            let (mut tx, mut rx) = spsc::channel::<Tracked>(requested);
            let mut next_id = 0u32;
            let mut popped_ids = Vec::new();
            for op in ops {
                match op {
                    Op::Push(_) => {
                        let value = Tracked { id: next_id, log: Rc::clone(&log) };
                        next_id += 1;
                        if let Err(PushError::Full(back)) = tx.push(value) {
                            // The rejected value comes back intact.
                            prop_assert_eq!(back.id, next_id - 1);
                        }
                    }
                    Op::Pop | Op::PopBatch(_) => {
                        if let Some(v) = rx.pop() {
                            popped_ids.push(v.id);
                        }
                    }
                }
            }
            // Popped values come out in increasing id order (FIFO).
            prop_assert!(popped_ids.windows(2).all(|w| w[0] < w[1]));
            if consumer_dropped_first {
                drop(rx);
                prop_assert!(tx.is_abandoned());
                drop(tx);
            } else {
                drop(tx);
                prop_assert!(rx.is_abandoned());
                drop(rx);
            }
            let mut dropped = log.borrow().clone();
            dropped.sort_unstable();
            let all: Vec<u32> = (0..next_id).collect();
            prop_assert_eq!(dropped, all);
        }
    }
}
