//! `trading-engine data download`: fetches historical market data into a
//! directory (see [`crate::history`]).
//!
//! Consumes the subcommand's arguments; produces the files and one summary
//! line per file plus a total on stdout (progress bars go to stderr). Never
//! keeps a file that failed verification.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::CliError;
use crate::history::{self, Date, DownloadRequest, Kind, Outcome, Source};

/// `data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download Binance public-data archives (verified against their
    /// SHA-256 CHECKSUM files) or BingX 1m klines into a directory that
    /// `backtest` and `indicators` read. Re-running skips verified files.
    Download(DownloadArgs),
    /// Save BingX's contracts list (tick, step and minimum notional of every
    /// symbol) as DIR/bingx-contracts.json: the contracts file `backtest`, `sweep` and
    /// `walkforward` take.
    Contracts(ContractsArgs),
}

/// Arguments of `data contracts`.
#[derive(Debug, Args)]
pub struct ContractsArgs {
    /// Target directory (created when missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// Server base URL (default https://open-api.bingx.com).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Extra trusted CA certificate (PEM) for an https base URL.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// Arguments of `data download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Where from: binance-futures, binance-spot (data.binance.vision
    /// archives) or bingx (REST klines).
    #[arg(long, value_enum)]
    pub source: Source,
    /// What: klines (1m) or aggTrades (Binance only).
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Exchange symbol: BTCUSDT for Binance, BTC-USDT for BingX.
    #[arg(long)]
    pub symbol: String,
    /// First day, YYYY-MM-DD (UTC), inclusive.
    #[arg(long, value_parser = Date::parse)]
    pub from: Date,
    /// Last day, YYYY-MM-DD (UTC), inclusive.
    #[arg(long, value_parser = Date::parse)]
    pub to: Date,
    /// Target directory (created when missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// Server base URL (default https://data.binance.vision for Binance,
    /// https://open-api.bingx.com for BingX).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Extra trusted CA certificate (PEM) for an https base URL.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Do not draw progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

impl DataCommand {
    /// Runs the subcommand, writing the summary to `out`.
    ///
    /// # Errors
    /// [`CliError::Data`] when the download fails; [`CliError::Output`] when
    /// `out` cannot be written.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        match self {
            Self::Download(args) => args.run(out),
            Self::Contracts(args) => {
                let (file, count) = history::download_contracts(
                    &args.dir,
                    args.base_url.as_deref(),
                    args.ca_file.as_ref(),
                )?;
                writeln!(out, "{}\t{count} contracts", file.path.display())?;
                Ok(())
            }
        }
    }
}

impl DownloadArgs {
    fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let request = DownloadRequest {
            source: self.source,
            kind: self.kind,
            symbol: self.symbol,
            from: self.from,
            to: self.to,
            dir: self.dir,
            base_url: self.base_url,
            ca_file: self.ca_file,
            progress: !self.no_progress,
        };
        let summary = history::download(&request)?;
        for file in &summary.files {
            let what = match file.outcome {
                Outcome::Downloaded { bytes } => format!("downloaded {bytes} bytes"),
                Outcome::AlreadyPresent => "already present, verified".to_owned(),
                Outcome::Empty => "no data, nothing written".to_owned(),
            };
            writeln!(out, "{}\t{what}", file.path.display())?;
        }
        writeln!(
            out,
            "Done: {} downloaded ({} bytes), {} already present, {} empty, into {}",
            summary.downloaded(),
            summary.bytes(),
            summary.already_present(),
            summary.empty(),
            request.dir.display()
        )?;
        Ok(())
    }
}
