//! `trading-engine run` and `trading-engine demo`: the live runtime from
//! the command line.
//!
//! Consumes the arguments, the config file (or the built-in defaults) and,
//! in live mode, the credentials from the environment or `.env`; produces
//! the run's status lines, trade summary and latency table on `out`. Never
//! prints a credential.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::config::{Config, Credentials, Mode};
use crate::runtime::demo::{DemoOptions, DemoSpeed, DEFAULT_DURATION_SECS, DEFAULT_SEED};
use crate::runtime::{run, RunOptions};

use super::CliError;

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Real orders.
    Live,
    /// Exchange market data, simulated fills.
    Paper,
    /// Signals journaled and logged only.
    DryRun,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Live => Self::Live,
            ModeArg::Paper => Self::Paper,
            ModeArg::DryRun => Self::DryRun,
        }
    }
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file (default: the built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Mode; overrides `engine.mode` of the config.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Stop after this many seconds (default: until SIGTERM/SIGINT).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Print a status line every this many seconds (0 = never).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub status_every: u64,
    /// Journal directory; overrides `journal.dir` of the config (a relative
    /// path is relative to the current directory, not `engine.working_dir`).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

impl RunArgs {
    /// Runs the engine until it is stopped.
    ///
    /// # Errors
    /// [`CliError`] when the config, the credentials or the start-up fail.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let config = match &self.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        // Refused here, naming the key, rather than by the first file
        // operation that trips over it.
        config.check_paths()?;
        let mode = self.mode.map_or(config.engine.mode, Mode::from);
        let mut opts = RunOptions::new(config, mode);
        opts.config_path = self.config.clone();
        opts.journal_dir = self.journal.clone();
        if mode == Mode::Live {
            let env = opts
                .config
                .engine
                .resolve_path(std::path::Path::new(".env"));
            let c = Credentials::load(&env).map_err(CliError::Credentials)?;
            opts.credentials = Some((
                c.api_key.expose().to_owned(),
                c.api_secret.expose().to_owned(),
            ));
        }
        opts.duration = self.duration.map(Duration::from_secs);
        opts.status_every = (self.status_every > 0).then(|| Duration::from_secs(self.status_every));
        writeln!(out, "Running in {} mode", mode.as_str())?;
        let r = run(opts, out).map_err(CliError::Runtime)?;
        writeln!(
            out,
            "Stopped ({}): {} trades, {} orders, {} fills, {} closed trades, equity {:.2}",
            r.hot.reason.as_str(),
            r.hot.counters.trades,
            r.hot.counters.orders,
            r.hot.counters.fills,
            r.service.trades.len(),
            r.hot.equity
        )?;
        writeln!(out, "Latency (hot thread, whole run):\n{}", r.latency)?;
        for p in &r.hgrm {
            writeln!(out, "Saved {}", p.display())?;
        }
        if r.hot.exchange_agrees == Some(false) {
            return Err(CliError::Runtime(
                crate::runtime::RuntimeError::ExchangeDisagrees {
                    engine_positions: r.hot.open_positions,
                },
            ));
        }
        Ok(())
    }
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Binance klines or aggTrades CSV for the simulator (default: a generated market).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Market time per wall time: a multiplier from 0.001 to 1000000, or
    /// `max` (as fast as the engine reads the market stream).
    #[arg(long, value_name = "N|max", default_value = "600")]
    pub speed: DemoSpeed,
    /// Wall-clock seconds to run.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_DURATION_SECS)]
    pub duration: u64,
    /// Journal directory (default: a new directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Seed of the generated market.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Where orders go: to the simulator (live), filled in-process (paper:
    /// no REST round trip or order-rate limit between orders) or nowhere
    /// (dry-run: journaled and refused at once).
    #[arg(long, value_enum, default_value = "live")]
    pub mode: ModeArg,
    /// Also enter on every closed 1m candle (a scripted strategy after the
    /// configured ones), for thousands of tick-to-order samples; such a
    /// journal does not replay against the configuration alone.
    #[arg(long)]
    pub every_candle: bool,
}

/// Runs `demo`: supplied by the binary, which starts the loopback
/// simulator in-process (the library never links it).
pub type DemoRunner = fn(&DemoOptions, &mut dyn Write) -> Result<(), CliError>;

impl DemoArgs {
    /// Runs the demo through `runner`.
    ///
    /// # Errors
    /// [`CliError::Demo`] when the simulator or the engine cannot start.
    pub fn run(self, out: &mut dyn Write, runner: DemoRunner) -> Result<(), CliError> {
        // The simulator logs every request at info: keep the demo's output
        // to its status lines unless a quieter or louder level was asked.
        if log::max_level() == log::LevelFilter::Info {
            log::set_max_level(log::LevelFilter::Warn);
        }
        let opts = DemoOptions {
            data: self.data,
            speed: self.speed,
            duration: Duration::from_secs(self.duration),
            journal: self.journal,
            seed: self.seed,
            mode: self.mode.into(),
            every_candle: self.every_candle,
            ..DemoOptions::default()
        };
        runner(&opts, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn run_takes_a_journal_directory() {
        let cli = Cli::try_parse_from(["trading-engine", "run", "--journal", "/tmp/j"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(
            args.journal.as_deref(),
            Some(std::path::Path::new("/tmp/j"))
        );
        let cli = Cli::try_parse_from(["trading-engine", "run"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert!(args.journal.is_none());
    }
}
