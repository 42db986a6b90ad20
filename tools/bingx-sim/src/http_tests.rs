//! Fuzzing of the request reader: arbitrary bytes, and requests built from edge-case pieces
//! (Content-Length at and around the limits and `usize::MAX`, duplicate and conflicting
//! lengths, `Transfer-Encoding`, NUL bytes, pipelining), delivered in random chunk sizes.
//! The reader must never panic, never return a body of another length than declared, and
//! always keep the bytes after a request for the next call.
//!
//! Case counts (per run): `prop_arbitrary_bytes_never_panic` 4,000,
//! `prop_built_requests_parse_or_fail_cleanly` 4,000, `prop_pipelined_requests_round_trip`
//! 2,000.

use super::*;
use proptest::prelude::*;

/// A reader returning its bytes in the given chunk sizes (cycled), then end of stream.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Read for Chunked {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = size.min(out.len()).min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads requests until the stream ends or fails (bounded: every successful call consumes
/// at least one request head).
fn read_all(data: Vec<u8>, sizes: Vec<usize>) -> (Vec<Request>, Option<HttpError>) {
    let mut src = Chunked {
        data,
        pos: 0,
        sizes,
        turn: 0,
    };
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for _ in 0..64 {
        match read_request(&mut src, &mut buf, &|| false) {
            Ok(Some(r)) => out.push(r),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

fn content_length() -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..64).prop_map(|n| n.to_string()),
        Just("18446744073709551615".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("99999999999999999999999999".to_owned()),
        Just(MAX_REQUEST_BYTES.to_string()),
        Just((MAX_REQUEST_BYTES + 1).to_string()),
        Just("-1".to_owned()),
        Just("+5".to_owned()),
        Just(" 3 ".to_owned()),
        Just("0x10".to_owned()),
        Just(String::new()),
        Just("1e3".to_owned()),
        "[0-9]{1,30}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        content_length().prop_map(|v| format!("Content-Length: {v}")),
        Just("Transfer-Encoding: chunked".to_owned()),
        Just("Connection: close".to_owned()),
        Just("Upgrade: websocket".to_owned()),
        "[A-Za-z-]{1,12}: [ -~]{0,20}",
        Just("X-Nul: a\0b".to_owned()),
        Just("Bad Header Line".to_owned()),
    ]
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("DELETE"),
            Just("PUT"),
            Just(""),
            Just("G\0T")
        ],
        prop_oneof![
            Just("/openApi/swap/v2/trade/order?symbol=BTC-USDT".to_owned()),
            "/[ -~]{0,40}",
            Just("*".to_owned()),
        ],
        prop_oneof![
            Just("HTTP/1.1"),
            Just("HTTP/1.0"),
            Just("HTTP/9.9"),
            Just("")
        ],
        proptest::collection::vec(header(), 0..6),
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(method, target, version, headers, body)| {
            let mut raw = format!("{method} {target} {version}\r\n");
            for h in headers {
                raw.push_str(&h);
                raw.push_str("\r\n");
            }
            raw.push_str("\r\n");
            let mut raw = raw.into_bytes();
            raw.extend(body);
            raw
        })
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(prop_oneof![1usize..4, 1usize..9000], 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn prop_arbitrary_bytes_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in sizes(),
    ) {
        let _ = read_all(data, sizes);
    }

    #[test]
    fn prop_built_requests_parse_or_fail_cleanly(raw in request(), sizes in sizes()) {
        let (reqs, _) = read_all(raw.clone(), sizes);
        for r in &reqs {
            if let Some(declared) = r.header("content-length") {
                prop_assert_eq!(declared.trim().parse::<usize>().ok(), Some(r.body.len()));
            } else {
                prop_assert!(r.body.is_empty());
            }
            prop_assert!(r.header("transfer-encoding").is_none());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn prop_pipelined_requests_round_trip(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
        sizes in sizes(),
    ) {
        let mut raw = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            raw.extend(format!("POST /r{i} HTTP/1.1\r\nContent-Length: {}\r\n\r\n", b.len()).bytes());
            raw.extend(b);
        }
        let (reqs, err) = read_all(raw, sizes);
        prop_assert!(err.is_none());
        prop_assert_eq!(reqs.len(), bodies.len());
        for (i, (r, b)) in reqs.iter().zip(&bodies).enumerate() {
            prop_assert_eq!(&r.path, &format!("/r{i}"));
            prop_assert_eq!(&r.body, b);
        }
    }
}

#[test]
fn issue_20_content_length_of_usize_max_is_refused_not_a_panic() {
    for len in ["18446744073709551615", "18446744073709551616"] {
        let raw = format!("POST /x HTTP/1.1\r\nContent-Length: {len}\r\n\r\nabc");
        let (reqs, err) = read_all(raw.into_bytes(), vec![4096]);
        assert!(reqs.is_empty());
        assert!(matches!(err, Some(HttpError::TooLarge)), "{err:?}");
    }
}

#[test]
fn conflicting_lengths_and_transfer_encoding_are_malformed() {
    for raw in [
        "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    ] {
        let (reqs, err) = read_all(raw.as_bytes().to_vec(), vec![4096]);
        assert!(reqs.is_empty(), "{raw:?}");
        assert!(
            matches!(err, Some(HttpError::Malformed(_))),
            "{raw:?}: {err:?}"
        );
    }
    // Repeating the same length is allowed.
    let raw = "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab";
    let (reqs, err) = read_all(raw.as_bytes().to_vec(), vec![4096]);
    assert!(err.is_none());
    assert_eq!(reqs[0].body, b"ab");
}
