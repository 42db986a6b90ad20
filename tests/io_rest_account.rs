//! Account and listen-key endpoints against the scripted loopback server,
//! answered with the real fixtures from `bingx-samples`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

mod util;

use std::time::Duration;

use trading_engine::io::clock::ManualClock;
use trading_engine::io::dto_trade::{DeadManStatus, MarginType};
use trading_engine::io::error::{AccountError, ListenKeyError};
use trading_engine::io::order::PositionSide;
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::rest_account::{DeadManSwitch, PositionMode};
use trading_engine::io::wire::{price_from_text, qty_from_text};
use util::server::{Reply, TestServer};
use util::{fixture, KEY, SECRET};

fn client(server: &TestServer, clock: &ManualClock) -> RestClient<ManualClock> {
    let mut cfg = RestConfig::new(&server.url(), KEY, SECRET);
    cfg.http.request_timeout = Duration::from_secs(5);
    RestClient::with_clock(cfg, clock.clone()).unwrap()
}

#[test]
fn positions_and_balances_parse_their_fixtures() {
    let (Some(pos), Some(pos2), Some(bal), Some(bal_v2)) = (
        fixture("rest_positions_doc.json"),
        fixture("rest_positions_ccxt.json"),
        fixture("rest_balance_v3_real.json"),
        fixture("rest_balance_v2_doc.json"),
    ) else {
        return;
    };
    let mut n = 0;
    let server = TestServer::start(SECRET, move |_| {
        n += 1;
        Reply::json(match n {
            1 => &pos,
            2 => &pos2,
            3 => &bal,
            _ => &bal_v2,
        })
    });
    let clock = ManualClock::new(1_700_000_000_000);
    let mut c = client(&server, &clock);
    let p = c.positions(Some("BNB-USDT")).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].side(), Some(PositionSide::Short));
    assert!(p[0].isolated);
    assert_eq!(p[0].leverage, 5);
    assert_eq!(p[0].position_amt, qty_from_text("0.20").unwrap());
    let p = c.positions(None).unwrap();
    assert_eq!(p[0].position_id, "1773289330136281088");
    assert_eq!(p[0].mark_price, price_from_text("95.62").unwrap());
    let b = c.balance().unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].asset, "USDT");
    assert_eq!(b[0].equity, price_from_text("19.9003").unwrap());
    let b = c.balance().unwrap();
    assert_eq!(b[0].balance, price_from_text("15.6128").unwrap());
    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/openApi/swap/v2/user/positions");
    assert_eq!(reqs[0].stable_query(), "recvWindow=5000&symbol=BNB-USDT");
    assert_eq!(reqs[2].path, "/openApi/swap/v3/user/balance");
    // Balance has no parameters: the signed message is recvWindow + timestamp (cf. vector V2).
    assert_eq!(reqs[2].stable_query(), "recvWindow=5000");
    assert!(reqs.iter().all(|r| r.signature_ok == Some(true)));
    assert!(reqs.iter().all(|r| r.header("X-BX-APIKEY") == Some(KEY)));
}

