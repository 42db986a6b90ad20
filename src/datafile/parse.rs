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
#[inline(always)]
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
#[inline(always)]
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

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Powers of ten as integers (10^0 ..= 10^19).
const POW10_U64: [u64; 20] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];

/// Returns the value of 8 digit bytes (0..=9 each, most significant in the
/// lowest byte), by three multiply-shift steps (SWAR).
#[inline]
const fn swar8(d: u64) -> u64 {
    let d = (d & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(10 * 256 + 1) >> 8;
    let d = (d & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65_536 + 1) >> 16;
    (d & 0x0000_FFFF_0000_FFFF).wrapping_mul(10_000 * (1 << 32) + 1) >> 32
}

/// Parses the run of ASCII digits at `*i`, 8 bytes at a time while 8 bytes
/// are available (the reader keeps at least 4 KiB buffered), and returns its
/// value (wrapped beyond 19 digits) and its length.
///
/// For 8 bytes `x`, `v = x - 0x30..30` holds the digit values; a byte is not
/// a digit exactly when `v` or `v + 0x76` has its high bit set there. Borrows
/// and carries only move towards later bytes, so the first flagged byte is
/// the first non-digit.
#[inline(always)]
fn digit_run(b: &[u8], i: &mut usize) -> (u64, u32) {
    let mut value: u64 = 0;
    let mut count: u32 = 0;
    while let Some(chunk) = b.get(*i..*i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let v = u64::from_le_bytes(bytes).wrapping_sub(0x30 * ONES);
        let flags = (v | v.wrapping_add(0x76 * ONES)) & (0x80 * ONES);
        let n = if flags == 0 {
            8
        } else {
            flags.trailing_zeros() / 8
        };
        if n == 0 {
            return (value, count);
        }
        // Keep the n digit bytes, moved up so the bytes below read as leading zeros.
        let digits = swar8(v << (8 * (8 - n)));
        value = value
            .wrapping_mul(POW10_U64[n as usize])
            .wrapping_add(digits);
        count += n;
        *i += n as usize;
        if n < 8 {
            return (value, count);
        }
    }
    while let Some(&c) = b.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        count += 1;
        *i += 1;
    }
    (value, count)
}

/// Parses an unsigned integer of 1 to 19 digits at `*i`.
#[inline(always)]
fn integer(b: &[u8], i: &mut usize, column: u8) -> Result<u64, RowError> {
    let (v, n) = digit_run(b, i);
    if n == 0 || n > 19 {
        return Err(RowError::Field {
            column,
            expected: FieldKind::Integer,
        });
    }
    Ok(v)
}

