//! Minimal HTTP/1.1 framing for the control server: read one bounded
//! request with httparse under a deadline, write one response and close.
//!
//! Consumes bytes from a connected socket; produces a [`Request`] (method,
//! path, `Authorization` value) or a [`ReadError`] mapped to a status
//! code. Never reads more than the header limit plus the body limit, and
//! never waits past the deadline.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// A parsed request; the body is read and discarded (no endpoint takes
/// one).
#[derive(Debug)]
pub(crate) struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target, e.g. `/control/halt`.
    pub path: String,
    /// The raw `Authorization` header value, if present.
    pub authorization: Option<Vec<u8>>,
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The head exceeded the header limit (431).
    HeadTooLarge,
    /// The declared body exceeded the body limit (413).
    BodyTooLarge,
    /// Not valid HTTP/1.x (400), with httparse's reason.
    Malformed(String),
    /// The client did not finish in time (408).
    Timeout,
    /// The client closed or the socket failed; nothing to answer.
    Closed,
}

/// Reads one request from `stream`, within `deadline`.
pub(crate) fn read_request(
    stream: &mut (impl Read + ?Sized),
    set_timeout: &mut dyn FnMut(Duration) -> io::Result<()>,
    max_head_bytes: usize,
    max_body_bytes: usize,
    deadline: Instant,
) -> Result<Request, ReadError> {
    let mut buf = vec![0u8; max_head_bytes];
    let mut filled = 0;
    loop {
        read_some(stream, set_timeout, &mut buf, &mut filled, deadline)?;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..filled]) {
            Ok(httparse::Status::Complete(head_len)) => {
                let method = req.method.unwrap_or_default().to_owned();
                let path = req.path.unwrap_or_default().to_owned();
                let mut authorization = None;
                let mut content_length = 0usize;
                for h in req.headers.iter() {
                    if h.name.eq_ignore_ascii_case("authorization") && authorization.is_none() {
                        authorization = Some(h.value.to_vec());
                    } else if h.name.eq_ignore_ascii_case("content-length") {
                        content_length = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .ok_or_else(|| ReadError::Malformed("bad Content-Length".to_owned()))?;
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        return Err(ReadError::Malformed(
                            "Transfer-Encoding is not supported".to_owned(),
                        ));
                    }
                }
                if content_length > max_body_bytes {
                    return Err(ReadError::BodyTooLarge);
                }
                discard_body(
                    stream,
                    set_timeout,
                    content_length.saturating_sub(filled - head_len),
                    deadline,
                )?;
                return Ok(Request {
                    method,
                    path,
                    authorization,
                });
            }
            Ok(httparse::Status::Partial) if filled == buf.len() => {
                return Err(ReadError::HeadTooLarge)
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
            Err(e) => return Err(ReadError::Malformed(e.to_string())),
        }
    }
}

/// Reads at least one byte into `buf[*filled..]`.
fn read_some(
    stream: &mut (impl Read + ?Sized),
    set_timeout: &mut dyn FnMut(Duration) -> io::Result<()>,
    buf: &mut [u8],
    filled: &mut usize,
    deadline: Instant,
) -> Result<(), ReadError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ReadError::Timeout);
    }
    set_timeout(left).map_err(|_| ReadError::Closed)?;
    match stream.read(&mut buf[*filled..]) {
        Ok(0) => Err(ReadError::Closed),
        Ok(n) => {
            *filled += n;
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(ReadError::Timeout)
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(_) => Err(ReadError::Closed),
    }
}

/// Reads and drops `remaining` body bytes.
fn discard_body(
    stream: &mut (impl Read + ?Sized),
    set_timeout: &mut dyn FnMut(Duration) -> io::Result<()>,
    mut remaining: usize,
    deadline: Instant,
) -> Result<(), ReadError> {
    let mut scratch = [0u8; 512];
    while remaining > 0 {
        let mut filled = 0;
        let want = remaining.min(scratch.len());
        read_some(
            stream,
            set_timeout,
            &mut scratch[..want],
            &mut filled,
            deadline,
        )?;
        remaining -= filled;
    }
    Ok(())
}

/// Returns the reason phrase of the status codes the server uses.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

/// Writes a complete response (the connection is closed afterwards).
pub(crate) fn write_response(
    out: &mut (impl Write + ?Sized),
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra_headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], head: usize, body: usize) -> Result<Request, ReadError> {
        let mut cursor = io::Cursor::new(bytes.to_vec());
        read_request(
            &mut cursor,
            &mut |_| Ok(()),
            head,
            body,
            Instant::now() + Duration::from_secs(5),
        )
    }

    #[test]
    fn request_with_authorization_and_body_is_parsed() {
        let r = read(
            b"POST /control/halt HTTP/1.1\r\nHost: x\r\nauthorization: Bearer t\r\nContent-Length: 3\r\n\r\nabc",
            1024,
            16,
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/control/halt");
        assert_eq!(r.authorization.as_deref(), Some(&b"Bearer t"[..]));
    }

    #[test]
    fn oversized_head_and_body_are_refused() {
        let long = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
        assert!(matches!(
            read(long.as_bytes(), 1024, 16),
            Err(ReadError::HeadTooLarge)
        ));
        assert!(matches!(
            read(
                b"POST /control/halt HTTP/1.1\r\nContent-Length: 17\r\n\r\n",
                1024,
                16
            ),
            Err(ReadError::BodyTooLarge)
        ));
    }

    #[test]
    fn garbage_chunked_and_truncated_requests_are_errors() {
        assert!(matches!(
            read(b"\x01\x02 nonsense\r\n\r\n", 1024, 16),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read(
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                1024,
                16
            ),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read(b"GET /metrics HTTP/1.1\r\n", 1024, 16),
            Err(ReadError::Closed)
        ));
    }

    #[test]
    fn response_has_status_length_and_close() {
        let mut out = Vec::new();
        write_response(
            &mut out,
            401,
            "text/plain",
            &[("WWW-Authenticate", "Bearer")],
            "no\n",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.contains("WWW-Authenticate: Bearer\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));
    }
}
