//! `[management]`: how an open position is managed, in R (the initial risk
//! per unit): partial exits, break-even and the two-stage trailing stop.
//!
//! Consumes the `[management]` TOML table; produces [`ManagementConfig`].
//! Never manages a position itself.

use super::validate::{Bound, Issues};
use serde::{Deserialize, Serialize};

/// Largest level or distance in R (a 1000R move is far beyond any target).
const MAX_R: f64 = 1000.0;

/// The `[management]` section, shared by both strategies (every R value
/// in (0, 1000]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManagementConfig {
    /// First partial exit at this many R of profit; default 2.0.
    pub partial1_r: f64,
    /// Fraction of the original quantity closed at partial 1, in [0, 1];
    /// default 0.30.
    pub partial1_fraction: f64,
    /// Move the stop to break-even when partial 1 fills; default true.
    pub breakeven_on_partial1: bool,
    /// Break-even includes the round-trip fees (entry price shifted by
    /// them); default true.
    pub breakeven_includes_fees: bool,
    /// Trailing starts at this many R; below `trail2_start_r`; default 3.0.
    pub trail_start_r: f64,
    /// First-stage trailing distance from the best price, in R; default 1.5.
    pub trail_distance_r: f64,
    /// Tighter trailing starts at this many R; default 5.0.
    pub trail2_start_r: f64,
    /// Second-stage trailing distance in R, at most `trail_distance_r`;
    /// default 1.0.
    pub trail2_distance_r: f64,
    /// Second partial exit at this many R; above `partial1_r`; default 4.0.
    pub partial2_r: f64,
    /// Fraction of the original quantity closed at partial 2, in [0, 1];
    /// with `partial1_fraction` at most 1. Default 0.40.
    pub partial2_fraction: f64,
}

impl Default for ManagementConfig {
    fn default() -> Self {
        Self {
            partial1_r: 2.0,
            partial1_fraction: 0.30,
            breakeven_on_partial1: true,
            breakeven_includes_fees: true,
            trail_start_r: 3.0,
            trail_distance_r: 1.5,
            trail2_start_r: 5.0,
            trail2_distance_r: 1.0,
            partial2_r: 4.0,
            partial2_fraction: 0.40,
        }
    }
}

impl ManagementConfig {
    /// Records range and relation problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        let r = |i: &mut Issues, k: &str, v: f64| {
            i.range(k, v, Bound::Open(0.0), Bound::Closed(MAX_R));
        };
        r(issues, "management.partial1_r", self.partial1_r);
        r(issues, "management.partial2_r", self.partial2_r);
        r(issues, "management.trail_start_r", self.trail_start_r);
        r(issues, "management.trail2_start_r", self.trail2_start_r);
        r(issues, "management.trail_distance_r", self.trail_distance_r);
        r(
            issues,
            "management.trail2_distance_r",
            self.trail2_distance_r,
        );
        let unit =
            |i: &mut Issues, k: &str, v: f64| i.range(k, v, Bound::Closed(0.0), Bound::Closed(1.0));
        unit(
            issues,
            "management.partial1_fraction",
            self.partial1_fraction,
        );
        unit(
            issues,
            "management.partial2_fraction",
            self.partial2_fraction,
        );
        let sum = self.partial1_fraction + self.partial2_fraction;
        // A little slack so that 0.3 + 0.7 (= 1.0000000000000002) is accepted.
        if sum > 1.0 + 1e-9 {
            issues.push(
                "management.partial2_fraction",
                format!(
                    "management.partial1_fraction + management.partial2_fraction must be at most 1, got {} + {} = {sum}",
                    self.partial1_fraction, self.partial2_fraction
                ),
            );
        }
        if self.partial1_r >= self.partial2_r {
            issues.push(
                "management.partial1_r",
                format!(
                    "must be below management.partial2_r ({}), got {}",
                    self.partial2_r, self.partial1_r
                ),
            );
        }
        if self.trail_start_r >= self.trail2_start_r {
            issues.push(
                "management.trail_start_r",
                format!(
                    "must be below management.trail2_start_r ({}), got {}",
                    self.trail2_start_r, self.trail_start_r
                ),
            );
        }
        if self.trail2_distance_r > self.trail_distance_r {
            issues.push(
                "management.trail2_distance_r",
                format!(
                    "must be at most management.trail_distance_r ({}) so the stop only tightens, got {}",
                    self.trail_distance_r, self.trail2_distance_r
                ),
            );
        }
    }
}
