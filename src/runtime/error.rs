//! Why a run could not start: [`RuntimeError`] and the typed causes of its
//! start-up steps (exchange requests, journal, runtime set-up), each
//! keeping the error it wraps as its `source()`.
//!
//! Consumes the errors of the REST client, the journal, the feed symbol
//! table, the I/O thread, the control server and the market socket;
//! produces messages that name the step and the object (a symbol, a
//! directory). Cold path: built once, when a start fails.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use super::recovery::RecoveryError;
use crate::config::ConfigError;
use crate::control::ServerError;
use crate::core::CoreError;
use crate::feed::SymbolError;
use crate::io::bridge::BridgeError;
use crate::io::error::{MarketDataError, RestError};
use crate::io::rest::RestSetupError;
use crate::io::ws::WsSetupError;
use crate::metrics::HistogramError;

/// Why a run could not start (a run that started always ends in a report).
#[derive(Debug)]
pub enum RuntimeError {
    /// Live mode without credentials.
    NoCredentials,
    /// The REST client could not be built.
    Rest(RestSetupError),
    /// The exchange could not be reached or refused a start-up request.
    Exchange(ExchangeStartError),
    /// The core refused the configuration.
    Core(CoreError),
    /// The journal could not be opened or the session record written.
    Journal(JournalStartError),
    /// The market socket or the I/O thread could not be set up.
    Setup(SetupError),
    /// A thread could not be spawned or a signal handler registered.
    Os(io::Error),
    /// The hot thread panicked.
    HotPanicked,
    /// A restart on an existing journal could not continue it.
    Recovery(RecoveryError),
    /// Live mode: at shutdown the engine and the exchange still disagreed
    /// on positions or their orders after the final reconciliation passes.
    ExchangeDisagrees {
        /// Positions the engine had open at the end.
        engine_positions: usize,
    },
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCredentials => f.write_str(
                "live mode needs BINGX_API_KEY and BINGX_API_SECRET (environment or .env)",
            ),
            Self::Rest(e) => write!(f, "cannot build the REST client: {e}"),
            Self::Exchange(e) => write!(f, "exchange start-up request failed: {e}"),
            Self::ExchangeDisagrees { engine_positions } => write!(
                f,
                "at shutdown the exchange disagrees with the engine ({engine_positions} engine position(s) open): check positions and stops on the exchange"
            ),
            Self::Core(e) => write!(f, "cannot build the engine core: {e}"),
            Self::Journal(e) => write!(f, "journal unavailable: {e}"),
            Self::Setup(e) => write!(f, "cannot set up the runtime: {e}"),
            Self::Os(e) => write!(f, "operating system refused: {e}"),
            Self::HotPanicked => f.write_str("the hot thread panicked"),
            Self::Recovery(e) => write!(f, "crash recovery refused to start: {e}"),
        }
    }
}

impl Error for RuntimeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Rest(e) => Some(e),
            Self::Exchange(e) => Some(e),
            Self::Core(e) => Some(e),
            Self::Journal(e) => Some(e),
            Self::Setup(e) => Some(e),
            Self::Os(e) => Some(e),
            Self::Recovery(e) => Some(e),
            Self::NoCredentials | Self::HotPanicked | Self::ExchangeDisagrees { .. } => None,
        }
    }
}

/// Which start-up request to the exchange failed.
#[derive(Debug)]
pub enum ExchangeStartError {
    /// Reading the server time (clock skew) failed.
    ServerTime(RestError),
    /// Loading the instrument rules of the configured symbols failed.
    SymbolRules(MarketDataError),
    /// The exchange listed no rules for a configured symbol.
    MissingRules {
        /// The configured symbol.
        symbol: String,
    },
    /// Fetching the warm-up klines of a symbol failed.
    WarmupKlines {
        /// The symbol.
        symbol: String,
        /// The request's error.
        source: MarketDataError,
    },
}

