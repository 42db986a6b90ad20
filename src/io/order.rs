//! The fixed-size, `Copy` messages between the hot thread and the I/O thread
//! for trading: [`OrderRequest`] (an order intent ready to send),
//! [`IoCommand`] (place / cancel / cancel-all), and [`OrderResult`] (the ack
//! or reject that comes back), plus their small enums.
//!
//! Consumes nothing; produces plain values that fit an SPSC queue slot. Never
//! allocates: the client order id is a fixed 40-byte array.

use core::fmt;

use crate::io::error::{ExchangeCode, OrderInvalid};
use crate::types::{Price, Qty, Side, SymbolId};

/// Longest client order id BingX accepts (§4.6).
pub const CLIENT_ORDER_ID_MAX: usize = 40;

/// A client order id: 1–40 characters of `[a-z0-9._-]`, held inline.
///
/// Lower case only because the server lower-cases ids (§4.6); an id we
/// generate must equal the one we later look up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOrderId {
    bytes: [u8; CLIENT_ORDER_ID_MAX],
    len: u8,
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
}

impl ClientOrderId {
    /// The empty id (no client order id).
    pub const EMPTY: Self = Self {
        bytes: [0; CLIENT_ORDER_ID_MAX],
        len: 0,
    };

    /// Returns the id for `text`, or `None` when it is empty, longer than 40
    /// or has characters outside `[a-z0-9._-]`.
    #[must_use]
    pub fn try_new(text: &str) -> Option<Self> {
        let src = text.as_bytes();
        if src.is_empty() || src.len() > CLIENT_ORDER_ID_MAX || !src.iter().all(|&b| is_id_byte(b))
        {
            return None;
        }
        let mut bytes = [0u8; CLIENT_ORDER_ID_MAX];
        bytes[..src.len()].copy_from_slice(src);
        Some(Self {
            bytes,
            len: src.len() as u8,
        })
    }

    /// Returns `prefix` followed by the decimal `sequence` (e.g. `te-42`),
    /// without allocating; `None` when the prefix is invalid or the result too long.
    #[must_use]
    pub fn from_sequence(prefix: &str, sequence: u64) -> Option<Self> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = sequence;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let p = prefix.as_bytes();
        let total = p.len() + (digits.len() - i);
        if total > CLIENT_ORDER_ID_MAX || !p.iter().all(|&b| is_id_byte(b)) {
            return None;
        }
        let mut bytes = [0u8; CLIENT_ORDER_ID_MAX];
        bytes[..p.len()].copy_from_slice(p);
        bytes[p.len()..total].copy_from_slice(&digits[i..]);
        Some(Self {
            bytes,
            len: total as u8,
        })
    }

    /// Returns the id text (empty for [`ClientOrderId::EMPTY`]).
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Returns true for [`ClientOrderId::EMPTY`].
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({:?})", self.as_str())
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Position side of an order: hedge mode uses `Long`/`Short`, one-way mode `Both`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionSide {
    /// Hedge-mode long leg.
    Long,
    /// Hedge-mode short leg.
    Short,
    /// One-way mode.
    Both,
}

impl PositionSide {
    /// Returns the exchange spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Long => "LONG",
            Self::Short => "SHORT",
            Self::Both => "BOTH",
        }
    }

    /// Parses the exchange spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "LONG" => Some(Self::Long),
            "SHORT" => Some(Self::Short),
            "BOTH" => Some(Self::Both),
            _ => None,
        }
    }
}

/// Order type the engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Market order.
    Market,
    /// Limit order (needs a price).
    Limit,
    /// Stop-market (needs a stop price).
    StopMarket,
    /// Take-profit-market (needs a stop price).
    TakeProfitMarket,
}

impl OrderKind {
    /// Returns the exchange spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Market => "MARKET",
            Self::Limit => "LIMIT",
            Self::StopMarket => "STOP_MARKET",
            Self::TakeProfitMarket => "TAKE_PROFIT_MARKET",
        }
    }

    /// Returns true for the trigger types that carry a stop price.
    #[must_use]
    pub const fn is_trigger(self) -> bool {
        matches!(self, Self::StopMarket | Self::TakeProfitMarket)
    }
}

/// Time in force of a limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Post only (maker only).
    PostOnly,
}

impl TimeInForce {
    /// Returns the exchange spelling (note `PostOnly`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::PostOnly => "PostOnly",
        }
    }
}

/// Order status as reported by REST (§4.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Accepted, not yet working (also untriggered trigger orders).
    New,
    /// Resting on the book.
    Pending,
    /// Partly filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (`CANCELLED` in REST, `CANCELED` on the stream).
    Cancelled,
    /// Failed.
    Failed,
    /// Trigger order working.
    Working,
    /// Absent or not a documented status (e.g. the short place-order ack).
    Unknown,
}

