//! The `trading-engine` command line: global options and one subcommand
//! per file in this directory.
//!
//! Consumes the process arguments (through clap); produces a [`Command`]
//! that runs and reports a [`CliError`]. Never exits the process or logs
//! the final error itself: `main` does both, once.
//!
//! Adding a subcommand: write `src/cli/<name>.rs` with a clap `Args` (or
//! `Subcommand`) type and a `run(self, out) -> Result<(), CliError>`, add a
//! variant to [`Command`] and one arm to [`Command::run`].

pub mod backtest;
pub mod check;
mod config;
mod config_check;
pub mod ctl;
pub mod data;
pub mod indicators;
pub mod journal;
pub mod replay;
pub mod run;
pub mod shell;
pub mod sweep;
pub mod walkforward;

pub use config::ConfigCommand;
pub use config_check::CheckArgs;
pub use ctl::CtlArgs;
pub use data::DataCommand;
pub use indicators::IndicatorsArgs;

use crate::config::{ConfigError, CredentialsError, LogLevel};
use clap::{Parser, Subcommand};
use std::fmt;
use std::io::{self, Write};

pub use crate::VERSION;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "trading-engine",
    version = VERSION,
    about = "Low-latency trading engine for BingX USDT-M perpetual swaps",
    after_help = "Exit status: 0 success; 1 the command failed (its error is logged once: \
                  configuration rejected, pre-flight check failed, replay mismatch, control \
                  command refused, run stopped by an error); 2 usage error (unknown \
                  subcommand or option, bad value)."
)]
pub struct Cli {
    /// Log level: off, error, warn, info, debug or trace (default: info).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Backtest the strategies on klines or aggTrades files.
    Backtest(backtest::BacktestArgs),
    /// Build 1m/5m candles from Binance klines or aggTrades files and print
    /// their indicators as CSV (all 1m rows, then all 5m rows).
    #[command(long_about = indicators::LONG_ABOUT)]
    Indicators(IndicatorsArgs),
    /// Download historical market data (Binance archives, BingX klines).
    #[command(subcommand)]
    Data(DataCommand),
    /// Send a control command (status, halt, resume, reset, flatten, reload) to a
    /// running engine; the token comes from TE_CONTROL_TOKEN.
    Ctl(CtlArgs),
    /// Run the engine: live, paper or dry-run on the configured exchange.
    Run(run::RunArgs),
    /// Run the engine in live mode against the built-in BingX simulator
    /// (loopback, TLS, generated market): no account, no internet.
    Demo(run::DemoArgs),
    /// Verify or repair a journal (stop the engine first).
    Journal(journal::JournalCli),
    /// Feed a journal's inputs through a fresh core and check every
    /// decision against the journaled one; exits non-zero on the first
    /// mismatch or when the journal cannot be read to its end.
    Replay(replay::ReplayArgs),
    /// Run the pre-flight checks (config, journal directory, exchange,
    /// clock skew, credentials, balance, symbol rules, leverage, margin
    /// type) and print them as a checklist; exits non-zero on any failure.
    Check(check::PreflightArgs),
    /// Backtest every parameter set of a grid on all cores (or one shard of
    /// a cluster job) and rank them; `sweep merge` joins shard outputs.
    Sweep(sweep::SweepArgs),
    /// Walk-forward validation: sweep each training window, run its best
    /// set on the following test window, stitch the out-of-sample results.
    Walkforward(walkforward::WalkforwardArgs),
    /// Print a shell completion script (bash, zsh or fish).
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir.
    Man(shell::ManArgs),
}

impl Command {
    /// Returns the `--config` file the subcommand was given, if any (its
    /// `[logging]` section configures the process logging).
    #[must_use]
    pub fn config_file(&self) -> Option<&std::path::Path> {
        match self {
            Self::Config(ConfigCommand::Check(args)) => args.config.as_deref(),
            Self::Backtest(args) => args.config.as_deref(),
            Self::Ctl(args) => args.config.as_deref(),
            Self::Run(args) => args.config.as_deref(),
            Self::Check(args) => args.config.as_deref(),
            Self::Sweep(args) => args.config.as_deref(),
            Self::Walkforward(args) => args.config.as_deref(),
            Self::Indicators(_)
            | Self::Data(_)
            | Self::Demo(_)
            | Self::Replay(_)
            | Self::Journal(_)
            | Self::Completions(_)
            | Self::Man(_) => None,
        }
    }

