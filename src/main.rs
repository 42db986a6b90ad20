//! The `trading-engine` command line: parses arguments, starts logging
//! (the `[logging]` section of the subcommand's `--config` file, else the
//! defaults; `--log-level` overrides the level), runs the subcommand, logs
//! its error once and exits non-zero on failure.
#![forbid(unsafe_code)]

mod demo_exchange;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use trading_engine::cli::Cli;
use trading_engine::config::{Config, LoggingConfig};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A configuration the subcommand will reject is reported by it, with
    // every key; logging then keeps the defaults.
    let (mut logging, working_dir) = cli
        .command
        .config_file()
        .and_then(|path| Config::load(path).ok())
        .map_or_else(
            || (LoggingConfig::default(), PathBuf::from(".")),
            |c| (c.logging, c.engine.working_dir),
        );
    if let Some(level) = cli.log_level {
        logging.level = level;
    }
    let guard = match trading_engine::logging::init(&logging, &working_dir) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("Cannot start logging: {e}");
            // The console still gets the records (the subcommand names
            // the bad key); only the file is given up.
            logging.file = None;
            trading_engine::logging::init(&logging, &working_dir).ok()
        }
    };
    let result = cli
        .command
        .run(&mut std::io::stdout().lock(), demo_exchange::run);
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if guard.is_some() && log::log_enabled!(log::Level::Error) {
                log::error!("{e}");
            } else {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    };
    // Dropping the guard writes every queued record before the process exits.
    drop(guard);
    code
}
