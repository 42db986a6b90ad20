//! BingX user-data stream (§6): account events parsed into fixed-size `Copy` values.
//!
//! Consumes gzip (or plain) frames of the `?listenKey=` connection; produces
//! [`UserEvent`]s — order updates (`ORDER_TRADE_UPDATE` and the 2025 `TRADE_UPDATE`,
//! handled alike), balance and position changes (one event per entry of
//! `ACCOUNT_UPDATE`), leverage/margin changes and `listenKeyExpired`. Runs on the I/O
//! thread (it may allocate while parsing); order ids are read as integers, never via `f64`.
//! Never sends a subscription (the stream takes none) and never drops an event silently:
//! undecodable messages are counted.

use core::fmt;

use serde::Deserialize;

use crate::feed::{Inflater, SymbolTable};
use crate::io::order::{ClientOrderId, OrderStatus, PositionSide};
use crate::io::wire::{i64_lenient, leverage_lenient, price_lenient, qty_lenient, u64_lenient};
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

use super::client::{MessageKind, Outbox, WsProtocol};

/// Execution type of an order event (`x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecType {
    /// Order accepted.
    New,
    /// Order cancelled.
    Canceled,
    /// ADL or liquidation.
    Calculated,
    /// Order expired.
    Expired,
    /// A fill.
    Trade,
    /// Anything else.
    Other,
}

impl ExecType {
    fn parse(text: &str) -> Self {
        match text {
            "NEW" => Self::New,
            "CANCELED" | "CANCELLED" => Self::Canceled,
            "CALCULATED" => Self::Calculated,
            "EXPIRED" => Self::Expired,
            "TRADE" => Self::Trade,
            _ => Self::Other,
        }
    }
}

/// One order event (`ORDER_TRADE_UPDATE` or `TRADE_UPDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderUpdate {
    /// Instrument.
    pub symbol: SymbolId,
    /// Event time `E`.
    pub event_time: TimestampNs,
    /// Trade time `o.T` (zero when the exchange sent 0).
    pub trade_time: TimestampNs,
    /// Exchange order id `i` (19 digits; read as an integer or digit string).
    pub order_id: u64,
    /// Client order id `c` (empty when none or not representable).
    pub client_order_id: ClientOrderId,
    /// Side `S`.
    pub side: Side,
    /// Position side `ps`, when given.
    pub position_side: Option<PositionSide>,
    /// Execution type `x`.
    pub exec: ExecType,
    /// Order status `X`.
    pub status: OrderStatus,
    /// Order quantity `q`.
    pub qty: Qty,
    /// Order price `p`.
    pub price: Price,
    /// Average fill price `ap`.
    pub avg_price: Price,
    /// Cumulative filled quantity `z`.
    pub filled_qty: Qty,
    /// Fee `n` of this event (negative = paid).
    pub fee: Price,
    /// Realised PnL `rp` of this fill.
    pub realized_pnl: Price,
    /// Trade id `td` (`TRADE_UPDATE` only; 0 otherwise).
    pub trade_id: u64,
    /// True when the event was named `TRADE_UPDATE`.
    pub trade_update: bool,
}

/// Longest asset name kept inline, in bytes.
pub const MAX_ASSET_BYTES: usize = 12;

/// An asset name kept inline (`USDT`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Asset {
    bytes: [u8; MAX_ASSET_BYTES],
    len: u8,
}

impl Asset {
    /// Returns the asset named `text`, or `None` when longer than [`MAX_ASSET_BYTES`].
    #[must_use]
    pub fn new(text: &str) -> Option<Self> {
        let src = text.as_bytes();
        if src.len() > MAX_ASSET_BYTES {
            return None;
        }
        let mut bytes = [0; MAX_ASSET_BYTES];
        bytes[..src.len()].copy_from_slice(src);
        Some(Self {
            bytes,
            len: src.len() as u8,
        })
    }

    /// Returns the name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asset({:?})", self.as_str())
    }
}

