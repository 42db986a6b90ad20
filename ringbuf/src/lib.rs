//! Fixed-capacity, preallocated ring buffers for the engine's hot path.
//!
//! - [`HistoryRing`]: the last `n` values of a series (candle fields,
//!   indicator outputs), read by age (0 = newest), iterated newest → oldest.
//! - [`RollingMax`] / [`RollingMin`]: the maximum / minimum of the last `n`
//!   values in amortized O(1) (highest high, lowest low).
//! - [`BlockMax`] / [`BlockMin`]: the same results with the van Herk /
//!   Gil-Werman block decomposition, no data-dependent loop per push (faster
//!   on real prices; see `bench/benches/ringbuf.rs`).
//! - [`spsc`]: a wait-free bounded single-producer single-consumer queue
//!   between two threads, with [`CachePadded`] indices.
//!
//! Consumes plain values; produces windows over them. Knows nothing of engine
//! types. Must never allocate after construction, block, lock, or make a
//! syscall: every buffer is allocated once, in `new`/`try_new`.
//!
//! # Panic and error policy
//! - Constructors come in pairs: `new` panics on an impossible capacity
//!   (0, or a buffer larger than `isize::MAX` bytes) with a message naming
//!   the type, documented under `# Panics`; `try_new` returns a
//!   [`CapacityError`] instead, for capacities from external input such as
//!   config.
//! - After construction nothing panics: reads outside the held values return
//!   `None`, a full [`HistoryRing`] evicts and returns its oldest value, and
//!   a full SPSC queue returns the value in [`spsc::PushError::Full`].
//! - `unsafe` is confined to [`spsc`]; every block carries a `SAFETY:`
//!   comment naming the invariant it relies on.
//! - Internal invariants are checked with `debug_assert!` ("Invariant: …").
//!
//! # Examples
//! ```
//! use ringbuf::{HistoryRing, RollingMax, RollingMin};
//!
//! let mut closes = HistoryRing::new(20);
//! let mut highest = RollingMax::new(14);
//! let mut lowest = RollingMin::new(14);
//! for (close, high, low) in [(10.0, 10.5, 9.5), (11.0, 11.2, 10.1)] {
//!     closes.push(close);
//!     highest.push(high);
//!     lowest.push(low);
//! }
//! assert_eq!(closes.newest(), Some(11.0));
//! assert_eq!(highest.max(), Some(11.2));
//! assert_eq!(lowest.min(), Some(9.5));
//! ```
#![deny(
    missing_docs,
    missing_debug_implementations,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::unnecessary_safety_comment
)]

mod block;
mod cache_padded;
mod error;
mod history;
mod rolling;
pub mod spsc;

pub use block::{BlockMax, BlockMin, BlockState, BlockStateError};
pub use cache_padded::CachePadded;
pub use error::CapacityError;
pub use history::{HistoryIter, HistoryRing};
pub use rolling::{RollingMax, RollingMin};
