//! REST endpoints of the simulator: authentication, envelopes and documented shapes.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod util;

use bingx_sim::SimConfig;
use serde_json::Value;
use util::{manual, sign, Client, KEY};

const ORDER: &str = "/openApi/swap/v2/trade/order";

fn has_keys(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
}

#[test]
fn signature_is_accepted_and_bad_credentials_get_documented_codes() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let ok = c.signed("GET", "/openApi/swap/v3/user/balance", &[]);
    assert_eq!(ok["code"], 0);
    assert_eq!(ok["msg"], "");

    let wrong = Client {
        secret: "not-the-secret".into(),
        ..Client::new(&sim)
    };
    let v = wrong.signed("GET", "/openApi/swap/v3/user/balance", &[]);
    assert_eq!(v["code"], 100_001, "{v}");

    let bad_key = Client {
        key: "other-key".into(),
        ..Client::new(&sim)
    };
    let v = bad_key.signed("GET", "/openApi/swap/v3/user/balance", &[]);
    assert_eq!(v["code"], 100_413, "{v}");

    let stale = (util::now_ms() - 60_000).to_string();
    let v = c.signed(
        "GET",
        "/openApi/swap/v3/user/balance",
        &[("timestamp", &stale)],
    );
    assert_eq!(v["code"], 100_421, "{v}");
    // A wide recvWindow accepts the same timestamp.
    let v = c.signed(
        "GET",
        "/openApi/swap/v3/user/balance",
        &[("timestamp", &stale), ("recvWindow", "120000")],
    );
    assert_eq!(v["code"], 0, "{v}");

    let q = c.query(&[]);
    let r = c.raw(
        "GET",
        &format!("/openApi/swap/v3/user/balance?{q}"),
        &[("X-BX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.json()["code"], 100_412);

    // Tampering with a parameter after signing breaks the signature.
    let q = c.query(&[("symbol", "BTC-USDT")]);
    let sig = sign(util::SECRET, &q);
    let tampered = q.replace("BTC-USDT", "ETH-USDT");
    let r = c.raw(
        "GET",
        &format!("/openApi/swap/v2/user/positions?{tampered}&signature={sig}"),
        &[("X-BX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.json()["code"], 100_001);
}

#[test]
fn form_body_and_split_requests_verify_like_the_doc_example() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let ts = util::now_ms().to_string();
    let query = format!("symbol=BTC-USDT&timestamp={ts}");
    let body = "side=LONG&leverage=6";
    let sig = sign(util::SECRET, &format!("{query}{body}"));
    let r = c.raw(
        "POST",
        &format!("/openApi/swap/v2/trade/leverage?{query}"),
        &[
            ("X-BX-APIKEY", KEY),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("{body}&signature={sig}"),
    );
    let v = r.json();
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["data"]["leverage"], 6);
}

#[test]
fn public_market_endpoints_return_documented_shapes() {
    let sim = manual(SimConfig::default());
    sim.inject_trade("60010.5", "0.0200", true).unwrap();
    let c = Client::new(&sim);
    let t = c.public("/openApi/swap/v2/server/time", "");
    assert!(t["data"]["serverTime"].as_i64().unwrap() > 1_600_000_000_000);

    let contracts = c.public("/openApi/swap/v2/quote/contracts", "");
    let row = &contracts["data"][0];
    has_keys(
        row,
        &[
            "contractId",
            "symbol",
            "quantityPrecision",
            "pricePrecision",
            "takerFeeRate",
            "makerFeeRate",
            "tradeMinQuantity",
            "tradeMinUSDT",
            "apiStateOpen",
        ],
    );
    assert_eq!(row["symbol"], "BTC-USDT");
    assert_eq!(row["pricePrecision"], 1);
    assert_eq!(row["apiStateOpen"], "true");

    let price = c.public("/openApi/swap/v1/ticker/price", "symbol=BTC-USDT");
    assert_eq!(price["data"]["price"], "60010.5");
    assert!(price["data"]["time"].is_i64());

    let ticker = c.public("/openApi/swap/v2/quote/ticker", "symbol=BTC-USDT");
    has_keys(
        &ticker["data"],
        &[
            "priceChange",
            "priceChangePercent",
            "lastPrice",
            "lastQty",
            "highPrice",
            "lowPrice",
            "volume",
            "quoteVolume",
            "openPrice",
            "openTime",
            "closeTime",
            "askPrice",
            "bidPrice",
        ],
    );
    assert_eq!(ticker["data"]["volume"], "0.0300");

    let book = c.public("/openApi/swap/v2/quote/bookTicker", "symbol=BTC-USDT");
    let bt = &book["data"]["book_ticker"];
    assert!(bt["bid_price"].is_f64() && bt["ask_price"].is_f64(), "{bt}");
    assert_eq!(
        bt["bid_price"].as_f64(),
        Some(60_010.5),
        "the sell hit the bid"
    );

    let depth = c.public("/openApi/swap/v2/quote/depth", "symbol=BTC-USDT&limit=5");
    let asks = depth["data"]["asks"].as_array().unwrap();
    let bids = depth["data"]["bids"].as_array().unwrap();
    assert_eq!((asks.len(), bids.len()), (5, 5));
    assert_eq!(asks[4][0], "60010.6", "best ask is the last element");
    assert_eq!(bids[0][0], "60010.5");
    assert!(depth["data"]["T"].is_i64());

    let klines = c.public(
        "/openApi/swap/v3/quote/klines",
        "symbol=BTC-USDT&interval=1m&limit=10",
    );
    let bar = &klines["data"][0];
    has_keys(bar, &["open", "close", "high", "low", "volume", "time"]);
    assert_eq!(bar["high"], "60010.5");
    assert_eq!(bar["low"], "60000.0");

    let trades = c.public("/openApi/swap/v2/quote/trades", "symbol=BTC-USDT&limit=5");
    assert_eq!(trades["data"][0]["price"], "60010.5", "newest first");
    assert_eq!(trades["data"][0]["isBuyerMaker"], true);

    let prem = c.public("/openApi/swap/v2/quote/premiumIndex", "symbol=BTC-USDT");
    assert_eq!(prem["data"]["markPrice"], "60010.5");

    let bad = c.public(
        "/openApi/swap/v3/quote/klines",
        "symbol=BTC-USDT&interval=7m",
    );
    assert_eq!(bad["code"], 109_400);
    let other = c.public("/openApi/swap/v2/quote/depth", "symbol=DOGE-USDT");
    assert_eq!(other["code"], 109_400);
    assert_eq!(c.raw("GET", "/nope", &[], "").status, 404);
}

#[test]
fn account_endpoints_return_documented_shapes() {
    let sim = manual(SimConfig {
        initial_balance: 5_000.0,
        ..SimConfig::default()
    });
    let c = Client::new(&sim);
    let bal = c.ok("GET", "/openApi/swap/v3/user/balance", &[]);
    let usdt = bal
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset"] == "USDT")
        .unwrap()
        .clone();
    has_keys(
        &usdt,
        &[
            "balance",
            "equity",
            "unrealizedProfit",
            "realisedProfit",
            "availableMargin",
            "usedMargin",
            "freezedMargin",
        ],
    );
    assert_eq!(usdt["balance"], "5000.0000");
    assert_eq!(usdt["freezedMargin"], "0.0000");
    let legacy = c.ok("GET", "/openApi/swap/v2/user/balance", &[]);
    assert_eq!(legacy["balance"]["asset"], "USDT");

    assert_eq!(
        c.ok(
            "GET",
            "/openApi/swap/v2/user/positions",
            &[("symbol", "BTC-USDT")]
        ),
        serde_json::json!([])
    );

    let lev = c.ok(
        "GET",
        "/openApi/swap/v2/trade/leverage",
        &[("symbol", "BTC-USDT")],
    );
    assert_eq!(
        (
            lev["longLeverage"].as_i64(),
            lev["maxLongLeverage"].as_i64()
        ),
        (Some(10), Some(125))
    );
    let set = c.ok(
        "POST",
        "/openApi/swap/v2/trade/leverage",
        &[("symbol", "BTC-USDT"), ("side", "SHORT"), ("leverage", "7")],
    );
    assert_eq!(
        set,
        serde_json::json!({"leverage": 7, "symbol": "BTC-USDT"})
    );
    let v = c.signed(
        "POST",
        "/openApi/swap/v2/trade/leverage",
        &[
            ("symbol", "BTC-USDT"),
            ("side", "LONG"),
            ("leverage", "200"),
        ],
    );
    assert_eq!(v["code"], 101_414);
    let v = c.signed(
        "POST",
        "/openApi/swap/v2/trade/leverage",
        &[("symbol", "BTC-USDT"), ("side", "BOTH"), ("leverage", "5")],
    );
    assert_eq!(v["code"], 109_400, "BOTH is refused in hedge mode");

    let mt = c.ok(
        "GET",
        "/openApi/swap/v2/trade/marginType",
        &[("symbol", "BTC-USDT")],
    );
    assert_eq!(mt["marginType"], "CROSSED");
    let set = c.signed(
        "POST",
        "/openApi/swap/v2/trade/marginType",
        &[("symbol", "BTC-USDT"), ("marginType", "ISOLATED")],
    );
    assert_eq!(set, serde_json::json!({"code": 0, "msg": ""}));
    assert_eq!(
        c.ok(
            "GET",
            "/openApi/swap/v2/trade/marginType",
            &[("symbol", "BTC-USDT")]
        )["marginType"],
        "ISOLATED"
    );

    let mode = c.ok("GET", "/openApi/swap/v1/positionSide/dual", &[]);
    assert_eq!(mode["dualSidePosition"], "true");
    let mode = c.ok(
        "POST",
        "/openApi/swap/v1/positionSide/dual",
        &[("dualSidePosition", "false")],
    );
    assert_eq!(mode["dualSidePosition"], "false");
    let v = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0010"),
        ],
    );
    assert_eq!(v["code"], 109_400, "LONG is refused in one-way mode: {v}");

    let caa = c.ok(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "ACTIVATE"), ("timeOut", "30")],
    );
    assert_eq!(caa["status"], "ACTIVATED");
    assert!(caa["triggerTime"].is_i64());
    let armed = sim.dead_man();
    assert_eq!(
        (armed.activations, armed.closes, armed.last_timeout),
        (1, 0, 30)
    );
    assert!(armed.deadline_ms.is_some(), "{armed:?}");
    let caa = c.ok(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "CLOSE")],
    );
    assert_eq!(caa["status"], "CLOSED");
    let v = c.signed(
        "POST",
        "/openApi/swap/v2/trade/cancelAllAfter",
        &[("type", "ACTIVATE"), ("timeOut", "5")],
    );
    assert_eq!(v["code"], 109_400);
    let closed = sim.dead_man();
    assert_eq!(
        (
            closed.activations,
            closed.closes,
            closed.deadline_ms,
            closed.fired
        ),
        (1, 1, None, 0),
        "a refused activation is not counted"
    );
}

