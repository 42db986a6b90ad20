//! Streaming HTTP/1.1 GET of large binary bodies (public data archives) over
//! one keep-alive connection, plain TCP for `http://` or rustls for `https://`.
//!
//! Consumes a base URL, a path and a sink; produces the body bytes written to
//! the sink as they arrive (never the whole body in memory), with progress
//! callbacks. Shares URL parsing ([`BaseUrl`]), TLS roots ([`TlsOptions`]) and
//! response-head parsing with the REST client, but not its whole-body buffer,
//! which is sized for JSON replies. Cold path only (CLI tools): it blocks and
//! allocates freely; never disables certificate verification.

use core::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::io::error::{Phase, TlsSetupError, TransportError};
use crate::io::http::{BaseUrl, Scheme};
use crate::io::http_response::{parse_head, Framing};
use crate::io::tls::{client_config, TlsOptions};

/// Largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Connection settings of a [`Downloader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadConfig {
    /// Timeout of TCP connect and of the TLS handshake (default 10 s).
    pub connect_timeout: Duration,
    /// Longest wait for any bytes while reading or writing (default 60 s);
    /// a whole large body may take much longer.
    pub idle_timeout: Duration,
    /// Trusted roots for `https://`.
    pub tls: TlsOptions,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            tls: TlsOptions::default(),
        }
    }
}

/// Error of one download.
#[derive(Debug)]
pub enum DownloadError {
    /// The base URL is unusable.
    Url(TransportError),
    /// TLS configuration failed.
    Tls(TlsSetupError),
    /// Socket, TLS or HTTP framing failure.
    Transport(TransportError),
    /// The server answered 404: the file does not exist (or is not published yet).
    NotFound {
        /// The requested path.
        path: String,
    },
    /// The server answered another non-200 status.
    Status {
        /// The requested path.
        path: String,
        /// The HTTP status.
        status: u16,
    },
    /// Writing to the sink failed.
    Sink(std::io::Error),
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(e) => write!(f, "bad download base URL: {e}"),
            Self::Tls(e) => write!(f, "download TLS setup failed: {e}"),
            Self::Transport(e) => write!(f, "download failed: {e}"),
            Self::NotFound { path } => write!(f, "{path} not found (HTTP 404)"),
            Self::Status { path, status } => write!(f, "{path} answered HTTP {status}"),
            Self::Sink(e) => write!(f, "cannot write downloaded bytes: {e}"),
        }
    }
}

impl std::error::Error for DownloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) | Self::Transport(e) => Some(e),
            Self::Tls(e) => Some(e),
            Self::Sink(e) => Some(e),
            Self::NotFound { .. } | Self::Status { .. } => None,
        }
    }
}

/// Receives download progress.
pub trait Progress {
    /// Called once the response head arrived, with the body length when known.
    fn start(&mut self, total_bytes: Option<u64>);
    /// Called after each piece of body, with its size.
    fn advance(&mut self, bytes: u64);
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _total_bytes: Option<u64>) {}
    fn advance(&mut self, _bytes: u64) {}
}

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// Counters of a [`Downloader`], for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownloadStats {
    /// Connections opened.
    pub connects: u64,
    /// Completed responses (any status).
    pub responses: u64,
}

/// A streaming GET client over one keep-alive connection.
#[derive(Debug)]
pub struct Downloader {
    base: BaseUrl,
    config: DownloadConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    conn: Option<Stream>,
    buf: Vec<u8>,
    stats: DownloadStats,
}

fn io_err(phase: Phase, e: std::io::Error) -> TransportError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => TransportError::Timeout { phase },
        ErrorKind::UnexpectedEof => TransportError::Closed { phase },
        _ => TransportError::Io { phase, source: e },
    }
}

/// Where a response body ends.
enum BodyEnd {
    Length(u64),
    UntilClose,
    Chunked,
}

