//! [`PerpDataError`]: why a funding-rate or mark-price file was rejected,
//! naming the file and, for a bad row, its line and column.

use std::fmt;
use std::path::PathBuf;

use crate::datafile::DataFileError;

/// Errors of reading a funding-rate or mark-price file.
#[derive(Debug)]
pub enum PerpDataError {
    /// The file could not be opened, read or decompressed.
    Read(DataFileError),
    /// The header row lacks a required column.
    Header {
        /// The file.
        path: PathBuf,
        /// The column that is missing (its accepted names).
        missing: &'static str,
    },
    /// A row is malformed.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
        /// Column name.
        column: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A row's time is not after the previous row's.
    OutOfOrder {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: u64,
    },
    /// The file holds no data row.
    NoData {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for PerpDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "{e}"),
            Self::Header { path, missing } => {
                write!(f, "{}: header has no {missing} column", path.display())
            }
            Self::Corrupt {
                path,
                line,
                column,
                reason,
            } => write!(f, "{}:{line}: column {column}: {reason}", path.display()),
            Self::OutOfOrder { path, line } => write!(
                f,
                "{}:{line}: time is not after the previous row's",
                path.display()
            ),
            Self::NoData { path } => write!(f, "{}: no data row", path.display()),
        }
    }
}

impl std::error::Error for PerpDataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(e) => Some(e),
            _ => None,
        }
    }
}

/// The data lines of a small CSV text: (1-based line number, cells), blank
/// lines and a UTF-8 byte-order mark skipped, plus the header cells when
/// the first non-blank line does not start with a digit or a sign.
pub(crate) struct Lines<'a> {
    /// Header cells, trimmed (empty without a header).
    pub(crate) header: Vec<&'a str>,
    /// Data rows.
    pub(crate) rows: Vec<(u64, Vec<&'a str>)>,
}

/// Splits `text` into [`Lines`].
pub(crate) fn split_lines(text: &str) -> Lines<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header = Vec::new();
    let mut rows = Vec::new();
    for (k, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let first = line.as_bytes().first().copied().unwrap_or(b'0');
        if rows.is_empty() && header.is_empty() && !(first.is_ascii_digit() || first == b'-') {
            header = cells;
            continue;
        }
        rows.push((k as u64 + 1, cells));
    }
    Lines { header, rows }
}

/// Parses a Unix-milliseconds time cell (13 digits today; 11 to 14 digits
/// accepted, i.e. 1973 to 5138).
pub(crate) fn parse_ms(cell: &str) -> Option<i64> {
    let v: i64 = cell.parse().ok()?;
    (100_000_000_000..100_000_000_000_000)
        .contains(&v)
        .then_some(v)
}
