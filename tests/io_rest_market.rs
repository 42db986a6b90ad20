//! Market-data endpoints of the REST client against the scripted loopback
//! server, answered with the real fixtures from `bingx-samples`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

mod util;

use std::time::Duration;

use trading_engine::io::clock::ManualClock;
use trading_engine::io::error::MarketDataError;
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::rest_market::KlineInterval;
use trading_engine::io::wire::price_from_text;
use trading_engine::types::{DecimalStep, Price, Qty, SymbolId};
use util::server::{Reply, TestServer};
use util::{fixture, KEY, SECRET};

fn client(server: &TestServer, clock: &ManualClock) -> RestClient<ManualClock> {
    let mut cfg = RestConfig::new(&server.url(), KEY, SECRET);
    cfg.http.request_timeout = Duration::from_secs(5);
    RestClient::with_clock(cfg, clock.clone()).unwrap()
}

/// Serves `body` for every request.
fn serving(body: String) -> TestServer {
    TestServer::start(SECRET, move |_| Reply::json(&body))
}

fn p(text: &str) -> Price {
    price_from_text(text).unwrap()
}

#[test]
fn server_time_estimates_the_clock_offset_from_the_fixture() {
    let Some(body) = fixture("rest_server_time.json") else {
        return;
    };
    let server = serving(body);
    let clock = ManualClock::new(1_675_319_530_000);
    let mut c = client(&server, &clock);
    let skew = c.server_time().unwrap();
    assert_eq!(skew.server_time_ms, 1_675_319_535_362);
    assert_eq!(skew.offset_ms, 5_362);
    assert_eq!(c.timestamp_ms(), 1_675_319_535_362);
    let r = &server.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/openApi/swap/v2/server/time")
    );
    assert_eq!(r.query, "");
    assert_eq!(
        r.header("X-BX-APIKEY"),
        None,
        "public endpoints send no key"
    );
}

#[test]
fn contracts_build_the_symbol_table_rules() {
    let Some(body) = fixture("rest_contracts.json") else {
        return;
    };
    let server = serving(body);
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let table = c.load_symbols(&["ETH-USDT", "BTC-USDT"]).unwrap();
    assert_eq!(table.id_of("BTC-USDT"), Some(SymbolId(1)));
    let btc = table.get(SymbolId(1)).unwrap();
    assert_eq!(btc.rules.tick, DecimalStep::from_precision(1));
    assert_eq!(btc.rules.step, DecimalStep::from_precision(4));
    assert_eq!(btc.rules.min_qty, Qty::from_decimal(1, 4).unwrap());
    assert_eq!(btc.rules.min_notional, p("2"));
    let eth = table.get(SymbolId(0)).unwrap();
    assert_eq!(eth.rules.tick, DecimalStep::from_precision(2));
    assert_eq!(eth.rules.min_qty, Qty::from_decimal(1, 2).unwrap());
    assert!(matches!(
        c.load_symbols(&["DOGE-USDT"]),
        Err(MarketDataError::InvalidArgument(_))
    ));
    assert_eq!(
        server.requests()[0].path,
        "/openApi/swap/v2/quote/contracts"
    );
}

#[test]
fn price_ticker_and_book_ticker_parse_their_fixtures() {
    let (Some(price), Some(ticker), Some(book)) = (
        fixture("rest_price_v1.json"),
        fixture("rest_ticker_24h.json"),
        fixture("rest_book_ticker.json"),
    ) else {
        return;
    };
    let server = TestServer::start(SECRET, move |r| {
        Reply::json(match r.path.as_str() {
            "/openApi/swap/v1/ticker/price" => &price,
            "/openApi/swap/v2/quote/ticker" => &ticker,
            _ => &book,
        })
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let t = c.price("TIA-USDT").unwrap();
    assert_eq!(
        (t.symbol.as_str(), t.price, t.time_ms),
        ("TIA-USDT", p("14.0658"), 1_702_718_922_941)
    );
    let t = c.ticker_24h("SFP-USDT").unwrap();
    assert_eq!(t.last_price, p("0.7409"));
    assert_eq!(t.bid_qty, Qty::from_decimal(84, 0).unwrap());
    let b = c.book_ticker("BTC-USDT").unwrap();
    assert_eq!(b.bid_price, p("42211.1"));
    assert_eq!(b.ask_price, p("42211.8"));
    assert_eq!(b.ask_qty, Qty::from_decimal(128_854, 0).unwrap());
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/openApi/swap/v1/ticker/price",
            "/openApi/swap/v2/quote/ticker",
            "/openApi/swap/v2/quote/bookTicker"
        ]
    );
    assert_eq!(server.requests()[0].query, "symbol=TIA-USDT");
    assert_eq!(c.http_stats().connects, 1, "one kept-alive connection");
}

