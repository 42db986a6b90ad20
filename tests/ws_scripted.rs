//! The WebSocket client against scripted loopback servers: the zero-allocation steady state
//! of the BingX market poll loop over `ws://` and over `wss://` (TLS 1.3 and 1.2, rustls
//! server, with and without server KeyUpdates), Binance combined streams with protocol-level
//! ping/pong, fragmented messages, silence detection and reconnect. Every server thread is
//! bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flate2::write::GzEncoder;
use flate2::Compression;
use trading_engine::feed::{BinanceDecoder, BingxDecoder, MarketEvent, SymbolTable};
use trading_engine::io::ws::frame::{apply_mask, parse_frame};
use trading_engine::io::ws::{
    binance_combined_url, BinanceMarket, BingxMarket, DisconnectReason, Opcode, WsClient, WsConfig,
    WsEvent,
};
use trading_engine::types::{SymbolId, TimestampNs};

const LIMIT: Duration = Duration::from_secs(15);

fn now() -> TimestampNs {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    TimestampNs(d.as_nanos() as i64)
}

fn symbols(name: &str) -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert(name, SymbolId(0)).unwrap();
    t
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An unmasked server frame.
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![if fin { 0x80 } else { 0 } | opcode];
    if payload.len() < 126 {
        v.push(payload.len() as u8);
    } else if payload.len() <= 0xFFFF {
        v.push(126);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// Reads the upgrade request and answers 101; returns the request line's target.
fn handshake(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(LIMIT)).unwrap();
    handshake_on(s)
}

/// Reads the upgrade request on any stream (plain or TLS) and answers 101.
fn handshake_on(s: &mut (impl Read + Write)) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "client closed during handshake");
        head.push(b[0]);
    }
    let text = String::from_utf8(head).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
    write!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .unwrap();
    s.flush().unwrap();
    text.split(' ').nth(1).unwrap().to_owned()
}

/// Reads client frames until one with `opcode` arrives; returns its unmasked payload.
fn read_client_frame(s: &mut impl Read, buf: &mut Vec<u8>, opcode: Opcode) -> Vec<u8> {
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(h) = parse_frame(buf, 1 << 20).unwrap() {
            let mut p = buf[h.payload_start..h.frame_len()].to_vec();
            apply_mask(&mut p, h.mask.expect("client frames are masked"));
            buf.drain(..h.frame_len());
            if h.opcode == opcode {
                return p;
            }
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "client closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn serve<T: Send + 'static>(
    f: impl FnOnce(TcpListener) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    (format!("ws://{addr}"), std::thread::spawn(move || f(l)))
}

fn bingx_trade(ts: i64, price: &str) -> Vec<u8> {
    gzip(format!(
        r#"{{"code":0,"dataType":"BTC-USDT@trade","data":[{{"q":"0.0100","p":"{price}","T":{ts},"m":false,"s":"BTC-USDT"}}]}}"#
    ).as_bytes())
}

#[test]
fn bingx_market_poll_loop_does_not_allocate_in_steady_state() {
    const WARM: usize = 200;
    const TOTAL: usize = 3_000;
    let base_ts = 1_700_000_000_000i64;
    // Chunks of 100 trades, each ending with a BingX Ping (and a protocol ping); the
    // server sends the next chunk only after the client's Pong, so the measured phase
    // really reads, decodes and answers most of the stream.
    let mut chunks = Vec::new();
    for c in 0..TOTAL / 100 {
        let mut chunk = Vec::new();
        for i in c * 100..(c + 1) * 100 {
            chunk.extend(frame(
                0x2,
                true,
                &bingx_trade(base_ts + i as i64, "60000.5"),
            ));
        }
        chunk.extend(frame(0x9, true, b"proto-ping"));
        chunk.extend(frame(0x2, true, &gzip(b"Ping")));
        chunks.push(chunk);
    }
    let (url, server) = serve(move |l| {
        let (mut s, _) = l.accept().unwrap();
        handshake(&mut s);
        let mut buf = Vec::new();
        let mut pongs = 0;
        for chunk in &chunks {
            s.write_all(chunk).unwrap();
            while read_client_frame(&mut s, &mut buf, Opcode::Text) != b"Pong" {}
            pongs += 1;
        }
        let _ = read_client_frame(&mut s, &mut buf, Opcode::Close);
        pongs
    });
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols("BTC-USDT")));
    proto.subscribe_symbol("BTC-USDT");
    let mut c = WsClient::new(&format!("{url}/swap-market"), WsConfig::default(), proto).unwrap();
    let mut trades = 0usize;
    let start = Instant::now();
    while trades < WARM {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |e| {
            if matches!(e, WsEvent::Data(MarketEvent::Trade(_))) {
                trades += 1;
            }
        });
    }
    let before = trades;
    let info = allocation_counter::measure(|| {
        while trades < TOTAL && start.elapsed() < LIMIT {
            c.poll_once(now(), &mut |e| {
                if matches!(e, WsEvent::Data(MarketEvent::Trade(_))) {
                    trades += 1;
                }
            });
        }
    });
    assert_eq!(trades, TOTAL);
    assert_eq!(
        info.count_total, 0,
        "steady-state polling allocated {} times",
        info.count_total
    );
    assert!(
        TOTAL - before >= 2_500,
        "only {} trades measured",
        TOTAL - before
    );
    // The last chunk's Ping may arrive after its trades: poll until it is answered.
    while c.protocol().pongs_sent() < (TOTAL / 100) as u64 {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |_| {});
    }
    assert_eq!(c.protocol().pongs_sent(), (TOTAL / 100) as u64);
    assert_eq!(c.stats().pings_answered, (TOTAL / 100) as u64);
    c.close();
    assert_eq!(server.join().unwrap(), TOTAL / 100);
}

