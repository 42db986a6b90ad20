//! The engine's WebSocket clients and I/O bridge against the in-process bingx-sim:
//! subscriptions, gzip decoding, Ping/Pong, reconnect with outage reporting, malformed
//! frames, TLS, the user-data stream and the SPSC order round trip. Every wait is bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests"
)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use trading_engine::feed::{BingxDecoder, MarketEvent, SymbolTable};
use trading_engine::io::bridge::{BridgeConfig, HotSide, IoReport, IoThread, StreamStatus};
use trading_engine::io::order::{
    ClientOrderId, IoCommand, OrderKind, OrderOutcome, OrderRequest, OrderStatus, PositionSide,
};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::symbols::SymbolTable as RestSymbols;
use trading_engine::io::tls::TlsOptions;
use trading_engine::io::ws::user::ExecType;
use trading_engine::io::ws::{BingxMarket, UserEvent, WsClient, WsConfig, WsEvent};
use trading_engine::types::{Price, Qty, Side, SymbolId, TimestampNs};

const LIMIT: Duration = Duration::from_secs(15);

fn now() -> TimestampNs {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    TimestampNs(d.as_nanos() as i64)
}

fn manual(cfg: SimConfig) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..cfg
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

fn symbols() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert("BTC-USDT", SymbolId(0)).unwrap();
    t
}

fn fast_cfg() -> WsConfig {
    WsConfig {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..WsConfig::default()
    }
}

fn market_client(sim: &SimHandle, cfg: WsConfig) -> WsClient<BingxMarket> {
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols()));
    proto.subscribe_symbol("BTC-USDT");
    WsClient::new(&sim.ws_url(), cfg, proto).unwrap()
}

type Ev = WsEvent<MarketEvent>;

/// Polls until `done` holds for the collected events (panics after [`LIMIT`]).
fn poll_until(
    c: &mut WsClient<BingxMarket>,
    events: &mut Vec<Ev>,
    mut each: impl FnMut(),
    mut done: impl FnMut(&WsClient<BingxMarket>, &[Ev]) -> bool,
) {
    let start = Instant::now();
    while !done(c, events) {
        assert!(
            start.elapsed() < LIMIT,
            "timed out; events so far: {events:?}"
        );
        c.poll_once(now(), &mut |e| events.push(e));
        each();
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn trades_at(events: &[Ev], price: f64) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, WsEvent::Data(MarketEvent::Trade(t)) if t.price.to_f64() == price))
        .count()
}

#[test]
fn bingx_market_stream_subscribes_and_decodes_trades_klines_and_book_tickers() {
    let sim = manual(SimConfig::default());
    let mut c = market_client(&sim, fast_cfg());
    let mut ev = Vec::new();
    poll_until(&mut c, &mut ev, || {}, |c, _| c.protocol().all_active());
    assert_eq!(c.protocol().subscriptions().len(), 3);
    assert_eq!(c.protocol().ack_counts(), (3, 0));
    assert!(matches!(
        ev[0],
        WsEvent::Connected {
            reconnect: false,
            ..
        }
    ));
    sim.inject_trade("60100.0", "0.0500", false).unwrap();
    poll_until(
        &mut c,
        &mut ev,
        || {},
        |_, ev| {
            trades_at(ev, 60100.0) == 1
            && ev.iter().any(|e| matches!(e, WsEvent::Data(MarketEvent::Kline(k)) if k.close.to_f64() == 60100.0))
            && ev.iter().any(|e| matches!(e, WsEvent::Data(MarketEvent::BookTicker(_))))
        },
    );
    let trade = ev
        .iter()
        .find_map(|e| match e {
            WsEvent::Data(MarketEvent::Trade(t)) if t.price.to_f64() == 60100.0 => Some(*t),
            _ => None,
        })
        .unwrap();
    assert_eq!(trade.qty, Qty::from_decimal(500, 4).unwrap());
    assert_eq!(trade.symbol, SymbolId(0));
    assert_eq!(c.stats().malformed, 0);
}

