//! Start-up reconciliation of the core (rebuilt from the journal) with the
//! exchange: positions, open orders and the outcome of every order the core
//! sent whose result was not journaled.
//!
//! Consumes a [`CoreView`] (plain positions and working orders, built by the
//! caller from the rebuilt core and the journal), a [`ReconcileConfig`] and
//! a [`RestClient`] whose symbol table holds `market.symbols`. Produces
//! [`Correction`]s, in the order they were applied, for the caller to
//! journal and to feed to the core ([`Correction::core_events`]).
//!
//! Guarantees, in this order of priority:
//! - protective stops first: before any order is looked up, every position
//!   of the core is checked against the open orders; one the exchange holds
//!   without its stop gets it at the stored level (closed at market instead
//!   when the last price is already through it, booked at the close's fill
//!   price and time); one the exchange no longer holds has its stop looked
//!   up, so the close is booked at that stop's fill, not at the restart;
//! - each correction is handed to the caller's sink the moment it is
//!   applied ([`reconcile_with`]), so a kill mid-way loses nothing done;
//! - never places an entry: an entry whose intent was journaled but whose
//!   result was not is looked up by client order id and adopted, reported
//!   filled, or reported not placed — never resent;
//! - never leaves a position the core knows without a protective stop on
//!   the exchange: a missing stop is placed (with a fresh client order id)
//!   before anything is cancelled, and a stop the exchange refuses
//!   (the market already passed it) is replaced by a reduce-only market
//!   close;
//! - cancels only orders carrying our client order id prefix that the core
//!   does not know; never touches other orders;
//! - stops at the first failed request, returning what it already did.

mod apply;

pub use apply::{reconcile, reconcile_with};

use core::fmt;

use crate::core::{Event, ExchangeClose};
use crate::io::error::{AccountError, MarketDataError, OrderError};
use crate::io::order::{ClientOrderId, OrderKind};
use crate::journal_schema::{self, CorrectionKind};
use crate::money::Money;
use crate::orders::{self, Booked, Fill, OrderId, OrderIntent, OrderPurpose};
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

/// What an order the core sent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderRole {
    /// Opens a position.
    Entry,
    /// The protective stop.
    Stop,
    /// Any other reducing order (partials, target, closes).
    Exit,
}

impl OrderRole {
    /// Returns the role of an order with `purpose`.
    #[must_use]
    pub const fn of(purpose: OrderPurpose) -> Self {
        match purpose {
            OrderPurpose::Entry => Self::Entry,
            OrderPurpose::Stop => Self::Stop,
            _ => Self::Exit,
        }
    }
}

/// An order the core considers working (sent, not known to be final).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreOrder {
    /// Engine order id.
    pub order: OrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// What it is for.
    pub role: OrderRole,
    /// Buy or sell.
    pub side: Side,
    /// Order type as sent.
    pub kind: OrderKind,
    /// Quantity asked for.
    pub qty: Qty,
    /// Trigger price of stop / take-profit orders, else zero.
    pub stop_price: Price,
    /// The client order id it was sent with.
    pub client_order_id: ClientOrderId,
    /// The exchange's order id once acknowledged (journaled), else `None`.
    pub exchange_order_id: Option<u64>,
    /// True when the core asked to cancel it and the result was not seen.
    pub cancel_requested: bool,
    /// What of it the journal already booked (fills fed to the core): a
    /// lookup reports only what the exchange filled beyond this.
    pub booked: Booked,
}

impl CoreOrder {
    /// Returns the view of an intent the core produced, sent with
    /// `client_order_id`, not yet acknowledged.
    #[must_use]
    pub fn from_intent(intent: &OrderIntent, client_order_id: ClientOrderId) -> Self {
        let (kind, stop_price) = match intent.kind {
            orders::OrderKind::Market => (OrderKind::Market, Price::ZERO),
            orders::OrderKind::StopMarket { trigger } => (OrderKind::StopMarket, trigger),
            orders::OrderKind::TakeProfitMarket { trigger } => {
                (OrderKind::TakeProfitMarket, trigger)
            }
        };
        Self {
            order: intent.id,
            symbol: intent.symbol,
            role: OrderRole::of(intent.purpose),
            side: intent.side,
            kind,
            qty: intent.qty,
            stop_price,
            client_order_id,
            exchange_order_id: None,
            cancel_requested: false,
            booked: Booked::default(),
        }
    }
}

