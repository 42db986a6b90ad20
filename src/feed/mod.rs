//! The feed stage: exchange market-data frames → engine market events.
//!
//! Consumes raw WebSocket payloads: gzip binary frames from the BingX swap
//! stream ([`BingxDecoder`]) and plain JSON text from Binance USD-M futures
//! or spot streams, raw or inside the combined-stream envelope
//! ([`BinanceDecoder`]). Produces [`MarketEvent`]s — engine [`Trade`]s,
//! 1-minute [`KlineUpdate`]s and [`BookTicker`]s — through a caller-supplied
//! sink, plus a [`FrameKind`] saying what the frame was (a BingX `Ping` the
//! caller must answer with `Pong`, a subscription acknowledgement, a message
//! deliberately ignored, ...).
//!
//! Must never allocate after warm-up (every buffer — inflate output, JSON
//! tape, trade reordering — is owned and reused), never panic on any input,
//! and never parse a price, quantity or id through `f64`. Rejected frames
//! return a small `Copy` [`FeedError`] and are counted per kind in
//! [`FeedStats`]. Sockets, TLS and the `Pong` reply stay in `io`.

mod binance;
mod bingx;
mod decimal;
mod error;
pub mod inflate;
mod json;
mod scan;
mod state;
mod symbols;

pub use binance::BinanceDecoder;
pub use bingx::BingxDecoder;
pub use decimal::{parse_decimal, parse_price, parse_qty};
pub use error::{FeedError, FeedErrorKind, FeedStats, InflateError};
pub use inflate::Inflater;
pub use symbols::{SymbolError, SymbolTable, MAX_SYMBOL_BYTES};

use crate::types::{Price, Qty, SymbolId, TimestampNs, Trade};

/// Validation limits of a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLimits {
    /// Largest accepted price (prices must also be above zero).
    pub max_price: Price,
    /// Largest accepted quantity or volume; anything above is absurd.
    pub max_qty: Qty,
    /// Largest accepted payload after inflation, in bytes.
    pub max_frame_bytes: usize,
}

impl Default for FeedLimits {
    /// Returns limits of 10^9 for prices and quantities (the fixed-point range
    /// ends at 2.1 × 10^9) and 1 MiB frames.
    fn default() -> Self {
        Self {
            max_price: Price::from_bits(1_000_000_000i64 << 32),
            max_qty: Qty::from_bits(1_000_000_000i64 << 32),
            max_frame_bytes: inflate::DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

/// An update of the current 1-minute bar of one symbol.
///
/// The exchange pushes the open bar repeatedly; a bar is final when
/// `closed == Some(true)` (Binance `x`) or, on BingX, which has no such flag
/// (`closed == None`), when an update with a later `open_time` arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineUpdate {
    /// Instrument.
    pub symbol: SymbolId,
    /// Start of the bar (on the minute boundary).
    pub open_time: TimestampNs,
    /// Open price.
    pub open: Price,
    /// High price.
    pub high: Price,
    /// Low price.
    pub low: Price,
    /// Last price.
    pub close: Price,
    /// Base volume traded in the bar so far.
    pub volume: Qty,
    /// `Some(true)` when the exchange marks the bar final, `None` when it does not say.
    pub closed: Option<bool>,
}

/// Best bid and ask of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTicker {
    /// Instrument.
    pub symbol: SymbolId,
    /// Best bid price.
    pub bid: Price,
    /// Quantity at the best bid (may be zero).
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask: Price,
    /// Quantity at the best ask (may be zero).
    pub ask_qty: Qty,
    /// Exchange time: match time `T`, else event time `E`.
    pub ts: TimestampNs,
}

/// One decoded market event, handed to the decoder's sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEvent {
    /// A public trade.
    Trade(Trade),
    /// A 1-minute kline update.
    Kline(KlineUpdate),
    /// A best bid/ask update.
    BookTicker(BookTicker),
}

/// Longest subscription id kept by [`AckId`], in bytes.
pub const MAX_ACK_ID_BYTES: usize = 48;

/// The echoed id of a subscription request, kept inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AckId {
    bytes: [u8; MAX_ACK_ID_BYTES],
    len: u8,
}

impl AckId {
    /// Returns the id built from `text`, or `None` if longer than [`MAX_ACK_ID_BYTES`].
    #[must_use]
    pub fn new(text: &str) -> Option<Self> {
        let src = text.as_bytes();
        if src.len() > MAX_ACK_ID_BYTES {
            return None;
        }
        let mut bytes = [0; MAX_ACK_ID_BYTES];
        bytes[..src.len()].copy_from_slice(src);
        Some(Self {
            bytes,
            len: src.len() as u8,
        })
    }

    /// Returns the id built from the decimal digits of `n`.
    #[must_use]
    pub fn from_u64(mut n: u64) -> Self {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut bytes = [0; MAX_ACK_ID_BYTES];
        bytes[..tmp.len() - i].copy_from_slice(&tmp[i..]);
        Self {
            bytes,
            len: (tmp.len() - i) as u8,
        }
    }

    /// Returns the id text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl core::fmt::Debug for AckId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AckId({:?})", self.as_str())
    }
}

/// The answer to a subscribe/unsubscribe request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionAck {
    /// The request id echoed by the exchange.
    pub id: AckId,
    /// 0 on success; the exchange's error code otherwise (e.g. BingX 80015).
    pub code: i64,
}

/// Known message types that the decoders deliberately do not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoredKind {
    /// Order-book depth (partial, incremental, or a depth snapshot).
    Depth,
    /// Binance book ticker (the BingX one is decoded).
    BookTicker,
    /// 24-hour ticker statistics.
    Ticker,
    /// Mark price / funding updates.
    MarkPrice,
    /// BingX last-price updates.
    LastPrice,
    /// Klines of an interval other than 1 minute.
    KlineInterval,
    /// Liquidation orders (Binance `forceOrder`).
    Liquidation,
    /// User-data-stream events (orders, account); handled by the order side.
    UserData,
    /// A client request (`reqType` / `method`) echoed back or replayed.
    ClientRequest,
}

/// What a decoded frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// BingX heartbeat: the caller must send the text frame `Pong`.
    Ping,
    /// A subscription acknowledgement (check `code`).
    SubscriptionAck(SubscriptionAck),
    /// Trades: `emitted` went to the sink, `skipped` were older than the
    /// last accepted trade of their symbol (counted as
    /// [`FeedErrorKind::TimestampBackwards`]).
    Trades {
        /// Trades handed to the sink, oldest first.
        emitted: u16,
        /// Trades dropped because their timestamp went backwards.
        skipped: u16,
    },
    /// One or more kline updates went to the sink.
    Kline,
    /// A book ticker went to the sink.
    BookTicker,
    /// A known message deliberately not decoded.
    Ignored(IgnoredKind),
}

#[cfg(test)]
mod tests;
