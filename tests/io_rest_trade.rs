//! Trading endpoints against the scripted loopback server: signed order
//! requests checked by an independent verifier, fixture replies, and the
//! duplicate-safety of place order under 5xx, timeouts and dropped connections.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

mod util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use trading_engine::io::clock::ManualClock;
use trading_engine::io::error::{ExchangeCode, OrderError, RestError};
use trading_engine::io::order::{
    ClientOrderId, IoCommand, OrderKind, OrderOutcome, OrderRef, OrderRequest, OrderStatus,
    PositionSide, TimeInForce,
};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::symbols::SymbolTable;
use trading_engine::io::wire::{price_from_text, qty_from_text};
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId};
use util::server::{Action, Recorded, Reply, TestServer};
use util::{fixture, KEY, SECRET};

const BTC: SymbolId = SymbolId(0);
const PLACE: &str = "/openApi/swap/v2/trade/order";

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.push(
        "BTC-USDT",
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(4),
            min_qty: Qty::from_decimal(1, 4).unwrap(),
            min_notional: Price::from_decimal(2, 0).unwrap(),
        },
    )
    .unwrap();
    t
}

fn client_with(
    url: &str,
    secret: &str,
    clock: &ManualClock,
    timeout: Duration,
) -> RestClient<ManualClock> {
    let mut cfg = RestConfig::new(url, KEY, secret);
    cfg.http.request_timeout = timeout;
    let mut c = RestClient::with_clock(cfg, clock.clone()).unwrap();
    c.set_symbols(table());
    c
}

fn client(server: &TestServer, clock: &ManualClock) -> RestClient<ManualClock> {
    client_with(&server.url(), SECRET, clock, Duration::from_secs(5))
}

fn limit_order(id: &str) -> OrderRequest {
    OrderRequest {
        symbol: BTC,
        side: Side::Buy,
        position_side: PositionSide::Long,
        kind: OrderKind::Limit,
        qty: qty_from_text("0.001").unwrap(),
        price: price_from_text("65000.5").unwrap(),
        stop_price: Price::ZERO,
        reduce_only: false,
        time_in_force: Some(TimeInForce::Gtc),
        client_order_id: ClientOrderId::try_new(id).unwrap(),
    }
}

fn order_json(id: u64, client_id: &str, status: &str) -> String {
    format!(
        r#"{{"code":0,"msg":"","data":{{"order":{{"symbol":"BTC-USDT","orderId":{id},"side":"BUY","positionSide":"LONG","type":"LIMIT","origQty":"0.0010","price":"65000.5","status":"{status}","clientOrderId":"{client_id}"}}}}}}"#
    )
}

#[test]
fn limit_order_is_sorted_signed_and_matches_test_vector_v3() {
    let Some(body) = fixture("rest_place_order_doc.json") else {
        return;
    };
    let server = TestServer::start(SECRET, move |_| Reply::json(&body));
    let clock = ManualClock::new(1_700_000_000_123);
    let mut c = client(&server, &clock);
    let ack = c.place_order(&limit_order("mm-000001")).unwrap();
    assert_eq!(ack.order_id, 1_735_950_529_123_455_000);
    assert_eq!(ack.client_order_id.as_str(), "mm-000001");
    assert!(!ack.recovered);
    let r = &server.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", PLACE));
    assert_eq!(r.header("X-BX-APIKEY"), Some(KEY));
    assert_eq!(r.signature_ok, Some(true));
    // The whole request line equals protocol vector V3, signature included.
    assert_eq!(
        r.query,
        "clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&timeInForce=GTC&timestamp=1700000000123&type=LIMIT&signature=73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
    );
}

