//! Matching, positions and the user-data stream of the simulator.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::SimConfig;
use serde_json::Value;
use std::time::{Duration, Instant};
use tungstenite::WebSocket;
use util::{manual, next_json, Client, Stream};

const ORDER: &str = "/openApi/swap/v2/trade/order";
const T: Duration = Duration::from_secs(5);

fn user_stream(c: &Client) -> (String, WebSocket<Stream>) {
    let key = c.listen_key();
    let ws = c.ws(&format!("/swap-market?listenKey={key}"));
    (key, ws)
}

fn order_event(ws: &mut WebSocket<Stream>, id: u64, exec: &str) -> Value {
    next_json(ws, T, |v| {
        v["e"] == "ORDER_TRADE_UPDATE" && v["o"]["i"].as_u64() == Some(id) && v["o"]["x"] == exec
    })
}

fn position(c: &Client, side: &str) -> Option<Value> {
    let rows = c.ok(
        "GET",
        "/openApi/swap/v2/user/positions",
        &[("symbol", "BTC-USDT")],
    );
    rows.as_array()
        .unwrap()
        .iter()
        .find(|p| p["positionSide"] == side)
        .cloned()
}

fn place(c: &Client, params: &[(&str, &str)]) -> u64 {
    let mut all = vec![("symbol", "BTC-USDT")];
    all.extend_from_slice(params);
    let d = c.ok("POST", ORDER, &all);
    d["order"]["orderId"].as_u64().unwrap()
}

fn status(c: &Client, id: u64) -> String {
    let d = c.ok(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &id.to_string())],
    );
    d["order"]["status"].as_str().unwrap().to_owned()
}

#[test]
fn market_order_fills_opens_a_position_and_pushes_user_events() {
    let sim = manual(SimConfig {
        slippage_bps: 0.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    let id = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0100"),
            ("clientOrderID", "Entry-1"),
        ],
    );
    let new = order_event(&mut ws, id, "NEW");
    assert_eq!(new["o"]["X"], "NEW");
    let fill = order_event(&mut ws, id, "TRADE");
    let o = &fill["o"];
    assert_eq!(o["X"], "FILLED");
    assert_eq!(o["c"], "entry-1");
    assert_eq!(o["S"], "BUY");
    assert_eq!(o["ps"], "LONG");
    assert_eq!(o["ap"], "60000.00000000");
    assert_eq!(o["z"], "0.01000000");
    assert_eq!(o["n"], "-0.30000000", "taker fee 0.05% of 600 USDT");
    assert!(fill["E"].is_i64());
    let acc = next_json(&mut ws, T, |v| v["e"] == "ACCOUNT_UPDATE");
    assert_eq!(acc["a"]["m"], "ORDER");
    assert_eq!(acc["a"]["P"][0]["pa"], "0.01000000");
    assert_eq!(acc["a"]["P"][0]["ps"], "LONG");
    assert_eq!(acc["a"]["B"][0]["wb"], "9999.70000000");

    let pos = position(&c, "LONG").expect("long position");
    assert_eq!(pos["positionAmt"], "0.0100");
    assert_eq!(pos["avgPrice"], "60000.000");
    sim.inject_trade("61000.0", "0.0010", false).unwrap();
    let pos = position(&c, "LONG").unwrap();
    assert_eq!(pos["unrealizedProfit"], "10.0000");

    // Closing with SELL+LONG realises the profit.
    let close = place(
        &c,
        &[
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0100"),
        ],
    );
    let fill = order_event(&mut ws, close, "TRADE");
    assert_eq!(fill["o"]["rp"], "10.00000000");
    assert!(position(&c, "LONG").is_none());
    let q = c.ok(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &close.to_string())],
    );
    assert_eq!(q["order"]["status"], "FILLED");
    assert_eq!(q["order"]["executedQty"], "0.0100");
    let bal = c.ok("GET", "/openApi/swap/v3/user/balance", &[]);
    // 10000 − 0.30 + 10 − 0.305 (fee on 610 USDT)
    assert_eq!(bal[0]["balance"], "10009.3950");
}

