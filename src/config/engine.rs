//! `[engine]`: run mode, CPU placement of the hot and I/O threads, busy
//! polling and the working directory.
//!
//! Consumes the `[engine]` TOML table; produces [`EngineConfig`]. Never pins
//! threads itself: it only checks that the configured cores exist.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How orders are handled (see docs/ARCHITECTURE.md, "Modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Real orders on the exchange; needs credentials.
    Live,
    /// Live market data, orders filled by the in-process simulator.
    Paper,
    /// Live market data, signals only logged and journaled.
    DryRun,
}

impl Mode {
    /// Returns the configuration spelling (`dry-run`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Paper => "paper",
            Self::DryRun => "dry-run",
        }
    }
}

/// The `[engine]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Run mode; default `paper`.
    pub mode: Mode,
    /// CPU core id the hot thread is pinned to; must be one of
    /// `core_affinity::get_core_ids()`. Default 0.
    pub hot_core: usize,
    /// CPU core id for the I/O thread; `None` leaves it unpinned. Must differ
    /// from `hot_core`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io_core: Option<usize>,
    /// Whether the hot thread spins on the poll (zero timeout) instead of
    /// sleeping in it. Default true.
    pub busy_poll: bool,
    /// Directory relative paths in the configuration are resolved against.
    /// Default `.`.
    pub working_dir: PathBuf,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Paper,
            hot_core: 0,
            io_core: None,
            busy_poll: true,
            working_dir: PathBuf::from("."),
        }
    }
}

impl EngineConfig {
    /// Returns `path` unchanged when absolute, else joined onto
    /// `working_dir`.
    #[must_use]
    pub fn resolve_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.working_dir.join(path)
        }
    }

    /// Records range problems; `cores` is the list of usable core ids, or
    /// `None` when the platform cannot tell (then core ids are not checked).
    pub(crate) fn validate(&self, cores: Option<&[usize]>, issues: &mut Issues) {
        if let Some(cores) = cores {
            if !cores.contains(&self.hot_core) {
                issues.push(
                    "engine.hot_core",
                    format!(
                        "core {} does not exist, available cores are {cores:?}",
                        self.hot_core
                    ),
                );
            }
            if let Some(io) = self.io_core {
                if !cores.contains(&io) {
                    issues.push(
                        "engine.io_core",
                        format!("core {io} does not exist, available cores are {cores:?}"),
                    );
                }
            }
        }
        if self.io_core == Some(self.hot_core) {
            issues.push(
                "engine.io_core",
                format!(
                    "must differ from engine.hot_core ({}): the hot thread owns its core",
                    self.hot_core
                ),
            );
        }
        issues.path("engine.working_dir", &self.working_dir);
    }
}
