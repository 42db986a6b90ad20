//! The reconnecting, non-blocking WebSocket client shared by every stream.
//!
//! Consumes a URL, a [`WsConfig`] and a [`WsProtocol`] (what to send on open, how to decode a
//! message); produces [`WsEvent`]s through a caller-supplied sink from
//! [`WsClient::poll_once`]. Connect, TLS and the HTTP upgrade are non-blocking state-machine
//! steps, so the hot thread can busy-poll; protocol pings are answered, silent connections
//! are dropped, lost connections are retried with bounded jittered backoff and the outage
//! window is reported. Never blocks, never logs after start-up, and in steady state (an open
//! `ws://` or `wss://` connection) never allocates per frame: the read, fragment and write
//! buffers are owned and reused, and over `wss://` the TLS records are decrypted in place
//! by [`super::tls_stream::TlsStream`] (rustls only runs the handshake).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::config::ExchangeConfig;
use crate::io::tls::{client_config, TlsOptions};
use crate::types::TimestampNs;

use super::backoff::Backoff;
use super::frame::{apply_mask, encode_client_frame, parse_frame, FrameError, Opcode};
use super::tls_stream::with_secret_extraction;
use super::transport::Transport;
use super::url::{WsUrl, WsUrlError};
use super::{DisconnectReason, HandshakeFailure, OutageWindow, WsEvent, WsSetupError, WsStats};

/// Connection settings of a [`WsClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsConfig {
    /// A connection with no frame at all for this long is dropped (default 15 s; BingX pings
    /// every 5 s, Binance every 3 min, so use more than 180 s there).
    pub silence_timeout: Duration,
    /// Longest time for TCP connect, TLS and the upgrade together (default 10 s).
    pub connect_timeout: Duration,
    /// First reconnect delay (default 250 ms).
    pub backoff_base: Duration,
    /// Longest reconnect delay (default 30 s).
    pub backoff_max: Duration,
    /// Seed of the jitter and of the frame masks.
    pub seed: u64,
    /// Largest accepted message payload (default 1 MiB).
    pub max_payload: usize,
    /// Reconnect proactively after this connection age (Binance closes at 24 h).
    pub max_age: Option<Duration>,
    /// Trusted roots for `wss://`.
    pub tls: TlsOptions,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            silence_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            seed: 0x5EED_0FBA_C0FF,
            max_payload: 1 << 20,
            max_age: None,
            tls: TlsOptions::default(),
        }
    }
}

impl WsConfig {
    /// Returns the defaults with the exchange section's trust settings (`ca_file` added to
    /// the web roots, e.g. the loopback simulator's certificate).
    #[must_use]
    pub fn for_exchange(exchange: &ExchangeConfig) -> Self {
        Self {
            tls: TlsOptions {
                use_webpki_roots: true,
                extra_ca_file: exchange.ca_file.clone(),
            },
            ..Self::default()
        }
    }

    /// Returns settings for Binance (§7.5): pings come every 3 minutes, so silence is only
    /// declared after 200 s, and connections are renewed before the 24-hour server cut.
    #[must_use]
    pub fn binance(exchange: &ExchangeConfig) -> Self {
        Self {
            silence_timeout: Duration::from_secs(200),
            max_age: Some(Duration::from_secs(23 * 3600 + 50 * 60)),
            ..Self::for_exchange(exchange)
        }
    }
}

/// What a message turned out to be, as far as liveness is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Market or account data was emitted.
    Data,
    /// Heartbeat, acknowledgement or a known message without data.
    Control,
    /// Could not be decoded; counted and skipped.
    Malformed,
}

/// Frames queued for sending (masked client frames in a reused buffer).
#[derive(Debug)]
pub struct Outbox<'a> {
    buf: &'a mut Vec<u8>,
    rng: &'a mut u64,
}

