//! Lenient decoding of BingX JSON values: numbers that arrive as JSON numbers
//! in one version and strings in another (§1, §4.9), empty strings for
//! "none", 19-digit ids, and decimal text into fixed-point [`Price`]/[`Qty`].
//!
//! Consumes serde deserializers (serde_json on the I/O thread); produces
//! integers without ever going through `f64` (ids above 2^53 stay exact), and
//! fixed-point values from decimal text. A JSON *number* for a price is
//! printed back to its shortest decimal text first, so `42211.1` becomes the
//! decimal 42211.1, not its binary neighbour. Never used on the hot path.

use core::fmt;
use std::io::Write as _;

use serde::de::{self, Deserializer, Visitor};

use crate::types::{Price, Qty};

/// Splits decimal text like `-0.0030` into `(mantissa, decimals)` = `(-30, 4)`.
///
/// Accepts an optional sign, digits and at most one point; digits beyond 18
/// significant ones are truncated (far below fixed-point resolution).
/// Returns `None` for empty or non-decimal text (exponents included).
#[must_use]
pub fn parse_decimal(text: &str) -> Option<(i64, u32)> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut decimals: u32 = 0;
    let mut significant = 0u32;
    for b in int_part.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        if mantissa != 0 {
            significant += 1;
        }
    }
    for b in frac_part.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        if significant >= 18 {
            continue;
        }
        mantissa = mantissa * 10 + i64::from(b - b'0');
        decimals += 1;
        if mantissa != 0 {
            significant += 1;
        }
    }
    Some((if neg { -mantissa } else { mantissa }, decimals))
}

/// Returns the fixed-point price of decimal text (`None` when not decimal).
#[must_use]
pub fn price_from_text(text: &str) -> Option<Price> {
    let (m, d) = parse_decimal(text)?;
    Price::from_decimal(m, d)
}

/// Returns the fixed-point quantity of decimal text (`None` when not decimal).
#[must_use]
pub fn qty_from_text(text: &str) -> Option<Qty> {
    let (m, d) = parse_decimal(text)?;
    Qty::from_decimal(m, d)
}

/// Writes the shortest round-trip decimal text of `v` into `buf`.
fn f64_text(v: f64, buf: &mut [u8; 64]) -> Option<&str> {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    write!(cursor, "{v}").ok()?;
    let len = usize::try_from(cursor.position()).ok()?;
    core::str::from_utf8(&buf[..len]).ok()
}

/// A value that may arrive as a JSON number, a numeric string, an empty string or null.
#[derive(Debug, Clone, PartialEq)]
enum Loose {
    U(u64),
    I(i64),
    F(f64),
    Text(String),
    Empty,
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string, an empty string or null")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::U(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
        Ok(Loose::I(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
        Ok(Loose::F(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
        let v = v.trim();
        if v.is_empty() {
            Ok(Loose::Empty)
        } else {
            Ok(Loose::Text(v.to_owned()))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Empty)
    }

    fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Empty)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(self)
    }
}

fn loose<'de, D: Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
    d.deserialize_any(LooseVisitor)
}

/// Deserializes an unsigned id or count from a number or a string of digits;
/// empty string or null gives 0. Never goes through `f64`.
///
/// # Errors
/// A serde error for negative, fractional or non-numeric values.
pub fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match loose(d)? {
        Loose::U(v) => Ok(v),
        Loose::I(v) => u64::try_from(v).map_err(|_| de::Error::custom("negative id")),
        Loose::F(v) => Err(de::Error::custom(format!(
            "fractional value {v} where an integer was expected"
        ))),
        Loose::Empty => Ok(0),
        Loose::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("not an unsigned integer: {t:?}"))),
    }
}

