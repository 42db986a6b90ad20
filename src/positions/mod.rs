//! Positions: the PENDING → OPEN → CLOSING → CLOSED lifecycle with partial
//! fills, the initial stop and target from ATR multiples, partial exits,
//! break-even and the two-stage trailing stop, and exact PnL with fees and
//! slippage.
//!
//! Consumes entry and exit fills and price extremes; produces new stop
//! levels, realized PnL legs ([`Money`]) and the [`ClosedTrade`] record.
//! Which orders to send is the engine core's business; this module only
//! says where the levels are. Never allocates, never loosens a stop.

mod levels;

pub use levels::{ExitLeg, ExitPlan};

use crate::config::ManagementConfig;
use crate::money::Money;
use crate::orders::{ExitReason, OrderId, PositionId};
use crate::strategy::StrategyId;
use crate::types::{InstrumentRules, Price, Qty, Rounding, Side, SymbolId, TimestampNs};

/// Lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionState {
    /// Entry order sent, nothing filled.
    Pending,
    /// Entry (partly) filled; partial exits keep it here.
    Open,
    /// An order closing everything left is out.
    Closing,
    /// Flat: fully exited, or the entry was rejected/cancelled unfilled.
    Closed,
}

impl PositionState {
    /// Returns the upper-case name used in the journal.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Open => "OPEN",
            Self::Closing => "CLOSING",
            Self::Closed => "CLOSED",
        }
    }
}

/// The record of a finished trade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedTrade {
    /// Position id.
    pub position: PositionId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Strategy that opened it.
    pub strategy: StrategyId,
    /// Entry side.
    pub side: Side,
    /// First entry fill time.
    pub entry_ts: TimestampNs,
    /// Last exit fill time.
    pub exit_ts: TimestampNs,
    /// Average entry price.
    pub entry_price: Price,
    /// Quantity-weighted average exit price.
    pub avg_exit_price: Price,
    /// Entry quantity.
    pub qty: Qty,
    /// All fees, entry and exits.
    pub fees: Money,
    /// Slippage cost, entry and exits (already inside the prices).
    pub slippage: Money,
    /// Realized PnL net of fees (slippage is in the fill prices).
    pub pnl: Money,
    /// Initial risk in quote: entry quantity × R.
    pub initial_risk: Money,
    /// `pnl / initial_risk`.
    pub r_multiple: f64,
    /// Hours from first entry fill to last exit fill.
    pub hours_held: f64,
    /// Reason of the last exit.
    pub exit_reason: ExitReason,
    /// Number of exit fills.
    pub exits: u32,
}

/// One position and the ids of its live orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Position id.
    pub id: PositionId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Strategy that opened it.
    pub strategy: StrategyId,
    /// Entry side.
    pub side: Side,
    /// Lifecycle state.
    pub state: PositionState,
    /// Quantity the entry order asked for.
    pub requested_qty: Qty,
    /// Entry quantity filled so far (the "original quantity" of partials).
    pub entry_qty: Qty,
    /// Quantity still open.
    pub open_qty: Qty,
    /// Average entry price (f64 of fixed-point fills).
    pub entry_price: f64,
    /// Initial stop distance, price units: 1R per unit.
    pub r: f64,
    /// Target distance, price units.
    pub target_distance: f64,
    /// Stop at the first entry fill.
    pub initial_stop: Price,
    /// Current stop; only ever tightens.
    pub stop: Price,
    /// Final target.
    pub target: Price,
    /// Best price since entry (highest for a long, lowest for a short).
    pub best: f64,
    /// True once the stop was moved by trailing.
    pub trailed: bool,
    /// True once partial 1 filled (stop at break-even).
    pub partial1_done: bool,
    /// True once partial 2 filled.
    pub partial2_done: bool,
    /// First entry fill time.
    pub entry_ts: TimestampNs,
    /// Time the entry was decided.
    pub signal_ts: TimestampNs,
    /// Fees so far.
    pub fees: Money,
    /// Slippage so far.
    pub slippage: Money,
    /// Realized PnL so far, net of fees.
    pub pnl: Money,
    /// Sum of exit quantity × price, for the average exit.
    exit_notional: f64,
    /// Exit quantity so far.
    exit_qty: f64,
    /// Exit fills so far.
    pub exits: u32,
    /// Reason of the last exit fill.
    pub last_exit: ExitReason,
    /// Time of the last exit fill.
    pub last_exit_ts: TimestampNs,
    /// Live entry order.
    pub entry_order: Option<OrderId>,
    /// Live protective stop order.
    pub stop_order: Option<OrderId>,
    /// Live partial-1, partial-2 and target orders.
    pub tp_orders: [Option<OrderId>; 3],
    /// Live close-everything order.
    pub close_order: Option<OrderId>,
}

