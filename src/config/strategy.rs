//! `[strategies]`: the checks of the section whose types the strategy
//! registry declares (`crate::strategy`: one table per registry strategy,
//! each with its own bounds).
//!
//! Consumes a [`StrategiesConfig`]; produces [`Issues`] with the full key
//! path. Never evaluates a strategy. Indicator periods and lookbacks size
//! preallocated windows, so they are not reloadable; thresholds are.

use super::validate::Issues;
use crate::strategy::{StrategiesConfig, StrategyName};

impl StrategiesConfig {
    /// Records range and relation problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        for (i, name) in self.order.iter().enumerate() {
            if self.order[..i].contains(name) {
                issues.push(
                    format!("strategies.order[{i}]"),
                    format!("duplicate strategy \"{}\"", name.as_str()),
                );
            }
        }
        for name in StrategyName::ALL {
            if self.is_enabled(name) && !self.order.contains(&name) {
                issues.push(
                    "strategies.order",
                    format!("enabled strategy \"{}\" must be listed", name.as_str()),
                );
            }
        }
        let mut found = Vec::new();
        self.check_params(&mut found);
        for (key, message) in found {
            issues.push(key, message);
        }
    }
}
