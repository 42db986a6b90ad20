//! Decoder tests: every message kind, every error kind, trade order, exact
//! ids, and zero allocation in steady state.

use super::*;
use crate::types::Side;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(payload).unwrap();
    enc.finish().unwrap()
}

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert("BTC-USDT", SymbolId(0)).unwrap();
    t.insert("BTCUSDT", SymbolId(0)).unwrap();
    t.insert("ETH-USDT", SymbolId(1)).unwrap();
    t.insert("ETHUSDT", SymbolId(1)).unwrap();
    t
}

fn bingx(json: &str) -> (Result<FrameKind, FeedError>, Vec<MarketEvent>) {
    let mut d = BingxDecoder::new(table());
    let mut out = Vec::new();
    let r = d.decode(&gzip(json.as_bytes()), &mut |e| out.push(e));
    (r, out)
}

fn binance(json: &str) -> (Result<FrameKind, FeedError>, Vec<MarketEvent>) {
    let mut d = BinanceDecoder::new(table());
    let mut out = Vec::new();
    let r = d.decode(json.as_bytes(), &mut |e| out.push(e));
    (r, out)
}

fn trades(events: &[MarketEvent]) -> Vec<Trade> {
    events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Trade(t) => Some(*t),
            _ => None,
        })
        .collect()
}

const BINGX_TRADES: &str = r#"{"code":0,"dataType":"ETH-USDT@trade","data":[
 {"q":"1.92","p":"2983.48","T":1714650253104,"m":false,"s":"ETH-USDT"},
 {"q":"8.26","p":"2983.66","T":1714650252893,"m":true,"s":"ETH-USDT"},
 {"q":"0.13","p":"2983.94","T":1714650252757,"m":false,"s":"ETH-USDT"}]}"#;

#[test]
fn bingx_ping_needs_pong() {
    let mut d = BingxDecoder::new(table());
    assert_eq!(d.decode(&gzip(b"Ping"), &mut |_| {}), Ok(FrameKind::Ping));
    assert_eq!(d.stats().pings, 1);
}

#[test]
fn bingx_trades_newest_first_are_emitted_oldest_first() {
    let (r, ev) = bingx(BINGX_TRADES);
    assert_eq!(
        r,
        Ok(FrameKind::Trades {
            emitted: 3,
            skipped: 0
        })
    );
    let t = trades(&ev);
    let times: Vec<i64> = t.iter().map(|t| t.exchange_ts.as_ms()).collect();
    assert_eq!(
        times,
        [1_714_650_252_757, 1_714_650_252_893, 1_714_650_253_104]
    );
    assert_eq!(t[0].price, Price::from_decimal(298_394, 2).unwrap());
    assert_eq!(t[2].qty, Qty::from_decimal(192, 2).unwrap());
    assert_eq!(t[1].aggressor, Side::Sell);
    assert_eq!(t[0].aggressor, Side::Buy);
    assert!(t.iter().all(|t| t.symbol == SymbolId(1) && t.trade_id == 0));
}

#[test]
fn bingx_equal_timestamps_keep_reversed_push_order() {
    let json = r#"{"code":0,"dataType":"BTC-USDT@trade","data":[
 {"q":"3","p":"100","T":1714650252640,"m":true,"s":"BTC-USDT"},
 {"q":"2","p":"100","T":1714650252640,"m":true,"s":"BTC-USDT"},
 {"q":"1","p":"100","T":1714650252639,"m":true,"s":"BTC-USDT"}]}"#;
    let (_, ev) = bingx(json);
    let qs: Vec<f64> = trades(&ev).iter().map(|t| t.qty.to_f64()).collect();
    assert_eq!(qs, [1.0, 2.0, 3.0]);
}

#[test]
fn bingx_single_object_trade_and_missing_symbol_use_data_type() {
    let json = r#"{"code":0,"dataType":"BTC-USDT@trade","data":{"q":"1","p":"100.5","T":1714650252640,"m":false}}"#;
    let (r, ev) = bingx(json);
    assert_eq!(
        r,
        Ok(FrameKind::Trades {
            emitted: 1,
            skipped: 0
        })
    );
    assert_eq!(trades(&ev)[0].symbol, SymbolId(0));
}

