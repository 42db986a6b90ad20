//! The state codec of journal checkpoints: how the engine's in-memory state
//! (the core's candles, indicator windows, positions, risk state and
//! counters, plus the rebuild's order bookkeeping) becomes bytes and back,
//! bit for bit.
//!
//! Consumes engine values through two traits: [`Value`] for plain data
//! (rebuilt from the bytes alone) and [`Restore`] for structures with
//! preallocated buffers (restored in place into an instance built from the
//! same configuration, so nothing is resized). Produces a little-endian
//! byte string ([`StateWriter`]) and reads it back ([`StateReader`]),
//! refusing truncated, overlong or inconsistent input with a
//! [`StateError`]. Floats are stored as their bits, so a restored indicator
//! continues exactly as the original would have.
//!
//! Each stage declares its own fields beside its type (`state_struct!`,
//! `state_enum!`): private fields never leave their module. Cold path
//! (checkpoints are written at start-up, at shutdown and at a segment
//! rotation, never per event); it allocates freely and never panics on its
//! input.

use core::fmt;

/// Why state bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// The bytes end before the value.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset where it started.
        offset: usize,
    },
    /// A value is outside what its type allows (an enum code, a length).
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Byte offset after it.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// The stored state does not fit the instance built from the
    /// configuration (another indicator layout, window or symbol count).
    Shape {
        /// What differs.
        what: &'static str,
        /// Expected (from the configuration).
        expected: u64,
        /// Found (in the bytes).
        found: u64,
    },
    /// A stored indicator is of another kind than the configuration builds
    /// at its place.
    Kind {
        /// Kind the configuration builds.
        expected: &'static str,
        /// Kind stored.
        found: String,
    },
    /// Bytes are left after the last value.
    Trailing {
        /// How many.
        bytes: usize,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what, offset } => {
                write!(f, "state truncated reading {what} at byte {offset}")
            }
            Self::Invalid {
                what,
                offset,
                value,
            } => write!(f, "invalid {what} {value} before byte {offset}"),
            Self::Shape {
                what,
                expected,
                found,
            } => write!(
                f,
                "state does not fit the configuration: {what} is {found}, the configuration builds {expected}"
            ),
            Self::Kind { expected, found } => write!(
                f,
                "state does not fit the configuration: indicator {found} stored where the configuration builds {expected}"
            ),
            Self::Trailing { bytes } => write!(f, "{bytes} bytes left after the state"),
        }
    }
}

impl std::error::Error for StateError {}

/// Appends values to a byte string (little-endian).
#[derive(Debug, Default)]
pub struct StateWriter {
    buf: Vec<u8>,
}

impl StateWriter {
    /// Returns an empty writer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Appends a `u8`.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Appends a length (as `u64`).
    pub fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    /// Appends a length-prefixed byte string.
    pub fn blob(&mut self, b: &[u8]) {
        self.len(b.len());
        self.bytes(b);
    }

    /// Appends `v`.
    pub fn put<T: Value>(&mut self, v: &T) {
        v.put(self);
    }

