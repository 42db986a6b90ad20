//! Unit tests of the restart plan: journal checks, paper/dry-run
//! corrections, the engine-stop halt rule and the journal's client prefix.

use super::*;
use crate::core::Command;
use crate::io::order::{ClientOrderId, OrderKind};
use crate::money::Money;
use crate::replay::{client_prefix, recovery_prefix, ReplayCounts};
use crate::types::{Qty, Side, TimestampNs};
use std::path::Path;

fn rebuilt(config: Option<Config>) -> Rebuilt {
    Rebuilt {
        core: None,
        config,
        next_seq: 0,
        orders: Default::default(),
        in_flight: Vec::new(),
        pending_cancels: Vec::new(),
        unjournaled: Vec::new(),
        counts: ReplayCounts::default(),
        session_changes: Vec::new(),
        first_mismatch: None,
        torn: None,
        first_session_ts: None,
        last_market_ts: None,
        intents: Default::default(),
        last_operator: None,
        recovery_stops: Vec::new(),
        recovery_sends: Vec::new(),
        booked: Default::default(),
        started_at: None,
        checkpoint: None,
    }
}

fn cfg() -> Config {
    let mut c = Config::default();
    c.market.symbols = vec!["BTC-USDT".into()];
    c
}

fn order(id: u64, role: OrderRole, exchange: Option<u64>) -> CoreOrder {
    CoreOrder {
        order: OrderId(id),
        symbol: SymbolId(0),
        role,
        side: Side::Sell,
        kind: OrderKind::Market,
        qty: Qty::from_f64(0.01).unwrap(),
        stop_price: Price::ZERO,
        client_order_id: ClientOrderId::from_sequence("te-", id).unwrap(),
        exchange_order_id: exchange,
        cancel_requested: false,
        booked: Default::default(),
    }
}

fn position(stop: Option<u64>) -> CorePosition {
    CorePosition {
        symbol: SymbolId(0),
        side: Side::Buy,
        open_qty: Qty::from_f64(0.01).unwrap(),
        stop: Price::from_f64(90.0).unwrap(),
        stop_order: stop.map(OrderId),
    }
}

#[test]
fn a_journal_of_other_symbols_is_refused_with_a_hint_to_use_a_new_directory() {
    let mut other = cfg();
    other.market.symbols = vec!["ETH-USDT".into()];
    let err = check_journal(&cfg(), &rebuilt(Some(other)), Path::new("/j")).unwrap_err();
    assert!(matches!(err, RecoveryError::SymbolsChanged { .. }), "{err}");
    assert!(err.to_string().contains("new journal directory"), "{err}");
}

#[test]
fn a_non_reloadable_config_change_is_refused_and_a_reloadable_one_reported() {
    let mut moved = cfg();
    moved.exchange.rest_base_url = Some("https://elsewhere.example".into());
    let err = check_journal(&moved, &rebuilt(Some(cfg())), Path::new("/j")).unwrap_err();
    assert!(matches!(err, RecoveryError::ConfigChanged { .. }), "{err}");
    let mut riskier = cfg();
    riskier.risk.max_drawdown_pct += 1.0;
    let changes = check_journal(&riskier, &rebuilt(Some(cfg())), Path::new("/j")).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        check_journal(&cfg(), &rebuilt(Some(cfg())), Path::new("/j"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_paper_restart_cancels_orders_reports_entries_not_placed_and_closes_on_the_stop() {
    let view = CoreView {
        positions: vec![position(Some(7))],
        orders: vec![
            order(7, OrderRole::Stop, Some(70)),
            order(8, OrderRole::Exit, Some(80)),
            order(9, OrderRole::Entry, None),
        ],
        ..CoreView::default()
    };
    let last = Price::from_f64(95.0).unwrap();
    let got = local_corrections(&view, &mut |_| Ok(last)).unwrap();
    assert_eq!(
        got,
        vec![
            Correction::Cancelled {
                order: OrderId(8),
                symbol: SymbolId(0)
            },
            Correction::NotPlaced {
                order: OrderId(9),
                symbol: SymbolId(0)
            },
            Correction::PositionClosedOnExchange {
                symbol: SymbolId(0),
                side: Side::Buy,
                qty: Qty::from_f64(0.01).unwrap(),
                booked_on: Some(OrderId(7)),
                price: last,
                fee: Money::ZERO,
                at: None,
            },
        ]
    );
}

#[test]
fn a_paper_position_without_a_stop_or_a_price_refuses_to_start() {
    let view = CoreView {
        positions: vec![position(None)],
        orders: Vec::new(),
        ..CoreView::default()
    };
    let err = local_corrections(&view, &mut |_| Ok(Price::ZERO)).unwrap_err();
    assert!(matches!(err, RecoveryError::Unprotected { .. }), "{err}");
    let view = CoreView {
        positions: vec![position(Some(7))],
        orders: Vec::new(),
        ..CoreView::default()
    };
    let err = local_corrections(&view, &mut |_| Err("offline".into())).unwrap_err();
    assert!(err.to_string().contains("offline"), "{err}");
}

#[test]
fn only_a_halt_by_the_engine_stop_is_lifted_at_restart() {
    let mut r = rebuilt(None);
    r.last_operator = Some((Command::Halt, OperatorSource::Signal));
    assert!(stopped_by_engine_halt(&r, Some(HaltReason::Command)));
    assert!(!stopped_by_engine_halt(&r, Some(HaltReason::KillSwitch)));
    assert!(!stopped_by_engine_halt(&r, None));
    r.last_operator = Some((Command::Halt, OperatorSource::Control));
    assert!(!stopped_by_engine_halt(&r, Some(HaltReason::Command)));
    r.last_operator = Some((Command::EmergencyStop, OperatorSource::StopFile));
    assert!(!stopped_by_engine_halt(&r, Some(HaltReason::StopFile)));
}

#[test]
fn the_client_prefix_derives_from_the_first_session_and_recovery_prefixes_extend_it() {
    assert_eq!(client_prefix(TimestampNs(36 * 1_000_000_000)), "te10-");
    assert_eq!(client_prefix(TimestampNs(0)), "te0-");
    let p = client_prefix(TimestampNs(1_700_000_000_000_000_000));
    assert_eq!(p, client_prefix(TimestampNs(1_700_000_000_999_999_999)));
    let r = recovery_prefix(&p, 3);
    assert!(r.starts_with(&p) && r.ends_with("r3-"), "{r}");
    assert!(
        ClientOrderId::from_sequence(&format!("{r}s"), u64::from(u32::MAX)).is_some(),
        "recovery ids fit the exchange's length limit"
    );
}

#[test]
fn the_summary_names_records_positions_in_flight_torn_tail_and_mismatch() {
    let mut r = rebuilt(None);
    r.counts.records = 42;
    let line = summary(&r, 1);
    for part in [
        "42 records",
        "0 open positions",
        "0 in-flight",
        "torn tail none",
        "first mismatch none",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
}
