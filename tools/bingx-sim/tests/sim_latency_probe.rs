//! The simulator's latency probe (used by `bench --bin wire-to-wire`): market frame writes
//! and order placement arrivals are recorded, nothing else is; `inject_trade_at` pushes a
//! trade with the given exchange time.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::SimConfig;
use std::time::{Duration, Instant};
use util::{manual, next_json, now_ms, subscribe, Client};

const T: Duration = Duration::from_secs(5);
const ORDER: &str = "/openApi/swap/v2/trade/order";

#[test]
fn probe_records_market_frame_writes_and_order_arrivals_only() {
    let sim = manual(SimConfig::default());
    let probe = sim.latency_probe();
    // The seeding trade reached no subscriber: nothing was written.
    assert_eq!(probe.market_frames_written(), 0);
    assert_eq!(probe.last_market_frame_write(), None);
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "p-1", "BTC-USDT@trade")["code"], 0);
    // Subscription replies are not market data.
    assert_eq!(probe.market_frames_written(), 0);

    let before = Instant::now();
    let next_minute = now_ms() / 60_000 * 60_000 + 60_000;
    sim.inject_trade_at(next_minute, "60100.0", "0.0100", false)
        .unwrap();
    let push = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@trade");
    assert_eq!(push["data"][0]["T"].as_i64(), Some(next_minute));
    assert_eq!(probe.market_frames_written(), 1);
    let written = probe.last_market_frame_write().unwrap();
    assert!(written >= before);

    // A query of the order endpoint is not a placement.
    c.signed(
        "GET",
        "/openApi/swap/v2/trade/openOrders",
        &[("symbol", "BTC-USDT")],
    );
    assert_eq!(probe.orders_arrived(), 0);
    let reply = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0100"),
        ],
    );
    assert_eq!(reply["code"], 0, "{reply}");
    assert_eq!(probe.orders_arrived(), 1);
    let arrived = probe.last_order_arrival().unwrap();
    assert!(arrived > written);
    assert!(arrived <= Instant::now());
}
