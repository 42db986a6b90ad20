//! Pre-trade risk: the kill switch, entry locks, sizing and every limit of
//! docs/STRATEGIES.md "Risk manager" and "Position sizing", each with a
//! [`RejectReason`].
//!
//! Consumes an [`EntryRequest`] (signal price and stop distance, account and
//! market state, the time from the event) plus closed-trade results and
//! equity updates; produces a sized quantity or a reason, and the HALTED
//! state. Never reads a clock, a file (the STOP file arrives as an engine
//! event) or allocates.

pub mod liquidation;
mod sizing;

pub use sizing::{size_entry, streak_multiplier, Sized};

use crate::config::{RiskConfig, SizingConfig};
use crate::money::Money;
use crate::types::{InstrumentRules, Price, TimestampNs, NS_PER_MIN, NS_PER_SEC};

pub use crate::config::MAX_STREAK_MULTIPLIERS;

/// Why the risk manager refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// The engine is HALTED (kill switch, STOP file or command).
    Halted,
    /// No trade for `stale_data_secs`.
    StaleData,
    /// The entry price is more than `max_price_deviation_pct` from the last trade.
    PriceDeviation,
    /// Less than `cooldown_minutes` since the last losing trade closed.
    Cooldown,
    /// `max_consecutive_losses` in a row locked entries for `loss_streak_lock_minutes`.
    LossStreakLock,
    /// `max_positions` positions are already open or pending.
    MaxPositions,
    /// Available balance below `min_balance`.
    MinBalance,
    /// Even capped to the margin limit the position cannot reach the exchange minimum.
    PositionSize,
    /// The sized quantity is below the exchange minimum quantity or notional.
    MinQty,
    /// Open risk plus this trade's would exceed `max_portfolio_risk_pct` of equity.
    PortfolioRisk,
    /// The protective stop lies at or beyond the position's liquidation
    /// price: the exchange would liquidate it before the stop triggers.
    StopBeyondLiquidation,
}

impl RejectReason {
    /// Every reason, in report order.
    pub const ALL: [Self; 11] = [
        Self::Halted,
        Self::StaleData,
        Self::PriceDeviation,
        Self::Cooldown,
        Self::LossStreakLock,
        Self::MaxPositions,
        Self::MinBalance,
        Self::PositionSize,
        Self::MinQty,
        Self::PortfolioRisk,
        Self::StopBeyondLiquidation,
    ];

    /// Returns the snake_case name used in reports and the journal.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Halted => "halted",
            Self::StaleData => "stale_data",
            Self::PriceDeviation => "price_deviation",
            Self::Cooldown => "cooldown",
            Self::LossStreakLock => "loss_streak_lock",
            Self::MaxPositions => "max_positions",
            Self::MinBalance => "min_balance",
            Self::PositionSize => "position_size",
            Self::MinQty => "min_qty",
            Self::PortfolioRisk => "portfolio_risk",
            Self::StopBeyondLiquidation => "stop_beyond_liquidation",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Why the engine is HALTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HaltReason {
    /// Equity drawdown from its peak reached `max_drawdown_pct`.
    KillSwitch,
    /// The emergency STOP file appeared.
    StopFile,
    /// A person sent the halt command.
    Command,
}

impl HaltReason {
    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::KillSwitch => "kill_switch",
            Self::StopFile => "stop_file",
            Self::Command => "command",
        }
    }
}

/// Everything one entry check needs, all from the engine's state at the event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryRequest {
    /// Reference entry price (signal candle close).
    pub price: Price,
    /// Initial stop distance, price units (1R per unit).
    pub stop_distance: f64,
    /// Last trade price of the symbol, if any.
    pub last_price: Option<Price>,
    /// Time of that last trade (or closed candle).
    pub last_data_ts: Option<TimestampNs>,
    /// Event time.
    pub now: TimestampNs,
    /// Mark-to-market equity.
    pub equity: f64,
    /// Equity minus the margin of open positions.
    pub available: f64,
    /// Positions open or pending, all symbols.
    pub open_positions: u32,
    /// Sum over open positions of qty × |price − stop|.
    pub open_risk: f64,
    /// Exchange leverage.
    pub leverage: f64,
    /// Side of the entry.
    pub side: crate::types::Side,
    /// How the liquidation price is found (margin type, leverage,
    /// maintenance-margin rate of the symbol).
    pub liquidation: liquidation::LiquidationRule,
}

/// Limits, the win/loss streaks and the HALTED flag.
#[derive(Debug, Clone)]
pub struct RiskManager {
    risk: RiskConfig,
    sizing: SizingConfig,
    halted: Option<HaltReason>,
    peak_equity: f64,
    cooldown_until: Option<TimestampNs>,
    lock_until: Option<TimestampNs>,
    consecutive_losses: u32,
    consecutive_wins: u32,
    rejections: [u64; RejectReason::ALL.len()],
}

