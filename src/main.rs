//! The `trading-engine` command line: parses arguments, starts logging
//! (console, level from `--log-level`), runs the subcommand, logs its error
//! once and exits non-zero on failure.
#![forbid(unsafe_code)]

mod demo_exchange;

use clap::Parser;
use std::path::Path;
use std::process::ExitCode;
use trading_engine::cli::Cli;
use trading_engine::config::LoggingConfig;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut logging = LoggingConfig::default();
    if let Some(level) = cli.log_level {
        logging.level = level;
    }
    let guard = match trading_engine::logging::init(&logging, Path::new(".")) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("Cannot start logging: {e}");
            None
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