/// Reason of an `ACCOUNT_UPDATE` (`m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateReason {
    /// `ORDER`.
    Order,
    /// `FUNDING_FEE`.
    FundingFee,
    /// `DEPOSIT`.
    Deposit,
    /// `WITHDRAW`.
    Withdraw,
    /// Anything else (`INIT`, `ASSET_TRANSFER`, ...).
    Other,
}

impl UpdateReason {
    fn parse(text: &str) -> Self {
        match text {
            "ORDER" => Self::Order,
            "FUNDING_FEE" => Self::FundingFee,
            "DEPOSIT" => Self::Deposit,
            "WITHDRAW" => Self::Withdraw,
            _ => Self::Other,
        }
    }
}

/// One balance entry of an `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceUpdate {
    /// Event time `E`.
    pub event_time: TimestampNs,
    /// Why.
    pub reason: UpdateReason,
    /// Asset `a`.
    pub asset: Asset,
    /// Wallet balance `wb`.
    pub wallet: Price,
    /// Wallet balance excluding isolated margin `cw`.
    pub cross_wallet: Price,
    /// Balance change `bc`.
    pub change: Price,
}

/// One position entry of an `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionUpdate {
    /// Event time `E`.
    pub event_time: TimestampNs,
    /// Why.
    pub reason: UpdateReason,
    /// Instrument.
    pub symbol: SymbolId,
    /// Position amount `pa`.
    pub amount: Qty,
    /// Entry price `ep`.
    pub entry_price: Price,
    /// Unrealised PnL `up`.
    pub unrealized_pnl: Price,
    /// Position side `ps`, when given.
    pub position_side: Option<PositionSide>,
    /// True for isolated margin (`mt`).
    pub isolated: bool,
}

/// An `ACCOUNT_CONFIG_UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigUpdate {
    /// Event time `E`.
    pub event_time: TimestampNs,
    /// Instrument.
    pub symbol: SymbolId,
    /// Long leverage `l`.
    pub long_leverage: u32,
    /// Short leverage `S`.
    pub short_leverage: u32,
    /// True for isolated margin.
    pub isolated: bool,
}

/// One decoded user-stream event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEvent {
    /// An order changed or filled.
    Order(OrderUpdate),
    /// A balance changed.
    Balance(BalanceUpdate),
    /// A position changed.
    Position(PositionUpdate),
    /// Leverage or margin mode changed.
    Config(ConfigUpdate),
    /// The listen key in use expired: create a new one and reconnect.
    ListenKeyExpired {
        /// Event time `E`.
        event_time: TimestampNs,
    },
}

/// Why a user-stream message was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserParseError {
    /// Not JSON of the expected shape; the serde message says where.
    Json(String),
    /// A symbol not in the table.
    UnknownSymbol(String),
    /// `S` is not BUY or SELL.
    BadSide(String),
    /// An event type this client does not know.
    UnknownEvent(String),
    /// A known event without its body object.
    MissingBody(&'static str),
}

impl fmt::Display for UserParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(m) => write!(f, "user event is not valid JSON of the expected shape: {m}"),
            Self::UnknownSymbol(s) => write!(f, "user event for unknown symbol {s:?}"),
            Self::BadSide(s) => write!(f, "user event has side {s:?}, expected BUY or SELL"),
            Self::UnknownEvent(e) => write!(f, "unknown user event type {e:?}"),
            Self::MissingBody(k) => write!(f, "user event lacks its {k:?} object"),
        }
    }
}

impl std::error::Error for UserParseError {}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    e: String,
    #[serde(rename = "E", default, deserialize_with = "i64_lenient")]
    event_time: i64,
    o: Option<RawOrder>,
    a: Option<RawAccount>,
    ac: Option<RawConfig>,
}