impl fmt::Display for ExchangeStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerTime(e) => write!(f, "server time: {e}"),
            Self::SymbolRules(e) => write!(f, "symbol rules: {e}"),
            Self::MissingRules { symbol } => write!(f, "symbol rules missing for {symbol}"),
            Self::WarmupKlines { symbol, source } => {
                write!(f, "warm-up klines of {symbol}: {source}")
            }
        }
    }
}

impl Error for ExchangeStartError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::ServerTime(e) => Some(e),
            Self::SymbolRules(e) | Self::WarmupKlines { source: e, .. } => Some(e),
            Self::MissingRules { .. } => None,
        }
    }
}

/// Why the journal could not be opened or the session started in it.
#[derive(Debug)]
pub enum JournalStartError {
    /// The journal directory could not be created.
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The journal writer could not open the directory (corruption is a
    /// [`RuntimeError::Recovery`] instead, like a rebuild reports it).
    Open {
        /// The directory.
        dir: PathBuf,
        /// The writer's error.
        source: journal::OpenError,
    },
    /// The configuration could not be written as TOML for the session
    /// record.
    SessionConfig(ConfigError),
    /// The instrument rules did not fit the session record's buffer.
    RulesBuffer,
    /// A record could not be appended.
    Append(journal::AppendError),
}

impl fmt::Display for JournalStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateDir { dir, source } => write!(f, "{}: {source}", dir.display()),
            Self::Open { dir, source } => write!(f, "{}: {source}", dir.display()),
            Self::SessionConfig(e) => write!(f, "config as TOML: {e}"),
            Self::RulesBuffer => f.write_str("rules buffer too small"),
            Self::Append(e) => write!(f, "{e}"),
        }
    }
}

impl Error for JournalStartError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::CreateDir { source, .. } => Some(source),
            Self::Open { source, .. } => Some(source),
            Self::SessionConfig(e) => Some(e),
            Self::Append(e) => Some(e),
            Self::RulesBuffer => None,
        }
    }
}

/// Which part of the runtime could not be set up.
#[derive(Debug)]
pub enum SetupError {
    /// The latency histograms could not be created.
    Histograms(HistogramError),
    /// A configured symbol could not be added to a feed symbol table.
    Symbol {
        /// The symbol as configured.
        name: String,
        /// The table's error.
        source: SymbolError,
    },
    /// The I/O thread could not be started.
    IoThread(BridgeError),
    /// The metrics/control server could not be bound or started.
    ControlServer(ServerError),
    /// The market stream client could not be built.
    MarketStream(WsSetupError),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Histograms(e) => write!(f, "latency histograms: {e}"),
            Self::Symbol { name, source } => write!(f, "symbol {name}: {source:?}"),
            Self::IoThread(e) => write!(f, "I/O thread: {e}"),
            Self::ControlServer(e) => write!(f, "control server: {e}"),
            Self::MarketStream(e) => write!(f, "market stream: {e}"),
        }
    }
}

impl Error for SetupError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Histograms(e) => Some(e),
            Self::Symbol { source, .. } => Some(source),
            Self::IoThread(e) => Some(e),
            Self::ControlServer(e) => Some(e),
            Self::MarketStream(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_dir_error_names_the_directory_and_keeps_the_io_cause() {
        let e = RuntimeError::Journal(JournalStartError::CreateDir {
            dir: PathBuf::from("/no/such"),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "denied"),
        });
        assert_eq!(e.to_string(), "journal unavailable: /no/such: denied");
        let cause = e.source().and_then(Error::source);
        assert!(cause.is_some_and(|c| c.is::<io::Error>()));
    }

    #[test]
    fn missing_rules_names_the_symbol_and_has_no_cause() {
        let e = RuntimeError::Exchange(ExchangeStartError::MissingRules {
            symbol: "BTC-USDT".into(),
        });
        assert_eq!(
            e.to_string(),
            "exchange start-up request failed: symbol rules missing for BTC-USDT"
        );
        assert!(e.source().and_then(Error::source).is_none());
    }
}
