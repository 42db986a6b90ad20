//! In-place JSON parsing with reused buffers, and typed field readers.
//!
//! Consumes a mutable byte buffer holding one JSON message; produces a
//! simd-json tape borrowed from that buffer and, through the readers here,
//! ids, timestamps, prices and quantities with typed [`FeedError`]s.
//! The tape and the simd-json buffers are kept between calls, so parsing
//! allocates nothing once they have grown to the largest message seen.
//! Never panics and never parses numbers from text through `f64`.

use super::decimal::{parse_price, parse_qty};
use super::error::FeedError;
use super::FeedLimits;
use crate::types::{Price, Qty, TimestampNs};
use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};
use simd_json::{Buffers, ValueType};

/// A node of a parsed tape: `'t` borrows the tape, `'i` the input bytes.
pub(crate) type Val<'t, 'i> = Value<'t, 'i>;

/// Timestamps at or above this are read as microseconds (16 digits) rather
/// than milliseconds (13 digits), per docs/exchange-protocols.md §8.3.
const MICROS_THRESHOLD: u64 = 100_000_000_000_000;

/// 2100-01-01T00:00:00Z in milliseconds: later timestamps are rejected.
const MAX_TS_MS: u64 = 4_102_444_800_000;

/// Reused simd-json state: stage-1/2 buffers and the tape.
pub(crate) struct JsonParser {
    buffers: Buffers,
    /// Always empty between calls; only its capacity is kept.
    tape: Tape<'static>,
}

impl core::fmt::Debug for JsonParser {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JsonParser")
            .field("tape_capacity", &self.tape.0.capacity())
            .finish_non_exhaustive()
    }
}

impl JsonParser {
    /// Returns a parser with buffers sized for messages of `input_bytes`.
    pub(crate) fn new(input_bytes: usize) -> Self {
        Self {
            buffers: Buffers::new(input_bytes),
            tape: Tape(Vec::with_capacity(input_bytes / 4 + 16)),
        }
    }

    /// Parses `input` in place and hands the root value to `f`.
    ///
    /// # Errors
    /// [`FeedError::MalformedJson`] if `input` is not JSON, else whatever `f` returns.
    pub(crate) fn parse<'i, R>(
        &mut self,
        input: &'i mut [u8],
        f: impl FnOnce(Val<'_, 'i>) -> Result<R, FeedError>,
    ) -> Result<R, FeedError> {
        // Re-lifetime the empty tape to the input; its capacity is reused.
        let mut tape: Tape<'i> = core::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let result = match simd_json::fill_tape(input, &mut self.buffers, &mut tape) {
            Ok(()) if !tape.0.is_empty() => f(tape.as_value()),
            _ => Err(FeedError::MalformedJson),
        };
        self.tape = tape.reset();
        result
    }
}

/// A scalar JSON value as the readers see it: from a simd-json tape node
/// ([`scalar`]) or from the Binance fast scanner (`super::scan`), so both
/// paths share the exact same conversions and validation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'i> {
    /// A non-negative integer number.
    U(u64),
    /// A negative integer number (or one simd-json typed as signed).
    I(i64),
    /// The content of a string (escapes already resolved).
    Str(&'i str),
    /// `true` or `false`.
    Bool(bool),
    /// Anything else: `null`, a float, an array or an object.
    Other,
}

/// Returns the scalar view of a tape node.
pub(crate) fn scalar<'i>(v: Val<'_, 'i>) -> Scalar<'i> {
    match v.value_type() {
        ValueType::U64 => v.as_u64().map_or(Scalar::Other, Scalar::U),
        ValueType::I64 => v.as_i64().map_or(Scalar::Other, Scalar::I),
        ValueType::String => v.into_string().map_or(Scalar::Other, Scalar::Str),
        ValueType::Bool => v.as_bool().map_or(Scalar::Other, Scalar::Bool),
        _ => Scalar::Other,
    }
}

/// Returns the string content of `v`.
pub(crate) fn string<'i>(v: Val<'_, 'i>, field: &'static str) -> Result<&'i str, FeedError> {
    v.into_string().ok_or(FeedError::MistypedField(field))
}

/// Reads an unsigned digit string exactly (no sign, no point, at most `u64::MAX`).
fn digits_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Reads a 64-bit id from a JSON integer or a digit string; never through `f64`.
pub(crate) fn id(v: Val<'_, '_>, field: &'static str) -> Result<u64, FeedError> {
    id_of(scalar(v), field)
}

/// [`id`] of a scalar.
pub(crate) fn id_of(v: Scalar<'_>, field: &'static str) -> Result<u64, FeedError> {
    match v {
        Scalar::U(n) => Ok(n),
        Scalar::I(n) => u64::try_from(n).map_err(|_| FeedError::MistypedField(field)),
        Scalar::Str(s) => digits_u64(s.as_bytes()).ok_or(FeedError::MistypedField(field)),
        Scalar::Bool(_) | Scalar::Other => Err(FeedError::MistypedField(field)),
    }
}

