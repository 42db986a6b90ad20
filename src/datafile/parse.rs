//! Hand-rolled byte parsers for one CSV row of a Binance public-data file.
//!
//! Consumes the bytes of the read buffer from the start of a row; produces a
//! [`Trade`] or [`Candle`] and the number of bytes consumed (including the line
//! end). Never allocates, never builds a `String`, never goes through a
//! generic CSV or serde layer: each field is parsed in one pass, straight into
//! integers, and decimals into an exact `mantissa * 10^-decimals` handed to
//! [`Price::from_decimal`] / [`Qty::from_decimal`].

use super::error::{FieldKind, RowError};
use crate::types::{Candle, Price, Qty, Side, SymbolId, TimestampNs, Trade};

/// Epoch values below this are milliseconds (13 digits today).
const MICROS_THRESHOLD: u64 = 100_000_000_000_000;

/// Why a row could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// The row is bad.
    Row(RowError),
    /// The buffered bytes end before the row does and the input is not at its end.
    Incomplete,
}

impl From<RowError> for Fail {
    fn from(e: RowError) -> Self {
        Self::Row(e)
    }
}

/// The separator after a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Comma,
    End,
}

/// Reads the separator at `*i`: `,`, a line end (`\n` or `\r\n`), or the end of
/// the bytes when `eof`. `Ok(None)` means a stray byte: the field was bad.
#[inline]
fn separator(b: &[u8], i: &mut usize, eof: bool) -> Result<Option<Sep>, Fail> {
    match b.get(*i) {
        Some(b',') => {
            *i += 1;
            Ok(Some(Sep::Comma))
        }
        Some(b'\n') => {
            *i += 1;
            Ok(Some(Sep::End))
        }
        Some(b'\r') => match b.get(*i + 1) {
            Some(b'\n') => {
                *i += 2;
                Ok(Some(Sep::End))
            }
            None if eof => {
                *i += 1;
                Ok(Some(Sep::End))
            }
            None => Err(Fail::Incomplete),
            Some(_) => Ok(None),
        },
        Some(_) => Ok(None),
        None if eof => Ok(Some(Sep::End)),
        None => Err(Fail::Incomplete),
    }
}

/// Checks the separator after column `column` (1-based) of a `columns`-column row.
#[inline]
fn after(
    b: &[u8],
    i: &mut usize,
    eof: bool,
    column: u8,
    columns: u8,
    kind: FieldKind,
) -> Result<(), Fail> {
    let want = if column < columns {
        Sep::Comma
    } else {
        Sep::End
    };
    match separator(b, i, eof)? {
        Some(sep) if sep == want => Ok(()),
        Some(Sep::End) => Err(RowError::ColumnCount {
            expected: columns,
            found: column,
        }
        .into()),
        Some(Sep::Comma) => Err(RowError::ColumnCount {
            expected: columns,
            found: columns + 1,
        }
        .into()),
        None => Err(RowError::Field {
            column,
            expected: kind,
        }
        .into()),
    }
}

/// Parses an unsigned integer of 1 to 19 digits at `*i`.
#[inline]
fn integer(b: &[u8], i: &mut usize, column: u8) -> Result<u64, RowError> {
    let start = *i;
    let mut v: u64 = 0;
    while let Some(&c) = b.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        *i += 1;
    }
    let n = *i - start;
    if n == 0 || n > 19 {
        return Err(RowError::Field {
            column,
            expected: FieldKind::Integer,
        });
    }
    Ok(v)
}

/// Parses a non-negative decimal (`123`, `0.5`, `61837.63000000`) of at most
/// 18 digits at `*i`, returning `(mantissa, decimals)`.
#[inline]
fn decimal(b: &[u8], i: &mut usize, column: u8) -> Result<(i64, u32), RowError> {
    let mut m: u64 = 0;
    let mut digits = 0u32;
    let mut frac = 0u32;
    let mut dot = false;
    while let Some(&c) = b.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            digits += 1;
            frac += u32::from(dot);
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            break;
        }
        *i += 1;
    }
    if digits == 0 || digits > 18 {
        return Err(RowError::Field {
            column,
            expected: FieldKind::Decimal,
        });
    }
    // 18 digits < 10^18 < i64::MAX: the cast is lossless.
    Ok((m as i64, frac))
}

