//! The error of `data download`: one enum for the whole operation, each
//! variant naming the archive, URL or file it concerns.
//!
//! Consumes lower-level errors; produces [`HistoryError`]. No I/O.

use core::fmt;
use std::path::PathBuf;

use crate::datafile::{DataFileError, FileKind};
use crate::history::checksum::{ChecksumParseError, Sha256Digest};
use crate::history::date::Date;
use crate::history::plan::RangeError;
use crate::io::download::DownloadError;
use crate::io::error::MarketDataError;
use crate::io::rest::RestSetupError;

/// Why a download failed.
#[derive(Debug)]
pub enum HistoryError {
    /// The date range is unusable.
    Range(RangeError),
    /// The symbol is empty or has characters no exchange uses.
    BadSymbol(String),
    /// The kind is not offered by the source.
    Unsupported(&'static str),
    /// The download client could not be set up.
    Setup(DownloadError),
    /// The archive (or its checksum) does not exist on the server (HTTP 404):
    /// usually not published yet, or the symbol did not trade then.
    NotPublished {
        /// Full URL requested.
        url: String,
    },
    /// A request failed.
    Download {
        /// Full URL requested.
        url: String,
        /// The cause.
        source: DownloadError,
    },
    /// The `.CHECKSUM` file is unusable.
    BadChecksumFile {
        /// Full URL of the checksum file.
        url: String,
        /// The cause.
        source: ChecksumParseError,
    },
    /// The downloaded bytes do not match the published SHA-256 (corruption);
    /// the file was not kept.
    ChecksumMismatch {
        /// Archive file name.
        file: String,
        /// Published digest.
        expected: Sha256Digest,
        /// Digest of the received bytes.
        actual: Sha256Digest,
    },
    /// The verified archive cannot be read as the requested data.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The reader's error.
        source: DataFileError,
    },
    /// The archive holds another kind of data than requested.
    WrongKind {
        /// The file.
        path: PathBuf,
        /// Kind requested.
        expected: FileKind,
        /// Kind found.
        found: FileKind,
    },
    /// A local file operation failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The BingX REST client could not be set up.
    BingxSetup(RestSetupError),
    /// The BingX contracts request failed.
    BingxContracts(MarketDataError),
    /// A BingX klines request failed.
    Bingx {
        /// The day being fetched.
        day: Date,
        /// The cause.
        source: MarketDataError,
    },
    /// The day has not ended yet (UTC), so its klines are incomplete.
    DayNotOver(Date),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Range(e) => write!(f, "bad date range: {e}"),
            Self::BadSymbol(s) => write!(f, "bad symbol {s:?}"),
            Self::Unsupported(what) => f.write_str(what),
            Self::Setup(e) => write!(f, "cannot set up downloads: {e}"),
            Self::NotPublished { url } => write!(
                f,
                "archive not published (HTTP 404): {url} (daily archives appear the day after, \
                 monthly ones in the first days of the next month; or the symbol did not trade then)"
            ),
            Self::Download { url, source } => write!(f, "download of {url} failed: {source}"),
            Self::BadChecksumFile { url, source } => {
                write!(f, "unusable checksum file {url}: {source}")
            }
            Self::ChecksumMismatch {
                file,
                expected,
                actual,
            } => write!(
                f,
                "checksum mismatch for {file}: published {expected}, received {actual}; file not kept"
            ),
            Self::Unreadable { path, source } => {
                write!(f, "archive {} is not readable: {source}", path.display())
            }
            Self::WrongKind {
                path,
                expected,
                found,
            } => write!(
                f,
                "archive {} holds {found}, expected {expected}",
                path.display()
            ),
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::BingxSetup(e) => write!(f, "cannot set up the BingX client: {e}"),
            Self::BingxContracts(e) => write!(f, "BingX contracts request failed: {e}"),
            Self::Bingx { day, source } => write!(f, "BingX klines for {day} failed: {source}"),
            Self::DayNotOver(day) => write!(
                f,
                "{day} has not ended yet (UTC); its klines would be incomplete"
            ),
        }
    }
}

impl std::error::Error for HistoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Range(e) => Some(e),
            Self::Setup(e) | Self::Download { source: e, .. } => Some(e),
            Self::BadChecksumFile { source, .. } => Some(source),
            Self::Unreadable { source, .. } => Some(source),
            Self::Io { source, .. } => Some(source),
            Self::BingxSetup(e) => Some(e),
            Self::Bingx { source, .. } => Some(source),
            Self::BingxContracts(e) => Some(e),
            Self::BadSymbol(_)
            | Self::Unsupported(_)
            | Self::NotPublished { .. }
            | Self::ChecksumMismatch { .. }
            | Self::WrongKind { .. }
            | Self::DayNotOver(_) => None,
        }
    }
}

impl From<RangeError> for HistoryError {
    fn from(e: RangeError) -> Self {
        Self::Range(e)
    }
}
