//! `[dashboard]`: the periodic human-readable status summary in the log.
//!
//! Consumes the `[dashboard]` TOML table; produces [`DashboardConfig`].
//! Never prints anything itself.

use serde::{Deserialize, Serialize};

/// The `[dashboard]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Period of the status summary (equity, positions, PnL, signals),
    /// seconds; 0 disables it. Default 3600.
    pub interval_secs: u64,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
        }
    }
}