    /// Returns the bytes written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Returns the bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads values back from a byte string.
#[derive(Debug)]
pub struct StateReader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> StateReader<'a> {
    /// Returns a reader at the start of `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, at: 0 }
    }

    /// Reads `n` raw bytes.
    ///
    /// # Errors
    /// [`StateError::Truncated`].
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], StateError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(StateError::Truncated {
                what,
                offset: self.at,
            });
        };
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], StateError> {
        let b = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads a `u8`.
    ///
    /// # Errors
    /// [`StateError::Truncated`].
    pub fn u8(&mut self, what: &'static str) -> Result<u8, StateError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a `u32`.
    ///
    /// # Errors
    /// [`StateError::Truncated`].
    pub fn u32(&mut self, what: &'static str) -> Result<u32, StateError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a `u64`.
    ///
    /// # Errors
    /// [`StateError::Truncated`].
    pub fn u64(&mut self, what: &'static str) -> Result<u64, StateError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads a length no larger than the bytes left (every stored element
    /// takes at least one byte), so a corrupt length never allocates much.
    ///
    /// # Errors
    /// [`StateError::Truncated`] or [`StateError::Invalid`].
    pub fn len(&mut self, what: &'static str) -> Result<usize, StateError> {
        let n = self.u64(what)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(self.invalid(what, n)),
        }
    }

    /// Reads a length-prefixed byte string.
    ///
    /// # Errors
    /// [`StateError::Truncated`] or [`StateError::Invalid`].
    pub fn blob(&mut self, what: &'static str) -> Result<&'a [u8], StateError> {
        let n = self.len(what)?;
        self.bytes(n, what)
    }

    /// Reads a length-prefixed UTF-8 string.
    ///
    /// # Errors
    /// As [`blob`](Self::blob); [`StateError::Invalid`] when not UTF-8.
    pub fn text(&mut self, what: &'static str) -> Result<&'a str, StateError> {
        let b = self.blob(what)?;
        core::str::from_utf8(b).map_err(|_| self.invalid(what, b.len() as u64))
    }

    /// Reads a `T`.
    ///
    /// # Errors
    /// The [`StateError`] of `T`.
    pub fn take<T: Value>(&mut self) -> Result<T, StateError> {
        T::take(self)
    }

    /// Returns the bytes not read yet.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.at
    }

    /// Returns an [`StateError::Invalid`] for `value` at the current offset.
    #[must_use]
    pub fn invalid(&self, what: &'static str, value: u64) -> StateError {
        StateError::Invalid {
            what,
            offset: self.at,
            value,
        }
    }

    /// Checks that every byte was read.
    ///
    /// # Errors
    /// [`StateError::Trailing`].
    pub fn finish(&self) -> Result<(), StateError> {
        match self.remaining() {
            0 => Ok(()),
            bytes => Err(StateError::Trailing { bytes }),
        }
    }
}

/// Plain data stored whole: written by [`put`](Value::put) and rebuilt by
/// [`take`](Value::take) from the bytes alone.
pub trait Value: Sized {
    /// Appends the value.
    fn put(&self, w: &mut StateWriter);

    /// Reads a value.
    ///
    /// # Errors
    /// [`StateError`] on truncated or invalid bytes.
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError>;
}

/// A structure restored in place into an instance built from the same
/// configuration (its buffers are kept, never resized).
pub trait Restore {
    /// Appends the state.
    fn save(&self, w: &mut StateWriter);

    /// Overwrites the state with the stored one.
    ///
    /// # Errors
    /// [`StateError`] on truncated or invalid bytes, or a stored shape that
    /// does not fit this instance ([`StateError::Shape`]).
    fn restore(&mut self, r: &mut StateReader<'_>) -> Result<(), StateError>;
}

macro_rules! value_int {
    ($($ty:ty),*) => {$(
        impl Value for $ty {
            fn put(&self, w: &mut StateWriter) {
                w.bytes(&self.to_le_bytes());
            }
            fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
                Ok(<$ty>::from_le_bytes(r.array(stringify!($ty))?))
            }
        }
    )*};
}

value_int!(u8, u16, u32, u64, i64);

impl Value for usize {
    fn put(&self, w: &mut StateWriter) {
        w.u64(*self as u64);
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        let v = r.u64("usize")?;
        usize::try_from(v).map_err(|_| r.invalid("usize", v))
    }
}

impl Value for f64 {
    fn put(&self, w: &mut StateWriter) {
        w.u64(self.to_bits());
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        Ok(f64::from_bits(r.u64("f64")?))
    }
}

impl Value for bool {
    fn put(&self, w: &mut StateWriter) {
        w.u8(u8::from(*self));
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        match r.u8("bool")? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(r.invalid("bool", u64::from(v))),
        }
    }
}

impl<T: Value> Value for Option<T> {
    fn put(&self, w: &mut StateWriter) {
        match self {
            None => w.u8(0),
            Some(v) => {
                w.u8(1);
                v.put(w);
            }
        }
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        match r.u8("option")? {
            0 => Ok(None),
            1 => Ok(Some(T::take(r)?)),
            v => Err(r.invalid("option", u64::from(v))),
        }
    }
}

impl<A: Value, B: Value> Value for (A, B) {
    fn put(&self, w: &mut StateWriter) {
        self.0.put(w);
        self.1.put(w);
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        Ok((A::take(r)?, B::take(r)?))
    }
}

impl<A: Value, B: Value, C: Value> Value for (A, B, C) {
    fn put(&self, w: &mut StateWriter) {
        self.0.put(w);
        self.1.put(w);
        self.2.put(w);
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        Ok((A::take(r)?, B::take(r)?, C::take(r)?))
    }
}

impl<T: Value + Copy + Default, const N: usize> Value for [T; N] {
    fn put(&self, w: &mut StateWriter) {
        for v in self {
            v.put(w);
        }
    }
    fn take(r: &mut StateReader<'_>) -> Result<Self, StateError> {
        let mut out = [T::default(); N];
        for slot in &mut out {
            *slot = T::take(r)?;
        }
        Ok(out)
    }
}

/// Implements [`Value`] for a tuple newtype as its inner value, in the
/// module that owns it: `value_newtype!(SymbolId(u16));`.
macro_rules! value_newtype {
    ($($ty:ident($inner:ty)),* $(,)?) => {$(
        impl $crate::checkpoint::Value for $ty {
            fn put(&self, w: &mut $crate::checkpoint::StateWriter) {
                $crate::checkpoint::Value::put(&self.0, w);
            }
            fn take(
                r: &mut $crate::checkpoint::StateReader<'_>,
            ) -> Result<Self, $crate::checkpoint::StateError> {
                Ok(Self(<$inner as $crate::checkpoint::Value>::take(r)?))
            }
        }
    )*};
}

/// Implements [`Value`] for a fixed-point type as its raw bits
/// (`to_bits`/`from_bits`), in the module that owns it.
macro_rules! value_bits {
    ($($ty:ident),* $(,)?) => {$(
        impl $crate::checkpoint::Value for $ty {
            fn put(&self, w: &mut $crate::checkpoint::StateWriter) {
                $crate::checkpoint::Value::put(&self.to_bits(), w);
            }
            fn take(
                r: &mut $crate::checkpoint::StateReader<'_>,
            ) -> Result<Self, $crate::checkpoint::StateError> {
                Ok(Self::from_bits(<i64 as $crate::checkpoint::Value>::take(r)?))
            }
        }
    )*};
}

/// Implements [`Value`] for a struct by listing its fields, in the module
/// that owns them: `state_struct!(Candle { symbol, open_time, ... });`.
/// Every field's type implements [`Value`].
macro_rules! state_struct {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::checkpoint::Value for $ty {
            fn put(&self, w: &mut $crate::checkpoint::StateWriter) {
                $( $crate::checkpoint::Value::put(&self.$field, w); )*
            }
            fn take(
                r: &mut $crate::checkpoint::StateReader<'_>,
            ) -> Result<Self, $crate::checkpoint::StateError> {
                Ok(Self { $( $field: $crate::checkpoint::Value::take(r)?, )* })
            }
        }
    };
}

/// Implements [`Value`] for a field-less enum by listing its variants; the
/// code stored is the variant's position in the list (append new variants
/// at the end).
macro_rules! state_enum {
    ($ty:ident { $($variant:ident),* $(,)? }) => {
        impl $crate::checkpoint::Value for $ty {
            fn put(&self, w: &mut $crate::checkpoint::StateWriter) {
                let all = [$(Self::$variant),*];
                let code = all.iter().position(|v| v == self).unwrap_or(0);
                w.u8(u8::try_from(code).unwrap_or(u8::MAX));
            }
            fn take(
                r: &mut $crate::checkpoint::StateReader<'_>,
            ) -> Result<Self, $crate::checkpoint::StateError> {
                let all = [$(Self::$variant),*];
                let code = r.u8(stringify!($ty))?;
                all.get(usize::from(code))
                    .copied()
                    .ok_or_else(|| r.invalid(stringify!($ty), u64::from(code)))
            }
        }
    };
}

/// Implements [`Restore`] for [`Value`] types: the whole value is
/// replaced.
macro_rules! restore_by_value {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::checkpoint::Restore for $ty {
            fn save(&self, w: &mut $crate::checkpoint::StateWriter) {
                $crate::checkpoint::Value::put(self, w);
            }
            fn restore(
                &mut self,
                r: &mut $crate::checkpoint::StateReader<'_>,
            ) -> Result<(), $crate::checkpoint::StateError> {
                *self = $crate::checkpoint::Value::take(r)?;
                Ok(())
            }
        }
    )*};
}

