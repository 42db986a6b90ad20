//! The control/metrics HTTP server: one thread serving many connections
//! at once on a non-blocking event loop ([`super::event_loop`]), every
//! connection bounded in size and time and closed after one response.
//!
//! Consumes connections on the configured address (`[metrics] listen`,
//! 127.0.0.1 by default; off unless `metrics.enabled`); produces
//! Prometheus text for `GET /metrics` and [`ControlRequest`]s for
//! `POST /control/<command>`. Routes:
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200 Prometheus text; 503 before the first snapshot |
//! | `POST /control/<cmd>`, no token configured | 403, command refused |
//! | `POST /control/<cmd>`, missing or wrong bearer token | 401, logged with the peer address and the path without its query string |
//! | `POST /control/<cmd>`, token ok | 200 (accepted) or 409 (declined) with the engine's reply; 404 unknown command; 503 engine gone; 504 no reply in time |
//!
//! The token is read only from the `Authorization` header (never from the
//! query string). Never logs the token, the `Authorization` header or a
//! query string, and never blocks the engine: a command is a `try_send` on
//! a bounded channel and its reply is polled.

use super::auth::ControlToken;
use super::event_loop::{EventLoop, LISTENER, WAKER};
use super::http::Request;
use super::{ControlCommand, ControlReply, ControlRequest, ReplyFormat, SharedMetrics};
use crate::config::MetricsConfig;
use crate::metrics::prometheus::CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Size and time bounds of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request head (request line + headers), bytes; default 8 KiB.
    pub max_head_bytes: usize,
    /// Largest accepted request body, bytes (read and discarded); default
    /// 1 KiB.
    pub max_body_bytes: usize,
    /// Time allowed to receive a request, and again to write the
    /// response; default 5 s.
    pub io_timeout: Duration,
    /// Time the engine has to answer a command; default 5 s.
    pub reply_timeout: Duration,
    /// Connections open at once; when full, the oldest connection that
    /// has not finished sending its request is dropped. Default 256.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: 8 * 1024,
            max_body_bytes: 1024,
            io_timeout: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(5),
            max_connections: 256,
        }
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum ServerError {
    /// The listening socket could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating-system error.
        source: io::Error,
    },
    /// The server thread or its poll could not be set up.
    Spawn(io::Error),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, source } => {
                write!(f, "cannot listen for metrics/control on {addr}: {source}")
            }
            Self::Spawn(e) => write!(f, "cannot start the control server thread: {e}"),
        }
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Spawn(source) => Some(source),
        }
    }
}

/// A bound, not yet running server.
#[derive(Debug)]
pub struct ControlServer {
    /// The listening socket (blocking).
    listener: TcpListener,
    /// Where `GET /metrics` reads from.
    metrics: SharedMetrics,
    /// Where commands go (bounded; see [`ControlRequest`]).
    commands: Sender<ControlRequest>,
    /// `None`: every control command is refused.
    token: Option<ControlToken>,
    /// Connection bounds.
    limits: ServerLimits,
}

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
    /// Connection bounds.
    pub(super) limits: ServerLimits,
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

impl ControlServer {
    /// Binds `addr` (port 0 picks a free port). `token` `None` refuses all
    /// control commands; see [`ControlToken::from_env`].
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub fn bind(
        addr: SocketAddr,
        metrics: SharedMetrics,
        commands: Sender<ControlRequest>,
        token: Option<ControlToken>,
    ) -> Result<Self, ServerError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
        if !addr.ip().is_loopback() {
            log::warn!("Metrics and control listen on non-loopback address {addr}");
        }
        if token.is_none() {
            log::warn!(
                "{} is not set: control commands will be refused",
                super::TOKEN_VAR
            );
        }
        Ok(Self {
            listener,
            metrics,
            commands,
            token,
            limits: ServerLimits::default(),
        })
    }

    /// Binds the address of `[metrics] listen` with the token from
    /// `TE_CONTROL_TOKEN`, or returns `Ok(None)` when `metrics.enabled` is
    /// false.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub fn from_config(
        config: &MetricsConfig,
        metrics: SharedMetrics,
        commands: Sender<ControlRequest>,
    ) -> Result<Option<Self>, ServerError> {
        if !config.enabled {
            return Ok(None);
        }
        Self::bind(config.listen, metrics, commands, ControlToken::from_env()).map(Some)
    }

    /// Replaces the connection bounds.
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Returns the bound address (with the real port when 0 was asked).
    ///
    /// # Errors
    /// The operating-system error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Starts the server thread (`te-control`).
    ///
    /// # Errors
    /// [`ServerError::Spawn`] when the poll, its waker or the thread cannot
    /// be created, or [`ServerError::Bind`] when the bound address cannot
    /// be read or the socket made non-blocking.
    pub fn spawn(self) -> Result<ControlServerHandle, ServerError> {
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        let addr = self.local_addr().map_err(|source| ServerError::Bind {
            addr: unknown,
            source,
        })?;
        self.listener
            .set_nonblocking(true)
            .map_err(|source| ServerError::Bind { addr, source })?;
        let poll = mio::Poll::new().map_err(ServerError::Spawn)?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(ServerError::Spawn)?);
        let mut listener = mio::net::TcpListener::from_std(self.listener);
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)
            .map_err(ServerError::Spawn)?;
        let router = Router {
            metrics: self.metrics,
            commands: self.commands,
            token: self.token,
            limits: self.limits,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = Arc::clone(&stop);
        let event_loop = EventLoop::new(poll, listener, router);
        let thread = std::thread::Builder::new()
            .name("te-control".to_owned())
            .spawn(move || event_loop.run(&stop_thread))
            .map_err(ServerError::Spawn)?;
        log::info!("Metrics and control server listening on http://{addr}");
        Ok(ControlServerHandle {
            addr,
            stop,
            waker,
            thread: Some(thread),
        })
    }
}

impl Router {
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

/// A running server; dropping it stops the thread.
#[derive(Debug)]
pub struct ControlServerHandle {
    /// The bound address.
    addr: SocketAddr,
    /// Set to stop the event loop.
    stop: Arc<AtomicBool>,
    /// Interrupts the event loop's poll.
    waker: Arc<mio::Waker>,
    /// The server thread; `None` once joined.
    thread: Option<JoinHandle<()>>,
}

impl ControlServerHandle {
    /// Returns the address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for its thread (open connections are
    /// closed unanswered).
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            log::error!("Cannot wake the control server to stop it: {e}");
        }
        if thread.join().is_err() {
            log::error!("Control server thread panicked");
        }
    }
}

impl Drop for ControlServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
