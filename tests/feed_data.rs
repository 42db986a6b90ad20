//! Real-data tests of the feed decoders: every BingX WebSocket sample in
//! `shared/data/bingx-samples/ws_*.json` (gzipped here into real frames) and
//! every line of every Binance capture in `shared/data/ws/*.jsonl.gz` is
//! decoded or deliberately ignored, with the counts asserted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions; a failure is a test failure"
)]

use bingx_sim::testdata::shared_file;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use trading_engine::feed::{
    BinanceDecoder, BingxDecoder, FrameKind, IgnoredKind, MarketEvent, SymbolTable,
};
use trading_engine::types::SymbolId;

fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(payload).unwrap();
    enc.finish().unwrap()
}

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    for (i, (bingx, binance)) in [("BTC-USDT", "BTCUSDT"), ("ETH-USDT", "ETHUSDT")]
        .iter()
        .enumerate()
    {
        t.insert(bingx, SymbolId(i as u16)).unwrap();
        t.insert(binance, SymbolId(i as u16)).unwrap();
    }
    t
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    messages: u64,
    trade_frames: u64,
    trades: u64,
    klines: u64,
    book_tickers: u64,
    acks: u64,
    ignored: BTreeMap<String, u64>,
    errors: u64,
}

#[test]
fn every_bingx_ws_sample_decodes_or_is_deliberately_ignored() {
    let Some(dir) = shared_file("bingx-samples") else {
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("ws_"))
        .collect();
    paths.sort();
    let mut dec = BingxDecoder::new(table());
    let mut c = Counts::default();
    for path in &paths {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        // A file holds one message, or an array of messages.
        let messages = match value {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for msg in messages {
            c.messages += 1;
            let frame = gzip(&serde_json::to_vec(&msg).unwrap());
            let mut events = Vec::new();
            match dec.decode(&frame, &mut |e| events.push(e)) {
                Ok(FrameKind::Trades { emitted, skipped }) => {
                    assert_eq!(skipped, 0, "{}", path.display());
                    c.trade_frames += 1;
                    c.trades += u64::from(emitted);
                    let ts: Vec<_> = events
                        .iter()
                        .map(|e| match e {
                            MarketEvent::Trade(t) => t.exchange_ts,
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "oldest first");
                }
                Ok(FrameKind::Kline) => c.klines += events.len() as u64,
                Ok(FrameKind::BookTicker) => c.book_tickers += 1,
                Ok(FrameKind::SubscriptionAck(a)) => {
                    assert_eq!(a.code, 0);
                    c.acks += 1;
                }
                Ok(FrameKind::Ignored(kind)) => {
                    *c.ignored.entry(format!("{kind:?}")).or_default() += 1;
                }
                Ok(FrameKind::Ping) => panic!("no Ping sample"),
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    c.errors += 1;
                }
            }
        }
    }
    let ignored = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        c,
        Counts {
            messages: 23,
            trade_frames: 2,
            trades: 25,
            klines: 2,
            book_tickers: 2,
            acks: 1,
            ignored: ignored(&[
                ("ClientRequest", 2),
                ("Depth", 3),
                ("LastPrice", 1),
                ("MarkPrice", 1),
                ("Ticker", 1),
                ("UserData", 8),
            ]),
            errors: 0,
        }
    );
    let s = dec.stats();
    assert_eq!(
        (
            s.frames,
            s.trades,
            s.klines,
            s.book_tickers,
            s.acks,
            s.ignored
        ),
        (23, 25, 2, 2, 1, 16)
    );
    assert_eq!(s.total_errors(), 0);
    // The Ping heartbeat, as the server sends it.
    assert_eq!(dec.decode(&gzip(b"Ping"), &mut |_| {}), Ok(FrameKind::Ping));
}

/// `(file, lines, trades, ignored depth, ignored book tickers)` from shared/data/README.md §7.
const CAPTURES: [(&str, u64, u64, u64, u64); 4] = [
    (
        "ws/binance-futures-BTCUSDT-ws-2024-08-08T23-54_2024-08-09T00-00.jsonl.gz",
        93_954,
        21_313,
        6_551 + 1,
        66_089,
    ),
    (
        "ws/binance-futures-ETHUSDT-ws-2024-08-08T23-54_2024-08-09T00-00.jsonl.gz",
        74_655,
        14_076,
        6_586 + 1,
        53_992,
    ),
    (
        "ws/binance-spot-BTCUSDT-ws-2024-08-08T23-54_2024-08-09T00-00.jsonl.gz",
        41_249,
        9_757,
        3_451 + 1,
        28_040,
    ),
    (
        "ws/binance-spot-BTCUSDT-ws-2024-08-09T00-00_2024-08-09T00-05.jsonl.gz",
        58_325,
        10_147,
        3_044,
        45_134,
    ),
];

#[test]
fn every_binance_capture_line_decodes_or_is_deliberately_ignored() {
    for (file, lines, trades, depth, books) in CAPTURES {
        let Some(path) = shared_file(file) else {
            return;
        };
        let reader = BufReader::new(GzDecoder::new(std::fs::File::open(path).unwrap()));
        let mut dec = BinanceDecoder::new(table());
        let mut general = BinanceDecoder::new(table());
        let (mut n, mut n_trades, mut n_depth, mut n_books, mut errors) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut last_id: Option<u64> = None;
        for line in reader.lines() {
            let line = line.unwrap();
            // `<local receive ns> <raw JSON>`
            let (_, json) = line.split_once(' ').unwrap();
            n += 1;
            let mut ids = Vec::new();
            let mut events = Vec::new();
            let result = dec.decode(json.as_bytes(), &mut |e| {
                events.push(e);
                if let MarketEvent::Trade(t) = e {
                    ids.push(t.trade_id);
                }
            });
            // The fast path (trades) and the general simd-json path agree.
            let mut general_events = Vec::new();
            let general_result =
                general.decode_general(json.as_bytes(), &mut |e| general_events.push(e));
            assert_eq!(
                (result, &events),
                (general_result, &general_events),
                "{file} line {n}"
            );
            match result {
                Ok(FrameKind::Trades {
                    emitted: 1,
                    skipped: 0,
                }) => n_trades += 1,
                Ok(FrameKind::Ignored(IgnoredKind::Depth)) => n_depth += 1,
                Ok(FrameKind::Ignored(IgnoredKind::BookTicker)) => n_books += 1,
                other => {
                    eprintln!("{file} line {n}: {other:?}");
                    errors += 1;
                }
            }
            for id in ids {
                // The captures' trade ids are consecutive (README §6).
                if let Some(prev) = last_id {
                    assert_eq!(id, prev + 1, "{file} line {n}");
                }
                last_id = Some(id);
            }
        }
        assert_eq!(
            (n, n_trades, n_depth, n_books, errors),
            (lines, trades, depth, books, 0),
            "{file}"
        );
        let s = dec.stats();
        assert_eq!(
            (s.frames, s.trades, s.ignored, s.total_errors()),
            (lines, trades, depth + books, 0)
        );
        assert_eq!(s, general.stats());
    }
}