pub(crate) use {restore_by_value, state_enum, state_struct, value_bits, value_newtype};

/// Saves a ring of `f64` history oldest first, with its capacity.
pub(crate) fn save_history(ring: &ringbuf::HistoryRing<f64>, w: &mut StateWriter) {
    w.len(ring.capacity());
    w.len(ring.len());
    for age in (0..ring.len()).rev() {
        ring.get(age).unwrap_or(0.0).put(w);
    }
}

/// Restores a ring saved by [`save_history`] into `ring` (same capacity):
/// the values are pushed oldest first, so every age reads as before.
pub(crate) fn restore_history(
    ring: &mut ringbuf::HistoryRing<f64>,
    r: &mut StateReader<'_>,
) -> Result<(), StateError> {
    let capacity = r.u64("history capacity")?;
    if capacity != ring.capacity() as u64 {
        return Err(StateError::Shape {
            what: "history window",
            expected: ring.capacity() as u64,
            found: capacity,
        });
    }
    let len = r.len("history length")?;
    if len > ring.capacity() {
        return Err(r.invalid("history length", len as u64));
    }
    ring.clear();
    for _ in 0..len {
        ring.push(f64::take(r)?);
    }
    Ok(())
}

/// Saves the state of a block window ([`ringbuf::BlockMax`] or
/// [`ringbuf::BlockMin`] of `f64`).
pub(crate) fn save_block(s: &ringbuf::BlockState<f64>, w: &mut StateWriter) {
    w.len(s.current.len());
    for v in &s.current {
        v.put(w);
    }
    w.len(s.suffix.len());
    for v in &s.suffix {
        v.put(w);
    }
    w.put(&(s.running, s.filled, s.has_previous));
    w.put(&s.pushed);
}