/// A position as the core sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorePosition {
    /// Instrument.
    pub symbol: SymbolId,
    /// Entry side (`Buy` = long).
    pub side: Side,
    /// Quantity still open (zero while the entry is in flight).
    pub open_qty: Qty,
    /// The stop price the core wants on the exchange.
    pub stop: Price,
    /// The core's current protective stop order, if one was sent.
    pub stop_order: Option<OrderId>,
}

impl CorePosition {
    /// Returns the view of one of the core's positions.
    #[must_use]
    pub fn of(p: &crate::positions::Position) -> Self {
        Self {
            symbol: p.symbol,
            side: p.side,
            open_qty: p.open_qty,
            stop: p.stop,
            stop_order: p.stop_order,
        }
    }
}

/// The core's state reconciliation compares with the exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreView {
    /// Positions (at most one per symbol).
    pub positions: Vec<CorePosition>,
    /// Working orders.
    pub orders: Vec<CoreOrder>,
    /// Exchange order ids of stops earlier reconciliations placed (newest
    /// last) since the position of their symbol opened: a close of the
    /// position on the exchange with no order of the core to book it on is
    /// looked up among them, to book it at its real fill.
    pub recovery_stops: Vec<(SymbolId, u64)>,
    /// Starts that journaled sending recovery orders for an open position
    /// (symbol, session number, the core's stop they stood for), oldest
    /// first: the ids those starts gave them are looked up when the
    /// position is gone (see [`Correction::RecoverySending`]).
    pub recovery_sends: Vec<(SymbolId, u64, Option<OrderId>)>,
}

/// What to do with an exchange position the core does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownPositionPolicy {
    /// Close it with a reduce-only market order.
    Flatten,
    /// Leave it (and any stop protecting it) alone; report it.
    Leave,
    /// Book it as the core's own position (entry at the exchange's entry
    /// price) and protect it with the core's stop.
    Adopt,
}

/// Settings of one reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileConfig {
    /// Prefix of every client order id the engine generates (`te-`):
    /// open orders with it that the core does not know are cancelled.
    pub client_prefix: String,
    /// Prefix of the orders this reconciliation places; must start with
    /// `client_prefix` and be unique per start (e.g. `te-r7-` for the 7th
    /// session), because the exchange refuses a repeated client order id.
    pub recovery_prefix: String,
    /// What to do with positions the core does not know.
    pub unknown_position: UnknownPositionPolicy,
}