#[test]
fn orders_can_be_placed_queried_listed_and_cancelled() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let placed = c.ok(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "59000.0"),
            ("quantity", "0.0010"),
            ("timeInForce", "GTC"),
            ("clientOrderID", "MM-000001"),
        ],
    );
    let o = &placed["order"];
    has_keys(
        o,
        &[
            "symbol",
            "orderId",
            "side",
            "positionSide",
            "type",
            "clientOrderID",
            "workingType",
            "status",
        ],
    );
    assert!(o["orderId"].is_u64(), "order id is a JSON number: {o}");
    let id = o["orderId"].as_u64().unwrap();
    assert!(
        id > 1 << 53 && id.to_string().len() == 19,
        "19-digit id above 2^53: {id}"
    );
    assert_eq!(
        o["clientOrderID"], "mm-000001",
        "client ids are lower-cased"
    );
    assert_eq!(o["status"], "PENDING");

    let dup = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "59000.0"),
            ("quantity", "0.0010"),
            ("clientOrderId", "mm-000001"),
        ],
    );
    assert_eq!(dup["code"], 101_481, "{dup}");

    let by_id = c.ok(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &id.to_string())],
    );
    let q = &by_id["order"];
    has_keys(
        q,
        &[
            "origQty",
            "price",
            "executedQty",
            "avgPrice",
            "cumQuote",
            "stopPrice",
            "profit",
            "commission",
            "status",
            "time",
            "updateTime",
            "clientOrderId",
            "leverage",
            "workingType",
        ],
    );
    assert_eq!(q["orderId"].as_u64(), Some(id));
    assert_eq!(q["price"], "59000.0");
    assert!(q["time"].is_i64());
    let by_cid = c.ok(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("clientOrderID", "MM-000001")],
    );
    assert_eq!(by_cid["order"]["orderId"].as_u64(), Some(id));

    let open = c.ok(
        "GET",
        "/openApi/swap/v2/trade/openOrders",
        &[("symbol", "BTC-USDT")],
    );
    assert_eq!(open["orders"].as_array().unwrap().len(), 1);

    let cancelled = c.ok(
        "DELETE",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &id.to_string())],
    );
    assert_eq!(cancelled["order"]["status"], "CANCELLED");
    let again = c.signed(
        "DELETE",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", &id.to_string())],
    );
    assert_eq!(again["code"], 109_421);
    let missing = c.signed(
        "GET",
        ORDER,
        &[("symbol", "BTC-USDT"), ("orderId", "1234567890123456789")],
    );
    assert_eq!(missing["code"], 109_421);

    for i in 0..3 {
        let px = format!("5800{i}.0");
        c.ok(
            "POST",
            ORDER,
            &[
                ("symbol", "BTC-USDT"),
                ("side", "BUY"),
                ("positionSide", "LONG"),
                ("type", "LIMIT"),
                ("price", &px),
                ("quantity", "0.0010"),
            ],
        );
    }
    let all = c.ok(
        "DELETE",
        "/openApi/swap/v2/trade/allOpenOrders",
        &[("symbol", "BTC-USDT")],
    );
    let success = all["success"].as_array().unwrap();
    assert_eq!(success.len(), 3);
    assert!(success.iter().all(|o| o["status"] == "CANCELLED"));
    assert!(all["failed"].is_null());
    assert!(
        c.ok("GET", "/openApi/swap/v2/trade/openOrders", &[])["orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let bad_precision = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.00015"),
        ],
    );
    assert_eq!(bad_precision["code"], 109_400);
    let tiny = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "0.0000"),
        ],
    );
    assert_eq!(tiny["code"], 109_400);
    let small_notional = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("price", "100.0"),
            ("quantity", "0.0010"),
        ],
    );
    assert_eq!(small_notional["code"], 110_425);
    let too_big = c.signed(
        "POST",
        ORDER,
        &[
            ("symbol", "BTC-USDT"),
            ("side", "BUY"),
            ("positionSide", "LONG"),
            ("type", "MARKET"),
            ("quantity", "50.0000"),
        ],
    );
    assert_eq!(too_big["code"], 101_204, "insufficient margin: {too_big}");
}

