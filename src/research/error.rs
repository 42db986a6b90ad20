//! Errors of the research commands (sweep, merge, walk-forward), each
//! naming the file, key or parameter set it is about.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::grid::GridError;
use crate::backtest::BacktestError;
use crate::config::ConfigError;
use crate::datafile::DataFileError;

/// Why a sweep, merge or walk-forward failed.
#[derive(Debug)]
pub enum ResearchError {
    /// A file could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The data files could not be read.
    Data(DataFileError),
    /// The grid was rejected.
    Grid(GridError),
    /// A config could not be loaded or rendered.
    Config(ConfigError),
    /// A backtest failed.
    Backtest {
        /// The parameter set, `key=value` joined by `, `.
        assignment: String,
        /// Why.
        source: BacktestError,
    },
    /// An output directory holds a sweep of other inputs (resume) or shard
    /// outputs do not belong together (merge).
    Mismatch {
        /// The file that disagrees.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// A file of a previous run is damaged.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where and what.
        message: String,
    },
    /// A bad argument, named.
    Argument(String),
}

impl ResearchError {
    /// Returns a closure wrapping an I/O error with `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

impl fmt::Display for ResearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Data(e) => write!(f, "cannot read data: {e}"),
            Self::Grid(e) => write!(f, "{e}"),
            Self::Config(e) => write!(f, "configuration rejected: {e}"),
            Self::Backtest { assignment, source } => {
                write!(f, "backtest of {{{assignment}}} failed: {source}")
            }
            Self::Mismatch { path, message } => write!(f, "{}: {message}", path.display()),
            Self::Corrupt { path, message } => {
                write!(f, "{} is damaged: {message}", path.display())
            }
            Self::Argument(m) => write!(f, "bad argument: {m}"),
        }
    }
}

impl std::error::Error for ResearchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Data(e) => Some(e),
            Self::Grid(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Backtest { source, .. } => Some(source),
            Self::Mismatch { .. } | Self::Corrupt { .. } | Self::Argument(_) => None,
        }
    }
}

impl From<GridError> for ResearchError {
    fn from(e: GridError) -> Self {
        Self::Grid(e)
    }
}
