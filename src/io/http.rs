//! A blocking HTTP/1.1 client over one persistent keep-alive connection
//! (plain TCP for `http://`, rustls for `https://`), for the I/O thread.
//!
//! Consumes a method, path, pre-built query string and headers; produces the
//! response status, retry hints and body bytes (borrowed from a reused
//! buffer). The connection is opened once and kept warm; before reuse it is
//! checked for a peer close and transparently reopened; a write that fails on
//! a reused connection (broken pipe, reset) is retried once on a fresh one,
//! which is safe because a request whose bytes were not all written cannot
//! have been executed. Never disables certificate verification; never
//! allocates per request once buffers reached their working size.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::io::error::{Phase, TlsSetupError, TransportError};
use crate::io::http_response::{decode_chunks, parse_head, ChunkState, Framing, Head};
use crate::io::tls::{client_config, TlsOptions};

/// URL scheme of the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain TCP (tests, the loopback simulator).
    Http,
    /// TLS.
    Https,
}

/// Scheme, host and port of the REST server, e.g. `https://open-api.bingx.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP literal (also the TLS server name).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl BaseUrl {
    /// Parses `http://host[:port]` or `https://host[:port]` (a trailing `/` is allowed).
    ///
    /// # Errors
    /// [`TransportError::InvalidUrl`] for another scheme, a path, or a bad port.
    pub fn parse(url: &str) -> Result<Self, TransportError> {
        let (scheme, rest, default_port) = if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r, 443)
        } else if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r, 80)
        } else {
            return Err(TransportError::InvalidUrl {
                reason: "scheme must be http:// or https://",
            });
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('@') {
            return Err(TransportError::InvalidUrl {
                reason: "expected scheme://host[:port] without path",
            });
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p
                    .parse()
                    .map_err(|_| TransportError::InvalidUrl { reason: "bad port" })?;
                (h, port)
            }
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(TransportError::InvalidUrl {
                reason: "empty host",
            });
        }
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port,
        })
    }
}

/// Connection and timing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Timeout of TCP connect and of the TLS handshake (default 5 s).
    pub connect_timeout: Duration,
    /// Timeout of one request: writing it and reading the whole response (default 10 s).
    pub request_timeout: Duration,
    /// An idle connection older than this is reopened before use instead of
    /// risking a race with the server's keep-alive timeout (default 50 s).
    pub max_idle: Duration,
    /// Largest accepted response, head and body (default 8 MiB).
    pub max_response_bytes: usize,
    /// Trusted roots for `https://`.
    pub tls: TlsOptions,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_idle: Duration::from_secs(50),
            max_response_bytes: 8 << 20,
            tls: TlsOptions::default(),
        }
    }
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

impl Method {
    /// Returns the method token.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// A complete response; the body borrows the client's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, when present.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Requests-Remain`, when present.
    pub rate_limit_remaining: Option<u64>,
    /// `X-RateLimit-Requests-Expire` (raw), when present.
    pub rate_limit_expire: Option<u64>,
    /// The (de-chunked) body.
    pub body: &'a [u8],
}

/// Connection counters, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Connections opened.
    pub connects: u64,
    /// Reused connections found closed (or too idle) before a write.
    pub stale_reopens: u64,
    /// Writes retried on a fresh connection after a broken pipe or reset.
    pub write_retries: u64,
    /// Responses read.
    pub responses: u64,
}

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => &s.sock,
        }
    }
}

#[derive(Debug)]
struct Conn {
    stream: Stream,
    last_used: Instant,
    responses: u64,
    /// The socket is in non-blocking mode. Between requests it is left
    /// non-blocking so the order path costs only the liveness probe and the
    /// write (2 syscalls; bench `order_path`); reads switch back to blocking.
    nonblocking: bool,
}

impl Conn {
    fn set_nonblocking(&mut self, on: bool) -> std::io::Result<()> {
        if self.nonblocking != on {
            self.stream.tcp().set_nonblocking(on)?;
            self.nonblocking = on;
        }
        Ok(())
    }
}

