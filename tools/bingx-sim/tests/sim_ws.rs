//! Market WebSocket stream of the simulator: subscriptions, gzip pushes, heartbeat, replay.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::{SimConfig, Simulator, Speed};
use std::time::{Duration, Instant};
use tungstenite::Message;
use util::{manual, next_event, next_json, subscribe, Client, Event};

const T: Duration = Duration::from_secs(5);

#[test]
fn subscribe_acks_and_gzip_trade_kline_book_pushes_decode() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    let ack = subscribe(&mut ws, "id-1", "BTC-USDT@trade");
    assert_eq!(
        ack,
        serde_json::json!({"id": "id-1", "code": 0, "msg": "", "dataType": "", "data": null})
    );
    assert_eq!(subscribe(&mut ws, "id-2", "BTC-USDT@kline_1m")["code"], 0);
    assert_eq!(subscribe(&mut ws, "id-3", "BTC-USDT@bookTicker")["code"], 0);
    assert_eq!(
        subscribe(&mut ws, "id-4", "BTC-USDT@depth99")["code"],
        80_015
    );
    assert_eq!(subscribe(&mut ws, "id-5", "ETH-USDT@trade")["code"], 80_015);

    sim.inject_trade("60100.0", "0.0500", false).unwrap();
    let mut pushes = std::collections::HashMap::new();
    while pushes.len() < 3 {
        let v = next_json(&mut ws, T, |v| {
            v["dataType"].as_str().is_some_and(|d| !d.is_empty())
        });
        pushes.insert(v["dataType"].as_str().unwrap().to_owned(), v);
    }
    let trade = &pushes["BTC-USDT@trade"];
    assert_eq!(trade["code"], 0);
    let t = &trade["data"][0];
    assert_eq!(
        (
            t["p"].as_str(),
            t["q"].as_str(),
            t["m"].as_bool(),
            t["s"].as_str()
        ),
        (
            Some("60100.0"),
            Some("0.0500"),
            Some(false),
            Some("BTC-USDT")
        )
    );
    assert!(t["T"].is_i64());
    let kline = &pushes["BTC-USDT@kline_1m"];
    assert_eq!(kline["s"], "BTC-USDT");
    let bar = &kline["data"][0];
    assert_eq!(bar["c"], "60100.0");
    assert_eq!(bar["T"].as_i64().unwrap() % 60_000, 0, "bar start time");
    let book = &pushes["BTC-USDT@bookTicker"];
    assert_eq!(book["data"]["e"], "bookTicker");
    assert_eq!(book["data"]["a"], "60100.0");
    assert_eq!(book["data"]["b"], "60099.9");

    // Unsubscribed topics stop.
    ws.send(Message::text(
        r#"{"id":"u1","reqType":"unsub","dataType":"BTC-USDT@kline_1m"}"#,
    ))
    .unwrap();
    next_json(&mut ws, T, |v| v["id"] == "u1");
    sim.inject_trade("60101.0", "0.0010", false).unwrap();
    next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@bookTicker");
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        if let Some(Event::Json(v)) = next_event(&mut ws, Duration::from_millis(50)) {
            assert_ne!(v["dataType"], "BTC-USDT@kline_1m", "kline after unsub");
        }
    }
}

#[test]
fn depth_and_ticker_streams_push_snapshots() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "d", "BTC-USDT@depth5@500ms")["code"], 0);
    assert_eq!(subscribe(&mut ws, "t", "BTC-USDT@ticker")["code"], 0);
    assert_eq!(
        subscribe(&mut ws, "x", "BTC-USDT@depth7@500ms")["code"],
        80_015
    );
    sim.inject_trade("60300.0", "0.0010", false).unwrap();
    let d = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@depth5@500ms");
    assert!(d["ts"].is_i64());
    let asks = d["data"]["asks"].as_array().unwrap();
    assert_eq!(asks.len(), 5);
    assert_eq!(asks[4][0], "60300.0", "best ask last");
    assert_eq!(d["data"]["bids"][0][0], "60299.9");
    let t = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@ticker");
    assert_eq!(t["data"]["e"], "24hTicker");
    assert_eq!(t["data"]["c"], "60300.0");
}

