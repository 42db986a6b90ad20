//! `trading-engine config check [--config FILE]`: load and validate the
//! configuration, look up credentials, and print the effective
//! configuration as TOML with a summary header.
//!
//! Consumes a config file (or the built-in defaults), the environment and
//! a `.env` file; produces the report on `out`. Never prints a secret:
//! credentials appear only as `***redacted***` with their source.

use super::CliError;
use crate::config::{available_core_ids, Config, Credentials, Mode};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `config check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file to check; without it the built-in defaults are
    /// checked.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File consulted for BINGX_API_KEY / BINGX_API_SECRET after the
    /// environment.
    #[arg(long, value_name = "FILE", default_value = ".env")]
    pub env_file: PathBuf,
}

impl CheckArgs {
    /// Loads and validates, then writes the report.
    ///
    /// # Errors
    /// [`CliError::Config`] with every problem when the configuration is
    /// invalid or a configured path is unusable on this machine; [`CliError::Credentials`] when `engine.mode = "live"` and
    /// credentials are missing or the `.env` file is malformed;
    /// [`CliError::Output`] when `out` fails.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let (config, source) = match &self.config {
            Some(path) => (Config::load(path)?, path.display().to_string()),
            None => {
                let config = Config::default();
                config.validate()?;
                (config, "built-in defaults".to_owned())
            }
        };
        // What `run` would refuse on this machine: paths that are the
        // wrong kind or cannot be written.
        config.check_paths()?;
        let credentials_line = match Credentials::load(&self.env_file) {
            Ok(c) => format!(
                "BINGX_API_KEY = {} (from {}), BINGX_API_SECRET = {} (from {})",
                c.api_key, c.api_key_source, c.api_secret, c.api_secret_source
            ),
            Err(e) if config.engine.mode == Mode::Live => return Err(CliError::Credentials(e)),
            Err(e) => format!("not available: {e} (needed only in live mode)"),
        };
        write_report(out, &config, &source, &credentials_line)?;
        log::info!("Configuration from {source} is valid");
        Ok(())
    }
}

/// Writes the summary header and the effective configuration.
fn write_report(
    out: &mut dyn Write,
    config: &Config,
    source: &str,
    credentials: &str,
) -> Result<(), CliError> {
    let cores = available_core_ids().map_or_else(|| "unknown".to_owned(), |c| format!("{c:?}"));
    writeln!(out, "# Configuration OK: {source}")?;
    writeln!(
        out,
        "# mode: {}; symbols: {}",
        config.engine.mode.as_str(),
        config.market.symbols.join(", ")
    )?;
    writeln!(out, "# REST: {}", config.exchange.effective_rest_base_url())?;
    writeln!(out, "# WebSocket: {}", config.exchange.effective_ws_url())?;
    writeln!(
        out,
        "# hot core: {} (available: {cores})",
        config.engine.hot_core
    )?;
    writeln!(out, "# credentials: {credentials}")?;
    writeln!(out)?;
    out.write_all(config.to_toml_string()?.as_bytes())?;
    out.flush()?;
    Ok(())
}
