use super::*;
use bingx_sim::testdata::shared_file;

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    for (i, s) in ["BTC-USDT", "LINK-USDT", "LTC-USDT"].iter().enumerate() {
        t.insert(s, SymbolId(i as u16)).unwrap();
    }
    t
}

fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = shared_file(&format!("bingx-samples/{name}"))?;
    Some(std::fs::read(path).unwrap())
}

fn parse_all(json: &[u8]) -> Result<Vec<UserEvent>, UserParseError> {
    let mut v = Vec::new();
    parse_user_event(json, &table(), &mut |e| v.push(e))?;
    Ok(v)
}

#[test]
fn order_trade_update_doc_fixture_keeps_the_19_digit_id_exact() {
    let Some(json) = fixture("ws_user_order_trade_update_doc.json") else {
        return;
    };
    let ev = parse_all(&json).unwrap();
    let [UserEvent::Order(o)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(o.order_id, 1_627_970_445_070_303_232);
    assert_eq!(o.symbol, SymbolId(1));
    assert_eq!(o.side, Side::Sell);
    assert_eq!(o.exec, ExecType::Trade);
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.position_side, Some(PositionSide::Short));
    assert_eq!(o.qty, Qty::from_decimal(5, 0).unwrap());
    assert_eq!(o.avg_price, Price::from_decimal(78269, 4).unwrap());
    assert_eq!(o.fee, Price::from_decimal(-1_369_708, 8).unwrap());
    assert_eq!(o.event_time, TimestampNs::from_ms(1_676_973_375_161));
    assert_eq!(o.trade_time, TimestampNs::from_ms(1_676_973_375_149));
    assert!(!o.trade_update);
    assert_eq!(o.client_order_id, ClientOrderId::EMPTY);
}

#[test]
fn order_id_as_a_string_parses_the_same_way() {
    let Some(json) = fixture("ws_user_order_trade_update_ccxt.json") else {
        return;
    };
    let ev = parse_all(&json).unwrap();
    let [UserEvent::Order(o)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(o.order_id, 1_711_312_357_852_147_712);
    assert_eq!(o.symbol, SymbolId(2));
    assert_eq!(o.filled_qty, Qty::from_decimal(1, 1).unwrap());
    assert_eq!(o.trade_time, TimestampNs(0));
}

#[test]
fn trade_update_is_handled_like_an_order_update_with_its_trade_id() {
    let Some(json) = fixture("ws_user_trade_update.json") else {
        return;
    };
    let ev = parse_all(&json).unwrap();
    let [UserEvent::Order(o)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert!(o.trade_update);
    assert_eq!(o.order_id, 1_970_374_651_259_388_000);
    assert_eq!(o.trade_id, 511_178_071);
    assert_eq!(o.symbol, SymbolId(0));
}

#[test]
fn account_update_yields_one_event_per_balance_and_position() {
    let Some(json) = fixture("ws_user_account_update.json") else {
        return;
    };
    let ev = parse_all(&json).unwrap();
    assert_eq!(ev.len(), 2);
    let UserEvent::Balance(b) = ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(b.asset.as_str(), "USDT");
    assert_eq!(b.reason, UpdateReason::Order);
    assert_eq!(b.wallet, Price::from_decimal(11_780_007_595, 8).unwrap());
    let UserEvent::Position(p) = ev[1] else {
        panic!("{ev:?}")
    };
    assert_eq!(p.symbol, SymbolId(0));
    assert_eq!(p.position_side, Some(PositionSide::Short));
    assert!(!p.isolated);
    for name in [
        "ws_user_account_update_doc.json",
        "ws_user_account_update_ccxt.json",
    ] {
        let Some(json) = fixture(name) else { return };
        assert!(!parse_all(&json).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn account_config_update_and_listen_key_expired_parse() {
    let Some(json) = fixture("ws_user_account_config_update_doc.json") else {
        return;
    };
    let ev = parse_all(&json).unwrap();
    assert_eq!(
        ev,
        vec![UserEvent::Config(ConfigUpdate {
            event_time: TimestampNs::from_ms(1_676_878_489_992),
            symbol: SymbolId(0),
            long_leverage: 12,
            short_leverage: 9,
            isolated: false,
        })]
    );
    let Some(json) = fixture("ws_user_listen_key_expired_doc.json") else {
        return;
    };
    assert_eq!(
        parse_all(&json).unwrap(),
        vec![UserEvent::ListenKeyExpired {
            event_time: TimestampNs::from_ms(1_676_964_520_421)
        }]
    );
}

#[test]
fn bad_messages_are_typed_errors_and_emit_nothing() {
    assert!(matches!(parse_all(b"{"), Err(UserParseError::Json(_))));
    assert!(matches!(
        parse_all(br#"{"e":"SOMETHING","E":1}"#),
        Err(UserParseError::UnknownEvent(_))
    ));
    assert!(matches!(
        parse_all(br#"{"e":"ORDER_TRADE_UPDATE","E":1}"#),
        Err(UserParseError::MissingBody("o"))
    ));
    assert!(matches!(
        parse_all(br#"{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"XRP-USDT","i":1,"S":"BUY"}}"#),
        Err(UserParseError::UnknownSymbol(_))
    ));
    assert!(matches!(
        parse_all(br#"{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"BTC-USDT","i":1,"S":"UP"}}"#),
        Err(UserParseError::BadSide(_))
    ));
    // A fractional id is refused rather than rounded through f64.
    assert!(matches!(
        parse_all(br#"{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"BTC-USDT","i":1.5,"S":"BUY"}}"#),
        Err(UserParseError::Json(_))
    ));
}
