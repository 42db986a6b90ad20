//! Issue 20: the metrics/control server cannot be starved. Half-sent and
//! idle connections (slowloris) must not delay `/metrics` or make a
//! control command time out; a full server drops its oldest unfinished
//! connection to admit a new one.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions may panic"
)]

#[path = "util/control_harness.rs"]
mod harness;

use harness::{request, start, TOKEN};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use trading_engine::control::{send_command, ControlCommand, ServerLimits};
use trading_engine::metrics::MetricsSnapshot;

/// Opens `n` connections that each send `bytes` and then wait.
fn hanging(addr: std::net::SocketAddr, n: usize, bytes: &[u8]) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            if !bytes.is_empty() {
                s.write_all(bytes).unwrap();
            }
            s
        })
        .collect()
}

#[test]
fn issue_20_five_half_sent_connections_do_not_delay_metrics() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    h.metrics.publish(MetricsSnapshot::default());
    let _slow = hanging(h.addr(), 5, b"GET /metr");
    // Let the server see them first.
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let r = request(h.addr(), "GET", "/metrics", None);
    let took = started.elapsed();
    eprintln!("scrape with 5 half-sent connections open: {took:?}");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("te_equity_usdt"), "{}", r.body);
    // The default per-connection deadline is 5 s; one slow client used
    // to delay the scrape by that, five by 25 s.
    assert!(took < Duration::from_secs(2), "scrape took {took:?}");
}

#[test]
fn issue_20_130_idle_connections_do_not_make_ctl_halt_time_out() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let _idle = hanging(h.addr(), 130, b"");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let reply = send_command(
        h.addr(),
        ControlCommand::Halt,
        TOKEN,
        Duration::from_secs(3),
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = send_command(
        h.addr(),
        ControlCommand::Flatten,
        TOKEN,
        Duration::from_secs(3),
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    eprintln!(
        "halt + flatten with 130 idle connections open: {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let got: Vec<_> = h.received.lock().unwrap().iter().map(|r| r.0).collect();
    assert_eq!(got, vec![ControlCommand::Halt, ControlCommand::Flatten]);
}

#[test]
fn a_full_server_drops_its_oldest_unfinished_connection_for_a_new_one() {
    let limits = ServerLimits {
        max_connections: 8,
        ..ServerLimits::default()
    };
    let h = start(Some(TOKEN), limits, true);
    h.metrics.publish(MetricsSnapshot::default());
    let _idle = hanging(h.addr(), 20, b"GET /");
    std::thread::sleep(Duration::from_millis(50));
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(request(h.addr(), "GET", "/metrics", None).status, 200);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    let reply = send_command(
        h.addr(),
        ControlCommand::Status,
        TOKEN,
        Duration::from_secs(3),
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn many_concurrent_scrapes_are_all_answered() {
    let h = start(None, ServerLimits::default(), true);
    h.metrics.publish(MetricsSnapshot::default());
    let addr = h.addr();
    let threads: Vec<_> = (0..16)
        .map(|_| std::thread::spawn(move || request(addr, "GET", "/metrics", None).status))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
}