/// The HTTP/1.1 client: one persistent connection and reused buffers.
#[derive(Debug)]
pub struct HttpClient {
    base: BaseUrl,
    config: HttpConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    conn: Option<Conn>,
    req: Vec<u8>,
    rbuf: Vec<u8>,
    body: Vec<u8>,
    stats: HttpStats,
}

fn is_timeout(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn is_peer_gone(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::BrokenPipe
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof
            | ErrorKind::NotConnected
    )
}

fn io_error(phase: Phase, e: std::io::Error) -> TransportError {
    let kind = e.kind();
    if is_timeout(kind) {
        return TransportError::Timeout { phase };
    }
    if kind == ErrorKind::UnexpectedEof {
        return TransportError::Closed { phase };
    }
    // rustls reports its own failures wrapped in io::Error(InvalidData).
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return TransportError::Tls {
            phase,
            source: tls.clone(),
        };
    }
    TransportError::Io { phase, source: e }
}

impl HttpClient {
    /// Returns a client for `base`; no connection is opened yet.
    ///
    /// # Errors
    /// [`TlsSetupError`] when the TLS configuration cannot be built (https only).
    pub fn try_new(base: BaseUrl, config: HttpConfig) -> Result<Self, TlsSetupError> {
        let tls = match base.scheme {
            Scheme::Https => Some(client_config(&config.tls)?),
            Scheme::Http => None,
        };
        Ok(Self {
            base,
            config,
            tls,
            conn: None,
            req: Vec::with_capacity(2048),
            rbuf: vec![0; 16 * 1024],
            body: Vec::with_capacity(16 * 1024),
            stats: HttpStats::default(),
        })
    }

    /// Returns the base URL.
    #[must_use]
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// Returns the connection counters.
    #[must_use]
    pub fn stats(&self) -> HttpStats {
        self.stats
    }

    /// Returns true when a connection is open (it may still turn out stale).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Returns how long the open connection has been idle, or `None` when
    /// no connection is open.
    #[must_use]
    pub fn idle_for(&self) -> Option<Duration> {
        self.conn.as_ref().map(|c| c.last_used.elapsed())
    }

    /// Closes the connection, if any.
    pub fn close(&mut self) {
        self.conn = None;
    }

    /// Opens the connection (TCP connect and full TLS handshake) if none is
    /// open, so the first request does not pay for it.
    ///
    /// # Errors
    /// [`TransportError`] in the connect or handshake phase.
    pub fn connect(&mut self) -> Result<(), TransportError> {
        if self.conn.is_none() {
            self.open()?;
        }
        Ok(())
    }

