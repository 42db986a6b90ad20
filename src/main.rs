//! The `trading-engine` command line.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use trading_engine::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Indicators(args) => trading_engine::cli::indicators::run(args).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
