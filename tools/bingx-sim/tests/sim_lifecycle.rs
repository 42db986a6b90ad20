//! Start-up, connection limits and clean shutdown of the simulator.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::{SimConfig, SimError, Simulator, Speed};
use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;
use util::{manual, next_event, subscribe, Client, Event};

#[test]
fn dropping_the_handle_closes_connections_and_the_port() {
    let sim = manual(SimConfig::default());
    let addr = sim.addr();
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "s", "BTC-USDT@trade")["code"], 0);
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    drop(sim);
    match next_event(&mut ws, Duration::from_secs(5)) {
        Some(Event::Closed(_)) => {}
        other => panic!("WebSocket still open after shutdown: {other:?}"),
    }
    let mut buf = [0u8; 16];
    assert_eq!(
        idle.read(&mut buf).unwrap_or(0),
        0,
        "idle HTTP connection closed"
    );
    assert!(TcpStream::connect(addr).is_err(), "listener closed");
}

#[test]
fn shutdown_releases_a_feed_blocked_on_a_slow_max_speed_client() {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Max,
        warmup_minutes: 0,
        ..SimConfig::default()
    })
    .unwrap();
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "slow", "BTC-USDT@trade")["code"], 0);
    // Stop reading: the socket buffers and the queue fill and the feed blocks on this
    // client; shutdown must still finish.
    std::thread::sleep(Duration::from_millis(1_500));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        sim.shutdown();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("shutdown did not finish within 10 s");
    drop(ws);
}

#[test]
fn connections_beyond_the_limit_get_503() {
    let sim = manual(SimConfig {
        max_connections: 2,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let _a = c.ws("/swap-market");
    let _b = c.ws("/swap-market");
    let r = c.raw("GET", "/openApi/swap/v2/server/time", &[], "");
    assert_eq!(r.status, 503);
    drop(_a);
    // The freed slot is reused once the server notices the close.
    let mut ok = false;
    for _ in 0..100 {
        if c.raw("GET", "/openApi/swap/v2/server/time", &[], "").status == 200 {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "slot never freed");
}

#[test]
fn bad_configurations_are_refused() {
    let bad_symbol = Simulator::start(SimConfig {
        symbol: "BTCUSDT".into(),
        ..SimConfig::default()
    });
    assert!(matches!(bad_symbol, Err(SimError::Config(_))));
    let missing = Simulator::start(SimConfig {
        data: Some("/nonexistent/file.csv".into()),
        ..SimConfig::default()
    });
    assert!(matches!(missing, Err(SimError::Source(_))));
    let sim = manual(SimConfig::default());
    let taken = Simulator::start(SimConfig {
        listen: sim.addr(),
        ..SimConfig::default()
    });
    assert!(matches!(taken, Err(SimError::Io(..))));
    assert!(
        sim.inject_trade("1.23", "0.0010", false).is_err(),
        "too many decimals"
    );
    assert!(sim.inject_trade("-5", "0.0010", false).is_err());
}

/// Sends `raw` on a fresh connection; returns what the simulator answered before closing.
fn exchange_raw(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    use std::io::Write;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn issue_20_hostile_requests_get_400_and_the_simulator_keeps_serving() {
    let sim = manual(SimConfig::default());
    for raw in [
        &b"POST /openApi/swap/v2/trade/order HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\nx"[..],
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET /\0 HTTP/1.1\r\n\r\n",
        b"\xff\xfe\x00garbage\r\n\r\n",
    ] {
        let reply = exchange_raw(sim.addr(), raw);
        assert!(reply.starts_with("HTTP/1.1 400 "), "{raw:?}: {reply}");
    }
    let reply = exchange_raw(
        sim.addr(),
        b"GET /openApi/swap/v2/server/time HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
}

#[test]
fn issue_20_a_speed_out_of_range_is_refused_at_start_not_a_duration_panic() {
    for x in [1e-300, 0.0, -1.0, f64::INFINITY, f64::NAN, 2e6] {
        let r = Simulator::start(SimConfig {
            speed: Speed::Times(x),
            ..SimConfig::default()
        });
        assert!(
            matches!(&r, Err(SimError::Config(m)) if m.contains("speed")),
            "{x}: {r:?}"
        );
    }
}
