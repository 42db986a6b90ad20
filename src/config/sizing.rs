//! `[sizing]`: how much equity one trade risks, scaled by the win streak.
//!
//! Consumes the `[sizing]` TOML table; produces [`SizingConfig`]. Never
//! computes a quantity itself.

use super::validate::Issues;
use serde::{Deserialize, Serialize};

/// Most entries of `streak_multipliers`: the risk manager holds this many
/// without allocating, so a reload with at most this many never allocates.
pub const MAX_STREAK_MULTIPLIERS: usize = 16;

/// The `[sizing]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SizingConfig {
    /// Percent of equity risked per trade before streak scaling, in (0, 100];
    /// default 1.0.
    pub base_risk_pct: f64,
    /// Risk multiplier after 0, 1, 2, ... consecutive wins (the last entry
    /// applies to longer streaks); 1 to 16 entries, each in (0, 100].
    /// Default `[1.0, 1.25, 1.5, 1.75]`.
    pub streak_multipliers: Vec<f64>,
}

impl Default for SizingConfig {
    fn default() -> Self {
        Self {
            base_risk_pct: 1.0,
            streak_multipliers: vec![1.0, 1.25, 1.5, 1.75],
        }
    }
}

impl SizingConfig {
    /// Returns the largest streak multiplier (1.0 when the list is empty).
    #[must_use]
    pub fn max_multiplier(&self) -> f64 {
        self.streak_multipliers.iter().copied().fold(1.0, f64::max)
    }

    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        issues.pct("sizing.base_risk_pct", self.base_risk_pct);
        if self.streak_multipliers.is_empty() {
            issues.push(
                "sizing.streak_multipliers",
                "must have at least one entry (the multiplier after 0 wins)",
            );
        }
        if self.streak_multipliers.len() > MAX_STREAK_MULTIPLIERS {
            issues.push(
                "sizing.streak_multipliers",
                format!(
                    "at most {} entries (the risk manager's fixed table), got {}",
                    MAX_STREAK_MULTIPLIERS,
                    self.streak_multipliers.len()
                ),
            );
        }
        for (i, m) in self.streak_multipliers.iter().enumerate() {
            issues.range(
                &format!("sizing.streak_multipliers[{i}]"),
                *m,
                super::validate::Bound::Open(0.0),
                super::validate::Bound::Closed(100.0),
            );
        }
    }
}
