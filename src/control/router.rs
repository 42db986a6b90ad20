//! The control server's routes: which answer each request gets (the table
//! in [`super::server`]), from the metrics snapshot, the bearer token and
//! the engine's command channel.
//!
//! Consumes parsed requests and the engine's replies; produces
//! [`Response`]s, or a command handed to the engine ([`Routed::Wait`]).
//! Never blocks: a command is a `try_send` on a bounded channel.

use super::auth::ControlToken;
use super::http::Request;
use super::{ControlCommand, ControlReply, ControlRequest, ReplyFormat, SharedMetrics};
use crate::metrics::prometheus::CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::net::SocketAddr;

/// What the server thread answers, before writing.
pub(super) struct Response {
    /// HTTP status.
    pub(super) status: u16,
    /// `Content-Type` value.
    pub(super) content_type: &'static str,
    /// Further headers.
    pub(super) extra: &'static [(&'static str, &'static str)],
    /// Body.
    pub(super) body: String,
}

/// What a request leads to.
pub(super) enum Routed {
    /// Answer at once.
    Respond(Response),
    /// The engine has the command: answer with its reply (or a timeout).
    Wait {
        /// Where the engine's reply comes.
        reply: Receiver<ControlReply>,
        /// The command, for the log.
        command: ControlCommand,
    },
}

/// Maps requests to answers; owned by the event loop.
pub(super) struct Router {
    /// Where `GET /metrics` reads from.
    metrics: SharedMetrics,
    /// Where commands go.
    commands: Sender<ControlRequest>,
    /// `None`: every control command is refused.
    token: Option<ControlToken>,
}

impl Response {
    /// Returns a plain-text response (a final newline is added).
    pub(super) fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            extra: &[],
            body,
        }
    }
}

impl Router {
    /// Returns a router answering from `metrics` and forwarding commands
    /// authorized by `token` (`None`: every command is refused) to
    /// `commands`.
    pub(super) fn new(
        metrics: SharedMetrics,
        commands: Sender<ControlRequest>,
        token: Option<ControlToken>,
    ) -> Self {
        Self {
            metrics,
            commands,
            token,
        }
    }

    /// Maps a request to its answer.
    pub(super) fn route(&self, req: &Request, peer: SocketAddr) -> Routed {
        let path = req.route_path();
        if path == "/metrics" {
            if req.method != "GET" && req.method != "HEAD" {
                return Routed::Respond(method_not_allowed("GET"));
            }
            return Routed::Respond(match self.metrics.latest() {
                Some(snapshot) => Response {
                    status: 200,
                    content_type: PROMETHEUS_CONTENT_TYPE,
                    extra: &[],
                    body: snapshot.to_prometheus(),
                },
                None => Response::text(503, "No metrics snapshot published yet"),
            });
        }
        if let Some(name) = path.strip_prefix("/control/") {
            if req.method != "POST" {
                return Routed::Respond(method_not_allowed("POST"));
            }
            return self.control(name, req, peer);
        }
        Routed::Respond(Response::text(
            404,
            "Not found: try GET /metrics or POST /control/status",
        ))
    }

    /// Authenticates and forwards a control command.
    fn control(&self, name: &str, req: &Request, peer: SocketAddr) -> Routed {
        let Some(token) = &self.token else {
            log::warn!(
                "Control request from {peer} refused: {} is not set",
                super::TOKEN_VAR
            );
            return Routed::Respond(Response::text(
                403,
                format!(
                    "Control commands are disabled: {} is not set in the engine's environment",
                    super::TOKEN_VAR
                ),
            ));
        };
        if !token.authorizes(req.authorization.as_deref()) {
            // The path without its query string: a token put there must
            // not reach the log.
            log::warn!(
                "Control request from {peer} refused: missing or wrong bearer token ({} {:?})",
                truncate(&req.method, 16),
                truncate(req.route_path(), 64)
            );
            return Routed::Respond(Response {
                extra: &[("WWW-Authenticate", "Bearer")],
                ..Response::text(
                    401,
                    "Unauthorized: missing or wrong bearer token (send it in the Authorization header)",
                )
            });
        }
        let Ok(command) = name.parse::<ControlCommand>() else {
            return Routed::Respond(Response::text(
                404,
                format!("Unknown control command {:?}", truncate(name, 64)),
            ));
        };
        log::info!("Control command {command} from {peer}");
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        let request = ControlRequest {
            command,
            peer,
            reply: reply_tx,
        };
        match self.commands.try_send(request) {
            Ok(()) => Routed::Wait {
                reply: reply_rx,
                command,
            },
            Err(TrySendError::Full(_)) => {
                log::warn!("Control command {command} from {peer} dropped: engine queue full");
                Routed::Respond(Response::text(
                    503,
                    "Engine busy: control queue full, try again",
                ))
            }
            Err(TrySendError::Disconnected(_)) => {
                log::warn!("Control command {command} from {peer} dropped: engine not running");
                Routed::Respond(Response::text(503, "Engine not running"))
            }
        }
    }
}

/// Returns at most `max` characters of `s`.
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let extra: &'static [(&'static str, &'static str)] = if allow == "GET" {
        &[("Allow", "GET, HEAD")]
    } else {
        &[("Allow", "POST")]
    };
    Response {
        extra,
        ..Response::text(405, format!("Method not allowed: use {allow}"))
    }
}

/// Returns the HTTP answer to the engine's reply.
pub(super) fn reply_response(reply: ControlReply) -> Response {
    let status = if reply.accepted { 200 } else { 409 };
    match reply.format {
        ReplyFormat::Text => Response::text(status, reply.body),
        ReplyFormat::Json => Response {
            status,
            content_type: "application/json",
            extra: &[],
            body: reply.body,
        },
    }
}