    fn open(&mut self) -> Result<(), TransportError> {
        self.conn = None;
        let addrs = (self.base.host.as_str(), self.base.port)
            .to_socket_addrs()
            .map_err(|source| TransportError::Io {
                phase: Phase::Connect,
                source,
            })?;
        let mut last_err = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.config.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let tcp = match tcp {
            Some(s) => s,
            None => {
                return Err(match last_err {
                    Some(e) => io_error(Phase::Connect, e),
                    None => TransportError::Io {
                        phase: Phase::Connect,
                        source: std::io::Error::new(ErrorKind::NotFound, "host has no address"),
                    },
                })
            }
        };
        let setup = |e| TransportError::Io {
            phase: Phase::Connect,
            source: e,
        };
        tcp.set_nodelay(true).map_err(setup)?;
        tcp.set_write_timeout(Some(self.config.request_timeout))
            .map_err(setup)?;
        tcp.set_read_timeout(Some(self.config.request_timeout))
            .map_err(setup)?;
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some(cfg) => {
                tcp.set_read_timeout(Some(self.config.connect_timeout))
                    .map_err(setup)?;
                let name = rustls::pki_types::ServerName::try_from(self.base.host.clone())
                    .map_err(|_| TransportError::InvalidUrl {
                        reason: "host is not a valid TLS server name",
                    })?;
                let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(|source| {
                    TransportError::Tls {
                        phase: Phase::Handshake,
                        source,
                    }
                })?;
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let deadline = Instant::now() + self.config.connect_timeout;
                while tls.conn.is_handshaking() {
                    if Instant::now() > deadline {
                        return Err(TransportError::Timeout {
                            phase: Phase::Handshake,
                        });
                    }
                    tls.conn
                        .complete_io(&mut tls.sock)
                        .map_err(|e| io_error(Phase::Handshake, e))?;
                }
                tls.sock
                    .set_read_timeout(Some(self.config.request_timeout))
                    .map_err(setup)?;
                Stream::Tls(Box::new(tls))
            }
        };
        self.stats.connects += 1;
        self.conn = Some(Conn {
            stream,
            last_used: Instant::now(),
            responses: 0,
            nonblocking: false,
        });
        Ok(())
    }

    /// Returns true when the idle connection can no longer be used: too old,
    /// closed by the peer, or holding unexpected bytes.
    fn is_stale(conn: &mut Conn, max_idle: Duration) -> bool {
        if conn.last_used.elapsed() > max_idle {
            return true;
        }
        if conn.set_nonblocking(true).is_err() {
            return true;
        }
        match &mut conn.stream {
            Stream::Plain(s) => {
                let mut probe = [0u8; 1];
                // Ok(0): peer closed; Ok(n): unsolicited bytes; WouldBlock: healthy.
                !matches!(s.peek(&mut probe), Err(e) if e.kind() == ErrorKind::WouldBlock)
            }
            Stream::Tls(s) => loop {
                match s.conn.read_tls(&mut s.sock) {
                    Ok(0) => break true,
                    Ok(_) => match s.conn.process_new_packets() {
                        // Post-handshake messages (session tickets) are fine;
                        // a close_notify or application data is not.
                        Ok(state) => {
                            if state.peer_has_closed() || state.plaintext_bytes_to_read() > 0 {
                                break true;
                            }
                        }
                        Err(_) => break true,
                    },
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
                    Err(_) => break true,
                }
            },
        }
    }

    fn format_request(
        &mut self,
        method: Method,
        path: &str,
        query: &[u8],
        headers: &[(&str, &str)],
    ) {
        let r = &mut self.req;
        r.clear();
        r.extend_from_slice(method.as_str().as_bytes());
        r.push(b' ');
        r.extend_from_slice(path.as_bytes());
        if !query.is_empty() {
            r.push(b'?');
            r.extend_from_slice(query);
        }
        r.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        r.extend_from_slice(self.base.host.as_bytes());
        let default_port = match self.base.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        if self.base.port != default_port {
            let _ = write!(r, ":{}", self.base.port);
        }
        r.extend_from_slice(b"\r\nUser-Agent: trading-engine/0.1\r\nAccept: application/json\r\nConnection: keep-alive\r\n");
        for (name, value) in headers {
            r.extend_from_slice(name.as_bytes());
            r.extend_from_slice(b": ");
            r.extend_from_slice(value.as_bytes());
            r.extend_from_slice(b"\r\n");
        }
        if method != Method::Get {
            r.extend_from_slice(b"Content-Length: 0\r\n");
        }
        r.extend_from_slice(b"\r\n");
    }

    /// Writes the formatted request. Tries a non-blocking write first (the
    /// socket buffer is normally empty between requests); on `WouldBlock`
    /// switches to blocking mode (bounded by the write timeout) for the rest.
    fn write_buffered(&mut self) -> Result<(), std::io::Error> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| std::io::Error::from(ErrorKind::NotConnected))?;
        match &mut conn.stream {
            Stream::Plain(s) => {
                let mut sent = 0;
                while sent < self.req.len() {
                    match s.write(&self.req[sent..]) {
                        Ok(0) => return Err(ErrorKind::WriteZero.into()),
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock && conn.nonblocking => {
                            s.set_nonblocking(false)?;
                            conn.nonblocking = false;
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
            Stream::Tls(s) => {
                s.conn.writer().write_all(&self.req)?;
                while s.conn.wants_write() {
                    match s.conn.write_tls(&mut s.sock) {
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock && conn.nonblocking => {
                            s.sock.set_nonblocking(false)?;
                            conn.nonblocking = false;
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
        }
    }

    /// Writes one request on the (re)opened connection.
    ///
    /// # Errors
    /// [`TransportError`] in the connect, handshake or write phase; none of
    /// them can have let the server execute the request.
    pub fn write_request(
        &mut self,
        method: Method,
        path: &str,
        query: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<(), TransportError> {
        self.format_request(method, path, query, headers);
        let mut reused = false;
        if let Some(conn) = self.conn.as_mut() {
            if Self::is_stale(conn, self.config.max_idle) {
                self.stats.stale_reopens += 1;
                self.conn = None;
            } else {
                reused = true;
            }
        }
        if self.conn.is_none() {
            self.open()?;
        }
        match self.write_buffered() {
            Ok(()) => Ok(()),
            Err(e) if reused && is_peer_gone(e.kind()) => {
                // The peer dropped the kept-alive connection between our check
                // and the write: the request is incomplete on the wire, so one
                // resend on a fresh connection cannot duplicate it.
                self.stats.write_retries += 1;
                self.open()?;
                self.write_buffered().map_err(|e| {
                    self.conn = None;
                    io_error(Phase::Write, e)
                })
            }
            Err(e) => {
                self.conn = None;
                Err(io_error(Phase::Write, e))
            }
        }
    }

    fn fill(&mut self, filled: usize, deadline: Instant) -> Result<usize, TransportError> {
        if filled == self.rbuf.len() {
            if self.rbuf.len() >= self.config.max_response_bytes {
                return Err(TransportError::TooLarge {
                    limit_bytes: self.config.max_response_bytes,
                });
            }
            let grown = (self.rbuf.len() * 2).min(self.config.max_response_bytes);
            self.rbuf.resize(grown, 0);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(TransportError::Timeout { phase: Phase::Read });
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or(TransportError::Closed { phase: Phase::Read })?;
        // Reads block, bounded by the read timeout set at connect; the
        // deadline is checked between reads.
        conn.set_nonblocking(false)
            .map_err(|e| io_error(Phase::Read, e))?;
        let n = match &mut conn.stream {
            Stream::Plain(s) => s.read(&mut self.rbuf[filled..]),
            Stream::Tls(s) => s.read(&mut self.rbuf[filled..]),
        }
        .map_err(|e| io_error(Phase::Read, e))?;
        Ok(n)
    }

    /// Reads one complete response to the request just written.
    ///
    /// # Errors
    /// [`TransportError`] in the read phase (timeout, peer close, malformed
    /// or oversized response); the connection is then dropped.
    pub fn read_response(&mut self) -> Result<Response<'_>, TransportError> {
        let deadline = Instant::now() + self.config.request_timeout;
        match self.read_inner(deadline) {
            Ok((head, range, reuse)) => {
                self.stats.responses += 1;
                if reuse {
                    if let Some(conn) = self.conn.as_mut() {
                        conn.last_used = Instant::now();
                        conn.responses += 1;
                        // Leave the socket ready for the next probe + write.
                        if conn.set_nonblocking(true).is_err() {
                            self.conn = None;
                        }
                    }
                } else {
                    self.conn = None;
                }
                let body = match range {
                    Some((a, b)) => &self.rbuf[a..b],
                    None => &self.body[..],
                };
                Ok(Response {
                    status: head.status,
                    retry_after: head.retry_after,
                    rate_limit_remaining: head.rate_limit_remaining,
                    rate_limit_expire: head.rate_limit_expire,
                    body,
                })
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    /// Reads head and body; returns the body location (a range of `rbuf`, or
    /// `None` for the de-chunked `body` buffer) and whether to keep the connection.
    #[allow(clippy::type_complexity, reason = "private helper tuple")]
    fn read_inner(
        &mut self,
        deadline: Instant,
    ) -> Result<(Head, Option<(usize, usize)>, bool), TransportError> {
        let mut filled = 0usize;
        let head = loop {
            if filled > 0 {
                if let Some(h) = parse_head(&self.rbuf[..filled])? {
                    break h;
                }
            }
            let n = self.fill(filled, deadline)?;
            if n == 0 {
                return Err(TransportError::Closed { phase: Phase::Read });
            }
            filled += n;
        };
        let start = head.header_len;
        match head.framing {
            Framing::Empty => Ok((head, Some((start, start)), !head.close && filled == start)),
            Framing::Length(len) => {
                let end = start.checked_add(len).ok_or(TransportError::TooLarge {
                    limit_bytes: self.config.max_response_bytes,
                })?;
                if end > self.config.max_response_bytes {
                    return Err(TransportError::TooLarge {
                        limit_bytes: self.config.max_response_bytes,
                    });
                }
                if self.rbuf.len() < end {
                    self.rbuf.resize(end, 0);
                }
                while filled < end {
                    let n = self.fill(filled, deadline)?;
                    if n == 0 {
                        return Err(TransportError::Closed { phase: Phase::Read });
                    }
                    filled += n;
                }
                Ok((head, Some((start, end)), !head.close && filled == end))
            }
            Framing::Chunked => {
                self.body.clear();
                let mut state = ChunkState::default();
                loop {
                    if let Some(len) =
                        decode_chunks(&self.rbuf[start..filled], &mut state, &mut self.body)?
                    {
                        return Ok((head, None, !head.close && filled == start + len));
                    }
                    let n = self.fill(filled, deadline)?;
                    if n == 0 {
                        return Err(TransportError::Closed { phase: Phase::Read });
                    }
                    filled += n;
                }
            }
            Framing::UntilClose => loop {
                match self.fill(filled, deadline) {
                    Ok(0) => return Ok((head, Some((start, filled)), false)),
                    Ok(n) => filled += n,
                    // A TLS peer closing without close_notify still ends the body.
                    Err(TransportError::Closed { .. }) => {
                        return Ok((head, Some((start, filled)), false))
                    }
                    Err(e) => return Err(e),
                }
            },
        }
    }

    /// Writes a request and reads its response.
    ///
    /// # Errors
    /// As [`HttpClient::write_request`] and [`HttpClient::read_response`];
    /// [`TransportError::request_sent`] tells them apart.
    pub fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Response<'_>, TransportError> {
        self.write_request(method, path, query, headers)?;
        self.read_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse() {
        let b = BaseUrl::parse("https://open-api.bingx.com").unwrap();
        assert_eq!(b.scheme, Scheme::Https);
        assert_eq!(b.host, "open-api.bingx.com");
        assert_eq!(b.port, 443);
        let b = BaseUrl::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (b.scheme, b.host.as_str(), b.port),
            (Scheme::Http, "127.0.0.1", 8080)
        );
        assert!(BaseUrl::parse("ftp://x").is_err());
        assert!(BaseUrl::parse("https://x/path").is_err());
        assert!(BaseUrl::parse("http://x:notaport").is_err());
        assert!(BaseUrl::parse("https://").is_err());
    }

    #[test]
    fn request_bytes_have_host_port_headers_and_empty_body() {
        let base = BaseUrl::parse("http://127.0.0.1:9").unwrap();
        let mut c = HttpClient::try_new(base, HttpConfig::default()).unwrap();
        c.format_request(Method::Post, "/p", b"a=1", &[("X-BX-APIKEY", "k")]);
        let text = String::from_utf8(c.req.clone()).unwrap();
        assert_eq!(
            text,
            "POST /p?a=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: trading-engine/0.1\r\nAccept: application/json\r\nConnection: keep-alive\r\nX-BX-APIKEY: k\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn connect_refused_is_a_connect_phase_error() {
        // Bind then drop a listener to get a port that refuses connections.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let mut c = HttpClient::try_new(base, HttpConfig::default()).unwrap();
        let err = c.send(Method::Get, "/", b"", &[]).unwrap_err();
        assert!(!err.request_sent(), "{err}");
    }
}
