//! Parsing of HTTP/1.1 response heads (httparse) and chunked bodies, as pure
//! functions over the bytes received so far.
//!
//! Consumes raw response bytes; produces a [`Head`] (status, framing,
//! keep-alive, retry hints) and de-chunked body bytes appended to a reused
//! buffer. Never touches sockets and never allocates beyond the output buffer.

use std::time::Duration;

use crate::io::error::TransportError;

/// Most response headers accepted.
const MAX_HEADERS: usize = 48;

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
    /// No body (1xx, 204, 304).
    Empty,
}

/// The parsed status line and the headers the client acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub status: u16,
    pub header_len: usize,
    pub framing: Framing,
    /// The connection must not be reused after this response.
    pub close: bool,
    /// `Retry-After` in whole seconds.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Requests-Remain`.
    pub rate_limit_remaining: Option<u64>,
    /// `X-RateLimit-Requests-Expire` (raw value; unit UNCONFIRMED, §2.4).
    pub rate_limit_expire: Option<u64>,
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    core::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn has_token(v: &[u8], token: &str) -> bool {
    core::str::from_utf8(v)
        .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        .unwrap_or(false)
}

/// Parses the response head in `buf`; `Ok(None)` when it is not complete yet.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<Head>, TransportError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let header_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(TransportError::Malformed {
                reason: "too many headers",
            })
        }
        Err(_) => {
            return Err(TransportError::Malformed {
                reason: "invalid status line or header",
            })
        }
    };
    let status = resp.code.unwrap_or(0);
    let http10 = resp.version == Some(0);
    let mut content_length = None;
    let mut chunked = false;
    let mut close = http10;
    let mut retry_after = None;
    let mut rate_limit_remaining = None;
    let mut rate_limit_expire = None;
    for h in resp.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_u64(h.value).ok_or(TransportError::Malformed {
                reason: "bad Content-Length",
            })?;
            content_length = Some(usize::try_from(n).map_err(|_| TransportError::Malformed {
                reason: "Content-Length out of range",
            })?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = has_token(h.value, "chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            if has_token(h.value, "close") {
                close = true;
            } else if has_token(h.value, "keep-alive") {
                close = false;
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = parse_u64(h.value).map(Duration::from_secs);
        } else if name.eq_ignore_ascii_case("x-ratelimit-requests-remain") {
            rate_limit_remaining = parse_u64(h.value);
        } else if name.eq_ignore_ascii_case("x-ratelimit-requests-expire") {
            rate_limit_expire = parse_u64(h.value);
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = content_length {
        Framing::Length(n)
    } else {
        close = true;
        Framing::UntilClose
    };
    Ok(Some(Head {
        status,
        header_len,
        framing,
        close,
        retry_after,
        rate_limit_remaining,
        rate_limit_expire,
    }))
}

/// Progress of a chunked body decode across reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChunkState {
    /// Offset of the next unparsed byte, relative to the start of the body.
    pos: usize,
    /// The zero-size last chunk has been seen; only trailers remain.
    in_trailers: bool,
}

/// Decodes as many chunks of `raw` (the body bytes received so far) as are
/// complete, appending their data to `out`. Returns `Some(len)` with the
/// total length of the chunked encoding once the final CRLF is in `raw`.
pub(crate) fn decode_chunks(
    raw: &[u8],
    state: &mut ChunkState,
    out: &mut Vec<u8>,
) -> Result<Option<usize>, TransportError> {
    loop {
        let rest = &raw[state.pos..];
        if state.in_trailers {
            if rest.starts_with(b"\r\n") {
                return Ok(Some(state.pos + 2));
            }
            return Ok(rest
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| state.pos + i + 4));
        }
        match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => {
                return Err(TransportError::Malformed {
                    reason: "bad chunk size line",
                })
            }
            Ok(httparse::Status::Complete((n, size))) => {
                if size == 0 {
                    state.pos += n;
                    state.in_trailers = true;
                    continue;
                }
                let size = usize::try_from(size).map_err(|_| TransportError::Malformed {
                    reason: "chunk size out of range",
                })?;
                let needed = n.checked_add(size).and_then(|v| v.checked_add(2)).ok_or(
                    TransportError::Malformed {
                        reason: "chunk size out of range",
                    },
                )?;
                if rest.len() < needed {
                    return Ok(None);
                }
                if &rest[n + size..needed] != b"\r\n" {
                    return Err(TransportError::Malformed {
                        reason: "chunk not followed by CRLF",
                    });
                }
                out.extend_from_slice(&rest[n..n + size]);
                state.pos += needed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_head_with_retry_hint() {
        let raw = b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 12\r\nRetry-After: 2\r\nX-RateLimit-Requests-Remain: 0\r\n\r\n{\"code\":1}xx";
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 429);
        assert_eq!(head.framing, Framing::Length(12));
        assert_eq!(head.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(head.rate_limit_remaining, Some(0));
        assert!(!head.close);
        assert_eq!(&raw[head.header_len..head.header_len + 4], b"{\"co");
    }

    #[test]
    fn partial_head_needs_more() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
    }

    #[test]
    fn garbage_head_is_malformed() {
        assert!(parse_head(b"NOT HTTP AT ALL\r\n\r\n").is_err());
    }

    #[test]
    fn connection_close_and_http10_are_not_reused() {
        let h = parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.close);
        let h = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.close);
        let h = parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.framing, Framing::UntilClose);
        assert!(h.close);
    }

    #[test]
    fn chunked_body_decodes_across_partial_reads() {
        let body = b"4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n";
        let mut out = Vec::new();
        let mut st = ChunkState::default();
        for cut in 1..body.len() {
            out.clear();
            st = ChunkState::default();
            let r = decode_chunks(&body[..cut], &mut st, &mut out).unwrap();
            assert_eq!(r, None, "cut {cut}");
            // Resume with everything.
            let r = decode_chunks(body, &mut st, &mut out).unwrap();
            assert_eq!(r, Some(body.len()));
            assert_eq!(out, b"{\"a\":1}");
        }
        assert_eq!(
            st,
            ChunkState {
                pos: body.len() - 2,
                in_trailers: true
            }
        );
    }

    #[test]
    fn chunked_trailers_are_skipped() {
        let body = b"2\r\nok\r\n0\r\nX-T: 1\r\n\r\n";
        let mut out = Vec::new();
        let r = decode_chunks(body, &mut ChunkState::default(), &mut out).unwrap();
        assert_eq!(r, Some(body.len()));
        assert_eq!(out, b"ok");
    }

    #[test]
    fn chunk_without_crlf_is_malformed() {
        let mut out = Vec::new();
        assert!(decode_chunks(b"2\r\nokXX", &mut ChunkState::default(), &mut out).is_err());
        assert!(decode_chunks(b"zz\r\n", &mut ChunkState::default(), &mut out).is_err());
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn prop_chunked_body_decodes_for_any_chunking_and_read_split(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            sizes in proptest::collection::vec(1usize..200, 1..8),
            cuts in proptest::collection::vec(0usize..1000, 0..6),
        ) {
            let wire = encode_chunked(&body, &sizes);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (wire.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(wire.len());
            let mut out = Vec::new();
            let mut st = ChunkState::default();
            let mut done = None;
            for cut in cuts {
                if let Some(len) = decode_chunks(&wire[..cut], &mut st, &mut out).unwrap() {
                    done = Some(len);
                    break;
                }
            }
            prop_assert_eq!(done, Some(wire.len()));
            prop_assert_eq!(out, body);
        }
    }
}