#[test]
fn bingx_kline_and_book_ticker_are_decoded() {
    let (r, ev) = bingx(
        r#"{"code":0,"dataType":"ETH-USDT@kline_1m","s":"ETH-USDT","data":[
 {"c":"2989.57","o":"2991.50","h":"2991.55","l":"2989.04","v":"215.89","T":1714650540000}]}"#,
    );
    assert_eq!(r, Ok(FrameKind::Kline));
    let MarketEvent::Kline(k) = ev[0] else {
        panic!("not a kline: {ev:?}")
    };
    assert_eq!(k.symbol, SymbolId(1));
    assert_eq!(k.open_time, TimestampNs::from_ms(1_714_650_540_000));
    assert_eq!(k.high, Price::from_decimal(299_155, 2).unwrap());
    assert_eq!(k.volume, Qty::from_decimal(21_589, 2).unwrap());
    assert_eq!(k.closed, None);

    let (r, ev) = bingx(
        r#"{"code":0,"dataType":"BTC-USDT@bookTicker","data":{"e":"bookTicker","u":578534658,
 "E":1760001840686,"T":1760001840687,"s":"BTC-USDT","b":"121584.1","B":"18.7084","a":"121584.3","A":"4.9602"}}"#,
    );
    assert_eq!(r, Ok(FrameKind::BookTicker));
    assert_eq!(
        ev[0],
        MarketEvent::BookTicker(BookTicker {
            symbol: SymbolId(0),
            bid: Price::from_decimal(1_215_841, 1).unwrap(),
            bid_qty: Qty::from_decimal(187_084, 4).unwrap(),
            ask: Price::from_decimal(1_215_843, 1).unwrap(),
            ask_qty: Qty::from_decimal(49_602, 4).unwrap(),
            ts: TimestampNs::from_ms(1_760_001_840_687),
        })
    );
}

