//! [`DataFile`]: the streaming reader of one Binance public-data CSV file.
//!
//! Consumes a [`Source`] byte stream; produces one [`Record`] per data row.
//! Memory is constant: one [`BUFFER_BYTES`] buffer allocated at open and
//! reused, refilled by moving the unread tail (less than [`MAX_LINE_BYTES`])
//! to its front. Reading a row never allocates; only an error does.

use std::path::{Path, PathBuf};

use super::parse::{self, Fail};
use super::source::{Source, SourceError};
use super::{DataFileError, FileKind, Record, RowError};
use crate::types::SymbolId;

/// Size of the reused read buffer (1 MiB: one `read` syscall per MiB of a
/// plain file, measured in `bench/src/bin/ingest.rs`).
pub const BUFFER_BYTES: usize = 1 << 20;

/// Line length from which a header is rejected and up to which a data row
/// is always accepted (the buffer then holds the whole row). A 12-column
/// kline row is about 150 bytes.
pub const MAX_LINE_BYTES: usize = 4096;

/// A UTF-8 byte-order mark, skipped at the start of a file (so that it is
/// not mistaken for a header and a first data row lost).
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A streaming reader of one klines or aggTrades CSV file (plain, `.gz` or
/// `.zip`), with or without a header row.
///
/// Rows must be in non-decreasing time order; a row earlier than the one
/// before it is a [`RowError::OutOfOrder`] error, a kline with the open time
/// of the one before it a [`RowError::DuplicateMinute`]. Blank lines are skipped
/// (and counted in line numbers). The first bad row stops the reader with a
/// [`DataFileError::Corrupt`] naming the file and line: a backtest never
/// silently runs on a damaged input.
pub struct DataFile {
    path: PathBuf,
    source: Source,
    /// Read buffer; bytes `pos..end` are read but not yet parsed.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// True once `source` returned its end.
    eof: bool,
    /// Lines consumed so far (the number of the last line returned).
    line: u64,
    kind: FileKind,
    /// Columns of this file's rows (7 or 8 for aggTrades, 12 for klines).
    columns: u8,
    symbol: SymbolId,
    /// Timestamp (ns) of the last row returned, for the order check.
    last_ts_ns: i64,
    /// Rows returned.
    rows: u64,
    /// True after an error: the reader then only returns `Ok(None)`.
    failed: bool,
}

impl std::fmt::Debug for DataFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataFile")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("columns", &self.columns)
            .field("line", &self.line)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl DataFile {
    /// Opens `path`, skips a UTF-8 byte-order mark and a header row (a first
    /// line whose first byte is not a digit) and detects the file kind from the column count of the first
    /// data row: 12 is klines, 7 (futures) or 8 (spot) is aggTrades.
    /// Every record carries `symbol`.
    ///
    /// # Errors
    /// [`DataFileError::Open`], [`DataFileError::Zip`], [`DataFileError::ZipLayout`]
    /// or [`DataFileError::Read`] when the file cannot be read,
    /// [`DataFileError::NoData`] when it has no data row,
    /// [`DataFileError::UnknownLayout`] for another column count and
    /// [`DataFileError::LineTooLong`] for a line over [`MAX_LINE_BYTES`].
    pub fn open(path: impl AsRef<Path>, symbol: SymbolId) -> Result<Self, DataFileError> {
        let path = path.as_ref();
        let source = Source::open(path)?;
        let mut reader = Self {
            path: path.to_path_buf(),
            source,
            buf: vec![0u8; BUFFER_BYTES],
            pos: 0,
            end: 0,
            eof: false,
            line: 0,
            kind: FileKind::AggTrades,
            columns: 0,
            symbol,
            last_ts_ns: i64::MIN,
            rows: 0,
            failed: false,
        };
        reader.fill()?;
        if reader.buf[..reader.end].starts_with(UTF8_BOM) {
            reader.pos = UTF8_BOM.len();
        }
        if reader.pos < reader.end && !reader.buf[reader.pos].is_ascii_digit() {
            let header_line = reader.line + 1;
            if !reader.skip_line() {
                return Err(reader.too_long(header_line));
            }
        }
        reader.skip_blank_lines()?;
        if reader.pos == reader.end {
            return Err(DataFileError::NoData {
                path: reader.path.clone(),
            });
        }
        let columns = parse::count_columns(&reader.buf[reader.pos..reader.end]);
        (reader.kind, reader.columns) = match columns {
            12 => (FileKind::Klines, 12),
            7 => (FileKind::AggTrades, 7),
            8 => (FileKind::AggTrades, 8),
            _ => {
                return Err(DataFileError::UnknownLayout {
                    path: reader.path.clone(),
                    line: reader.line + 1,
                    columns,
                })
            }
        };
        Ok(reader)
    }

    /// Returns the kind detected at open.
    #[must_use]
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Returns the path this reader was opened with.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the 1-based line number of the last line consumed (the last
    /// record returned, or the line of the error).
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Returns how many records have been returned.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Returns the next record, or `None` at the end of the file. Never
    /// allocates. After an error the reader is finished and returns `Ok(None)`.
    ///
    /// # Errors
    /// [`DataFileError::Corrupt`] for a bad row (with its line number),
    /// [`DataFileError::LineTooLong`], [`DataFileError::Read`] or
    /// [`DataFileError::Checksum`].
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<Record>, DataFileError> {
        if self.failed {
            return Ok(None);
        }
        let result = self.read_record();
        self.failed = result.is_err();
        result
    }

    #[inline]
    fn read_record(&mut self) -> Result<Option<Record>, DataFileError> {
        self.skip_blank_lines()?;
        if self.pos == self.end {
            return Ok(None);
        }
        self.line += 1;
        let bytes = &self.buf[self.pos..self.end];
        let parsed = match self.kind {
            FileKind::AggTrades => parse::agg_trade(bytes, self.eof, self.columns, self.symbol)
                .map(|(t, n)| (Record::Trade(t), n)),
            FileKind::Klines => {
                parse::kline(bytes, self.eof, self.symbol).map(|(c, n)| (Record::Candle(c), n))
            }
        };
        match parsed {
            Ok((record, used)) => {
                let ts = record.timestamp().0;
                if ts < self.last_ts_ns {
                    return Err(self.corrupt(RowError::OutOfOrder));
                }
                // Trades may share a timestamp; two candles of one minute may not.
                if ts == self.last_ts_ns && matches!(record, Record::Candle(_)) {
                    return Err(self.corrupt(RowError::DuplicateMinute));
                }
                self.last_ts_ns = ts;
                self.pos += used;
                self.rows += 1;
                Ok(Some(record))
            }
            Err(Fail::Row(reason)) => Err(self.corrupt(reason)),
            Err(Fail::Incomplete) => Err(self.too_long(self.line)),
        }
    }

    /// Skips empty lines, refilling the buffer so that at least
    /// [`MAX_LINE_BYTES`] are buffered (or the input is at its end).
    #[inline]
    fn skip_blank_lines(&mut self) -> Result<(), DataFileError> {
        loop {
            if self.end - self.pos < MAX_LINE_BYTES && !self.eof {
                self.fill()?;
            }
            match self.buf.get(self.pos..self.end.min(self.pos + 2)) {
                Some([b'\n', ..]) => self.pos += 1,
                Some([b'\r', b'\n']) => self.pos += 2,
                _ => return Ok(()),
            }
            self.line += 1;
        }
    }

    /// Skips the line at `pos`; false if it is [`MAX_LINE_BYTES`] or longer.
    fn skip_line(&mut self) -> bool {
        let rest = &self.buf[self.pos..self.end];
        match rest.iter().position(|&c| c == b'\n') {
            Some(n) if n >= MAX_LINE_BYTES => false,
            Some(n) => {
                self.pos += n + 1;
                self.line += 1;
                true
            }
            None if self.eof && rest.len() < MAX_LINE_BYTES => {
                self.pos = self.end;
                self.line += 1;
                true
            }
            None => false,
        }
    }

    /// Moves the unread tail to the front of the buffer and reads until the
    /// buffer is full or the input ends.
    fn fill(&mut self) -> Result<(), DataFileError> {
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        while self.end < self.buf.len() {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(SourceError::Io(source)) => {
                    return Err(DataFileError::Read {
                        path: self.path.clone(),
                        line: self.line + 1,
                        source,
                    })
                }
                Err(SourceError::Checksum { expected, actual }) => {
                    return Err(DataFileError::Checksum {
                        path: self.path.clone(),
                        expected,
                        actual,
                    })
                }
            }
        }
        Ok(())
    }

    #[cold]
    fn corrupt(&self, reason: RowError) -> DataFileError {
        DataFileError::Corrupt {
            path: self.path.clone(),
            line: self.line,
            reason,
        }
    }

    #[cold]
    fn too_long(&self, line: u64) -> DataFileError {
        DataFileError::LineTooLong {
            path: self.path.clone(),
            line,
            max_bytes: MAX_LINE_BYTES,
        }
    }
}

impl Iterator for DataFile {
    type Item = Result<Record, DataFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
