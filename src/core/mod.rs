//! The engine core: one deterministic state machine that live, paper,
//! backtest and replay all drive.
//!
//! Consumes [`Event`]s (trades, closed 1m candles, order acks, fills,
//! rejects, cancels, clock ticks, control commands) and owns the pipeline
//! candles → indicators (1m and 5m) → strategies → signals → risk →
//! positions. Produces [`Action`]s (order intents, cancels, journal-worthy
//! [`Record`]s, log events) into a preallocated queue the driver drains
//! with [`Core::next_action`] after each event.
//!
//! Must never: read a clock (time comes from events), touch the file system
//! (the STOP file arrives as [`Command::EmergencyStop`]), know which mode it
//! runs in, allocate after construction, lock or log.

mod engine;
mod exits;
mod reload;
mod slot;

pub use crate::metrics::latency::Stage;
pub use engine::{Core, CoreError, CoreStats};
pub use reload::{check_reload, CoreReloadError};

use crate::candles::CandleEvent;
use crate::funding::{FundingFee, FundingPayment, FundingSettlement};
use crate::money::Money;
use crate::orders::Fill;
use crate::orders::{ExitReason, OrderId, OrderIntent, PositionId};
use crate::positions::{ClosedTrade, PositionState};
use crate::risk::{HaltReason, RejectReason};
use crate::signals::DropReason;
use crate::strategy::{Signal, StrategyId};
use crate::types::{Candle, Price, Qty, Side, SymbolId, TimestampNs, Trade};

/// Capacity of the action queue; one event produces far fewer actions.
pub const ACTION_CAPACITY: usize = 1024;

/// A person's (or the driver's) command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Enter HALTED: no new entries.
    Halt,
    /// Leave HALTED; the kill switch measures from the current equity.
    Resume,
    /// Close every position at market (exit reason `manual`).
    Flatten,
    /// Resume and clear cooldown, loss-streak lock and streaks.
    Reset,
    /// The STOP file appeared: halt and flatten (exit reason `emergency`).
    EmergencyStop,
    /// Clean shutdown / end of a backtest: close everything (exit reason
    /// `shutdown`) and take no new entries.
    Shutdown,
}

/// Everything that can happen to the core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A market trade.
    Trade(Trade),
    /// A closed 1m candle from a klines source.
    Candle(Candle),
    /// The clock passed this time (closes candles after the grace period).
    Clock(TimestampNs),
    /// The exchange accepted an order.
    Ack {
        /// Order id.
        order: OrderId,
        /// Exchange time.
        ts: TimestampNs,
    },
    /// An execution.
    Fill(Fill),
    /// The exchange rejected an order.
    Rejected {
        /// Order id.
        order: OrderId,
        /// Exchange time.
        ts: TimestampNs,
    },
    /// An order was cancelled (by request or by the exchange).
    Cancelled {
        /// Order id.
        order: OrderId,
        /// Exchange time.
        ts: TimestampNs,
    },
    /// A control command.
    Control {
        /// What to do.
        command: Command,
        /// When.
        ts: TimestampNs,
    },
    /// The exchange closed (part of) a position with no fill of an order
    /// the core holds to show for it: reconciliation found the exchange
    /// flat (or flattened the position itself) while the core's stop and
    /// close orders were already gone. Booked as an exit with reason
    /// [`ExitReason::Reconciled`].
    ExchangeClose(ExchangeClose),
    /// Reconciliation found an exchange position the core does not know
    /// and the policy is to adopt it (`reconcile.unknown_position =
    /// "adopt"`): the core books it as a position of its own and protects
    /// and manages it (see [`AdoptPosition`]).
    AdoptPosition(AdoptPosition),
    /// A funding settlement at a rate (backtest, paper): the open position
    /// of the symbol pays or receives `qty × mark × rate`.
    Funding(FundingSettlement),
    /// A funding fee the exchange reported as settled (live): booked as
    /// reported.
    FundingFee(FundingFee),
}

impl Event {
    /// Returns the time the event happened at (a candle's close time, a
    /// trade's exchange time): the time its journal record is stamped with.
    #[must_use]
    pub fn ts(&self) -> TimestampNs {
        match *self {
            Self::Trade(t) => t.exchange_ts,
            Self::Candle(c) => c.open_time.add_ns(crate::types::NS_PER_MIN),
            Self::Fill(f) => f.ts,
            Self::ExchangeClose(c) => c.ts,
            Self::AdoptPosition(a) => a.ts,
            Self::Funding(f) => f.ts,
            Self::FundingFee(f) => f.ts,
            Self::Clock(ts)
            | Self::Ack { ts, .. }
            | Self::Rejected { ts, .. }
            | Self::Cancelled { ts, .. }
            | Self::Control { ts, .. } => ts,
        }
    }
}

/// A close of a position found on the exchange by reconciliation, not tied
/// to an order of the core (see [`Event::ExchangeClose`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExchangeClose {
    /// Instrument.
    pub symbol: SymbolId,
    /// Entry side of the position closed: a core position on the other
    /// side is left alone.
    pub side: Side,
    /// Quantity closed (the core books at most its open quantity).
    pub qty: Qty,
    /// Close price: the close's fill price when known, else the last price.
    pub price: Price,
    /// Fee charged for the close (zero when unknown).
    pub fee: Money,
    /// Exchange time of the close (or of its discovery).
    pub ts: TimestampNs,
}

