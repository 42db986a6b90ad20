//! [`RollingMax`] and [`RollingMin`]: the maximum / minimum of the last `n`
//! pushed values (highest high, lowest low, Donchian channels, Williams %R,
//! Aroon) in amortized O(1) per push.
//!
//! Consumes values one at a time; produces the current extreme and its age.
//! Must never allocate after construction: the monotonic deque lives on a
//! ring of `window` slots reserved in `new` (and filled in place on the first
//! push). Entirely safe code.

use core::fmt;

use crate::error::{check_capacity, CapacityError};

/// A monotonic deque over a fixed ring: the shared engine of [`RollingMax`]
/// and [`RollingMin`].
///
/// Holds `(sequence number, value)` entries with strictly increasing
/// sequence numbers; from front to back the values are ordered so that no
/// entry is dominated by a later one. The front is the current extreme.
#[derive(Clone)]
struct Monotonic<T> {
    /// Ring storage of `window` slots. Empty until the first push, which
    /// fills it in place (within the capacity reserved in `new`, so without
    /// allocating) with that value; afterwards its length stays `window`.
    slots: Vec<(u64, T)>,
    /// Physical index of the deque front, in `0..window`.
    head: usize,
    /// Number of deque entries, in `0..=window`. Entries hold distinct
    /// sequence numbers inside the current window, so at most `window`.
    entries: usize,
    /// Window length, >= 1.
    window: usize,
    /// Number of values pushed since construction or the last `clear`; the
    /// next value gets this as its sequence number.
    pushed: u64,
}

impl<T: Copy> Monotonic<T> {
    fn try_new(window: usize) -> Result<Self, CapacityError> {
        check_capacity::<(u64, T)>(window)?;
        Ok(Self {
            slots: Vec::with_capacity(window),
            head: 0,
            entries: 0,
            window,
            pushed: 0,
        })
    }

    /// Physical slot of logical deque position `pos` (0 = front).
    #[inline]
    fn slot(&self, pos: usize) -> usize {
        debug_assert!(
            pos < self.window,
            "Invariant: deque position inside the ring"
        );
        let i = self.head + pos;
        if i >= self.window {
            i - self.window
        } else {
            i
        }
    }

    /// Pushes `v`. `dominated(old, new)` returns `true` when an older value
    /// can never again be the extreme once `new` is in the window.
    #[inline]
    fn push(&mut self, v: T, dominated: impl Fn(&T, &T) -> bool) {
        if self.slots.is_empty() {
            debug_assert!(
                self.slots.capacity() >= self.window,
                "Invariant: the ring was reserved in new, filling it never allocates"
            );
            self.slots.resize(self.window, (0, v));
        }
        let seq = self.pushed;
        // Expire the front if it slid out of the window. Sequence numbers of
        // the entries are distinct and the window moves by one per push, so
        // at most one entry expires.
        if self.entries > 0 {
            let (front_seq, _) = self.slots[self.head];
            if seq.wrapping_sub(front_seq) >= self.window as u64 {
                self.head = self.slot(1 % self.window);
                self.entries -= 1;
            }
        }
        // Drop the entries the new value dominates, from the back.
        while self.entries > 0 {
            let back = self.slot(self.entries - 1);
            if dominated(&self.slots[back].1, &v) {
                self.entries -= 1;
            } else {
                break;
            }
        }
        // The survivors have sequence numbers in (seq - window, seq), so at
        // most window - 1 of them: there is room for the new entry.
        debug_assert!(
            self.entries < self.window,
            "Invariant: room for the new entry"
        );
        let back = self.slot(self.entries);
        self.slots[back] = (seq, v);
        self.entries += 1;
        self.pushed = seq.wrapping_add(1);
    }

    #[inline]
    fn front(&self) -> Option<(u64, T)> {
        if self.entries == 0 {
            None
        } else {
            self.slots.get(self.head).copied()
        }
    }

    #[inline]
    fn extreme(&self) -> Option<T> {
        self.front().map(|(_, v)| v)
    }

