//! The metrics/control HTTP server over 127.0.0.1: Prometheus scrapes
//! parsed back, control commands with and without the token (401 and a
//! logged refusal naming the peer), the engine side simulated by a thread
//! answering the command channel, and the request bounds.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions may panic"
)]

#[path = "util/control_harness.rs"]
mod harness;
#[path = "util/prom_text.rs"]
mod prom_text;

use harness::{request, send_raw, start, TOKEN};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use trading_engine::control::{ControlCommand, ControlReply, ServerLimits};
use trading_engine::metrics::{
    FeedHealth, MetricsSnapshot, RiskRejectCount, Stage, StageHistograms,
};
use trading_engine::types::TimestampNs;

/// Captures every log record of this test binary.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger once and returns it.
fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

/// Returns the captured lines containing `needle`.
fn logged(needle: &str) -> Vec<String> {
    logs()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

fn snapshot() -> MetricsSnapshot {
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for v in 1..=100u64 {
        h.record(Stage::TickToOrder, v * 1_000);
    }
    MetricsSnapshot {
        taken_at: TimestampNs::from_ms(1_764_000_000_000),
        equity_usdt: 10_000.0,
        open_positions: 1,
        orders_sent: 3,
        risk_rejects: vec![RiskRejectCount {
            reason: "max_positions".to_owned(),
            count: 2,
        }],
        feed: FeedHealth {
            messages_per_sec: 12.0,
            last_message_age_ns: 250_000_000,
            reconnects: 1,
            gaps: 0,
        },
        latency: h.summary(),
        ..MetricsSnapshot::default()
    }
}

#[test]
fn metrics_are_scraped_over_loopback_and_parse_back() {
    logs();
    let h = start(None, ServerLimits::default(), true);
    let before = request(h.addr(), "GET", "/metrics", None);
    assert_eq!(before.status, 503, "no snapshot yet");
    h.metrics.publish(snapshot());
    let r = request(h.addr(), "GET", "/metrics", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        r.header("content-length").unwrap(),
        r.body.len().to_string()
    );
    let exp = prom_text::parse(&r.body);
    assert_eq!(exp.families.len(), 19);
    assert_eq!(exp.value("te_journal_unsynced_bytes", &[]), Some(0.0));
    assert_eq!(
        exp.value(
            "te_order_round_trip_seconds_bucket",
            &[("kind", "entry"), ("le", "+Inf")]
        ),
        Some(0.0)
    );
    assert_eq!(exp.value("te_equity_usdt", &[]), Some(10_000.0));
    assert_eq!(exp.value("te_orders_sent_total", &[]), Some(3.0));
    assert_eq!(
        exp.value("te_risk_rejects_total", &[("reason", "max_positions")]),
        Some(2.0)
    );
    assert_eq!(
        exp.value("te_feed_last_message_age_seconds", &[]),
        Some(0.25)
    );
    assert_eq!(
        exp.value(
            "te_stage_latency_seconds_count",
            &[("stage", "tick_to_order")]
        ),
        Some(100.0)
    );
    let p50 = exp
        .value(
            "te_stage_latency_seconds",
            &[("stage", "tick_to_order"), ("quantile", "0.5")],
        )
        .unwrap();
    assert!((p50 - 50e-6).abs() < 1e-7, "{p50}");
    // A newer snapshot replaces the old one.
    h.metrics.publish(MetricsSnapshot {
        orders_sent: 4,
        ..snapshot()
    });
    let exp = prom_text::parse(&request(h.addr(), "GET", "/metrics", None).body);
    assert_eq!(exp.value("te_orders_sent_total", &[]), Some(4.0));
}

#[test]
fn command_with_the_token_reaches_the_engine_and_its_reply_comes_back() {
    logs();
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let r = request(h.addr(), "POST", "/control/halt", Some(TOKEN));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "Halted: no new positions will be opened\n");
    let status = request(h.addr(), "POST", "/control/status", Some(TOKEN));
    assert_eq!(status.status, 200);
    assert_eq!(status.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(json["halted"], true);
    let received = h.received.lock().unwrap().clone();
    assert_eq!(
        received,
        [
            (ControlCommand::Halt, r.local),
            (ControlCommand::Status, status.local)
        ]
    );
    // Every command is logged with its peer, and the token never is.
    assert_eq!(
        logged(&format!("Control command halt from {}", r.local)).len(),
        2
    );
    assert!(logged(TOKEN).is_empty());
}

#[test]
fn declined_command_is_409_with_the_engine_reason() {
    logs();
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let r = request(h.addr(), "POST", "/control/resume", Some(TOKEN));
    assert_eq!(r.status, 409);
    assert_eq!(r.body, "Not halted: nothing to resume\n");
    assert_eq!(
        logged(&format!("Control command resume from {} declined", r.local)).len(),
        1
    );
}

#[test]
fn wrong_or_missing_token_is_401_logged_with_the_peer_and_never_forwarded() {
    logs();
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let wrong = request(h.addr(), "POST", "/control/flatten", Some("guessed-token"));
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let missing = request(h.addr(), "POST", "/control/halt", None);
    assert_eq!(missing.status, 401);
    let basic = send_raw(
        h.addr(),
        format!("POST /control/halt HTTP/1.1\r\nAuthorization: Basic {TOKEN}\r\n\r\n").as_bytes(),
    );
    assert_eq!(basic.status, 401, "the token must come as a bearer token");
    assert!(h.received.lock().unwrap().is_empty());
    for r in [&wrong, &missing, &basic] {
        let lines = logged(&format!("Control request from {} refused", r.local));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("WARN"), "{lines:?}");
    }
    assert!(
        logged("guessed-token").is_empty(),
        "presented tokens are not logged"
    );
    assert!(logged(TOKEN).is_empty());
}