#[test]
fn listen_keys_are_created_extended_and_deleted() {
    let sim = manual(SimConfig::default());
    let c = Client::new(&sim);
    let key = c.listen_key();
    assert_eq!(key.len(), 64);
    let no_key = c.raw("POST", "/openApi/user/auth/userDataStream", &[], "");
    assert_eq!(no_key.json()["code"], 100_413);
    let path = format!("/openApi/user/auth/userDataStream?listenKey={key}");
    assert_eq!(c.raw("PUT", &path, &[("X-BX-APIKEY", KEY)], "").status, 200);
    assert_eq!(
        c.raw("DELETE", &path, &[("X-BX-APIKEY", KEY)], "").status,
        200
    );
    assert_eq!(c.raw("PUT", &path, &[("X-BX-APIKEY", KEY)], "").status, 404);
    assert_eq!(
        c.raw("PUT", "/openApi/user/auth/userDataStream", &[], "")
            .status,
        204
    );
}

#[test]
fn tls_serves_rest_with_the_written_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sim.pem");
    let sim = manual(SimConfig {
        tls: true,
        cert_out: Some(cert.clone()),
        ..SimConfig::default()
    });
    assert!(sim.rest_base().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(Some(pem.as_str()), sim.cert_pem());
    let c = Client::new(&sim);
    assert!(c.tls.is_some());
    let t = c.public("/openApi/swap/v2/server/time", "");
    assert_eq!(t["code"], 0);
    assert_eq!(
        c.ok("GET", "/openApi/swap/v1/positionSide/dual", &[])["dualSidePosition"],
        "true"
    );
}
