//! The HTTP/TLS transport under the REST client: keep-alive reuse,
//! transparent reconnection after the server drops the connection, chunked
//! bodies, timeouts, and TLS end to end with a generated certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

mod util;

use std::time::Duration;

use trading_engine::io::clock::ManualClock;
use trading_engine::io::error::{MarketDataError, RestError, TransportError};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::tls::TlsOptions;
use util::server::{Action, Reply, TestServer};
use util::{KEY, SECRET};

const TIME: &str = r#"{"code":0,"msg":"","data":{"serverTime":1675319535362}}"#;

fn config(server: &TestServer) -> RestConfig {
    let mut cfg = RestConfig::new(&server.url(), KEY, SECRET);
    cfg.http.request_timeout = Duration::from_secs(5);
    cfg.http.connect_timeout = Duration::from_secs(5);
    cfg
}

#[test]
fn requests_share_one_kept_alive_connection() {
    let server = TestServer::start(SECRET, |_| Reply::json(TIME));
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(config(&server), clock).unwrap();
    c.connect().unwrap();
    for _ in 0..5 {
        c.server_time().unwrap();
    }
    assert_eq!(c.http_stats().connects, 1);
    assert_eq!(c.http_stats().responses, 5);
    assert!(server.requests().iter().all(|r| r.conn == 0));
}

#[test]
fn connection_closed_by_the_server_is_reopened_transparently() {
    let server = TestServer::start(SECRET, |_| Reply::json(TIME).action(Action::ReplyThenClose));
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(config(&server), clock.clone()).unwrap();
    for _ in 0..3 {
        c.server_time().unwrap();
        // Give the server's close time to arrive before the next request.
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = c.http_stats();
    assert_eq!(stats.connects, 3);
    assert_eq!(stats.stale_reopens + stats.write_retries, 2, "{stats:?}");
    assert!(clock.sleeps().is_empty(), "no retry backoff was needed");
    let conns: Vec<u64> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns, [0, 1, 2]);
}

#[test]
fn chunked_responses_are_decoded() {
    let server = TestServer::start(SECRET, |_| Reply::json(TIME).chunked());
    let clock = ManualClock::new(1_675_319_535_000);
    let mut c = RestClient::with_clock(config(&server), clock).unwrap();
    assert_eq!(c.server_time().unwrap().offset_ms, 362);
    assert_eq!(c.server_time().unwrap().offset_ms, 362);
    assert_eq!(
        c.http_stats().connects,
        1,
        "chunked body fully consumed, connection reused"
    );
}

#[test]
fn read_timeout_on_an_idempotent_request_is_retried() {
    let mut n = 0;
    let server = TestServer::start(SECRET, move |_| {
        n += 1;
        let r = Reply::json(TIME);
        if n == 1 {
            r.action(Action::Delay(Duration::from_millis(600)))
        } else {
            r
        }
    });
    let clock = ManualClock::new(0);
    let mut cfg = config(&server);
    cfg.http.request_timeout = Duration::from_millis(200);
    let mut c = RestClient::with_clock(cfg, clock.clone()).unwrap();
    c.server_time().unwrap();
    assert_eq!(server.requests().len(), 2);
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn retries_are_bounded() {
    let server = TestServer::start(SECRET, |_| Reply::status_json(503, "busy"));
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(config(&server), clock.clone()).unwrap();
    let err = c.server_time().unwrap_err();
    assert!(
        matches!(
            err,
            MarketDataError::Request(RestError::Http { status: 503, .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 4);
    assert_eq!(
        clock.sleeps(),
        [200, 400, 800].map(Duration::from_millis).to_vec()
    );
}

#[test]
fn tls_end_to_end_with_a_generated_certificate() {
    let server = TestServer::start_tls(SECRET, |_| Reply::json(TIME));
    let mut cfg = config(&server);
    cfg.http.tls = TlsOptions {
        use_webpki_roots: false,
        extra_ca_file: Some(server.tls.as_ref().unwrap().ca_path.clone()),
    };
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(cfg, clock).unwrap();
    c.connect().unwrap();
    for _ in 0..3 {
        assert_eq!(c.server_time().unwrap().server_time_ms, 1_675_319_535_362);
    }
    assert_eq!(c.http_stats().connects, 1, "TLS connection kept alive");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn tls_server_closing_is_detected_and_reopened() {
    let server =
        TestServer::start_tls(SECRET, |_| Reply::json(TIME).action(Action::ReplyThenClose));
    let mut cfg = config(&server);
    cfg.http.tls.extra_ca_file = Some(server.tls.as_ref().unwrap().ca_path.clone());
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(cfg, clock.clone()).unwrap();
    for _ in 0..2 {
        c.server_time().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(c.http_stats().connects, 2);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn tls_certificate_not_trusted_is_refused() {
    let server = TestServer::start_tls(SECRET, |_| Reply::json(TIME));
    // Default options: webpki roots only, which do not include the generated CA.
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(config(&server), clock).unwrap();
    let err = c.connect().unwrap_err();
    assert!(
        matches!(err, TransportError::Tls { .. } | TransportError::Io { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn keep_warm_pings_only_an_idle_or_closed_connection() {
    let server = TestServer::start(SECRET, |_| Reply::json(TIME));
    let clock = ManualClock::new(0);
    let mut c = RestClient::with_clock(config(&server), clock).unwrap();
    assert!(
        c.keep_warm(Duration::from_secs(30)).unwrap(),
        "no connection yet: warms it"
    );
    assert!(
        !c.keep_warm(Duration::from_secs(30)).unwrap(),
        "fresh connection left alone"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        c.keep_warm(Duration::from_millis(10)).unwrap(),
        "idle connection pinged"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(c.http_stats().connects, 1);
}
