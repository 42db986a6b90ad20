//! [`HistoryRing`]: a fixed-capacity window of the most recent values
//! (candle closes, highs, lows, indicator outputs) indexed by age.
//!
//! Consumes `Copy` values one at a time; produces reads by age (0 = newest)
//! and newest→oldest iteration. Must never allocate after construction and
//! never grow: a push into a full ring evicts and returns the oldest value.
//! Entirely safe code.

use core::fmt;
use core::iter::FusedIterator;
use core::slice;

use crate::error::{check_capacity, CapacityError};

/// A fixed-capacity ring of the last `capacity` pushed values.
///
/// Ages count backwards from the newest value: age 0 is the value pushed
/// last, age `len() - 1` the oldest one still held. [`iter`](Self::iter)
/// yields values **newest first**; use `.rev()` (it is double-ended) or
/// [`as_slices`](Self::as_slices) for chronological order.
///
/// The buffer is allocated once in [`new`](Self::new); [`push`](Self::push)
/// is O(1) and never allocates.
///
/// # Examples
/// ```
/// use ringbuf::HistoryRing;
///
/// let mut closes = HistoryRing::new(3);
/// assert_eq!(closes.push(10), None);
/// assert_eq!(closes.push(11), None);
/// assert_eq!(closes.push(12), None);
/// assert_eq!(closes.push(13), Some(10)); // full: the oldest is evicted
/// assert_eq!(closes.get(0), Some(13)); // newest
/// assert_eq!(closes.oldest(), Some(11));
/// assert_eq!(closes.iter().collect::<Vec<_>>(), [13, 12, 11]);
/// ```
#[derive(Clone)]
pub struct HistoryRing<T: Copy> {
    /// Storage. Its length grows from 0 to `capacity` by `Vec::push` into
    /// the capacity reserved in `new` (so never reallocates), then stays at
    /// `capacity`; [`clear`](Self::clear) truncates it back to 0. Hence
    /// `buf.len()` is the number of values held.
    buf: Vec<T>,
    /// Fixed capacity, >= 1. Used instead of `buf.capacity()`, which may be
    /// larger than requested.
    capacity: usize,
    /// Physical index the next push writes, in `0..capacity`. While filling
    /// it equals `buf.len() % capacity`; once full it is also the index of
    /// the oldest value. The newest value sits just before it (wrapping).
    next: usize,
}

impl<T: Copy> HistoryRing<T> {
    /// Creates an empty ring holding up to `capacity` values, allocating its
    /// whole buffer now.
    ///
    /// # Panics
    /// Panics with "HistoryRing capacity must be at least 1" when `capacity`
    /// is 0, and with "HistoryRing capacity is too large" when the buffer
    /// would exceed `isize::MAX` bytes. Use [`try_new`](Self::try_new) for
    /// capacities that come from external input.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        match Self::try_new(capacity) {
            Ok(ring) => ring,
            Err(CapacityError::Zero) => panic!("HistoryRing capacity must be at least 1"),
            Err(CapacityError::TooLarge { .. }) => panic!("HistoryRing capacity is too large"),
        }
    }

    /// Creates an empty ring holding up to `capacity` values, allocating its
    /// whole buffer now.
    ///
    /// # Errors
    /// [`CapacityError::Zero`] when `capacity` is 0, [`CapacityError::TooLarge`]
    /// when the buffer would exceed `isize::MAX` bytes.
    pub fn try_new(capacity: usize) -> Result<Self, CapacityError> {
        check_capacity::<T>(capacity)?;
        Ok(Self {
            buf: Vec::with_capacity(capacity),
            capacity,
            next: 0,
        })
    }

    /// Appends `v` as the newest value. Returns the evicted oldest value when
    /// the ring was full, `None` otherwise. O(1), never allocates.
    #[inline]
    pub fn push(&mut self, v: T) -> Option<T> {
        let evicted = if self.buf.len() < self.capacity {
            debug_assert!(
                self.buf.len() < self.buf.capacity(),
                "Invariant: pushing within the reserved capacity never reallocates"
            );
            self.buf.push(v);
            None
        } else {
            // Full: `next` is the oldest slot.
            Some(core::mem::replace(&mut self.buf[self.next], v))
        };
        self.next += 1;
        if self.next == self.capacity {
            self.next = 0;
        }
        evicted
    }

    /// Returns the value pushed `age` pushes ago (0 = newest), or `None` when
    /// `age >= len()`.
    #[inline]
    #[must_use]
    pub fn get(&self, age: usize) -> Option<T> {
        if age >= self.buf.len() {
            return None;
        }
        // `age + 1 <= len <= capacity`, so one conditional wrap suffices.
        let back = age + 1;
        let idx = if back <= self.next {
            self.next - back
        } else {
            self.next + self.capacity - back
        };
        self.buf.get(idx).copied()
    }

    /// Returns the newest value (age 0), or `None` when empty.
    #[inline]
    #[must_use]
    pub fn newest(&self) -> Option<T> {
        self.get(0)
    }

    /// Returns the oldest value still held (age `len() - 1`), or `None` when
    /// empty.
    #[inline]
    #[must_use]
    pub fn oldest(&self) -> Option<T> {
        let (older, newer) = self.as_slices();
        older.first().or_else(|| newer.first()).copied()
    }

    /// Returns the number of values held, at most [`capacity`](Self::capacity).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Returns `true` when no value is held.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Returns `true` when the ring holds `capacity` values, so the next push
    /// evicts the oldest.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.buf.len() == self.capacity
    }

    /// Returns the fixed capacity given at construction.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Removes every value, keeping the buffer (no deallocation).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.next = 0;
    }

    /// Returns the held values in **chronological** order (oldest first) as
    /// two slices: all of the first precede all of the second. The second is
    /// empty until the ring wraps.
    #[inline]
    #[must_use]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        if self.is_full() {
            let (newer, older) = self.buf.split_at(self.next);
            (older, newer)
        } else {
            (&self.buf[..], &[])
        }
    }

    /// Returns an iterator over the held values from **newest to oldest**
    /// (ages 0, 1, …). It is double-ended: `.rev()` iterates oldest to
    /// newest. Never allocates.
    #[inline]
    pub fn iter(&self) -> HistoryIter<'_, T> {
        let (older, newer) = self.as_slices();
        HistoryIter {
            newer: newer.iter(),
            older: older.iter(),
        }
    }
}

