//! The engine's REST client (`trading_engine::io`) against the `bingx-sim`
//! loopback exchange: every client method on the real wire protocol, over
//! plain TCP and TLS, and duplicate-safety under the simulator's injected
//! 429 bursts and 500/504 faults.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::collections::HashSet;
use std::time::Duration;

use bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use trading_engine::io::dto_trade::MarginType;
use trading_engine::io::order::{
    ClientOrderId, OrderKind, OrderRef, OrderRequest, OrderStatus, PositionSide, TimeInForce,
};
use trading_engine::io::rest::{RestClient, RestConfig, RetryPolicy};
use trading_engine::io::rest_account::{DeadManSwitch, PositionMode};
use trading_engine::io::rest_market::KlineInterval;
use trading_engine::io::tls::TlsOptions;
use trading_engine::io::wire::{price_from_text, qty_from_text};
use trading_engine::types::{Price, Side, SymbolId};

const BTC: SymbolId = SymbolId(0);

fn start(cfg: SimConfig) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..cfg
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

fn client(sim: &SimHandle) -> RestClient {
    let mut cfg = RestConfig::new(&sim.rest_base(), "sim-key", "sim-secret");
    cfg.http.request_timeout = Duration::from_secs(5);
    cfg.retry = RetryPolicy {
        max_attempts: 8,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(1500),
        reconcile_delay: Duration::from_millis(5),
        reconcile_attempts: 5,
    };
    // The CA file is read once, while the client is built.
    let dir = tempfile::tempdir().unwrap();
    if let Some(pem) = sim.cert_pem() {
        let path = dir.path().join("sim.pem");
        std::fs::write(&path, pem).unwrap();
        cfg.http.tls = TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(path),
        };
    }
    let mut c = RestClient::try_new(cfg).unwrap();
    drop(dir);
    c.sync_time().unwrap();
    c.load_symbols(&["BTC-USDT"]).unwrap();
    c
}

fn limit(id: &str, price: &str) -> OrderRequest {
    OrderRequest {
        symbol: BTC,
        side: Side::Buy,
        position_side: PositionSide::Long,
        kind: OrderKind::Limit,
        qty: qty_from_text("0.0010").unwrap(),
        price: price_from_text(price).unwrap(),
        stop_price: Price::ZERO,
        reduce_only: false,
        time_in_force: Some(TimeInForce::Gtc),
        client_order_id: ClientOrderId::try_new(id).unwrap(),
    }
}