    /// Runs the subcommand, writing its normal output to `out`; `demo` runs
    /// through `demo` (the binary's, which starts the simulator).
    ///
    /// # Errors
    /// The subcommand's [`CliError`].
    pub fn run(self, out: &mut dyn Write, demo: run::DemoRunner) -> Result<(), CliError> {
        match self {
            Self::Config(command) => command.run(out),
            Self::Indicators(args) => args.run(out),
            Self::Backtest(args) => backtest::run(&args, out).map_err(CliError::Backtest),
            Self::Data(command) => command.run(out),
            Self::Ctl(args) => args.run(out),
            Self::Run(args) => args.run(out),
            Self::Demo(args) => args.run(out, demo),
            Self::Replay(args) => args.run(out).map_err(CliError::Replay),
            Self::Journal(command) => command.run(out),
            Self::Check(args) => args.run(out),
            Self::Sweep(args) => args.run(out),
            Self::Walkforward(args) => args.run(out),
            Self::Completions(args) => args.run(out),
            Self::Man(args) => args.run(out),
        }
    }
}

/// Why a subcommand failed.
#[derive(Debug)]
pub enum CliError {
    /// The configuration could not be loaded or is invalid.
    Config(ConfigError),
    /// Credentials are required (live mode) but missing or unreadable.
    Credentials(CredentialsError),
    /// Writing the output failed.
    Output(io::Error),
    /// `indicators` could not read its data or write its CSV.
    Indicators(indicators::IndicatorsError),
    /// `backtest` failed.
    Backtest(backtest::BacktestCliError),
    /// `data download` failed.
    Data(crate::history::HistoryError),
    /// `ctl` could not deliver its command or the engine refused it.
    Ctl(ctl::CtlError),
    /// `run` could not start.
    Runtime(crate::runtime::RuntimeError),
    /// `demo` failed.
    Demo(crate::runtime::demo::DemoError),
    /// `replay` failed or found a mismatch.
    Replay(replay::ReplayCliError),
    /// `journal verify` found damage or `journal repair` failed.
    Journal(journal::JournalCliError),
    /// `sweep`, `sweep merge` or `walkforward` failed.
    Research(crate::research::ResearchError),
    /// `check` found failing pre-flight checks.
    Preflight {
        /// How many checks failed.
        failed: usize,
    },
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "Configuration rejected: {e}"),
            Self::Credentials(e) => write!(f, "Credentials unavailable: {e}"),
            Self::Output(e) => write!(f, "Cannot write output: {e}"),
            Self::Indicators(e) => write!(f, "Indicators failed: {e}"),
            Self::Backtest(e) => write!(f, "{e}"),
            Self::Data(e) => write!(f, "Data download failed: {e}"),
            Self::Ctl(e) => write!(f, "Control command failed: {e}"),
            Self::Runtime(e) => write!(f, "Run failed: {e}"),
            Self::Demo(e) => write!(f, "Demo failed: {e}"),
            Self::Replay(e) => write!(f, "{e}"),
            Self::Journal(e) => write!(f, "{e}"),
            Self::Research(e) => write!(f, "Research run failed: {e}"),
            Self::Preflight { failed } => write!(f, "Pre-flight checks failed: {failed}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Credentials(e) => Some(e),
            Self::Output(e) => Some(e),
            Self::Indicators(e) => Some(e),
            Self::Backtest(e) => Some(e),
            Self::Data(e) => Some(e),
            Self::Ctl(e) => Some(e),
            Self::Runtime(e) => Some(e),
            Self::Demo(e) => Some(e),
            Self::Replay(e) => Some(e),
            Self::Journal(e) => Some(e),
            Self::Research(e) => Some(e),
            Self::Preflight { .. } => None,
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<indicators::IndicatorsError> for CliError {
    fn from(e: indicators::IndicatorsError) -> Self {
        Self::Indicators(e)
    }
}

impl From<crate::history::HistoryError> for CliError {
    fn from(e: crate::history::HistoryError) -> Self {
        Self::Data(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        Self::Output(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn log_level_is_global_and_parsed() {
        let cli =
            Cli::try_parse_from(["trading-engine", "config", "check", "--log-level", "DEBUG"])
                .unwrap();
        assert_eq!(cli.log_level, Some(LogLevel::Debug));
        let err = Cli::try_parse_from(["trading-engine", "--log-level", "loud", "config", "check"])
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown log level \"loud\""),
            "{err}"
        );
    }
}