impl RiskManager {
    /// Returns a manager with `initial_equity` as the first equity peak.
    #[must_use]
    pub fn new(risk: RiskConfig, sizing: SizingConfig, initial_equity: f64) -> Self {
        let mut sizing = sizing;
        let len = sizing.streak_multipliers.len();
        sizing
            .streak_multipliers
            .reserve_exact(MAX_STREAK_MULTIPLIERS.saturating_sub(len));
        Self {
            risk,
            sizing,
            halted: None,
            peak_equity: initial_equity,
            cooldown_until: None,
            lock_until: None,
            consecutive_losses: 0,
            consecutive_wins: 0,
            rejections: [0; RejectReason::ALL.len()],
        }
    }

    /// Returns the risk limits.
    #[must_use]
    pub fn config(&self) -> &RiskConfig {
        &self.risk
    }

    /// Returns the sizing parameters.
    #[must_use]
    pub fn sizing(&self) -> &SizingConfig {
        &self.sizing
    }

    /// Returns how many streak multipliers [`reload`](Self::reload) can take
    /// without allocating (at least [`MAX_STREAK_MULTIPLIERS`]).
    #[must_use]
    pub fn multiplier_capacity(&self) -> usize {
        self.sizing.streak_multipliers.capacity()
    }

    /// Takes new limits and sizing in place (a config reload): every limit
    /// of `risk` except the STOP and HALTED file paths (watched by the
    /// service thread), and all of `sizing`. The halt state, the equity
    /// peak, the end times of a running cooldown or loss-streak lock, the
    /// streaks and the rejection counts carry on; new minutes and limits
    /// apply from the next check. Allocates only when `sizing` has more
    /// multipliers than [`multiplier_capacity`](Self::multiplier_capacity)
    /// (the core checks that first).
    pub fn reload(&mut self, risk: &RiskConfig, sizing: &SizingConfig) {
        let r = &mut self.risk;
        r.max_drawdown_pct = risk.max_drawdown_pct;
        r.flatten_on_halt = risk.flatten_on_halt;
        r.cooldown_minutes = risk.cooldown_minutes;
        r.max_consecutive_losses = risk.max_consecutive_losses;
        r.loss_streak_lock_minutes = risk.loss_streak_lock_minutes;
        r.max_portfolio_risk_pct = risk.max_portfolio_risk_pct;
        r.max_position_pct = risk.max_position_pct;
        r.min_balance = risk.min_balance;
        r.max_positions = risk.max_positions;
        r.max_price_deviation_pct = risk.max_price_deviation_pct;
        r.stale_data_secs = risk.stale_data_secs;
        r.close_on_shutdown = risk.close_on_shutdown;
        self.sizing.base_risk_pct = sizing.base_risk_pct;
        self.sizing.streak_multipliers.clear();
        self.sizing
            .streak_multipliers
            .extend_from_slice(&sizing.streak_multipliers);
    }

    /// Checks an entry and sizes it. Every rejection is counted.
    ///
    /// # Errors
    /// The first failing rule's [`RejectReason`], in this order: halted,
    /// stale data, price deviation, cooldown, loss-streak lock, max
    /// positions, min balance, sizing (position size, min qty), portfolio risk.
    pub fn check_entry(
        &mut self,
        req: &EntryRequest,
        rules: &InstrumentRules,
    ) -> Result<Sized, RejectReason> {
        let result = self.evaluate(req, rules);
        if let Err(reason) = result {
            self.rejections[reason.index()] += 1;
        }
        result
    }

    fn evaluate(&self, req: &EntryRequest, rules: &InstrumentRules) -> Result<Sized, RejectReason> {
        let r = &self.risk;
        if self.halted.is_some() {
            return Err(RejectReason::Halted);
        }
        let stale_ns = i64::try_from(r.stale_data_secs)
            .unwrap_or(i64::MAX / NS_PER_SEC)
            .saturating_mul(NS_PER_SEC);
        match req.last_data_ts {
            Some(ts) if req.now.0.saturating_sub(ts.0) <= stale_ns => {}
            _ => return Err(RejectReason::StaleData),
        }
        let last = req.last_price.map_or(0.0, Price::to_f64);
        let price = req.price.to_f64();
        if last <= 0.0 || (price - last).abs() / last * 100.0 > r.max_price_deviation_pct {
            return Err(RejectReason::PriceDeviation);
        }
        if self.cooldown_until.is_some_and(|t| req.now < t) {
            return Err(RejectReason::Cooldown);
        }
        if self.lock_until.is_some_and(|t| req.now < t) {
            return Err(RejectReason::LossStreakLock);
        }
        if req.open_positions >= r.max_positions {
            return Err(RejectReason::MaxPositions);
        }
        if req.available < r.min_balance {
            return Err(RejectReason::MinBalance);
        }
        let mult = streak_multiplier(&self.sizing.streak_multipliers, self.consecutive_wins);
        let sized = size_entry(
            req.equity,
            self.sizing.base_risk_pct,
            mult,
            req.stop_distance,
            req.price,
            req.leverage,
            r.max_position_pct,
            rules,
        )?;
        let side = req.side;
        let stop = match side {
            crate::types::Side::Buy => price - req.stop_distance,
            crate::types::Side::Sell => price + req.stop_distance,
        };
        if let Some(lp) = req
            .liquidation
            .price(side, sized.qty.to_f64(), price, req.available)
        {
            if liquidation::LiquidationRule::stop_beyond(side, stop, lp) {
                return Err(RejectReason::StopBeyondLiquidation);
            }
        }
        let new_risk = sized.qty.to_f64() * req.stop_distance;
        if req.open_risk + new_risk > r.max_portfolio_risk_pct / 100.0 * req.equity {
            return Err(RejectReason::PortfolioRisk);
        }
        Ok(sized)
    }

