//! The control plane: a small HTTP/1.1 server on the I/O side serving
//! `GET /metrics` (Prometheus text of the latest [`MetricsSnapshot`]) and
//! `POST /control/{status|halt|resume|reset|flatten|reload}` (bearer-token
//! protected), plus the client used by `trading-engine ctl`.
//!
//! Consumes HTTP requests from loopback clients, snapshots published by
//! the engine through [`SharedMetrics`], and the control token from the
//! `TE_CONTROL_TOKEN` environment variable; produces HTTP responses and
//! typed [`ControlRequest`]s on a crossbeam channel to the engine, which
//! answers each with a [`ControlReply`] on the request's own reply
//! channel. Never touches the hot thread's state, never blocks it (the
//! engine polls the channel when it chooses), and never logs or stores
//! the token in clear (only its SHA-256 digest is kept).

pub mod auth;
pub mod client;
mod event_loop;
mod http;
mod router;
pub mod server;

pub use auth::{ControlToken, TOKEN_VAR};
pub use client::{send_command, ClientError, ClientReply};
pub use server::{ControlServer, ControlServerHandle, ServerError, ServerLimits};

use crate::metrics::MetricsSnapshot;
use crossbeam_channel::Sender;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

/// A command an operator sends to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlCommand {
    /// Report the engine's state; changes nothing.
    Status,
    /// Stop opening positions (open positions stay managed).
    Halt,
    /// Undo a halt.
    Resume,
    /// Undo a halt and clear the cooldown, the loss-streak lock and the
    /// win streak (what deleting the `risk.halt_file` marker also does).
    Reset,
    /// Close every open position at market (exit reason `manual`); new
    /// entries stay allowed unless the engine is also halted.
    Flatten,
    /// Re-read the reloadable configuration keys.
    Reload,
}

impl ControlCommand {
    /// Every command.
    pub const ALL: [Self; 6] = [
        Self::Status,
        Self::Halt,
        Self::Resume,
        Self::Reset,
        Self::Flatten,
        Self::Reload,
    ];

    /// Returns the command's name as used in the URL path and the CLI.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Halt => "halt",
            Self::Resume => "resume",
            Self::Reset => "reset",
            Self::Flatten => "flatten",
            Self::Reload => "reload",
        }
    }
}

impl fmt::Display for ControlCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`ControlCommand`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCommand(pub String);

impl fmt::Display for UnknownCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown control command {:?}; expected status, halt, resume, reset, flatten or reload",
            self.0
        )
    }
}

impl std::error::Error for UnknownCommand {}

impl FromStr for ControlCommand {
    type Err = UnknownCommand;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownCommand(s.to_owned()))
    }
}

/// How a [`ControlReply`] body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyFormat {
    /// `text/plain`.
    Text,
    /// `application/json`.
    Json,
}

/// The engine's answer to a [`ControlRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlReply {
    /// True when the engine carried the command out (HTTP 200), false when
    /// it declined it (HTTP 409, e.g. `resume` while not halted).
    pub accepted: bool,
    /// Body shown to the operator.
    pub body: String,
    /// Encoding of `body`.
    pub format: ReplyFormat,
}

impl ControlReply {
    /// Returns an accepted plain-text reply.
    #[must_use]
    pub fn accepted(body: impl Into<String>) -> Self {
        Self {
            accepted: true,
            body: body.into(),
            format: ReplyFormat::Text,
        }
    }

    /// Returns a declined plain-text reply.
    #[must_use]
    pub fn declined(body: impl Into<String>) -> Self {
        Self {
            accepted: false,
            body: body.into(),
            format: ReplyFormat::Text,
        }
    }

    /// Returns a reply whose body is `json`'s text.
    #[must_use]
    pub fn json(accepted: bool, json: &serde_json::Value) -> Self {
        Self {
            accepted,
            body: json.to_string(),
            format: ReplyFormat::Json,
        }
    }
}

/// A control command on its way to the engine, with the channel the
/// engine answers on. The engine should reply promptly: the HTTP client
/// waits at most [`ServerLimits::reply_timeout`].
#[derive(Debug)]
pub struct ControlRequest {
    /// The command.
    pub command: ControlCommand,
    /// Who sent it (for the log and the journal).
    pub peer: SocketAddr,
    /// Where the engine sends its [`ControlReply`] (capacity 1).
    pub reply: Sender<ControlReply>,
}

impl ControlRequest {
    /// Sends `reply` back to the waiting HTTP request. Returns false when
    /// the request has already given up (timed out); the command's effect
    /// stands either way.
    pub fn respond(self, reply: ControlReply) -> bool {
        self.reply.send(reply).is_ok()
    }
}

/// The latest [`MetricsSnapshot`], written by the engine's I/O side and
/// read by the server thread. A mutex is fine here: both sides are cold,
/// the lock is held only to swap or clone an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct SharedMetrics {
    /// `None` until the first snapshot is published.
    latest: Arc<Mutex<Option<Arc<MetricsSnapshot>>>>,
}

impl SharedMetrics {
    /// Returns an empty holder (scrapes get 503 until a publish).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the snapshot served by `GET /metrics`.
    pub fn publish(&self, snapshot: MetricsSnapshot) {
        let snapshot = Arc::new(snapshot);
        // A panic while holding the lock cannot leave the Option torn, so
        // a poisoned lock is still usable.
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
    }

    /// Returns the latest snapshot, if any was published.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<MetricsSnapshot>> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_round_trip_and_unknown_names_are_rejected() {
        for c in ControlCommand::ALL {
            assert_eq!(c.name().parse::<ControlCommand>().unwrap(), c);
            assert_eq!(c.to_string(), c.name());
        }
        let err = "HALT".parse::<ControlCommand>().unwrap_err();
        assert!(err.to_string().contains("\"HALT\""), "{err}");
        assert!(err.to_string().contains("flatten"), "{err}");
    }

    #[test]
    fn shared_metrics_serves_the_latest_snapshot() {
        let shared = SharedMetrics::new();
        assert!(shared.latest().is_none());
        let reader = shared.clone();
        shared.publish(MetricsSnapshot {
            orders_sent: 1,
            ..MetricsSnapshot::default()
        });
        shared.publish(MetricsSnapshot {
            orders_sent: 2,
            ..MetricsSnapshot::default()
        });
        assert_eq!(reader.latest().unwrap().orders_sent, 2);
    }

    #[test]
    fn respond_reports_whether_the_requester_still_waits() {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let req = ControlRequest {
            command: ControlCommand::Status,
            peer: "127.0.0.1:1".parse().unwrap(),
            reply: tx.clone(),
        };
        assert!(req.respond(ControlReply::accepted("ok")));
        assert_eq!(rx.recv().unwrap().body, "ok");
        drop(rx);
        let req = ControlRequest {
            command: ControlCommand::Halt,
            peer: "127.0.0.1:1".parse().unwrap(),
            reply: tx,
        };
        assert!(!req.respond(ControlReply::declined("late")));
    }

    #[test]
    fn json_reply_carries_the_json_text() {
        let r = ControlReply::json(true, &serde_json::json!({"halted": false}));
        assert_eq!(r.body, r#"{"halted":false}"#);
        assert_eq!(r.format, ReplyFormat::Json);
    }
}