    #[inline]
    fn extreme_age(&self) -> Option<usize> {
        // The front is inside the window, so the age is below `window`.
        self.front()
            .map(|(seq, _)| self.pushed.wrapping_sub(seq).wrapping_sub(1) as usize)
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
        self.head = 0;
        self.entries = 0;
        self.pushed = 0;
    }
}

macro_rules! rolling_extreme {
    (
        $(#[$type_doc:meta])*
        $name:ident, $label:literal, $extreme:ident, $extreme_age:ident, $dominated:expr,
        $(#[$extreme_doc:meta])*
    ) => {
        $(#[$type_doc])*
        #[derive(Clone)]
        pub struct $name<T> {
            inner: Monotonic<T>,
        }

        impl<T: Copy + PartialOrd> $name<T> {
            #[doc = concat!("Creates an empty ", $label, " over the last `window` values, allocating its ring now.")]
            ///
            /// # Panics
            #[doc = concat!("Panics with \"", $label, " window must be at least 1\" when `window` is 0")]
            #[doc = concat!("and with \"", $label, " window is too large\" when the ring would exceed")]
            /// `isize::MAX` bytes. Use `try_new` for windows from external input.
            #[must_use]
            pub fn new(window: usize) -> Self {
                match Self::try_new(window) {
                    Ok(rolling) => rolling,
                    Err(CapacityError::Zero) => panic!(concat!($label, " window must be at least 1")),
                    Err(CapacityError::TooLarge { .. }) => panic!(concat!($label, " window is too large")),
                }
            }

            #[doc = concat!("Creates an empty ", $label, " over the last `window` values, allocating its ring now.")]
            ///
            /// # Errors
            /// [`CapacityError::Zero`] when `window` is 0,
            /// [`CapacityError::TooLarge`] when the ring would exceed `isize::MAX` bytes.
            pub fn try_new(window: usize) -> Result<Self, CapacityError> {
                Ok(Self { inner: Monotonic::try_new(window)? })
            }

            /// Pushes `v` as the newest value; the value pushed `window` pushes
            /// ago leaves the window. Amortized O(1), never allocates.
            #[inline]
            pub fn push(&mut self, v: T) {
                self.inner.push(v, $dominated);
            }

            $(#[$extreme_doc])*
            #[inline]
            #[must_use]
            pub fn $extreme(&self) -> Option<T> {
                self.inner.extreme()
            }

            #[doc = concat!("Returns how many pushes ago the value returned by [`", stringify!($extreme), "`](Self::", stringify!($extreme), ")")]
            /// was pushed (0 = the newest value), or `None` when empty. Among
            /// equal extremes it is the newest one (as TA-Lib's Aroon counts).
            #[inline]
            #[must_use]
            pub fn $extreme_age(&self) -> Option<usize> {
                self.inner.extreme_age()
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

            /// Forgets every value, keeping the ring (no deallocation).
            pub fn clear(&mut self) {
                self.inner.clear();
            }
        }

        impl<T: Copy + PartialOrd + fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("window", &self.inner.window)
                    .field("len", &self.inner.len())
                    .field(stringify!($extreme), &self.inner.extreme())
                    .finish()
            }
        }
    };
}

rolling_extreme! {
    /// The maximum of the last `window` pushed values (highest high), in
    /// amortized O(1) per push, over a ring preallocated in `new`.
    ///
    /// Values must be totally ordered among themselves: with incomparable
    /// values (a float NaN) [`max`](Self::max) still returns a value from the
    /// window, but which one is unspecified.
    ///
    /// # Examples
    /// ```
    /// use ringbuf::RollingMax;
    ///
    /// let mut highest_high = RollingMax::new(3);
    /// for high in [5, 9, 7, 6, 4] {
    ///     highest_high.push(high);
    /// }
    /// // The window is [7, 6, 4]: the 9 has left it.
    /// assert_eq!(highest_high.max(), Some(7));
    /// assert_eq!(highest_high.max_age(), Some(2));
    /// assert!(highest_high.is_full());
    /// ```
    RollingMax, "RollingMax", max, max_age, |old: &T, new: &T| old <= new,
    /// Returns the largest value in the window, or `None` before the first
    /// push.
}

rolling_extreme! {
    /// The minimum of the last `window` pushed values (lowest low), in
    /// amortized O(1) per push, over a ring preallocated in `new`.
    ///
    /// Values must be totally ordered among themselves: with incomparable
    /// values (a float NaN) [`min`](Self::min) still returns a value from the
    /// window, but which one is unspecified.
    ///
    /// # Examples
    /// ```
    /// use ringbuf::RollingMin;
    ///
    /// let mut lowest_low = RollingMin::new(2);
    /// lowest_low.push(3.0);
    /// lowest_low.push(1.0);
    /// lowest_low.push(2.0);
    /// assert_eq!(lowest_low.min(), Some(1.0));
    /// lowest_low.push(4.0);
    /// assert_eq!(lowest_low.min(), Some(2.0));
    /// ```
    RollingMin, "RollingMin", min, min_age, |old: &T, new: &T| old >= new,
    /// Returns the smallest value in the window, or `None` before the first
    /// push.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "RollingMax window must be at least 1")]
    fn rolling_max_with_zero_window_panics() {
        let _ = RollingMax::<i32>::new(0);
    }

    #[test]
    #[should_panic(expected = "RollingMin window is too large")]
    fn rolling_min_with_huge_window_panics() {
        let _ = RollingMin::<u64>::new(usize::MAX / 4);
    }

    #[test]
    fn try_new_reports_zero_window() {
        assert_eq!(
            RollingMin::<i32>::try_new(0).err(),
            Some(CapacityError::Zero)
        );
    }

    #[test]
    fn empty_window_has_no_extreme() {
        let max = RollingMax::<i32>::new(3);
        assert_eq!((max.max(), max.max_age(), max.len()), (None, None, 0));
        assert!(max.is_empty() && !max.is_full());
        assert_eq!(max.window(), 3);
    }

    #[test]
    fn window_one_tracks_the_last_value() {
        let mut max = RollingMax::new(1);
        let mut min = RollingMin::new(1);
        for v in [3, 1, 4, 1, 5] {
            max.push(v);
            min.push(v);
            assert_eq!((max.max(), min.min()), (Some(v), Some(v)));
            assert_eq!((max.max_age(), min.min_age()), (Some(0), Some(0)));
            assert!(max.is_full());
        }
    }

    #[test]
    fn decreasing_sequence_expires_the_front() {
        let mut max = RollingMax::new(3);
        for v in [9, 8, 7, 6, 5] {
            max.push(v);
        }
        assert_eq!(max.max(), Some(7));
        assert_eq!(max.max_age(), Some(2));
    }

    #[test]
    fn equal_extremes_report_the_newest_age() {
        let mut min = RollingMin::new(4);
        for v in [2, 1, 3, 1, 5] {
            min.push(v);
        }
        assert_eq!(min.min(), Some(1));
        assert_eq!(min.min_age(), Some(1));
    }

    #[test]
    fn clear_forgets_values_but_keeps_the_window() {
        let mut max = RollingMax::new(2);
        max.push(10);
        max.push(20);
        max.clear();
        assert!(max.is_empty());
        assert_eq!(max.max(), None);
        max.push(1);
        assert_eq!((max.max(), max.len(), max.window()), (Some(1), 1, 2));
    }

    #[test]
    fn nan_still_returns_a_value_from_the_window() {
        let mut max = RollingMax::new(2);
        max.push(1.0);
        max.push(f64::NAN);
        max.push(0.5);
        let m = max.max().unwrap();
        assert!(m.is_nan() || m == 0.5, "{m}");
    }

    #[test]
    fn debug_shows_window_len_and_extreme() {
        let mut min = RollingMin::new(3);
        min.push(7);
        assert_eq!(
            format!("{min:?}"),
            "RollingMin { window: 3, len: 1, min: Some(7) }"
        );
    }
}