#[test]
fn depth_is_sorted_best_first_and_limit_is_checked() {
    let Some(body) = fixture("rest_depth_ccxt_2025.json") else {
        return;
    };
    let server = serving(body);
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let d = c.depth("BTC-USDT", 5).unwrap();
    assert_eq!(d.time_ms, 1_743_240_836_255);
    assert_eq!(d.bids[0].0, p("83760.7"));
    assert_eq!(d.asks[0].0, p("83780.1"), "best ask first after sorting");
    assert!(d.asks.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(server.requests()[0].query, "limit=5&symbol=BTC-USDT");
    assert!(matches!(
        c.depth("BTC-USDT", 7),
        Err(MarketDataError::InvalidArgument(_))
    ));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn klines_trades_and_premium_index_parse_their_fixtures() {
    let (Some(kl), Some(tr), Some(pi)) = (
        fixture("rest_klines_v3.json"),
        fixture("rest_trades.json"),
        fixture("rest_premium_index_ccxt.json"),
    ) else {
        return;
    };
    let server = TestServer::start(SECRET, move |r| {
        Reply::json(match r.path.as_str() {
            "/openApi/swap/v3/quote/klines" => &kl,
            "/openApi/swap/v2/quote/trades" => &tr,
            _ => &pi,
        })
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let k = c
        .klines("BTC-USDT", KlineInterval::M1, Some(1), Some(2), 100)
        .unwrap();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].open_time_ms, 1_702_717_200_000);
    assert_eq!(k[0].close, p("0.7065"));
    assert_eq!(
        server.requests()[0].query,
        "endTime=2&interval=1m&limit=100&startTime=1&symbol=BTC-USDT"
    );
    let t = c.recent_trades("BTC-USDT", 10).unwrap();
    assert_eq!(t.len(), 10);
    assert_eq!(t[0].price, p("42214.0"));
    assert_eq!(t[0].aggressor(), trading_engine::types::Side::Sell);
    let x = c.premium_index("BTC-USDT").unwrap();
    assert_eq!(x.mark_price, p("104701.1"));
    assert_eq!(x.next_funding_time, 1_749_830_400_000);
}

#[test]
fn klines_range_pages_forward_until_the_end_time() {
    const MIN: i64 = 60_000;
    let start = 1_700_000_000_000 - 1_700_000_000_000 % MIN;
    let end = start + 3000 * MIN;
    // A server with one bar per minute that honours startTime/endTime/limit
    // and answers newest first, to prove the client sorts.
    let server = TestServer::start(SECRET, move |r| {
        let s: i64 = r.param("startTime").unwrap().parse().unwrap();
        let e: i64 = r.param("endTime").unwrap().parse().unwrap();
        let limit: usize = r.param("limit").unwrap().parse().unwrap();
        let first = (s + MIN - 1) / MIN * MIN;
        let bars: Vec<String> = (0..)
            .map(|i| first + i * MIN)
            .take_while(|t| *t <= e)
            .take(limit)
            .map(|t| {
                format!(
                    r#"{{"open":"1","close":"2","high":"3","low":"0.5","volume":"7","time":{t}}}"#
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Reply::json(&format!(
            r#"{{"code":0,"msg":"","data":[{}]}}"#,
            bars.join(",")
        ))
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    let all = c
        .klines_range("BTC-USDT", KlineInterval::M1, start, end)
        .unwrap();
    assert_eq!(all.len(), 3001);
    assert!(all
        .windows(2)
        .all(|w| w[1].open_time_ms - w[0].open_time_ms == MIN));
    assert_eq!(all[0].open_time_ms, start);
    assert_eq!(all[3000].open_time_ms, end);
    assert_eq!(server.requests().len(), 3);
    assert!(c
        .klines_range("BTC-USDT", KlineInterval::M1, end, start)
        .is_err());
}

#[test]
fn transient_server_errors_on_market_data_are_retried() {
    let Some(body) = fixture("rest_price_v1.json") else {
        return;
    };
    let mut n = 0;
    let server = TestServer::start(SECRET, move |_| {
        n += 1;
        if n == 1 {
            Reply::status_json(503, "busy")
        } else {
            Reply::json(&body)
        }
    });
    let clock = ManualClock::new(0);
    let mut c = client(&server, &clock);
    assert_eq!(c.price("TIA-USDT").unwrap().price, p("14.0658"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(200)]);
}
