//! Cost of the BingX market-data poll loop per frame, as a distribution (hdrhistogram).
//!
//! A loopback server thread upgrades one connection and streams pre-built gzip trade frames
//! (with a BingX `Ping` every 100 frames, answered by the client); the client busy-polls
//! [`WsClient::poll_once`]. Every call that decoded data is timed and its duration divided
//! by the frames it handled: that is read syscall + WebSocket framing + inflate + JSON
//! decode + sink, per frame. Calls that found nothing are timed separately (the idle cost
//! of one busy-poll iteration: a non-blocking `read` returning `WouldBlock`).
//!
//! With `--tls` the server is a rustls server (self-signed certificate for 127.0.0.1, trusted
//! by the client through a temporary CA file) writing one TLS record per frame, and the
//! client connects with `wss://`: the per-frame figure then includes record decryption.
//!
//! Run: `cargo run --release -p bench --bin ws_poll -- --frames 200000 --pace-us 20 [--tls]`
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use flate2::write::GzEncoder;
use flate2::Compression;
use hdrhistogram::Histogram;
use trading_engine::feed::{BingxDecoder, MarketEvent, SymbolTable};
use trading_engine::io::ws::{accept_key, BingxMarket, WsClient, WsConfig, WsEvent};
use trading_engine::types::{SymbolId, TimestampNs};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Per-frame cost of the WebSocket market-data poll loop: p50/p90/p99/p99.9/max")]
struct Args {
    /// Trade frames to stream.
    #[arg(long, default_value_t = 200_000)]
    frames: usize,
    /// Microseconds between frames written by the server (0 = as fast as possible, which
    /// makes the client handle large batches per call).
    #[arg(long, default_value_t = 20)]
    pace_us: u64,
    /// Serve `wss://` (rustls server, TLS 1.3) instead of `ws://`.
    #[arg(long)]
    tls: bool,
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80 | opcode];
    if payload.len() < 126 {
        v.push(payload.len() as u8);
    } else {
        v.push(126);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

fn now() -> TimestampNs {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    TimestampNs(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Reads the upgrade request and answers 101; returns false when the client went away.
fn upgrade(s: &mut (impl Read + Write)) -> std::io::Result<bool> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 {
            return Ok(false);
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap_or("");
    write!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )?;
    s.flush()?;
    Ok(true)
}

/// Writes the script, one write (so, over TLS, one record) per frame, at `pace`.
fn stream(s: &mut impl Write, script: &[Vec<u8>], pace: Duration) -> std::io::Result<()> {
    let mut next = Instant::now();
    for f in script {
        s.write_all(f)?;
        next += pace;
        while Instant::now() < next {
            std::hint::spin_loop();
        }
    }
    s.flush()
}

fn serve(
    listener: &TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    script: &[Vec<u8>],
    pace: Duration,
) -> std::io::Result<()> {
    let (sock, _) = listener.accept()?;
    sock.set_nodelay(true)?;
    let mut sink = [0u8; 4096];
    match tls {
        None => {
            let mut s = sock;
            if upgrade(&mut s)? {
                stream(&mut s, script, pace)?;
                while s.read(&mut sink)? > 0 {}
            }
        }
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg).map_err(std::io::Error::other)?;
            let mut s = rustls::StreamOwned::new(conn, sock);
            if upgrade(&mut s)? {
                stream(&mut s, script, pace)?;
                while s.read(&mut sink)? > 0 {}
            }
        }
    }
    Ok(())
}

/// A rustls server configuration with a fresh self-signed certificate for 127.0.0.1, and
/// that certificate as PEM (for the client to trust).
fn tls_server() -> (Arc<rustls::ServerConfig>, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .unwrap_or_else(|e| panic!("Certificate generation failed: {e}"));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![cert.cert.der().clone()], key)
        })
        .unwrap_or_else(|e| panic!("Server TLS setup failed: {e}"));
    (Arc::new(cfg), cert.cert.pem())
}

fn print(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn main() {
    let args = Args::parse();
    let base_ts = 1_700_000_000_000i64;
    let mut script = Vec::new();
    for i in 0..args.frames {
        let json = format!(
            r#"{{"code":0,"dataType":"BTC-USDT@trade","data":[{{"q":"0.0100","p":"60000.5","T":{},"m":false,"s":"BTC-USDT"}}]}}"#,
            base_ts + i as i64
        );
        let mut f = frame(0x2, &gzip(json.as_bytes()));
        if i % 100 == 99 {
            f.extend(frame(0x2, &gzip(b"Ping")));
        }
        script.push(f);
    }
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("Cannot bind loopback: {e}"),
    };
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("No address: {e}"));
    let pace = Duration::from_micros(args.pace_us);
    let ca_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("No temporary directory: {e}"));
    let mut cfg = WsConfig::default();
    let (scheme, server_tls) = if args.tls {
        let (server_cfg, pem) = tls_server();
        let ca = ca_dir.path().join("ca.pem");
        std::fs::write(&ca, pem).unwrap_or_else(|e| panic!("Cannot write the CA file: {e}"));
        cfg.tls.use_webpki_roots = false;
        cfg.tls.extra_ca_file = Some(ca);
        ("wss", Some(server_cfg))
    } else {
        ("ws", None)
    };
    let server = std::thread::spawn(move || serve(&listener, server_tls, &script, pace));
    let mut symbols = SymbolTable::new();
    let _ = symbols.insert("BTC-USDT", SymbolId(0));
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols));
    proto.subscribe("BTC-USDT@trade");
    let mut client = WsClient::new(&format!("{scheme}://{addr}/swap-market"), cfg, proto)
        .unwrap_or_else(|e| panic!("Client setup failed: {e}"));
    let new_hist = || {
        Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)
            .unwrap_or_else(|e| panic!("Histogram bounds are constants: {e}"))
    };
    let mut per_frame = new_hist();
    let mut idle = new_hist();
    let mut trades = 0usize;
    let started = Instant::now();
    let mut first_data: Option<Instant> = None;
    while trades < args.frames && started.elapsed() < Duration::from_secs(300) {
        let frames_before = client.stats().frames;
        let t0 = Instant::now();
        client.poll_once(now(), &mut |e| {
            if matches!(e, WsEvent::Data(MarketEvent::Trade(_))) {
                trades += 1;
            }
        });
        let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let frames = client.stats().frames - frames_before;
        if let Some(per) = ns.checked_div(frames) {
            first_data.get_or_insert(t0);
            per_frame.saturating_record(per.max(1));
        } else if client.is_open() {
            idle.saturating_record(ns.max(1));
        }
    }
    let elapsed = first_data.map_or(Duration::ZERO, |t| t.elapsed());
    client.close();
    let _ = server.join();
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "ns", "samples", "p50", "p90", "p99", "p99.9", "max"
    );
    print("per frame (calls with data)", &per_frame);
    print("idle busy-poll iteration", &idle);
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    let rate = trades as f64 / elapsed.as_secs_f64().max(1e-9);
    println!(
        "{scheme}: {trades} trades in {:.3} s = {rate:.0} frames/s; pongs sent {}; feed errors {}",
        elapsed.as_secs_f64(),
        client.protocol().pongs_sent(),
        client.protocol().feed_stats().total_errors()
    );
}