#[test]
fn binance_combined_stream_answers_protocol_pings_with_the_same_payload() {
    let (url, server) = serve(|l| {
        let (mut s, _) = l.accept().unwrap();
        let target = handshake(&mut s);
        s.write_all(&frame(0x9, true, b"hb-1")).unwrap();
        let mut buf = Vec::new();
        let pong = read_client_frame(&mut s, &mut buf, Opcode::Pong);
        let agg = br#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000100,"s":"BTCUSDT","a":5933014,"p":"37000.10","q":"0.250","f":100,"l":105,"T":1700000000099,"m":true}}"#;
        // Fragmented text message with a ping between the fragments.
        s.write_all(&frame(0x1, false, &agg[..40])).unwrap();
        s.write_all(&frame(0x9, true, b"hb-2")).unwrap();
        s.write_all(&frame(0x0, true, &agg[40..])).unwrap();
        let pong2 = read_client_frame(&mut s, &mut buf, Opcode::Pong);
        let _ = read_client_frame(&mut s, &mut buf, Opcode::Close);
        (target, pong, pong2)
    });
    let full = binance_combined_url(&format!("{url}/market"), &["BTCUSDT"], true, true);
    let mut c = WsClient::new(
        &full,
        WsConfig {
            silence_timeout: Duration::from_secs(200),
            max_age: Some(Duration::from_secs(23 * 3600)),
            ..WsConfig::default()
        },
        BinanceMarket::new(BinanceDecoder::new(symbols("BTCUSDT"))),
    )
    .unwrap();
    let mut trades = Vec::new();
    let start = Instant::now();
    while trades.is_empty() {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |e| {
            if let WsEvent::Data(MarketEvent::Trade(t)) = e {
                trades.push(t);
            }
        });
    }
    // Flush the second pong.
    while c.stats().pings_answered < 2 {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |_| {});
    }
    c.close();
    let (target, pong, pong2) = server.join().unwrap();
    assert_eq!(
        target,
        "/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m"
    );
    assert_eq!(pong, b"hb-1");
    assert_eq!(pong2, b"hb-2");
    assert_eq!(trades.len(), 1);
    assert_eq!(
        trades[0].price,
        trading_engine::types::Price::from_decimal(3_700_010, 2).unwrap()
    );
    assert_eq!(c.protocol().feed_stats().trades, 1);
}

