//! Order vocabulary shared by the engine core, the simulated exchange and
//! (next) the live I/O thread: ids, intents, fills and exit reasons.
//!
//! Consumes nothing; produces small Copy types. Never allocates.

use crate::money::Money;
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

/// Engine-assigned order id (the client order id on the exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OrderId(pub u64);

/// Engine-assigned position id (one per entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PositionId(pub u64);

/// How an order executes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderKind {
    /// Market order.
    Market,
    /// Stop-market: becomes a market order when the price crosses `trigger`
    /// against the position (a protective stop).
    StopMarket {
        /// Trigger price.
        trigger: Price,
    },
    /// Take-profit-market: becomes a market order when the price crosses
    /// `trigger` in the position's favour.
    TakeProfitMarket {
        /// Trigger price.
        trigger: Price,
    },
}

/// Why an order exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderPurpose {
    /// Opens the position.
    Entry,
    /// The protective stop (initial, break-even or trailing).
    Stop,
    /// First partial exit.
    Partial1,
    /// Second partial exit.
    Partial2,
    /// The final target.
    Target,
    /// Closes what is left for a reason (shutdown, emergency, manual).
    Close(ExitReason),
}

/// An order the engine wants on the exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderIntent {
    /// Engine order id.
    pub id: OrderId,
    /// Position it belongs to.
    pub position: PositionId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Quantity on the step grid.
    pub qty: Qty,
    /// Market, stop or take-profit.
    pub kind: OrderKind,
    /// Only reduces a position (every exit).
    pub reduce_only: bool,
    /// Why it exists.
    pub purpose: OrderPurpose,
    /// Event time it was decided at.
    pub ts: TimestampNs,
}

/// An execution reported by the exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// Order filled.
    pub order: OrderId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Quantity of this execution.
    pub qty: Qty,
    /// Execution price.
    pub price: Price,
    /// Fee charged, quote currency (positive is a cost).
    pub fee: Money,
    /// Cost of slippage versus the reference price, quote currency.
    pub slippage: Money,
    /// Exchange time.
    pub ts: TimestampNs,
}

/// Why (part of) a position was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExitReason {
    /// The initial or break-even stop.
    Stop,
    /// A stop moved by trailing.
    TrailingStop,
    /// The final target.
    Target,
    /// A partial exit (partial 1 or 2).
    Partial,
    /// Closed on engine shutdown (end of a backtest).
    Shutdown,
    /// Closed by the kill switch or the STOP file.
    Emergency,
    /// Closed by a person's flatten command.
    Manual,
    /// Found closed on the exchange by reconciliation, with no fill of an
    /// order of the engine to show for it (booked at the close's fill
    /// price when known, else at the last price).
    Reconciled,
    /// The mark reached the position's liquidation price (backtest and
    /// paper close it there, as the exchange would).
    Liquidation,
}

impl ExitReason {
    /// Every reason, in report order.
    pub const ALL: [Self; 9] = [
        Self::Stop,
        Self::TrailingStop,
        Self::Target,
        Self::Partial,
        Self::Shutdown,
        Self::Emergency,
        Self::Manual,
        Self::Reconciled,
        Self::Liquidation,
    ];

    /// Returns the snake_case name used in reports and the journal.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::TrailingStop => "trailing_stop",
            Self::Target => "target",
            Self::Partial => "partial",
            Self::Shutdown => "shutdown",
            Self::Emergency => "emergency",
            Self::Manual => "manual",
            Self::Reconciled => "reconciled",
            Self::Liquidation => "liquidation",
        }
    }
}

/// The fills of one order the journal already fed to the core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Booked {
    /// Quantity booked.
    pub qty: Qty,
    /// Quantity × price booked, USDT.
    pub notional: Money,
    /// Fees booked.
    pub fee: Money,
}

impl Booked {
    /// Adds a fill of `qty` at `price` with `fee`.
    pub fn add(&mut self, qty: Qty, price: Price, fee: Money) {
        self.qty = Qty(self.qty.0.saturating_add(qty.0));
        self.notional = Money::from_f64(self.notional.to_f64() + qty.to_f64() * price.to_f64());
        self.fee = Money::from_f64(self.fee.to_f64() + fee.to_f64());
    }
}
crate::checkpoint::value_newtype!(OrderId(u64), PositionId(u64));
crate::checkpoint::state_enum!(ExitReason {
    Stop,
    TrailingStop,
    Target,
    Partial,
    Shutdown,
    Emergency,
    Manual,
    Reconciled
});
