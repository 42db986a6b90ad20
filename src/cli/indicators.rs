//! `trading-engine indicators`: candles and indicator values of Binance
//! public-data files as CSV.
//!
//! Consumes klines or aggTrades files (auto-detected, merged in time order by
//! [`DataSet`]); produces one CSV row per closed 1m candle (built from trades
//! with [`CandleBuilder`], or taken as they are from klines) and per closed 5m
//! candle, with the [`TimeframeIndicators`] values of its timeframe after it.
//! A cold-path tool: it buffers the 5m rows in memory so that all 1m rows
//! come first, and it must never be used on the hot path.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CliError;
use crate::candles::{CandleBuilder, CandleEvent, DEFAULT_GRACE_NS};
use crate::datafile::{DataFileError, DataSet, FileKind, Record};
use crate::indicators::{IndicatorSnapshot, TimeframeIndicators};
use crate::types::{Candle, SymbolId};

/// The header row of the output, in column order.
pub const CSV_HEADER: &str = "timeframe,open_time_ms,open,high,low,close,volume,sma20,sma50,sma200,ema20,ema50,rsi14,atr14,bb_upper,bb_middle,bb_lower";

/// The long help of `trading-engine indicators`.
pub const LONG_ABOUT: &str = "Reads Binance public-data CSV files (1m klines or aggTrades; plain, .csv.gz or .zip; \
with or without header; ms or µs timestamps), builds 1m candles (from trades, or as they are from \
klines) and 5m candles aligned to :00, :05, ..., and writes one CSV row per closed candle:\n\n\
timeframe,open_time_ms,open,high,low,close,volume,sma20,sma50,sma200,ema20,ema50,rsi14,atr14,bb_upper,bb_middle,bb_lower\n\n\
All 1m rows come first, then all 5m rows, each in time order. A cell is empty while its indicator \
is not warm. Floats are printed in shortest round-trip form. The first and last 5m candles may be \
partial (fewer than five 1m candles); the candles open at the end of the input are closed and printed. \
Minutes without trades are reported on stderr as gaps.";

/// Arguments of `trading-engine indicators`.
#[derive(Debug, Clone, clap::Args)]
pub struct IndicatorsArgs {
    /// Data files (klines or aggTrades, all of one kind), merged in time order.
    #[arg(long = "data", value_name = "FILE", required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Output file (default: stdout).
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// What one run produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndicatorsSummary {
    /// Kind of the input files.
    pub kind: Option<FileKind>,
    /// Records read.
    pub records: u64,
    /// 1m rows written.
    pub rows_1m: u64,
    /// 5m rows written.
    pub rows_5m: u64,
    /// Gap events (runs of minutes without trades).
    pub gaps: u64,
    /// Minutes without trades, summed over the gaps.
    pub gap_minutes: u64,
    /// Trades dropped as older than the open bucket.
    pub late_trades: u64,
}

/// Errors of `trading-engine indicators`.
#[derive(Debug)]
pub enum IndicatorsError {
    /// An input file could not be read.
    Data(DataFileError),
    /// The output file could not be created.
    CreateOutput {
        /// The output file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing the output failed.
    Write {
        /// The cause.
        source: io::Error,
    },
}

impl fmt::Display for IndicatorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Data(e) => write!(f, "{e}"),
            Self::CreateOutput { path, source } => {
                write!(f, "cannot create {}: {source}", path.display())
            }
            Self::Write { source } => write!(f, "cannot write the output: {source}"),
        }
    }
}

impl std::error::Error for IndicatorsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Data(e) => Some(e),
            Self::CreateOutput { source, .. } | Self::Write { source } => Some(source),
        }
    }
}

impl From<DataFileError> for IndicatorsError {
    fn from(e: DataFileError) -> Self {
        Self::Data(e)
    }
}

impl IndicatorsArgs {
    /// Runs the command: reads `self.data`, writes the CSV to `--out` or,
    /// without it, to `out`; logs gaps, late trades and row counts.
    ///
    /// # Errors
    /// [`CliError::Indicators`] naming the file (and line) that failed.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let summary = self.execute(out).map_err(CliError::Indicators)?;
        if summary.gaps > 0 {
            log::warn!(
                "Input has {} gaps ({} minutes without trades)",
                summary.gaps,
                summary.gap_minutes
            );
        }
        if summary.late_trades > 0 {
            log::warn!("Dropped {} late trades", summary.late_trades);
        }
        log::info!(
            "Wrote {} 1m and {} 5m rows from {} records",
            summary.rows_1m,
            summary.rows_5m,
            summary.records
        );
        Ok(())
    }

    /// Reads the data and writes the CSV to `--out` or `out`.
    ///
    /// # Errors
    /// [`IndicatorsError`] naming the file (and line) that failed.
    pub fn execute(&self, out: &mut dyn Write) -> Result<IndicatorsSummary, IndicatorsError> {
        match &self.out {
            Some(path) => {
                let file = File::create(path).map_err(|source| IndicatorsError::CreateOutput {
                    path: path.clone(),
                    source,
                })?;
                write_indicators_csv(&self.data, BufWriter::with_capacity(1 << 20, file))
            }
            None => write_indicators_csv(&self.data, BufWriter::with_capacity(1 << 20, out)),
        }
    }
}

