//! `[risk]`: pre-trade limits, the kill switch and the emergency stop file.
//!
//! Consumes the `[risk]` TOML table; produces [`RiskConfig`]. Never checks an
//! order itself. Every limit is reloadable on SIGHUP; the two file paths
//! are not.

use super::validate::Issues;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Longest cooldown or loss-streak lock: one week, minutes.
const MAX_LOCK_MINUTES: u64 = 7 * 24 * 60;

/// The `[risk]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Kill switch: halt when equity falls this percent below its peak,
    /// in (0, 100]; default 10.
    pub max_drawdown_pct: f64,
    /// Also close open positions when halted; default false.
    pub flatten_on_halt: bool,
    /// Emergency stop file (relative to `engine.working_dir`); its
    /// appearance halts and flattens. Default `STOP`.
    pub stop_file: PathBuf,
    /// Halt marker written when halted; a person deletes it to resume.
    /// Default `HALTED`.
    pub halt_file: PathBuf,
    /// Minutes without new entries after a losing trade, at most 10080
    /// (a week); default 60.
    pub cooldown_minutes: u64,
    /// Losing trades in a row that lock new entries; in [1, 1000],
    /// default 3.
    pub max_consecutive_losses: u32,
    /// Minutes the loss-streak lock lasts, at most 10080; default 240.
    pub loss_streak_lock_minutes: u64,
    /// Cap on the summed open risk, percent of equity, in (0, 100]; default 5.
    pub max_portfolio_risk_pct: f64,
    /// Cap on one position's margin, percent of equity, in (0, 100];
    /// default 40.
    pub max_position_pct: f64,
    /// No new entries below this available balance, quote currency (USDT),
    /// >= 0; default 10.
    pub min_balance: f64,
    /// Most positions open at once; > 0, default 1.
    pub max_positions: u32,
    /// Reject an order priced more than this percent from the last trade,
    /// in (0, 100]; default 2.
    pub max_price_deviation_pct: f64,
    /// Market data older than this many seconds is stale (no entries);
    /// in [1, 3600], default 30.
    pub stale_data_secs: u64,
    /// Close open positions on a clean shutdown; default false (the exchange
    /// keeps their stops).
    pub close_on_shutdown: bool,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            max_drawdown_pct: 10.0,
            flatten_on_halt: false,
            stop_file: PathBuf::from("STOP"),
            halt_file: PathBuf::from("HALTED"),
            cooldown_minutes: 60,
            max_consecutive_losses: 3,
            loss_streak_lock_minutes: 240,
            max_portfolio_risk_pct: 5.0,
            max_position_pct: 40.0,
            min_balance: 10.0,
            max_positions: 1,
            max_price_deviation_pct: 2.0,
            stale_data_secs: 30,
            close_on_shutdown: false,
        }
    }
}

impl RiskConfig {
    /// Records range problems.
    pub(crate) fn validate(&self, issues: &mut Issues) {
        issues.pct("risk.max_drawdown_pct", self.max_drawdown_pct);
        issues.file_path("risk.stop_file", &self.stop_file);
        issues.file_path("risk.halt_file", &self.halt_file);
        if !self.stop_file.as_os_str().is_empty() && self.stop_file == self.halt_file {
            issues.push("risk.halt_file", "must differ from risk.stop_file");
        }
        issues.int_range(
            "risk.cooldown_minutes",
            self.cooldown_minutes,
            0,
            MAX_LOCK_MINUTES,
        );
        issues.int_range(
            "risk.max_consecutive_losses",
            u64::from(self.max_consecutive_losses),
            1,
            1000,
        );
        issues.int_range(
            "risk.loss_streak_lock_minutes",
            self.loss_streak_lock_minutes,
            0,
            MAX_LOCK_MINUTES,
        );
        issues.pct("risk.max_portfolio_risk_pct", self.max_portfolio_risk_pct);
        issues.pct("risk.max_position_pct", self.max_position_pct);
        issues.non_negative("risk.min_balance", self.min_balance);
        issues.nonzero("risk.max_positions", u64::from(self.max_positions));
        issues.pct("risk.max_price_deviation_pct", self.max_price_deviation_pct);
        issues.int_range("risk.stale_data_secs", self.stale_data_secs, 1, 3600);
    }
}