#[test]
fn stop_market_and_take_profit_trigger_on_trades() {
    let sim = manual(SimConfig {
        slippage_bps: 0.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0200"),
        ],
    );
    let sl = place(
        &c,
        &[
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "STOP_MARKET"),
            ("stopPrice", "59000.0"),
            ("quantity", "0.0100"),
        ],
    );
    let tp = place(
        &c,
        &[
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "TAKE_PROFIT_MARKET"),
            ("stopPrice", "62000.0"),
            ("quantity", "0.0100"),
        ],
    );
    assert_eq!(status(&c, sl), "NEW");
    assert_eq!(status(&c, tp), "NEW");
    sim.inject_trade("59500.0", "0.0010", true).unwrap();
    assert_eq!(status(&c, sl), "NEW", "not reached yet");
    sim.inject_trade("58990.0", "0.0010", true).unwrap();
    let fill = order_event(&mut ws, sl, "TRADE");
    assert_eq!(fill["o"]["o"], "STOP_MARKET");
    assert_eq!(fill["o"]["ap"], "58990.00000000");
    assert_eq!(fill["o"]["sp"], "59000.00000000");
    assert_eq!(status(&c, sl), "FILLED");
    assert_eq!(status(&c, tp), "NEW");
    sim.inject_trade("62000.0", "0.0010", false).unwrap();
    order_event(&mut ws, tp, "TRADE");
    assert_eq!(status(&c, tp), "FILLED");
    assert!(position(&c, "LONG").is_none());
}

#[test]
fn limit_orders_rest_until_crossed_and_post_only_never_takes() {
    let sim = manual(SimConfig {
        slippage_bps: 0.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    let id = place(
        &c,
        &[
            ("side", "SELL"),
            ("positionSide", "SHORT"),
            ("type", "LIMIT"),
            ("price", "60500.0"),
            ("quantity", "0.0100"),
            ("timeInForce", "PostOnly"),
        ],
    );
    assert_eq!(status(&c, id), "PENDING");
    let bal = c.ok("GET", "/openApi/swap/v3/user/balance", &[]);
    assert_eq!(
        bal[0]["freezedMargin"], "60.5000",
        "open order reserves margin"
    );
    sim.inject_trade("60499.9", "0.0010", false).unwrap();
    assert_eq!(status(&c, id), "PENDING");
    sim.inject_trade("60500.0", "0.0010", false).unwrap();
    let fill = order_event(&mut ws, id, "TRADE");
    assert_eq!(fill["o"]["n"], "-0.12100000", "maker fee 0.02% of 605 USDT");
    assert_eq!(position(&c, "SHORT").unwrap()["positionAmt"], "0.0100");
    let taker = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "61000.0"),
            ("quantity", "0.0010"),
            ("timeInForce", "PostOnly"),
        ],
    );
    assert_eq!(taker["code"], 101_215);
    let ioc = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "50000.0"),
            ("quantity", "0.0010"),
            ("timeInForce", "IOC"),
        ],
    );
    assert_eq!(status(&c, ioc), "CANCELLED");
    let ev = order_event(&mut ws, ioc, "EXPIRED");
    assert_eq!(ev["o"]["X"], "EXPIRED");
    let crossing = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "61000.0"),
            ("quantity", "0.0010"),
        ],
    );
    assert_eq!(
        status(&c, crossing),
        "FILLED",
        "a marketable limit order takes at once"
    );
}