/// Reads `paths` and writes the CSV (header, 1m rows, 5m rows) to `out`.
///
/// # Errors
/// [`IndicatorsError::Data`] for an unreadable input,
/// [`IndicatorsError::Write`] when `out` fails.
pub fn write_indicators_csv<P: AsRef<Path>>(
    paths: &[P],
    mut out: impl Write,
) -> Result<IndicatorsSummary, IndicatorsError> {
    let write_err = |source| IndicatorsError::Write { source };
    let mut set = DataSet::open(paths, SymbolId(0))?;
    let mut summary = IndicatorsSummary {
        kind: Some(set.kind()),
        ..IndicatorsSummary::default()
    };
    writeln!(out, "{CSV_HEADER}").map_err(write_err)?;
    let mut builder = CandleBuilder::new(SymbolId(0), DEFAULT_GRACE_NS);
    let mut ind_1m = TimeframeIndicators::with_default_periods();
    let mut ind_5m = TimeframeIndicators::with_default_periods();
    let mut rows_5m: Vec<u8> = Vec::new();
    let mut failure: Option<io::Error> = None;
    let mut records = 0u64;
    let mut on_event = |event: CandleEvent| {
        let written = match event {
            CandleEvent::Closed1m(c) => {
                ind_1m.update(&c);
                summary.rows_1m += 1;
                write_row(&mut out, "1m", &c, &ind_1m.snapshot())
            }
            CandleEvent::Closed5m(c) => {
                ind_5m.update(&c);
                summary.rows_5m += 1;
                write_row(&mut rows_5m, "5m", &c, &ind_5m.snapshot())
            }
            CandleEvent::Gap { from, to } => {
                summary.gaps += 1;
                summary.gap_minutes += ((to.0 - from.0) / crate::types::NS_PER_MIN) as u64;
                Ok(())
            }
        };
        if let Err(e) = written {
            failure.get_or_insert(e);
        }
    };
    while let Some(record) = set.next_record()? {
        records += 1;
        match record {
            Record::Trade(t) => builder.on_trade(&t, &mut on_event),
            Record::Candle(c) => builder.on_closed_1m(&c, &mut on_event),
        }
    }
    builder.flush(&mut on_event);
    if let Some(e) = failure {
        return Err(write_err(e));
    }
    summary.records = records;
    summary.late_trades = builder.late_trades() + builder.late_candles();
    out.write_all(&rows_5m).map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(summary)
}

/// Writes one CSV row; indicator cells are empty while not warm.
fn write_row(
    out: &mut impl Write,
    timeframe: &str,
    c: &Candle,
    s: &IndicatorSnapshot,
) -> io::Result<()> {
    write!(
        out,
        "{timeframe},{},{},{},{},{},{}",
        c.open_time.as_ms(),
        c.open,
        c.high,
        c.low,
        c.close,
        c.volume
    )?;
    let bands = s.bands;
    for value in [
        s.sma_fast,
        s.sma_mid,
        s.sma_slow,
        s.ema_fast,
        s.ema_slow,
        s.rsi,
        s.atr,
        bands.map(|b| b.upper),
        bands.map(|b| b.middle),
        bands.map(|b| b.lower),
    ] {
        match value {
            Some(v) => write!(out, ",{v}")?,
            None => out.write_all(b",")?,
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};

    #[test]
    fn several_data_files_and_an_output_file_are_parsed() {
        let cli = Cli::try_parse_from([
            "trading-engine",
            "indicators",
            "--data",
            "a.csv",
            "b.csv.gz",
            "--out",
            "ind.csv",
        ])
        .unwrap();
        let Command::Indicators(args) = cli.command else {
            panic!("expected the indicators command")
        };
        assert_eq!(
            args.data,
            [PathBuf::from("a.csv"), PathBuf::from("b.csv.gz")]
        );
        assert_eq!(args.out, Some(PathBuf::from("ind.csv")));
    }

    #[test]
    fn data_is_required_and_help_names_the_row_order() {
        assert!(Cli::try_parse_from(["trading-engine", "indicators"]).is_err());
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("indicators")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(
            help.contains("All 1m rows come first, then all 5m rows"),
            "{help}"
        );
        assert!(help.contains(CSV_HEADER), "{help}");
    }

    #[test]
    fn a_missing_file_is_reported_with_its_path() {
        let args = IndicatorsArgs {
            data: vec![PathBuf::from("/nonexistent/klines.csv")],
            out: None,
        };
        let mut out = Vec::new();
        let err = args.execute(&mut out).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/klines.csv"), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn rows_leave_cells_empty_until_warm() {
        let candle = Candle {
            symbol: SymbolId(0),
            open_time: crate::types::TimestampNs::from_ms(1_746_372_780_000),
            open: crate::types::Price::from_decimal(955_054, 1).unwrap(),
            high: crate::types::Price::from_decimal(955_055, 1).unwrap(),
            low: crate::types::Price::from_decimal(955_027, 1).unwrap(),
            close: crate::types::Price::from_decimal(955_027, 1).unwrap(),
            volume: crate::types::Qty::from_decimal(16_536, 3).unwrap(),
            trade_count: 0,
        };
        let mut out = Vec::new();
        let snapshot = IndicatorSnapshot {
            rsi: Some(55.5),
            ..IndicatorSnapshot::default()
        };
        write_row(&mut out, "1m", &candle, &snapshot).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1m,1746372780000,95505.4,95505.5,95502.7,95502.7,16.536,,,,,,55.5,,,,\n"
        );
    }
}
