//! The control server's event loop: one thread, non-blocking sockets on a
//! mio poll, every connection a small state machine with its own deadline,
//! so no client (silent, slow or flooding) can delay another.
//!
//! Consumes connections from the listener and bytes from them, the
//! [`Router`]'s answers and the engine's replies to waiting commands;
//! produces HTTP responses. Each connection reads one bounded request,
//! is answered, sends FIN, drains briefly and closes. At
//! [`ServerLimits::max_connections`] the oldest connection that has not
//! finished sending its request is dropped to admit the new one, so idle
//! connections cannot lock operators out. Never blocks on a socket or on
//! the engine: a waiting command is polled with `try_recv`.

use super::http::{self, Parsed, ReadError};
use super::router::{reply_response, Response, Routed, Router};
use super::ControlReply;
use crossbeam_channel::{Receiver, TryRecvError};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Token of the listening socket.
const LISTENER: Token = Token(0);
/// Token of the shutdown waker.
const WAKER: Token = Token(1);
/// First connection token (slot `i` has token `i + FIRST_CONN`).
const FIRST_CONN: usize = 2;
/// How long a closing connection may still send (and have dropped) bytes.
const DRAIN: Duration = Duration::from_millis(100);
/// Most bytes read and dropped while draining.
const DRAIN_MAX_BYTES: usize = 64 * 1024;
/// Poll period while a command waits for the engine's reply.
const REPLY_POLL: Duration = Duration::from_millis(2);

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

/// Where one connection is.
enum Phase {
    /// Receiving the request, until the connection's deadline.
    Reading,
    /// The engine has the command; its reply is awaited until `until`.
    Waiting {
        /// The engine's answer.
        reply: Receiver<ControlReply>,
        /// When the request gives up (504).
        until: Instant,
        /// The command, for the log.
        command: super::ControlCommand,
    },
    /// Sending `out[written..]`, until the connection's deadline.
    Writing {
        /// The whole response.
        out: Vec<u8>,
        /// Bytes sent so far.
        written: usize,
    },
    /// Response sent and FIN sent: reading and dropping what the client
    /// still sends (closing with unread bytes would reset the response).
    Draining {
        /// When the connection is closed anyway.
        until: Instant,
        /// Bytes dropped so far.
        drained: usize,
    },
}

/// One client connection.
struct Conn {
    /// The socket (non-blocking).
    stream: TcpStream,
    /// The client's address.
    peer: SocketAddr,
    /// Bytes received (at most head limit + body limit).
    buf: Vec<u8>,
    /// End of the current reading or writing phase.
    deadline: Instant,
    /// When it was accepted (the oldest reader is evicted first).
    accepted: Instant,
    /// Where it is.
    phase: Phase,
}

/// The loop's state.
pub(super) struct EventLoop {
    /// The poll the listener, the waker and every connection are on.
    poll: Poll,
    /// The listening socket.
    listener: TcpListener,
    /// Answers requests.
    router: Router,
    /// Connection bounds.
    limits: ServerLimits,
    /// Connection slots (`None`: free).
    conns: Vec<Option<Conn>>,
    /// Open connections.
    open: usize,
}

impl EventLoop {
    /// Returns a loop over `listener` (made non-blocking by the caller)
    /// answering with `router` within `limits`, and the waker that
    /// interrupts its poll.
    ///
    /// # Errors
    /// The operating-system error when the poll or its waker cannot be
    /// created or the listener cannot be registered.
    pub(super) fn new(
        listener: std::net::TcpListener,
        router: Router,
        limits: ServerLimits,
    ) -> io::Result<(Self, Arc<mio::Waker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let event_loop = Self {
            poll,
            listener,
            router,
            limits,
            conns: Vec::new(),
            open: 0,
        };
        Ok((event_loop, waker))
    }

    fn limits(&self) -> ServerLimits {
        self.limits
    }

    /// Serves until `stop` is set (the waker interrupts the poll).
    pub(super) fn run(mut self, stop: &AtomicBool) {
        let mut events = Events::with_capacity(256);
        while !stop.load(Ordering::Acquire) {
            let timeout = self.next_timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warn!("Control server poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
            for event in &events {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => {}
                    Token(t) => self.on_ready(t - FIRST_CONN),
                }
            }
            let now = Instant::now();
            self.poll_replies(now);
            self.expire(now);
        }
    }