/// One thing reconciliation found or did, to journal and to feed to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Written before a start-up reconciliation sends its first recovery
    /// order (a stop or a market close) for `symbol`'s position: a start
    /// killed before it journals what it placed leaves this, so any later
    /// start looks the orders up by the ids this start gave them.
    RecoverySending {
        /// Instrument.
        symbol: SymbolId,
        /// The core's stop order the recovery orders stand for.
        replaces: Option<OrderId>,
    },
    /// An order the core sent is working on the exchange; the core had no ack.
    Adopted {
        /// Engine order id.
        order: OrderId,
        /// Instrument.
        symbol: SymbolId,
        /// Exchange order id.
        exchange_order_id: u64,
    },
    /// An order the core sent was (partly) filled while the engine was down.
    Filled {
        /// Engine order id.
        order: OrderId,
        /// Instrument.
        symbol: SymbolId,
        /// Exchange order id.
        exchange_order_id: u64,
        /// Executed quantity.
        qty: Qty,
        /// Average execution price.
        price: Price,
        /// Commission charged.
        fee: Money,
        /// True when the core had not seen the ack either.
        unacked: bool,
        /// The exchange's time of the order's last fill, when it reported
        /// one: the fill is booked then, not at the restart.
        at: Option<TimestampNs>,
    },
    /// An order the core sent is no longer working (cancelled or expired on
    /// the exchange, e.g. by the dead-man switch), or a cancel the core
    /// requested completed.
    Cancelled {
        /// Engine order id.
        order: OrderId,
        /// Instrument.
        symbol: SymbolId,
    },
    /// An order whose intent was journaled was never created (looked up by
    /// client order id); it was not resent.
    NotPlaced {
        /// Engine order id.
        order: OrderId,
        /// Instrument.
        symbol: SymbolId,
    },
    /// A protective stop was placed for a position that had none on the
    /// exchange. `replaces` is the core's stop order it stands for (map
    /// the new client order id to it), `None` when the core had none.
    StopPlaced {
        /// The core's stop order this one stands for.
        replaces: Option<OrderId>,
        /// Instrument.
        symbol: SymbolId,
        /// Order side (opposite to the position).
        side: Side,
        /// Quantity (the exchange's position quantity).
        qty: Qty,
        /// Trigger price.
        stop_price: Price,
        /// Client order id it was sent with.
        client_order_id: ClientOrderId,
        /// Exchange order id.
        exchange_order_id: u64,
    },
    /// An open order with our prefix that the core does not know was cancelled.
    OrphanCancelled {
        /// Instrument.
        symbol: SymbolId,
        /// Exchange order id.
        exchange_order_id: u64,
        /// Its client order id (empty when the exchange kept none).
        client_order_id: ClientOrderId,
    },
    /// The core has a position the exchange does not (closed while the
    /// engine was down without a fill of the core's orders to show for it).
    PositionClosedOnExchange {
        /// Instrument.
        symbol: SymbolId,
        /// Entry side of the position.
        side: Side,
        /// Quantity the core had.
        qty: Qty,
        /// The core's stop order the close is booked on, if any.
        booked_on: Option<OrderId>,
        /// Close price: the fill of the stop that closed it when found,
        /// else the last price.
        price: Price,
        /// Fee of that fill (zero when not found).
        fee: Money,
        /// Exchange time of that fill, when found.
        at: Option<TimestampNs>,
    },
    /// The core and the exchange disagree on a position's quantity; the
    /// exchange's quantity is protected.
    PositionMismatch {
        /// Instrument.
        symbol: SymbolId,
        /// Entry side.
        side: Side,
        /// Core quantity (after the fills found).
        core_qty: Qty,
        /// Exchange quantity.
        exchange_qty: Qty,
    },
    /// A position was closed with a reduce-only market order: unknown to the
    /// core (policy `Flatten`), or its stop could not be placed.
    Flattened {
        /// Instrument.
        symbol: SymbolId,
        /// Entry side of the closed position.
        side: Side,
        /// Quantity closed.
        qty: Qty,
        /// The core's stop order the close is booked on, if the core knew
        /// the position.
        booked_on: Option<OrderId>,
        /// Client order id of the close.
        client_order_id: ClientOrderId,
        /// Exchange order id of the close.
        exchange_order_id: u64,
        /// The close's average fill price on the exchange (zero when the
        /// exchange did not report it).
        price: Price,
        /// The exchange's time of the close's fill, when reported.
        /// Fee the exchange charged for the close (zero when unknown).
        fee: Money,
        at: Option<TimestampNs>,
    },
    /// An exchange position unknown to the core was left alone.
    UnknownPositionLeft {
        /// Instrument.
        symbol: SymbolId,
        /// Side.
        side: Side,
        /// Quantity.
        qty: Qty,
    },
    /// A position on the exchange unknown to the core was adopted
    /// (`UnknownPositionPolicy::Adopt`): the core books it and places its
    /// stop and take-profits.
    PositionAdopted {
        /// Instrument.
        symbol: SymbolId,
        /// Entry side.
        side: Side,
        /// The exchange's quantity.
        qty: Qty,
        /// The exchange's average entry price.
        price: Price,
    },
}