/// An exchange position the core takes over (see [`Event::AdoptPosition`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdoptPosition {
    /// Instrument.
    pub symbol: SymbolId,
    /// Entry side of the position.
    pub side: Side,
    /// Open quantity on the exchange.
    pub qty: Qty,
    /// The exchange's average entry price.
    pub price: Price,
    /// When reconciliation found it.
    pub ts: TimestampNs,
}

/// Why a stop moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopMove {
    /// Break-even after partial 1.
    BreakEven,
    /// Trailing.
    Trailing,
}

/// A journal-worthy record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record {
    /// A strategy signalled.
    Signal(Signal),
    /// Aggregation dropped a signal.
    SignalDropped {
        /// The signal.
        signal: Signal,
        /// Why.
        reason: DropReason,
    },
    /// Risk rejected the winning signal.
    RiskRejected {
        /// The signal.
        signal: Signal,
        /// Why.
        reason: RejectReason,
    },
    /// A position changed state (`from` is `None` for a new position).
    Transition {
        /// Position.
        position: PositionId,
        /// Symbol.
        symbol: SymbolId,
        /// Previous state.
        from: Option<PositionState>,
        /// New state.
        to: PositionState,
        /// Event time.
        ts: TimestampNs,
    },
    /// An entry order was sized and sent.
    EntrySent {
        /// Position.
        position: PositionId,
        /// Strategy.
        strategy: StrategyId,
        /// Quantity.
        qty: Qty,
        /// True when the margin cap reduced it.
        capped: bool,
        /// Event time.
        ts: TimestampNs,
    },
    /// An exit fill.
    Exit {
        /// Position.
        position: PositionId,
        /// Why.
        reason: ExitReason,
        /// Quantity.
        qty: Qty,
        /// Price.
        price: Price,
        /// PnL of the leg net of its fee.
        pnl: Money,
        /// Event time.
        ts: TimestampNs,
    },
    /// A stop moved (always tighter).
    StopMoved {
        /// Position.
        position: PositionId,
        /// Old stop.
        from: Price,
        /// New stop.
        to: Price,
        /// Why.
        why: StopMove,
        /// Event time.
        ts: TimestampNs,
    },
    /// A trade finished.
    TradeClosed(ClosedTrade),
    /// The engine entered HALTED.
    Halted {
        /// Why.
        reason: HaltReason,
        /// Event time.
        ts: TimestampNs,
    },
    /// The engine left HALTED.
    Resumed {
        /// Event time.
        ts: TimestampNs,
    },
    /// A position paid or received funding (cash moved by `amount`).
    Funding(FundingPayment),
    /// Minutes without trades.
    Gap {
        /// Symbol.
        symbol: SymbolId,
        /// First missing minute.
        from: TimestampNs,
        /// First minute after the gap.
        to: TimestampNs,
    },
}

/// Something worth a log line (the driver logs it off the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEvent {
    /// An ack, fill, reject or cancel for an order the core does not know.
    UnknownOrder(OrderId),
    /// The protective stop of a position was rejected; it is being closed.
    StopRejected(PositionId),
    /// A candle event the core could not route (unknown symbol).
    UnknownSymbol(SymbolId),
    /// Actions were lost because the queue was full (a driver bug).
    ActionsDropped(u64),
    /// A fill of one of the core's orders whose position is already
    /// closed (e.g. a stop cancelled at the close that filled before its
    /// cancel landed): the exchange may hold a position the core does not;
    /// reconciliation with the exchange settles it.
    LateFill(OrderId),
    /// The market close of a closing position was refused or cancelled:
    /// the position is protected by its stop again and the close is sent
    /// again after a back-off (1 s, doubling to 64 s, in event time).
    CloseRefused(PositionId),
}

/// What the core asks the driver to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Send an order.
    Place(OrderIntent),
    /// Cancel an order.
    Cancel {
        /// Order id.
        order: OrderId,
        /// Symbol.
        symbol: SymbolId,
    },
    /// Journal this.
    Record(Record),
    /// Log this.
    Log(LogEvent),
}

/// Receives stage boundaries while the core handles one event, so a driver
/// can time the pipeline stages ([`Stage::CandlesIndicators`],
/// [`Stage::StrategiesRisk`]) without the core reading a clock.
///
/// The core calls [`enter`](Self::enter) whenever the work switches stage;
/// work after the call belongs to that stage until the next call or the end
/// of [`Core::on_event_probed`]. Position management on a price update
/// counts as [`Stage::StrategiesRisk`].
pub trait StageProbe {
    /// The core's work from now on belongs to `stage`.
    fn enter(&mut self, stage: Stage);
}

/// A [`StageProbe`] that ignores every boundary (what [`Core::on_event`]
/// uses); it compiles away.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl StageProbe for NoProbe {
    #[inline(always)]
    fn enter(&mut self, _stage: Stage) {}
}

/// Collects candle events of one builder call without allocating.
#[derive(Debug, Default)]
struct CandleBatch {
    events: [Option<CandleEvent>; 8],
    len: usize,
}

impl CandleBatch {
    fn push(&mut self, e: CandleEvent) {
        if let Some(slot) = self.events.get_mut(self.len) {
            *slot = Some(e);
            self.len += 1;
        }
    }
}

#[cfg(test)]
#[path = "exchange_close_tests.rs"]
mod exchange_close_tests;
#[cfg(test)]
mod fill_tests;
#[cfg(test)]
mod funding_tests;
#[cfg(test)]
mod liquidation_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod reload_tests;
#[cfg(test)]
mod tests;
