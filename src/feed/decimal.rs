//! Exact decimal text → fixed-point conversion for exchange prices and
//! quantities.
//!
//! Consumes the bytes of a JSON string such as `"61837.63000000"`; produces
//! the exact `(mantissa, decimals)` pair and from it a [`Price`] or [`Qty`]
//! through [`Price::from_decimal`]. Never goes through a text → `f64` parse,
//! never allocates, never panics on any input.

use crate::types::{Price, Qty};

/// Most significant digits accepted: `10^18 < 2^63`, so 18 digits always fit.
const MAX_DIGITS: u32 = 18;

/// Parses an optional `-`, digits, and an optional `.` followed by digits into
/// `(mantissa, decimals)` with `value = mantissa × 10^-decimals`.
///
/// Returns `None` for empty text, a lone sign or point, any other character
/// (exponents, `NaN`, `Infinity`, `+`, spaces), or more than 18 significant
/// digits. Trailing zeros of the fraction are dropped before the digit limit
/// applies, so `"61837.63000000"` is `(6183763, 2)`.
#[must_use]
pub fn parse_decimal(text: &[u8]) -> Option<(i64, u32)> {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // Trailing zeros after a point carry no value; trimming them keeps long
    // fixed-width fractions such as Binance spot's 8 decimals within range.
    let body = match body.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let mut end = body.len();
            while end > dot + 1 && body[end - 1] == b'0' {
                end -= 1;
            }
            &body[..end]
        }
        None => body,
    };
    let mut mantissa: u64 = 0;
    let mut digits: u32 = 0;
    let mut decimals: u32 = 0;
    let mut seen_point = false;
    let mut seen_digit = false;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                if mantissa != 0 || b != b'0' {
                    digits += 1;
                    if digits > MAX_DIGITS {
                        return None;
                    }
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                if seen_point {
                    decimals += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !seen_digit || decimals > MAX_DIGITS {
        return None;
    }
    // At most 18 significant digits: mantissa < 10^18 < i64::MAX.
    let m = i64::try_from(mantissa).ok()?;
    Some((if negative { -m } else { m }, decimals))
}

/// Parses decimal text into a [`Price`]; `None` if the text is not a decimal
/// or the value is outside the fixed-point range. Sign is not checked here.
#[must_use]
pub fn parse_price(text: &[u8]) -> Option<Price> {
    let (m, d) = parse_decimal(text)?;
    Price::from_decimal(m, d)
}

/// Parses decimal text into a [`Qty`]; `None` if the text is not a decimal or
/// the value is outside the fixed-point range. Sign is not checked here.
#[must_use]
pub fn parse_qty(text: &[u8]) -> Option<Qty> {
    let (m, d) = parse_decimal(text)?;
    Qty::from_decimal(m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exchange_spellings() {
        assert_eq!(parse_decimal(b"61837.63000000"), Some((6_183_763, 2)));
        assert_eq!(parse_decimal(b"0.00017000"), Some((17, 5)));
        assert_eq!(parse_decimal(b"121584.1"), Some((1_215_841, 1)));
        assert_eq!(parse_decimal(b"100"), Some((100, 0)));
        assert_eq!(parse_decimal(b"100.0"), Some((100, 0)));
        assert_eq!(parse_decimal(b"0.0000"), Some((0, 0)));
        assert_eq!(parse_decimal(b"-1.25"), Some((-125, 2)));
        assert_eq!(parse_decimal(b".5"), Some((5, 1)));
        assert_eq!(parse_decimal(b"5."), Some((5, 0)));
    }

    #[test]
    fn rejects_non_decimals() {
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"-.",
            b"1e5",
            b"NaN",
            b"inf",
            b"Infinity",
            b"+1",
            b" 1",
            b"1.2.3",
            b"1,5",
            b"0x10",
            b"1234567890123456789",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn leading_zeros_do_not_count_as_significant_digits() {
        assert_eq!(parse_decimal(b"0000000000000000000001.5"), Some((15, 1)));
        assert_eq!(
            parse_decimal(b"123456789012345678"),
            Some((123_456_789_012_345_678, 0))
        );
    }

    #[test]
    fn price_matches_from_decimal() {
        assert_eq!(parse_price(b"2983.48"), Price::from_decimal(298_348, 2));
        assert_eq!(parse_qty(b"1.92"), Qty::from_decimal(192, 2));
        assert_eq!(parse_price(b"9999999999"), None);
    }

    mod property_tests {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn prop_decimal_text_round_trips(int in 0u64..10_000_000, frac in 0u64..100_000_000, width in 0usize..=8, neg: bool) {
                let frac = frac % 10u64.pow(width as u32);
                let text = if width == 0 {
                    format!("{}{int}", if neg { "-" } else { "" })
                } else {
                    format!("{}{int}.{frac:0width$}", if neg { "-" } else { "" })
                };
                let (m, d) = parse_decimal(text.as_bytes()).unwrap();
                let expect = i128::from(int) * 10i128.pow(width as u32) + i128::from(frac);
                let got = i128::from(m.abs()) * 10i128.pow(width as u32 - d);
                prop_assert_eq!(got, expect);
                prop_assert!(m == 0 || (m < 0) == neg);
            }

            #[test]
            fn prop_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
                let _ = parse_decimal(&bytes);
                let _ = parse_price(&bytes);
            }
        }
    }
}