impl Position {
    /// Returns a PENDING position for an entry of `qty` whose stop and target
    /// lie `r` and `target_distance` price units from the fill.
    #[allow(
        clippy::too_many_arguments,
        reason = "every field of a new position is named at the single call site"
    )]
    #[must_use]
    pub fn pending(
        id: PositionId,
        symbol: SymbolId,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        r: f64,
        target_distance: f64,
        entry_order: OrderId,
        ts: TimestampNs,
    ) -> Self {
        Self {
            id,
            symbol,
            strategy,
            side,
            state: PositionState::Pending,
            requested_qty: qty,
            entry_qty: Qty::ZERO,
            open_qty: Qty::ZERO,
            entry_price: 0.0,
            r,
            target_distance,
            initial_stop: Price::ZERO,
            stop: Price::ZERO,
            target: Price::ZERO,
            best: 0.0,
            trailed: false,
            partial1_done: false,
            partial2_done: false,
            entry_ts: ts,
            signal_ts: ts,
            fees: Money::ZERO,
            slippage: Money::ZERO,
            pnl: Money::ZERO,
            exit_notional: 0.0,
            exit_qty: 0.0,
            exits: 0,
            last_exit: ExitReason::Stop,
            last_exit_ts: ts,
            entry_order: Some(entry_order),
            stop_order: None,
            tp_orders: [None; 3],
            close_order: None,
        }
    }

    fn sign(&self) -> f64 {
        f64::from(self.side.sign())
    }

    /// Folds in an entry fill: averages the entry price, charges the fee
    /// (returned as the equity change, negative), sets the stop and target
    /// from the new average and moves PENDING to OPEN.
    pub fn on_entry_fill(
        &mut self,
        qty: Qty,
        price: Price,
        fee: Money,
        slippage: Money,
        ts: TimestampNs,
        rules: &InstrumentRules,
    ) -> Money {
        let old = self.entry_qty.to_f64();
        let add = qty.to_f64();
        let total = old + add;
        if total > 0.0 {
            self.entry_price = (self.entry_price * old + price.to_f64() * add) / total;
        }
        if self.state == PositionState::Pending {
            self.entry_ts = ts;
            self.best = price.to_f64();
            self.state = PositionState::Open;
        }
        // Quantities stay exactly on the step grid (see `on_exit_fill`).
        self.entry_qty = rules.snap_qty(self.entry_qty.saturating_add(qty));
        self.open_qty = rules.snap_qty(self.open_qty.saturating_add(qty));
        self.fees += fee;
        self.slippage += slippage;
        self.pnl -= fee;
        let s = self.sign();
        // A long's stop rounds up and a short's down: towards the entry, so
        // the risk never grows by rounding.
        let (stop_round, target_round) = match self.side {
            Side::Buy => (Rounding::Up, Rounding::Down),
            Side::Sell => (Rounding::Down, Rounding::Up),
        };
        let stop = price_or_zero(self.entry_price - s * self.r);
        let target = price_or_zero(self.entry_price + s * self.target_distance);
        self.initial_stop = rules.round_price_dir(stop, stop_round);
        self.stop = self.initial_stop;
        self.target = rules.round_price_dir(target, target_round);
        -fee
    }

    /// Folds in an exit fill of `reason`: returns the realized PnL of the leg
    /// net of its fee (the equity change). The position is flat when
    /// [`open_qty`](Self::open_qty) is zero afterwards.
    ///
    /// The fill and the open quantity are counted on `rules`' step grid
    /// ([`InstrumentRules::snap_qty`]): exchange fills are whole steps, and a
    /// difference of grid quantities computed in binary fixed point may sit a
    /// bit off its grid point. Snapping keeps the open quantity exactly the
    /// grid quantity the exchange holds, so the exits sent for it close it to
    /// the last step and no unclosable sub-step dust is ever left open.
    #[allow(
        clippy::too_many_arguments,
        reason = "a fill's fields plus the instrument's grid, at the single call site"
    )]
    pub fn on_exit_fill(
        &mut self,
        qty: Qty,
        price: Price,
        fee: Money,
        slippage: Money,
        reason: ExitReason,
        ts: TimestampNs,
        rules: &InstrumentRules,
    ) -> Money {
        let qty = rules.snap_qty(qty).min(self.open_qty);
        let q = qty.to_f64();
        let px = price.to_f64();
        let gross = Money::from_f64(self.sign() * (px - self.entry_price) * q);
        let leg = gross - fee;
        self.open_qty = rules.snap_qty(self.open_qty.saturating_sub(qty));
        self.fees += fee;
        self.slippage += slippage;
        self.pnl += leg;
        self.exit_notional += px * q;
        self.exit_qty += q;
        self.exits += 1;
        self.last_exit = reason;
        self.last_exit_ts = ts;
        leg
    }

    /// Returns the unrealized PnL at `mark`, before exit fees.
    #[must_use]
    pub fn unrealized(&self, mark: f64) -> f64 {
        self.sign() * (mark - self.entry_price) * self.open_qty.to_f64()
    }

    /// Returns `open_qty × |mark − stop|`, the quote amount at risk.
    #[must_use]
    pub fn open_risk(&self, mark: f64) -> f64 {
        self.open_qty.to_f64() * (mark - self.stop.to_f64()).abs()
    }

    /// Returns the exit plan (partials and target) for the filled entry quantity.
    #[must_use]
    pub fn exit_plan(&self, m: &ManagementConfig, rules: &InstrumentRules) -> ExitPlan {
        levels::plan(self, m, rules)
    }

    /// Moves the stop to break-even (the entry, plus the round-trip fees at
    /// `fee_rate` when configured). Returns the new stop when it tightened.
    pub fn breakeven(
        &mut self,
        m: &ManagementConfig,
        fee_rate: f64,
        rules: &InstrumentRules,
    ) -> Option<Price> {
        let fees = if m.breakeven_includes_fees {
            2.0 * fee_rate * self.entry_price
        } else {
            0.0
        };
        let level = self.entry_price + self.sign() * fees;
        self.tighten(level, rules).inspect(|_| self.trailed = false)
    }

    /// Folds in a new price extreme (trade price, or a candle's high for a
    /// long / low for a short) and trails: from `trail_start_r` the stop sits
    /// `trail_distance_r` behind the best price, from `trail2_start_r`
    /// `trail2_distance_r` behind. Returns the new stop when it tightened.
    pub fn trail(
        &mut self,
        extreme: f64,
        m: &ManagementConfig,
        rules: &InstrumentRules,
    ) -> Option<Price> {
        let s = self.sign();
        if s * (extreme - self.best) > 0.0 {
            self.best = extreme;
        }
        if self.r <= 0.0 {
            return None;
        }
        let gain_r = s * (self.best - self.entry_price) / self.r;
        let distance_r = if gain_r >= m.trail2_start_r {
            m.trail2_distance_r
        } else if gain_r >= m.trail_start_r {
            m.trail_distance_r
        } else {
            return None;
        };
        let level = self.best - s * distance_r * self.r;
        self.tighten(level, rules).inspect(|_| self.trailed = true)
    }

    /// Sets the stop to `level` (rounded towards the price) if that is
    /// tighter than the current stop.
    fn tighten(&mut self, level: f64, rules: &InstrumentRules) -> Option<Price> {
        let rounding = match self.side {
            Side::Buy => Rounding::Up,
            Side::Sell => Rounding::Down,
        };
        let candidate = rules.round_price_dir(price_or_zero(level), rounding);
        let tighter = match self.side {
            Side::Buy => candidate > self.stop,
            Side::Sell => candidate < self.stop,
        };
        if tighter {
            self.stop = candidate;
            Some(candidate)
        } else {
            None
        }
    }

    /// Returns the exit reason of a stop fill now: trailing once trailed.
    #[must_use]
    pub fn stop_reason(&self) -> ExitReason {
        if self.trailed {
            ExitReason::TrailingStop
        } else {
            ExitReason::Stop
        }
    }

    /// Returns the closed-trade record (meaningful once flat).
    #[must_use]
    pub fn closed_trade(&self) -> ClosedTrade {
        let qty = self.entry_qty.to_f64();
        let initial_risk = Money::from_f64(qty * self.r);
        let r_multiple = if initial_risk.0 > 0 {
            self.pnl.0 as f64 / initial_risk.0 as f64
        } else {
            0.0
        };
        let avg_exit = if self.exit_qty > 0.0 {
            self.exit_notional / self.exit_qty
        } else {
            0.0
        };
        let held_ns = self.last_exit_ts.0.saturating_sub(self.entry_ts.0);
        ClosedTrade {
            position: self.id,
            symbol: self.symbol,
            strategy: self.strategy,
            side: self.side,
            entry_ts: self.entry_ts,
            exit_ts: self.last_exit_ts,
            entry_price: price_or_zero(self.entry_price),
            avg_exit_price: price_or_zero(avg_exit),
            qty: self.entry_qty,
            fees: self.fees,
            slippage: self.slippage,
            pnl: self.pnl,
            initial_risk,
            r_multiple,
            hours_held: held_ns as f64 / 3_600e9,
            exit_reason: self.last_exit,
            exits: self.exits,
        }
    }
}

/// Converts a computed price level, mapping unrepresentable values to zero.
fn price_or_zero(v: f64) -> Price {
    Price::from_f64(v).unwrap_or(Price::ZERO)
}

crate::checkpoint::state_enum!(PositionState {
    Pending,
    Open,
    Closing,
    Closed
});
crate::checkpoint::state_struct!(Position {
    id,
    symbol,
    strategy,
    side,
    state,
    requested_qty,
    entry_qty,
    open_qty,
    entry_price,
    r,
    target_distance,
    initial_stop,
    stop,
    target,
    best,
    trailed,
    partial1_done,
    partial2_done,
    entry_ts,
    signal_ts,
    fees,
    slippage,
    pnl,
    exit_notional,
    exit_qty,
    exits,
    last_exit,
    last_exit_ts,
    entry_order,
    stop_order,
    tp_orders,
    close_order
});

#[cfg(test)]
mod tests;
