//! Fuzzing the feed with proptest (cargo-fuzz needs nightly): arbitrary
//! bytes and mutated valid frames go into the inflater and both decoders,
//! which must never panic and must answer with typed errors only. The
//! Binance fast path (`decode`) must agree exactly with the general
//! simd-json path (`decode_general`) on every mutation of a valid message:
//! same result, same events, same counters.
//!
//! Case counts are small by default so CI finishes in seconds; a long run is
//! `PROPTEST_CASES=200000 cargo test --release --test feed_fuzz`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions; a failure is a test failure"
)]

use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;
use std::io::Write;
use trading_engine::feed::{
    BinanceDecoder, BingxDecoder, FeedError, FrameKind, InflateError, Inflater, MarketEvent,
    SymbolTable,
};
use trading_engine::types::SymbolId;

fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(payload).unwrap();
    enc.finish().unwrap()
}

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert("BTC-USDT", SymbolId(0)).unwrap();
    t.insert("ETH-USDT", SymbolId(1)).unwrap();
    t.insert("BTCUSDT", SymbolId(0)).unwrap();
    t.insert("ETHUSDT", SymbolId(1)).unwrap();
    t
}

const BINGX_MESSAGES: [&str; 6] = [
    r#"{"code":0,"dataType":"ETH-USDT@trade","data":[{"q":"1.92","p":"2983.48","T":1714650253104,"m":false,"s":"ETH-USDT"},{"q":"8.26","p":"2983.66","T":1714650252893,"m":true,"s":"ETH-USDT"}]}"#,
    r#"{"code":0,"dataType":"ETH-USDT@kline_1m","s":"ETH-USDT","data":[{"c":"2989.57","o":"2991.50","h":"2991.55","l":"2989.04","v":"215.89","T":1714650540000}]}"#,
    r#"{"code":0,"dataType":"BTC-USDT@bookTicker","data":{"e":"bookTicker","u":578534658,"E":1760001840686,"T":1760001840687,"s":"BTC-USDT","b":"121584.1","B":"18.7084","a":"121584.3","A":"4.9602"}}"#,
    r#"{"id":"e745cd6d-d0f6-4a70-8d5a-043e4c741b40","code":0,"msg":"","dataType":"","data":null}"#,
    r#"{"code":0,"dataType":"BTC-USDT@depth5@500ms","ts":1759996742928,"data":{"bids":[["121825.7","7.7622"]],"asks":[["121827.3","0.0025"]]}}"#,
    "Ping",
];

const BINANCE_MESSAGES: [&str; 5] = [
    r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}}"#,
    r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}"#,
    r#"{"e":"kline","E":1638747660000,"s":"BTCUSDT","k":{"t":1638747660000,"T":1638747719999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#,
    r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
    r#"{"result":null,"id":1}"#,
];

/// The hot Binance shapes the fast path handles, in spellings it must accept
/// (raw, combined envelope, whitespace, ids and timestamps as strings).
const BINANCE_HOT: [&str; 5] = [
    r#"{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":2226221111,"p":"61800.30","q":"0.006","f":5266583935,"l":5266583935,"T":1723161256322,"m":false}"#,
    r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1723161256400,"s":"BTCUSDT","a":2226221112,"p":"61800.40","q":"0.100","f":5266583936,"l":5266583937,"T":1723161256400,"m":true}}"#,
    r#"{"stream":"ethusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"ETHUSDT","t":5266583935,"p":"2983.48","q":"1.92","X":"MARKET","m":false}}"#,
    r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1638747660000,"s":"BTCUSDT","k":{"t":1638747660000,"T":1638747719999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#,
    " {\"e\" : \"aggTrade\",\n\"s\":\"ETHUSDT\",\"a\":\"7\",\"p\":3000,\"q\":\"1\",\"T\":\"1714650253104\",\"m\":\"true\",\"x\":null}\r\n",
];

/// A mutation applied to a valid message or frame.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Truncate { at: usize },
    Duplicate { from: usize, len: usize, to: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // JSON-significant bytes make structural damage likelier than random bytes.
    let interesting = prop_oneof![
        any::<u8>(),
        prop::sample::select(&b"{}[]\":,-.0123456789eE+ \\ntfu"[..]),
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), interesting.clone()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(interesting, 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..32, any::<usize>())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
    ]
}

