//! `[simulator]`: fills of the in-process exchange used by paper mode and
//! backtests (fees, slippage, starting equity).
//!
//! Consumes the `[simulator]` TOML table; produces [`SimulatorConfig`].
//! Never simulates anything itself.

use super::validate::{Bound, Issues};
use serde::{Deserialize, Serialize};

/// The `[simulator]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Taker fee in basis points of notional (BingX default 0.05% = 5 bps);
    /// in [0, 100].
    pub taker_fee_bps: f64,
    /// Maker fee in basis points (BingX default 0.02% = 2 bps); in [0, 100].
    pub maker_fee_bps: f64,
    /// Adverse slippage on market fills, basis points of price; in [0, 1000];
    /// default 1.
    pub slippage_bps: f64,
    /// Starting equity, quote currency (USDT); in (0, 1e9], default 10000.
    pub initial_equity: f64,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            taker_fee_bps: 5.0,
            maker_fee_bps: 2.0,
            slippage_bps: 1.0,
            initial_equity: 10_000.0,
        }
    }
}

impl SimulatorConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        let bps = |i: &mut Issues, k: &str, v: f64, hi: f64| {
            i.range(k, v, Bound::Closed(0.0), Bound::Closed(hi))
        };
        bps(issues, "simulator.taker_fee_bps", self.taker_fee_bps, 100.0);
        bps(issues, "simulator.maker_fee_bps", self.maker_fee_bps, 100.0);
        bps(issues, "simulator.slippage_bps", self.slippage_bps, 1000.0);
        // Money is fixed-point with 8 decimals in an i64 (about 9.2e10).
        issues.range(
            "simulator.initial_equity",
            self.initial_equity,
            Bound::Open(0.0),
            Bound::Closed(1e9),
        );
    }
}
