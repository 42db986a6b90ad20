//! Streaming reader of the Binance public-data CSV files the simulator replays: 12-column 1m
//! klines or 7/8-column aggTrades, one validated row at a time.
//!
//! Consumes a file path; produces [`Row`]s in ticks and steps. Memory is constant: one line
//! of at most [`MAX_LINE_BYTES`] is buffered, never the file. Every row is checked (prices
//! positive, `low <= open, close <= high`, volume and quantity non-negative or positive,
//! klines strictly one per minute in increasing order, trades in non-decreasing time, no NUL
//! byte, UTF-8 text) and the first bad row is a [`SourceError::Corrupt`] naming the file and
//! the line: the simulator never replays a damaged file silently.

use super::num::{count_decimals, parse_scaled_round};
use super::tick::{Precision, Tick};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Longest accepted line, line end included (a kline row is about 150 bytes).
pub const MAX_LINE_BYTES: usize = 4_096;
/// Data rows whose decimals decide the price and quantity precision.
const PRECISION_SAMPLE_ROWS: usize = 500;
/// Largest accepted precision, decimals.
const MAX_DECIMALS: u32 = 8;
/// A UTF-8 byte-order mark, skipped at the start of a file.
const UTF8_BOM: &str = "\u{feff}";

/// Why a data file could not be loaded.
#[derive(Debug)]
pub enum SourceError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// A line is not a valid kline (12 columns) or aggTrades (7 or 8 columns) row.
    Corrupt {
        /// File being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// The file holds no data rows.
    Empty(PathBuf),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            Self::Corrupt { path, line, reason } => {
                write!(
                    f,
                    "corrupt data in {} line {line}: {reason}",
                    path.display()
                )
            }
            Self::Empty(p) => write!(f, "no data rows in {}", p.display()),
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(_, e) => Some(e),
            _ => None,
        }
    }
}

/// One 1-minute candle row of a klines file, in ticks and steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineRow {
    /// Open time, ms.
    pub open_ms: i64,
    /// Open, high, low, close in ticks.
    pub ohlc: [i64; 4],
    /// Volume in steps.
    pub volume: i64,
}

/// The layout of a data file, from the column count of its first data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 1-minute klines, 12 columns.
    Klines,
    /// Aggregate trades, 7 columns (8 in spot files).
    Trades {
        /// 7 or 8.
        columns: usize,
    },
}

/// One validated data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A kline row.
    Kline(KlineRow),
    /// An aggTrades row.
    Trade(Tick),
}

impl Row {
    /// Returns the row's time: the candle's open or the trade's time, ms.
    #[must_use]
    pub fn time_ms(&self) -> i64 {
        match self {
            Self::Kline(k) => k.open_ms,
            Self::Trade(t) => t.time_ms,
        }
    }
}

/// A streaming, validating reader of one data file.
#[derive(Debug)]
pub struct RowReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Lines consumed so far (the number of the last line read).
    line: usize,
    layout: Layout,
    precision: Precision,
    /// Time of the last row returned, for the order checks.
    prev_ms: Option<i64>,
    text: String,
}

fn corrupt(path: &Path, line: usize, reason: impl Into<String>) -> SourceError {
    SourceError::Corrupt {
        path: path.to_owned(),
        line,
        reason: reason.into(),
    }
}

/// Reads the next line into `text` (line end removed, at most [`MAX_LINE_BYTES`] read);
/// `Ok(false)` at the end of the file.
fn read_line(
    reader: &mut BufReader<File>,
    text: &mut String,
    path: &Path,
    line: usize,
) -> Result<bool, SourceError> {
    let mut bytes = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| SourceError::Io(path.to_owned(), e))?;
    if n == 0 {
        return Ok(false);
    }
    if n == MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
        return Err(corrupt(
            path,
            line,
            format!("line longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    if bytes.contains(&0) {
        return Err(corrupt(path, line, "NUL byte in the line"));
    }
    text.clear();
    text.push_str(std::str::from_utf8(&bytes).map_err(|_| corrupt(path, line, "not UTF-8 text"))?);
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed);
    Ok(true)
}

fn open(path: &Path) -> Result<BufReader<File>, SourceError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| SourceError::Io(path.to_owned(), e))
}

/// Reads the start of `path`: the layout from the first data row and the precision, the
/// larger of `min` and the decimals the first rows use (at most 8).
///
/// # Errors
/// [`SourceError`] when the file cannot be read, has no data row, or its first data row has
/// another column count than 12, 7 or 8.
pub fn probe(path: &Path, min: Precision) -> Result<(Layout, Precision), SourceError> {
    let mut reader = open(path)?;
    let mut text = String::new();
    let mut line = 0;
    let mut layout = None;
    let mut precision = min;
    let mut sampled = 0;
    while sampled < PRECISION_SAMPLE_ROWS && read_line(&mut reader, &mut text, path, line + 1)? {
        line += 1;
        let row = text.trim_start_matches(UTF8_BOM).trim();
        if row.is_empty() || !row.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let f: Vec<&str> = row.split(',').collect();
        let l = match layout {
            Some(l) => l,
            None => {
                let l = match f.len() {
                    12 => Layout::Klines,
                    7 | 8 => Layout::Trades { columns: f.len() },
                    n => {
                        return Err(corrupt(
                            path,
                            line,
                            format!("{n} columns, expected 12 (klines) or 7 or 8 (aggTrades)"),
                        ))
                    }
                };
                layout = Some(l);
                l
            }
        };
        let (prices, qtys): (&[&str], &[&str]) = match l {
            Layout::Klines if f.len() >= 6 => (&f[1..5], &f[5..6]),
            Layout::Trades { .. } if f.len() >= 3 => (&f[1..2], &f[2..3]),
            _ => continue,
        };
        for p in prices {
            precision.price = precision.price.max(count_decimals(p).min(MAX_DECIMALS));
        }
        for q in qtys {
            precision.qty = precision.qty.max(count_decimals(q).min(MAX_DECIMALS));
        }
        sampled += 1;
    }
    match layout {
        Some(l) => Ok((l, precision)),
        None => Err(SourceError::Empty(path.to_owned())),
    }
}