impl Outbox<'_> {
    fn mask(&mut self) -> [u8; 4] {
        let mut x = *self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *self.rng = x;
        (x as u32).to_le_bytes()
    }

    /// Queues a text frame.
    pub fn send_text(&mut self, payload: &[u8]) {
        let m = self.mask();
        encode_client_frame(self.buf, Opcode::Text, payload, m);
    }

    /// Queues a control or data frame with the given opcode.
    pub fn send(&mut self, opcode: Opcode, payload: &[u8]) {
        let m = self.mask();
        encode_client_frame(self.buf, opcode, payload, m);
    }
}

/// The stream-specific half of a client: subscriptions and message decoding.
pub trait WsProtocol {
    /// What a data message decodes to.
    type Event: Copy;

    /// Queues whatever must be sent on every new connection (subscriptions).
    fn on_open(&mut self, out: &mut Outbox<'_>);

    /// Decodes one complete message (`text` false = binary), emitting events and queueing
    /// replies (heartbeat answers).
    fn on_message(
        &mut self,
        text: bool,
        payload: &[u8],
        out: &mut Outbox<'_>,
        emit: &mut impl FnMut(Self::Event),
    ) -> MessageKind;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting until the given time before the next attempt.
    Idle(i64),
    /// TCP connect in progress.
    Connecting,
    /// Upgrade request sent, waiting for `101`.
    Upgrading,
    /// Frames flow.
    Open,
    /// Closed for good by [`WsClient::close`].
    Stopped,
}

/// A reconnecting WebSocket client driven by [`WsClient::poll_once`].
#[derive(Debug)]
pub struct WsClient<P: WsProtocol> {
    cfg: WsConfig,
    url: WsUrl,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    tls: Option<Arc<rustls::ClientConfig>>,
    proto: P,
    phase: Phase,
    transport: Option<Transport>,
    rbuf: Vec<u8>,
    rlen: usize,
    frag: Vec<u8>,
    frag_text: Option<bool>,
    wbuf: Vec<u8>,
    rng: u64,
    ws_key: String,
    backoff: Backoff,
    phase_started: i64,
    last_rx: i64,
    opened_at: i64,
    outage_from: Option<TimestampNs>,
    data_since_open: bool,
    stats: WsStats,
}

fn ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn resolve(url: &WsUrl) -> Result<Vec<SocketAddr>, WsSetupError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| WsSetupError::Resolve(url.host.clone(), e))?
        .collect();
    if addrs.is_empty() {
        return Err(WsSetupError::Resolve(
            url.host.clone(),
            io::Error::new(io::ErrorKind::NotFound, "no address"),
        ));
    }
    Ok(addrs)
}

