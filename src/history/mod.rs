//! `data download`: historical market data for backtests and indicator runs.
//!
//! Consumes a [`DownloadRequest`] (source, kind, symbol, inclusive UTC date
//! range, target directory); produces files that [`crate::datafile`] reads:
//! - Binance futures/spot ([`binance`]): the published `.zip` archives of
//!   data.binance.vision, monthly for whole months and daily for the partial
//!   months at the ends ([`plan`]), each verified against its `.CHECKSUM`
//!   SHA-256 ([`checksum`]) and kept as downloaded (the reader opens the
//!   zip directly), with the `.zip.CHECKSUM` beside it.
//! - BingX ([`bingx`]): 1m klines paged through the REST client, one
//!   12-column CSV per day.
//!
//! Re-running skips files already present and verified. Cold path only:
//! blocks, allocates and logs; sockets stay in [`crate::io`]. Never keeps a
//! file that failed verification.

pub mod binance;
pub mod bingx;
pub mod checksum;
pub mod contracts;
pub mod date;
pub mod error;
pub mod plan;
pub mod progress;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use date::{Date, DateError};
pub use error::HistoryError;
pub use plan::{Archive, Kind, Period, Source, BINANCE_DATA_BASE_URL};

use crate::io::download::{DownloadConfig, Downloader};
use crate::io::rest::{RestClient, RestConfig, LIVE_BASE_URL};
use crate::io::tls::TlsOptions;
use progress::Bar;

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRequest {
    /// Where from.
    pub source: Source,
    /// Which data.
    pub kind: Kind,
    /// Exchange symbol: `BTCUSDT` for Binance, `BTC-USDT` for BingX.
    pub symbol: String,
    /// First day (UTC), inclusive.
    pub from: Date,
    /// Last day (UTC), inclusive.
    pub to: Date,
    /// Target directory (created when missing).
    pub dir: PathBuf,
    /// Server base URL; `None` is the source's public default.
    pub base_url: Option<String>,
    /// Extra trusted CA certificate (PEM) for `https://` base URLs.
    pub ca_file: Option<PathBuf>,
    /// Draw progress bars on stderr (when it is a terminal).
    pub progress: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Fetched and verified now.
    Downloaded {
        /// Size of the file written.
        bytes: u64,
    },
    /// Already present and verified; not fetched again.
    AlreadyPresent,
    /// The source had no data for this span; no file written.
    Empty,
}

/// One file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The local file.
    pub path: PathBuf,
    /// What happened.
    pub outcome: Outcome,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Every file in time order.
    pub files: Vec<FileReport>,
}

impl Summary {
    /// Returns how many files were downloaded now.
    #[must_use]
    pub fn downloaded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Downloaded { .. }))
    }

    /// Returns how many files were already present.
    #[must_use]
    pub fn already_present(&self) -> usize {
        self.count(|o| *o == Outcome::AlreadyPresent)
    }

    /// Returns how many spans had no data.
    #[must_use]
    pub fn empty(&self) -> usize {
        self.count(|o| *o == Outcome::Empty)
    }

    /// Returns the bytes downloaded now.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| match f.outcome {
                Outcome::Downloaded { bytes } => bytes,
                _ => 0,
            })
            .sum()
    }

    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }
}

fn valid_symbol(symbol: &str) -> bool {
    !symbol.is_empty()
        && symbol.len() <= 32
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

fn tls_options(ca_file: Option<&PathBuf>) -> TlsOptions {
    TlsOptions {
        use_webpki_roots: true,
        extra_ca_file: ca_file.cloned(),
    }
}

/// Runs a download.
///
/// # Errors
/// The first [`HistoryError`]; files completed before it are kept, so a
/// re-run resumes.
pub fn download(request: &DownloadRequest) -> Result<Summary, HistoryError> {
    if !valid_symbol(&request.symbol) {
        return Err(HistoryError::BadSymbol(request.symbol.clone()));
    }
    let periods = plan::split_range(request.from, request.to)?;
    let dir = binance::ensure_dir(&request.dir)?;
    let files = match request.source {
        Source::BinanceFutures | Source::BinanceSpot => {
            let base = request.base_url.as_deref().unwrap_or(BINANCE_DATA_BASE_URL);
            let config = DownloadConfig {
                tls: tls_options(request.ca_file.as_ref()),
                ..DownloadConfig::default()
            };
            let mut dl = Downloader::try_new(base, config).map_err(HistoryError::Setup)?;
            let archives = plan::plan(
                request.source,
                request.kind,
                &request.symbol,
                request.from,
                request.to,
            )?;
            let mut bar = Bar::new(archives.len(), request.progress);
            let result = binance::fetch_all(&mut dl, &archives, &dir, &mut bar);
            bar.finish();
            result?
        }
        Source::Bingx => {
            if request.kind != Kind::Klines {
                return Err(HistoryError::Unsupported(
                    "--source bingx offers only --kind klines",
                ));
            }
            let base = request.base_url.as_deref().unwrap_or(LIVE_BASE_URL);
            let mut config = RestConfig::new(base, "", "");
            config.http.tls = tls_options(request.ca_file.as_ref());
            let mut client = RestClient::try_new(config).map_err(HistoryError::BingxSetup)?;
            let days: Vec<Date> = periods.iter().flat_map(|p| p.days()).collect();
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis();
            let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
            bingx::fetch_days(&mut client, &request.symbol, &days, &dir, now_ms)?
        }
    };
    Ok(Summary { files })
}

/// Saves the BingX contracts list to `dir/bingx-contracts.json` (see
/// [`contracts`]) and returns the file and the number of contracts.
///
/// # Errors
/// [`HistoryError`] when the directory, the client, the request or the
/// write fails.
pub fn download_contracts(
    dir: &std::path::Path,
    base_url: Option<&str>,
    ca_file: Option<&PathBuf>,
) -> Result<(FileReport, usize), HistoryError> {
    let dir = binance::ensure_dir(dir)?;
    let mut config = RestConfig::new(base_url.unwrap_or(LIVE_BASE_URL), "", "");
    config.http.tls = tls_options(ca_file);
    let mut client = RestClient::try_new(config).map_err(HistoryError::BingxSetup)?;
    contracts::fetch_contracts(&mut client, &dir)
}