#[test]
fn reduce_only_and_closing_orders_never_open_positions() {
    let sim = manual(SimConfig {
        hedge_mode: false,
        slippage_bps: 0.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let v = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
            ("reduceOnly", "true"),
        ],
    );
    assert_eq!(v["code"], 101_290, "nothing to reduce: {v}");
    place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "BOTH"),
            ("type", "MARKET"),
            ("quantity", "0.0100"),
        ],
    );
    let v = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
            ("reduceOnly", "true"),
        ],
    );
    assert_eq!(v["code"], 101_290, "same direction would increase: {v}");
    // A reduce-only sell larger than the position is capped at the position.
    let id = place(
        &c,
        &[
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.0500"),
            ("reduceOnly", "true"),
        ],
    );
    let q = c.ok(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &id.to_string())],
    );
    assert_eq!(q["order"]["executedQty"], "0.0100");
    assert!(position(&c, "BOTH").is_none());
    // Without reduceOnly a one-way sell opens a short (signed amount).
    place(
        &c,
        &[("side", "SELL"), ("type", "MARKET"), ("quantity", "0.0020")],
    );
    assert_eq!(position(&c, "BOTH").unwrap()["positionAmt"], "-0.0020");

    let hedge = manual(SimConfig::default());
    let h = Client::new(&hedge);
    let v = h.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
        ],
    );
    assert_eq!(v["code"], 101_205, "no long to close: {v}");
    let v = h.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
            ("reduceOnly", "true"),
        ],
    );
    assert_eq!(v["code"], 101_290);
    // A protective stop whose position is gone expires instead of opening a short.
    place(
        &h,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
        ],
    );
    let sl = place(
        &h,
        &[
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "STOP_MARKET"),
            ("stopPrice", "59000.0"),
            ("quantity", "0.0010"),
        ],
    );
    place(
        &h,
        &[
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
        ],
    );
    hedge.inject_trade("58000.0", "0.0010", true).unwrap();
    assert_eq!(status(&h, sl), "CANCELLED");
    assert!(position(&h, "SHORT").is_none() && position(&h, "LONG").is_none());
}

#[test]
fn cancel_all_after_cancels_open_orders_when_the_countdown_expires() {
    // One timeOut unit = 20 ms, so timeOut=10 fires after 200 ms.
    let sim = manual(SimConfig {
        cancel_after_unit_ms: 20,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    let id = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "59000.0"),
            ("quantity", "0.0010"),
        ],
    );
    c.ok(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "ACTIVATE"), ("timeOut", "10")],
    );
    let ev = order_event(&mut ws, id, "CANCELED");
    assert_eq!(ev["o"]["X"], "CANCELED");
    assert_eq!(status(&c, id), "CANCELLED");

    // Disarmed in time, nothing is cancelled.
    let keep = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "59000.0"),
            ("quantity", "0.0010"),
        ],
    );
    c.ok(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "ACTIVATE"), ("timeOut", "100")],
    );
    c.ok(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "CLOSE")],
    );
    std::thread::sleep(Duration::from_millis(2_300));
    assert_eq!(status(&c, keep), "PENDING");
}

