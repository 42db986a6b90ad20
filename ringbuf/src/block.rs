//! [`BlockMax`] and [`BlockMin`]: the maximum / minimum of the last `n`
//! pushed values with the van Herk / Gil-Werman block decomposition, a
//! branch-light alternative to the monotonic deque of
//! [`RollingMax`](crate::RollingMax) / [`RollingMin`](crate::RollingMin).
//!
//! Consumes values one at a time; produces the current extreme and its age,
//! identical to `RollingMax`/`RollingMin` for totally ordered values.
//! Must never allocate after construction: both block buffers are reserved
//! in `new` (and filled in place on the first push). Entirely safe code.
//!
//! The pushes are cut into blocks of `window` values. The window always
//! spans the tail of the previous (complete) block and the head of the
//! current one, so its extreme is the better of a precomputed suffix extreme
//! of the previous block and a running prefix extreme of the current block:
//! one comparison per push and one per query, plus an O(`window`) suffix
//! pass once per `window` pushes (O(1) amortized). The deque's data-dependent
//! pop loop mispredicts on real prices; this layout does not loop per push
//! (bench `rolling_push/*` in `bench/benches/ringbuf.rs`, and
//! `prior_channel60_20` in `bench/src/bin/indicators_latency.rs`).

use core::fmt;

use crate::error::{check_capacity, CapacityError};

/// The block decomposition shared by [`BlockMax`] and [`BlockMin`].
///
/// `keep_newer(newer, older)` is `newer >= older` for a maximum and
/// `newer <= older` for a minimum: on equality the newer value wins, so the
/// age reported is that of the newest extreme (as the deque does).
#[derive(Clone)]
struct Blocks<T> {
    /// Values of the current block at positions `0..filled`; positions at or
    /// above `filled` hold stale values. Empty until the first push, which
    /// fills it in place (within the capacity reserved in `new`) to `window`.
    current: Vec<T>,
    /// `suffix[j]` = the extreme of positions `j..window` of the previous
    /// complete block and its position (the newest among equals). Meaningful
    /// only when `has_previous`; same fill rule as `current`.
    suffix: Vec<(T, usize)>,
    /// Position of the extreme of `current[..filled]` (the newest among
    /// equals); meaningful when `filled > 0`, then below `filled`.
    running: usize,
    /// Values in the current block, in `0..window` between pushes.
    filled: usize,
    /// `true` once a whole block has been completed since construction or `clear`.
    has_previous: bool,
    /// Window length, >= 1.
    window: usize,
    /// Number of values pushed since construction or the last `clear`.
    pushed: u64,
}

/// The internal state of a [`BlockMax`] or [`BlockMin`] (see their
/// `state` and `restore`): enough to continue exactly where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockState<T> {
    /// Values of the current block (empty before the first push, else
    /// `window` long; positions at or above `filled` are stale).
    pub current: Vec<T>,
    /// Suffix extremes of the previous block with their positions (same
    /// length rule as `current`).
    pub suffix: Vec<(T, usize)>,
    /// Position of the current block's running extreme.
    pub running: usize,
    /// Values in the current block, below the window length.
    pub filled: usize,
    /// A whole block was completed.
    pub has_previous: bool,
    /// Values pushed since construction or the last `clear`.
    pub pushed: u64,
}

/// A [`BlockState`] that does not fit the window it is restored into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockStateError {
    /// Window length of the instance.
    pub window: usize,
}

impl fmt::Display for BlockStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block state does not fit a window of {}", self.window)
    }
}

impl std::error::Error for BlockStateError {}

impl<T: Copy> Blocks<T> {
    fn state(&self) -> BlockState<T> {
        BlockState {
            current: self.current.clone(),
            suffix: self.suffix.clone(),
            running: self.running,
            filled: self.filled,
            has_previous: self.has_previous,
            pushed: self.pushed,
        }
    }

    fn restore(&mut self, s: &BlockState<T>) -> Result<(), BlockStateError> {
        let sized = |n: usize| n == 0 || n == self.window;
        let fits = sized(s.current.len())
            && s.suffix.len() == s.current.len()
            && s.filled < self.window
            && s.running < self.window
            && s.suffix.iter().all(|(_, p)| *p < self.window);
        if !fits {
            return Err(BlockStateError {
                window: self.window,
            });
        }
        // Within the capacity reserved in `try_new`: no reallocation.
        self.current.clear();
        self.current.extend_from_slice(&s.current);
        self.suffix.clear();
        self.suffix.extend_from_slice(&s.suffix);
        self.running = s.running;
        self.filled = s.filled;
        self.has_previous = s.has_previous;
        self.pushed = s.pushed;
        Ok(())
    }

