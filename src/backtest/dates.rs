//! Calendar helpers for reports: Unix milliseconds to UTC dates and back,
//! without a date library.
//!
//! Consumes millisecond timestamps or `YYYY-MM-DD` text; produces civil
//! dates. Pure functions.

/// Milliseconds per day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// Returns (year, month 1..=12, day 1..=31) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Returns the day count since 1970-01-01 of a civil date.
#[must_use]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD` into the Unix milliseconds of its midnight UTC.
#[must_use]
pub fn parse_date_ms(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * MS_PER_DAY)
}

/// Formats Unix milliseconds as `YYYY-MM-DD`.
#[must_use]
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Formats Unix milliseconds as `YYYY-MM`.
#[must_use]
pub fn format_month(ms: i64) -> String {
    let (y, m, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!("{y:04}-{m:02}")
}

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC), the readable
/// column beside every `_ms` column of the reports.
#[must_use]
pub fn format_utc_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let secs = ms.rem_euclid(MS_PER_DAY) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Formats a duration in milliseconds as `Dd HH:MM` (`3d 04:05`), or
/// `HH:MM` under a day.
#[must_use]
pub fn format_duration_ms(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days() {
        assert_eq!(parse_date_ms("2025-05-04"), Some(1_746_316_800_000));
        assert_eq!(format_date(1_746_316_800_000 + 5), "2025-05-04");
        assert_eq!(format_month(1_582_329_600_000), "2020-02");
        for days in [-1000, 0, 59, 18_000, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(parse_date_ms("2025-13-01"), None);
        assert_eq!(parse_date_ms("2025-01"), None);
        assert_eq!(
            format_utc_ms(1_746_316_800_000 + 3_723_000),
            "2025-05-04 01:02:03"
        );
        assert_eq!(
            format_duration_ms(3 * MS_PER_DAY + 4 * 3_600_000 + 5 * 60_000),
            "3d 04:05"
        );
        assert_eq!(format_duration_ms(59 * 60_000), "00:59");
    }
}
