//! A wait-free, bounded, single-producer single-consumer queue for handing
//! values between two threads (feed → strategy, strategy → I/O).
//!
//! Consumes values on the [`Producer`] side; produces them, in push order, on
//! the [`Consumer`] side. After [`channel`] returns it must never allocate,
//! lock, block or make a syscall: `push` and `pop` are a handful of loads
//! and stores, and neither ever waits for the other thread. A full queue
//! hands the value back ([`PushError::Full`]); the caller decides.
//!
//! # Capacity
//! The requested capacity is **rounded up to the next power of two** so that
//! a slot index is a mask, not a division; [`Producer::capacity`] returns the
//! rounded value. A capacity of 0 is rejected.
//!
//! # Design (after rtrb and crossbeam)
//! - `head` (next slot to pop) and `tail` (next slot to push) are
//!   free-running `usize` counters; the slot is `counter & mask` and the
//!   length `tail - head` (wrapping), so full and empty need no spare slot.
//! - Each counter is written by one side only and sits on its own
//!   [`CachePadded`] 128-byte block, so the two threads never write the same
//!   cache line.
//! - Each side keeps a private copy of the other side's counter and reloads
//!   the shared one only when the copy says full (producer) or empty
//!   (consumer). While the queue is neither, a push or pop touches only its
//!   own cache line plus the slot, with no cache-line ping-pong.
//!
//! # Examples
//! ```
//! use ringbuf::spsc::{self, PushError};
//!
//! let (mut tx, mut rx) = spsc::channel::<u64>(3); // rounded up to 4
//! assert_eq!(tx.capacity(), 4);
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     let mut received = 0;
//!     while received < 100 {
//!         if let Some(v) = rx.pop() {
//!             sum += v;
//!             received += 1;
//!         } else {
//!             std::hint::spin_loop();
//!         }
//!     }
//!     sum
//! });
//! for mut v in 0..100 {
//!     // A full queue gives the value back: retry it.
//!     while let Err(PushError::Full(back)) = tx.push(v) {
//!         v = back;
//!         std::thread::yield_now();
//!     }
//! }
//! assert_eq!(consumer.join().unwrap(), 4950);
//! ```

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::cache_padded::CachePadded;
use crate::error::{check_capacity, CapacityError};

/// State shared by the two halves through an `Arc`.
struct Shared<T> {
    /// Free-running count of pops: the next slot to pop is `head & mask`.
    /// Written only by the [`Consumer`] (Release, after moving a value out);
    /// read by the [`Producer`] (Acquire) when its cached copy says full.
    /// The producer's copy may be stale, but only ever too small, which makes
    /// it see less free space than there is, never more.
    head: CachePadded<AtomicUsize>,
    /// Free-running count of pushes: the next slot to push is `tail & mask`.
    /// Written only by the [`Producer`] (Release, after writing the slot);
    /// read by the [`Consumer`] (Acquire) when its cached copy says empty.
    /// The consumer's copy may be stale, but only ever too small, which makes
    /// it see fewer values than there are, never more.
    tail: CachePadded<AtomicUsize>,
    /// Set (Release) by whichever half is dropped first; read (Acquire) by
    /// the surviving half in `is_abandoned`. Never reset.
    abandoned: AtomicBool,
    /// `slots.len() - 1`; `slots.len()` is a power of two.
    mask: usize,
    /// The slots. Those with counters in `head..tail` hold initialized
    /// values owned by the queue; the others are uninitialized (or moved
    /// out). Only the producer writes a slot and only the consumer reads
    /// one, and never the same slot at the same time (see `push`/`pop`).
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

impl<T> Shared<T> {
    /// Returns the capacity (a power of two).
    #[inline]
    fn capacity(&self) -> usize {
        self.mask.wrapping_add(1)
    }