impl Correction {
    /// Returns the events that bring the core in line with this correction,
    /// stamped `ts`, or the exchange's fill time where it reported one (at
    /// most two; unused slots are `None`). A position closed at market by
    /// reconciliation is booked on its stop order at the close's fill price. Corrections
    /// the core needs no event for (an orphan cancelled, a mismatch, an
    /// unknown position) give none. [`Correction::StopPlaced`] gives an
    /// ack of `replaces` (the core's stop is working again, under the new
    /// client order id, which the caller maps to `replaces`).
    #[must_use]
    pub fn core_events(&self, ts: TimestampNs) -> [Option<Event>; 2] {
        match *self {
            Self::Adopted { order, .. } => [Some(Event::Ack { order, ts }), None],
            Self::Filled {
                order,
                symbol,
                qty,
                price,
                fee,
                unacked,
                at,
                ..
            } => [
                unacked.then_some(Event::Ack { order, ts }),
                Some(Event::Fill(Fill {
                    order,
                    symbol,
                    qty,
                    price,
                    fee,
                    slippage: Money::ZERO,
                    ts: at.unwrap_or(ts),
                })),
            ],
            Self::Flattened {
                symbol,
                qty,
                booked_on: Some(order),
                price,
                fee,
                at,
                ..
            } if price.is_positive() => [
                Some(Event::Fill(Fill {
                    order,
                    symbol,
                    qty,
                    price,
                    fee,
                    slippage: Money::ZERO,
                    ts: at.unwrap_or(ts),
                })),
                None,
            ],
            Self::StopPlaced {
                replaces: Some(order),
                ..
            } => [Some(Event::Ack { order, ts }), None],
            Self::Cancelled { order, .. } => [Some(Event::Cancelled { order, ts }), None],
            Self::NotPlaced { order, .. } => [Some(Event::Rejected { order, ts }), None],
            Self::PositionClosedOnExchange {
                symbol,
                qty,
                booked_on: Some(order),
                price,
                fee,
                at,
                ..
            } => [
                Some(Event::Fill(Fill {
                    order,
                    symbol,
                    qty,
                    price,
                    fee,
                    slippage: Money::ZERO,
                    ts: at.unwrap_or(ts),
                })),
                None,
            ],
            // No order of the core to book the close on (its stop and
            // close are gone), or no fill price reported: the core books
            // the close itself (at its last price when `price` is zero).
            Self::Flattened {
                symbol,
                side,
                qty,
                price,
                fee,
                at,
                ..
            }
            | Self::PositionClosedOnExchange {
                symbol,
                side,
                qty,
                booked_on: None,
                price,
                fee,
                at,
            } => [
                Some(Event::ExchangeClose(ExchangeClose {
                    symbol,
                    side,
                    qty,
                    price,
                    fee,
                    ts: at.unwrap_or(ts),
                })),
                None,
            ],
            Self::PositionAdopted {
                symbol,
                side,
                qty,
                price,
            } => [
                Some(Event::AdoptPosition(crate::core::AdoptPosition {
                    symbol,
                    side,
                    qty,
                    price,
                    ts,
                })),
                None,
            ],
            _ => [None, None],
        }
    }
}

impl Correction {
    /// Returns the journal record of this correction, stamped `ts`. The
    /// record keeps kind, symbol, engine order id (0 when none), exchange
    /// order id (0 when none), a quantity and a price: for a mismatch the
    /// exchange's quantity, for a placed stop its trigger. A placed stop's
    /// client order id is `{recovery_prefix}s{replaces}` (or `p{symbol}`
    /// without one), so it is not stored.
    #[must_use]
    pub fn to_journal(&self, ts: TimestampNs) -> journal_schema::Correction {
        let none = OrderId(0);
        let (kind, symbol, order, exchange_id, qty, price) = match *self {
            Self::RecoverySending { symbol, replaces } => (
                CorrectionKind::RecoverySending,
                symbol,
                replaces.unwrap_or(none),
                0,
                Qty::ZERO,
                Price::ZERO,
            ),
            Self::Adopted {
                order,
                symbol,
                exchange_order_id,
            } => (
                CorrectionKind::AdoptedOrder,
                symbol,
                order,
                exchange_order_id,
                Qty::ZERO,
                Price::ZERO,
            ),
            Self::Filled {
                order,
                symbol,
                exchange_order_id,
                qty,
                price,
                ..
            } => (
                CorrectionKind::OrderFilled,
                symbol,
                order,
                exchange_order_id,
                qty,
                price,
            ),
            Self::Cancelled { order, symbol } => (
                CorrectionKind::OrderCancelled,
                symbol,
                order,
                0,
                Qty::ZERO,
                Price::ZERO,
            ),
            Self::NotPlaced { order, symbol } => (
                CorrectionKind::OrderNotPlaced,
                symbol,
                order,
                0,
                Qty::ZERO,
                Price::ZERO,
            ),
            Self::StopPlaced {
                replaces,
                symbol,
                qty,
                stop_price,
                exchange_order_id,
                ..
            } => (
                CorrectionKind::StopPlaced,
                symbol,
                replaces.unwrap_or(none),
                exchange_order_id,
                qty,
                stop_price,
            ),
            Self::OrphanCancelled {
                symbol,
                exchange_order_id,
                ..
            } => (
                CorrectionKind::CancelledOrphan,
                symbol,
                none,
                exchange_order_id,
                Qty::ZERO,
                Price::ZERO,
            ),
            Self::PositionClosedOnExchange {
                symbol,
                qty,
                booked_on,
                price,
                ..
            } => (
                CorrectionKind::PositionClosed,
                symbol,
                booked_on.unwrap_or(none),
                0,
                qty,
                price,
            ),
            Self::PositionMismatch {
                symbol,
                exchange_qty,
                ..
            } => (
                CorrectionKind::QuantityCorrected,
                symbol,
                none,
                0,
                exchange_qty,
                Price::ZERO,
            ),
            Self::Flattened {
                symbol,
                qty,
                booked_on,
                exchange_order_id,
                price,
                ..
            } => (
                if booked_on.is_some() {
                    CorrectionKind::Flattened
                } else {
                    CorrectionKind::UnknownPosition
                },
                symbol,
                booked_on.unwrap_or(none),
                exchange_order_id,
                qty,
                price,
            ),
            Self::UnknownPositionLeft { symbol, qty, .. } => (
                CorrectionKind::UnknownPositionLeft,
                symbol,
                none,
                0,
                qty,
                Price::ZERO,
            ),
            Self::PositionAdopted {
                symbol, qty, price, ..
            } => (CorrectionKind::AdoptedPosition, symbol, none, 0, qty, price),
        };
        journal_schema::Correction {
            kind,
            symbol,
            order,
            exchange_id,
            qty,
            price,
            ts,
        }
    }
}