#[test]
fn issue_20_a_token_in_the_query_string_is_refused_and_never_logged() {
    logs();
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let secret = "query-token-9d41";
    let h2 = start(Some(secret), ServerLimits::default(), true);
    for (addr, token) in [(h.addr(), TOKEN), (h2.addr(), secret)] {
        let r = request(
            addr,
            "POST",
            &format!("/control/halt?token={token}&access_token={token}"),
            None,
        );
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.body.contains("Authorization header"), "{}", r.body);
        let lines = logged(&format!("Control request from {} refused", r.local));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("\"/control/halt\""), "{lines:?}");
        assert!(!lines[0].contains('?'), "{lines:?}");
    }
    assert!(
        logged(secret).is_empty(),
        "the query string is never logged"
    );
    assert!(logged(TOKEN).is_empty());
    assert!(h.received.lock().unwrap().is_empty());
    assert!(h2.received.lock().unwrap().is_empty());
}

#[test]
fn without_a_configured_token_control_is_refused_with_a_clear_message() {
    logs();
    let h = start(None, ServerLimits::default(), true);
    let r = request(h.addr(), "POST", "/control/halt", Some("anything"));
    assert_eq!(r.status, 403);
    assert!(r.body.contains("TE_CONTROL_TOKEN is not set"), "{}", r.body);
    assert!(h.received.lock().unwrap().is_empty());
    assert_eq!(
        logged(&format!("Control request from {} refused", r.local)).len(),
        1
    );
    // Metrics stay available without a token.
    h.metrics.publish(snapshot());
    assert_eq!(request(h.addr(), "GET", "/metrics", None).status, 200);
}

#[test]
fn unknown_paths_commands_and_methods_get_404_and_405() {
    logs();
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    assert_eq!(request(h.addr(), "GET", "/", None).status, 404);
    assert_eq!(
        request(h.addr(), "POST", "/control/selfdestruct", Some(TOKEN)).status,
        404
    );
    let r = request(h.addr(), "GET", "/control/halt", Some(TOKEN));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = request(h.addr(), "POST", "/metrics", None);
    assert_eq!(r.status, 405);
    assert!(h.received.lock().unwrap().is_empty());
}

#[test]
fn engine_that_does_not_answer_gives_504_and_a_gone_engine_503() {
    logs();
    let limits = ServerLimits {
        reply_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    };
    let mut h = start(Some(TOKEN), limits, false);
    let rx = h.commands.take().unwrap();
    // The engine takes the request but never replies.
    let r = request(h.addr(), "POST", "/control/reload", Some(TOKEN));
    assert_eq!(r.status, 504, "{}", r.body);
    let pending = rx.try_recv().unwrap();
    assert_eq!(pending.command, ControlCommand::Reload);
    assert!(
        !pending.respond(ControlReply::accepted("late")),
        "the requester has given up"
    );
    drop(rx);
    let r = request(h.addr(), "POST", "/control/status", Some(TOKEN));
    assert_eq!(r.status, 503);
    assert!(r.body.contains("Engine not running"), "{}", r.body);
}

#[test]
fn oversized_malformed_and_silent_requests_are_bounded() {
    logs();
    let limits = ServerLimits {
        max_head_bytes: 1024,
        io_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let h = start(Some(TOKEN), limits, true);
    let big = format!(
        "GET /metrics HTTP/1.1\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(4096)
    );
    assert_eq!(send_raw(h.addr(), big.as_bytes()).status, 431);
    let body = "POST /control/halt HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
    assert_eq!(send_raw(h.addr(), body.as_bytes()).status, 413);
    assert_eq!(
        send_raw(h.addr(), b"\x16\x03\x01 hello\r\n\r\n").status,
        400
    );
    // A client that sends half a request and waits gets 408 when the
    // deadline passes, and the server then serves the next client.
    assert_eq!(send_raw(h.addr(), b"GET /metr").status, 408);
    assert_eq!(request(h.addr(), "GET", "/metrics", None).status, 503);
    assert!(h.received.lock().unwrap().is_empty());
}
