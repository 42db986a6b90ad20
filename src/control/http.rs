//! Minimal HTTP/1.1 framing for the control server: parse one bounded
//! request from the bytes received so far, and render one response.
//!
//! Consumes the bytes a connection has received; produces
//! [`Parsed::Incomplete`] (wait for more), a complete [`Request`] (method,
//! target, `Authorization` value) or a [`ReadError`] mapped to a status
//! code. Never looks past the header limit plus the body limit, never
//! panics on any input (a property test feeds it arbitrary bytes), and
//! never does I/O: the server's event loop reads and writes.

/// A parsed request; the body is discarded (no endpoint takes one).
#[derive(Debug)]
pub(crate) struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target, e.g. `/control/halt` (query string included).
    pub path: String,
    /// The raw `Authorization` header value, if present.
    pub authorization: Option<Vec<u8>>,
}

impl Request {
    /// Returns the target without its query string or fragment: the only
    /// part routed on and logged (a query string can carry secrets).
    pub(crate) fn route_path(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or_default()
    }
}

/// Why no request could be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The head exceeded the header limit (431).
    HeadTooLarge,
    /// The declared body exceeded the body limit (413).
    BodyTooLarge,
    /// Not valid HTTP/1.x (400), with the reason.
    Malformed(String),
}

/// What the bytes received so far hold.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A complete request (head and declared body).
    Complete(Request),
    /// Not complete yet: read more.
    Incomplete,
}

/// Most headers parsed in one request head.
const MAX_HEADERS: usize = 32;

/// Parses the request in `buf` (everything received on the connection so
/// far), allowing a head of at most `max_head_bytes` and a declared body
/// of at most `max_body_bytes`.
///
/// # Errors
/// [`ReadError::HeadTooLarge`] when the head is longer than allowed or has
/// more than 32 headers, [`ReadError::BodyTooLarge`] when `Content-Length`
/// exceeds the limit, [`ReadError::Malformed`] for anything that is not an
/// HTTP/1.x request without `Transfer-Encoding` and with at most one valid
/// `Content-Length`.
pub(crate) fn parse(
    buf: &[u8],
    max_head_bytes: usize,
    max_body_bytes: usize,
) -> Result<Parsed, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head = &buf[..buf.len().min(max_head_bytes)];
    let head_len = match req.parse(head) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= max_head_bytes => {
            return Err(ReadError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(Parsed::Incomplete),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
        Err(e) => return Err(ReadError::Malformed(e.to_string())),
    };
    let mut authorization = None;
    let mut content_length: Option<usize> = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("authorization") {
            if authorization.is_some() {
                return Err(ReadError::Malformed(
                    "more than one Authorization header".to_owned(),
                ));
            }
            authorization = Some(h.value.to_vec());
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| ReadError::Malformed("bad Content-Length".to_owned()))?;
            // Too many digits to fit is simply too large.
            let n = value.parse::<usize>().unwrap_or(usize::MAX);
            if content_length.is_some_and(|c| c != n) {
                return Err(ReadError::Malformed(
                    "conflicting Content-Length headers".to_owned(),
                ));
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(ReadError::Malformed(
                "Transfer-Encoding is not supported".to_owned(),
            ));
        }
    }
    let content_length = content_length.unwrap_or(0);
    if content_length > max_body_bytes {
        return Err(ReadError::BodyTooLarge);
    }
    if buf.len().saturating_sub(head_len) < content_length {
        return Ok(Parsed::Incomplete);
    }
    Ok(Parsed::Complete(Request {
        method: req.method.unwrap_or_default().to_owned(),
        path: req.path.unwrap_or_default().to_owned(),
        authorization,
    }))
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

