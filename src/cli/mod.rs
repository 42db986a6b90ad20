//! The `trading-engine` command line: one subcommand per file.
//!
//! Consumes the process arguments (clap); produces a [`Command`] that `main`
//! dispatches. Cold path only.

pub mod indicators;

/// The `trading-engine` command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "trading-engine",
    version,
    about = "Low-latency trading engine for crypto perpetual swaps"
)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build 1m/5m candles from Binance klines or aggTrades files and print their indicators as CSV.
    Indicators(indicators::IndicatorsArgs),
}