/// Reads a signed integer (a `code`) from a JSON integer or a digit string.
pub(crate) fn int(v: Val<'_, '_>, field: &'static str) -> Result<i64, FeedError> {
    match scalar(v) {
        Scalar::I(n) => Ok(n),
        Scalar::U(n) => i64::try_from(n).map_err(|_| FeedError::MistypedField(field)),
        Scalar::Bool(_) | Scalar::Other => Err(FeedError::MistypedField(field)),
        Scalar::Str(s) => {
            let (neg, body) = match s.as_bytes().split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, s.as_bytes()),
            };
            let n = digits_u64(body)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or(FeedError::MistypedField(field))?;
            Ok(if neg { -n } else { n })
        }
    }
}

/// Reads an exchange timestamp (ms, or µs when 16 digits) into nanoseconds.
pub(crate) fn timestamp(v: Val<'_, '_>, field: &'static str) -> Result<TimestampNs, FeedError> {
    timestamp_of(scalar(v), field)
}

/// [`timestamp`] of a scalar.
pub(crate) fn timestamp_of(v: Scalar<'_>, field: &'static str) -> Result<TimestampNs, FeedError> {
    let raw = match v {
        Scalar::U(n) => n,
        Scalar::I(n) => u64::try_from(n).map_err(|_| FeedError::BadTimestamp(field))?,
        Scalar::Str(s) => digits_u64(s.as_bytes()).ok_or(FeedError::MistypedField(field))?,
        Scalar::Bool(_) | Scalar::Other => return Err(FeedError::MistypedField(field)),
    };
    let ms_equivalent = if raw >= MICROS_THRESHOLD {
        raw / 1000
    } else {
        raw
    };
    if raw == 0 || ms_equivalent > MAX_TS_MS {
        return Err(FeedError::BadTimestamp(field));
    }
    // Both branches are below 2^63 after the range check above.
    let raw = raw as i64;
    Ok(if raw >= MICROS_THRESHOLD as i64 {
        TimestampNs::from_us(raw)
    } else {
        TimestampNs::from_ms(raw)
    })
}

/// Reads a boolean from a JSON boolean or the strings `"true"`/`"false"`.
pub(crate) fn boolean(v: Val<'_, '_>, field: &'static str) -> Result<bool, FeedError> {
    boolean_of(scalar(v), field)
}

/// [`boolean`] of a scalar.
pub(crate) fn boolean_of(v: Scalar<'_>, field: &'static str) -> Result<bool, FeedError> {
    match v {
        Scalar::Bool(b) => Ok(b),
        Scalar::Str("true") => Ok(true),
        Scalar::Str("false") => Ok(false),
        _ => Err(FeedError::MistypedField(field)),
    }
}

/// Returns the decimal text of a price/quantity field: a JSON string, or an
/// integer number (exact). A JSON float is refused: it has already been
/// through a binary conversion.
fn decimal_text<'i>(v: Scalar<'i>, field: &'static str) -> Result<DecimalText<'i>, FeedError> {
    match v {
        Scalar::U(n) => i64::try_from(n)
            .map(DecimalText::Int)
            .map_err(|_| FeedError::MistypedField(field)),
        Scalar::I(n) => Ok(DecimalText::Int(n)),
        Scalar::Str(s) => Ok(DecimalText::Text(s.as_bytes())),
        Scalar::Bool(_) | Scalar::Other => Err(FeedError::MistypedField(field)),
    }
}

enum DecimalText<'i> {
    Text(&'i [u8]),
    Int(i64),
}

/// Reads a strictly positive price not above `limits.max_price`.
pub(crate) fn price(
    v: Val<'_, '_>,
    field: &'static str,
    limits: &FeedLimits,
) -> Result<Price, FeedError> {
    price_of(scalar(v), field, limits)
}

/// [`price`] of a scalar.
pub(crate) fn price_of(
    v: Scalar<'_>,
    field: &'static str,
    limits: &FeedLimits,
) -> Result<Price, FeedError> {
    let p = match decimal_text(v, field)? {
        DecimalText::Text(t) => parse_price(t),
        DecimalText::Int(n) => Price::from_decimal(n, 0),
    }
    .ok_or(FeedError::BadPrice(field))?;
    if p.is_positive() && p <= limits.max_price {
        Ok(p)
    } else {
        Err(FeedError::BadPrice(field))
    }
}

/// Reads a quantity in `[0, limits.max_qty]`, or `(0, max]` unless `allow_zero`.
pub(crate) fn qty(
    v: Val<'_, '_>,
    field: &'static str,
    limits: &FeedLimits,
    allow_zero: bool,
) -> Result<Qty, FeedError> {
    qty_of(scalar(v), field, limits, allow_zero)
}

