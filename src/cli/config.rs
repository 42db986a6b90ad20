//! `trading-engine config ...`: configuration subcommands.
//!
//! Consumes parsed arguments; produces the chosen subcommand's output.
//! Never changes a file.

use super::config_check::CheckArgs;
use super::CliError;
use clap::Subcommand;
use std::io::Write;

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and print the effective configuration
    /// (secrets redacted); exit non-zero listing every error otherwise.
    Check(CheckArgs),
}

impl ConfigCommand {
    /// Runs the subcommand.
    ///
    /// # Errors
    /// The subcommand's [`CliError`].
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        match self {
            Self::Check(args) => args.run(out),
        }
    }
}