fn every_method(sim: &SimHandle) {
    let mut c = client(sim);
    let rules = c.symbols().get(BTC).unwrap().rules;
    assert_eq!(rules.tick.decimals(), 1);
    assert_eq!(rules.step.decimals(), 4);
    assert!(c.clock_offset_ms().abs() < 5_000);
    assert_eq!(
        c.price("BTC-USDT").unwrap().price,
        price_from_text("60000.0").unwrap()
    );
    c.ticker_24h("BTC-USDT").unwrap();
    c.book_ticker("BTC-USDT").unwrap();
    c.depth("BTC-USDT", 5).unwrap();
    c.klines("BTC-USDT", KlineInterval::M1, None, None, 10)
        .unwrap();
    c.recent_trades("BTC-USDT", 10).unwrap();
    c.premium_index("BTC-USDT").unwrap();
    let usdt = c.balance().unwrap();
    assert!(usdt
        .iter()
        .any(|b| b.asset == "USDT" && b.balance.is_positive()));
    assert_eq!(c.position_mode().unwrap(), PositionMode::Hedge);
    c.set_leverage("BTC-USDT", PositionSide::Long, 5).unwrap();
    assert_eq!(c.leverage("BTC-USDT").unwrap().long_leverage, 5);
    c.set_margin_type("BTC-USDT", MarginType::Crossed).unwrap();
    assert_eq!(c.margin_type("BTC-USDT").unwrap(), MarginType::Crossed);

    // A resting limit order: place, query by id and by client id, list, cancel.
    let ack = c.place_order(&limit("io-rest-1", "50000.0")).unwrap();
    assert!(ack.order_id > 0);
    let by_id = c.query_order(BTC, OrderRef::OrderId(ack.order_id)).unwrap();
    assert_eq!(by_id.client_order_id, "io-rest-1");
    let by_client = c
        .query_order(BTC, OrderRef::Client(ack.client_order_id))
        .unwrap();
    assert_eq!(by_client.order_id, ack.order_id);
    assert_eq!(c.open_orders(Some(BTC)).unwrap().len(), 1);
    let cancelled = c
        .cancel_order(BTC, OrderRef::Client(ack.client_order_id))
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(c.open_orders(Some(BTC)).unwrap().is_empty());

    // A market order opens a long; a stop-market protects it; cancel-all clears the stop.
    let market = OrderRequest {
        kind: OrderKind::Market,
        price: Price::ZERO,
        time_in_force: None,
        ..limit("io-rest-2", "1")
    };
    c.place_order(&market).unwrap();
    let pos = c.positions(Some("BTC-USDT")).unwrap();
    assert!(pos
        .iter()
        .any(|p| p.side() == Some(PositionSide::Long) && p.position_amt.is_positive()));
    let stop = OrderRequest {
        kind: OrderKind::StopMarket,
        side: Side::Sell,
        stop_price: price_from_text("55000.0").unwrap(),
        ..market
    };
    let stop = OrderRequest {
        client_order_id: ClientOrderId::try_new("io-rest-3").unwrap(),
        ..stop
    };
    c.place_order(&stop).unwrap();
    let all = c.cancel_all(Some(BTC)).unwrap();
    assert_eq!(all.success.len(), 1);
    c.cancel_all_after(DeadManSwitch::Activate { timeout_secs: 60 })
        .unwrap();
    c.cancel_all_after(DeadManSwitch::Close).unwrap();

    let key = c.create_listen_key().unwrap();
    c.extend_listen_key(&key.listen_key).unwrap();
    c.delete_listen_key(&key.listen_key).unwrap();
    assert_eq!(
        c.http_stats().connects,
        1,
        "one kept-alive connection throughout"
    );
}

#[test]
fn every_client_method_works_against_the_simulator_over_tcp() {
    let sim = start(SimConfig::default());
    every_method(&sim);
}

#[test]
fn every_client_method_works_against_the_simulator_over_tls() {
    let sim = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    });
    assert!(sim.is_tls());
    every_method(&sim);
}

#[test]
fn injected_5xx_and_429_never_duplicate_an_order() {
    let sim = start(SimConfig {
        seed: 7,
        faults: FaultConfig {
            rate_5xx: 0.3,
            burst_429: 1,
            burst_429_every: 25,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let mut c = client(&sim);
    let mut placed = HashSet::new();
    // 15 orders take about 3 s: the client keeps to the documented 5 orders/s.
    for i in 0..15 {
        let id = format!("io-dup-{i}");
        // Resting orders well below the market, so each stays visible.
        match c.place_order(&limit(&id, "40000.0")) {
            Ok(ack) => {
                assert_eq!(ack.client_order_id.as_str(), id);
                placed.insert(id);
            }
            Err(e) => panic!("order {id} failed: {e}"),
        }
    }
    // The listing itself may meet injected faults; it is idempotent and retried.
    let open = (0..10)
        .find_map(|_| c.open_orders(Some(BTC)).ok())
        .expect("open orders listed");
    let ids: Vec<&str> = open.iter().map(|o| o.client_order_id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no client order id twice");
    assert_eq!(unique.len(), placed.len(), "exactly one order per intent");
    // The faults really fired: lookups and retries added requests beyond 15 places + 1 listing.
    assert!(c.http_stats().responses > 20, "{:?}", c.http_stats());
}
