//! `[logging]`: level, line format, console colour and the rotating log
//! file.
//!
//! Consumes the `[logging]` TOML table; produces [`LoggingConfig`]. Never
//! installs a logger: `crate::logging::init` does, once, in `main`.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Most verbose level that is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Normal operation messages.
    Info,
    /// Diagnostics.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// Returns the matching `log` filter.
    #[must_use]
    pub const fn to_level_filter(self) -> log::LevelFilter {
        match self {
            Self::Off => log::LevelFilter::Off,
            Self::Error => log::LevelFilter::Error,
            Self::Warn => log::LevelFilter::Warn,
            Self::Info => log::LevelFilter::Info,
            Self::Debug => log::LevelFilter::Debug,
            Self::Trace => log::LevelFilter::Trace,
        }
    }

    /// Returns the configuration spelling (`info`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogLevel {
    type Err = String;

    /// Parses `off`, `error`, `warn`, `info`, `debug` or `trace`
    /// (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "error" => Ok(Self::Error),
            "warn" | "warning" => Ok(Self::Warn),
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            "trace" => Ok(Self::Trace),
            _ => Err(format!(
                "unknown log level \"{s}\" (expected off, error, warn, info, debug or trace)"
            )),
        }
    }
}

/// Shape of one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-01-02T03:04:05.678Z INFO  target: Message`.
    Text,
    /// One JSON object per line: `ts`, `level`, `target`, `message`.
    Json,
}

/// Whether console output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourMode {
    /// Colour when standard error is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Largest log file before rotation: 1 GiB.
const MAX_ROTATE_SIZE_BYTES: u64 = 1 << 30;
/// Most log files kept (with 1 GiB files, 100 GiB of logs).
const MAX_ROTATE_KEEP: u64 = 100;
/// Largest logger queue, records (each a few hundred bytes when full).
const MAX_CHANNEL_CAPACITY: u64 = 1 << 20;

/// The `[logging]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Level; default `info`. Reloadable on SIGHUP.
    pub level: LogLevel,
    /// Line format for console and file; default `text`.
    pub format: LogFormat,
    /// Console (standard error) colour; default `auto`.
    pub colour: ColourMode,
    /// Log file (relative to `engine.working_dir`); `None` logs to the
    /// console only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The file is rotated before it would exceed this size, bytes; in
    /// [4096, 1 GiB], default 50 MiB.
    pub rotate_size_bytes: u64,
    /// Files kept including the active one (`engine.log`, `engine.log.1`,
    /// ...); in [1, 100], default 5.
    pub rotate_keep: usize,
    /// Records buffered between logging threads and the logger thread;
    /// when full, records are dropped and counted. In [1, 1048576],
    /// default 8192.
    pub channel_capacity: usize,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            format: LogFormat::Text,
            colour: ColourMode::Auto,
            file: None,
            rotate_size_bytes: 50 * 1024 * 1024,
            rotate_keep: 5,
            channel_capacity: 8192,
        }
    }
}

impl LoggingConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        if let Some(file) = &self.file {
            issues.file_path("logging.file", file);
        }
        issues.int_range(
            "logging.rotate_size_bytes",
            self.rotate_size_bytes,
            4096,
            MAX_ROTATE_SIZE_BYTES,
        );
        issues.int_range(
            "logging.rotate_keep",
            self.rotate_keep as u64,
            1,
            MAX_ROTATE_KEEP,
        );
        issues.int_range(
            "logging.channel_capacity",
            self.channel_capacity as u64,
            1,
            MAX_CHANNEL_CAPACITY,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_level_parses_any_case_and_round_trips() {
        for level in [
            LogLevel::Off,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            assert_eq!(level.as_str().parse::<LogLevel>(), Ok(level));
            assert_eq!(level.as_str().to_uppercase().parse::<LogLevel>(), Ok(level));
        }
        assert!("loud".parse::<LogLevel>().unwrap_err().contains("loud"));
        assert_eq!(LogLevel::Debug.to_level_filter(), log::LevelFilter::Debug);
    }
}
