//! Binance USD-M futures market-data protocol (§7): streams fixed in the combined-stream URL
//! (see [`super::binance_combined_url`]), plain JSON text frames decoded by
//! [`BinanceDecoder`]. Binance's ping frames (every 3 min, §7.5) are answered by the client
//! with a pong echoing the payload; use a silence timeout above 180 s and a `max_age` under
//! 24 h.
//!
//! Consumes text frames; produces [`MarketEvent`]s. Never parses JSON itself, never
//! allocates per message.

use crate::feed::{BinanceDecoder, FeedStats, FrameKind, MarketEvent};

use super::client::{MessageKind, Outbox, WsProtocol};

/// The Binance market-stream protocol.
#[derive(Debug)]
pub struct BinanceMarket {
    decoder: BinanceDecoder,
}

impl BinanceMarket {
    /// Returns the protocol around `decoder`.
    #[must_use]
    pub fn new(decoder: BinanceDecoder) -> Self {
        Self { decoder }
    }

    /// Returns the decoder's counters.
    #[must_use]
    pub fn feed_stats(&self) -> &FeedStats {
        self.decoder.stats()
    }
}

impl WsProtocol for BinanceMarket {
    type Event = MarketEvent;

    fn on_open(&mut self, _out: &mut Outbox<'_>) {}

    fn on_message(
        &mut self,
        _text: bool,
        payload: &[u8],
        _out: &mut Outbox<'_>,
        emit: &mut impl FnMut(MarketEvent),
    ) -> MessageKind {
        match self.decoder.decode(payload, emit) {
            Ok(FrameKind::Trades { emitted, .. }) if emitted > 0 => MessageKind::Data,
            Ok(FrameKind::Kline | FrameKind::BookTicker) => MessageKind::Data,
            Ok(_) => MessageKind::Control,
            Err(_) => MessageKind::Malformed,
        }
    }
}
