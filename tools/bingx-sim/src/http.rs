//! Minimal HTTP/1.1 server side: reads requests (keep-alive, Content-Length bodies) from a
//! blocking stream with a short read timeout, and writes JSON responses.
//!
//! Consumes raw bytes; produces [`Request`]s and response bytes. Never logs bodies or headers
//! (they may carry the API key).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Largest accepted request head plus body.
const MAX_REQUEST_BYTES: usize = 1 << 20;
/// A keep-alive connection idle this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method (`GET`, `POST`, ...).
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string exactly as received (no percent-decoding), without `?`.
    pub query: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Request {
    /// Returns the first header named `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Returns true for a WebSocket upgrade request.
    #[must_use]
    pub fn is_websocket(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }

    /// Returns true when the client asked to close after this request.
    #[must_use]
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum HttpError {
    /// Socket error.
    Io(io::Error),
    /// Not valid HTTP/1.x.
    Malformed(String),
    /// Head plus body above the limit.
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "socket error: {e}"),
            Self::Malformed(m) => write!(f, "malformed request: {m}"),
            Self::TooLarge => f.write_str("request too large"),
        }
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Reads the next request. `buf` carries bytes already read (pipelining) between calls and
/// keeps what follows the returned request. Returns `Ok(None)` on a clean close, idle
/// time-out or when `stop()` turns true while waiting.
///
/// # Errors
/// [`HttpError`] for socket errors, malformed or oversized requests.
pub fn read_request<S: Read>(
    s: &mut S,
    buf: &mut Vec<u8>,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Request>, HttpError> {
    let mut chunk = [0u8; 8192];
    let mut last_data = Instant::now();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let target = parsed.path.unwrap_or("/");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let hdrs: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let len = body_length(&hdrs)?;
                // Checked: a Content-Length near usize::MAX must not wrap past the limit.
                let total = head_len
                    .checked_add(len)
                    .filter(|t| *t <= MAX_REQUEST_BYTES)
                    .ok_or(HttpError::TooLarge)?;
                if let Some(body) = buf.get(head_len..total) {
                    let req = Request {
                        method: parsed.method.unwrap_or("GET").to_owned(),
                        path: path.to_owned(),
                        query: query.to_owned(),
                        headers: hdrs,
                        body: body.to_vec(),
                    };
                    buf.drain(..total);
                    return Ok(Some(req));
                }
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_REQUEST_BYTES {
                    return Err(HttpError::TooLarge);
                }
            }
            Err(e) => return Err(HttpError::Malformed(e.to_string())),
        }
        match s.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                last_data = Instant::now();
            }
            Err(e) if is_timeout(&e) => {
                if stop() || (buf.is_empty() && last_data.elapsed() > IDLE_TIMEOUT) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(HttpError::Io(e)),
        }
    }
}

/// Returns the body length a request declares: its `Content-Length` (0 without one).
///
/// # Errors
/// [`HttpError::Malformed`] for a length that is not a decimal number, for several
/// `Content-Length` headers that disagree, and for `Transfer-Encoding` (only
/// `Content-Length` bodies are supported, and a request with both is how requests are
/// smuggled).
fn body_length(headers: &[(String, String)]) -> Result<usize, HttpError> {
    if headers.iter().any(|(k, _)| k == "transfer-encoding") {
        return Err(HttpError::Malformed(
            "transfer-encoding is not supported (send Content-Length)".into(),
        ));
    }
    let mut len = None;
    for (_, v) in headers.iter().filter(|(k, _)| k == "content-length") {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HttpError::Malformed(format!(
                "content-length {v:?} is not a decimal number"
            )));
        }
        // Digits only: a failed parse is an overflow, i.e. more than the limit.
        let n = v.parse::<usize>().map_err(|_| HttpError::TooLarge)?;
        match len {
            Some(prev) if prev != n => {
                return Err(HttpError::Malformed(format!(
                    "conflicting content-length headers {prev} and {n}"
                )))
            }
            _ => len = Some(n),
        }
    }
    Ok(len.unwrap_or(0))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Writes a complete response with a JSON content type and the given extra headers.
///
/// # Errors
/// Socket write errors.
pub fn write_response<S: Write>(
    s: &mut S,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    s.write_all(&out)?;
    s.flush()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one query or form component (`+` is a space).
#[must_use]
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `a=1&b=2` pairs into `map`, keeping values already present (query wins).
pub fn parse_pairs(text: &str, map: &mut BTreeMap<String, String>) {
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode(k))
            .or_insert_with(|| percent_decode(v));
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod fuzz_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pipelined_requests_with_bodies() {
        let raw = b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-BX-APIKEY: k\r\n\r\nb=2GET /b HTTP/1.1\r\n\r\n";
        let mut src = &raw[..];
        let mut buf = Vec::new();
        let never = || false;
        let a = read_request(&mut src, &mut buf, &never).unwrap().unwrap();
        assert_eq!(
            (a.method.as_str(), a.path.as_str(), a.query.as_str()),
            ("POST", "/a", "x=1")
        );
        assert_eq!(a.body, b"b=2");
        assert_eq!(a.header("x-bx-apikey"), Some("k"));
        let b = read_request(&mut src, &mut buf, &never).unwrap().unwrap();
        assert_eq!(b.path, "/b");
        assert!(read_request(&mut src, &mut buf, &never).unwrap().is_none());
    }

    #[test]
    fn malformed_request_is_an_error() {
        let mut src = &b"\x01\x02 nonsense\r\n\r\n"[..];
        let mut buf = Vec::new();
        assert!(matches!(
            read_request(&mut src, &mut buf, &|| false),
            Err(HttpError::Malformed(_))
        ));
    }

    #[test]
    fn decodes_percent_and_plus_and_keeps_first_value() {
        assert_eq!(percent_decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
        let mut m = BTreeMap::new();
        parse_pairs("symbol=BTC-USDT&x=%7B%7D", &mut m);
        parse_pairs("symbol=ETH-USDT&y=1", &mut m);
        assert_eq!(m["symbol"], "BTC-USDT");
        assert_eq!(m["x"], "{}");
        assert_eq!(m["y"], "1");
    }
}