#[test]
fn settings_changes_push_account_config_updates_and_keys_expire() {
    let sim = manual(SimConfig {
        listen_key_ttl_ms: 1_500,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (key, mut ws) = user_stream(&c);
    c.ok(
        "POST",
        "/openApi/swap/v2/trade/leverage",
        &[("symbol", "BTC-USDT"), ("side", "LONG"), ("leverage", "12")],
    );
    let cfg = next_json(&mut ws, T, |v| v["e"] == "ACCOUNT_CONFIG_UPDATE");
    assert_eq!(cfg["ac"]["l"], 12);
    assert_eq!(cfg["ac"]["mt"], "cross");
    let started = Instant::now();
    let expired = next_json(&mut ws, T, |v| v["e"] == "listenKeyExpired");
    assert_eq!(expired["listenKey"], key.as_str());
    assert!(started.elapsed() < T);
    // After expiry no more account events arrive on that key.
    c.ok(
        "POST",
        "/openApi/swap/v2/trade/leverage",
        &[("symbol", "BTC-USDT"), ("side", "LONG"), ("leverage", "13")],
    );
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        if let Some(util::Event::Json(v)) = util::next_event(&mut ws, Duration::from_millis(100)) {
            panic!("event after expiry: {v}");
        }
    }
    let r = c.raw(
        "GET",
        &format!("/swap-market?listenKey={key}"),
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
        "",
    );
    assert_eq!(r.status, 404, "an expired key cannot open a stream");
}

#[test]
fn trade_update_events_follow_fills_when_enabled() {
    let sim = manual(SimConfig {
        trade_update_events: true,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    let id = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
        ],
    );
    let tu = next_json(&mut ws, T, |v| v["e"] == "TRADE_UPDATE");
    assert_eq!(tu["o"]["i"].as_u64(), Some(id));
    assert!(tu["o"]["td"].is_u64() && tu["T"].is_i64(), "{tu}");
}

#[test]
fn the_stop_guard_reports_stopless_stretches_repeated_client_ids_and_activity() {
    let sim = manual(SimConfig {
        slippage_bps: 0.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let stop = |qty: &'static str, id: &'static str| {
        vec![
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "STOP_MARKET"),
            ("stopPrice", "59000.0"),
            ("quantity", qty),
            ("clientOrderID", id),
        ]
    };
    place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0200"),
            ("clientOrderID", "e1"),
        ],
    );
    assert_eq!(sim.stop_guard().stopless.len(), 1, "naked from the fill");
    place(&c, &stop("0.0100", "s1"));
    let g = sim.stop_guard();
    assert!(g.stopless[0].open, "half a stop does not protect: {g:?}");
    let full = place(&c, &stop("0.0200", "s2"));
    let g = sim.stop_guard();
    assert_eq!(g.stopless.len(), 1);
    assert!(!g.stopless[0].open, "the full stop ends the stretch");
    assert_eq!(
        g.activity.stop_replace_steps, 1,
        "a second stop of the position"
    );
    let full_id = full.to_string();
    c.ok(
        "DELETE",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &full_id)],
    );
    let g = sim.stop_guard();
    assert_eq!(g.stopless.len(), 2);
    assert!(g.stopless[1].open, "naked again after the cancel");
    assert_eq!(g.activity.stop_replace_steps, 2);
    let mut all = vec![("symbol", "BTC-USDT")];
    all.extend(stop("0.0200", "s1"));
    let v = c.signed("POST", ORDER, &all);
    assert_eq!(v["code"], 101_481, "{v}");
    let g = sim.stop_guard();
    assert_eq!(g.duplicate_client_ids, vec!["s1".to_owned()]);
    assert_eq!(g.orders_placed, 3);
    assert_eq!(g.activity.entries, 1);
    assert_eq!(g.activity.stop_places, 2);
    let view = sim.account_view();
    assert_eq!(view.positions.len(), 1);
    assert!((view.positions[0].1 - 0.02).abs() < 1e-12, "{view:?}");
    assert_eq!(view.open_orders, vec![("s1".to_owned(), "STOP_MARKET")]);
}

#[test]
fn funding_settles_on_its_interval_moves_the_wallet_and_pushes_a_funding_fee_update() {
    let sim = manual(SimConfig {
        slippage_bps: 0.0,
        funding: bingx_sim::FundingConfig {
            rate: Some(0.0001),
            interval_ms: 3_600_000,
        },
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let (_key, mut ws) = user_stream(&c);
    let id = place(
        &c,
        &[
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0100"),
        ],
    );
    order_event(&mut ws, id, "TRADE");
    let idx = c.public("/openApi/swap/v2/quote/premiumIndex", "symbol=BTC-USDT");
    assert_eq!(idx["data"]["lastFundingRate"], "0.00010000");
    let next = idx["data"]["nextFundingTime"].as_i64().unwrap();
    assert_eq!(next % 3_600_000, 0);
    // The first trade past the settlement settles it at the last price (60000):
    // the long pays 0.01 × 60000 × 0.0001 = 0.06 USDT.
    sim.inject_trade_at(next + 1, "61000.0", "0.0010", false)
        .unwrap();
    let acc = next_json(&mut ws, T, |v| {
        v["e"] == "ACCOUNT_UPDATE" && v["a"]["m"] == "FUNDING_FEE"
    });
    assert_eq!(acc["a"]["B"][0]["bc"], "-0.06000000");
    assert_eq!(
        acc["a"]["B"][0]["wb"], "9999.64000000",
        "10000 − 0.30 fee − 0.06"
    );
    assert_eq!(
        acc["a"]["P"].as_array().map(Vec::len),
        Some(0),
        "cross margin: balances only"
    );
    let hist = c.public(
        "/openApi/swap/v2/quote/fundingRate",
        "symbol=BTC-USDT&limit=10",
    );
    assert_eq!(hist["data"][0]["fundingRate"], "0.00010000");
    assert_eq!(hist["data"][0]["fundingTime"], next);
    let bal = c.ok("GET", "/openApi/swap/v3/user/balance", &[]);
    assert_eq!(bal[0]["balance"], "9999.6400");
}
