//! BingX swap market-data protocol (§5): subscriptions with acknowledgement tracking, the
//! gzip `Ping` → text `Pong` heartbeat, and decoding through [`BingxDecoder`].
//!
//! Consumes inflated-or-gzip frames from [`super::WsClient`]; produces
//! [`MarketEvent`]s. Never parses market JSON itself (the feed decoder does), never
//! allocates per message (subscription requests are written into a reused buffer on
//! connect).

use std::io::Write;

use crate::feed::{AckId, BingxDecoder, FeedStats, FrameKind, MarketEvent};

use super::client::{MessageKind, Outbox, WsProtocol};

/// State of one subscription on the current connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// Not sent yet (no connection so far).
    Unsent,
    /// Sent, no acknowledgement yet.
    Pending,
    /// Acknowledged with code 0.
    Active,
    /// Refused with this code (e.g. 80015 dataType not supported).
    Rejected(i64),
}

/// One `dataType` subscription (`BTC-USDT@trade`, `BTC-USDT@kline_1m`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The dataType, exactly as sent and echoed.
    pub data_type: String,
    /// Request id of the latest send.
    pub id: AckId,
    /// Acknowledgement state.
    pub state: SubState,
}

/// The BingX market-stream protocol.
#[derive(Debug)]
pub struct BingxMarket {
    decoder: BingxDecoder,
    subs: Vec<Subscription>,
    next_id: u64,
    request: Vec<u8>,
    acks_ok: u64,
    acks_failed: u64,
    pongs: u64,
}

impl BingxMarket {
    /// Returns the protocol around `decoder` with no subscriptions.
    #[must_use]
    pub fn new(decoder: BingxDecoder) -> Self {
        Self {
            decoder,
            subs: Vec::new(),
            next_id: 1,
            request: Vec::with_capacity(256),
            acks_ok: 0,
            acks_failed: 0,
            pongs: 0,
        }
    }

    /// Adds a `dataType` subscription, sent on every (re)connect (cold path; one dataType
    /// per request as BingX requires). Adding an existing one does nothing.
    pub fn subscribe(&mut self, data_type: &str) {
        if self.subs.iter().any(|s| s.data_type == data_type) {
            return;
        }
        self.subs.push(Subscription {
            data_type: data_type.to_owned(),
            id: AckId::from_u64(0),
            state: SubState::Unsent,
        });
    }

    /// Adds the trade, 1-minute kline and book-ticker streams of `symbol` (`BTC-USDT`).
    pub fn subscribe_symbol(&mut self, symbol: &str) {
        for suffix in ["@trade", "@kline_1m", "@bookTicker"] {
            self.subscribe(&format!("{symbol}{suffix}"));
        }
    }

    /// Returns the subscriptions and their acknowledgement state.
    #[must_use]
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subs
    }

    /// Returns true when every subscription is acknowledged with code 0.
    #[must_use]
    pub fn all_active(&self) -> bool {
        !self.subs.is_empty() && self.subs.iter().all(|s| s.state == SubState::Active)
    }

    /// Returns the decoder's counters (frames, pings, trades, errors per kind).
    #[must_use]
    pub fn feed_stats(&self) -> &FeedStats {
        self.decoder.stats()
    }

    /// Returns (acknowledged, refused) subscription answers so far.
    #[must_use]
    pub fn ack_counts(&self) -> (u64, u64) {
        (self.acks_ok, self.acks_failed)
    }

    /// Returns how many `Pong`s were sent in answer to the server's `Ping`.
    #[must_use]
    pub fn pongs_sent(&self) -> u64 {
        self.pongs
    }
}

impl WsProtocol for BingxMarket {
    type Event = MarketEvent;

    fn on_open(&mut self, out: &mut Outbox<'_>) {
        for sub in &mut self.subs {
            sub.id = AckId::from_u64(self.next_id);
            self.next_id += 1;
            sub.state = SubState::Pending;
            self.request.clear();
            // Writing into a Vec cannot fail.
            let _ = write!(
                self.request,
                r#"{{"id":"{}","reqType":"sub","dataType":"{}"}}"#,
                sub.id.as_str(),
                sub.data_type
            );
            out.send_text(&self.request);
        }
    }

    fn on_message(
        &mut self,
        text: bool,
        payload: &[u8],
        out: &mut Outbox<'_>,
        emit: &mut impl FnMut(MarketEvent),
    ) -> MessageKind {
        let result = if text {
            self.decoder.decode_payload(payload, emit)
        } else {
            self.decoder.decode(payload, emit)
        };
        match result {
            Ok(FrameKind::Ping) => {
                out.send_text(b"Pong");
                self.pongs += 1;
                MessageKind::Control
            }
            Ok(FrameKind::SubscriptionAck(ack)) => {
                if ack.code == 0 {
                    self.acks_ok += 1;
                } else {
                    self.acks_failed += 1;
                }
                if let Some(sub) = self.subs.iter_mut().find(|s| s.id == ack.id) {
                    sub.state = if ack.code == 0 {
                        SubState::Active
                    } else {
                        SubState::Rejected(ack.code)
                    };
                }
                MessageKind::Control
            }
            Ok(FrameKind::Trades { emitted, .. }) if emitted > 0 => MessageKind::Data,
            Ok(FrameKind::Kline | FrameKind::BookTicker) => MessageKind::Data,
            Ok(_) => MessageKind::Control,
            Err(_) => MessageKind::Malformed,
        }
    }
}
