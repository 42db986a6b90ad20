//! `[reconcile]`: continuous reconciliation with the exchange while running
//! (live mode) and the protective-stop guard.
//!
//! Consumes the `[reconcile]` TOML table; produces [`ReconcileSettings`].
//! Never talks to the exchange itself.

use super::validate::{Bound, Issues};
use serde::{Deserialize, Serialize};

/// Longest reconciliation interval accepted, seconds: a position must not
/// stay without its stop longer than a few minutes in the worst case.
pub const MAX_RECONCILE_INTERVAL_SECS: u64 = 300;

/// What continuous reconciliation does with an exchange position the core
/// does not know (opened by hand, or left by an earlier life).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownPosition {
    /// Leave it (and whatever protects it) alone; journal and log it.
    #[default]
    Leave,
    /// Close it with a reduce-only market order (journaled).
    Close,
    /// Take it over: the core books it as a position of its own (strategy
    /// `adopted`, entry at the exchange's entry price), protects it with a
    /// stop `adopt_stop_pct` away from that price and manages its exits
    /// like any other (target `adopt_target_r` × the stop distance,
    /// partials, break-even, trailing), all journaled.
    Adopt,
}

/// The `[reconcile]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconcileSettings {
    /// Period of the running reconciliation (positions and open orders
    /// compared with the exchange's by REST), seconds, 1..=300. Also the
    /// guard interval: a protective stop cancelled behind the engine's back
    /// is back within about one interval. Default 10.
    pub interval_secs: u64,
    /// Failed placements of a position's protective stop in a row after
    /// which the position is closed at market, 1..=10. Default 2 (one retry).
    pub stop_attempts: u32,
    /// What to do with an exchange position the core does not know.
    /// Default `leave`.
    pub unknown_position: UnknownPosition,
    /// Stop distance of an adopted position, percent of its entry price,
    /// (0, 50]. Default 2.
    pub adopt_stop_pct: f64,
    /// Target distance of an adopted position in multiples of its stop
    /// distance (its R), [0.5, 20]. Default 2.
    pub adopt_target_r: f64,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            interval_secs: 10,
            stop_attempts: 2,
            unknown_position: UnknownPosition::Leave,
            adopt_stop_pct: 2.0,
            adopt_target_r: 2.0,
        }
    }
}

impl ReconcileSettings {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        issues.int_range(
            "reconcile.interval_secs",
            self.interval_secs,
            1,
            MAX_RECONCILE_INTERVAL_SECS,
        );
        issues.int_range(
            "reconcile.stop_attempts",
            u64::from(self.stop_attempts),
            1,
            10,
        );
        issues.range(
            "reconcile.adopt_stop_pct",
            self.adopt_stop_pct,
            Bound::Open(0.0),
            Bound::Closed(50.0),
        );
        issues.range(
            "reconcile.adopt_target_r",
            self.adopt_target_r,
            Bound::Closed(0.5),
            Bound::Closed(20.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconcile_keys_are_bounded() {
        let mut issues = Issues::default();
        ReconcileSettings::default().validate(&mut issues);
        assert!(issues.finish(()).is_ok());
        let mut issues = Issues::default();
        ReconcileSettings {
            interval_secs: 0,
            stop_attempts: 11,
            unknown_position: UnknownPosition::Close,
            adopt_stop_pct: 0.0,
            adopt_target_r: f64::NAN,
        }
        .validate(&mut issues);
        let e = issues.finish(()).unwrap_err().to_string();
        assert!(e.contains("reconcile.interval_secs"), "{e}");
        assert!(e.contains("reconcile.stop_attempts"), "{e}");
        assert!(e.contains("reconcile.adopt_stop_pct"), "{e}");
        assert!(e.contains("reconcile.adopt_target_r"), "{e}");
    }
}
