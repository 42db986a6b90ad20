//! [`CachePadded`]: aligns and pads a value to 128 bytes so that values
//! written by different threads never share a cache line.
//!
//! Consumes any value; produces it wrapped. Never allocates. 128 rather than
//! 64 bytes because x86's adjacent-line prefetcher pulls cache lines in
//! pairs, and some ARM cores (Apple M-series) have 128-byte lines; this is
//! the size crossbeam-utils and rtrb pick for the same reason.

use core::fmt;
use core::ops::{Deref, DerefMut};

/// A value aligned (and therefore padded) to 128 bytes.
///
/// # Examples
/// ```
/// use ringbuf::CachePadded;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let counter = CachePadded::new(AtomicUsize::new(0));
/// counter.fetch_add(1, Ordering::Relaxed); // derefs to the inner value
/// assert_eq!(counter.into_inner().into_inner(), 1);
/// assert_eq!(core::mem::align_of::<CachePadded<u8>>(), 128);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(align(128))]
pub struct CachePadded<T> {
    value: T,
}

impl<T> CachePadded<T> {
    /// Wraps `value`.
    #[must_use]
    pub const fn new(value: T) -> Self {
        Self { value }
    }

    /// Returns the wrapped value.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for CachePadded<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for CachePadded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachePadded")
            .field("value", &self.value)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_fill_a_whole_128_byte_block() {
        assert_eq!(core::mem::size_of::<CachePadded<u8>>(), 128);
        assert_eq!(core::mem::align_of::<CachePadded<u64>>(), 128);
    }

    #[test]
    fn large_values_are_padded_to_a_multiple_of_128() {
        assert_eq!(core::mem::size_of::<CachePadded<[u8; 129]>>(), 256);
    }

    #[test]
    fn adjacent_padded_fields_start_128_bytes_apart() {
        struct Pair {
            a: CachePadded<u64>,
            b: CachePadded<u64>,
        }
        let pair = Pair {
            a: CachePadded::new(1),
            b: CachePadded::new(2),
        };
        let a = core::ptr::from_ref(&pair.a) as usize;
        let b = core::ptr::from_ref(&pair.b) as usize;
        assert_eq!(a.abs_diff(b), 128);
        assert_eq!(*pair.a + *pair.b, 3);
    }

    #[test]
    fn deref_mut_and_debug_reach_the_value() {
        let mut v = CachePadded::new(5);
        *v += 1;
        assert_eq!(format!("{v:?}"), "CachePadded { value: 6 }");
        assert_eq!(v.into_inner(), 6);
    }
}
