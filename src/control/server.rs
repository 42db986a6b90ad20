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
use super::event_loop::EventLoop;
pub use super::event_loop::ServerLimits;
use super::router::Router;
use super::{ControlRequest, SharedMetrics};
use crate::config::MetricsConfig;
use crossbeam_channel::Sender;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

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
        let router = Router::new(self.metrics, self.commands, self.token);
        let (event_loop, waker) =
            EventLoop::new(self.listener, router, self.limits).map_err(ServerError::Spawn)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = Arc::clone(&stop);
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
