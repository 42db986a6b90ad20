//! Readers of Binance public-data CSV files (data.binance.vision): 1m klines
//! (12 columns) and aggTrades (7 columns; 8 in spot files), for backtests,
//! replays and benchmarks.
//!
//! Consumes file paths (plain `.csv`, `.csv.gz`, or the published single-entry
//! `.zip`, detected by magic bytes) and a caller-chosen [`SymbolId`]; produces
//! engine [`Trade`]s or [`Candle`]s as [`Record`]s, one file with
//! [`DataFile`] or several merged in time order with [`DataSet`].
//!
//! Layout rules (docs/exchange-protocols.md §8):
//! - A UTF-8 byte-order mark is skipped; then a first line whose first byte
//!   is not a digit is a header and is skipped.
//! - The kind comes from the column count of the first data row: 12 is
//!   [`FileKind::Klines`], 7 or 8 is [`FileKind::AggTrades`].
//! - Timestamps are detected per value by magnitude: below 10^14 is
//!   milliseconds (13 digits today), above microseconds (16 digits, Binance
//!   spot files from 2025 on), up to the `i64` nanosecond range (year 2262).
//! - Decimals are parsed to an exact `mantissa * 10^-decimals` and converted
//!   once to fixed point; ids are `u64`; `is_buyer_maker = true` means the
//!   taker sold ([`Side::Sell`](crate::types::Side::Sell)). Klines use open
//!   time, OHLC, volume and count; close time, quote-volume, taker and ignore
//!   columns are only checked to be numbers.
//! - A bad row is an error naming file and line ([`DataFileError::Corrupt`]),
//!   never skipped: a backtest must not run silently on damaged input.
//!
//! Must never: allocate per row, read a whole file into memory, go through a
//! generic CSV/serde layer per row, or parse a price through `f64` text.

mod dataset;
mod error;
mod parse;
mod reader;
mod source;
pub mod symbol;
pub mod synthetic;

pub use dataset::DataSet;
pub use error::{DataFileError, FieldKind, RowError};
pub use reader::{DataFile, BUFFER_BYTES, MAX_LINE_BYTES};
pub use source::read_all;

use core::fmt;

use crate::types::{Candle, TimestampNs, Trade};

/// What a data file holds, detected from its first data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// 1-minute klines, 12 columns.
    Klines,
    /// Aggregate trades, 7 columns (8 in spot files).
    AggTrades,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Klines => "klines",
            Self::AggTrades => "aggTrades",
        })
    }
}

/// One data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A row of an aggTrades file.
    Trade(Trade),
    /// A row of a klines file: an already closed 1m candle.
    Candle(Candle),
}

impl Record {
    /// Returns the row's time: the trade's exchange time or the candle's open time.
    #[must_use]
    pub fn timestamp(&self) -> TimestampNs {
        match self {
            Self::Trade(t) => t.exchange_ts,
            Self::Candle(c) => c.open_time,
        }
    }
}