#[test]
fn a_silent_connection_is_dropped_and_replaced() {
    let (url, server) = serve(|l| {
        // First connection: handshake, then silence until the client leaves.
        let (mut s, _) = l.accept().unwrap();
        handshake(&mut s);
        let mut b = [0u8; 1024];
        while let Ok(n) = s.read(&mut b) {
            if n == 0 {
                break;
            }
        }
        // Second connection: one trade.
        let (mut s, _) = l.accept().unwrap();
        handshake(&mut s);
        s.write_all(&frame(
            0x2,
            true,
            &bingx_trade(1_700_000_000_000, "60001.0"),
        ))
        .unwrap();
        let mut buf = Vec::new();
        let _ = read_client_frame(&mut s, &mut buf, Opcode::Close);
    });
    let mut c = WsClient::new(
        &format!("{url}/swap-market"),
        WsConfig {
            silence_timeout: Duration::from_millis(200),
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(50),
            ..WsConfig::default()
        },
        BingxMarket::new(BingxDecoder::new(symbols("BTC-USDT"))),
    )
    .unwrap();
    let mut ev = Vec::new();
    let start = Instant::now();
    while !ev.iter().any(|e| matches!(e, WsEvent::Data(_))) {
        assert!(start.elapsed() < LIMIT, "{ev:?}");
        c.poll_once(now(), &mut |e| ev.push(e));
        std::thread::sleep(Duration::from_millis(1));
    }
    c.close();
    server.join().unwrap();
    assert!(matches!(
        ev[1],
        WsEvent::Disconnected {
            reason: DisconnectReason::Silent,
            ..
        }
    ));
    assert!(matches!(
        ev[2],
        WsEvent::Connected {
            reconnect: true,
            ..
        }
    ));
    assert!(matches!(ev[3], WsEvent::Outage(_)));
}

#[test]
fn an_upgrade_refused_with_404_is_retried_with_backoff() {
    let (url, server) = serve(|l| {
        for _ in 0..3 {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).unwrap();
            s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        }
    });
    let mut c = WsClient::new(
        &format!("{url}/swap-market?listenKey=bad"),
        WsConfig {
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(20),
            ..WsConfig::default()
        },
        BingxMarket::new(BingxDecoder::new(symbols("BTC-USDT"))),
    )
    .unwrap();
    let start = Instant::now();
    while c.stats().failed_attempts < 3 {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |_| {});
        std::thread::sleep(Duration::from_millis(1));
    }
    server.join().unwrap();
    assert_eq!(c.stats().connects, 0);
    assert_eq!(
        c.stats().last_disconnect,
        Some(DisconnectReason::Handshake(
            trading_engine::io::ws::HandshakeFailure::Status(404)
        ))
    );
    assert!(c.stats().last_backoff <= Duration::from_millis(20));
}

/// A rustls server configuration for `127.0.0.1` limited to `version`, and a PEM file (in
/// the returned directory) with its self-signed certificate for the client to trust.
fn tls_server(
    version: &'static rustls::SupportedProtocolVersion,
) -> (std::sync::Arc<rustls::ServerConfig>, tempfile::TempDir) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.signing_key.serialize_der(),
    ));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    (std::sync::Arc::new(cfg), dir)
}

