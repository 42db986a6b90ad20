//! Parsing of the `--from` / `--to` times of `journal-dump`.
//!
//! Consumes text: RFC 3339 (`2025-01-01T12:00:00Z`, `2025-01-01T12:00:00.5+02:00`),
//! `YYYY-MM-DD[THH:MM[:SS]]` read as UTC (a space may replace the `T`), or Unix epoch
//! milliseconds (digits only). Produces nanoseconds since the epoch. Never guesses: anything
//! else is a [`TimeError`] saying which forms are accepted.

use core::fmt;

use trading_engine::backtest::dates::days_from_civil;

const NS_PER_SEC: i64 = 1_000_000_000;

/// A time argument that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid time {:?}: expected RFC 3339 (2025-01-01T12:00:00Z), \
             YYYY-MM-DD[THH:MM[:SS]] (UTC) or epoch milliseconds",
            self.text
        )
    }
}

impl std::error::Error for TimeError {}

/// Parses `text` into nanoseconds since the Unix epoch.
///
/// # Errors
/// [`TimeError`] when `text` is none of the accepted forms or out of range.
pub fn parse_time_ns(text: &str) -> Result<i64, TimeError> {
    let err = || TimeError { text: text.into() };
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = t.parse().map_err(|_| err())?;
        return ms.checked_mul(1_000_000).ok_or_else(err);
    }
    parse_datetime(t).ok_or_else(err)
}

/// Parses a fixed number of ASCII digits.
fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_datetime(t: &str) -> Option<i64> {
    let date = t.get(..10)?;
    let rest = t.get(10..)?;
    let (y, m, d) = (
        digits(date.get(..4)?, 4)?,
        digits(date.get(5..7)?, 2)?,
        digits(date.get(8..10)?, 2)?,
    );
    if date.as_bytes().get(4) != Some(&b'-') || date.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day_ns = days_from_civil(i64::from(y), m, d).checked_mul(86_400 * NS_PER_SEC)?;
    if rest.is_empty() {
        return Some(day_ns);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset_s) = split_offset(rest)?;
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let h = digits(parts.next()?, 2)?;
    let mi = digits(parts.next()?, 2)?;
    let s = match parts.next() {
        Some(s) => digits(s, 2)?,
        None if frac.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let frac_ns = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let v: i64 = f.parse().ok()?;
            v * 10_i64.pow(9 - u32::try_from(f.len()).ok()?)
        }
        Some(_) => return None,
        None => 0,
    };
    let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s) - offset_s;
    day_ns
        .checked_add(secs.checked_mul(NS_PER_SEC)?)?
        .checked_add(frac_ns)
}

/// Splits a trailing `Z` or `±HH:MM` offset off the clock part; returns the
/// offset in seconds east of UTC (0 when absent: UTC).
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    if let Some(at) = s.rfind(['+', '-']) {
        let (clock, off) = s.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        let secs = i64::from(digits(oh, 2)?) * 3600 + i64::from(digits(om, 2)?) * 60;
        return Some((clock, sign * secs));
    }
    Some((s, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN1_2025_NS: i64 = 1_735_689_600 * NS_PER_SEC;

    #[test]
    fn date_only_is_midnight_utc() {
        assert_eq!(parse_time_ns("2025-01-01").unwrap(), JAN1_2025_NS);
    }

    #[test]
    fn minutes_seconds_and_space_separator_are_utc() {
        assert_eq!(
            parse_time_ns("2025-01-01T01:02").unwrap(),
            JAN1_2025_NS + 3720 * NS_PER_SEC
        );
        assert_eq!(
            parse_time_ns("2025-01-01 01:02:03").unwrap(),
            JAN1_2025_NS + 3723 * NS_PER_SEC
        );
    }

    #[test]
    fn rfc3339_with_fraction_and_offsets() {
        assert_eq!(
            parse_time_ns("2025-01-01T00:00:00.5Z").unwrap(),
            JAN1_2025_NS + 500_000_000
        );
        assert_eq!(
            parse_time_ns("2025-01-01T02:00:00+02:00").unwrap(),
            JAN1_2025_NS
        );
        assert_eq!(
            parse_time_ns("2024-12-31T22:30:00-01:30").unwrap(),
            JAN1_2025_NS
        );
    }

    #[test]
    fn epoch_milliseconds() {
        assert_eq!(parse_time_ns("1735689600000").unwrap(), JAN1_2025_NS);
        assert_eq!(parse_time_ns("0").unwrap(), 0);
    }

    #[test]
    fn malformed_times_are_refused_with_the_accepted_forms() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-01-01T25:00",
            "2025-1-01",
            "2025-01-01T00",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00+2",
            "99999999999999999999",
        ] {
            let e = parse_time_ns(bad).unwrap_err();
            assert!(e.to_string().contains("RFC 3339"), "{bad}: {e}");
        }
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;
    use trading_engine::journal_schema::format_ts;
    use trading_engine::types::TimestampNs;

    proptest! {
        #[test]
        fn prop_the_dumps_own_timestamps_parse_back_exactly(
            ns in prop_oneof![
                Just(0_i64),
                Just(JAN1_2100_NS - 1),
                0_i64..JAN1_2100_NS,
                (0_i64..4_102_444_800).prop_map(|s| s * NS_PER_SEC),
            ]
        ) {
            prop_assert_eq!(parse_time_ns(&format_ts(TimestampNs(ns))).unwrap(), ns);
        }

        #[test]
        fn prop_epoch_milliseconds_are_milliseconds(ms in 0_i64..4_102_444_800_000) {
            prop_assert_eq!(parse_time_ns(&ms.to_string()).unwrap(), ms * 1_000_000);
        }
    }

    const JAN1_2100_NS: i64 = 4_102_444_800 * NS_PER_SEC;
}