#[test]
fn leverage_margin_type_and_position_mode_round_trip() {
    let (Some(lev), Some(lev_set), Some(mt), Some(mt_set), Some(mode)) = (
        fixture("rest_leverage_get.json"),
        fixture("rest_leverage_set.json"),
        fixture("rest_margin_type_get.json"),
        fixture("rest_margin_type_set.json"),
        fixture("rest_position_mode_get.json"),
    ) else {
        return;
    };
    let server = TestServer::start(SECRET, move |r| {
        Reply::json(match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/openApi/swap/v2/trade/leverage") => &lev,
            ("POST", "/openApi/swap/v2/trade/leverage") => &lev_set,
            ("GET", "/openApi/swap/v2/trade/marginType") => &mt,
            ("POST", "/openApi/swap/v2/trade/marginType") => &mt_set,
            ("GET", _) => &mode,
            _ => r#"{"code":0,"msg":"","data":{"dualSidePosition":"false"}}"#,
        })
    });
    let clock = ManualClock::new(1_700_000_000_789);
    let mut c = client(&server, &clock);
    let l = c.leverage("BTC-USDT").unwrap();
    assert_eq!(
        (l.long_leverage, l.short_leverage, l.max_long_leverage),
        (50, 50, 75)
    );
    let s = c.set_leverage("ETH-USDT", PositionSide::Long, 8).unwrap();
    assert_eq!((s.leverage, s.symbol.as_str()), (8, "ETH-USDT"));
    assert!(matches!(
        c.set_leverage("ETH-USDT", PositionSide::Long, 0),
        Err(AccountError::InvalidArgument(_))
    ));
    assert_eq!(c.margin_type("BTC-USDT").unwrap(), MarginType::Crossed);
    c.set_margin_type("BTC-USDT", MarginType::Isolated).unwrap();
    assert_eq!(c.position_mode().unwrap(), PositionMode::Hedge);
    c.set_position_mode(PositionMode::OneWay).unwrap();
    let q: Vec<String> = server.requests().iter().map(|r| r.stable_query()).collect();
    assert_eq!(q[1], "leverage=8&recvWindow=5000&side=LONG&symbol=ETH-USDT");
    assert_eq!(q[3], "marginType=ISOLATED&recvWindow=5000&symbol=BTC-USDT");
    assert_eq!(q[5], "dualSidePosition=false&recvWindow=5000");
    assert_eq!(
        server.requests()[4].path,
        "/openApi/swap/v1/positionSide/dual"
    );
}

#[test]
fn dead_man_switch_activates_and_validates_its_timeout() {
    let Some(body) = fixture("rest_cancel_all_after.json") else {
        return;
    };
    let server = TestServer::start(SECRET, move |_| Reply::json(&body));
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let r = c
        .cancel_all_after(DeadManSwitch::Activate { timeout_secs: 60 })
        .unwrap();
    assert_eq!(r.status, DeadManStatus::Activated);
    assert_eq!(r.trigger_time, 1_710_389_137);
    assert!(c
        .cancel_all_after(DeadManSwitch::Activate { timeout_secs: 5 })
        .is_err());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/openApi/swap/v2/trade/cancelAllAfter");
    assert_eq!(
        reqs[0].stable_query(),
        "recvWindow=5000&timeOut=60&type=ACTIVATE"
    );
}

#[test]
fn listen_key_lifecycle_uses_the_key_header_and_tolerates_empty_bodies() {
    let Some(body) = fixture("rest_listen_key_create.json") else {
        return;
    };
    let server = TestServer::start(SECRET, move |r| match r.method.as_str() {
        "POST" => Reply::json(&body),
        "PUT" if r.param("listenKey").as_deref() == Some("text") => Reply::status_json(200, "OK"),
        "PUT" if r.param("listenKey").as_deref() == Some("bad") => Reply::code(100_413, "bad key"),
        "PUT" => Reply::status_json(200, ""),
        _ if r.param("listenKey").as_deref() == Some("gone") => Reply::status_json(404, ""),
        _ => Reply::json("{}"),
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let key = c.create_listen_key().unwrap();
    assert_eq!(
        key.listen_key,
        "a8ea75681542e66f1a50a1616dd06ed77dab61baa0c296bca03a9b13ee5f2dd7"
    );
    c.extend_listen_key(&key.listen_key).unwrap();
    c.delete_listen_key(&key.listen_key).unwrap();
    assert!(matches!(
        c.delete_listen_key("gone"),
        Err(ListenKeyError::NotFound)
    ));
    c.extend_listen_key("text").unwrap();
    assert!(matches!(
        c.extend_listen_key("bad"),
        Err(ListenKeyError::Request(_))
    ));
    let reqs = server.requests();
    assert!(reqs
        .iter()
        .all(|r| r.path == "/openApi/user/auth/userDataStream"));
    assert!(reqs.iter().all(|r| r.header("X-BX-APIKEY") == Some(KEY)));
    assert!(
        reqs.iter().all(|r| r.signature_ok.is_none()),
        "listen-key calls are not signed"
    );
    assert_eq!(reqs[1].method, "PUT");
    assert_eq!(reqs[1].query, format!("listenKey={}", key.listen_key));
}