impl RowReader {
    /// Opens `path` for reading rows of `layout` at `precision` (from [`probe`]).
    ///
    /// # Errors
    /// [`SourceError::Io`] when the file cannot be opened.
    pub fn open(path: &Path, layout: Layout, precision: Precision) -> Result<Self, SourceError> {
        Ok(Self {
            path: path.to_owned(),
            reader: open(path)?,
            line: 0,
            layout,
            precision,
            prev_ms: None,
            text: String::new(),
        })
    }

    /// Returns the next row, `None` at the end of the file. Blank lines are skipped; only
    /// the first line may be a header (a line not starting with a digit).
    ///
    /// # Errors
    /// [`SourceError::Corrupt`] for the first bad row, with its line;
    /// [`SourceError::Io`] when reading fails.
    pub fn next_row(&mut self) -> Result<Option<Row>, SourceError> {
        loop {
            if !read_line(&mut self.reader, &mut self.text, &self.path, self.line + 1)? {
                return Ok(None);
            }
            self.line += 1;
            let row = self.text.trim_start_matches(UTF8_BOM).trim();
            if row.is_empty() {
                continue;
            }
            if !row.starts_with(|c: char| c.is_ascii_digit()) {
                if self.line == 1 {
                    continue;
                }
                return Err(self.corrupt("not a data row (only the first line may be a header)"));
            }
            let r = self.parse(row).map_err(|reason| self.corrupt(reason))?;
            self.check_order(&r)
                .map_err(|reason| self.corrupt(reason))?;
            self.prev_ms = Some(r.time_ms());
            return Ok(Some(r));
        }
    }

    fn corrupt(&self, reason: impl Into<String>) -> SourceError {
        corrupt(&self.path, self.line, reason)
    }

    fn check_order(&self, row: &Row) -> Result<(), String> {
        let (Some(prev), t) = (self.prev_ms, row.time_ms()) else {
            return Ok(());
        };
        match row {
            Row::Kline(_) if t == prev => Err(format!("duplicate minute: open time {t} again")),
            Row::Kline(_) if t < prev => Err(format!(
                "out of order: open time {t} before the previous row's {prev}"
            )),
            Row::Trade(_) if t < prev => Err(format!(
                "out of order: time {t} before the previous row's {prev}"
            )),
            _ => Ok(()),
        }
    }

    fn parse(&self, row: &str) -> Result<Row, String> {
        let f: Vec<&str> = row.split(',').collect();
        let p = self.precision;
        match self.layout {
            Layout::Klines => {
                if f.len() != 12 {
                    return Err(format!("{} columns, expected 12", f.len()));
                }
                let open_ms = time(f[0], "open time")?;
                let mut ohlc = [0i64; 4];
                for (k, (slot, name)) in ohlc
                    .iter_mut()
                    .zip(["open", "high", "low", "close"])
                    .enumerate()
                {
                    *slot = positive(f[k + 1], p.price, name)?;
                }
                let [o, h, l, c] = ohlc;
                if h < l {
                    return Err(format!("high {} is below low {}", f[2], f[3]));
                }
                if !(l..=h).contains(&o) || !(l..=h).contains(&c) {
                    return Err(format!(
                        "open {} or close {} outside low {} .. high {}",
                        f[1], f[4], f[3], f[2]
                    ));
                }
                let volume = parse_scaled_round(f[5], p.qty)
                    .map_err(|e| format!("volume {:?}: {e}", f[5]))?;
                if volume < 0 {
                    return Err(format!("negative volume {}", f[5]));
                }
                Ok(Row::Kline(KlineRow {
                    open_ms,
                    ohlc,
                    volume,
                }))
            }
            Layout::Trades { columns } => {
                if f.len() != columns {
                    return Err(format!("{} columns, expected {columns}", f.len()));
                }
                let price = positive(f[1], p.price, "price")?;
                let qty = positive(f[2], p.qty, "quantity")?;
                let time_ms = time(f[5], "time")?;
                let buyer_maker = match f[6].trim() {
                    "true" | "True" => true,
                    "false" | "False" => false,
                    other => return Err(format!("is_buyer_maker {other:?}")),
                };
                Ok(Row::Trade(Tick {
                    time_ms,
                    price,
                    qty,
                    buyer_maker,
                }))
            }
        }
    }
}

/// Parses a millisecond (or 16-digit microsecond) epoch time.
fn time(text: &str, what: &str) -> Result<i64, String> {
    let t = text
        .trim()
        .parse::<i64>()
        .map_err(|e| format!("{what} {text:?}: {e}"))?;
    if t < 0 {
        return Err(format!("{what} {text} is negative"));
    }
    // 16-digit timestamps are microseconds (Binance spot files from 2025 on).
    Ok(if t > 100_000_000_000_000 {
        t / 1_000
    } else {
        t
    })
}

/// Parses a decimal that must be positive at `decimals` places.
fn positive(text: &str, decimals: u32, what: &str) -> Result<i64, String> {
    let v = parse_scaled_round(text, decimals).map_err(|e| format!("{what} {text:?}: {e}"))?;
    if v <= 0 {
        return Err(format!("{what} {text} is not positive"));
    }
    Ok(v)
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