    /// Returns a raw pointer to the value in the slot of `counter`.
    #[inline]
    fn slot_ptr(&self, counter: usize) -> *mut T {
        let slot = &self.slots[counter & self.mask];
        // `UnsafeCell<MaybeUninit<T>>` has the layout of `T`.
        slot.get().cast::<T>()
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // `&mut self`: both halves are gone (the last `Arc` drop acquired
        // every write they made), so the counters are final and no slot is
        // in use. Drop the values still queued, exactly once each.
        let head = *self.head.get_mut();
        let tail = *self.tail.get_mut();
        let mut counter = head;
        while counter != tail {
            let slot = &mut self.slots[counter & self.mask];
            // SAFETY: `counter` is in `head..tail`, so the slot holds an
            // initialized value that was never popped (struct invariant), and
            // it is dropped only here, once, as `counter` advances.
            unsafe { slot.get_mut().assume_init_drop() };
            counter = counter.wrapping_add(1);
        }
    }
}

/// Creates a bounded SPSC queue holding at least `capacity` values and
/// returns its two halves. The capacity is rounded up to the next power of
/// two; all slots are allocated now.
///
/// # Panics
/// Panics with "spsc capacity must be at least 1" when `capacity` is 0 and
/// with "spsc capacity is too large" when the rounded capacity overflows
/// `usize` or its buffer `isize::MAX` bytes. Use [`try_channel`] for
/// capacities from external input.
#[must_use]
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    match try_channel(capacity) {
        Ok(halves) => halves,
        Err(CapacityError::Zero) => panic!("spsc capacity must be at least 1"),
        Err(CapacityError::TooLarge { .. }) => panic!("spsc capacity is too large"),
    }
}

/// Creates a bounded SPSC queue holding at least `capacity` values (rounded
/// up to the next power of two) and returns its two halves.
///
/// # Errors
/// [`CapacityError::Zero`] when `capacity` is 0; [`CapacityError::TooLarge`]
/// when the rounded capacity overflows `usize` or its buffer `isize::MAX`
/// bytes.
pub fn try_channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    let rounded = capacity
        .checked_next_power_of_two()
        .ok_or(CapacityError::TooLarge {
            requested: capacity,
        })?;
    check_capacity::<T>(rounded).map_err(|_| CapacityError::TooLarge {
        requested: capacity,
    })?;
    let slots: Box<[UnsafeCell<MaybeUninit<T>>]> = (0..rounded)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        abandoned: AtomicBool::new(false),
        mask: rounded - 1,
        slots,
    });
    let producer = Producer {
        shared: Arc::clone(&shared),
        tail: 0,
        cached_head: 0,
    };
    let consumer = Consumer {
        shared,
        head: 0,
        cached_tail: 0,
    };
    Ok((producer, consumer))
}

/// The error returned by [`Producer::push`]: the queue was full. It gives
/// the value back so the caller can retry, drop or count it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The queue held `capacity` values; the rejected value is inside.
    Full(T),
}

impl<T> PushError<T> {
    /// Returns the value that could not be pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) => value,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("spsc queue is full: the consumer is behind"),
        }
    }
}

impl<T> std::error::Error for PushError<T> {}

/// The sending half of an SPSC queue, created by [`channel`]. There is
/// exactly one; it may move to another thread but is not shared (`Send`,
/// not `Sync`).
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<ringbuf::spsc::Producer<u64>>();
/// ```
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Private copy of `shared.tail`: only this half writes the tail, so the
    /// copy is always exact.
    tail: usize,
    /// Last value of `shared.head` seen; at most the real head (possibly
    /// stale), refreshed only when it makes the queue look full.
    cached_head: usize,
}

// SAFETY: `Producer` is the single owner of the write side: it is not
// `Clone`, it is not `Sync`, and every slot write goes through `&mut self`,
// so moving it to another thread still leaves one writer. The `T` values it
// pushes are received on the consumer's thread, hence `T: Send`.
unsafe impl<T: Send> Send for Producer<T> {}