impl<P: WsProtocol> WsClient<P> {
    /// Returns a client for `url` (cold: parses, resolves the host once and allocates every
    /// buffer). The first [`WsClient::poll_once`] starts connecting.
    ///
    /// # Errors
    /// [`WsSetupError`] for a bad URL, an unresolvable host or a bad TLS setup.
    pub fn new(url: &str, cfg: WsConfig, proto: P) -> Result<Self, WsSetupError> {
        let parsed = WsUrl::parse(url).map_err(WsSetupError::Url)?;
        let addrs = resolve(&parsed)?;
        let tls = if parsed.tls {
            Some(with_secret_extraction(
                client_config(&cfg.tls).map_err(WsSetupError::Tls)?,
            ))
        } else {
            None
        };
        let backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max, cfg.seed);
        let rbuf = vec![0u8; cfg.max_payload + 64 * 1024];
        Ok(Self {
            url: parsed,
            addrs,
            next_addr: 0,
            tls,
            proto,
            phase: Phase::Idle(i64::MIN),
            transport: None,
            rbuf,
            rlen: 0,
            frag: Vec::with_capacity(64 * 1024),
            frag_text: None,
            wbuf: Vec::with_capacity(64 * 1024),
            rng: cfg.seed.rotate_left(17) | 1,
            ws_key: String::new(),
            backoff,
            phase_started: 0,
            last_rx: 0,
            opened_at: 0,
            outage_from: None,
            data_since_open: false,
            stats: WsStats::default(),
            cfg,
        })
    }

    /// Returns the protocol half (subscriptions, decoder statistics).
    #[must_use]
    pub fn protocol(&self) -> &P {
        &self.proto
    }

    /// Returns the protocol half mutably (cold: add subscriptions before connecting).
    pub fn protocol_mut(&mut self) -> &mut P {
        &mut self.proto
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> &WsStats {
        &self.stats
    }

    /// Returns true while frames flow.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Returns the parsed URL.
    #[must_use]
    pub fn url(&self) -> &WsUrl {
        &self.url
    }

    /// Returns the longest reconnect delay.
    #[must_use]
    pub fn backoff_max(&self) -> Duration {
        self.backoff.max()
    }

    /// Replaces the URL (cold: e.g. a renewed listen key) and reconnects at once.
    ///
    /// # Errors
    /// [`WsSetupError`] when the new URL is bad or unresolvable; the old one stays in use.
    pub fn set_url(&mut self, url: &str, now: TimestampNs) -> Result<(), WsSetupError> {
        let parsed = WsUrl::parse(url).map_err(WsSetupError::Url)?;
        if parsed.host != self.url.host || parsed.port != self.url.port {
            self.addrs = resolve(&parsed)?;
            self.next_addr = 0;
        }
        if parsed.tls && self.tls.is_none() {
            self.tls = Some(with_secret_extraction(
                client_config(&self.cfg.tls).map_err(WsSetupError::Tls)?,
            ));
        }
        self.url = parsed;
        self.reconnect(now);
        Ok(())
    }

    /// Drops the current connection (if any) and connects again on the next poll, without
    /// backoff. An open connection's outage window starts now.
    pub fn reconnect(&mut self, now: TimestampNs) {
        if self.phase == Phase::Stopped {
            return;
        }
        if self.phase == Phase::Open && self.outage_from.is_none() {
            self.outage_from = Some(now);
        }
        self.transport = None;
        self.phase = Phase::Idle(now.0);
    }

    /// Sends a Close frame (best effort) and stops for good.
    pub fn close(&mut self) {
        if let Some(t) = self.transport.as_mut() {
            let mut out = Outbox {
                buf: &mut self.wbuf,
                rng: &mut self.rng,
            };
            out.send(Opcode::Close, &1000u16.to_be_bytes());
            let _ = t.write(&self.wbuf);
            let _ = t.flush();
        }
        self.wbuf.clear();
        self.transport = None;
        self.phase = Phase::Stopped;
    }

    /// Does whatever can be done now without blocking — connect steps, reads, decoding,
    /// heartbeat answers, writes, timeouts — and hands events to `sink`. Returns the number
    /// of data messages decoded.
    pub fn poll_once(&mut self, now: TimestampNs, sink: &mut impl FnMut(WsEvent<P::Event>)) -> u32 {
        match self.phase {
            Phase::Stopped => 0,
            Phase::Idle(at) => {
                if now.0 >= at {
                    self.start_connect(now);
                }
                0
            }
            Phase::Connecting => {
                self.step_connecting(now, sink);
                0
            }
            Phase::Upgrading => self.step_upgrading(now, sink),
            Phase::Open => self.step_open(now, sink),
        }
    }

    fn fail(
        &mut self,
        now: TimestampNs,
        reason: DisconnectReason,
        sink: &mut impl FnMut(WsEvent<P::Event>),
    ) {
        self.transport = None;
        if self.phase == Phase::Open {
            self.stats.disconnects += 1;
            if self.outage_from.is_none() {
                self.outage_from = Some(now);
            }
            sink(WsEvent::Disconnected { at: now, reason });
        } else {
            self.stats.failed_attempts += 1;
        }
        self.stats.last_disconnect = Some(reason);
        let delay = self.backoff.next_delay();
        self.stats.last_backoff = delay;
        self.phase = Phase::Idle(now.0.saturating_add(ns(delay)));
    }

    fn start_connect(&mut self, now: TimestampNs) {
        let addr = self.addrs[self.next_addr % self.addrs.len()];
        self.next_addr = self.next_addr.wrapping_add(1);
        self.rlen = 0;
        self.frag.clear();
        self.frag_text = None;
        self.wbuf.clear();
        self.phase_started = now.0;
        self.stats.connect_attempts += 1;
        match mio::net::TcpStream::connect(addr) {
            Ok(sock) => {
                self.transport = Some(Transport::Plain(sock));
                self.phase = Phase::Connecting;
            }
            Err(_) => {
                self.stats.failed_attempts += 1;
                let delay = self.backoff.next_delay();
                self.stats.last_backoff = delay;
                self.phase = Phase::Idle(now.0.saturating_add(ns(delay)));
            }
        }
    }

    fn timed_out(&self, now: TimestampNs) -> bool {
        now.0.saturating_sub(self.phase_started) > ns(self.cfg.connect_timeout)
    }

    fn step_connecting(&mut self, now: TimestampNs, sink: &mut impl FnMut(WsEvent<P::Event>)) {
        let Some(Transport::Plain(sock)) = self.transport.as_ref() else {
            return self.fail(now, DisconnectReason::Io(io::ErrorKind::NotConnected), sink);
        };
        match sock.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return self.fail(now, DisconnectReason::Io(e.kind()), sink),
        }
        match sock.peer_addr() {
            Ok(_) => {}
            Err(e)
                if e.kind() == io::ErrorKind::NotConnected
                    || e.kind() == io::ErrorKind::WouldBlock =>
            {
                if self.timed_out(now) {
                    self.fail(now, DisconnectReason::ConnectTimeout, sink);
                }
                return;
            }
            Err(e) => return self.fail(now, DisconnectReason::Io(e.kind()), sink),
        }
        let Some(Transport::Plain(sock)) = self.transport.take() else {
            return;
        };
        let _ = sock.set_nodelay(true);
        let transport = match &self.tls {
            Some(cfg) => match Transport::tls(Arc::clone(cfg), &self.url.host, sock) {
                Ok(t) => t,
                Err(_) => return self.fail(now, DisconnectReason::Tls, sink),
            },
            None => Transport::Plain(sock),
        };
        self.transport = Some(transport);
        // Cold path (once per connection): the handshake request.
        self.ws_key = tungstenite::handshake::client::generate_key();
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: trading-engine\r\n\r\n",
            self.url.resource,
            self.url.host_header(),
            self.ws_key
        );
        self.wbuf.extend_from_slice(req.as_bytes());
        self.phase = Phase::Upgrading;
        self.step_upgrading(now, sink);
    }

    /// Writes queued bytes; returns false after a fatal error (already reported).
    fn flush_writes(&mut self, now: TimestampNs, sink: &mut impl FnMut(WsEvent<P::Event>)) -> bool {
        let Some(t) = self.transport.as_mut() else {
            return false;
        };
        let mut written = 0;
        let mut failure = None;
        while written < self.wbuf.len() {
            match t.write(&self.wbuf[written..]) {
                Ok(0) => {
                    failure = Some(DisconnectReason::Closed);
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    failure = Some(DisconnectReason::Io(e.kind()));
                    break;
                }
            }
        }
        if failure.is_none() {
            if let Err(e) = t.flush() {
                failure = Some(DisconnectReason::Io(e.kind()));
            }
        }
        if written == self.wbuf.len() {
            self.wbuf.clear();
        } else if written > 0 {
            self.wbuf.drain(..written);
        }
        match failure {
            Some(r) => {
                self.fail(now, r, sink);
                false
            }
            None => true,
        }
    }

    /// Reads into the read buffer; returns `Ok(true)` when bytes arrived.
    fn fill(&mut self) -> Result<bool, DisconnectReason> {
        let Some(t) = self.transport.as_mut() else {
            return Err(DisconnectReason::Closed);
        };
        let mut got = false;
        while self.rlen < self.rbuf.len() {
            match t.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => return Err(DisconnectReason::Closed),
                Ok(n) => {
                    self.rlen += n;
                    self.stats.bytes += n as u64;
                    got = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(DisconnectReason::Tls)
                }
                Err(e) => return Err(DisconnectReason::Io(e.kind())),
            }
        }
        Ok(got)
    }

    fn step_upgrading(
        &mut self,
        now: TimestampNs,
        sink: &mut impl FnMut(WsEvent<P::Event>),
    ) -> u32 {
        if !self.flush_writes(now, sink) {
            return 0;
        }
        // A refusal (e.g. 404) is often followed by the server closing: judge the reply
        // first, the read error second.
        let filled = self.fill();
        let Some(end) = self.rbuf[..self.rlen]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        else {
            if let Err(r) = filled {
                self.fail(now, r, sink);
            } else if self.rlen == self.rbuf.len() {
                self.fail(
                    now,
                    DisconnectReason::Handshake(HandshakeFailure::Malformed),
                    sink,
                );
            } else if self.timed_out(now) {
                self.fail(now, DisconnectReason::ConnectTimeout, sink);
            }
            return 0;
        };
        let head_len = end + 4;
        if let Err(f) = check_upgrade(&self.rbuf[..head_len], &self.ws_key) {
            self.fail(now, DisconnectReason::Handshake(f), sink);
            return 0;
        }
        self.rbuf.copy_within(head_len..self.rlen, 0);
        self.rlen -= head_len;
        self.phase = Phase::Open;
        self.opened_at = now.0;
        self.last_rx = now.0;
        self.data_since_open = false;
        self.stats.connects += 1;
        sink(WsEvent::Connected {
            at: now,
            reconnect: self.stats.connects > 1,
        });
        let mut out = Outbox {
            buf: &mut self.wbuf,
            rng: &mut self.rng,
        };
        self.proto.on_open(&mut out);
        let n = self.process_frames(now, sink);
        if let Err(r) = filled {
            if self.phase == Phase::Open {
                self.fail(now, r, sink);
            }
        }
        n
    }

    fn step_open(&mut self, now: TimestampNs, sink: &mut impl FnMut(WsEvent<P::Event>)) -> u32 {
        if !self.wbuf.is_empty() && !self.flush_writes(now, sink) {
            return 0;
        }
        match self.fill() {
            Ok(true) => self.last_rx = now.0,
            Ok(false) => {
                if now.0.saturating_sub(self.last_rx) > ns(self.cfg.silence_timeout) {
                    self.fail(now, DisconnectReason::Silent, sink);
                    return 0;
                }
                if let Some(age) = self.cfg.max_age {
                    if now.0.saturating_sub(self.opened_at) > ns(age) {
                        // Proactive: no backoff, the connection was healthy.
                        self.stats.disconnects += 1;
                        if self.outage_from.is_none() {
                            self.outage_from = Some(now);
                        }
                        sink(WsEvent::Disconnected {
                            at: now,
                            reason: DisconnectReason::MaxAge,
                        });
                        self.transport = None;
                        self.phase = Phase::Idle(now.0);
                    }
                }
                return 0;
            }
            Err(r) => {
                // Deliver what arrived before the close, then report it.
                let n = self.process_frames(now, sink);
                if self.phase == Phase::Open {
                    self.fail(now, r, sink);
                }
                return n;
            }
        }
        self.process_frames(now, sink)
    }

    fn process_frames(
        &mut self,
        now: TimestampNs,
        sink: &mut impl FnMut(WsEvent<P::Event>),
    ) -> u32 {
        let mut start = 0usize;
        let mut data = 0u32;
        let mut fatal: Option<DisconnectReason> = None;
        {
            let Self {
                rbuf,
                rlen,
                frag,
                frag_text,
                wbuf,
                rng,
                proto,
                stats,
                outage_from,
                data_since_open,
                backoff,
                cfg,
                ..
            } = self;
            while start < *rlen {
                let header = match parse_frame(&rbuf[start..*rlen], cfg.max_payload) {
                    Ok(Some(h)) => h,
                    Ok(None) => break,
                    Err(e) => {
                        fatal = Some(DisconnectReason::Frame(e));
                        break;
                    }
                };
                let ps = start + header.payload_start;
                let pe = start + header.frame_len();
                start = pe;
                stats.frames += 1;
                if let Some(m) = header.mask {
                    apply_mask(&mut rbuf[ps..pe], m);
                }
                let payload = &rbuf[ps..pe];
                let mut out = Outbox { buf: wbuf, rng };
                let (text, message): (bool, &[u8]) = match header.opcode {
                    Opcode::Ping => {
                        stats.pings_answered += 1;
                        out.send(Opcode::Pong, payload);
                        continue;
                    }
                    Opcode::Pong => continue,
                    Opcode::Close => {
                        out.send(Opcode::Close, payload.get(..2).unwrap_or(&[]));
                        fatal = Some(DisconnectReason::Closed);
                        break;
                    }
                    Opcode::Text | Opcode::Binary if frag_text.is_some() => {
                        fatal = Some(DisconnectReason::Frame(FrameError::BadOpcode(0)));
                        break;
                    }
                    Opcode::Text | Opcode::Binary if !header.fin => {
                        *frag_text = Some(header.opcode == Opcode::Text);
                        frag.clear();
                        frag.extend_from_slice(payload);
                        continue;
                    }
                    Opcode::Text => (true, payload),
                    Opcode::Binary => (false, payload),
                    Opcode::Continuation => {
                        let Some(t) = *frag_text else {
                            fatal = Some(DisconnectReason::Frame(FrameError::BadOpcode(0)));
                            break;
                        };
                        if frag.len() + payload.len() > cfg.max_payload {
                            fatal = Some(DisconnectReason::Frame(FrameError::TooLarge(
                                (frag.len() + payload.len()) as u64,
                            )));
                            break;
                        }
                        frag.extend_from_slice(payload);
                        if !header.fin {
                            continue;
                        }
                        *frag_text = None;
                        (t, frag.as_slice())
                    }
                };
                stats.messages += 1;
                let mut emit = |e: P::Event| {
                    if let Some(from) = outage_from.take() {
                        sink(WsEvent::Outage(OutageWindow { from, to: now }));
                    }
                    sink(WsEvent::Data(e));
                };
                match proto.on_message(text, message, &mut out, &mut emit) {
                    MessageKind::Data => {
                        data += 1;
                        if !*data_since_open {
                            *data_since_open = true;
                            backoff.reset();
                        }
                    }
                    MessageKind::Control => {}
                    MessageKind::Malformed => stats.malformed += 1,
                }
            }
        }
        if start > 0 {
            self.rbuf.copy_within(start..self.rlen, 0);
            self.rlen -= start;
        }
        if let Some(r) = fatal {
            let _ = self.flush_writes(now, sink);
            if self.phase == Phase::Open {
                self.fail(now, r, sink);
            }
            return data;
        }
        if !self.wbuf.is_empty() {
            let _ = self.flush_writes(now, sink);
        }
        data
    }
}

/// Returns the `Sec-WebSocket-Accept` value a server must answer to `Sec-WebSocket-Key:
/// key` (RFC 6455 §4.2.2); also what test and benchmark servers send.
#[must_use]
pub fn accept_key(key: &str) -> String {
    tungstenite::handshake::derive_accept_key(key.trim().as_bytes())
}

/// Checks the server's `101 Switching Protocols` answer to our upgrade request.
fn check_upgrade(head: &[u8], key: &str) -> Result<(), HandshakeFailure> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(HandshakeFailure::Malformed),
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        return Err(HandshakeFailure::Status(code));
    }
    let expected = accept_key(key);
    let ok = resp.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("sec-websocket-accept") && h.value == expected.as_bytes()
    });
    if ok {
        Ok(())
    } else {
        Err(HandshakeFailure::BadAccept)
    }
}

impl From<WsUrlError> for WsSetupError {
    fn from(e: WsUrlError) -> Self {
        Self::Url(e)
    }
}