/// Deserializes a signed integer (times in ms, codes) like [`u64_lenient`].
///
/// # Errors
/// A serde error for fractional or non-numeric values.
pub fn i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match loose(d)? {
        Loose::U(v) => i64::try_from(v).map_err(|_| de::Error::custom("integer too large")),
        Loose::I(v) => Ok(v),
        Loose::F(v) => Err(de::Error::custom(format!(
            "fractional value {v} where an integer was expected"
        ))),
        Loose::Empty => Ok(0),
        Loose::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("not an integer: {t:?}"))),
    }
}

fn fixed_lenient<'de, D: Deserializer<'de>, T>(
    d: D,
    from_text: fn(&str) -> Option<T>,
    zero: T,
) -> Result<T, D::Error> {
    let bad = |t: &str| de::Error::custom(format!("not a decimal: {t:?}"));
    match loose(d)? {
        Loose::Empty => Ok(zero),
        Loose::Text(t) => from_text(&t).ok_or_else(|| bad(&t)),
        Loose::U(v) => {
            let t = v.to_string();
            from_text(&t).ok_or_else(|| bad(&t))
        }
        Loose::I(v) => {
            let t = v.to_string();
            from_text(&t).ok_or_else(|| bad(&t))
        }
        Loose::F(v) => {
            let mut buf = [0u8; 64];
            let t = f64_text(v, &mut buf).ok_or_else(|| bad("float"))?;
            from_text(t).ok_or_else(|| bad(t))
        }
    }
}

/// Deserializes a [`Price`] from decimal text or a JSON number; empty or null gives zero.
///
/// # Errors
/// A serde error for non-decimal text or an out-of-range value.
pub fn price_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
    fixed_lenient(d, price_from_text, Price::ZERO)
}

/// Deserializes a [`Qty`] from decimal text or a JSON number; empty or null gives zero.
///
/// # Errors
/// A serde error for non-decimal text or an out-of-range value.
pub fn qty_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Qty, D::Error> {
    fixed_lenient(d, qty_from_text, Qty::ZERO)
}

/// Deserializes a boolean from `true`/`false` or the strings `"true"`/`"false"`;
/// empty string or null gives false.
///
/// # Errors
/// A serde error for any other value.
pub fn bool_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim() {
                "true" | "TRUE" | "True" => Ok(true),
                "false" | "FALSE" | "False" | "" => Ok(false),
                other => Err(E::custom(format!("not a boolean: {other:?}"))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_any(V)
}

/// Deserializes a leverage like `5`, `"5"`, `"5X"` or `""` (0).
///
/// # Errors
/// A serde error for other text.
pub fn leverage_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match loose(d)? {
        Loose::U(v) => u32::try_from(v).map_err(|_| de::Error::custom("leverage too large")),
        Loose::I(v) => u32::try_from(v).map_err(|_| de::Error::custom("bad leverage")),
        Loose::F(v) => Err(de::Error::custom(format!("fractional leverage {v}"))),
        Loose::Empty => Ok(0),
        Loose::Text(t) => t
            .trim()
            .trim_end_matches(['X', 'x'])
            .parse()
            .map_err(|_| de::Error::custom(format!("not a leverage: {t:?}"))),
    }
}

/// Deserializes a rate or fee (`0.0005`, `"0.00004900"`) as `f64`; empty or
/// null gives 0. Only for informational values, never for order prices.
///
/// # Errors
/// A serde error for non-numeric text.
pub fn f64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match loose(d)? {
        Loose::U(v) => Ok(v as f64),
        Loose::I(v) => Ok(v as f64),
        Loose::F(v) => Ok(v),
        Loose::Empty => Ok(0.0),
        Loose::Text(t) => t
            .parse()
            .map_err(|_| de::Error::custom(format!("not a number: {t:?}"))),
    }
}