/// Parses `true`/`false` (or `True`/`False`) at `*i`.
#[inline]
fn boolean(b: &[u8], i: &mut usize, column: u8) -> Result<bool, RowError> {
    let rest = b.get(*i..).unwrap_or(&[]);
    if rest.len() >= 4 && matches!(&rest[..4], b"true" | b"True") {
        *i += 4;
        Ok(true)
    } else if rest.len() >= 5 && matches!(&rest[..5], b"false" | b"False") {
        *i += 5;
        Ok(false)
    } else {
        Err(RowError::Field {
            column,
            expected: FieldKind::Bool,
        })
    }
}

/// Skips a column whose value the engine does not use.
#[inline]
fn skip(b: &[u8], i: &mut usize) {
    while let Some(&c) = b.get(*i) {
        if c == b',' || c == b'\n' || c == b'\r' {
            break;
        }
        *i += 1;
    }
}

/// Converts an epoch value to a timestamp: below 10^14 it is milliseconds,
/// from 10^14 on microseconds (Binance spot files from 2025 on; 13 against 16
/// digits today). A value whose nanoseconds overflow `i64` (after the year
/// 2262) is rejected.
#[inline]
pub(crate) fn epoch(v: u64, column: u8) -> Result<TimestampNs, RowError> {
    const MAX_MS: u64 = (i64::MAX / 1_000_000) as u64;
    const MAX_US: u64 = (i64::MAX / 1_000) as u64;
    if v < MICROS_THRESHOLD {
        if v <= MAX_MS {
            return Ok(TimestampNs::from_ms(v as i64));
        }
    } else if v <= MAX_US {
        return Ok(TimestampNs::from_us(v as i64));
    }
    Err(RowError::TimestampRange { column })
}

#[inline]
fn price(m: (i64, u32), column: u8) -> Result<Price, RowError> {
    Price::from_decimal(m.0, m.1).ok_or(RowError::ValueRange { column })
}

#[inline]
fn qty(m: (i64, u32), column: u8) -> Result<Qty, RowError> {
    Qty::from_decimal(m.0, m.1).ok_or(RowError::ValueRange { column })
}

/// Parses one aggTrades row of `columns` (7, or 8 for spot files with the
/// "best price match" column) columns from the start of `b`.
///
/// Returns the trade and the bytes consumed, line end included. `eof` says
/// that `b` runs to the end of the input, so the last row may lack a newline.
#[inline]
pub(crate) fn agg_trade(
    b: &[u8],
    eof: bool,
    columns: u8,
    symbol: SymbolId,
) -> Result<(Trade, usize), Fail> {
    let mut i = 0usize;
    let trade_id = integer(b, &mut i, 1)?;
    after(b, &mut i, eof, 1, columns, FieldKind::Integer)?;
    let p = decimal(b, &mut i, 2)?;
    after(b, &mut i, eof, 2, columns, FieldKind::Decimal)?;
    let q = decimal(b, &mut i, 3)?;
    after(b, &mut i, eof, 3, columns, FieldKind::Decimal)?;
    integer(b, &mut i, 4)?;
    after(b, &mut i, eof, 4, columns, FieldKind::Integer)?;
    integer(b, &mut i, 5)?;
    after(b, &mut i, eof, 5, columns, FieldKind::Integer)?;
    let ts = integer(b, &mut i, 6)?;
    after(b, &mut i, eof, 6, columns, FieldKind::Integer)?;
    let buyer_maker = boolean(b, &mut i, 7)?;
    after(b, &mut i, eof, 7, columns, FieldKind::Bool)?;
    if columns == 8 {
        boolean(b, &mut i, 8)?;
        after(b, &mut i, eof, 8, columns, FieldKind::Bool)?;
    }
    let trade = Trade {
        symbol,
        trade_id,
        price: price(p, 2)?,
        qty: qty(q, 3)?,
        exchange_ts: epoch(ts, 6)?,
        aggressor: if buyer_maker { Side::Sell } else { Side::Buy },
    };
    Ok((trade, i))
}