/// Returns a complete response as bytes (the connection is closed after
/// it).
pub(crate) fn render_response(
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra_headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], head: usize, body: usize) -> Result<Request, ReadError> {
        match parse(bytes, head, body)? {
            Parsed::Complete(r) => Ok(r),
            Parsed::Incomplete => Err(ReadError::Malformed("incomplete".to_owned())),
        }
    }

    #[test]
    fn request_with_authorization_and_body_is_parsed() {
        let r = read(
            b"POST /control/halt?x=1 HTTP/1.1\r\nHost: x\r\nauthorization: Bearer t\r\nContent-Length: 3\r\n\r\nabc",
            1024,
            16,
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/control/halt?x=1");
        assert_eq!(r.route_path(), "/control/halt");
        assert_eq!(r.authorization.as_deref(), Some(&b"Bearer t"[..]));
    }

    #[test]
    fn a_body_not_yet_received_is_incomplete() {
        let partial = b"POST /control/halt HTTP/1.1\r\nContent-Length: 3\r\n\r\nab";
        assert!(matches!(parse(partial, 1024, 16), Ok(Parsed::Incomplete)));
        assert!(matches!(
            parse(b"GET /metrics HTTP/1.1\r\n", 1024, 16),
            Ok(Parsed::Incomplete)
        ));
    }

    #[test]
    fn oversized_head_and_body_are_refused() {
        let long = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
        assert_eq!(
            read(long.as_bytes(), 1024, 16).unwrap_err(),
            ReadError::HeadTooLarge
        );
        assert_eq!(
            read(
                b"POST /control/halt HTTP/1.1\r\nContent-Length: 17\r\n\r\n",
                1024,
                16
            )
            .unwrap_err(),
            ReadError::BodyTooLarge
        );
        assert_eq!(
            read(
                b"POST /x HTTP/1.1\r\nContent-Length: 18446744073709551616999\r\n\r\n",
                1024,
                16
            )
            .unwrap_err(),
            ReadError::BodyTooLarge
        );
    }

    #[test]
    fn garbage_chunked_duplicate_and_bad_lengths_are_malformed() {
        for raw in [
            &b"\x01\x02 nonsense\r\n\r\n"[..],
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST /x HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
        ] {
            assert!(
                matches!(read(raw, 1024, 16), Err(ReadError::Malformed(_))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn response_has_status_length_and_close() {
        let out = render_response(401, "text/plain", &[("WWW-Authenticate", "Bearer")], "no\n");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.contains("WWW-Authenticate: Bearer\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    /// Cases per property; 3 properties run 3 x 4096 = 12,288 inputs.
    const CASES: u32 = 4096;

    /// Request-shaped inputs: a valid head with random pieces spliced in.
    fn requestish() -> impl Strategy<Value = Vec<u8>> {
        let method = prop_oneof![
            Just("GET".to_owned()),
            Just("POST".to_owned()),
            "[A-Z]{0,8}"
        ];
        let target = prop_oneof![
            Just("/metrics".to_owned()),
            Just("/control/halt?token=abc".to_owned()),
            "[ -~]{0,40}"
        ];
        let header = (
            prop_oneof![
                Just("Content-Length".to_owned()),
                Just("Authorization".to_owned()),
                Just("Transfer-Encoding".to_owned()),
                "[A-Za-z-]{1,12}"
            ],
            prop_oneof![
                Just("18446744073709551615".to_owned()),
                Just("0".to_owned()),
                Just("Bearer x".to_owned()),
                "[ -~]{0,24}"
            ],
        );
        (
            method,
            target,
            prop::collection::vec(header, 0..40),
            prop::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(m, t, hs, tail)| {
                let mut out = format!("{m} {t} HTTP/1.1\r\n").into_bytes();
                for (n, v) in hs {
                    out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&tail);
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn prop_arbitrary_bytes_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..2048),
            head in 0usize..1100,
            body in 0usize..64,
        ) {
            let _ = parse(&bytes, head, body);
        }

        #[test]
        fn prop_requestish_inputs_respect_the_limits(
            bytes in requestish(),
            head in prop_oneof![Just(0usize), Just(1usize), 16usize..2048],
            body in 0usize..32,
        ) {
            match parse(&bytes, head, body) {
                Ok(Parsed::Complete(r)) => {
                    prop_assert!(!r.route_path().contains('?'));
                }
                Ok(Parsed::Incomplete) | Err(_) => {}
            }
        }

        #[test]
        fn prop_every_prefix_of_a_valid_request_is_incomplete_or_complete(
            cut in 0usize..80,
        ) {
            let full = b"POST /control/halt HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 4\r\n\r\nbody";
            let cut = cut.min(full.len());
            let parsed = parse(&full[..cut], 8192, 1024);
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
            if cut == full.len() {
                prop_assert!(matches!(parsed, Ok(Parsed::Complete(_))));
            } else {
                prop_assert!(matches!(parsed, Ok(Parsed::Incomplete)));
            }
        }
    }
}