#[test]
fn client_answering_pong_stays_and_silent_client_is_dropped() {
    let cfg = SimConfig {
        ping_interval_ms: 100,
        pong_timeout_ms: 400,
        ..SimConfig::default()
    };
    let sim = manual(cfg);
    let c = Client::new(&sim);
    let mut polite = c.ws("/swap-market");
    let mut silent = c.ws("/swap-market");
    let mut pings = 0;
    let deadline = Instant::now() + Duration::from_millis(1_500);
    while Instant::now() < deadline {
        match next_event(&mut polite, Duration::from_millis(50)) {
            Some(Event::Ping) => {
                pings += 1;
                polite.send(Message::text("Pong")).unwrap();
            }
            Some(Event::Closed(why)) => panic!("polite client dropped: {why}"),
            _ => {}
        }
    }
    assert!(pings >= 3, "pings every 100 ms, got {pings}");
    let mut silent_pings = 0;
    let closed = loop {
        match next_event(&mut silent, T) {
            Some(Event::Ping) => silent_pings += 1,
            Some(Event::Closed(why)) => break why,
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("silent client was never dropped"),
        }
    };
    assert!(silent_pings >= 1, "closed ({closed}) after pings");
    // The polite one still gets answers.
    assert_eq!(
        subscribe(&mut polite, "still-here", "BTC-USDT@trade")["code"],
        0
    );
}

#[test]
fn user_stream_rejects_subscriptions_and_unknown_paths_are_404() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let key = c.listen_key();
    let mut ws = c.ws(&format!("/swap-market?listenKey={key}"));
    let ack = subscribe(&mut ws, "x", "BTC-USDT@trade");
    assert_eq!(ack["code"], 80_014);
    let r = c.raw(
        "GET",
        "/other",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
        "",
    );
    assert_eq!(r.status, 404);
}

#[test]
fn tls_websocket_carries_gzip_frames() {
    let dir = tempfile::tempdir().unwrap();
    let sim = manual(SimConfig {
        tls: true,
        cert_out: Some(dir.path().join("c.pem")),
        ..SimConfig::default()
    });
    assert!(sim.ws_url().starts_with("wss://"));
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "tls", "BTC-USDT@trade")["code"], 0);
    sim.inject_trade("60200.0", "0.0010", true).unwrap();
    let v = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@trade");
    assert_eq!(v["data"][0]["m"], true);
}

fn write_klines(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("klines.csv");
    let mut text = String::new();
    for i in 0..5i64 {
        let t = 1_746_372_780_000 + i * 60_000;
        let o = 95_500 + i * 10;
        text.push_str(&format!(
            "{t},{o}.0,{}.5,{}.0,{}.5,12.5,{},0,0,0,0,0\n",
            o + 20,
            o - 20,
            o + 5,
            t + 59_999
        ));
    }
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn max_speed_replays_a_klines_file_newest_trade_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_klines(dir.path());
    // The default one-day warm-up is capped at half the file (2 of its 5 minutes).
    let sim = Simulator::start(SimConfig {
        data: Some(data),
        speed: Speed::Max,
        ..SimConfig::default()
    })
    .unwrap();
    let c = Client::new(&sim);
    let warm = c.public(
        "/openApi/swap/v3/quote/klines",
        "symbol=BTC-USDT&interval=1m",
    );
    let warm_bars = warm["data"].as_array().unwrap().len();
    assert!((2..=3).contains(&warm_bars), "warm-up bars: {warm}");
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "r", "BTC-USDT@trade")["code"], 0);
    let mut trades = 0;
    let mut highest = 0.0f64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while trades < 15 && Instant::now() < deadline {
        let v = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@trade");
        let data = v["data"].as_array().unwrap();
        let times: Vec<i64> = data.iter().map(|t| t["T"].as_i64().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
        for t in data {
            let p: f64 = t["p"].as_str().unwrap().parse().unwrap();
            assert!(
                (95_470.0..=95_560.0).contains(&p),
                "price {p} from the file"
            );
            highest = highest.max(p);
        }
        trades += data.len();
    }
    assert!(trades >= 15, "replayed {trades} trades");
    assert!(
        highest > 95_500.0,
        "the replay moves up through the file: {highest}"
    );
    let klines = c.public(
        "/openApi/swap/v3/quote/klines",
        "symbol=BTC-USDT&interval=1m",
    );
    assert!(
        !klines["data"].as_array().unwrap().is_empty(),
        "REST klines come from the same market"
    );
}

#[test]
fn generated_market_streams_in_real_time_multiples() {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Times(20.0),
        warmup_minutes: 2,
        seed: 7,
        ..SimConfig::default()
    })
    .unwrap();
    let c = Client::new(&sim);
    let hist = c.public(
        "/openApi/swap/v3/quote/klines",
        "symbol=BTC-USDT&interval=1m",
    );
    assert!(
        hist["data"].as_array().unwrap().len() >= 2,
        "warm-up history: {hist}"
    );
    let mut ws = c.ws("/swap-market");
    assert_eq!(subscribe(&mut ws, "g", "BTC-USDT@trade")["code"], 0);
    let v = next_json(&mut ws, T, |v| v["dataType"] == "BTC-USDT@trade");
    assert!(!v["data"].as_array().unwrap().is_empty());
    assert!(sim.last_price().is_some());
}