    /// Returns how long the next poll may sleep: until the nearest
    /// deadline, briefly while a reply is awaited, at most 1 s.
    fn next_timeout(&self, now: Instant) -> Duration {
        let mut wait = Duration::from_secs(1);
        for conn in self.conns.iter().flatten() {
            let until = match &conn.phase {
                Phase::Waiting { .. } => return REPLY_POLL,
                Phase::Draining { until, .. } => *until,
                Phase::Reading | Phase::Writing { .. } => conn.deadline,
            };
            wait = wait.min(until.saturating_duration_since(now));
        }
        wait
    }

    /// Accepts every pending connection.
    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE and the like: the pending connection stays
                    // queued; the next poll retries after a pause.
                    log::warn!("Control server accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                    return;
                }
            }
        }
    }

    /// Registers a new connection, evicting the oldest unfinished reader
    /// when full (or refusing the new one when nobody can be evicted).
    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        if self.open >= self.limits().max_connections.max(1) && !self.evict_oldest_reader() {
            log::warn!("Control server full: connection from {peer} refused");
            let out = http::render_response(503, "text/plain", &[], "Server busy\n");
            let _ = stream.write(&out);
            return;
        }
        let slot = match self.conns.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        let token = Token(slot + FIRST_CONN);
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("Control server cannot watch the connection from {peer}: {e}");
            return;
        }
        let now = Instant::now();
        let limits = self.limits();
        self.conns[slot] = Some(Conn {
            stream,
            peer,
            buf: Vec::with_capacity(1024),
            deadline: now + limits.io_timeout,
            accepted: now,
            phase: Phase::Reading,
        });
        self.open += 1;
        // Bytes may already be waiting (edge-triggered: read them now).
        self.on_ready(slot);
    }

    /// Drops the oldest connection still sending its request; returns
    /// false when there is none.
    fn evict_oldest_reader(&mut self) -> bool {
        let oldest = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
            .filter(|(_, c)| matches!(c.phase, Phase::Reading))
            .min_by_key(|(_, c)| c.accepted)
            .map(|(i, _)| i);
        match oldest {
            Some(i) => {
                if let Some(c) = self.conns[i].as_ref() {
                    log::debug!(
                        "Control server full: dropping idle connection from {}",
                        c.peer
                    );
                }
                self.close(i);
                true
            }
            None => false,
        }
    }

    /// Closes slot `i`.
    fn close(&mut self, i: usize) {
        if let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            self.open -= 1;
        }
    }

    /// Advances slot `i` after a readiness event.
    fn on_ready(&mut self, i: usize) {
        let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let keep = match conn.phase {
            Phase::Reading => {
                let limits = self.limits;
                match read_request(conn, limits) {
                    Step::Wait => true,
                    Step::Close => false,
                    Step::Answer(resp) => start_write(conn, &resp, limits.io_timeout),
                    Step::Request(req) => match self.router.route(&req, conn.peer) {
                        Routed::Respond(resp) => start_write(conn, &resp, limits.io_timeout),
                        Routed::Wait { reply, command } => {
                            conn.phase = Phase::Waiting {
                                reply,
                                until: Instant::now() + limits.reply_timeout,
                                command,
                            };
                            true
                        }
                    },
                }
            }
            Phase::Waiting { .. } => true,
            Phase::Writing { .. } => write_out(conn),
            Phase::Draining { .. } => drain(conn),
        };
        if !keep {
            self.close(i);
        }
    }

    /// Answers every waiting command whose reply came or whose time is up.
    fn poll_replies(&mut self, now: Instant) {
        let io_timeout = self.limits().io_timeout;
        let mut done = Vec::new();
        for (i, slot) in self.conns.iter_mut().enumerate() {
            let Some(conn) = slot.as_mut() else { continue };
            let Phase::Waiting {
                reply,
                until,
                command,
            } = &conn.phase
            else {
                continue;
            };
            let (command, peer) = (*command, conn.peer);
            let resp = match reply.try_recv() {
                Ok(r) => {
                    let verdict = if r.accepted { "accepted" } else { "declined" };
                    log::info!("Control command {command} from {peer} {verdict}");
                    reply_response(r)
                }
                Err(TryRecvError::Empty) if now < *until => continue,
                Err(TryRecvError::Empty) => {
                    log::warn!(
                        "Control command {command} from {peer}: engine did not reply in time"
                    );
                    Response::text(
                        504,
                        "Engine did not reply in time; the command may still apply",
                    )
                }
                Err(TryRecvError::Disconnected) => {
                    log::warn!("Control command {command} from {peer}: engine dropped the request");
                    Response::text(503, "Engine dropped the command without replying")
                }
            };
            if !start_write(conn, &resp, io_timeout) {
                done.push(i);
            }
        }
        for i in done {
            self.close(i);
        }
    }

    /// Enforces every connection's deadline.
    fn expire(&mut self, now: Instant) {
        let io_timeout = self.limits().io_timeout;
        let mut done = Vec::new();
        for (i, slot) in self.conns.iter_mut().enumerate() {
            let Some(conn) = slot.as_mut() else { continue };
            let keep = match conn.phase {
                Phase::Reading if now >= conn.deadline => start_write(
                    conn,
                    &Response::text(408, "Request not received in time"),
                    io_timeout,
                ),
                Phase::Writing { .. } if now >= conn.deadline => false,
                Phase::Draining { until, .. } if now >= until => false,
                _ => true,
            };
            if !keep {
                done.push(i);
            }
        }
        for i in done {
            self.close(i);
        }
    }
}