/// [`qty`] of a scalar.
pub(crate) fn qty_of(
    v: Scalar<'_>,
    field: &'static str,
    limits: &FeedLimits,
    allow_zero: bool,
) -> Result<Qty, FeedError> {
    let q = match decimal_text(v, field)? {
        DecimalText::Text(t) => parse_qty(t),
        DecimalText::Int(n) => Qty::from_decimal(n, 0),
    }
    .ok_or(FeedError::BadQty(field))?;
    let sign_ok = if allow_zero {
        q >= Qty::ZERO
    } else {
        q.is_positive()
    };
    if sign_ok && q <= limits.max_qty {
        Ok(q)
    } else {
        Err(FeedError::BadQty(field))
    }
}

/// Returns `v` or the missing-field error.
pub(crate) fn required<'t, 'i>(
    v: Option<Val<'t, 'i>>,
    field: &'static str,
) -> Result<Val<'t, 'i>, FeedError> {
    v.ok_or(FeedError::MissingField(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<R>(
        json: &str,
        f: impl FnOnce(Val<'_, '_>) -> Result<R, FeedError>,
    ) -> Result<R, FeedError> {
        let mut p = JsonParser::new(256);
        let mut buf = json.as_bytes().to_vec();
        p.parse(&mut buf, f)
    }

    #[test]
    fn ids_above_2_pow_53_are_exact_as_numbers_and_strings() {
        let big = 1_735_119_588_833_849_345u64;
        assert_eq!(with(&format!("{big}"), |v| id(v, "i")), Ok(big));
        assert_eq!(with(&format!("\"{big}\""), |v| id(v, "i")), Ok(big));
        assert_eq!(with("18446744073709551615", |v| id(v, "i")), Ok(u64::MAX));
        assert_eq!(
            with("\"18446744073709551616\"", |v| id(v, "i")),
            Err(FeedError::MistypedField("i"))
        );
        assert_eq!(
            with("-1", |v| id(v, "i")),
            Err(FeedError::MistypedField("i"))
        );
        assert_eq!(
            with("1.5", |v| id(v, "i")),
            Err(FeedError::MistypedField("i"))
        );
    }

    #[test]
    fn timestamps_accept_ms_and_us() {
        assert_eq!(
            with("1714650253104", |v| timestamp(v, "T")),
            Ok(TimestampNs::from_ms(1_714_650_253_104))
        );
        assert_eq!(
            with("1735689600000000", |v| timestamp(v, "T")),
            Ok(TimestampNs::from_us(1_735_689_600_000_000))
        );
        assert_eq!(
            with("\"1714650253104\"", |v| timestamp(v, "T")),
            Ok(TimestampNs::from_ms(1_714_650_253_104))
        );
        assert_eq!(
            with("0", |v| timestamp(v, "T")),
            Err(FeedError::BadTimestamp("T"))
        );
        assert_eq!(
            with("-5", |v| timestamp(v, "T")),
            Err(FeedError::BadTimestamp("T"))
        );
        assert_eq!(
            with("9999999999999", |v| timestamp(v, "T")),
            Err(FeedError::BadTimestamp("T"))
        );
        assert_eq!(
            with("true", |v| timestamp(v, "T")),
            Err(FeedError::MistypedField("T"))
        );
    }

    #[test]
    fn prices_are_validated() {
        let l = FeedLimits::default();
        assert_eq!(
            with("\"2983.48\"", |v| price(v, "p", &l)),
            Ok(Price::from_decimal(298_348, 2).unwrap())
        );
        assert_eq!(
            with("3000", |v| price(v, "p", &l)),
            Ok(Price::from_decimal(3000, 0).unwrap())
        );
        for bad in [
            "\"0\"",
            "\"-1\"",
            "\"NaN\"",
            "\"inf\"",
            "\"\"",
            "\"2000000000\"",
        ] {
            assert_eq!(
                with(bad, |v| price(v, "p", &l)),
                Err(FeedError::BadPrice("p")),
                "{bad}"
            );
        }
        assert_eq!(
            with("1.5", |v| price(v, "p", &l)),
            Err(FeedError::MistypedField("p"))
        );
        assert_eq!(
            with("null", |v| price(v, "p", &l)),
            Err(FeedError::MistypedField("p"))
        );
    }

    #[test]
    fn quantities_are_validated() {
        let l = FeedLimits::default();
        assert!(with("\"0.0000\"", |v| qty(v, "v", &l, true)).is_ok());
        assert_eq!(
            with("\"0.0000\"", |v| qty(v, "q", &l, false)),
            Err(FeedError::BadQty("q"))
        );
        assert_eq!(
            with("\"-0.5\"", |v| qty(v, "q", &l, true)),
            Err(FeedError::BadQty("q"))
        );
        assert_eq!(
            with("\"1000000001\"", |v| qty(v, "q", &l, true)),
            Err(FeedError::BadQty("q"))
        );
    }

    #[test]
    fn malformed_json_is_typed() {
        for bad in ["", "{", "{\"a\":}", "Pong", "[1,2", "\u{0}"] {
            assert_eq!(
                with(bad, |_| Ok(())),
                Err(FeedError::MalformedJson),
                "{bad:?}"
            );
        }
    }
}