/// Parses one 12-column klines row from the start of `b`.
///
/// Uses open time, OHLC, volume and count; checks that close time is an
/// integer; skips the quote-volume, taker-buy and ignore columns unchecked.
/// Returns the candle and the bytes consumed, line end included.
#[inline]
pub(crate) fn kline(b: &[u8], eof: bool, symbol: SymbolId) -> Result<(Candle, usize), Fail> {
    const COLS: u8 = 12;
    let mut i = 0usize;
    let open_time = integer(b, &mut i, 1)?;
    after(b, &mut i, eof, 1, COLS, FieldKind::Integer)?;
    let o = decimal(b, &mut i, 2)?;
    after(b, &mut i, eof, 2, COLS, FieldKind::Decimal)?;
    let h = decimal(b, &mut i, 3)?;
    after(b, &mut i, eof, 3, COLS, FieldKind::Decimal)?;
    let l = decimal(b, &mut i, 4)?;
    after(b, &mut i, eof, 4, COLS, FieldKind::Decimal)?;
    let c = decimal(b, &mut i, 5)?;
    after(b, &mut i, eof, 5, COLS, FieldKind::Decimal)?;
    let v = decimal(b, &mut i, 6)?;
    after(b, &mut i, eof, 6, COLS, FieldKind::Decimal)?;
    integer(b, &mut i, 7)?;
    after(b, &mut i, eof, 7, COLS, FieldKind::Integer)?;
    skip(b, &mut i);
    after(b, &mut i, eof, 8, COLS, FieldKind::Decimal)?;
    let count = integer(b, &mut i, 9)?;
    after(b, &mut i, eof, 9, COLS, FieldKind::Integer)?;
    for column in 10..=COLS {
        skip(b, &mut i);
        after(b, &mut i, eof, column, COLS, FieldKind::Decimal)?;
    }
    let candle = Candle {
        symbol,
        open_time: epoch(open_time, 1)?,
        open: price(o, 2)?,
        high: price(h, 3)?,
        low: price(l, 4)?,
        close: price(c, 5)?,
        volume: qty(v, 6)?,
        trade_count: u32::try_from(count).unwrap_or(u32::MAX),
    };
    Ok((candle, i))
}