    fn try_new(window: usize) -> Result<Self, CapacityError> {
        check_capacity::<(T, usize)>(window)?;
        check_capacity::<T>(window)?;
        Ok(Self {
            current: Vec::with_capacity(window),
            suffix: Vec::with_capacity(window),
            running: 0,
            filled: 0,
            has_previous: false,
            window,
            pushed: 0,
        })
    }

    #[inline]
    fn push(&mut self, v: T, keep_newer: impl Fn(&T, &T) -> bool) {
        if self.current.is_empty() {
            debug_assert!(
                self.current.capacity() >= self.window && self.suffix.capacity() >= self.window,
                "Invariant: the blocks were reserved in new, filling them never allocates"
            );
            self.current.resize(self.window, v);
            self.suffix.resize(self.window, (v, 0));
        }
        let pos = self.filled;
        debug_assert!(
            pos < self.window,
            "Invariant: filled < window between pushes"
        );
        if let Some(slot) = self.current.get_mut(pos) {
            *slot = v;
        }
        let best = self.current.get(self.running).copied().unwrap_or(v);
        // Non-short-circuit `|` and a select rather than an `if` block: the
        // outcome follows the prices, so a branch here mispredicts.
        let take = (pos == 0) | keep_newer(&v, &best);
        self.running = if take { pos } else { self.running };
        self.pushed = self.pushed.wrapping_add(1);
        if pos + 1 < self.window {
            self.filled = pos + 1;
            return;
        }
        // The block is complete: it becomes the previous block. Its suffix
        // extremes are built from the newest position down, so an older
        // value replaces the accumulator only when strictly better.
        let mut acc = (v, pos);
        for (j, (slot, &value)) in self
            .suffix
            .iter_mut()
            .zip(self.current.iter())
            .enumerate()
            .rev()
        {
            acc = if keep_newer(&acc.0, &value) {
                acc
            } else {
                (value, j)
            };
            *slot = acc;
        }
        self.filled = 0;
        self.has_previous = true;
    }

    /// Returns the extreme and its age (pushes ago), or `None` when empty.
    #[inline]
    fn extreme_with_age(&self, keep_newer: impl Fn(&T, &T) -> bool) -> Option<(T, usize)> {
        let k = self.filled;
        if k == 0 {
            // Either empty, or the window is exactly the previous block.
            if !self.has_previous {
                return None;
            }
            let &(v, j) = self.suffix.first()?;
            return Some((v, self.window - 1 - j));
        }
        let run_pos = self.running;
        let run = *self.current.get(run_pos)?;
        let newest_in_block = (run, k - 1 - run_pos);
        if !self.has_previous {
            return Some(newest_in_block);
        }
        // The window is positions k.. of the previous block, then 0..k of
        // this one; the previous block's part is older.
        let &(v, j) = self.suffix.get(k)?;
        Some(if keep_newer(&run, &v) {
            newest_in_block
        } else {
            (v, self.window - 1 - j + k)
        })
    }

    #[inline]
    fn len(&self) -> usize {
        if self.pushed >= self.window as u64 {
            self.window
        } else {
            self.pushed as usize
        }
    }

    fn clear(&mut self) {
        self.filled = 0;
        self.has_previous = false;
        self.pushed = 0;
    }
}

