//! WebSocket streams: BingX market data, the BingX user-data stream and Binance USD-M
//! market data, over one non-blocking, reconnecting client.
//!
//! Consumes `ws://`/`wss://` URLs, subscriptions and raw frames from the socket; produces
//! [`WsEvent`]s — decoded [`crate::feed::MarketEvent`]s or [`user::UserEvent`]s, connection
//! changes and outage windows — through a sink passed to [`WsClient::poll_once`]. Frames are
//! decoded by the `feed` decoders (market) and [`user`] (account events); this module does
//! no market parsing of its own. Never blocks and never logs on the polling thread, never
//! allocates per frame on an open connection (plain or TLS), and never sends a subscription
//! twice on one connection.
//!
//! Layers: [`frame`] (RFC 6455 codec), [`transport`] (plain/TLS non-blocking bytes, with
//! [`tls_stream`] running the TLS [`record`] layer itself after rustls's handshake),
//! [`client`] (state machine, heartbeats, silence detection, [`backoff`]), protocols
//! [`bingx`], [`binance`], [`user`], and [`url`] builders.

pub mod backoff;
pub mod binance;
pub mod bingx;
pub mod client;
pub mod frame;
pub mod record;
pub mod tls_stream;
pub mod transport;
pub mod url;
pub mod user;

use core::fmt;
use std::time::Duration;

pub use backoff::Backoff;
pub use binance::BinanceMarket;
pub use bingx::{BingxMarket, SubState, Subscription};
pub use client::{accept_key, MessageKind, Outbox, WsClient, WsConfig, WsProtocol};
pub use frame::{FrameError, Opcode};
pub use url::{binance_combined_url, bingx_user_stream_url, WsUrl, WsUrlError};
pub use user::{UserEvent, UserStream};

use crate::io::error::TlsSetupError;
use crate::types::TimestampNs;

/// Why the upgrade to WebSocket failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// The server answered with another HTTP status (e.g. 404 for an unknown listen key).
    Status(u16),
    /// The answer is not a parseable HTTP response head.
    Malformed,
    /// `Sec-WebSocket-Accept` is missing or wrong.
    BadAccept,
}

/// Why a connection ended (small and `Copy`: reported from the hot thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// No frame within the silence timeout.
    Silent,
    /// The server closed the connection (Close frame or end of stream).
    Closed,
    /// A socket error.
    Io(std::io::ErrorKind),
    /// A TLS failure (certificate, protocol).
    Tls,
    /// A protocol violation in a server frame.
    Frame(FrameError),
    /// The upgrade failed.
    Handshake(HandshakeFailure),
    /// Connect, TLS and upgrade took longer than the connect timeout.
    ConnectTimeout,
    /// Proactive reconnect at the configured maximum connection age.
    MaxAge,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silent => f.write_str("no frame within the silence timeout"),
            Self::Closed => f.write_str("closed by the server"),
            Self::Io(k) => write!(f, "socket error: {k}"),
            Self::Tls => f.write_str("TLS failure"),
            Self::Frame(e) => write!(f, "protocol violation: {e}"),
            Self::Handshake(HandshakeFailure::Status(s)) => {
                write!(f, "upgrade refused with HTTP {s}")
            }
            Self::Handshake(HandshakeFailure::Malformed) => f.write_str("malformed upgrade reply"),
            Self::Handshake(HandshakeFailure::BadAccept) => {
                f.write_str("wrong Sec-WebSocket-Accept in upgrade reply")
            }
            Self::ConnectTimeout => f.write_str("connect timed out"),
            Self::MaxAge => f.write_str("maximum connection age reached"),
        }
    }
}

/// The time without data: from losing an open connection to the first data message after
/// reconnecting. The engine backfills candles over it from REST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutageWindow {
    /// When the open connection was lost.
    pub from: TimestampNs,
    /// When the first data arrived on the new connection.
    pub to: TimestampNs,
}

/// What a client reports to its sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsEvent<E> {
    /// The upgrade succeeded (subscriptions were just queued).
    Connected {
        /// When.
        at: TimestampNs,
        /// True for every connection after the first.
        reconnect: bool,
    },
    /// An open connection was lost; a reconnect is scheduled.
    Disconnected {
        /// When.
        at: TimestampNs,
        /// Why.
        reason: DisconnectReason,
    },
    /// Data flows again after a loss; emitted just before that first data event.
    Outage(OutageWindow),
    /// A decoded data event.
    Data(E),
}

/// Counters of a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WsStats {
    /// Connection attempts started.
    pub connect_attempts: u64,
    /// Attempts that failed before the upgrade completed.
    pub failed_attempts: u64,
    /// Upgrades completed.
    pub connects: u64,
    /// Open connections lost.
    pub disconnects: u64,
    /// Frames received (control frames included).
    pub frames: u64,
    /// Complete messages handed to the protocol.
    pub messages: u64,
    /// Messages the protocol could not decode (skipped).
    pub malformed: u64,
    /// WebSocket protocol-level pings answered with a pong.
    pub pings_answered: u64,
    /// Bytes read (plaintext).
    pub bytes: u64,
    /// Reason of the last loss or failed attempt.
    pub last_disconnect: Option<DisconnectReason>,
    /// The last reconnect delay drawn.
    pub last_backoff: Duration,
}

/// Why a client could not be created.
#[derive(Debug)]
pub enum WsSetupError {
    /// The URL is invalid.
    Url(WsUrlError),
    /// The host could not be resolved.
    Resolve(String, std::io::Error),
    /// The TLS configuration could not be built.
    Tls(TlsSetupError),
}

impl fmt::Display for WsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(e) => write!(f, "bad WebSocket URL: {e}"),
            Self::Resolve(h, e) => write!(f, "cannot resolve {h}: {e}"),
            Self::Tls(e) => write!(f, "TLS setup failed: {e}"),
        }
    }
}

impl std::error::Error for WsSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::Resolve(_, e) => Some(e),
            Self::Tls(e) => Some(e),
        }
    }
}
