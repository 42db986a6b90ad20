//! Exact decimal text ⇄ scaled integer conversion for the simulator (ticks and steps).
//!
//! Consumes decimal strings from requests and data files; produces `i64` multiples of
//! `10^-decimals` and formats them back. Never goes through `f64` for prices or quantities.

use std::fmt;

/// Why a decimal string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    /// Not a plain decimal number (`[-]digits[.digits]`).
    Syntax,
    /// More significant fractional digits than the grid allows.
    Precision,
    /// The value does not fit in an `i64` at this scale.
    Overflow,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax => f.write_str("not a plain decimal number"),
            Self::Precision => f.write_str("too many decimal places"),
            Self::Overflow => f.write_str("number out of range"),
        }
    }
}

impl std::error::Error for NumError {}

/// Returns `10^decimals` (decimals ≤ 18).
#[must_use]
pub fn pow10(decimals: u32) -> i64 {
    10i64.pow(decimals.min(18))
}

/// Returns the number of fractional digits written in `text` (`"61800.30"` → 2).
#[must_use]
pub fn count_decimals(text: &str) -> u32 {
    text.split_once('.')
        .map_or(0, |(_, frac)| frac.trim().len() as u32)
}

fn split(text: &str) -> Result<(bool, &str, &str), NumError> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NumError::Syntax);
    }
    Ok((neg, int, frac))
}

fn digits_value(int: &str, frac: &str, decimals: u32) -> Result<i64, NumError> {
    let mut v: i64 = 0;
    let scale_digits = frac.chars().take(decimals as usize);
    for c in int.chars().chain(scale_digits) {
        let d = i64::from(c as u8 - b'0');
        v = v
            .checked_mul(10)
            .and_then(|x| x.checked_add(d))
            .ok_or(NumError::Overflow)?;
    }
    let missing = decimals.saturating_sub(frac.len() as u32);
    v.checked_mul(pow10(missing)).ok_or(NumError::Overflow)
}

/// Parses `text` into an exact multiple of `10^-decimals`.
///
/// # Errors
/// [`NumError::Syntax`] for anything but a plain decimal, [`NumError::Precision`] when a
/// non-zero digit lies beyond `decimals`, [`NumError::Overflow`] when it does not fit.
pub fn parse_scaled(text: &str, decimals: u32) -> Result<i64, NumError> {
    let (neg, int, frac) = split(text)?;
    if frac.len() > decimals as usize && frac[decimals as usize..].bytes().any(|b| b != b'0') {
        return Err(NumError::Precision);
    }
    let v = digits_value(int, frac, decimals)?;
    Ok(if neg { -v } else { v })
}

/// Parses `text` rounding to the nearest multiple of `10^-decimals` (ties away from zero).
///
/// # Errors
/// [`NumError::Syntax`] or [`NumError::Overflow`] as for [`parse_scaled`].
pub fn parse_scaled_round(text: &str, decimals: u32) -> Result<i64, NumError> {
    let (neg, int, frac) = split(text)?;
    let mut v = digits_value(int, frac, decimals)?;
    if let Some(next) = frac.as_bytes().get(decimals as usize) {
        if *next >= b'5' {
            v = v.checked_add(1).ok_or(NumError::Overflow)?;
        }
    }
    Ok(if neg { -v } else { v })
}

/// Formats `value * 10^-decimals` with exactly `decimals` fractional digits.
#[must_use]
pub fn format_scaled(value: i64, decimals: u32) -> String {
    if decimals == 0 {
        return value.to_string();
    }
    let p = pow10(decimals).unsigned_abs();
    let a = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        a / p,
        a % p,
        width = decimals as usize
    )
}

/// Converts a scaled integer to `f64` (for money maths only, never for order prices).
#[must_use]
pub fn to_f64(value: i64, decimals: u32) -> f64 {
    value as f64 / pow10(decimals) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_values_at_scale() {
        assert_eq!(parse_scaled("65000.5", 1), Ok(650_005));
        assert_eq!(parse_scaled("0.0010", 4), Ok(10));
        assert_eq!(parse_scaled("25000", 2), Ok(2_500_000));
        assert_eq!(parse_scaled("1.50000", 1), Ok(15));
        assert_eq!(parse_scaled("-2.5", 1), Ok(-25));
        assert_eq!(parse_scaled(".5", 1), Ok(5));
    }

    #[test]
    fn rejects_excess_precision_and_garbage() {
        assert_eq!(parse_scaled("0.00015", 4), Err(NumError::Precision));
        assert_eq!(parse_scaled("1e5", 2), Err(NumError::Syntax));
        assert_eq!(parse_scaled("", 2), Err(NumError::Syntax));
        assert_eq!(parse_scaled("1.2.3", 2), Err(NumError::Syntax));
        assert_eq!(
            parse_scaled("99999999999999999999", 2),
            Err(NumError::Overflow)
        );
    }

    #[test]
    fn rounds_to_nearest_tick() {
        assert_eq!(parse_scaled_round("95505.46", 1), Ok(955_055));
        assert_eq!(parse_scaled_round("95505.44", 1), Ok(955_054));
        assert_eq!(parse_scaled_round("3", 3), Ok(3000));
    }

    #[test]
    fn formats_with_fixed_decimals() {
        assert_eq!(format_scaled(650_005, 1), "65000.5");
        assert_eq!(format_scaled(10, 4), "0.0010");
        assert_eq!(format_scaled(-25, 1), "-2.5");
        assert_eq!(format_scaled(42, 0), "42");
        assert_eq!(count_decimals("61800.30"), 2);
        assert_eq!(count_decimals("9682"), 0);
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_format_then_parse_round_trips(v in prop_oneof![Just(0i64), Just(1), Just(-1), -1_000_000_000_000i64..1_000_000_000_000], d in 0u32..9) {
            prop_assert_eq!(parse_scaled(&format_scaled(v, d), d), Ok(v));
            prop_assert_eq!(parse_scaled_round(&format_scaled(v, d), d), Ok(v));
        }

        #[test]
        fn prop_rounding_lands_within_half_a_tick(int in 0i64..1_000_000, frac in 0u32..1_000_000, d in 0u32..6) {
            let text = format!("{int}.{frac:06}");
            let exact = (int as f64) + f64::from(frac) / 1e6;
            let got = parse_scaled_round(&text, d).unwrap() as f64 / pow10(d) as f64;
            prop_assert!((got - exact).abs() <= 0.5 / pow10(d) as f64 + 1e-9);
        }
    }
}