/// Parses a non-negative decimal (`123`, `0.5`, `61837.63000000`, `.5`, `5.`)
/// of at most 18 digits at `*i`, returning `(mantissa, decimals)`.
#[inline(always)]
fn decimal(b: &[u8], i: &mut usize, column: u8) -> Result<(i64, u32), RowError> {
    let (int, n_int) = digit_run(b, i);
    let (frac, n_frac) = if b.get(*i) == Some(&b'.') {
        *i += 1;
        digit_run(b, i)
    } else {
        (0, 0)
    };
    let digits = n_int + n_frac;
    if digits == 0 || digits > 18 {
        return Err(RowError::Field {
            column,
            expected: FieldKind::Decimal,
        });
    }
    // Fewer than 19 digits: int * 10^n_frac + frac < 10^18 < i64::MAX.
    let m = int * POW10_U64[n_frac as usize] + frac;
    Ok((m as i64, n_frac))
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

/// Skips a numeric column whose value the engine does not use: a run of
/// digits with at most one dot, any length (the separator check after it
/// rejects any other byte).
#[inline]
fn skip_number(b: &[u8], i: &mut usize) {
    digit_run(b, i);
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        digit_run(b, i);
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

/// Exact powers of ten for the fast decimal conversion (10^0 ..= 10^18).
const POW10: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// 1.5 * 2^52: `y + ROUNDING_MAGIC` for `|y| < 2^51` lies in [2^52, 2^53),
/// where an f64 has no fractional bits.
const ROUNDING_MAGIC: f64 = 6_755_399_441_055_744.0;
/// 2^51: the magnitude below which the magic-number rounding is exact
/// (prices and quantities below 524,288).
const MAGIC_BOUND: f64 = 2_251_799_813_685_248.0;

/// Returns the fixed-point bits of `mantissa * 10^-decimals`, the same value
/// as [`Price::from_decimal`] (one correctly rounded f64 division, then
/// rounding to the nearest 2^-32, ties to even) without going through the
/// generic float-to-fixed conversion, which costs 3x more (17 against 5.6
/// ns per call in `bench/src/bin/ingest.rs` on the CI machine); `None` when
/// the fast path does not apply (the caller falls back to `from_decimal`).
#[inline(always)]
fn fixed_bits(m: (i64, u32)) -> Option<i64> {
    let (mantissa, decimals) = m;
    let pow = *POW10.get(decimals as usize)?;
    if mantissa.unsigned_abs() >= (1u64 << 53) {
        return None;
    }
    let scaled = (mantissa as f64 / pow) * 4_294_967_296.0;
    if scaled.abs() < MAGIC_BOUND {
        // Adding and removing 1.5 * 2^52 leaves no fractional bit, so the FPU
        // (default mode: nearest, ties to even) does the rounding: cheaper
        // than `round_ties_even`, which x86-64 without SSE4.1 calls `rint` for.
        Some(((scaled + ROUNDING_MAGIC) - ROUNDING_MAGIC) as i64)
    } else if scaled.abs() < 9.0e18 {
        // Inside the I32F32 range (|bits| < 2^63) with margin.
        Some(scaled.round_ties_even() as i64)
    } else {
        None
    }
}

#[inline(always)]
fn price(m: (i64, u32), column: u8) -> Result<Price, RowError> {
    match fixed_bits(m) {
        Some(bits) => Ok(Price::from_bits(bits)),
        None => Price::from_decimal(m.0, m.1).ok_or(RowError::ValueRange { column }),
    }
}

/// Returns `p` if it is above zero.
#[inline(always)]
fn positive(p: Price, column: u8) -> Result<Price, RowError> {
    if p > Price::default() {
        Ok(p)
    } else {
        Err(RowError::NotPositive { column })
    }
}

#[inline(always)]
fn qty(m: (i64, u32), column: u8) -> Result<Qty, RowError> {
    match fixed_bits(m) {
        Some(bits) => Ok(Qty::from_bits(bits)),
        None => Qty::from_decimal(m.0, m.1).ok_or(RowError::ValueRange { column }),
    }
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
        price: positive(price(p, 2)?, 2)?,
        qty: qty(q, 3)?,
        exchange_ts: epoch(ts, 6)?,
        aggressor: if buyer_maker { Side::Sell } else { Side::Buy },
    };
    Ok((trade, i))
}

/// Parses one 12-column klines row from the start of `b`.
///
/// Uses open time, OHLC, volume and count; checks that close time is an
/// integer and that the quote-volume, taker-buy and ignore columns are
/// numbers (digits and one dot) without converting them.
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
    skip_number(b, &mut i);
    after(b, &mut i, eof, 8, COLS, FieldKind::Decimal)?;
    let count = integer(b, &mut i, 9)?;
    after(b, &mut i, eof, 9, COLS, FieldKind::Integer)?;
    for column in 10..=COLS {
        skip_number(b, &mut i);
        after(b, &mut i, eof, column, COLS, FieldKind::Decimal)?;
    }
    let candle = Candle {
        symbol,
        open_time: epoch(open_time, 1)?,
        open: positive(price(o, 2)?, 2)?,
        high: positive(price(h, 3)?, 3)?,
        low: positive(price(l, 4)?, 4)?,
        close: positive(price(c, 5)?, 5)?,
        volume: qty(v, 6)?,
        trade_count: u32::try_from(count).unwrap_or(u32::MAX),
    };
    if candle.high < candle.low {
        return Err(Fail::Row(RowError::HighBelowLow));
    }
    for (column, p) in [(2, candle.open), (5, candle.close)] {
        if p < candle.low || p > candle.high {
            return Err(Fail::Row(RowError::OutsideRange { column }));
        }
    }
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
    fn unused_kline_columns_must_still_be_numbers() {
        let row = b"1725148800000,3.566,3.567,3.563,3.565,10673.8,1725148859999,38048.0993,203,5480.8,19537.8485,x\n";
        assert_eq!(
            kline(row, false, S),
            Err(Fail::Row(RowError::Field {
                column: 12,
                expected: FieldKind::Decimal
            }))
        );
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
    fn fast_conversion_matches_from_decimal_at_the_edges() {
        for m in [
            (0, 0),
            (1, 18),
            (5, 10),
            (15, 10),
            (25, 10),
            (6_183_763_000_000, 8),
            (2_147_483_647, 0),
            (2_147_483_648, 0),
            (21_474_836_479_999, 4),
            (999_999_999_999_999_999, 0),
            (999_999_999_999_999_999, 18),
            ((1 << 53) - 1, 3),
            (1 << 53, 3),
            // Either side of the magic-number rounding bound (2^51 / 2^32 = 524288).
            (524_287_999_999_999, 9),
            (524_288_000_000_001, 9),
            (700_000_123_456_789, 9),
            (5_554_618_671_021_752, 10),
        ] {
            let fast = fixed_bits(m).map(Price::from_bits);
            let reference = Price::from_decimal(m.0, m.1);
            if let Some(p) = fast {
                assert_eq!(Some(p), reference, "{m:?}");
            }
            assert_eq!(price(m, 2).ok(), reference, "{m:?}");
        }
    }

    #[test]
    fn every_run_of_up_to_eight_digits_matches_str_parse() {
        // Every 4-digit value at every zero-padded width of one SWAR chunk.
        for v in 0..10_000u64 {
            for width in 1..=8usize {
                let text = format!("{v:0width$},1", width = width.max(v.to_string().len()));
                let mut i = 0;
                let (got, n) = digit_run(text.as_bytes(), &mut i);
                assert_eq!((got, n as usize), (v, text.len() - 2), "{text}");
            }
        }
    }

    mod property_tests {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn prop_digit_runs_equal_str_parse(
                digits in "[0-9]{0,19}",
                tail in prop_oneof![Just(String::new()), Just(",".to_owned()), Just("\n1234567890".to_owned()), "[0-9a-z.,]{0,12}"],
            ) {
                let text = format!("{digits}{tail}");
                let leading = text.bytes().take_while(u8::is_ascii_digit).count();
                let mut i = 0;
                let (v, n) = digit_run(text.as_bytes(), &mut i);
                prop_assert_eq!(n as usize, leading);
                prop_assert_eq!(i, leading);
                if leading > 0 && leading <= 19 {
                    prop_assert_eq!(v, text[..leading].parse::<u64>().unwrap());
                }
            }

            #[test]
            fn prop_decimals_equal_their_text(int in 0u64..1_000_000_000, frac in "[0-9]{0,9}", pad in 0usize..12) {
                let text = format!("{int}.{frac},{}", "7".repeat(pad));
                let mut i = 0;
                let (m, d) = decimal(text.as_bytes(), &mut i, 2).unwrap();
                prop_assert_eq!(i, text.find(',').unwrap());
                let expected: u64 = format!("{int}{frac}").parse().unwrap();
                prop_assert_eq!((m as u64, d as usize), (expected, frac.len()));
            }
        }

        proptest! {
            #[test]
            fn prop_fast_decimal_conversion_equals_from_decimal(
                mantissa in prop_oneof![0i64..1_000_000, 0i64..(1 << 53), 0i64..1_000_000_000_000_000_000],
                decimals in 0u32..=18,
            ) {
                prop_assert_eq!(price((mantissa, decimals), 2).ok(), Price::from_decimal(mantissa, decimals));
                prop_assert_eq!(qty((mantissa, decimals), 3).ok(), Qty::from_decimal(mantissa, decimals));
            }
        }
    }

    #[test]
    fn columns_are_counted_on_the_first_line_only() {
        assert_eq!(count_columns(b"a,b,c\nd,e"), 3);
        assert_eq!(count_columns(b"1,2,3,4,5,6,7"), 7);
    }
}