impl OrderStatus {
    /// Parses a REST or stream status; unknown text gives [`OrderStatus::Unknown`].
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "NEW" => Self::New,
            "PENDING" => Self::Pending,
            "PARTIALLY_FILLED" => Self::PartiallyFilled,
            "FILLED" => Self::Filled,
            "CANCELLED" | "CANCELED" => Self::Cancelled,
            "FAILED" => Self::Failed,
            "WORKING" => Self::Working,
            _ => Self::Unknown,
        }
    }

    /// Returns true when the order can no longer fill.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Cancelled | Self::Failed)
    }
}

/// An order intent ready to send: fixed size, `Copy`, no heap.
///
/// `price` is used by LIMIT only and `stop_price` by the trigger types; both
/// are written with the instrument's tick decimals, `qty` with its step
/// decimals. `reduce_only` is sent only in one-way mode (`Both`); in hedge
/// mode closing is expressed by side + position side (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    /// Instrument (index into the client's symbol table).
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Position side.
    pub position_side: PositionSide,
    /// Order type.
    pub kind: OrderKind,
    /// Quantity in base units, on the step grid.
    pub qty: Qty,
    /// Limit price (LIMIT only).
    pub price: Price,
    /// Trigger price (STOP_MARKET / TAKE_PROFIT_MARKET only).
    pub stop_price: Price,
    /// Reduce-only flag (one-way mode only).
    pub reduce_only: bool,
    /// Time in force (LIMIT only); `None` leaves the exchange default.
    pub time_in_force: Option<TimeInForce>,
    /// Client order id; required, it is what makes resends safe.
    pub client_order_id: ClientOrderId,
}

impl OrderRequest {
    /// Returns why the request cannot be sent, if it cannot.
    #[must_use]
    pub fn validate(&self) -> Option<OrderInvalid> {
        if self.client_order_id.is_empty() {
            return Some(OrderInvalid::MissingClientOrderId);
        }
        if !self.qty.is_positive() {
            return Some(OrderInvalid::NonPositiveQty);
        }
        if self.kind == OrderKind::Limit && !self.price.is_positive() {
            return Some(OrderInvalid::MissingPrice);
        }
        if self.kind.is_trigger() && !self.stop_price.is_positive() {
            return Some(OrderInvalid::MissingStopPrice);
        }
        None
    }
}

/// A reference to an existing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderRef {
    /// The exchange's order id.
    OrderId(u64),
    /// Our client order id.
    Client(ClientOrderId),
}

/// A trading command from the hot thread to the I/O thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoCommand {
    /// Place an order.
    Place(OrderRequest),
    /// Cancel one order.
    Cancel {
        /// Instrument.
        symbol: SymbolId,
        /// Which order.
        order: OrderRef,
    },
    /// Cancel every open order of a symbol.
    CancelAll {
        /// Instrument.
        symbol: SymbolId,
    },
    /// Look one order up (status, filled quantity, average price): how a
    /// fill or cancel the user stream missed is found. The I/O thread
    /// reports what it finds as a user-stream order update.
    Query {
        /// Instrument.
        symbol: SymbolId,
        /// Which order.
        order: OrderRef,
    },
    /// Read positions and open orders now and report them (a
    /// reconciliation pass, e.g. before a shutdown is declared clean).
    Sync,
}

impl IoCommand {
    /// Returns true for commands that protect or reduce a position (stops,
    /// take-profits, reduce-only and hedge-mode closing orders), cancels,
    /// lookups and reconciliation passes: the I/O thread runs them ahead of
    /// entries, so a burst of rate-limit replies never delays a stop behind
    /// an entry. Cancels are protective too: the stop router cancels an old
    /// stop only once its replacement is acknowledged, so a cancel left
    /// behind later placements would let stale stops pile up on the book.
    #[must_use]
    pub fn is_protective(&self) -> bool {
        match self {
            Self::Place(r) => {
                let closes_hedge_leg = matches!(
                    (r.side, r.position_side),
                    (Side::Sell, PositionSide::Long) | (Side::Buy, PositionSide::Short)
                );
                r.reduce_only
                    || closes_hedge_leg
                    || matches!(r.kind, OrderKind::StopMarket | OrderKind::TakeProfitMarket)
            }
            Self::Query { .. } | Self::Sync | Self::Cancel { .. } | Self::CancelAll { .. } => true,
        }
    }
}