impl<T: Copy + fmt::Debug> fmt::Debug for HistoryRing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistoryRing")
            .field("capacity", &self.capacity)
            .field("newest_first", &DebugIter(self.iter()))
            .finish()
    }
}

/// Formats an iterator as a list without collecting it.
struct DebugIter<'a, T: Copy>(HistoryIter<'a, T>);

impl<T: Copy + fmt::Debug> fmt::Debug for DebugIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

impl<'a, T: Copy> IntoIterator for &'a HistoryRing<T> {
    type Item = T;
    type IntoIter = HistoryIter<'a, T>;

    fn into_iter(self) -> HistoryIter<'a, T> {
        self.iter()
    }
}

/// Iterator over a [`HistoryRing`] from newest to oldest, returned by
/// [`HistoryRing::iter`]. Double-ended and exact-size.
#[derive(Debug, Clone)]
pub struct HistoryIter<'a, T> {
    /// Chronologically later slice, walked from its end first.
    newer: slice::Iter<'a, T>,
    /// Chronologically earlier slice, walked after `newer` is exhausted.
    older: slice::Iter<'a, T>,
}

impl<T: Copy> Iterator for HistoryIter<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.newer
            .next_back()
            .or_else(|| self.older.next_back())
            .copied()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.newer.len() + self.older.len();
        (n, Some(n))
    }
}

impl<T: Copy> DoubleEndedIterator for HistoryIter<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        self.older.next().or_else(|| self.newer.next()).copied()
    }
}

impl<T: Copy> ExactSizeIterator for HistoryIter<'_, T> {}

impl<T: Copy> FusedIterator for HistoryIter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "HistoryRing capacity must be at least 1")]
    fn new_with_zero_capacity_panics() {
        let _ = HistoryRing::<u32>::new(0);
    }

    #[test]
    #[should_panic(expected = "HistoryRing capacity is too large")]
    fn new_with_huge_capacity_panics() {
        let _ = HistoryRing::<u64>::new(usize::MAX / 2);
    }

    #[test]
    fn try_new_reports_zero_capacity() {
        assert_eq!(
            HistoryRing::<u32>::try_new(0).err(),
            Some(CapacityError::Zero)
        );
    }

    #[test]
    fn empty_ring_has_no_values() {
        let ring = HistoryRing::<i64>::new(4);
        assert!(ring.is_empty());
        assert!(!ring.is_full());
        assert_eq!(ring.len(), 0);
        assert_eq!(ring.capacity(), 4);
        assert_eq!(ring.newest(), None);
        assert_eq!(ring.oldest(), None);
        assert_eq!(ring.get(0), None);
        assert_eq!(ring.iter().next(), None);
        assert_eq!(ring.as_slices(), (&[][..], &[][..]));
    }

    #[test]
    fn capacity_one_keeps_only_the_newest() {
        let mut ring = HistoryRing::new(1);
        assert_eq!(ring.push('a'), None);
        assert!(ring.is_full());
        assert_eq!(ring.push('b'), Some('a'));
        assert_eq!(ring.push('c'), Some('b'));
        assert_eq!(ring.newest(), Some('c'));
        assert_eq!(ring.oldest(), Some('c'));
        assert_eq!(ring.get(1), None);
        assert_eq!(ring.iter().collect::<Vec<_>>(), ['c']);
    }

    #[test]
    fn wrap_around_keeps_ages_and_chronological_slices() {
        let mut ring = HistoryRing::new(3);
        for v in 1..=7 {
            ring.push(v);
        }
        assert_eq!(ring.iter().collect::<Vec<_>>(), [7, 6, 5]);
        assert_eq!(ring.iter().rev().collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!(ring.iter().len(), 3);
        let (a, b) = ring.as_slices();
        assert_eq!([a, b].concat(), [5, 6, 7]);
        assert_eq!(
            (ring.get(0), ring.get(2), ring.get(3)),
            (Some(7), Some(5), None)
        );
    }

    #[test]
    fn clear_empties_and_reuses_the_buffer() {
        let mut ring = HistoryRing::new(2);
        ring.push(1);
        ring.push(2);
        ring.push(3);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.push(9), None);
        assert_eq!(ring.iter().collect::<Vec<_>>(), [9]);
    }

    #[test]
    fn debug_lists_values_newest_first() {
        let mut ring = HistoryRing::new(2);
        ring.push(1);
        ring.push(2);
        ring.push(3);
        assert_eq!(
            format!("{ring:?}"),
            "HistoryRing { capacity: 2, newest_first: [3, 2] }"
        );
    }

    #[test]
    fn for_loop_over_reference_iterates_newest_first() {
        let mut ring = HistoryRing::new(3);
        ring.push(1.5);
        ring.push(2.5);
        let mut seen = Vec::new();
        for v in &ring {
            seen.push(v);
        }
        assert_eq!(seen, [2.5, 1.5]);
    }
}
