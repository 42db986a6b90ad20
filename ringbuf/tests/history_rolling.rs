//! Property tests of `HistoryRing`, `RollingMax`/`RollingMin` and
//! `BlockMax`/`BlockMin` against a
//! `VecDeque` model driven by random operation sequences.

mod property_tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;
    use ringbuf::{BlockMax, BlockMin, HistoryRing, RollingMax, RollingMin};

    #[derive(Debug, Clone)]
    enum Op {
        Push(i32),
        Clear,
    }

    /// Mostly pushes of a small value range (many ties), occasionally a clear.
    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            30 => (-4i32..=4).prop_map(Op::Push),
            3 => prop_oneof![Just(i32::MIN), Just(i32::MAX), any::<i32>()].prop_map(Op::Push),
            1 => Just(Op::Clear),
        ]
    }

    /// Capacities mixing the edge cases 1 and 2 with small and odd sizes.
    fn capacity() -> impl Strategy<Value = usize> {
        prop_oneof![Just(1usize), Just(2usize), 1usize..=17, Just(64usize)]
    }

    /// Model: newest at the back, at most `cap` values.
    fn model_push(model: &mut VecDeque<i32>, cap: usize, v: i32) -> Option<i32> {
        let evicted = if model.len() == cap {
            model.pop_front()
        } else {
            None
        };
        model.push_back(v);
        evicted
    }

    fn check_history(ring: &HistoryRing<i32>, model: &VecDeque<i32>, cap: usize) {
        assert_eq!(ring.len(), model.len());
        assert_eq!(ring.is_empty(), model.is_empty());
        assert_eq!(ring.is_full(), model.len() == cap);
        assert_eq!(ring.capacity(), cap);
        assert_eq!(ring.newest(), model.back().copied());
        assert_eq!(ring.oldest(), model.front().copied());
        for age in 0..=cap + 1 {
            let expected = model.len().checked_sub(age + 1).map(|i| model[i]);
            assert_eq!(ring.get(age), expected, "age {age}");
        }
        let newest_first: Vec<i32> = model.iter().rev().copied().collect();
        assert_eq!(ring.iter().collect::<Vec<_>>(), newest_first);
        assert_eq!(ring.iter().len(), model.len());
        let oldest_first: Vec<i32> = model.iter().copied().collect();
        assert_eq!(ring.iter().rev().collect::<Vec<_>>(), oldest_first);
        let (a, b) = ring.as_slices();
        assert_eq!([a, b].concat(), oldest_first);
    }

    /// Naive extreme of the model window and the age of its newest occurrence.
    fn naive_extreme(model: &VecDeque<i32>, max: bool) -> Option<(i32, usize)> {
        let best = if max {
            model.iter().max()
        } else {
            model.iter().min()
        }
        .copied()?;
        let newest_idx = model.iter().rposition(|&v| v == best)?;
        Some((best, model.len() - 1 - newest_idx))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_history_ring_matches_vecdeque_model(
            cap in capacity(),
            ops in prop::collection::vec(op(), 0..200),
        ) {
            let mut ring = HistoryRing::new(cap);
            let mut model = VecDeque::new();
            check_history(&ring, &model, cap);
            for op in ops {
                match op {
                    Op::Push(v) => {
                        prop_assert_eq!(ring.push(v), model_push(&mut model, cap, v));
                    }
                    Op::Clear => {
                        ring.clear();
                        model.clear();
                    }
                }
                check_history(&ring, &model, cap);
            }
        }

        #[test]
        fn prop_rolling_max_min_match_naive_window(
            window in capacity(),
            ops in prop::collection::vec(op(), 0..200),
        ) {
            let mut max = RollingMax::new(window);
            let mut min = RollingMin::new(window);
            let mut model = VecDeque::new();
            let mut seen = 0usize;
            for op in ops {
                match op {
                    Op::Push(v) => {
                        max.push(v);
                        min.push(v);
                        model_push(&mut model, window, v);
                        seen += 1;
                    }
                    Op::Clear => {
                        max.clear();
                        min.clear();
                        model.clear();
                        seen = 0;
                    }
                }
                let hi = naive_extreme(&model, true);
                let lo = naive_extreme(&model, false);
                prop_assert_eq!(max.max(), hi.map(|(v, _)| v));
                prop_assert_eq!(max.max_age(), hi.map(|(_, a)| a));
                prop_assert_eq!(min.min(), lo.map(|(v, _)| v));
                prop_assert_eq!(min.min_age(), lo.map(|(_, a)| a));
                prop_assert_eq!(max.len(), model.len());
                prop_assert_eq!(min.len(), model.len());
                prop_assert_eq!(max.is_full(), seen >= window);
                prop_assert_eq!(min.is_empty(), seen == 0);
            }
        }
            #[test]
        fn prop_block_max_min_match_naive_window_and_rolling(
            window in capacity(),
            ops in prop::collection::vec(op(), 0..200),
        ) {
            let mut max = BlockMax::new(window);
            let mut min = BlockMin::new(window);
            let mut deque_max = RollingMax::new(window);
            let mut deque_min = RollingMin::new(window);
            let mut model = VecDeque::new();
            let mut seen = 0usize;
            for op in ops {
                match op {
                    Op::Push(v) => {
                        max.push(v);
                        min.push(v);
                        deque_max.push(v);
                        deque_min.push(v);
                        model_push(&mut model, window, v);
                        seen += 1;
                    }
                    Op::Clear => {
                        max.clear();
                        min.clear();
                        deque_max.clear();
                        deque_min.clear();
                        model.clear();
                        seen = 0;
                    }
                }
                let hi = naive_extreme(&model, true);
                let lo = naive_extreme(&model, false);
                prop_assert_eq!(max.max(), hi.map(|(v, _)| v));
                prop_assert_eq!(max.max_age(), hi.map(|(_, a)| a));
                prop_assert_eq!(min.min(), lo.map(|(v, _)| v));
                prop_assert_eq!(min.min_age(), lo.map(|(_, a)| a));
                prop_assert_eq!((max.max(), max.max_age()), (deque_max.max(), deque_max.max_age()));
                prop_assert_eq!((min.min(), min.min_age()), (deque_min.min(), deque_min.min_age()));
                prop_assert_eq!(max.len(), model.len());
                prop_assert_eq!(min.len(), model.len());
                prop_assert_eq!(max.is_full(), seen >= window);
                prop_assert_eq!(min.is_full(), seen >= window);
                prop_assert_eq!(max.is_empty(), seen == 0);
                prop_assert_eq!(min.is_empty(), seen == 0);
            }
        }
    }
}