/// What reading produced.
enum Step {
    /// Nothing complete yet.
    Wait,
    /// The client left (or failed) before a complete request.
    Close,
    /// A framing error to answer.
    Answer(Response),
    /// A complete request.
    Request(http::Request),
}

/// Reads what is available and parses it.
fn read_request(conn: &mut Conn, limits: ServerLimits) -> Step {
    let cap = limits.max_head_bytes.saturating_add(limits.max_body_bytes);
    let mut scratch = [0u8; 4096];
    let mut eof = false;
    while conn.buf.len() < cap {
        let want = scratch.len().min(cap - conn.buf.len());
        match conn.stream.read(&mut scratch[..want]) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => conn.buf.extend_from_slice(&scratch[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Close,
        }
    }
    match http::parse(&conn.buf, limits.max_head_bytes, limits.max_body_bytes) {
        Ok(Parsed::Complete(req)) => Step::Request(req),
        Ok(Parsed::Incomplete) if eof => Step::Close,
        Ok(Parsed::Incomplete) => Step::Wait,
        Err(e) => Step::Answer(match e {
            ReadError::HeadTooLarge => Response::text(431, "Request head too large"),
            ReadError::BodyTooLarge => Response::text(413, "Request body too large"),
            ReadError::Malformed(why) => Response::text(400, format!("Malformed request: {why}")),
        }),
    }
}

/// Starts sending `resp`; returns false when the connection is finished.
fn start_write(conn: &mut Conn, resp: &Response, io_timeout: Duration) -> bool {
    let out = http::render_response(resp.status, resp.content_type, resp.extra, &resp.body);
    conn.buf = Vec::new();
    conn.deadline = Instant::now() + io_timeout;
    conn.phase = Phase::Writing { out, written: 0 };
    write_out(conn)
}

/// Sends what the socket takes; after the last byte sends FIN and starts
/// draining. Returns false when the connection is finished.
fn write_out(conn: &mut Conn) -> bool {
    let Phase::Writing { out, written } = &mut conn.phase else {
        return true;
    };
    while *written < out.len() {
        match conn.stream.write(&out[*written..]) {
            Ok(0) => return false,
            Ok(n) => *written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::debug!("Control server could not answer {}: {e}", conn.peer);
                return false;
            }
        }
    }
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    conn.phase = Phase::Draining {
        until: Instant::now() + DRAIN,
        drained: 0,
    };
    drain(conn)
}

/// Reads and drops what the client still sends; returns false once it
/// closed, failed or sent too much.
fn drain(conn: &mut Conn) -> bool {
    let Phase::Draining { drained, .. } = &mut conn.phase else {
        return true;
    };
    let mut scratch = [0u8; 4096];
    loop {
        match conn.stream.read(&mut scratch) {
            Ok(0) => return false,
            Ok(n) => {
                *drained += n;
                if *drained >= DRAIN_MAX_BYTES {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}