#[derive(Deserialize)]
struct RawOrder {
    s: String,
    #[serde(default)]
    c: String,
    #[serde(deserialize_with = "u64_lenient")]
    i: u64,
    #[serde(rename = "S")]
    side: String,
    #[serde(rename = "q", default, deserialize_with = "qty_lenient")]
    qty: Qty,
    #[serde(rename = "p", default, deserialize_with = "price_lenient")]
    price: Price,
    #[serde(rename = "ap", default, deserialize_with = "price_lenient")]
    avg: Price,
    #[serde(rename = "x", default)]
    exec: String,
    #[serde(rename = "X", default)]
    status: String,
    #[serde(rename = "n", default, deserialize_with = "price_lenient")]
    fee: Price,
    #[serde(rename = "T", default, deserialize_with = "i64_lenient")]
    time: i64,
    #[serde(default)]
    ps: String,
    #[serde(default, deserialize_with = "price_lenient")]
    rp: Price,
    #[serde(default, deserialize_with = "qty_lenient")]
    z: Qty,
    #[serde(default, deserialize_with = "u64_lenient")]
    td: u64,
}

#[derive(Deserialize)]
struct RawAccount {
    #[serde(default)]
    m: String,
    #[serde(rename = "B", default)]
    balances: Vec<RawBalance>,
    #[serde(rename = "P", default)]
    positions: Vec<RawPosition>,
}

#[derive(Deserialize)]
struct RawBalance {
    a: String,
    #[serde(default, deserialize_with = "price_lenient")]
    wb: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    cw: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    bc: Price,
}

#[derive(Deserialize)]
struct RawPosition {
    s: String,
    #[serde(default, deserialize_with = "qty_lenient")]
    pa: Qty,
    #[serde(default, deserialize_with = "price_lenient")]
    ep: Price,
    #[serde(default, deserialize_with = "price_lenient")]
    up: Price,
    #[serde(default)]
    mt: String,
    #[serde(default)]
    ps: String,
}

#[derive(Deserialize)]
struct RawConfig {
    s: String,
    #[serde(default, deserialize_with = "leverage_lenient")]
    l: u32,
    #[serde(rename = "S", default, deserialize_with = "leverage_lenient")]
    short: u32,
    #[serde(default)]
    mt: String,
}

fn symbol(symbols: &SymbolTable, name: &str) -> Result<SymbolId, UserParseError> {
    symbols
        .lookup(name.as_bytes())
        .ok_or_else(|| UserParseError::UnknownSymbol(name.to_owned()))
}