impl<T> Producer<T> {
    /// Pushes `value` at the back of the queue. Wait-free: never blocks,
    /// never allocates.
    ///
    /// # Errors
    /// [`PushError::Full`] with `value` inside when the queue holds
    /// [`capacity`](Self::capacity) values.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), PushError<T>> {
        let tail = self.tail;
        // Step 1: use the cached head. It is never ahead of the real head,
        // so if it shows room there really is room.
        if tail.wrapping_sub(self.cached_head) == self.shared.capacity() {
            // Step 2: looks full, reload the head. Acquire pairs with the
            // consumer's Release store of `head` in `pop`: the consumer's
            // read of every slot below that head happens-before our write
            // into it below, so we never overwrite a value being read.
            self.cached_head = self.shared.head.load(Ordering::Acquire);
            if tail.wrapping_sub(self.cached_head) == self.shared.capacity() {
                return Err(PushError::Full(value));
            }
        }
        let slot = self.shared.slot_ptr(tail);
        // SAFETY: `tail - head < capacity`, so the slot of `tail` is not in
        // `head..tail`: the consumer does not read it (it reads only below a
        // tail we published) and it holds no value (empty or moved out).
        // `&mut self` makes us the only writer. So this write cannot race.
        unsafe { slot.write(value) };
        // Step 3: publish. Release pairs with the consumer's Acquire load of
        // `tail`: the slot write above happens-before its read of the slot.
        self.tail = tail.wrapping_add(1);
        self.shared.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Returns the number of queued values. The consumer may pop at any
    /// moment, so this is an upper bound by the time it is used.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        // Acquire: a head value newer than our cache; any is valid here.
        self.tail
            .wrapping_sub(self.shared.head.load(Ordering::Acquire))
    }

    /// Returns `true` when no value is queued (may become stale as soon as
    /// the consumer pops, but only towards "more empty").
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns how many values can be pushed now without
    /// [`PushError::Full`]; a lower bound, as the consumer may free more.
    #[inline]
    #[must_use]
    pub fn free_slots(&self) -> usize {
        self.shared.capacity() - self.len()
    }

    /// Returns the capacity: the requested one rounded up to a power of two.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Returns `true` once the [`Consumer`] has been dropped: values pushed
    /// from now on will never be popped (they are dropped with the queue).
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.abandoned.load(Ordering::Acquire)
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // Release: a consumer that sees the flag (Acquire) also sees every
        // push we published, so it can drain them before giving up.
        self.shared.abandoned.store(true, Ordering::Release);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("abandoned", &self.is_abandoned())
            .finish_non_exhaustive()
    }
}

/// The receiving half of an SPSC queue, created by [`channel`]. There is
/// exactly one; it may move to another thread but is not shared (`Send`,
/// not `Sync`).
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<ringbuf::spsc::Consumer<u64>>();
/// ```
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Private copy of `shared.head`: only this half writes the head, so the
    /// copy is always exact.
    head: usize,
    /// Last value of `shared.tail` seen; at most the real tail (possibly
    /// stale), refreshed only when it makes the queue look empty.
    cached_tail: usize,
}