    /// Records a closed trade's result: a loss starts the cooldown, extends
    /// the loss streak (locking entries when it reaches the limit, then
    /// resetting the count) and resets the win streak; a win extends the win
    /// streak and resets the loss streak.
    pub fn on_trade_closed(&mut self, pnl: Money, now: TimestampNs) {
        if pnl.is_positive() {
            self.consecutive_wins = self.consecutive_wins.saturating_add(1);
            self.consecutive_losses = 0;
            return;
        }
        self.consecutive_wins = 0;
        self.consecutive_losses += 1;
        self.cooldown_until = Some(now.add_ns(minutes_ns(self.risk.cooldown_minutes)));
        if self.consecutive_losses >= self.risk.max_consecutive_losses {
            self.lock_until = Some(now.add_ns(minutes_ns(self.risk.loss_streak_lock_minutes)));
            self.consecutive_losses = 0;
        }
    }

    /// Folds in a mark-to-market equity value: raises the peak, and halts
    /// (returning true, once) when the drawdown from the peak reaches
    /// `max_drawdown_pct`.
    pub fn on_equity(&mut self, equity: f64) -> bool {
        if equity > self.peak_equity {
            self.peak_equity = equity;
        }
        if self.halted.is_some() || self.peak_equity <= 0.0 {
            return false;
        }
        let dd_pct = (self.peak_equity - equity) / self.peak_equity * 100.0;
        if dd_pct >= self.risk.max_drawdown_pct {
            self.halted = Some(HaltReason::KillSwitch);
            return true;
        }
        false
    }

    /// Enters HALTED for `reason`; returns false when already halted.
    pub fn halt(&mut self, reason: HaltReason) -> bool {
        if self.halted.is_some() {
            return false;
        }
        self.halted = Some(reason);
        true
    }

    /// Leaves HALTED (a person's reset); the equity peak restarts at
    /// `equity` so the kill switch measures from here. With `clear_locks`
    /// the cooldown, the loss-streak lock and both streaks are cleared too.
    pub fn resume(&mut self, equity: f64, clear_locks: bool) {
        self.halted = None;
        self.peak_equity = equity;
        if clear_locks {
            self.cooldown_until = None;
            self.lock_until = None;
            self.consecutive_losses = 0;
            self.consecutive_wins = 0;
        }
    }

    /// Returns why the engine is halted, if it is.
    #[must_use]
    pub fn halted(&self) -> Option<HaltReason> {
        self.halted
    }

    /// Returns true when entries are locked at `now` by cooldown or loss streak.
    #[must_use]
    pub fn is_locked(&self, now: TimestampNs) -> bool {
        self.cooldown_until.is_some_and(|t| now < t) || self.lock_until.is_some_and(|t| now < t)
    }

    /// Returns the end of the cooldown after a losing trade, if one was set
    /// (it may lie in the past).
    #[must_use]
    pub fn cooldown_until(&self) -> Option<TimestampNs> {
        self.cooldown_until
    }

    /// Returns the end of the loss-streak lock, if one was set (it may lie
    /// in the past).
    #[must_use]
    pub fn lock_until(&self) -> Option<TimestampNs> {
        self.lock_until
    }

    /// Returns the equity peak the kill switch measures from.
    #[must_use]
    pub fn peak_equity(&self) -> f64 {
        self.peak_equity
    }

    /// Returns the current winning streak.
    #[must_use]
    pub fn consecutive_wins(&self) -> u32 {
        self.consecutive_wins
    }

    /// Returns how many entries were rejected for `reason`.
    #[must_use]
    pub fn rejections(&self, reason: RejectReason) -> u64 {
        self.rejections[reason.index()]
    }
}

fn minutes_ns(minutes: u64) -> i64 {
    i64::try_from(minutes)
        .unwrap_or(i64::MAX / NS_PER_MIN)
        .saturating_mul(NS_PER_MIN)
}

crate::checkpoint::state_enum!(HaltReason {
    KillSwitch,
    StopFile,
    Command
});

/// The state a checkpoint keeps: halt, equity peak, cooldown and lock ends,
/// streaks and rejection counts. The limits and sizing are configuration
/// (the restored core is built from the same configuration and reloads).
impl crate::checkpoint::Restore for RiskManager {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        w.put(&(self.halted, self.peak_equity));
        w.put(&(self.cooldown_until, self.lock_until));
        w.put(&(self.consecutive_losses, self.consecutive_wins));
        w.put(&self.rejections);
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        (self.halted, self.peak_equity) = r.take()?;
        (self.cooldown_until, self.lock_until) = r.take()?;
        (self.consecutive_losses, self.consecutive_wins) = r.take()?;
        self.rejections = r.take()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