#[test]
fn server_pings_are_answered_with_pong_and_the_connection_is_kept() {
    let sim = manual(SimConfig {
        ping_interval_ms: 50,
        pong_timeout_ms: 400,
        ..SimConfig::default()
    });
    let mut c = market_client(&sim, fast_cfg());
    let mut ev = Vec::new();
    // Far more pings than the pong timeout allows to go unanswered.
    poll_until(
        &mut c,
        &mut ev,
        || {},
        |c, _| c.protocol().pongs_sent() >= 20,
    );
    sim.inject_trade("60200.0", "0.0100", true).unwrap();
    poll_until(&mut c, &mut ev, || {}, |_, ev| trades_at(ev, 60200.0) == 1);
    assert_eq!(c.stats().connects, 1);
    assert_eq!(c.stats().disconnects, 0);
    assert!(c.protocol().feed_stats().pings >= 20);
}

#[test]
fn dropped_connection_reconnects_resubscribes_and_reports_the_outage_window() {
    let sim = manual(SimConfig {
        faults: FaultConfig {
            drop_ws_every_ms: Some(600),
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let cfg = fast_cfg();
    let max = cfg.backoff_max;
    let mut c = market_client(&sim, cfg);
    let mut ev = Vec::new();
    let mut price = 61000.0f64;
    let mut last_inject = Instant::now();
    poll_until(
        &mut c,
        &mut ev,
        || {
            if last_inject.elapsed() > Duration::from_millis(30) {
                price += 0.5;
                sim.inject_trade(&format!("{price:.1}"), "0.0010", false)
                    .unwrap();
                last_inject = Instant::now();
            }
        },
        |_, ev| ev.iter().any(|e| matches!(e, WsEvent::Outage(_))),
    );
    let lost = ev
        .iter()
        .position(|e| matches!(e, WsEvent::Disconnected { .. }))
        .unwrap();
    let back = ev
        .iter()
        .position(|e| {
            matches!(
                e,
                WsEvent::Connected {
                    reconnect: true,
                    ..
                }
            )
        })
        .unwrap();
    let outage = ev
        .iter()
        .position(|e| matches!(e, WsEvent::Outage(_)))
        .unwrap();
    assert!(lost < back && back < outage);
    // The outage is reported right before the first data of the new connection.
    assert!(matches!(ev[outage + 1], WsEvent::Data(_)));
    let (WsEvent::Disconnected { at, .. }, WsEvent::Outage(w)) = (ev[lost], ev[outage]) else {
        unreachable!()
    };
    assert_eq!(w.from, at);
    assert!(w.to > w.from);
    assert!(c.stats().last_backoff <= max);
    assert!(c.stats().connects >= 2);
    // Resubscribed: every subscription acknowledged again on the new connection.
    poll_until(
        &mut c,
        &mut ev,
        || {},
        |c, _| c.protocol().all_active() || !c.is_open(),
    );
    assert!(c.protocol().ack_counts().0 >= 6);
}

#[test]
fn malformed_frames_are_counted_and_skipped_without_dropping_the_connection() {
    let sim = manual(SimConfig {
        faults: FaultConfig {
            malformed_rate: 0.4,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let mut c = market_client(&sim, fast_cfg());
    let mut ev = Vec::new();
    poll_until(&mut c, &mut ev, || {}, |c, _| c.is_open());
    let mut price = 62000.0f64;
    poll_until(
        &mut c,
        &mut ev,
        || {
            price += 0.5;
            sim.inject_trade(&format!("{price:.1}"), "0.0010", false)
                .unwrap();
        },
        |c, ev| {
            c.stats().malformed >= 5
                && ev
                    .iter()
                    .filter(|e| matches!(e, WsEvent::Data(MarketEvent::Trade(_))))
                    .count()
                    >= 5
        },
    );
    assert_eq!(c.stats().disconnects, 0);
    assert!(c.protocol().feed_stats().total_errors() >= 5);
}

#[test]
fn tls_end_to_end_with_the_simulators_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sim.pem");
    let sim = manual(SimConfig {
        tls: true,
        cert_out: Some(cert.clone()),
        ..SimConfig::default()
    });
    assert!(sim.ws_url().starts_with("wss://"));
    let cfg = WsConfig {
        tls: TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(cert),
        },
        ..fast_cfg()
    };
    let mut c = market_client(&sim, cfg);
    let mut ev = Vec::new();
    poll_until(&mut c, &mut ev, || {}, |c, _| c.protocol().all_active());
    sim.inject_trade("60300.0", "0.0200", false).unwrap();
    poll_until(&mut c, &mut ev, || {}, |_, ev| trades_at(ev, 60300.0) == 1);
    assert_eq!(c.stats().connects, 1);
}

#[test]
fn tls_with_an_untrusted_certificate_never_opens() {
    let sim = manual(SimConfig {
        tls: true,
        ..SimConfig::default()
    });
    let cfg = WsConfig {
        tls: TlsOptions::default(), // public roots only: the self-signed cert is refused
        ..fast_cfg()
    };
    let mut c = market_client(&sim, cfg);
    let start = Instant::now();
    while c.stats().failed_attempts < 2 {
        assert!(start.elapsed() < LIMIT);
        c.poll_once(now(), &mut |_| {});
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(c.stats().connects, 0);
}

fn rest(sim: &SimHandle) -> RestClient {
    let mut r = RestClient::try_new(RestConfig::new(
        &sim.rest_base(),
        bingx_sim::DEFAULT_API_KEY,
        bingx_sim::DEFAULT_API_SECRET,
    ))
    .unwrap();
    let contracts = r.contracts(Some("BTC-USDT")).unwrap();
    r.set_symbols(RestSymbols::from_contracts(&contracts, &["BTC-USDT"]).unwrap());
    r
}

fn market_buy(id: &str) -> IoCommand {
    IoCommand::Place(OrderRequest {
        symbol: SymbolId(0),
        side: Side::Buy,
        position_side: PositionSide::Long,
        kind: OrderKind::Market,
        qty: Qty::from_decimal(10, 4).unwrap(),
        price: Price::ZERO,
        stop_price: Price::ZERO,
        reduce_only: false,
        time_in_force: None,
        client_order_id: ClientOrderId::try_new(id).unwrap(),
    })
}

fn wait_report(
    hot: &mut HotSide,
    seen: &mut Vec<IoReport>,
    mut done: impl FnMut(&[IoReport]) -> bool,
) {
    let start = Instant::now();
    while !done(seen) {
        assert!(
            start.elapsed() < LIMIT,
            "timed out; reports so far: {seen:?}"
        );
        match hot.poll() {
            Some(r) => seen.push(r),
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

fn bridge(sim: &SimHandle, keepalive: Duration) -> (IoThread, HotSide) {
    IoThread::spawn(
        rest(sim),
        BridgeConfig {
            user_stream_url: Some(sim.ws_url()),
            ws: fast_cfg(),
            keepalive,
            listen_key_retry: Duration::from_millis(50),
            symbols: symbols(),
            ..BridgeConfig::default()
        },
    )
    .unwrap()
}

fn fill_of(seen: &[IoReport], order_id: u64) -> Option<trading_engine::io::ws::user::OrderUpdate> {
    seen.iter().find_map(|r| match r {
        IoReport::User(UserEvent::Order(o))
            if o.order_id == order_id && o.exec == ExecType::Trade =>
        {
            Some(*o)
        }
        _ => None,
    })
}

fn ack_of(seen: &[IoReport], id: &str) -> Option<u64> {
    seen.iter().find_map(|r| match r {
        IoReport::Order(res) if res.client_order_id.as_str() == id => match res.outcome {
            OrderOutcome::Accepted(a) => Some(a.order_id),
            other => panic!("order {id} not accepted: {other:?}"),
        },
        _ => None,
    })
}

#[test]
fn bridge_round_trip_intent_to_rest_order_to_ack_and_user_stream_fill() {
    let sim = manual(SimConfig::default());
    let (io, mut hot) = bridge(&sim, Duration::from_secs(1800));
    let mut seen = Vec::new();
    wait_report(&mut hot, &mut seen, |s| {
        s.contains(&IoReport::Stream(StreamStatus::Connected))
    });
    hot.send(market_buy("ws-rt-1")).unwrap();
    wait_report(&mut hot, &mut seen, |s| {
        ack_of(s, "ws-rt-1").is_some_and(|id| fill_of(s, id).is_some())
    });
    let id = ack_of(&seen, "ws-rt-1").unwrap();
    assert!(
        id > 1_000_000_000_000_000_000,
        "19-digit order id, got {id}"
    );
    let fill = fill_of(&seen, id).unwrap();
    assert_eq!(fill.status, OrderStatus::Filled);
    assert_eq!(fill.side, Side::Buy);
    assert_eq!(fill.filled_qty, Qty::from_decimal(10, 4).unwrap());
    assert_eq!(fill.client_order_id.as_str(), "ws-rt-1");
    // Balances come back too (ACCOUNT_UPDATE after the fill).
    wait_report(&mut hot, &mut seen, |s| {
        s.iter()
            .any(|r| matches!(r, IoReport::User(UserEvent::Balance(_))))
    });
    let stats = io.shutdown();
    assert_eq!(stats.commands, 1);
    assert!(stats.user_events >= 2);
}

#[test]
fn expired_listen_key_is_renewed_and_the_stream_reconnects() {
    let sim = manual(SimConfig {
        listen_key_ttl_ms: 1_500,
        ..SimConfig::default()
    });
    // Keep-alive far beyond the TTL, so the key really expires.
    let (io, mut hot) = bridge(&sim, Duration::from_secs(1800));
    let mut seen = Vec::new();
    wait_report(&mut hot, &mut seen, |s| {
        s.contains(&IoReport::Stream(StreamStatus::ListenKeyRenewed))
    });
    let renewed = seen.len();
    wait_report(&mut hot, &mut seen, |s| {
        s[renewed..].contains(&IoReport::Stream(StreamStatus::Connected))
    });
    // Events flow on the new key.
    hot.send(market_buy("ws-lk-1")).unwrap();
    wait_report(&mut hot, &mut seen, |s| {
        ack_of(s, "ws-lk-1").is_some_and(|id| fill_of(s, id).is_some())
    });
    let stats = io.shutdown();
    assert!(stats.renewals >= 1);
}

#[test]
fn listen_key_keepalive_extends_the_key_before_it_expires() {
    let sim = manual(SimConfig {
        listen_key_ttl_ms: 1_500,
        ..SimConfig::default()
    });
    let (io, mut hot) = bridge(&sim, Duration::from_millis(200));
    let mut seen = Vec::new();
    wait_report(&mut hot, &mut seen, |s| {
        s.contains(&IoReport::Stream(StreamStatus::Connected))
    });
    // Two TTLs later the key is still the first one.
    std::thread::sleep(Duration::from_millis(3_200));
    while let Some(r) = hot.poll() {
        seen.push(r);
    }
    hot.send(market_buy("ws-ka-1")).unwrap();
    wait_report(&mut hot, &mut seen, |s| {
        ack_of(s, "ws-ka-1").is_some_and(|id| fill_of(s, id).is_some())
    });
    let stats = io.shutdown();
    assert_eq!(stats.renewals, 0);
    assert!(stats.keepalives >= 5);
    assert!(!seen.contains(&IoReport::Stream(StreamStatus::ListenKeyRenewed)));
}
