//! Errors of opening and reading data files: [`DataFileError`] names the file
//! (and the line, for a bad row); [`RowError`] is the small Copy reason why
//! one row was rejected.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::FileKind;

/// Why one data row was rejected. Small and `Copy`: produced on the read path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowError {
    /// The row has a different number of columns than the file's first data row.
    ColumnCount {
        /// Columns of this file's layout.
        expected: u8,
        /// Columns found in the row (at least; counting stops at `expected + 1`).
        found: u8,
    },
    /// A column does not hold the expected kind of value.
    Field {
        /// 1-based column number.
        column: u8,
        /// What the column must hold.
        expected: FieldKind,
    },
    /// A timestamp is out of range: milliseconds (< 10^14) or microseconds
    /// beyond the `i64` nanosecond range (the year 2262).
    TimestampRange {
        /// 1-based column number.
        column: u8,
    },
    /// A price or quantity does not fit the fixed-point range.
    ValueRange {
        /// 1-based column number.
        column: u8,
    },
    /// The row's timestamp is earlier than the previous row's (files must be in time order).
    OutOfOrder,
    /// A price is zero (a trade price, or a kline's open, high, low or close).
    NotPositive {
        /// 1-based column number.
        column: u8,
    },
    /// A kline's high is below its low.
    HighBelowLow,
    /// A kline's open or close lies outside its low..=high range.
    OutsideRange {
        /// 1-based column number (2 open, 5 close).
        column: u8,
    },
    /// A kline has the same open time as the row before it.
    DuplicateMinute,
}

/// The kind of value a column must hold, for [`RowError::Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An unsigned integer (ids, timestamps, counts).
    Integer,
    /// A non-negative decimal with at most 18 digits, no exponent.
    Decimal,
    /// `true`/`false` (or `True`/`False`).
    Bool,
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Integer => "an unsigned integer",
            Self::Decimal => "a non-negative decimal of at most 18 digits",
            Self::Bool => "true or false",
        })
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ColumnCount { expected, found } => {
                write!(f, "expected {expected} columns, found {found}")
            }
            Self::Field { column, expected } => {
                write!(f, "column {column} is not {expected}")
            }
            Self::TimestampRange { column } => write!(
                f,
                "column {column} is not a millisecond or microsecond epoch timestamp"
            ),
            Self::ValueRange { column } => {
                write!(f, "column {column} is out of the fixed-point range")
            }
            Self::OutOfOrder => f.write_str("timestamp earlier than the previous row's"),
            Self::NotPositive { column } => write!(f, "column {column} is a zero price"),
            Self::HighBelowLow => f.write_str("high (column 3) is below low (column 4)"),
            Self::OutsideRange { column } => {
                write!(f, "column {column} lies outside low..=high")
            }
            Self::DuplicateMinute => f.write_str("same open time as the previous row"),
        }
    }
}

impl std::error::Error for RowError {}

/// Errors of opening or reading Binance public-data CSV files.
#[derive(Debug)]
pub enum DataFileError {
    /// No file was given.
    NoFiles,
    /// The file could not be opened or inspected.
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading (or decompressing) failed.
    Read {
        /// The file.
        path: PathBuf,
        /// Line number (1-based) being read when it failed.
        line: u64,
        /// The cause.
        source: io::Error,
    },
    /// The `.zip` archive is unreadable.
    Zip {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: zip::result::ZipError,
    },
    /// The `.zip` archive does not hold exactly one entry, or uses an
    /// unsupported compression method.
    ZipLayout {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// The decompressed `.zip` entry does not match its CRC-32.
    Checksum {
        /// The file.
        path: PathBuf,
        /// CRC-32 recorded in the archive.
        expected: u32,
        /// CRC-32 of the data read.
        actual: u32,
    },
    /// The file holds no data row, so its kind cannot be detected.
    NoData {
        /// The file.
        path: PathBuf,
    },
    /// The first data row has a column count that is neither klines (12) nor
    /// aggTrades (7, or 8 for spot files).
    UnknownLayout {
        /// The file.
        path: PathBuf,
        /// Line number (1-based) of the first data row.
        line: u64,
        /// Columns found.
        columns: usize,
    },
    /// A line is longer than the reader accepts.
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
        /// The maximum line length in bytes.
        max_bytes: usize,
    },
    /// A data row is corrupt.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
        /// Why the row was rejected.
        reason: RowError,
    },
    /// Files of different kinds were given together.
    MixedKinds {
        /// The first file and its kind.
        first: PathBuf,
        /// Kind of `first`.
        first_kind: FileKind,
        /// A later file of another kind.
        other: PathBuf,
        /// Kind of `other`.
        other_kind: FileKind,
    },
    /// The same file was given twice.
    Repeated {
        /// The file (as first given).
        path: PathBuf,
        /// The second mention, as given.
        again: PathBuf,
    },
    /// Two files of one symbol cover the same time: rows would be counted twice.
    Overlap {
        /// The file that started first.
        first: PathBuf,
        /// The file whose rows fall inside `first`'s span.
        other: PathBuf,
        /// A time both files cover, ms.
        at_ms: i64,
    },
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoFiles => f.write_str("no data file given"),
            Self::Open { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            Self::Read { path, line, source } => {
                write!(f, "{}:{line}: read failed: {source}", path.display())
            }
            Self::Zip { path, source } => {
                write!(f, "{}: unreadable zip archive: {source}", path.display())
            }
            Self::ZipLayout { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::Checksum {
                path,
                expected,
                actual,
            } => write!(
                f,
                "{}: corrupt zip entry: CRC-32 {actual:08x}, archive says {expected:08x}",
                path.display()
            ),
            Self::NoData { path } => write!(f, "{}: no data row", path.display()),
            Self::UnknownLayout {
                path,
                line,
                columns,
            } => write!(
                f,
                "{}:{line}: {columns} columns is neither klines (12) nor aggTrades (7 or 8)",
                path.display()
            ),
            Self::LineTooLong {
                path,
                line,
                max_bytes,
            } => write!(
                f,
                "{}:{line}: line longer than {max_bytes} bytes",
                path.display()
            ),
            Self::Corrupt { path, line, reason } => {
                write!(f, "{}:{line}: corrupt row: {reason}", path.display())
            }
            Self::MixedKinds {
                first,
                first_kind,
                other,
                other_kind,
            } => write!(
                f,
                "cannot read {} ({other_kind}) together with {} ({first_kind})",
                other.display(),
                first.display()
            ),
            Self::Repeated { path, again } => write!(
                f,
                "{} is given twice (also as {}): its rows would count twice",
                path.display(),
                again.display()
            ),
            Self::Overlap {
                first,
                other,
                at_ms,
            } => write!(
                f,
                "{} and {} hold the same symbol over the same time (both cover Unix ms {at_ms}): give each period once",
                first.display(),
                other.display()
            ),
        }
    }
}

impl std::error::Error for DataFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } | Self::Read { source, .. } => Some(source),
            Self::Zip { source, .. } => Some(source),
            Self::Corrupt { reason, .. } => Some(reason),
            _ => None,
        }
    }
}
