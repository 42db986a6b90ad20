//! The control/metrics HTTP server: one thread, one connection at a time,
//! every connection bounded in size and time and closed after one
//! response.
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
//! | `POST /control/<cmd>`, missing or wrong bearer token | 401, logged with the peer address |
//! | `POST /control/<cmd>`, token ok | 200 (accepted) or 409 (declined) with the engine's reply; 404 unknown command; 503 engine gone; 504 no reply in time |
//!
//! Never logs the token or the `Authorization` header, and never blocks
//! the engine: a command is a `try_send` on a bounded channel.

use super::auth::ControlToken;
use super::http::{self, ReadError, Request};
use super::{ControlCommand, ControlReply, ControlRequest, ReplyFormat, SharedMetrics};
use crate::config::MetricsConfig;
use crate::metrics::prometheus::CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE;
use crossbeam_channel::{RecvTimeoutError, Sender, TrySendError};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Size and time bounds of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request head (request line + headers), bytes; default 8 KiB.
    pub max_head_bytes: usize,
    /// Largest accepted request body, bytes (read and discarded); default
    /// 1 KiB.
    pub max_body_bytes: usize,
    /// Time allowed to receive a request and write the response; default
    /// 5 s.
    pub io_timeout: Duration,
    /// Time the engine has to answer a command; default 5 s.
    pub reply_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: 8 * 1024,
            max_body_bytes: 1024,
            io_timeout: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(5),
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
    /// The server thread could not be spawned.
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
struct Response {
    status: u16,
    content_type: &'static str,
    extra: &'static [(&'static str, &'static str)],
    body: String,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Self {
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
    /// [`ServerError::Spawn`] when the thread cannot be created, or
    /// [`ServerError::Bind`] when the bound address cannot be read.
    pub fn spawn(self) -> Result<ControlServerHandle, ServerError> {
        let addr = self.local_addr().map_err(|source| ServerError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("te-control".to_owned())
            .spawn(move || self.run(&stop_thread))
            .map_err(ServerError::Spawn)?;
        log::info!("Metrics and control server listening on http://{addr}");
        Ok(ControlServerHandle {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Accepts and serves connections until `stop` is set.
    fn run(self, stop: &AtomicBool) {
        for conn in self.listener.incoming() {
            if stop.load(Ordering::Acquire) {
                break;
            }
            match conn {
                Ok(stream) => self.serve(stream),
                Err(e) => {
                    log::warn!("Control server accept failed: {e}");
                    // Avoid spinning on a persistent error (e.g. EMFILE).
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// Serves one connection: one request, one response, close.
    fn serve(&self, mut stream: TcpStream) {
        let peer = match stream.peer_addr() {
            Ok(p) => p,
            Err(_) => return,
        };
        let deadline = Instant::now() + self.limits.io_timeout;
        let reader = stream.try_clone();
        let Ok(mut reader) = reader else { return };
        let timeout_handle = reader.try_clone();
        let Ok(timeout_handle) = timeout_handle else {
            return;
        };
        let mut set_timeout = |d: Duration| timeout_handle.set_read_timeout(Some(d));
        let request = http::read_request(
            &mut reader,
            &mut set_timeout,
            self.limits.max_head_bytes,
            self.limits.max_body_bytes,
            deadline,
        );
        let response = match request {
            Ok(req) => self.route(&req, peer),
            Err(ReadError::Closed) => return,
            Err(ReadError::Timeout) => Response::text(408, "Request not received in time"),
            Err(ReadError::HeadTooLarge) => Response::text(431, "Request head too large"),
            Err(ReadError::BodyTooLarge) => Response::text(413, "Request body too large"),
            Err(ReadError::Malformed(why)) => {
                Response::text(400, format!("Malformed request: {why}"))
            }
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = stream.set_write_timeout(Some(left.max(Duration::from_millis(100))));
        if let Err(e) = http::write_response(
            &mut stream,
            response.status,
            response.content_type,
            response.extra,
            &response.body,
        ) {
            log::debug!("Control server could not answer {peer}: {e}");
        }
        linger_close(stream);
    }

    /// Maps a request to its response.
    fn route(&self, req: &Request, peer: SocketAddr) -> Response {
        let path = req.path.split('?').next().unwrap_or_default();
        if path == "/metrics" {
            if req.method != "GET" && req.method != "HEAD" {
                return method_not_allowed("GET");
            }
            return match self.metrics.latest() {
                Some(snapshot) => Response {
                    status: 200,
                    content_type: PROMETHEUS_CONTENT_TYPE,
                    extra: &[],
                    body: snapshot.to_prometheus(),
                },
                None => Response::text(503, "No metrics snapshot published yet"),
            };
        }
        if let Some(name) = path.strip_prefix("/control/") {
            if req.method != "POST" {
                return method_not_allowed("POST");
            }
            return self.control(name, req, peer);
        }
        Response::text(404, "Not found: try GET /metrics or POST /control/status")
    }

    /// Authenticates and forwards a control command.
    fn control(&self, name: &str, req: &Request, peer: SocketAddr) -> Response {
        let Some(token) = &self.token else {
            log::warn!(
                "Control request from {peer} refused: {} is not set",
                super::TOKEN_VAR
            );
            return Response::text(
                403,
                format!(
                    "Control commands are disabled: {} is not set in the engine's environment",
                    super::TOKEN_VAR
                ),
            );
        };
        if !token.authorizes(req.authorization.as_deref()) {
            log::warn!(
                "Control request from {peer} refused: missing or wrong bearer token ({} {:?})",
                req.method,
                truncate(&req.path, 64)
            );
            return Response {
                extra: &[("WWW-Authenticate", "Bearer")],
                ..Response::text(401, "Unauthorized: missing or wrong bearer token")
            };
        }
        let Ok(command) = name.parse::<ControlCommand>() else {
            return Response::text(
                404,
                format!("Unknown control command {:?}", truncate(name, 64)),
            );
        };
        log::info!("Control command {command} from {peer}");
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        let request = ControlRequest {
            command,
            peer,
            reply: reply_tx,
        };
        match self.commands.try_send(request) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                log::warn!("Control command {command} from {peer} dropped: engine queue full");
                return Response::text(503, "Engine busy: control queue full, try again");
            }
            Err(TrySendError::Disconnected(_)) => {
                log::warn!("Control command {command} from {peer} dropped: engine not running");
                return Response::text(503, "Engine not running");
            }
        }
        match reply_rx.recv_timeout(self.limits.reply_timeout) {
            Ok(reply) => {
                log::info!(
                    "Control command {command} from {peer} {}",
                    if reply.accepted {
                        "accepted"
                    } else {
                        "declined"
                    }
                );
                reply_response(reply)
            }
            Err(RecvTimeoutError::Timeout) => {
                log::warn!("Control command {command} from {peer}: engine did not reply in time");
                Response::text(
                    504,
                    "Engine did not reply in time; the command may still apply",
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                log::warn!("Control command {command} from {peer}: engine dropped the request");
                Response::text(503, "Engine dropped the command without replying")
            }
        }
    }
}

/// Closes `stream` without losing the response: closing a socket whose
/// receive buffer still holds unread request bytes (an oversized head, say)
/// sends a reset that can destroy the response in flight. So: send FIN,
/// then read and drop at most 64 KiB for at most 100 ms, then close.
fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let deadline = Instant::now() + Duration::from_millis(100);
    let mut scratch = [0u8; 4096];
    let mut drained = 0usize;
    while drained < 64 * 1024 && Instant::now() < deadline {
        match io::Read::read(&mut stream, &mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
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

fn reply_response(reply: ControlReply) -> Response {
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
    /// Set to stop the accept loop.
    stop: Arc<AtomicBool>,
    /// The server thread; `None` once joined.
    thread: Option<JoinHandle<()>>,
}

impl ControlServerHandle {
    /// Returns the address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for its thread (at most the current
    /// connection's timeout).
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
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