#[test]
fn bingx_acks_carry_id_and_code() {
    let (r, _) = bingx(
        r#"{"id":"e745cd6d-d0f6-4a70-8d5a-043e4c741b40","code":0,"msg":"","dataType":"","data":null}"#,
    );
    let Ok(FrameKind::SubscriptionAck(ack)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(ack.id.as_str(), "e745cd6d-d0f6-4a70-8d5a-043e4c741b40");
    assert_eq!(ack.code, 0);
    let (r, _) = bingx(r#"{"id":"id1","code":80015,"msg":"dataType not supported"}"#);
    assert!(matches!(
        r,
        Ok(FrameKind::SubscriptionAck(SubscriptionAck {
            code: 80015,
            ..
        }))
    ));
}

#[test]
fn bingx_known_types_are_ignored_and_unknown_are_errors() {
    for (dt, kind) in [
        ("BTC-USDT@depth20@100ms", IgnoredKind::Depth),
        ("BTC-USDT@incrDepth", IgnoredKind::Depth),
        ("BTC-USDT@ticker", IgnoredKind::Ticker),
        ("BTC-USDT@lastPrice", IgnoredKind::LastPrice),
        ("BTC-USDT@markPrice", IgnoredKind::MarkPrice),
        ("BTC-USDT@kline_5m", IgnoredKind::KlineInterval),
    ] {
        let (r, ev) = bingx(&format!(r#"{{"code":0,"dataType":"{dt}","data":{{}}}}"#));
        assert_eq!(r, Ok(FrameKind::Ignored(kind)), "{dt}");
        assert!(ev.is_empty());
    }
    let (r, _) = bingx(r#"{"e":"ORDER_TRADE_UPDATE","E":1,"o":{}}"#);
    assert_eq!(r, Ok(FrameKind::Ignored(IgnoredKind::UserData)));
    let (r, _) = bingx(r#"{"code":0,"dataType":"BTC-USDT@fundingRate","data":{}}"#);
    assert_eq!(r, Err(FeedError::UnknownMessage));
    let (r, _) = bingx(r#"{"hello":1}"#);
    assert_eq!(r, Err(FeedError::UnknownMessage));
}

#[test]
fn ids_above_2_pow_53_round_trip_exactly() {
    let id: u64 = (1 << 53) + 1;
    for text in [format!("{id}"), format!("\"{id}\"")] {
        let (r, ev) = binance(&format!(
            r#"{{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":{text},"p":"61800.30","q":"0.006","f":1,"l":2,"T":1723161256322,"m":true}}"#
        ));
        assert_eq!(
            r,
            Ok(FrameKind::Trades {
                emitted: 1,
                skipped: 0
            })
        );
        assert_eq!(trades(&ev)[0].trade_id, id);
        assert_ne!(
            id as f64 as u64, id,
            "the id must not survive an f64 round trip"
        );
    }
    let big = 1_735_119_588_833_849_345u64;
    let (_, ev) = binance(&format!(
        r#"{{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":{big},"p":"1","q":"1","m":false}}"#
    ));
    assert_eq!(trades(&ev)[0].trade_id, big);
}

#[test]
fn binance_raw_and_combined_envelopes_decode_alike() {
    let raw = r#"{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}"#;
    let combined = format!(r#"{{"stream":"btcusdt@aggTrade","data":{raw}}}"#);
    let (r1, e1) = binance(raw);
    let (r2, e2) = binance(&combined);
    assert_eq!(r1, r2);
    assert_eq!(e1, e2);
    let t = trades(&e1)[0];
    assert_eq!(
        (t.trade_id, t.aggressor, t.symbol),
        (5_933_014, Side::Sell, SymbolId(0))
    );
    assert_eq!(t.exchange_ts, TimestampNs::from_ms(123_456_785));
}

#[test]
fn binance_kline_is_decoded_with_closed_flag() {
    let json = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1638747660000,"s":"BTCUSDT","k":{
 "t":1638747660000,"T":1638747719999,"s":"BTCUSDT","i":"1m","f":100,"L":200,
 "o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":true,
 "q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#;
    let (r, ev) = binance(json);
    assert_eq!(r, Ok(FrameKind::Kline));
    let MarketEvent::Kline(k) = ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(k.closed, Some(true));
    assert_eq!(k.close, Price::from_decimal(2, 3).unwrap());
    assert_eq!(k.open_time, TimestampNs::from_ms(1_638_747_660_000));
    let (r, _) = binance(&json.replace("\"1m\"", "\"5m\""));
    assert_eq!(r, Ok(FrameKind::Ignored(IgnoredKind::KlineInterval)));
}

#[test]
fn binance_acks_and_ignored_shapes() {
    let (r, _) = binance(r#"{"result":null,"id":1}"#);
    let Ok(FrameKind::SubscriptionAck(a)) = r else {
        panic!("{r:?}")
    };
    assert_eq!((a.id.as_str(), a.code), ("1", 0));
    let (r, _) = binance(r#"{"error":{"code":2,"msg":"Invalid request"},"id":7}"#);
    assert!(matches!(
        r,
        Ok(FrameKind::SubscriptionAck(SubscriptionAck { code: 2, .. }))
    ));
    let (r, _) = binance(r#"{"lastUpdateId":1,"bids":[],"asks":[]}"#);
    assert_eq!(r, Ok(FrameKind::Ignored(IgnoredKind::Depth)));
    let (r, _) = binance(r#"{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}"#);
    assert_eq!(r, Ok(FrameKind::Ignored(IgnoredKind::BookTicker)));
    let (r, _) = binance(r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}"#);
    assert_eq!(r, Ok(FrameKind::Ignored(IgnoredKind::ClientRequest)));
    let (r, _) = binance(r#"{"e":"somethingNew","E":1}"#);
    assert_eq!(r, Err(FeedError::UnknownMessage));
}

fn agg(ts: i64, price: &str, qty: &str) -> String {
    format!(
        r#"{{"e":"aggTrade","E":{ts},"s":"BTCUSDT","a":1,"p":"{price}","q":"{qty}","f":1,"l":1,"T":{ts},"m":false}}"#
    )
}

#[test]
fn every_error_kind_is_typed_and_counted() {
    let mut bx = BingxDecoder::new(table());
    let mut bn = BinanceDecoder::new(table());
    let ts = 1_723_161_256_322i64;
    let good = gzip(BINGX_TRADES.as_bytes());
    let cases: Vec<(Result<FrameKind, FeedError>, FeedErrorKind)> = vec![
        (
            bx.decode(&good[..good.len() - 3], &mut |_| {}),
            FeedErrorKind::TruncatedGzip,
        ),
        (
            bx.decode(b"not gzip", &mut |_| {}),
            FeedErrorKind::CorruptGzip,
        ),
        (
            bx.decode(&gzip(b"{\"code\":"), &mut |_| {}),
            FeedErrorKind::MalformedJson,
        ),
        (
            bn.decode(b"[1,2,3]", &mut |_| {}),
            FeedErrorKind::MalformedJson,
        ),
        (
            bn.decode(
                format!(r#"{{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"1","T":{ts}}}"#)
                    .as_bytes(),
                &mut |_| {},
            ),
            FeedErrorKind::MissingField,
        ),
        (
            bn.decode(
                format!(
                    r#"{{"e":"aggTrade","s":"BTCUSDT","a":1.5,"p":"1","q":"1","T":{ts},"m":true}}"#
                )
                .as_bytes(),
                &mut |_| {},
            ),
            FeedErrorKind::MistypedField,
        ),
        (
            bn.decode(agg(ts, "0", "1").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadPrice,
        ),
        (
            bn.decode(agg(ts, "-5", "1").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadPrice,
        ),
        (
            bn.decode(agg(ts, "NaN", "1").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadPrice,
        ),
        (
            bn.decode(agg(ts, "Infinity", "1").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadPrice,
        ),
        (
            bn.decode(agg(ts, "1", "99999999999").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadQty,
        ),
        (
            bn.decode(agg(ts, "1", "0").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadQty,
        ),
        (
            bn.decode(agg(0, "1", "1").as_bytes(), &mut |_| {}),
            FeedErrorKind::BadTimestamp,
        ),
        (
            bn.decode(
                agg(ts, "1", "1").replace("BTCUSDT", "DOGEUSDT").as_bytes(),
                &mut |_| {},
            ),
            FeedErrorKind::UnknownSymbol,
        ),
        (
            bn.decode(br#"{"e":"mystery"}"#, &mut |_| {}),
            FeedErrorKind::UnknownMessage,
        ),
        (
            bx.decode(
                &gzip(br#"{"code":1,"dataType":"BTC-USDT@trade","data":[]}"#),
                &mut |_| {},
            ),
            FeedErrorKind::ExchangeError,
        ),
        (
            bx.decode(&gzip(&vec![b' '; (1 << 20) + 1]), &mut |_| {}),
            FeedErrorKind::CorruptGzip,
        ),
        (
            bn.decode(&vec![b' '; (1 << 20) + 1], &mut |_| {}),
            FeedErrorKind::FrameTooLarge,
        ),
    ];
    for (i, (result, kind)) in cases.iter().enumerate() {
        let err = result.expect_err(&format!("case {i} should fail"));
        assert_eq!(err.kind(), *kind, "case {i}: {err}");
    }
    // Timestamps going backwards: the stale event is skipped and counted.
    assert!(bn.decode(agg(ts, "1", "1").as_bytes(), &mut |_| {}).is_ok());
    let mut got = 0;
    assert_eq!(
        bn.decode(agg(ts - 1, "1", "1").as_bytes(), &mut |_| got += 1),
        Err(FeedError::TimestampBackwards)
    );
    assert_eq!(got, 0);
    assert!(bn.decode(agg(ts, "1", "1").as_bytes(), &mut |_| {}).is_ok());

    let mut expected = [0u64; FeedErrorKind::COUNT];
    for (_, kind) in &cases {
        expected[kind.index()] += 1;
    }
    expected[FeedErrorKind::TimestampBackwards.index()] += 1;
    for kind in FeedErrorKind::ALL {
        let total = bx.stats().errors(kind) + bn.stats().errors(kind);
        assert_eq!(total, expected[kind.index()], "{kind:?}");
        assert!(total > 0, "no test for {kind:?}");
    }
}

#[test]
fn oversized_inflated_payload_is_too_large() {
    let limits = FeedLimits {
        max_frame_bytes: 64,
        ..FeedLimits::default()
    };
    let mut d = BingxDecoder::with_limits(table(), limits);
    assert_eq!(
        d.decode(&gzip(BINGX_TRADES.as_bytes()), &mut |_| {}),
        Err(FeedError::Gzip(InflateError::TooLarge))
    );
    assert_eq!(
        d.decode_payload(BINGX_TRADES.as_bytes(), &mut |_| {}),
        Err(FeedError::FrameTooLarge)
    );
}

#[test]
fn bingx_partly_stale_frame_emits_only_fresh_trades() {
    let mut d = BingxDecoder::new(table());
    d.decode(&gzip(BINGX_TRADES.as_bytes()), &mut |_| {})
        .unwrap();
    // Two trades older than the last accepted one, one newer.
    let json = r#"{"code":0,"dataType":"ETH-USDT@trade","data":[
 {"q":"1","p":"2983","T":1714650253200,"m":false,"s":"ETH-USDT"},
 {"q":"1","p":"2983","T":1714650253000,"m":false,"s":"ETH-USDT"},
 {"q":"1","p":"2983","T":1714650252000,"m":false,"s":"ETH-USDT"}]}"#;
    let mut out = Vec::new();
    let r = d.decode(&gzip(json.as_bytes()), &mut |e| out.push(e));
    assert_eq!(
        r,
        Ok(FrameKind::Trades {
            emitted: 1,
            skipped: 2
        })
    );
    assert_eq!(d.stats().errors(FeedErrorKind::TimestampBackwards), 2);
    assert_eq!(d.stats().trades, 4);
}

#[test]
fn a_bad_element_rejects_the_whole_frame() {
    let json = BINGX_TRADES.replace("\"8.26\"", "\"-8.26\"");
    let (r, ev) = bingx(&json);
    assert_eq!(r, Err(FeedError::BadQty("q")));
    assert!(ev.is_empty());
}

#[test]
fn steady_state_decoding_does_not_allocate() {
    let mut bx = BingxDecoder::new(table());
    let mut bn = BinanceDecoder::new(table());
    let ping = gzip(b"Ping");
    let base = 1_714_650_253_104i64;
    // Pre-build frames with rising timestamps so that none is stale.
    let frames: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            gzip(
                BINGX_TRADES
                    .replace("17146502", &format!("{}", 17_146_502 + i))
                    .as_bytes(),
            )
        })
        .collect();
    let aggs: Vec<String> = (0..200)
        .map(|i| agg(base + i, "61800.30", "0.006"))
        .collect();
    let kline = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1638747660000,"i":"1m","o":"1","c":"2","h":"2","l":"1","v":"10","x":false}}}"#;
    // Warm-up grows every buffer once.
    let mut n = 0u64;
    bx.decode(&frames[0], &mut |_| n += 1).unwrap();
    bn.decode(aggs[0].as_bytes(), &mut |_| n += 1).unwrap();
    let info = allocation_counter::measure(|| {
        for (frame, text) in frames.iter().zip(&aggs).skip(1) {
            bx.decode(frame, &mut |_| n += 1).unwrap();
            bx.decode(&ping, &mut |_| n += 1).unwrap();
            bn.decode(text.as_bytes(), &mut |_| n += 1).unwrap();
            bn.decode(kline.as_bytes(), &mut |_| n += 1).unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // Warm-up: 3 trades + 1 aggTrade; then per round 3 trades, 1 aggTrade, 1 kline.
    assert_eq!(n, 3 + 1 + 199 * (3 + 1 + 1));
}