/// Streams `TOTAL` BingX trades over `wss://` in chunks of 100, each chunk written frame by
/// frame (so one TLS record per frame) and ending with a BingX Ping the client must answer
/// before the next chunk; with `key_updates`, the server rolls its TLS 1.3 keys (asking
/// the client to do the same) before every chunk. Returns the allocations counted while
/// the client polled after a warm-up of `WARM` trades.
fn tls_poll_loop(
    version: &'static rustls::SupportedProtocolVersion,
    key_updates: bool,
) -> allocation_counter::AllocationInfo {
    const WARM: usize = 200;
    const TOTAL: usize = 3_000;
    let base_ts = 1_700_000_000_000i64;
    let (server_cfg, dir) = tls_server(version);
    let mut chunks = Vec::new();
    for c in 0..TOTAL / 100 {
        let mut chunk = Vec::new();
        for i in c * 100..(c + 1) * 100 {
            chunk.push(frame(
                0x2,
                true,
                &bingx_trade(base_ts + i as i64, "60000.5"),
            ));
        }
        chunk.push(frame(0x9, true, b"proto-ping"));
        chunk.push(frame(0x2, true, &gzip(b"Ping")));
        chunks.push(chunk);
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/swap-market", l.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (sock, _) = l.accept().unwrap();
        sock.set_read_timeout(Some(LIMIT)).unwrap();
        let conn = rustls::ServerConnection::new(server_cfg).unwrap();
        let mut s = rustls::StreamOwned::new(conn, sock);
        handshake_on(&mut s);
        let mut buf = Vec::new();
        let mut pongs = 0;
        for chunk in &chunks {
            if key_updates {
                s.conn.refresh_traffic_keys().unwrap();
            }
            for f in chunk {
                s.write_all(f).unwrap();
                s.flush().unwrap();
            }
            // Read under the client's new key after a KeyUpdate: proves it answered.
            while read_client_frame(&mut s, &mut buf, Opcode::Text) != b"Pong" {}
            pongs += 1;
        }
        let _ = read_client_frame(&mut s, &mut buf, Opcode::Close);
        pongs
    });
    let mut cfg = WsConfig::default();
    cfg.tls.use_webpki_roots = false;
    cfg.tls.extra_ca_file = Some(dir.path().join("ca.pem"));
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols("BTC-USDT")));
    proto.subscribe_symbol("BTC-USDT");
    let mut c = WsClient::new(&url, cfg, proto).unwrap();
    let mut trades = 0usize;
    let start = Instant::now();
    while trades < WARM {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |e| {
            if matches!(e, WsEvent::Data(MarketEvent::Trade(_))) {
                trades += 1;
            }
        });
    }
    let before = trades;
    let info = allocation_counter::measure(|| {
        while trades < TOTAL && start.elapsed() < LIMIT {
            c.poll_once(now(), &mut |e| {
                if matches!(e, WsEvent::Data(MarketEvent::Trade(_))) {
                    trades += 1;
                }
            });
        }
    });
    assert_eq!(trades, TOTAL);
    assert!(
        TOTAL - before >= 2_500,
        "only {} trades measured",
        TOTAL - before
    );
    while c.protocol().pongs_sent() < (TOTAL / 100) as u64 {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |_| {});
    }
    assert_eq!(c.stats().pings_answered, (TOTAL / 100) as u64);
    assert_eq!(c.stats().disconnects, 0);
    c.close();
    assert_eq!(server.join().unwrap(), TOTAL / 100);
    info
}

#[test]
fn bingx_market_poll_loop_over_tls13_does_not_allocate_in_steady_state() {
    let info = tls_poll_loop(&rustls::version::TLS13, false);
    assert_eq!(
        (info.count_total, info.bytes_total),
        (0, 0),
        "steady-state polling over TLS 1.3 allocated"
    );
}

#[test]
fn bingx_market_poll_loop_over_tls12_does_not_allocate_in_steady_state() {
    let info = tls_poll_loop(&rustls::version::TLS12, false);
    assert_eq!(
        (info.count_total, info.bytes_total),
        (0, 0),
        "steady-state polling over TLS 1.2 allocated"
    );
}

#[test]
fn a_wss_stream_follows_a_server_key_update_before_every_chunk() {
    // Each KeyUpdate goes through rustls's key schedule (about four allocations once per
    // update, measured; never per frame): 30 updates cost far fewer than 3,000 frames.
    let info = tls_poll_loop(&rustls::version::TLS13, true);
    assert!(
        info.count_total < 30 * 8,
        "{} allocations for 30 key updates",
        info.count_total
    );
}