impl Downloader {
    /// Returns a downloader for `base_url` (`http[s]://host[:port]`); no
    /// connection is opened yet.
    ///
    /// # Errors
    /// [`DownloadError::Url`] for a bad URL, [`DownloadError::Tls`] when the
    /// TLS roots cannot be loaded.
    pub fn try_new(base_url: &str, config: DownloadConfig) -> Result<Self, DownloadError> {
        let base = BaseUrl::parse(base_url).map_err(DownloadError::Url)?;
        let tls = match base.scheme {
            Scheme::Https => Some(client_config(&config.tls).map_err(DownloadError::Tls)?),
            Scheme::Http => None,
        };
        Ok(Self {
            base,
            config,
            tls,
            conn: None,
            buf: vec![0; 64 * 1024],
            stats: DownloadStats::default(),
        })
    }

    /// Returns the base URL.
    #[must_use]
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// Returns the counters.
    #[must_use]
    pub fn stats(&self) -> DownloadStats {
        self.stats
    }

    /// Returns the full URL of `path` (for messages).
    #[must_use]
    pub fn url_of(&self, path: &str) -> String {
        let scheme = match self.base.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let default_port = match self.base.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        if self.base.port == default_port {
            format!("{scheme}://{}{path}", self.base.host)
        } else {
            format!("{scheme}://{}:{}{path}", self.base.host, self.base.port)
        }
    }

