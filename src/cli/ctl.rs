//! `trading-engine ctl status|halt|resume|reset|flatten|reload [--addr ADDR]
//! [--config FILE]`: send a control command to a running engine and print
//! its reply.
//!
//! Consumes the command, the address (`--addr`, else `[metrics] listen` of
//! `--config`, else the default 127.0.0.1:9184) and the token from
//! `TE_CONTROL_TOKEN`; produces the engine's reply on `out`. Fails (exit
//! code 1) when the token is missing, the engine cannot be reached, or it
//! answers with anything but 2xx. Never prints the token.

use super::CliError;
use crate::config::{Config, MetricsConfig};
use crate::control::{send_command, ClientError, ControlCommand, TOKEN_VAR};
use clap::Args;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Arguments of `ctl`.
#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The command: status, halt, resume, reset, flatten or reload.
    #[arg(value_parser = ControlCommand::from_str, value_name = "COMMAND")]
    pub command: ControlCommand,
    /// Engine control address (default: `[metrics] listen` of --config,
    /// else 127.0.0.1:9184).
    #[arg(long, value_name = "IP:PORT")]
    pub addr: Option<SocketAddr>,
    /// Configuration file to take the address from.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds to wait for the connection and for the reply.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout_secs: u64,
}

/// Why `ctl` failed.
#[derive(Debug)]
pub enum CtlError {
    /// The command could not be delivered.
    Client(ClientError),
    /// The engine answered with a non-2xx status.
    Refused {
        /// The command.
        command: ControlCommand,
        /// The engine's address.
        addr: SocketAddr,
        /// HTTP status.
        status: u16,
        /// The engine's explanation.
        body: String,
    },
}

impl fmt::Display for CtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(e) => e.fmt(f),
            Self::Refused {
                command,
                addr,
                status,
                body,
            } => write!(
                f,
                "engine at {addr} refused {command} (HTTP {status}): {}",
                body.trim_end()
            ),
        }
    }
}

impl std::error::Error for CtlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Client(e) => Some(e),
            Self::Refused { .. } => None,
        }
    }
}

impl CtlArgs {
    /// Sends the command and writes the reply body to `out`.
    ///
    /// # Errors
    /// [`CliError::Config`] when `--config` is given and invalid;
    /// [`CliError::Ctl`] when the token is missing, the engine is
    /// unreachable or refuses; [`CliError::Output`] when `out` fails.
    pub fn run(self, out: &mut dyn Write) -> Result<(), CliError> {
        let command = self.command;
        let addr = match (self.addr, &self.config) {
            (Some(addr), _) => addr,
            (None, Some(path)) => Config::load(path)?.metrics.listen,
            (None, None) => MetricsConfig::default().listen,
        };
        let token = std::env::var(TOKEN_VAR).unwrap_or_default();
        let timeout = Duration::from_secs(self.timeout_secs.max(1));
        let reply = send_command(addr, command, &token, timeout)
            .map_err(|e| CliError::Ctl(CtlError::Client(e)))?;
        if !reply.is_success() {
            return Err(CliError::Ctl(CtlError::Refused {
                command,
                addr,
                status: reply.status,
                body: reply.body,
            }));
        }
        out.write_all(reply.body.as_bytes())?;
        if !reply.body.ends_with('\n') {
            writeln!(out)?;
        }
        log::debug!("Control command {command} accepted by {addr}");
        Ok(())
    }
}