#[test]
fn market_stop_and_take_profit_orders_carry_the_right_parameters() {
    let (Some(ccxt), Some(tp), Some(flat)) = (
        fixture("rest_place_order_ccxt.json"),
        fixture("rest_place_order_take_profit_market_ccxt.json"),
        fixture("rest_place_order_flat_variant_ccxt.json"),
    ) else {
        return;
    };
    let replies = Mutex::new(vec![flat, tp, ccxt]);
    let server = TestServer::start(SECRET, move |_| {
        Reply::json(&replies.lock().unwrap().pop().unwrap())
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    let market = OrderRequest {
        kind: OrderKind::Market,
        price: Price::ZERO,
        time_in_force: None,
        ..limit_order("te-1")
    };
    assert_eq!(
        c.place_order(&market).unwrap().order_id,
        1_735_119_588_833_849_344
    );
    let tp_order = OrderRequest {
        kind: OrderKind::TakeProfitMarket,
        side: Side::Sell,
        position_side: PositionSide::Both,
        reduce_only: true,
        stop_price: price_from_text("120.04").unwrap(),
        ..market
    };
    assert_eq!(
        c.place_order(&tp_order).unwrap().order_id,
        1_792_485_525_883_039_744
    );
    let stop_hedge = OrderRequest {
        kind: OrderKind::StopMarket,
        side: Side::Sell,
        reduce_only: true,
        stop_price: price_from_text("60000").unwrap(),
        ..market
    };
    let ack = c.place_order(&stop_hedge).unwrap();
    assert_eq!(ack.order_id, 2_075_327_764_731_486_208);
    assert_eq!(ack.status, OrderStatus::Pending);
    let q: Vec<String> = server
        .requests()
        .iter()
        .map(Recorded::stable_query)
        .collect();
    assert_eq!(q[0], "clientOrderID=te-1&positionSide=LONG&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&type=MARKET");
    // One-way mode: reduceOnly sent; stop price rounded to the 0.1 tick.
    assert_eq!(q[1], "clientOrderID=te-1&positionSide=BOTH&quantity=0.0010&recvWindow=5000&reduceOnly=true&side=SELL&stopPrice=120.0&symbol=BTC-USDT&type=TAKE_PROFIT_MARKET");
    // Hedge mode: no reduceOnly (closing is side + positionSide).
    assert_eq!(q[2], "clientOrderID=te-1&positionSide=LONG&quantity=0.0010&recvWindow=5000&side=SELL&stopPrice=60000.0&symbol=BTC-USDT&type=STOP_MARKET");
    assert!(server
        .requests()
        .iter()
        .all(|r| r.signature_ok == Some(true)));
}

#[test]
fn a_quantity_a_bit_below_its_step_is_sent_as_that_step_not_one_less() {
    // Demo regression: 0.2317 - 0.0695 - 0.0926 is one fixed-point bit below
    // 0.0696; rounded strictly down it went out as 0.0695 and the 0.0001 left
    // became "0.0000", refused with 109400 "quantity must be positive".
    let server = TestServer::start(SECRET, |r| {
        let id = r.param("clientOrderID").unwrap();
        Reply::json(&order_json(7, &id, "NEW"))
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    let q = |t: &str| qty_from_text(t).unwrap();
    let target = q("0.2317") - q("0.0695") - q("0.0926");
    assert_eq!(target.to_bits() + 1, q("0.0696").to_bits());
    let dust = target - q("0.0695");
    for (id, qty) in [("te-16", target), ("te-441", dust)] {
        let close = OrderRequest {
            kind: OrderKind::Market,
            side: Side::Buy,
            position_side: PositionSide::Both,
            reduce_only: true,
            price: Price::ZERO,
            time_in_force: None,
            qty,
            ..limit_order(id)
        };
        c.place_order(&close).unwrap();
    }
    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.param("quantity").unwrap())
        .collect();
    assert_eq!(sent, ["0.0696", "0.0001"]);
}

#[test]
fn invalid_orders_are_refused_without_sending() {
    let server = TestServer::start(SECRET, |_| Reply::json("{}"));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let no_price = OrderRequest {
        price: Price::ZERO,
        ..limit_order("a")
    };
    assert!(matches!(
        c.place_order(&no_price),
        Err(OrderError::Invalid(_))
    ));
    let unknown = OrderRequest {
        symbol: SymbolId(9),
        ..limit_order("a")
    };
    assert!(matches!(
        c.place_order(&unknown),
        Err(OrderError::Invalid(_))
    ));
    assert!(server.requests().is_empty());
}

#[test]
fn cancel_query_cancel_all_and_open_orders_parse_their_fixtures() {
    let (Some(cancel), Some(all), Some(query), Some(filled), Some(open)) = (
        fixture("rest_cancel_order_doc.json"),
        fixture("rest_cancel_all_doc.json"),
        fixture("rest_query_order_doc.json"),
        fixture("rest_query_order_filled_ccxt.json"),
        fixture("rest_open_orders.json"),
    ) else {
        return;
    };
    let server = TestServer::start(SECRET, move |r| {
        Reply::json(match (r.method.as_str(), r.path.as_str()) {
            ("DELETE", "/openApi/swap/v2/trade/order") => &cancel,
            ("DELETE", _) => &all,
            ("GET", "/openApi/swap/v2/trade/order") if r.param("orderId").is_some() => &query,
            ("GET", "/openApi/swap/v2/trade/order") => &filled,
            _ => &open,
        })
    });
    let clock = ManualClock::new(1_700_000_000_456);
    let mut c = client(&server, &clock);
    let o = c
        .cancel_order(BTC, OrderRef::OrderId(1_736_011_869_418_901_234))
        .unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    let client_id = ClientOrderId::try_new("lo-7").unwrap();
    c.cancel_order(BTC, OrderRef::Client(client_id)).unwrap();
    let r = c.cancel_all(Some(BTC)).unwrap();
    assert_eq!((r.success.len(), r.failed.len()), (2, 2));
    assert_eq!(r.failed[0].error_code, 80_012);
    let q = c.query_order(BTC, OrderRef::OrderId(1)).unwrap();
    assert_eq!(q.status, OrderStatus::Pending);
    let q = c
        .query_order(
            BTC,
            OrderRef::Client(ClientOrderId::try_new("b39b0316").unwrap()),
        )
        .unwrap();
    assert_eq!(q.order_id, 1_770_683_446_830_788_608);
    assert_eq!(q.status, OrderStatus::Filled);
    assert_eq!(q.leverage, 5);
    assert_eq!(q.client_order_id, "b39b0316-1f99-4099-8f4b-bac0f46731f8");
    let open = c.open_orders(Some(BTC)).unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].price, price_from_text("44459.6").unwrap());
    let reqs = server.requests();
    // Cancel by id reproduces protocol vector V4's message.
    assert_eq!(
        reqs[0].query,
        "orderId=1736011869418901234&recvWindow=5000&symbol=BTC-USDT&timestamp=1700000000456&signature="
            .to_owned()
            + &reqs[0].param("signature").unwrap()
    );
    assert_eq!(
        reqs[1].stable_query(),
        "clientOrderID=lo-7&recvWindow=5000&symbol=BTC-USDT"
    );
    assert_eq!(reqs[2].path, "/openApi/swap/v2/trade/allOpenOrders");
    assert!(reqs.iter().all(|r| r.signature_ok == Some(true)));
    assert_eq!(c.http_stats().connects, 1);
}

#[test]
fn wrong_secret_maps_to_signature_mismatch_and_is_not_retried() {
    let server = TestServer::start(SECRET, |r| {
        if r.signature_ok == Some(true) {
            Reply::json("{}")
        } else {
            Reply::json(
                r#"{"code":100001,"msg":"Signature verification failed due to signature mismatch","timestamp":1721803278709}"#,
            )
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client_with(
        &server.url(),
        "a-wrong-secret",
        &clock,
        Duration::from_secs(5),
    );
    let err = c.place_order(&limit_order("te-9")).unwrap_err();
    match &err {
        OrderError::Request(RestError::Api(api)) => {
            assert_eq!(api.code, 100_001);
            assert_eq!(api.kind, ExchangeCode::SignatureMismatch);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("signature mismatch"), "{err}");
    assert!(!err.to_string().contains("a-wrong-secret"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn rate_limit_429_with_retry_after_is_waited_out_then_succeeds() {
    let mut n = 0;
    let server = TestServer::start(SECRET, move |_| {
        n += 1;
        if n == 1 {
            Reply::status_json(429, r#"{"code":100410,"msg":"rate limit"}"#)
                .with_header("Retry-After", "2")
        } else {
            Reply::json(&order_json(7, "te-5", "NEW"))
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let ack = c.place_order(&limit_order("te-5")).unwrap();
    assert_eq!(ack.order_id, 7);
    assert_eq!(server.requests().len(), 2);
    assert!(
        clock.total_slept() >= Duration::from_secs(2),
        "{:?}",
        clock.sleeps()
    );
}

#[test]
fn rate_limit_code_in_a_200_envelope_is_retried() {
    let mut n = 0;
    let server = TestServer::start(SECRET, move |_| {
        n += 1;
        if n == 1 {
            Reply::code(109_429, "too many requests")
        } else {
            Reply::json(&order_json(8, "te-6", "NEW"))
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    assert_eq!(c.place_order(&limit_order("te-6")).unwrap().order_id, 8);
    assert_eq!(server.requests().len(), 2);
}

/// A tiny exchange: stores orders by client id; `fail_first_place` scripts
/// what happens to the first place-order (stored or not, and how it fails).
fn exchange(
    fail_first: impl Fn(bool) -> Option<(bool, Reply)> + Send + 'static,
) -> (TestServer, Arc<Mutex<HashMap<String, u64>>>) {
    let orders: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let book = orders.clone();
    let mut places = 0;
    let server = TestServer::start(SECRET, move |r| {
        assert_eq!(r.signature_ok, Some(true));
        let id = r.param("clientOrderID").unwrap();
        let mut book = book.lock().unwrap();
        match r.method.as_str() {
            "POST" => {
                places += 1;
                if let Some((store, reply)) = fail_first(places == 1) {
                    if store {
                        book.insert(id, 1000 + places);
                    }
                    return reply;
                }
                if book.contains_key(&id) {
                    return Reply::code(101_481, "clientOrderID repeated");
                }
                book.insert(id.clone(), 1000 + places);
                Reply::json(&order_json(book[&id], &id, "NEW"))
            }
            _ => match book.get(&id) {
                Some(oid) => Reply::json(&order_json(*oid, &id, "PENDING")),
                None => Reply::code(109_421, "order not exist"),
            },
        }
    });
    (server, orders)
}

fn methods(server: &TestServer) -> Vec<String> {
    server.requests().iter().map(|r| r.method.clone()).collect()
}

#[test]
fn server_error_after_the_order_was_stored_is_reconciled_without_resending() {
    let (server, orders) = exchange(|first| first.then(|| (true, Reply::status_json(500, "oops"))));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let ack = c.place_order(&limit_order("te-10")).unwrap();
    assert!(ack.recovered);
    assert_eq!(ack.order_id, 1001);
    assert_eq!(orders.lock().unwrap().len(), 1);
    assert_eq!(methods(&server), ["POST", "GET"]);
    let lookup = &server.requests()[1];
    assert_eq!(
        lookup.stable_query(),
        "clientOrderID=te-10&recvWindow=5000&symbol=BTC-USDT"
    );
}

#[test]
fn gateway_timeout_without_an_order_is_resent_once_with_the_same_id() {
    let (server, orders) = exchange(|first| first.then(|| (false, Reply::status_json(504, ""))));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let ack = c.place_order(&limit_order("te-11")).unwrap();
    assert!(!ack.recovered);
    assert_eq!(orders.lock().unwrap().len(), 1);
    assert_eq!(methods(&server), ["POST", "GET", "POST"]);
    let reqs = server.requests();
    assert_eq!(
        reqs[0].param("clientOrderID"),
        reqs[2].param("clientOrderID")
    );
}

#[test]
fn read_timeout_after_send_is_reconciled_to_exactly_one_order() {
    let (server, orders) = exchange(|first| {
        first.then(|| {
            (
                true,
                Reply::json(&order_json(1001, "te-12", "NEW"))
                    .action(Action::Delay(Duration::from_millis(800))),
            )
        })
    });
    let clock = ManualClock::new(0);
    let mut c = client_with(&server.url(), SECRET, &clock, Duration::from_millis(300));
    let ack = c.place_order(&limit_order("te-12")).unwrap();
    assert!(ack.recovered);
    assert_eq!(orders.lock().unwrap().len(), 1);
    assert_eq!(methods(&server), ["POST", "GET"]);
    assert_eq!(c.http_stats().connects, 2, "timed-out connection replaced");
}

#[test]
fn connection_lost_after_send_is_reconciled_to_exactly_one_order() {
    let (server, orders) =
        exchange(|first| first.then(|| (true, Reply::json("").action(Action::Drop))));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let ack = c.place_order(&limit_order("te-13")).unwrap();
    assert!(ack.recovered);
    assert_eq!(orders.lock().unwrap().len(), 1);
    assert_eq!(methods(&server), ["POST", "GET"]);
}

#[test]
fn undecidable_outcome_is_reported_ambiguous_and_never_resent() {
    let server = TestServer::start(SECRET, |_| Reply::status_json(500, "down"));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let err = c.place_order(&limit_order("te-14")).unwrap_err();
    assert!(matches!(err, OrderError::Ambiguous { .. }), "{err:?}");
    let posts = methods(&server).iter().filter(|m| *m == "POST").count();
    assert_eq!(posts, 1);
    let result = c.execute(&IoCommand::Place(limit_order("te-15")));
    assert_eq!(result.outcome, OrderOutcome::Unknown);
}

#[test]
fn trigger_order_without_kept_client_id_is_found_among_open_orders() {
    let stored = Arc::new(Mutex::new(false));
    let s2 = stored.clone();
    let server = TestServer::start(SECRET, move |r| {
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", _) => {
                *s2.lock().unwrap() = true;
                Reply::status_json(502, "bad gateway")
            }
            ("GET", "/openApi/swap/v2/trade/order") => Reply::code(80_016, "order does not exist"),
            _ => Reply::json(if *s2.lock().unwrap() {
                r#"{"code":0,"msg":"","data":{"orders":[{"symbol":"BTC-USDT","orderId":"1792481956836519936","side":"SELL","positionSide":"LONG","type":"STOP_MARKET","origQty":"0.0010","stopPrice":"60000.0","status":"NEW","clientOrderId":""}]}}"#
            } else {
                r#"{"code":0,"msg":"","data":{"orders":[]}}"#
            }),
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let stop = OrderRequest {
        kind: OrderKind::StopMarket,
        side: Side::Sell,
        price: Price::ZERO,
        stop_price: price_from_text("60000").unwrap(),
        time_in_force: None,
        ..limit_order("te-16")
    };
    let ack = c.place_order(&stop).unwrap();
    assert!(ack.recovered);
    assert_eq!(ack.order_id, 1_792_481_956_836_519_936);
    assert_eq!(methods(&server), ["POST", "GET", "GET"]);
}

#[test]
fn execute_maps_rejects_and_acks_to_fixed_size_results() {
    let mut n = 0;
    let server = TestServer::start(SECRET, move |r| {
        n += 1;
        match (n, r.method.as_str()) {
            (1, _) => Reply::code(101_204, "Insufficient margin"),
            (_, "DELETE") => Reply::json(&order_json(77, "te-20", "CANCELLED")),
            _ => Reply::json(&order_json(76, "te-21", "NEW")),
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let r = c.execute(&IoCommand::Place(limit_order("te-20")));
    assert_eq!(
        r.outcome,
        OrderOutcome::Rejected {
            code: 101_204,
            kind: ExchangeCode::InsufficientMargin
        }
    );
    assert_eq!(r.client_order_id.as_str(), "te-20");
    let r = c.execute(&IoCommand::Cancel {
        symbol: BTC,
        order: OrderRef::OrderId(77),
    });
    match r.outcome {
        OrderOutcome::Accepted(ack) => {
            assert_eq!(ack.order_id, 77);
            assert_eq!(ack.status, OrderStatus::Cancelled);
        }
        other => panic!("unexpected {other:?}"),
    }
    let r = c.execute(&IoCommand::Place(limit_order("te-21")));
    assert!(matches!(r.outcome, OrderOutcome::Accepted(a) if a.order_id == 76));
}

#[test]
fn writing_a_signed_order_does_not_allocate_after_warm_up() {
    let server = TestServer::start(SECRET, |r| {
        let id = r.param("clientOrderID").unwrap();
        Reply::json(&order_json(5, &id, "NEW"))
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    let orders: Vec<OrderRequest> = (0..20)
        .map(|i| OrderRequest {
            client_order_id: ClientOrderId::from_sequence("te-", i).unwrap(),
            ..limit_order("x")
        })
        .collect();
    for req in &orders[..2] {
        c.begin_place_order(req).unwrap();
        c.finish_place_order(req).unwrap();
    }
    let mut allocations = 0;
    for req in &orders[2..] {
        allocations +=
            allocation_counter::measure(|| c.begin_place_order(req).unwrap()).count_total;
        assert_eq!(c.finish_place_order(req).unwrap().order_id, 5);
    }
    assert_eq!(allocations, 0);
    assert_eq!(c.http_stats().connects, 1);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.signature_ok == Some(true)));
}

#[test]
fn sixth_order_within_one_second_is_delayed_by_the_rate_limiter_not_dropped() {
    let server = TestServer::start(SECRET, |r| {
        let id = r.param("clientOrderID").unwrap();
        Reply::json(&order_json(3, &id, "NEW"))
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    for i in 0..6 {
        let req = OrderRequest {
            client_order_id: ClientOrderId::from_sequence("te-rl-", i).unwrap(),
            ..limit_order("x")
        };
        c.place_order(&req).unwrap();
    }
    assert_eq!(server.requests().len(), 6);
    // 5 per second per UID (§2.4): the sixth waits until the first one's second is over.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
}

#[test]
fn timestamp_reject_resynchronises_the_clock_and_retries() {
    let server = TestServer::start(SECRET, move |r| match r.path.as_str() {
        "/openApi/swap/v2/server/time" => {
            Reply::json(r#"{"code":0,"msg":"","data":{"serverTime":1700000060000}}"#)
        }
        _ => {
            let ts: i64 = r.param("timestamp").unwrap().parse().unwrap();
            if (ts - 1_700_000_060_000).abs() > 5_000 {
                Reply::code(100_421, "timestamp mismatch")
            } else {
                Reply::json(&order_json(4, "te-ts", "NEW"))
            }
        }
    });
    // Our clock is a minute behind the server.
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    assert_eq!(c.place_order(&limit_order("te-ts")).unwrap().order_id, 4);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, [PLACE, "/openApi/swap/v2/server/time", PLACE]);
    assert!(c.clock_offset_ms() > 59_000);
}