/// Reads a block window state saved by [`save_block`].
pub(crate) fn take_block(r: &mut StateReader<'_>) -> Result<ringbuf::BlockState<f64>, StateError> {
    let n = r.len("block values")?;
    let mut current = Vec::with_capacity(n);
    for _ in 0..n {
        current.push(f64::take(r)?);
    }
    let n = r.len("block suffix")?;
    let mut suffix = Vec::with_capacity(n);
    for _ in 0..n {
        suffix.push(<(f64, usize)>::take(r)?);
    }
    let (running, filled, has_previous) = r.take()?;
    Ok(ringbuf::BlockState {
        current,
        suffix,
        running,
        filled,
        has_previous,
        pushed: r.take()?,
    })
}

/// Checks a stored count against the one the configuration builds.
///
/// # Errors
/// [`StateError::Shape`] when they differ.
pub fn expect_count(
    r: &mut StateReader<'_>,
    what: &'static str,
    expected: usize,
) -> Result<(), StateError> {
    let found = r.u64(what)?;
    if found == expected as u64 {
        Ok(())
    } else {
        Err(StateError::Shape {
            what,
            expected: expected as u64,
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, TimestampNs};

    #[test]
    fn values_round_trip_bit_for_bit() {
        let mut w = StateWriter::new();
        let f = [0.1f64, -0.0, f64::NAN, f64::INFINITY, 1e-300];
        w.put(&f);
        w.put(&Some((7u32, TimestampNs(-5))));
        w.put(&None::<Price>);
        w.put(&Price::from_bits(123_456));
        w.put(&true);
        w.put(&usize::MAX);
        let bytes = w.into_bytes();
        let mut r = StateReader::new(&bytes);
        let back: [f64; 5] = r.take().unwrap();
        for (a, b) in f.iter().zip(back.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(
            r.take::<Option<(u32, TimestampNs)>>().unwrap(),
            Some((7, TimestampNs(-5)))
        );
        assert_eq!(r.take::<Option<Price>>().unwrap(), None);
        assert_eq!(r.take::<Price>().unwrap(), Price::from_bits(123_456));
        assert!(r.take::<bool>().unwrap());
        assert_eq!(r.take::<usize>().unwrap(), usize::MAX);
        r.finish().unwrap();
    }

    #[test]
    fn truncated_and_invalid_bytes_are_errors_not_panics() {
        let mut w = StateWriter::new();
        w.put(&Some(5u64));
        let bytes = w.into_bytes();
        for cut in 0..bytes.len() {
            let mut r = StateReader::new(&bytes[..cut]);
            assert!(r.take::<Option<u64>>().is_err(), "cut at {cut}");
        }
        let mut r = StateReader::new(&[2]);
        assert!(matches!(
            r.take::<Option<u64>>(),
            Err(StateError::Invalid { .. })
        ));
        let mut r = StateReader::new(&[0xff; 8]);
        assert!(r.len("length").is_err());
    }

    #[test]
    fn history_rings_restore_every_age() {
        let mut a = ringbuf::HistoryRing::new(4);
        for v in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] {
            a.push(v);
        }
        let mut w = StateWriter::new();
        save_history(&a, &mut w);
        let bytes = w.into_bytes();
        let mut b = ringbuf::HistoryRing::new(4);
        b.push(9.0);
        restore_history(&mut b, &mut StateReader::new(&bytes)).unwrap();
        for age in 0..4 {
            assert_eq!(a.get(age), b.get(age));
        }
        let mut c = ringbuf::HistoryRing::new(5);
        assert!(matches!(
            restore_history(&mut c, &mut StateReader::new(&bytes)),
            Err(StateError::Shape { .. })
        ));
    }
}