macro_rules! block_extreme {
    (
        $(#[$type_doc:meta])*
        $name:ident, $label:literal, $extreme:ident, $extreme_age:ident, $keep_newer:expr,
        $(#[$extreme_doc:meta])*
    ) => {
        $(#[$type_doc])*
        #[derive(Clone)]
        pub struct $name<T> {
            inner: Blocks<T>,
        }

        impl<T: Copy + PartialOrd> $name<T> {
            #[doc = concat!("Creates an empty ", $label, " over the last `window` values, allocating its blocks now.")]
            ///
            /// # Panics
            #[doc = concat!("Panics with \"", $label, " window must be at least 1\" when `window` is 0")]
            #[doc = concat!("and with \"", $label, " window is too large\" when a block would exceed")]
            /// `isize::MAX` bytes. Use `try_new` for windows from external input.
            #[must_use]
            pub fn new(window: usize) -> Self {
                match Self::try_new(window) {
                    Ok(rolling) => rolling,
                    Err(CapacityError::Zero) => panic!(concat!($label, " window must be at least 1")),
                    Err(CapacityError::TooLarge { .. }) => panic!(concat!($label, " window is too large")),
                }
            }

            #[doc = concat!("Creates an empty ", $label, " over the last `window` values, allocating its blocks now.")]
            ///
            /// # Errors
            /// [`CapacityError::Zero`] when `window` is 0,
            /// [`CapacityError::TooLarge`] when a block would exceed `isize::MAX` bytes.
            pub fn try_new(window: usize) -> Result<Self, CapacityError> {
                Ok(Self { inner: Blocks::try_new(window)? })
            }

            /// Pushes `v` as the newest value; the value pushed `window` pushes
            /// ago leaves the window. O(1) amortized (one O(`window`) pass per
            /// `window` pushes), never allocates.
            #[inline]
            pub fn push(&mut self, v: T) {
                self.inner.push(v, $keep_newer);
            }

            $(#[$extreme_doc])*
            #[inline]
            #[must_use]
            pub fn $extreme(&self) -> Option<T> {
                self.inner.extreme_with_age($keep_newer).map(|(v, _)| v)
            }

            #[doc = concat!("Returns how many pushes ago the value returned by [`", stringify!($extreme), "`](Self::", stringify!($extreme), ")")]
            /// was pushed (0 = the newest value), or `None` when empty. Among
            /// equal extremes it is the newest one (as TA-Lib's Aroon counts).
            #[inline]
            #[must_use]
            pub fn $extreme_age(&self) -> Option<usize> {
                self.inner.extreme_with_age($keep_newer).map(|(_, age)| age)
            }

            /// Returns the number of values in the window: pushes so far,
            /// capped at [`window`](Self::window).
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// Returns `true` before the first push (or after `clear`).
            #[inline]
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.inner.pushed == 0
            }

            /// Returns `true` once `window` values have been seen, i.e. the
            /// extreme covers a whole window.
            #[inline]
            #[must_use]
            pub fn is_full(&self) -> bool {
                self.inner.len() == self.inner.window
            }

            /// Returns the window length given at construction.
            #[inline]
            #[must_use]
            pub fn window(&self) -> usize {
                self.inner.window
            }

            /// Forgets every value, keeping the blocks (no deallocation).
            pub fn clear(&mut self) {
                self.inner.clear();
            }

            /// Returns a copy of the internal state, for a checkpoint of
            /// the window (cold path: allocates the copy).
            #[must_use]
            pub fn state(&self) -> BlockState<T> {
                self.inner.state()
            }

            /// Overwrites the state with one [`state`](Self::state) returned
            /// for a window of the same length; the blocks reserved in `new`
            /// are reused, never grown.
            ///
            /// # Errors
            /// [`BlockStateError`] when `state` does not describe a window of
            /// this length (sizes, positions out of range).
            pub fn restore(&mut self, state: &BlockState<T>) -> Result<(), BlockStateError> {
                self.inner.restore(state)
            }
        }

        impl<T: Copy + PartialOrd + fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("window", &self.inner.window)
                    .field("len", &self.inner.len())
                    .field(stringify!($extreme), &self.$extreme())
                    .finish()
            }
        }
    };
}

block_extreme! {
    /// The maximum of the last `window` pushed values (highest high), in
    /// O(1) amortized per push without a data-dependent loop, over two
    /// blocks preallocated in `new`. Same results as
    /// [`RollingMax`](crate::RollingMax), usually faster (see the module docs).
    ///
    /// Values must be totally ordered among themselves: with incomparable
    /// values (a float NaN) [`max`](Self::max) still returns a value from the
    /// window, but which one is unspecified.
    ///
    /// # Examples
    /// ```
    /// use ringbuf::BlockMax;
    ///
    /// let mut highest_high = BlockMax::new(3);
    /// for high in [5, 9, 7, 6, 4] {
    ///     highest_high.push(high);
    /// }
    /// // The window is [7, 6, 4]: the 9 has left it.
    /// assert_eq!(highest_high.max(), Some(7));
    /// assert_eq!(highest_high.max_age(), Some(2));
    /// assert!(highest_high.is_full());
    /// ```
    BlockMax, "BlockMax", max, max_age, |newer: &T, older: &T| newer >= older,
    /// Returns the largest value in the window, or `None` before the first
    /// push.
}

block_extreme! {
    /// The minimum of the last `window` pushed values (lowest low), in
    /// O(1) amortized per push without a data-dependent loop, over two
    /// blocks preallocated in `new`. Same results as
    /// [`RollingMin`](crate::RollingMin), usually faster (see the module docs).
    ///
    /// Values must be totally ordered among themselves: with incomparable
    /// values (a float NaN) [`min`](Self::min) still returns a value from the
    /// window, but which one is unspecified.
    ///
    /// # Examples
    /// ```
    /// use ringbuf::BlockMin;
    ///
    /// let mut lowest_low = BlockMin::new(2);
    /// lowest_low.push(3.0);
    /// lowest_low.push(1.0);
    /// lowest_low.push(2.0);
    /// assert_eq!(lowest_low.min(), Some(1.0));
    /// lowest_low.push(4.0);
    /// assert_eq!(lowest_low.min(), Some(2.0));
    /// ```
    BlockMin, "BlockMin", min, min_age, |newer: &T, older: &T| newer <= older,
    /// Returns the smallest value in the window, or `None` before the first
    /// push.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "BlockMax window must be at least 1")]
    fn block_max_with_zero_window_panics() {
        let _ = BlockMax::<i32>::new(0);
    }

    #[test]
    #[should_panic(expected = "BlockMin window is too large")]
    fn block_min_with_huge_window_panics() {
        let _ = BlockMin::<u64>::new(usize::MAX / 4);
    }

    #[test]
    fn try_new_reports_zero_window() {
        assert_eq!(BlockMin::<i32>::try_new(0).err(), Some(CapacityError::Zero));
    }

    #[test]
    fn empty_window_has_no_extreme() {
        let max = BlockMax::<i32>::new(3);
        assert_eq!((max.max(), max.max_age(), max.len()), (None, None, 0));
        assert!(max.is_empty() && !max.is_full());
        assert_eq!(max.window(), 3);
    }

    #[test]
    fn window_one_tracks_the_last_value() {
        let mut max = BlockMax::new(1);
        let mut min = BlockMin::new(1);
        for v in [3, 1, 4, 1, 5] {
            max.push(v);
            min.push(v);
            assert_eq!((max.max(), min.min()), (Some(v), Some(v)));
            assert_eq!((max.max_age(), min.min_age()), (Some(0), Some(0)));
            assert!(max.is_full());
        }
    }

    #[test]
    fn extreme_from_the_previous_block_expires_on_time() {
        // Window 3: blocks [9, 8, 7] and [6, 5]; the window is [7, 6, 5].
        let mut max = BlockMax::new(3);
        for v in [9, 8, 7, 6, 5] {
            max.push(v);
        }
        assert_eq!(max.max(), Some(7));
        assert_eq!(max.max_age(), Some(2));
    }

    #[test]
    fn equal_extremes_across_blocks_report_the_newest_age() {
        // Window 4: blocks [2, 1, 3, 1] and [5]; the window is [1, 3, 1, 5].
        let mut min = BlockMin::new(4);
        for v in [2, 1, 3, 1, 5] {
            min.push(v);
        }
        assert_eq!(min.min(), Some(1));
        assert_eq!(min.min_age(), Some(1));
        // Window [3, 1, 5, 1]: the newer 1 is in the current block.
        min.push(1);
        assert_eq!((min.min(), min.min_age()), (Some(1), Some(0)));
    }

    #[test]
    fn clear_forgets_values_but_keeps_the_window() {
        let mut max = BlockMax::new(2);
        max.push(10);
        max.push(20);
        max.push(30);
        max.clear();
        assert!(max.is_empty());
        assert_eq!(max.max(), None);
        max.push(1);
        assert_eq!((max.max(), max.len(), max.window()), (Some(1), 1, 2));
    }

    #[test]
    fn nan_still_returns_a_value_from_the_window() {
        let mut max = BlockMax::new(2);
        max.push(1.0);
        max.push(f64::NAN);
        max.push(0.5);
        let m = max.max().unwrap();
        assert!(m.is_nan() || m == 0.5, "{m}");
    }

    #[test]
    fn debug_shows_window_len_and_extreme() {
        let mut min = BlockMin::new(3);
        min.push(7);
        assert_eq!(
            format!("{min:?}"),
            "BlockMin { window: 3, len: 1, min: Some(7) }"
        );
    }

    #[test]
    fn a_restored_state_continues_exactly_like_the_original() {
        let values: Vec<i64> = (0..40).map(|k| (k * 37 % 11) - 5).collect();
        for cut in [0, 1, 4, 5, 6, 13, 39] {
            let mut a = BlockMax::new(5);
            let mut lo = BlockMin::new(5);
            for &v in &values[..cut] {
                a.push(v);
                lo.push(v);
            }
            let mut b = BlockMax::new(5);
            b.push(99);
            b.restore(&a.state()).unwrap();
            let mut lo2 = BlockMin::new(5);
            lo2.restore(&lo.state()).unwrap();
            assert_eq!(b.state(), a.state());
            for &v in &values[cut..] {
                a.push(v);
                b.push(v);
                lo.push(v);
                lo2.push(v);
                assert_eq!((a.max(), a.max_age()), (b.max(), b.max_age()), "cut {cut}");
                assert_eq!((lo.min(), lo.min_age()), (lo2.min(), lo2.min_age()));
                assert_eq!(a.len(), b.len());
            }
        }
        let mut a = BlockMax::new(5);
        a.push(1);
        let mut wider = BlockMax::<i64>::new(6);
        assert_eq!(
            wider.restore(&a.state()),
            Err(BlockStateError { window: 6 })
        );
    }
}
