//! `[dashboard]`: the periodic human-readable status summary in the log.
//!
//! Consumes the `[dashboard]` TOML table; produces [`DashboardConfig`].
//! Never prints anything itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};

/// The `[dashboard]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Period of the status summary (equity, positions, PnL, signals),
    /// seconds; 0 disables it, at most 604800 (a week). Default 3600.
    pub interval_secs: u64,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
        }
    }
}

impl DashboardConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        issues.int_range("dashboard.interval_secs", self.interval_secs, 0, 604_800);
    }
}