/// Parses one user-stream JSON message, handing each event to `emit`; returns how many
/// were emitted (an `ACCOUNT_UPDATE` yields one per balance and position).
///
/// # Errors
/// A [`UserParseError`]; nothing is emitted then.
pub fn parse_user_event(
    json: &[u8],
    symbols: &SymbolTable,
    emit: &mut impl FnMut(UserEvent),
) -> Result<usize, UserParseError> {
    let raw: RawEvent =
        serde_json::from_slice(json).map_err(|e| UserParseError::Json(e.to_string()))?;
    let event_time = TimestampNs::from_ms(raw.event_time);
    match raw.e.as_str() {
        "ORDER_TRADE_UPDATE" | "TRADE_UPDATE" => {
            let o = raw.o.ok_or(UserParseError::MissingBody("o"))?;
            let side = match o.side.as_str() {
                "BUY" => Side::Buy,
                "SELL" => Side::Sell,
                other => return Err(UserParseError::BadSide(other.to_owned())),
            };
            let update = OrderUpdate {
                symbol: symbol(symbols, &o.s)?,
                event_time,
                trade_time: TimestampNs::from_ms(o.time),
                order_id: o.i,
                client_order_id: ClientOrderId::try_new(&o.c).unwrap_or(ClientOrderId::EMPTY),
                side,
                position_side: PositionSide::parse(&o.ps),
                exec: ExecType::parse(&o.exec),
                status: OrderStatus::parse(&o.status),
                qty: o.qty,
                price: o.price,
                avg_price: o.avg,
                filled_qty: o.z,
                fee: o.fee,
                realized_pnl: o.rp,
                trade_id: o.td,
                trade_update: raw.e == "TRADE_UPDATE",
            };
            emit(UserEvent::Order(update));
            Ok(1)
        }
        "ACCOUNT_UPDATE" => {
            let a = raw.a.ok_or(UserParseError::MissingBody("a"))?;
            let reason = UpdateReason::parse(&a.m);
            let mut events = Vec::with_capacity(a.balances.len() + a.positions.len());
            for b in &a.balances {
                events.push(UserEvent::Balance(BalanceUpdate {
                    event_time,
                    reason,
                    asset: Asset::new(&b.a).unwrap_or(Asset {
                        bytes: [0; MAX_ASSET_BYTES],
                        len: 0,
                    }),
                    wallet: b.wb,
                    cross_wallet: b.cw,
                    change: b.bc,
                }));
            }
            for p in &a.positions {
                events.push(UserEvent::Position(PositionUpdate {
                    event_time,
                    reason,
                    symbol: symbol(symbols, &p.s)?,
                    amount: p.pa,
                    entry_price: p.ep,
                    unrealized_pnl: p.up,
                    position_side: PositionSide::parse(&p.ps),
                    isolated: p.mt.eq_ignore_ascii_case("isolated"),
                }));
            }
            let n = events.len();
            events.into_iter().for_each(&mut *emit);
            Ok(n)
        }
        "ACCOUNT_CONFIG_UPDATE" => {
            let c = raw.ac.ok_or(UserParseError::MissingBody("ac"))?;
            emit(UserEvent::Config(ConfigUpdate {
                event_time,
                symbol: symbol(symbols, &c.s)?,
                long_leverage: c.l,
                short_leverage: c.short,
                isolated: c.mt.eq_ignore_ascii_case("isolated"),
            }));
            Ok(1)
        }
        "listenKeyExpired" => {
            emit(UserEvent::ListenKeyExpired { event_time });
            Ok(1)
        }
        other => Err(UserParseError::UnknownEvent(other.to_owned())),
    }
}

/// The user-data-stream protocol: no subscriptions, gzip frames, `Ping` → `Pong`.
#[derive(Debug)]
pub struct UserStream {
    symbols: SymbolTable,
    inflater: Inflater,
    errors: u64,
    last_error: Option<UserParseError>,
}

impl UserStream {
    /// Returns the protocol for the symbols in `symbols`.
    #[must_use]
    pub fn new(symbols: SymbolTable) -> Self {
        Self {
            symbols,
            inflater: Inflater::new(crate::feed::inflate::DEFAULT_MAX_FRAME_BYTES),
            errors: 0,
            last_error: None,
        }
    }

    /// Returns the number of messages that could not be decoded and the last such error.
    #[must_use]
    pub fn errors(&self) -> (u64, Option<&UserParseError>) {
        (self.errors, self.last_error.as_ref())
    }
}

impl WsProtocol for UserStream {
    type Event = UserEvent;

    fn on_open(&mut self, _out: &mut Outbox<'_>) {}

    fn on_message(
        &mut self,
        text: bool,
        payload: &[u8],
        out: &mut Outbox<'_>,
        emit: &mut impl FnMut(UserEvent),
    ) -> MessageKind {
        let json: &[u8] = if text {
            payload
        } else {
            match self.inflater.inflate(payload) {
                Ok(p) => p,
                Err(_) => {
                    self.errors += 1;
                    return MessageKind::Malformed;
                }
            }
        };
        if json == b"Ping" {
            out.send_text(b"Pong");
            return MessageKind::Control;
        }
        match parse_user_event(json, &self.symbols, emit) {
            Ok(_) => MessageKind::Data,
            Err(e) => {
                self.errors += 1;
                self.last_error = Some(e);
                MessageKind::Malformed
            }
        }
    }
}

#[cfg(test)]
#[path = "user_tests.rs"]
mod tests;