/// Deserializes a string field that may also arrive as a number (ids shown
/// as text, e.g. `positionId`); null gives the empty string.
///
/// # Errors
/// A serde error for objects or arrays.
pub fn string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match loose(d)? {
        Loose::U(v) => Ok(v.to_string()),
        Loose::I(v) => Ok(v.to_string()),
        Loose::F(v) => Ok(v.to_string()),
        Loose::Text(t) => Ok(t),
        Loose::Empty => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "u64_lenient")]
        id: u64,
        #[serde(deserialize_with = "price_lenient")]
        p: Price,
        #[serde(deserialize_with = "bool_lenient")]
        b: bool,
        #[serde(deserialize_with = "leverage_lenient")]
        l: u32,
    }

    fn t(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ids_above_2_pow_53_stay_exact_from_number_and_string() {
        let a = t(r#"{"id":1735119588833849344,"p":"1","b":true,"l":5}"#);
        assert_eq!(a.id, 1_735_119_588_833_849_344);
        let b = t(r#"{"id":"1735119588833849345","p":"1","b":"true","l":"5X"}"#);
        assert_eq!(b.id, 1_735_119_588_833_849_345);
        assert!(b.b);
        assert_eq!(b.l, 5);
        let c = t(r#"{"id":"","p":"","b":"","l":""}"#);
        assert_eq!((c.id, c.p, c.b, c.l), (0, Price::ZERO, false, 0));
        assert!(serde_json::from_str::<T>(r#"{"id":1.5,"p":"1","b":true,"l":1}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id":-1,"p":"1","b":true,"l":1}"#).is_err());
    }

    #[test]
    fn prices_from_text_and_numbers_are_the_decimal_value() {
        let a = t(r#"{"id":1,"p":42211.1,"b":false,"l":0}"#);
        assert_eq!(a.p, price_from_text("42211.1").unwrap());
        let b = t(r#"{"id":1,"p":"0.000009854","b":false,"l":0}"#);
        assert_eq!(b.p, Price::from_decimal(9854, 9).unwrap());
        let c = t(r#"{"id":1,"p":2,"b":false,"l":0}"#);
        assert_eq!(c.p, Price::from_decimal(2, 0).unwrap());
        assert!(serde_json::from_str::<T>(r#"{"id":1,"p":"abc","b":true,"l":1}"#).is_err());
    }

    #[test]
    fn decimal_text_splits_exactly() {
        assert_eq!(parse_decimal("-0.0030"), Some((-30, 4)));
        assert_eq!(parse_decimal("65000.5"), Some((650_005, 1)));
        assert_eq!(parse_decimal("7"), Some((7, 0)));
        assert_eq!(parse_decimal(".5"), Some((5, 1)));
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("1e5"), None);
        assert_eq!(parse_decimal("."), None);
        // 25 significant digits are truncated to 18.
        assert_eq!(
            parse_decimal("1.234567890123456789012345"),
            Some((123_456_789_012_345_678, 17))
        );
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_decimal_text_parses_back_to_the_written_price(
            steps in -2_000_000_000i64..2_000_000_000,
            d in 0u8..=8,
        ) {
            let grid = crate::types::DecimalStep::from_precision(d);
            let p = Price(grid.from_steps(steps));
            let mut buf = [0u8; 48];
            let text = p.write_decimal(d, &mut buf).unwrap().to_owned();
            let back = price_from_text(&text).unwrap();
            // Same grid point: the text is the exchange's view of the price.
            prop_assert_eq!(grid.steps(back.0, crate::types::Rounding::Nearest), steps);
        }

        #[test]
        fn prop_json_numbers_and_strings_give_the_same_price(
            steps in 0i64..100_000_000,
            d in 0u32..=6,
        ) {
            let text = if d == 0 {
                steps.to_string()
            } else {
                let pow = 10i64.pow(d);
                format!("{}.{:0width$}", steps / pow, steps % pow, width = d as usize)
            };
            #[derive(serde::Deserialize)]
            struct P(#[serde(deserialize_with = "price_lenient")] Price);
            let from_number: P = serde_json::from_str(&text).unwrap();
            let from_string: P = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            prop_assert_eq!(from_number.0, from_string.0);
        }
    }
}