// SAFETY: `Consumer` is the single owner of the read side: it is not
// `Clone`, it is not `Sync`, and every slot read goes through `&mut self`,
// so moving it to another thread still leaves one reader. The `T` values it
// pops were produced on another thread, hence `T: Send`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Consumer<T> {
    /// Pops the value at the front of the queue, or returns `None` when it
    /// is empty. Wait-free: never blocks, never allocates.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let head = self.head;
        // Step 1: use the cached tail. It is never ahead of the real tail,
        // so if it shows a value there really is one.
        if head == self.cached_tail {
            // Step 2: looks empty, reload the tail. Acquire pairs with the
            // producer's Release store of `tail` in `push`: its write of
            // every slot below that tail happens-before our read below.
            self.cached_tail = self.shared.tail.load(Ordering::Acquire);
            if head == self.cached_tail {
                return None;
            }
        }
        let slot = self.shared.slot_ptr(head);
        // SAFETY: `head < tail` (Acquire-loaded), so the slot of `head` holds
        // a value the producer fully wrote, and the producer will not write
        // it again until we publish `head + 1`. `&mut self` makes us the only
        // reader; the value is moved out exactly once because `head`
        // advances past it below.
        let value = unsafe { slot.read() };
        // Step 3: release the slot. Release pairs with the producer's
        // Acquire load of `head`: our read above happens-before its next
        // write into this slot.
        self.head = head.wrapping_add(1);
        self.shared.head.store(self.head, Ordering::Release);
        Some(value)
    }

    /// Returns the number of queued values. The producer may push at any
    /// moment, so this is a lower bound by the time it is used.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        // Acquire: a tail value newer than our cache; any is valid here.
        self.shared
            .tail
            .load(Ordering::Acquire)
            .wrapping_sub(self.head)
    }

    /// Returns `true` when no value is queued (may become stale as soon as
    /// the producer pushes).
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the number of free slots; an upper bound, as the producer
    /// may fill more.
    #[inline]
    #[must_use]
    pub fn free_slots(&self) -> usize {
        self.shared.capacity() - self.len()
    }

    /// Returns the capacity: the requested one rounded up to a power of two.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Returns `true` once the [`Producer`] has been dropped. Every value it
    /// pushed is visible by then: pop until `None` to drain them.
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.abandoned.load(Ordering::Acquire)
    }
}