/// Why reconciliation stopped.
#[derive(Debug)]
pub enum ReconcileError {
    /// `recovery_prefix` does not start with `client_prefix`, or is not a
    /// valid client order id prefix.
    BadPrefix(String),
    /// The position mode could not be read.
    PositionMode(AccountError),
    /// The positions could not be read.
    Positions(AccountError),
    /// The open orders could not be read.
    OpenOrders(OrderError),
    /// An order of the core could not be looked up; its fate is unknown.
    Lookup {
        /// Engine order id.
        order: OrderId,
        /// The failure.
        source: OrderError,
    },
    /// A stop or close could not be placed.
    Place {
        /// Instrument.
        symbol: SymbolId,
        /// The failure.
        source: OrderError,
    },
    /// An order could not be cancelled.
    Cancel {
        /// Exchange order id.
        exchange_order_id: u64,
        /// The failure.
        source: OrderError,
    },
    /// The last price could not be read.
    Price(MarketDataError),
    /// A symbol id is not in the client's symbol table.
    UnknownSymbol(SymbolId),
}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadPrefix(p) => write!(f, "recovery prefix {p:?} is unusable"),
            Self::PositionMode(e) => write!(f, "reading the position mode failed: {e}"),
            Self::Positions(e) => write!(f, "reading positions failed: {e}"),
            Self::OpenOrders(e) => write!(f, "reading open orders failed: {e}"),
            Self::Lookup { order, source } => {
                write!(f, "looking up order {} failed: {source}", order.0)
            }
            Self::Place { symbol, source } => {
                write!(
                    f,
                    "placing a protective order on symbol {} failed: {source}",
                    symbol.0
                )
            }
            Self::Cancel {
                exchange_order_id,
                source,
            } => write!(f, "cancelling order {exchange_order_id} failed: {source}"),
            Self::Price(e) => write!(f, "reading the last price failed: {e}"),
            Self::UnknownSymbol(id) => write!(f, "symbol id {} is not in the symbol table", id.0),
        }
    }
}

impl std::error::Error for ReconcileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::PositionMode(e) | Self::Positions(e) => Some(e),
            Self::OpenOrders(e)
            | Self::Lookup { source: e, .. }
            | Self::Place { source: e, .. }
            | Self::Cancel { source: e, .. } => Some(e),
            Self::Price(e) => Some(e),
            Self::BadPrefix(_) | Self::UnknownSymbol(_) => None,
        }
    }
}

/// Reconciliation stopped by `error` after applying `applied` (journal
/// those too: they happened on the exchange).
#[derive(Debug)]
pub struct ReconcileFailure {
    /// Corrections applied before the failure.
    pub applied: Vec<Correction>,
    /// What failed.
    pub error: ReconcileError,
}

impl fmt::Display for ReconcileFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reconciliation stopped after {} corrections: {}",
            self.applied.len(),
            self.error
        )
    }
}

impl std::error::Error for ReconcileFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