fn apply(mut data: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = data.len().max(1);
        match m {
            Mutation::Flip { at, bit } => {
                if let Some(b) = data.get_mut(at % n) {
                    *b ^= 1 << bit;
                }
            }
            Mutation::Set { at, byte } => {
                if let Some(b) = data.get_mut(at % n) {
                    *b = *byte;
                }
            }
            Mutation::Delete { at, len } => {
                let start = at % n;
                let end = (start + len).min(data.len());
                if start < end {
                    data.drain(start..end);
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = at % (data.len() + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Truncate { at } => data.truncate(at % n),
            Mutation::Duplicate { from, len, to } => {
                let start = from % n;
                let end = (start + len).min(data.len());
                if start < end {
                    let chunk: Vec<u8> = data[start..end].to_vec();
                    let to = to % (data.len() + 1);
                    data.splice(to..to, chunk);
                }
            }
        }
    }
    data
}

/// Checks what a decoder may answer: an event kind consistent with what it
/// emitted, or a typed error with nothing emitted.
fn check(result: Result<FrameKind, FeedError>, events: &[MarketEvent]) {
    match result {
        Ok(FrameKind::Trades { emitted, .. }) => {
            assert_eq!(usize::from(emitted), events.len());
            assert!(events.iter().all(|e| matches!(e, MarketEvent::Trade(t) if t.price.is_positive() && t.qty.is_positive())));
        }
        Ok(FrameKind::Kline) => assert!(!events.is_empty()),
        Ok(FrameKind::BookTicker) => assert_eq!(events.len(), 1),
        Ok(_) | Err(_) => assert!(events.is_empty(), "{result:?} emitted {events:?}"),
    }
    if let Err(e) = result {
        // Display never panics and names a cause.
        assert!(!e.to_string().is_empty());
    }
}

/// 256 cases by default (CI), or `PROPTEST_CASES` for a long run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut inf = Inflater::new(1 << 16);
        let _ = inf.inflate(&bytes);
        let mut bx = BingxDecoder::new(table());
        let mut bn = BinanceDecoder::new(table());
        let mut ev = Vec::new();
        let r = bx.decode(&bytes, &mut |e| ev.push(e));
        check(r, &ev);
        ev.clear();
        let r = bx.decode_payload(&bytes, &mut |e| ev.push(e));
        check(r, &ev);
        ev.clear();
        let r = bn.decode(&bytes, &mut |e| ev.push(e));
        check(r, &ev);
        prop_assert_eq!(bn.stats().frames, 1);
        prop_assert_eq!(bx.stats().frames, 2);
    }

    #[test]
    fn prop_arbitrary_bytes_with_gzip_magic_never_panic(tail in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut frame = vec![0x1f, 0x8b, 0x08];
        frame.extend_from_slice(&tail);
        let mut bx = BingxDecoder::new(table());
        let mut ev = Vec::new();
        let r = bx.decode(&frame, &mut |e| ev.push(e));
        check(r, &ev);
    }

    #[test]
    fn prop_mutated_gzip_frames_never_panic(
        which in 0..BINGX_MESSAGES.len(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let frame = apply(gzip(BINGX_MESSAGES[which].as_bytes()), &muts);
        let mut inf = Inflater::new(1 << 16);
        match inf.inflate(&frame) {
            Ok(_) | Err(InflateError::NotGzip | InflateError::Truncated | InflateError::Corrupt | InflateError::TooLarge) => {}
        }
        let mut bx = BingxDecoder::new(table());
        let mut ev = Vec::new();
        let r = bx.decode(&frame, &mut |e| ev.push(e));
        check(r, &ev);
    }

    #[test]
    fn prop_mutated_bingx_payloads_never_panic(
        which in 0..BINGX_MESSAGES.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let payload = apply(BINGX_MESSAGES[which].as_bytes().to_vec(), &muts);
        let mut bx = BingxDecoder::new(table());
        let mut ev = Vec::new();
        // Through gzip (the real path) and directly.
        let r = bx.decode(&gzip(&payload), &mut |e| ev.push(e));
        check(r, &ev);
        let mut bx = BingxDecoder::new(table());
        ev.clear();
        let r = bx.decode_payload(&payload, &mut |e| ev.push(e));
        check(r, &ev);
    }

    #[test]
    fn prop_mutated_binance_messages_never_panic(
        which in 0..BINANCE_MESSAGES.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let msg = apply(BINANCE_MESSAGES[which].as_bytes().to_vec(), &muts);
        let mut bn = BinanceDecoder::new(table());
        let mut ev = Vec::new();
        let r = bn.decode(&msg, &mut |e| ev.push(e));
        check(r, &ev);
    }

    #[test]
    fn prop_reused_decoder_survives_garbage_between_valid_frames(
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..128), 1..8),
    ) {
        let mut bn = BinanceDecoder::new(table());
        let mut bx = BingxDecoder::new(table());
        let good_bn = BINANCE_MESSAGES[4].as_bytes();
        let good_bx = gzip(BINGX_MESSAGES[3].as_bytes());
        for g in &garbage {
            let _ = bn.decode(g, &mut |_| {});
            let _ = bx.decode(g, &mut |_| {});
            let ok_bn = bn.decode(good_bn, &mut |_| ());
            let ok_bx = bx.decode(&good_bx, &mut |_| ());
            prop_assert!(matches!(ok_bn, Ok(FrameKind::SubscriptionAck(_))));
            prop_assert!(matches!(ok_bx, Ok(FrameKind::SubscriptionAck(_))));
        }
    }

    #[test]
    fn prop_binance_fast_path_agrees_with_general_path(
        frames in prop::collection::vec(
            (0..BINANCE_HOT.len() + BINANCE_MESSAGES.len(), prop::collection::vec(mutation(), 0..4)),
            1..6,
        ),
    ) {
        // Two decoders see the same sequence, so per-symbol timestamp state
        // (and TimestampBackwards) is compared too.
        let mut fast = BinanceDecoder::new(table());
        let mut general = BinanceDecoder::new(table());
        for (which, muts) in &frames {
            let base = BINANCE_HOT.iter().chain(BINANCE_MESSAGES.iter()).nth(*which).unwrap();
            let msg = apply(base.as_bytes().to_vec(), muts);
            let (mut fast_events, mut general_events) = (Vec::new(), Vec::new());
            let f = fast.decode(&msg, &mut |e| fast_events.push(e));
            let g = general.decode_general(&msg, &mut |e| general_events.push(e));
            prop_assert_eq!(f, g, "{}", String::from_utf8_lossy(&msg));
            prop_assert_eq!(&fast_events, &general_events);
            prop_assert_eq!(fast.stats(), general.stats());
            check(f, &fast_events);
        }
    }

    #[test]
    fn prop_binance_fast_path_agrees_on_field_values(
        which in 0..BINANCE_HOT.len(),
        field in prop::sample::select(&["\"p\":", "\"q\":", "\"T\":", "\"a\":", "\"t\":", "\"m\":", "\"s\":", "\"e\":", "\"h\":", "\"i\":", "\"x\":"][..]),
        value in prop_oneof![
            "[0-9]{1,21}",
            "\"[0-9.-]{0,22}\"",
            "-?[0-9]{1,3}(\\.[0-9]{1,3})?([eE][+-]?[0-9])?",
            prop::sample::select(&["true", "false", "null", "\"true\"", "\"1m\"", "\"BTCUSDT\"", "\"XRPUSDT\"", "{}", "[]", "\"\\u0031\"", "\"aggTrade\""][..]).prop_map(str::to_owned),
        ],
    ) {
        // Replaces the value after the first occurrence of `field` (up to the
        // next `,` or `}`), targeting the conversions rather than the syntax.
        let base = BINANCE_HOT[which];
        let Some(at) = base.find(field) else { return Ok(()); };
        let start = at + field.len();
        let end = start + base[start..].find([',', '}']).unwrap();
        let msg = format!("{}{}{}", &base[..start], value, &base[end..]);
        let mut fast = BinanceDecoder::new(table());
        let mut general = BinanceDecoder::new(table());
        let (mut fast_events, mut general_events) = (Vec::new(), Vec::new());
        let f = fast.decode(msg.as_bytes(), &mut |e| fast_events.push(e));
        let g = general.decode_general(msg.as_bytes(), &mut |e| general_events.push(e));
        prop_assert_eq!(f, g, "{}", msg);
        prop_assert_eq!(&fast_events, &general_events);
        prop_assert_eq!(fast.stats(), general.stats());
    }
}