/// Counts the columns of the line at the start of `b` (commas + 1, up to the
/// first `\n` or the end of `b`).
pub(crate) fn count_columns(b: &[u8]) -> usize {
    let line = b.split(|&c| c == b'\n').next().unwrap_or(&[]);
    line.iter().filter(|&&c| c == b',').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SymbolId = SymbolId(3);

    #[test]
    fn agg_trade_row_parses_every_field() {
        let row =
            b"3735683259,61837.63000000,0.02000000,3735683259,3735683259,1723161255342,true\nnext";
        let (t, used) = agg_trade(row, false, 7, S).unwrap();
        assert_eq!(used, row.len() - 4);
        assert_eq!(t.trade_id, 3_735_683_259);
        assert_eq!(t.price, Price::from_decimal(6_183_763, 2).unwrap());
        assert_eq!(t.qty, Qty::from_decimal(2, 2).unwrap());
        assert_eq!(t.exchange_ts, TimestampNs::from_ms(1_723_161_255_342));
        assert_eq!(t.aggressor, Side::Sell);
        assert_eq!(t.symbol, S);
    }

    #[test]
    fn spot_row_with_best_match_column_and_capitalised_bools() {
        let row = b"1,2.5,3,1,1,1735689600000000,False,True\r\n";
        let (t, used) = agg_trade(row, false, 8, S).unwrap();
        assert_eq!(used, row.len());
        assert_eq!(t.aggressor, Side::Buy);
        assert_eq!(t.exchange_ts, TimestampNs::from_ms(1_735_689_600_000));
    }

    #[test]
    fn last_row_without_newline_needs_eof() {
        let row = b"1,2.5,3,1,1,1582329602111,false";
        assert_eq!(agg_trade(row, false, 7, S), Err(Fail::Incomplete));
        let (t, used) = agg_trade(row, true, 7, S).unwrap();
        assert_eq!(used, row.len());
        assert_eq!(t.trade_id, 1);
    }

    #[test]
    fn kline_row_parses_ohlcv_and_count() {
        let row =
            b"1725148800000,3.566,3.567,3.563,3.565,10673.8,1725148859999,38048.0993,203,5480.8,19537.8485,0\n";
        let (c, used) = kline(row, false, S).unwrap();
        assert_eq!(used, row.len());
        assert_eq!(c.open_time, TimestampNs::from_ms(1_725_148_800_000));
        assert_eq!(c.open, Price::from_decimal(3566, 3).unwrap());
        assert_eq!(c.high, Price::from_decimal(3567, 3).unwrap());
        assert_eq!(c.low, Price::from_decimal(3563, 3).unwrap());
        assert_eq!(c.close, Price::from_decimal(3565, 3).unwrap());
        assert_eq!(c.volume, Qty::from_decimal(106_738, 1).unwrap());
        assert_eq!(c.trade_count, 203);
    }

    #[test]
    fn bad_fields_name_their_column() {
        let row = b"1,2.5x,3,1,1,1582329602111,false\n";
        assert_eq!(
            agg_trade(row, false, 7, S),
            Err(Fail::Row(RowError::Field {
                column: 2,
                expected: FieldKind::Decimal
            }))
        );
        let row = b"1,2.5,3,1,1,1582329602111,maybe\n";
        assert_eq!(
            agg_trade(row, false, 7, S),
            Err(Fail::Row(RowError::Field {
                column: 7,
                expected: FieldKind::Bool
            }))
        );
        let row = b"1,,3,1,1,1582329602111,true\n";
        assert!(matches!(
            agg_trade(row, false, 7, S),
            Err(Fail::Row(RowError::Field { column: 2, .. }))
        ));
    }

    #[test]
    fn wrong_column_counts_are_reported() {
        let row = b"1,2.5,3,1,1,1582329602111\n";
        assert_eq!(
            agg_trade(row, false, 7, S),
            Err(Fail::Row(RowError::ColumnCount {
                expected: 7,
                found: 6
            }))
        );
        let row = b"1,2.5,3,1,1,1582329602111,true,true\n";
        assert_eq!(
            agg_trade(row, false, 7, S),
            Err(Fail::Row(RowError::ColumnCount {
                expected: 7,
                found: 8
            }))
        );
    }

    #[test]
    fn decimals_longer_than_18_digits_are_rejected() {
        let mut i = 0;
        assert!(decimal(b"1234567890.123456789,", &mut i, 2).is_err());
        let mut i = 0;
        assert_eq!(
            decimal(b"123456789.123456789,", &mut i, 2),
            Ok((123_456_789_123_456_789, 9))
        );
        let mut i = 0;
        assert!(decimal(b"1.2.3,", &mut i, 2).is_ok());
        assert_eq!(
            i, 3,
            "a second dot ends the number and fails at the separator"
        );
    }

    #[test]
    fn epoch_units_are_detected_by_magnitude() {
        assert_eq!(
            epoch(1_723_161_255_342, 1),
            Ok(TimestampNs::from_ms(1_723_161_255_342))
        );
        assert_eq!(
            epoch(1_735_689_600_123_456, 1),
            Ok(TimestampNs(1_735_689_600_123_456_000))
        );
        assert_eq!(
            epoch(1_735_689_600_123_456_789, 1),
            Err(RowError::TimestampRange { column: 1 })
        );
        assert_eq!(
            epoch(99_999_999_999_999, 1),
            Err(RowError::TimestampRange { column: 1 }),
            "milliseconds past the year 2262 overflow nanoseconds"
        );
    }

    #[test]
    fn columns_are_counted_on_the_first_line_only() {
        assert_eq!(count_columns(b"a,b,c\nd,e"), 3);
        assert_eq!(count_columns(b"1,2,3,4,5,6,7"), 7);
    }
}