/// The exchange's acknowledgement of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderAck {
    /// Instrument.
    pub symbol: SymbolId,
    /// Our client order id (empty when the exchange echoed none).
    pub client_order_id: ClientOrderId,
    /// The exchange's order id.
    pub order_id: u64,
    /// Status at the time of the ack.
    pub status: OrderStatus,
    /// True when the order was found by lookup after an ambiguous failure
    /// rather than acknowledged by the send itself.
    pub recovered: bool,
}

/// Outcome of one [`IoCommand`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOutcome {
    /// Placed (or found after an ambiguous failure) / cancelled.
    Accepted(OrderAck),
    /// All matching orders were cancelled (cancel-all); the count of successes.
    CancelledAll {
        /// Orders cancelled.
        cancelled: u32,
        /// Orders the exchange failed to cancel.
        failed: u32,
    },
    /// The exchange refused it with a business code.
    Rejected {
        /// Raw code.
        code: i64,
        /// Documented meaning.
        kind: ExchangeCode,
    },
    /// Refused locally before sending.
    Invalid(OrderInvalid),
    /// Not executed: transport or HTTP failure after all retries.
    Failed,
    /// May or may not have been executed; reconcile from the user stream.
    Unknown,
}

/// Result of one [`IoCommand`], sent back to the hot thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderResult {
    /// Instrument.
    pub symbol: SymbolId,
    /// Client order id of the command (empty for id-only cancels and cancel-all).
    pub client_order_id: ClientOrderId,
    /// What happened.
    pub outcome: OrderOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_order_id_accepts_lower_case_and_refuses_others() {
        assert_eq!(
            ClientOrderId::try_new("mm-000001").unwrap().as_str(),
            "mm-000001"
        );
        assert!(ClientOrderId::try_new("MM-1").is_none());
        assert!(ClientOrderId::try_new("").is_none());
        assert!(ClientOrderId::try_new("a b").is_none());
        assert!(ClientOrderId::try_new(&"a".repeat(40)).is_some());
        assert!(ClientOrderId::try_new(&"a".repeat(41)).is_none());
    }

    #[test]
    fn sequence_ids_are_built_inline() {
        assert_eq!(
            ClientOrderId::from_sequence("te-", 0).unwrap().as_str(),
            "te-0"
        );
        assert_eq!(
            ClientOrderId::from_sequence("te-", u64::MAX)
                .unwrap()
                .as_str(),
            "te-18446744073709551615"
        );
        assert!(ClientOrderId::from_sequence("BAD", 1).is_none());
        assert!(ClientOrderId::from_sequence(&"x".repeat(30), u64::MAX).is_none());
    }

    #[test]
    fn messages_are_small_copy_values() {
        fn is_copy<T: Copy>() {}
        is_copy::<OrderRequest>();
        is_copy::<IoCommand>();
        is_copy::<OrderResult>();
        assert!(core::mem::size_of::<OrderRequest>() <= 96);
        assert!(core::mem::size_of::<OrderResult>() <= 128);
    }

    #[test]
    fn validation_catches_missing_fields() {
        let base = OrderRequest {
            symbol: SymbolId(0),
            side: Side::Buy,
            position_side: PositionSide::Long,
            kind: OrderKind::Limit,
            qty: Qty::from_f64(1.0).unwrap(),
            price: Price::from_f64(10.0).unwrap(),
            stop_price: Price::ZERO,
            reduce_only: false,
            time_in_force: Some(TimeInForce::Gtc),
            client_order_id: ClientOrderId::try_new("a1").unwrap(),
        };
        assert_eq!(base.validate(), None);
        let r = OrderRequest {
            price: Price::ZERO,
            ..base
        };
        assert_eq!(r.validate(), Some(OrderInvalid::MissingPrice));
        let r = OrderRequest {
            kind: OrderKind::StopMarket,
            ..base
        };
        assert_eq!(r.validate(), Some(OrderInvalid::MissingStopPrice));
        let r = OrderRequest {
            qty: Qty::ZERO,
            ..base
        };
        assert_eq!(r.validate(), Some(OrderInvalid::NonPositiveQty));
        let r = OrderRequest {
            client_order_id: ClientOrderId::EMPTY,
            ..base
        };
        assert_eq!(r.validate(), Some(OrderInvalid::MissingClientOrderId));
    }

    #[test]
    fn statuses_parse_both_spellings_of_cancelled() {
        assert_eq!(OrderStatus::parse("CANCELLED"), OrderStatus::Cancelled);
        assert_eq!(OrderStatus::parse("CANCELED"), OrderStatus::Cancelled);
        assert_eq!(OrderStatus::parse("PENDING"), OrderStatus::Pending);
        assert_eq!(OrderStatus::parse("??"), OrderStatus::Unknown);
        assert!(OrderStatus::Filled.is_final());
        assert!(!OrderStatus::New.is_final());
    }
}
