//! Every fault-injection setting of the simulator is observable by a client.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::{FaultConfig, SimConfig};
use std::time::{Duration, Instant};
use tungstenite::Message;
use util::{manual, next_event, subscribe, Client, Event};

fn with_faults(faults: FaultConfig) -> SimConfig {
    SimConfig {
        faults,
        ..SimConfig::default()
    }
}

#[test]
fn delay_holds_every_response_back() {
    let sim = manual(with_faults(FaultConfig {
        delay_ms: 200,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    let start = Instant::now();
    c.public("/openApi/swap/v2/server/time", "");
    // A lower bound only: the sleep guarantees it, so this cannot flake.
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[test]
fn bursts_of_429_carry_a_retry_hint() {
    let sim = manual(with_faults(FaultConfig {
        burst_429: 2,
        burst_429_every: 5,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    let statuses: Vec<u16> = (0..11)
        .map(|_| {
            let r = c.raw("GET", "/openApi/swap/v2/server/time", &[], "");
            if r.status == 429 {
                assert_eq!(r.header("Retry-After"), Some("1"));
                assert_eq!(r.json()["code"], 100_410);
            }
            r.status
        })
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429, 200, 200, 200, 429, 429]
    );
}

#[test]
fn rate_5xx_answers_500_or_504() {
    let sim = manual(with_faults(FaultConfig {
        rate_5xx: 1.0,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    let mut seen = Vec::new();
    for _ in 0..20 {
        let r = c.raw("GET", "/openApi/swap/v2/server/time", &[], "");
        assert!(matches!(r.status, 500 | 504), "status {}", r.status);
        assert!(r.json()["code"].as_i64().unwrap() > 0);
        seen.push(r.status);
    }
    assert!(seen.contains(&500) && seen.contains(&504), "{seen:?}");
}

#[test]
fn a_504_executes_the_request_and_a_500_does_not() {
    let sim = manual(with_faults(FaultConfig {
        rate_5xx: 0.5,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    let query = |cid: &str| {
        for _ in 0..100 {
            let r = c.signed_raw(
                "GET",
                "/openApi/swap/v2/trade/order",
                &[("symbol", "BTC-USDT"), ("clientOrderID", cid)],
            );
            if r.status == 200 {
                return r.json()["code"].as_i64().unwrap();
            }
        }
        panic!("no 200 in 100 tries");
    };
    let mut outcomes = Vec::new();
    for i in 0..30 {
        let cid = format!("probe-{i}");
        let r = c.signed_raw(
            "POST",
            "/openApi/swap/v2/trade/order",
            &[
                ("symbol", "BTC-USDT"),
                ("side", "BUY"),
                ("positionSide", "LONG"),
                ("type", "LIMIT"),
                ("price", "59000.0"),
                ("quantity", "0.0010"),
                ("clientOrderID", &cid),
            ],
        );
        outcomes.push((cid, r.status));
    }
    assert!(
        outcomes.iter().any(|(_, s)| *s == 504) && outcomes.iter().any(|(_, s)| *s == 500),
        "{outcomes:?}"
    );
    for (cid, status) in &outcomes {
        let code = query(cid);
        match status {
            200 | 504 => assert_eq!(code, 0, "{cid} ({status}) must exist"),
            500 => assert_eq!(code, 109_421, "{cid} (500) must not exist"),
            other => panic!("unexpected status {other}"),
        }
    }
}

#[test]
fn reject_rate_rejects_orders_with_documented_codes() {
    let sim = manual(with_faults(FaultConfig {
        reject_rate: 1.0,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    for _ in 0..6 {
        let v = c.signed(
            "POST",
            "/openApi/swap/v2/trade/order",
            &[
                ("symbol", "BTC-USDT"),
                ("side", "BUY"),
                ("positionSide", "LONG"),
                ("type", "MARKET"),
                ("quantity", "0.0010"),
            ],
        );
        let code = v["code"].as_i64().unwrap();
        assert!(code == 101_204 || code == 80_012, "{v}");
    }
    assert!(c
        .ok("GET", "/openApi/swap/v2/user/positions", &[])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn malformed_rate_corrupts_market_frames() {
    let sim = manual(with_faults(FaultConfig {
        malformed_rate: 1.0,
        ..FaultConfig::default()
    }));
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    assert_eq!(
        subscribe(&mut ws, "m", "BTC-USDT@trade")["code"],
        0,
        "acks stay well-formed"
    );
    let mut malformed = 0;
    for _ in 0..5 {
        sim.inject_trade("60000.0", "0.0010", false).unwrap();
        match next_event(&mut ws, Duration::from_secs(5)) {
            Some(Event::Malformed(_)) => malformed += 1,
            Some(Event::Ping) => ws.send(Message::text("Pong")).unwrap(),
            other => panic!("expected a malformed frame, got {other:?}"),
        }
    }
    assert!(malformed >= 4);
}

#[test]
fn drop_ws_every_cuts_connections_that_answer_pings() {
    let cfg = SimConfig {
        ping_interval_ms: 100,
        ..with_faults(FaultConfig {
            drop_ws_every_ms: Some(300),
            ..FaultConfig::default()
        })
    };
    let sim = manual(cfg);
    let c = Client::new(&sim);
    let mut ws = c.ws("/swap-market");
    let start = Instant::now();
    let why = loop {
        match next_event(&mut ws, Duration::from_secs(5)) {
            Some(Event::Ping) => ws.send(Message::text("Pong")).unwrap(),
            Some(Event::Closed(why)) => break why,
            Some(_) => {}
            None => panic!("connection was not dropped"),
        }
    };
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "dropped too early: {why}"
    );
    // A new connection works again.
    let mut again = c.ws("/swap-market");
    assert_eq!(subscribe(&mut again, "again", "BTC-USDT@trade")["code"], 0);
}
