//! The error returned when a structure is asked for an impossible capacity.
//!
//! Consumes a requested capacity; produces [`CapacityError`]. Never
//! allocates: the error is a small `Copy` value.

use core::fmt;

/// Why a requested capacity (or window length) was rejected by a `try_new`
/// constructor or [`crate::spsc::try_channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapacityError {
    /// A capacity of zero was requested; every structure holds at least one
    /// value.
    Zero,
    /// The requested capacity (after rounding, where the structure rounds)
    /// does not fit in memory: its byte size would exceed `isize::MAX`, or
    /// it has no next power of two in `usize`.
    TooLarge {
        /// The capacity the caller asked for.
        requested: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zero => f.write_str("capacity must be at least 1, got 0"),
            Self::TooLarge { requested } => write!(
                f,
                "capacity {requested} is too large: its buffer size would overflow isize::MAX bytes"
            ),
        }
    }
}

impl std::error::Error for CapacityError {}

/// Checks that `capacity` slots of `T` can be allocated, without allocating.
///
/// # Errors
/// [`CapacityError::Zero`] for 0, [`CapacityError::TooLarge`] when the byte
/// size overflows `isize::MAX`.
pub(crate) fn check_capacity<T>(capacity: usize) -> Result<(), CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    let fits = capacity
        .checked_mul(core::mem::size_of::<T>())
        .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if fits {
        Ok(())
    } else {
        Err(CapacityError::TooLarge {
            requested: capacity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_capacity_is_rejected() {
        assert_eq!(check_capacity::<u8>(0), Err(CapacityError::Zero));
    }

    #[test]
    fn byte_size_overflow_is_rejected() {
        assert_eq!(
            check_capacity::<u64>(usize::MAX / 4),
            Err(CapacityError::TooLarge {
                requested: usize::MAX / 4
            })
        );
    }

    #[test]
    fn zero_sized_values_accept_any_nonzero_capacity() {
        assert_eq!(check_capacity::<()>(usize::MAX), Ok(()));
    }

    #[test]
    fn display_keeps_the_requested_capacity() {
        let msg = CapacityError::TooLarge { requested: 77 }.to_string();
        assert!(msg.contains("77"), "{msg}");
        assert_eq!(
            CapacityError::Zero.to_string(),
            "capacity must be at least 1, got 0"
        );
    }
}