    fn open(&mut self) -> Result<Stream, TransportError> {
        let connect = |source| TransportError::Io {
            phase: Phase::Connect,
            source,
        };
        let addrs = (self.base.host.as_str(), self.base.port)
            .to_socket_addrs()
            .map_err(connect)?;
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.config.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(io_err(Phase::Connect, e)),
            (None, None) => {
                return Err(connect(std::io::Error::new(
                    ErrorKind::NotFound,
                    "host has no address",
                )))
            }
        };
        tcp.set_read_timeout(Some(self.config.idle_timeout))
            .map_err(connect)?;
        tcp.set_write_timeout(Some(self.config.idle_timeout))
            .map_err(connect)?;
        self.stats.connects += 1;
        match &self.tls {
            None => Ok(Stream::Plain(tcp)),
            Some(cfg) => {
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
                while tls.conn.is_handshaking() {
                    tls.conn
                        .complete_io(&mut tls.sock)
                        .map_err(|e| io_err(Phase::Handshake, e))?;
                }
                Ok(Stream::Tls(Box::new(tls)))
            }
        }
    }

    fn request_bytes(&self, path: &str) -> Vec<u8> {
        let mut host = self.base.host.clone();
        let default_port = match self.base.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        if self.base.port != default_port {
            host = format!("{host}:{}", self.base.port);
        }
        format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: trading-engine/0.1\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
        )
        .into_bytes()
    }

    /// Fetches `path` into `sink`, reporting progress; returns the body length.
    /// A kept-alive connection that turns out closed before any response byte
    /// is reopened once (a GET is idempotent).
    ///
    /// # Errors
    /// [`DownloadError::NotFound`] for 404, [`DownloadError::Status`] for any
    /// other non-200 status (nothing is written to the sink then),
    /// [`DownloadError::Transport`] for socket, TLS or framing failures,
    /// [`DownloadError::Sink`] when the sink refuses bytes.
    pub fn get(
        &mut self,
        path: &str,
        sink: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<u64, DownloadError> {
        let request = self.request_bytes(path);
        let reused = self.conn.is_some();
        let mut received = 0usize;
        let first = self.exchange(&request, path, sink, progress, &mut received);
        let result = match first {
            Err(DownloadError::Transport(_)) if reused && received == 0 => {
                log::debug!("Kept-alive download connection was closed, reopening");
                self.conn = None;
                self.exchange(&request, path, sink, progress, &mut received)
            }
            other => other,
        };
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// One request/response; `received` counts response bytes read.
    fn exchange(
        &mut self,
        request: &[u8],
        path: &str,
        sink: &mut dyn Write,
        progress: &mut dyn Progress,
        received: &mut usize,
    ) -> Result<u64, DownloadError> {
        let mut stream = match self.conn.take() {
            Some(s) => s,
            None => self.open().map_err(DownloadError::Transport)?,
        };
        stream
            .write_all(request)
            .and_then(|()| stream.flush())
            .map_err(|e| DownloadError::Transport(io_err(Phase::Write, e)))?;
        let read = |stream: &mut Stream, buf: &mut [u8]| -> Result<usize, DownloadError> {
            loop {
                match stream.read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(DownloadError::Transport(io_err(Phase::Read, e))),
                }
            }
        };
        let mut filled = 0usize;
        let head = loop {
            if filled > 0 {
                if let Some(h) =
                    parse_head(&self.buf[..filled]).map_err(DownloadError::Transport)?
                {
                    break h;
                }
            }
            if filled == self.buf.len() {
                if self.buf.len() >= MAX_HEAD_BYTES {
                    return Err(DownloadError::Transport(TransportError::TooLarge {
                        limit_bytes: MAX_HEAD_BYTES,
                    }));
                }
                self.buf.resize(MAX_HEAD_BYTES, 0);
            }
            let n = read(&mut stream, &mut self.buf[filled..])?;
            if n == 0 {
                return Err(DownloadError::Transport(TransportError::Closed {
                    phase: Phase::Read,
                }));
            }
            filled += n;
            *received += n;
        };
        self.stats.responses += 1;
        if head.status == 404 {
            return Err(DownloadError::NotFound {
                path: path.to_owned(),
            });
        }
        if head.status != 200 {
            return Err(DownloadError::Status {
                path: path.to_owned(),
                status: head.status,
            });
        }
        let end = match head.framing {
            Framing::Empty => BodyEnd::Length(0),
            Framing::Length(n) => BodyEnd::Length(n as u64),
            Framing::UntilClose => BodyEnd::UntilClose,
            Framing::Chunked => BodyEnd::Chunked,
        };
        progress.start(match end {
            BodyEnd::Length(n) => Some(n),
            _ => None,
        });
        let sink_err = DownloadError::Sink;
        let mut pending: Vec<u8> = self.buf[head.header_len..filled].to_vec();
        let mut total = 0u64;
        match end {
            BodyEnd::Length(len) => {
                let mut emit = |bytes: &[u8], total: &mut u64| -> Result<(), DownloadError> {
                    sink.write_all(bytes).map_err(sink_err)?;
                    *total += bytes.len() as u64;
                    progress.advance(bytes.len() as u64);
                    Ok(())
                };
                let first = pending
                    .len()
                    .min(usize::try_from(len).unwrap_or(usize::MAX));
                emit(&pending[..first], &mut total)?;
                while total < len {
                    let want = usize::try_from(len - total)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    let n = read(&mut stream, &mut self.buf[..want])?;
                    if n == 0 {
                        return Err(DownloadError::Transport(TransportError::Closed {
                            phase: Phase::Read,
                        }));
                    }
                    emit(&self.buf[..n], &mut total)?;
                }
                if !head.close && pending.len() <= first {
                    self.conn = Some(stream);
                }
            }
            BodyEnd::UntilClose => {
                sink.write_all(&pending).map_err(sink_err)?;
                total += pending.len() as u64;
                progress.advance(pending.len() as u64);
                loop {
                    let n = match read(&mut stream, &mut self.buf) {
                        Ok(n) => n,
                        // A TLS peer closing without close_notify still ends the body.
                        Err(DownloadError::Transport(TransportError::Closed { .. })) => 0,
                        Err(e) => return Err(e),
                    };
                    if n == 0 {
                        break;
                    }
                    sink.write_all(&self.buf[..n]).map_err(sink_err)?;
                    total += n as u64;
                    progress.advance(n as u64);
                }
            }
            BodyEnd::Chunked => {
                let mut decoder = ChunkDecoder::default();
                loop {
                    let before = total;
                    let done = decoder.feed(&mut pending, &mut |data| {
                        total += data.len() as u64;
                        sink.write_all(data)
                    })?;
                    progress.advance(total - before);
                    if done {
                        break;
                    }
                    let n = read(&mut stream, &mut self.buf)?;
                    if n == 0 {
                        return Err(DownloadError::Transport(TransportError::Closed {
                            phase: Phase::Read,
                        }));
                    }
                    pending.extend_from_slice(&self.buf[..n]);
                }
                if !head.close && pending.is_empty() {
                    self.conn = Some(stream);
                }
            }
        }
        Ok(total)
    }
}

