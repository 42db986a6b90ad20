//! `trading-engine check [--config FILE] [--env-file FILE] [--fix]`: the
//! pre-flight checks of `run`, printed as a checklist (✓ / ✗ / – and a
//! detail per line, then a summary).
//!
//! Consumes a config file (or the built-in defaults), credentials from the
//! environment or a `.env` file, and the exchange; produces the checklist
//! on `out` and [`CliError::Preflight`] when any check failed. Never
//! prints a secret; changes leverage or margin type only with `--fix`.

use super::CliError;
use crate::config::{Config, Credentials};
use crate::runtime::startup::preflight::{run_checks, Checklist, PreflightOptions};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// Configuration file; without it the built-in defaults are checked.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File consulted for BINGX_API_KEY / BINGX_API_SECRET after the
    /// environment.
    #[arg(long, value_name = "FILE", default_value = ".env")]
    pub env_file: PathBuf,
    /// Set leverage and margin type on the exchange when they differ from
    /// the configuration (otherwise such a difference fails the check).
    #[arg(long)]
    pub fix: bool,
}

impl PreflightArgs {
    /// Runs the checks and prints the checklist.
    ///
    /// # Errors
    /// [`CliError::Preflight`] with the number of failed checks;
    /// [`CliError::Output`] when `out` fails.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let loaded = match &self.config {
            Some(path) => Config::load(path),
            None => Config::default().validate().map(|()| Config::default()),
        };
        let list = match loaded {
            Ok(config) => {
                let credentials = Credentials::load(&self.env_file).map_err(|e| e.to_string());
                let opts = PreflightOptions::for_config(&config, self.fix);
                run_checks(&config, credentials, &opts)
            }
            Err(e) => Checklist::config_rejected(&e),
        };
        writeln!(out, "{list}")?;
        out.flush()?;
        if list.passed() {
            log::info!("Pre-flight checks passed");
            Ok(())
        } else {
            Err(CliError::Preflight {
                failed: list.failures().count(),
            })
        }
    }
}
