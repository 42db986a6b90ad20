//! Reader of mark-price candles in the klines layout (Binance public-data
//! `markPriceKlines`, any interval): `open_time,open,high,low,close,
//! volume,close_time,...`, and the mark price at a settlement instant.
//!
//! Consumes a path (`.csv`, `.csv.gz` or `.zip`, header optional);
//! produces [`MarkPrices`]. The interval of each candle comes from its own
//! open and close times, never assumed. Prices are parsed from their
//! decimal text to fixed point without going through `f64` text. Cold
//! path: the file is read into memory (8 h candles: 90 rows a month).

use std::path::{Path, PathBuf};

use super::error::{parse_ms, split_lines, PerpDataError};
use crate::datafile::read_all;
use crate::types::Price;

/// How far after a candle's open (or after its close) an instant may lie
/// and still be priced by that open (or close): Binance publishes funding
/// `calc_time` up to a few ms past the hour.
pub const MARK_INSTANT_TOLERANCE_MS: i64 = 1_000;

/// One mark-price candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkCandle {
    /// Open time, Unix ms.
    pub open_ms: i64,
    /// Close time, Unix ms (the last ms of the candle, as published).
    pub close_ms: i64,
    /// Mark price at the open.
    pub open: Price,
    /// Mark price at the close.
    pub close: Price,
}

/// The mark-price candles of one file, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkPrices {
    /// The file read.
    pub path: PathBuf,
    /// Candles, strictly increasing in open time.
    pub candles: Vec<MarkCandle>,
}

/// Returns the exact fixed-point value of a positive decimal text.
pub(crate) fn parse_price(cell: &str) -> Option<Price> {
    let (int, frac) = cell.split_once('.').unwrap_or((cell, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || frac.len() > 18 {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    let text = format!("{int}{frac}");
    let mantissa: i64 = if text.is_empty() {
        0
    } else {
        text.parse().ok()?
    };
    let decimals = u32::try_from(frac.len()).ok()?;
    Price::from_decimal(mantissa, decimals).filter(|p| *p > Price::ZERO)
}

/// Returns the mark price at `time_ms` in time-ordered `candles`: see
/// [`MarkPrices::at`].
#[must_use]
pub fn mark_at(candles: &[MarkCandle], time_ms: i64) -> Option<Price> {
    let k = candles.partition_point(|c| c.open_ms <= time_ms);
    let c = candles.get(k.checked_sub(1)?)?;
    if time_ms - c.open_ms < MARK_INSTANT_TOLERANCE_MS {
        return Some(c.open);
    }
    let after_close = time_ms - (c.close_ms + 1);
    (0..MARK_INSTANT_TOLERANCE_MS)
        .contains(&after_close)
        .then_some(c.close)
}

impl MarkPrices {
    /// Reads a mark-price klines file.
    ///
    /// # Errors
    /// [`PerpDataError`] naming the file (and the line and column of a bad
    /// row): unreadable, fewer than 7 columns, a time that is not Unix ms,
    /// a price that is not a positive decimal, a close time before the
    /// open, rows out of order, or no row.
    pub fn read(path: &Path) -> Result<Self, PerpDataError> {
        let bytes = read_all(path).map_err(PerpDataError::Read)?;
        let text = String::from_utf8_lossy(&bytes);
        let lines = split_lines(&text);
        let mut candles: Vec<MarkCandle> = Vec::with_capacity(lines.rows.len());
        for (line, cells) in &lines.rows {
            let bad = |column, reason| PerpDataError::Corrupt {
                path: path.to_path_buf(),
                line: *line,
                column,
                reason,
            };
            if cells.len() < 7 {
                return Err(bad("close_time", "missing (klines layout has 12 columns)"));
            }
            let ms = |k: usize, name| parse_ms(cells[k]).ok_or_else(|| bad(name, "not Unix ms"));
            let px = |k: usize, name| {
                parse_price(cells[k]).ok_or_else(|| bad(name, "not a positive decimal"))
            };
            let candle = MarkCandle {
                open_ms: ms(0, "open_time")?,
                open: px(1, "open")?,
                close: px(4, "close")?,
                close_ms: ms(6, "close_time")?,
            };
            if candle.close_ms < candle.open_ms {
                return Err(bad("close_time", "before the open time"));
            }
            if candles.last().is_some_and(|p| p.open_ms >= candle.open_ms) {
                return Err(PerpDataError::OutOfOrder {
                    path: path.to_path_buf(),
                    line: *line,
                });
            }
            candles.push(candle);
        }
        if candles.is_empty() {
            return Err(PerpDataError::NoData {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            candles,
        })
    }

    /// Returns the mark price at `time_ms`: the open of the candle that
    /// opens at most [`MARK_INSTANT_TOLERANCE_MS`] before it, else the close
    /// of the candle that ended at most that long before it. `None` when
    /// the instant falls inside a candle (its price there is not in the
    /// data) or outside the file.
    #[must_use]
    pub fn at(&self, time_ms: i64) -> Option<Price> {
        mark_at(&self.candles, time_ms)
    }

    /// Returns the candle intervals seen, in ms, ascending.
    #[must_use]
    pub fn intervals_ms(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .candles
            .iter()
            .map(|c| c.close_ms + 1 - c.open_ms)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: f64) -> Price {
        Price::from_f64(v).unwrap()
    }

    fn marks(text: &str) -> MarkPrices {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ETHUSDT-markPriceKlines-8h-2023-07.csv");
        std::fs::write(&path, text).unwrap();
        MarkPrices::read(&path).unwrap()
    }

    const TWO: &str = "1688428800000,1955.07990639,1966.76,1946.93274706,1948.5,0,1688457599999,0,0,0,0,0\n\
                       1688457600000,1948.44580696,1961.79156509,1946.74758431,1953.88,0,1688486399999,0,0,0,0,0\n";

    #[test]
    fn the_mark_at_a_settlement_is_the_open_of_the_candle_starting_there() {
        let m = marks(TWO);
        assert_eq!(m.at(1_688_428_800_001), Some(p(1955.07990639)));
        assert_eq!(m.at(1_688_457_600_000), Some(p(1948.44580696)));
        assert_eq!(m.intervals_ms(), vec![8 * 3_600_000]);
    }

    #[test]
    fn an_instant_inside_a_candle_or_outside_the_file_has_no_mark() {
        let m = marks(TWO);
        assert_eq!(m.at(1_688_428_800_000 + 3_600_000), None);
        assert_eq!(m.at(1_688_428_799_999), None);
        assert_eq!(m.at(1_688_486_400_000), Some(p(1953.88)), "the last close");
        assert_eq!(m.at(1_688_486_400_000 + 3_600_000), None);
    }

    #[test]
    fn parses_decimals_exactly_and_rejects_junk() {
        assert_eq!(parse_price("1948.5"), Some(p(1948.5)));
        assert_eq!(parse_price("0.7578032"), Price::from_decimal(7_578_032, 7));
        assert_eq!(parse_price("12"), Some(p(12.0)));
        for bad in ["", ".", "-1", "1e5", "0", "abc"] {
            assert_eq!(parse_price(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_header_is_skipped_and_a_bad_row_is_named() {
        let m = marks(&format!(
            "open_time,open,high,low,close,volume,close_time,a,b,c,d,e\n{TWO}"
        ));
        assert_eq!(m.candles.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, "1688428800000,x,1,1,1,0,1688457599999,0,0,0,0,0\n").unwrap();
        let e = MarkPrices::read(&path).unwrap_err().to_string();
        assert!(
            e.ends_with("m.csv:1: column open: not a positive decimal"),
            "{e}"
        );
    }
}
