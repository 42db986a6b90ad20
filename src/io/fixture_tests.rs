//! Every `bingx-samples/rest_*.json` fixture parses into its DTO; the test
//! counts them so a new fixture without a parser fails loudly.

use serde::de::DeserializeOwned;

use crate::io::dto::{
    check_envelope, parse_bare, parse_data, BookTickerData, Contract, Depth, Kline, OneOrMany,
    PremiumIndex, PriceTicker, RecentTrade, ServerTime, Ticker24h,
};
use crate::io::dto_trade::{
    BalanceData, CancelAllAfter, CancelAllResult, CloseAllResult, Leverage, LeverageSet, ListenKey,
    MarginTypeData, OrderData, OrderList, Position, PositionModeData,
};
use crate::io::error::{ExchangeCode, RestError};

fn data<T: DeserializeOwned>(body: &[u8]) -> Result<(), RestError> {
    check_envelope("fixture", body, 200)?;
    parse_data::<T>("fixture", body).map(|_| ())
}

fn errors(body: &[u8]) -> Result<(), RestError> {
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| RestError::Decode {
            endpoint: "fixture",
            detail: e.to_string(),
        })?;
    assert_eq!(list.len(), 6);
    for item in list {
        let body = serde_json::to_vec(&item["body"]).unwrap();
        let err = check_envelope("fixture", &body, 200).unwrap_err();
        let kind = err.exchange_code().unwrap();
        assert_ne!(kind, ExchangeCode::Undocumented, "{err}");
    }
    Ok(())
}

type Check = fn(&[u8]) -> Result<(), RestError>;

fn parser_for(name: &str) -> Option<Check> {
    let f: Check = match name {
        "rest_all_orders_ccxt.json" | "rest_open_orders.json" => data::<OrderList>,
        "rest_balance_v2_doc.json" | "rest_balance_v3_ccxt.json" | "rest_balance_v3_real.json" => {
            data::<BalanceData>
        }
        "rest_book_ticker.json" => data::<BookTickerData>,
        "rest_cancel_all_after.json" => data::<CancelAllAfter>,
        "rest_cancel_all_doc.json" => data::<CancelAllResult>,
        "rest_close_all_positions_ccxt.json" => data::<CloseAllResult>,
        "rest_contracts.json" => data::<Vec<Contract>>,
        "rest_depth.json" | "rest_depth_ccxt_2025.json" => data::<Depth>,
        "rest_error_examples.json" => errors,
        "rest_klines_v3.json" => data::<OneOrMany<Kline>>,
        "rest_leverage_get.json" => data::<Leverage>,
        "rest_leverage_set.json" => data::<LeverageSet>,
        "rest_listen_key_create.json" => {
            |b: &[u8]| parse_bare::<ListenKey>("fixture", b).map(|_| ())
        }
        "rest_margin_type_get.json" | "rest_margin_type_get_ccxt.json" => data::<MarginTypeData>,
        "rest_margin_type_set.json" => |b: &[u8]| check_envelope("fixture", b, 200),
        "rest_place_order_ccxt.json"
        | "rest_place_order_doc.json"
        | "rest_place_order_flat_variant_ccxt.json"
        | "rest_place_order_take_profit_market_ccxt.json"
        | "rest_query_order_doc.json"
        | "rest_query_order_filled_ccxt.json"
        | "rest_query_order_stop_market_ccxt.json"
        | "rest_cancel_order_doc.json" => data::<OrderData>,
        "rest_position_mode_get.json" => data::<PositionModeData>,
        "rest_positions_ccxt.json" | "rest_positions_doc.json" => data::<Vec<Position>>,
        "rest_premium_index_ccxt.json" => data::<PremiumIndex>,
        "rest_price_v1.json" => data::<PriceTicker>,
        "rest_server_time.json" => data::<ServerTime>,
        "rest_ticker_24h.json" => data::<Ticker24h>,
        "rest_trades.json" => data::<Vec<RecentTrade>>,
        _ => return None,
    };
    Some(f)
}

#[test]
fn every_rest_fixture_parses_into_its_dto() {
    let Some(dir) = bingx_sim::testdata::shared_file("bingx-samples") else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rest_") && n.ends_with(".json"))
        .collect();
    names.sort();
    let mut parsed = 0;
    for name in &names {
        let parse = parser_for(name).unwrap_or_else(|| panic!("no DTO mapped for fixture {name}"));
        let body = std::fs::read(dir.join(name)).unwrap();
        parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        parsed += 1;
    }
    assert_eq!(parsed, names.len());
    assert_eq!(parsed, 36, "the sample set has 36 REST fixtures");
}

#[test]
fn fixture_order_ids_above_2_pow_53_are_exact() {
    let Some(path) =
        bingx_sim::testdata::shared_file("bingx-samples/rest_query_order_filled_ccxt.json")
    else {
        return;
    };
    let body = std::fs::read(path).unwrap();
    let order = parse_data::<OrderData>("fixture", &body)
        .unwrap()
        .into_order();
    assert_eq!(order.order_id, 1_770_683_446_830_788_608);
    assert!(order.order_id > (1u64 << 53));
}