/// Streaming decoder of a chunked body: consumes complete pieces from the
/// front of the pending bytes, so memory stays bounded by one read.
#[derive(Debug, Default)]
struct ChunkDecoder {
    /// Data bytes left in the current chunk (then its CRLF).
    remaining: u64,
    /// Inside a chunk's data.
    in_data: bool,
    /// After the last chunk: skipping trailers.
    in_trailers: bool,
}

impl ChunkDecoder {
    /// Decodes what `pending` holds, handing data to `out` and removing the
    /// consumed bytes; returns true at the end of the body.
    fn feed(
        &mut self,
        pending: &mut Vec<u8>,
        out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<bool, DownloadError> {
        let malformed = |reason| DownloadError::Transport(TransportError::Malformed { reason });
        let mut pos = 0usize;
        let done = loop {
            let rest = &pending[pos..];
            if self.in_trailers {
                if rest.starts_with(b"\r\n") {
                    pos += 2;
                    break true;
                }
                match rest.windows(4).position(|w| w == b"\r\n\r\n") {
                    Some(i) => {
                        pos += i + 4;
                        break true;
                    }
                    None => break false,
                }
            }
            if self.in_data {
                if self.remaining > 0 {
                    let take = usize::try_from(self.remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    if take == 0 {
                        break false;
                    }
                    out(&rest[..take]).map_err(DownloadError::Sink)?;
                    self.remaining -= take as u64;
                    pos += take;
                    continue;
                }
                if rest.len() < 2 {
                    break false;
                }
                if &rest[..2] != b"\r\n" {
                    return Err(malformed("chunk not followed by CRLF"));
                }
                pos += 2;
                self.in_data = false;
                continue;
            }
            match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Partial) => break false,
                Err(_) => return Err(malformed("bad chunk size line")),
                Ok(httparse::Status::Complete((n, 0))) => {
                    pos += n;
                    self.in_trailers = true;
                }
                Ok(httparse::Status::Complete((n, size))) => {
                    pos += n;
                    self.remaining = size;
                    self.in_data = true;
                }
            }
        };
        pending.drain(..pos);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(raw: &[u8], piece: usize) -> (Vec<u8>, bool) {
        let mut d = ChunkDecoder::default();
        let mut pending = Vec::new();
        let mut out = Vec::new();
        let mut done = false;
        for part in raw.chunks(piece) {
            pending.extend_from_slice(part);
            done = d
                .feed(&mut pending, &mut |data| {
                    out.extend_from_slice(data);
                    Ok(())
                })
                .unwrap();
        }
        (out, done)
    }

    #[test]
    fn chunked_body_decodes_for_every_read_size() {
        let raw = b"4\r\nPK\x03\x04\r\n3;ext=1\r\n\x00\xff\n\r\n0\r\nX-T: 1\r\n\r\n";
        for piece in 1..=raw.len() {
            let (out, done) = decode_in_pieces(raw, piece);
            assert_eq!(out, b"PK\x03\x04\x00\xff\n", "piece {piece}");
            assert!(done, "piece {piece}");
        }
    }

    #[test]
    fn chunked_body_without_crlf_is_malformed() {
        let mut d = ChunkDecoder::default();
        let mut pending = b"2\r\nokXX".to_vec();
        let err = d.feed(&mut pending, &mut |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("CRLF"), "{err}");
    }

    #[test]
    fn url_of_omits_default_ports() {
        let d = Downloader::try_new("http://127.0.0.1:8080", DownloadConfig::default()).unwrap();
        assert_eq!(d.url_of("/a/b.zip"), "http://127.0.0.1:8080/a/b.zip");
        let d =
            Downloader::try_new("https://data.binance.vision", DownloadConfig::default()).unwrap();
        assert_eq!(d.url_of("/a"), "https://data.binance.vision/a");
        assert!(matches!(
            Downloader::try_new("ftp://x", DownloadConfig::default()),
            Err(DownloadError::Url(_))
        ));
    }
}