impl<T: Copy> Consumer<T> {
    /// Pops up to `out.len()` values into the front of `out`, oldest first,
    /// and returns how many were popped (0 when the queue is empty). One
    /// Acquire load and one Release store for the whole batch; the slots are
    /// copied with at most two `memcpy`s.
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [T]) -> usize {
        let head = self.head;
        // Step 1: as in `pop`, reload the tail (Acquire, pairing with the
        // producer's Release store) only if the cache cannot fill `out`.
        let mut available = self.cached_tail.wrapping_sub(head);
        if available < out.len() {
            self.cached_tail = self.shared.tail.load(Ordering::Acquire);
            available = self.cached_tail.wrapping_sub(head);
        }
        let n = available.min(out.len());
        if n == 0 {
            return 0;
        }
        // Step 2: copy the `n` values, split where the ring wraps.
        let capacity = self.shared.capacity();
        let start = head & self.shared.mask;
        let first = n.min(capacity - start);
        let (out_first, out_rest) = out[..n].split_at_mut(first);
        let src_first = self.shared.slots[start..start + first].as_ptr();
        let src_rest = self.shared.slots[..n - first].as_ptr();
        // SAFETY: counters `head..head + n` are below the Acquire-loaded
        // tail, so these `first` slots hold values the producer finished
        // writing and will not touch before we publish the new head; `T:
        // Copy` makes a bitwise copy a valid pop; `out_first` is a distinct
        // `&mut` of exactly `first` elements, so the ranges do not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(src_first.cast::<T>(), out_first.as_mut_ptr(), first)
        };
        // SAFETY: as above for the `n - first` wrapped slots at the start of
        // the ring and the rest of `out`.
        unsafe {
            core::ptr::copy_nonoverlapping(src_rest.cast::<T>(), out_rest.as_mut_ptr(), n - first)
        };
        // Step 3: release the slots (Release, pairing with the producer's
        // Acquire load of `head`).
        self.head = head.wrapping_add(n);
        self.shared.head.store(self.head, Ordering::Release);
        n
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // Release, so a producer that sees the flag also sees our last
        // head (not needed for safety, kept symmetric with `Producer`).
        self.shared.abandoned.store(true, Ordering::Release);
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("abandoned", &self.is_abandoned())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "spsc capacity must be at least 1")]
    fn channel_with_zero_capacity_panics() {
        let _ = channel::<u8>(0);
    }

    #[test]
    #[should_panic(expected = "spsc capacity is too large")]
    fn channel_with_unroundable_capacity_panics() {
        let _ = channel::<u8>(usize::MAX);
    }

    #[test]
    fn try_channel_rejects_zero_and_oversized_capacities() {
        assert_eq!(try_channel::<u8>(0).err(), Some(CapacityError::Zero));
        assert_eq!(
            try_channel::<u64>(usize::MAX / 8).err(),
            Some(CapacityError::TooLarge {
                requested: usize::MAX / 8
            })
        );
    }

    #[test]
    fn capacity_is_rounded_up_to_a_power_of_two() {
        for (asked, got) in [(1, 1), (2, 2), (3, 4), (5, 8), (64, 64), (1000, 1024)] {
            let (tx, rx) = channel::<u32>(asked);
            assert_eq!((tx.capacity(), rx.capacity()), (got, got), "asked {asked}");
        }
    }

    #[test]
    fn capacity_one_alternates_full_and_empty() {
        let (mut tx, mut rx) = channel(1);
        for i in 0..5 {
            assert_eq!(tx.push(i), Ok(()));
            assert_eq!(tx.push(99), Err(PushError::Full(99)));
            assert_eq!((tx.len(), tx.free_slots()), (1, 0));
            assert_eq!(rx.pop(), Some(i));
            assert_eq!(rx.pop(), None);
            assert!(rx.is_empty() && tx.is_empty());
        }
    }

    #[test]
    fn push_error_gives_the_value_back_and_describes_itself() {
        let (mut tx, _rx) = channel(1);
        tx.push(String::from("a")).unwrap();
        let err = tx.push(String::from("b")).unwrap_err();
        assert_eq!(format!("{err:?}"), "Full(..)");
        assert_eq!(
            err.to_string(),
            "spsc queue is full: the consumer is behind"
        );
        assert_eq!(err.into_inner(), "b");
    }

    #[test]
    fn pop_batch_copies_across_the_wrap_point() {
        let (mut tx, mut rx) = channel(4);
        for i in 0..3 {
            tx.push(i).unwrap();
        }
        assert_eq!(rx.pop(), Some(0));
        assert_eq!(rx.pop(), Some(1));
        for i in 3..6 {
            tx.push(i).unwrap();
        }
        // Counters 2..6 occupy slots 2, 3, 0, 1.
        let mut out = [0; 8];
        assert_eq!(rx.pop_batch(&mut out), 4);
        assert_eq!(out[..4], [2, 3, 4, 5]);
        assert_eq!(rx.pop_batch(&mut out), 0);
        assert_eq!(rx.pop_batch(&mut []), 0);
    }

    #[test]
    fn dropping_the_producer_abandons_but_keeps_queued_values() {
        let (mut tx, mut rx) = channel(4);
        tx.push(1).unwrap();
        tx.push(2).unwrap();
        assert!(!rx.is_abandoned() && !tx.is_abandoned());
        drop(tx);
        assert!(rx.is_abandoned());
        assert_eq!((rx.pop(), rx.pop(), rx.pop()), (Some(1), Some(2), None));
    }

    #[test]
    fn dropping_the_consumer_abandons_the_producer() {
        let (mut tx, rx) = channel(2);
        drop(rx);
        assert!(tx.is_abandoned());
        assert_eq!(tx.push(7), Ok(()));
    }

    #[test]
    fn zero_sized_values_are_counted() {
        let (mut tx, mut rx) = channel(2);
        tx.push(()).unwrap();
        tx.push(()).unwrap();
        assert_eq!(tx.push(()), Err(PushError::Full(())));
        assert_eq!((rx.pop(), rx.pop(), rx.pop()), (Some(()), Some(()), None));
    }

    #[test]
    fn debug_shows_capacity_len_and_abandonment() {
        let (mut tx, rx) = channel::<u8>(2);
        tx.push(1).unwrap();
        assert_eq!(
            format!("{tx:?}"),
            "Producer { capacity: 2, len: 1, abandoned: false, .. }"
        );
        assert_eq!(
            format!("{rx:?}"),
            "Consumer { capacity: 2, len: 1, abandoned: false, .. }"
        );
    }

    #[test]
    fn halves_are_send_for_send_values() {
        fn assert_send<S: Send>(_: &S) {}
        let (tx, rx) = channel::<Vec<u8>>(1);
        assert_send(&tx);
        assert_send(&rx);
    }
}
