//! Calendar dates (proleptic Gregorian, UTC) for archive planning: parsing
//! `YYYY-MM-DD`, month lengths, stepping, and the epoch milliseconds of a
//! day's midnight.
//!
//! Consumes date text; produces [`Date`]s. Pure functions, no clock access.

use core::fmt;

/// A calendar day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 1970..=9999.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=days_in_month.
    pub day: u8,
}

/// Why a date did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD`.
    Malformed {
        /// The text given.
        text: String,
    },
    /// The text has the form but names no day of 1970..=9999.
    NoSuchDate {
        /// The text given.
        text: String,
    },
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { text } => write!(f, "expected a date YYYY-MM-DD, got {text:?}"),
            Self::NoSuchDate { text } => write!(f, "no such date: {text:?}"),
        }
    }
}

impl std::error::Error for DateError {}

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// Returns true for a Gregorian leap year.
#[must_use]
pub const fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Returns the number of days of `month` (1..=12) in `year`; 0 for a bad month.
#[must_use]
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Returns the date if it exists (year 1970..=9999).
    #[must_use]
    pub const fn try_new(year: i32, month: u8, day: u8) -> Option<Self> {
        if year < 1970 || year > 9999 || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    ///
    /// # Errors
    /// [`DateError::Malformed`] when the text is not `YYYY-MM-DD`,
    /// [`DateError::NoSuchDate`] when the day does not exist (or is outside
    /// 1970..=9999).
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let bad = || DateError::Malformed {
            text: text.to_owned(),
        };
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| -> Result<u32, DateError> {
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let year = i32::try_from(num(&text[0..4])?).map_err(|_| bad())?;
        let month = u8::try_from(num(&text[5..7])?).map_err(|_| bad())?;
        let day = u8::try_from(num(&text[8..10])?).map_err(|_| bad())?;
        Self::try_new(year, month, day).ok_or_else(|| DateError::NoSuchDate {
            text: text.to_owned(),
        })
    }

    /// Returns the next day.
    #[must_use]
    pub const fn next(self) -> Self {
        if self.day < days_in_month(self.year, self.month) {
            Self {
                day: self.day + 1,
                ..self
            }
        } else if self.month < 12 {
            Self {
                month: self.month + 1,
                day: 1,
                ..self
            }
        } else {
            Self {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        }
    }

    /// Returns true when this is the last day of its month.
    #[must_use]
    pub const fn is_month_end(self) -> bool {
        self.day == days_in_month(self.year, self.month)
    }

    /// Returns days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    #[must_use]
    pub const fn days_since_epoch(self) -> i64 {
        let y = if self.month <= 2 {
            self.year as i64 - 1
        } else {
            self.year as i64
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i64;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Returns the epoch milliseconds of this day's midnight UTC.
    #[must_use]
    pub const fn start_ms(self) -> i64 {
        self.days_since_epoch() * DAY_MS
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_print() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d, Date::try_new(2024, 2, 29).unwrap());
        assert_eq!(d.to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-0x",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_malformed_date_and_a_missing_day_are_told_apart() {
        assert_eq!(
            Date::parse("2024-1-01"),
            Err(DateError::Malformed {
                text: "2024-1-01".into()
            })
        );
        let e = Date::parse("2023-02-29").unwrap_err();
        assert_eq!(
            e,
            DateError::NoSuchDate {
                text: "2023-02-29".into()
            }
        );
        assert_eq!(e.to_string(), "no such date: \"2023-02-29\"");
    }

    #[test]
    fn stepping_crosses_month_and_year_ends() {
        let d = Date::parse("2024-02-28").unwrap();
        assert_eq!(d.next().to_string(), "2024-02-29");
        assert!(d.next().is_month_end());
        assert_eq!(d.next().next().to_string(), "2024-03-01");
        assert_eq!(
            Date::parse("2023-12-31").unwrap().next().to_string(),
            "2024-01-01"
        );
    }

    #[test]
    fn epoch_milliseconds_match_known_timestamps() {
        assert_eq!(Date::parse("1970-01-01").unwrap().start_ms(), 0);
        // 2024-01-15T00:00:00Z
        assert_eq!(
            Date::parse("2024-01-15").unwrap().start_ms(),
            1_705_276_800_000
        );
        // 2025-05-04T00:00:00Z (first row of the shared futures klines file)
        assert_eq!(
            Date::parse("2025-05-04").unwrap().start_ms(),
            1_746_316_800_000
        );
    }
}
