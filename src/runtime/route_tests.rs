//! Tests of the order routing: client ids, requests, the order table.

use super::*;
use crate::io::order::{OrderAck, OrderStatus};
use crate::orders::{OrderPurpose, PositionId};
use crate::types::SymbolId;

fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

fn q(v: f64) -> Qty {
    Qty::from_f64(v).unwrap()
}

fn entry(id: u64) -> OrderIntent {
    OrderIntent {
        id: OrderId(id),
        ..intent(Side::Buy, false, OrderKind::Market)
    }
}

fn intent(side: Side, reduce_only: bool, kind: OrderKind) -> OrderIntent {
    OrderIntent {
        id: OrderId(7),
        position: PositionId(1),
        symbol: SymbolId(0),
        side,
        qty: q(0.01),
        kind,
        reduce_only,
        purpose: OrderPurpose::Entry,
        ts: TimestampNs(0),
    }
}

fn update(id: &str, exec: ExecType, status: OrderStatus, filled: f64, avg: f64) -> OrderUpdate {
    OrderUpdate {
        symbol: SymbolId(0),
        event_time: TimestampNs(0),
        trade_time: TimestampNs(0),
        order_id: 99,
        client_order_id: ClientOrderId::try_new(id).unwrap(),
        side: Side::Buy,
        position_side: None,
        exec,
        status,
        qty: q(0.02),
        price: Price::ZERO,
        avg_price: px(avg),
        filled_qty: q(filled),
        fee: px(-0.5),
        realized_pnl: Price::ZERO,
        trade_id: 0,
        trade_update: false,
    }
}

#[test]
fn client_ids_round_trip_and_foreign_ids_are_ignored() {
    let id = client_id("te-", OrderId(42)).unwrap();
    assert_eq!(id.as_str(), "te-42");
    assert_eq!(engine_order("te-", &id), Some(OrderId(42)));
    let other = ClientOrderId::try_new("manual-42").unwrap();
    assert_eq!(engine_order("te-", &other), None);
    let bad = ClientOrderId::try_new("te-4x").unwrap();
    assert_eq!(engine_order("te-", &bad), None);
}

#[test]
fn hedge_mode_names_the_leg_and_one_way_mode_sends_reduce_only() {
    let cid = client_id("te-", OrderId(7)).unwrap();
    let entry = request(&intent(Side::Buy, false, OrderKind::Market), cid, true);
    assert_eq!(entry.position_side, PositionSide::Long);
    assert!(!entry.reduce_only);
    let stop = intent(
        Side::Sell,
        true,
        OrderKind::StopMarket { trigger: px(100.0) },
    );
    let r = request(&stop, cid, true);
    assert_eq!(r.position_side, PositionSide::Long);
    assert_eq!(r.kind, WireKind::StopMarket);
    assert_eq!(r.stop_price, px(100.0));
    assert!(!r.reduce_only);
    let r = request(&stop, cid, false);
    assert_eq!(r.position_side, PositionSide::Both);
    assert!(r.reduce_only);
    let short_exit = request(&intent(Side::Buy, true, OrderKind::Market), cid, true);
    assert_eq!(short_exit.position_side, PositionSide::Short);
    assert_eq!(r.validate(), None);
}

#[test]
fn a_rest_ack_then_a_duplicate_ack_gives_one_core_ack() {
    let mut t = OrderTable::new("te-");
    t.sent(&entry(3));
    let r = OrderResult {
        symbol: SymbolId(0),
        client_order_id: ClientOrderId::try_new("te-3").unwrap(),
        outcome: OrderOutcome::Accepted(OrderAck {
            symbol: SymbolId(0),
            client_order_id: ClientOrderId::try_new("te-3").unwrap(),
            order_id: 555,
            status: OrderStatus::New,
            recovered: false,
        }),
    };
    assert_eq!(
        t.on_place_result(&r, TimestampNs(5)),
        ResultEffect::Acked {
            event: Event::Ack {
                order: OrderId(3),
                ts: TimestampNs(5)
            },
            exchange_id: 555
        }
    );
    assert_eq!(t.on_place_result(&r, TimestampNs(6)), ResultEffect::None);
    assert_eq!(t.open(), 1);
}

#[test]
fn a_refused_order_is_rejected_once_and_no_longer_open() {
    let mut t = OrderTable::new("te-");
    t.sent(&entry(4));
    let r = OrderResult {
        symbol: SymbolId(0),
        client_order_id: ClientOrderId::try_new("te-4").unwrap(),
        outcome: OrderOutcome::Rejected {
            code: 101_204,
            kind: crate::io::error::ExchangeCode::from_code(101_204),
        },
    };
    assert!(matches!(
        t.on_place_result(&r, TimestampNs(1)),
        ResultEffect::Rejected { code: 101_204, .. }
    ));
    assert_eq!(t.on_place_result(&r, TimestampNs(1)), ResultEffect::None);
    assert_eq!(t.refuse(OrderId(4), TimestampNs(2)), None);
    assert_eq!(t.open(), 0);
}

#[test]
fn cumulative_fills_become_legs_with_their_own_price() {
    let mut t = OrderTable::new("te-");
    t.sent(&entry(9));
    let mut ev = Vec::new();
    t.on_update(
        &update(
            "te-9",
            ExecType::Trade,
            OrderStatus::PartiallyFilled,
            0.01,
            100.0,
        ),
        TimestampNs(1),
        &mut |e| ev.push(e),
    );
    t.on_update(
        &update("te-9", ExecType::Trade, OrderStatus::Filled, 0.02, 101.0),
        TimestampNs(2),
        &mut |e| ev.push(e),
    );
    // A late duplicate changes nothing.
    t.on_update(
        &update("te-9", ExecType::Trade, OrderStatus::Filled, 0.02, 101.0),
        TimestampNs(3),
        &mut |e| ev.push(e),
    );
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(matches!(
        ev[0],
        Event::Ack {
            order: OrderId(9),
            ..
        }
    ));
    let Event::Fill(a) = ev[1] else { panic!() };
    let Event::Fill(b) = ev[2] else { panic!() };
    assert_eq!(a.qty, q(0.01));
    assert!((a.price.to_f64() - 100.0).abs() < 1e-6);
    assert_eq!(b.qty, q(0.01));
    assert!((b.price.to_f64() - 102.0).abs() < 1e-6);
    assert!((a.fee.to_f64() - 0.5).abs() < 1e-9);
    assert_eq!(t.open(), 0);
}

#[test]
fn a_cancel_update_reaches_the_core_once() {
    let mut t = OrderTable::new("te-");
    t.sent(&entry(5));
    let mut ev = Vec::new();
    t.on_update(
        &update("te-5", ExecType::New, OrderStatus::New, 0.0, 0.0),
        TimestampNs(1),
        &mut |e| ev.push(e),
    );
    for _ in 0..2 {
        t.on_update(
            &update("te-5", ExecType::Canceled, OrderStatus::Cancelled, 0.0, 0.0),
            TimestampNs(2),
            &mut |e| ev.push(e),
        );
    }
    assert_eq!(
        ev,
        vec![
            Event::Ack {
                order: OrderId(5),
                ts: TimestampNs(1)
            },
            Event::Cancelled {
                order: OrderId(5),
                ts: TimestampNs(2)
            }
        ]
    );
}

#[test]
fn the_table_reuses_finished_slots_without_growing() {
    let mut t = OrderTable::new("te-");
    for i in 0..(ORDER_SLOTS as u64 * 3) {
        t.sent(&entry(i));
        assert!(t.refuse(OrderId(i), TimestampNs(0)).is_some());
    }
    assert_eq!(t.open(), 0);
}

#[test]
fn only_unfinished_take_profit_orders_are_listed_for_a_shutdown() {
    let mut t = OrderTable::new("te-");
    t.sent(&entry(1));
    let tp = |id: u64, purpose: OrderPurpose| OrderIntent {
        id: OrderId(id),
        purpose,
        ..intent(
            Side::Sell,
            true,
            OrderKind::TakeProfitMarket { trigger: px(110.0) },
        )
    };
    t.sent(&tp(2, OrderPurpose::Partial1));
    t.sent(&tp(3, OrderPurpose::Target));
    t.sent(&OrderIntent {
        purpose: OrderPurpose::Stop,
        ..tp(4, OrderPurpose::Stop)
    });
    assert!(t.refuse(OrderId(3), TimestampNs(0)).is_some());
    let mut listed = Vec::new();
    t.open_take_profits(&mut |o, _| listed.push(o));
    assert_eq!(listed, vec![OrderId(2)]);
}

#[test]
fn a_complete_fill_reported_in_decimal_text_carries_the_cores_exact_quantity() {
    let mut t = OrderTable::new("te-");
    // The core's quantity is a grid subtraction one ulp off the decimal value.
    let ours = Qty::from_bits(q(0.0828).to_bits() + 1);
    t.sent(&OrderIntent {
        id: OrderId(14),
        qty: ours,
        ..entry(14)
    });
    let mut ev = Vec::new();
    t.on_update(
        &update("te-14", ExecType::Trade, OrderStatus::Filled, 0.0828, 100.0),
        TimestampNs(1),
        &mut |e| ev.push(e),
    );
    let Some(Event::Fill(f)) = ev.last().copied() else {
        panic!("{ev:?}")
    };
    assert_eq!(f.qty, ours);
    assert_eq!(same_qty(q(0.0828), q(0.0827)), None);
}

fn stop(id: u64) -> OrderIntent {
    OrderIntent {
        id: OrderId(id),
        purpose: OrderPurpose::Stop,
        ..intent(
            Side::Sell,
            true,
            OrderKind::StopMarket { trigger: px(90.0) },
        )
    }
}

fn collect(t: &mut OrderTable, u: &OrderUpdate) -> Vec<Event> {
    let mut got = Vec::new();
    t.on_update(u, TimestampNs(5), &mut |e| got.push(e));
    got
}

#[test]
fn a_seeded_acknowledged_order_of_an_earlier_life_fills_without_a_second_ack() {
    let mut t = OrderTable::new("te-");
    t.seed(&stop(12), Some(99), None);
    let got = collect(
        &mut t,
        &update("te-12", ExecType::Trade, OrderStatus::Filled, 0.01, 95.0),
    );
    assert!(
        matches!(got.as_slice(), [Event::Fill(f)] if f.order == OrderId(12) && f.qty == q(0.01)),
        "{got:?}"
    );
}

#[test]
fn a_seeded_unacknowledged_order_is_acknowledged_by_its_first_update() {
    let mut t = OrderTable::new("te-");
    t.seed(&entry(3), None, None);
    let got = collect(
        &mut t,
        &update("te-3", ExecType::New, OrderStatus::New, 0.0, 0.0),
    );
    assert_eq!(
        got,
        vec![Event::Ack {
            order: OrderId(3),
            ts: TimestampNs(5)
        }]
    );
}

#[test]
fn a_replacement_stop_under_a_recovery_id_routes_to_the_stop_it_stands_for() {
    let mut t = OrderTable::new("te-");
    t.seed(&stop(12), None, None);
    t.apply(&Correction::StopPlaced {
        replaces: Some(OrderId(12)),
        symbol: SymbolId(0),
        side: Side::Sell,
        qty: q(0.01),
        stop_price: px(90.0),
        client_order_id: ClientOrderId::try_new("te-r2-s12").unwrap(),
        exchange_order_id: 99,
    });
    let got = collect(
        &mut t,
        &update(
            "te-r2-s12",
            ExecType::Trade,
            OrderStatus::Filled,
            0.01,
            90.0,
        ),
    );
    assert!(
        matches!(got.as_slice(), [Event::Fill(f)] if f.order == OrderId(12)),
        "{got:?}"
    );
    let mut other = update(
        "te-r2-s12",
        ExecType::Trade,
        OrderStatus::Filled,
        0.01,
        90.0,
    );
    other.order_id = 100;
    assert!(
        collect(&mut t, &other).is_empty(),
        "another exchange id is not ours"
    );
}

#[test]
fn a_stop_put_back_at_start_up_is_cancelled_and_looked_up_under_its_recovery_id() {
    // Same life: the correction names the recovery id.
    let mut t = OrderTable::new("te-");
    t.seed(&stop(12), Some(98), None);
    assert_eq!(t.wire_id(OrderId(12)).unwrap().as_str(), "te-12");
    t.apply(&Correction::StopPlaced {
        replaces: Some(OrderId(12)),
        symbol: SymbolId(0),
        side: Side::Sell,
        qty: q(0.01),
        stop_price: px(90.0),
        client_order_id: ClientOrderId::try_new("te-r2-s12").unwrap(),
        exchange_order_id: 99,
    });
    assert_eq!(t.wire_id(OrderId(12)).unwrap().as_str(), "te-r2-s12");
    // A later life: the journaled route carries the recovery id.
    let mut t = OrderTable::new("te-");
    let recovery = ClientOrderId::try_new("te-r2-s12").unwrap();
    t.seed(&stop(12), Some(99), Some(recovery));
    assert_eq!(t.wire_id(OrderId(12)), Some(recovery));
    assert_eq!(t.order_of_client(&recovery), Some(OrderId(12)));
    assert_eq!(
        t.order_of_client(&ClientOrderId::try_new("te-12").unwrap()),
        Some(OrderId(12))
    );
    assert_eq!(
        t.order_of_client(&ClientOrderId::try_new("te-r3-s12").unwrap()),
        None,
        "another recovery id is nobody's"
    );
    assert_eq!(
        t.order_of_client(&ClientOrderId::try_new("xx-12").unwrap()),
        None
    );
    assert_eq!(t.wire_id(OrderId(13)).unwrap().as_str(), "te-13");
    // The pass finds it on the book under its recovery id.
    t.begin_check();
    assert!(t.on_book(&recovery, 0));
    let mut missing = Vec::new();
    t.missing(&mut |o, _| missing.push(o));
    assert!(missing.is_empty(), "{missing:?}");
    // Its lookup answer (the user-stream update it would have been)
    // reaches the core as a fill of stop 12.
    let got = collect(
        &mut t,
        &update(
            "te-r2-s12",
            ExecType::Trade,
            OrderStatus::Filled,
            0.01,
            90.0,
        ),
    );
    assert!(
        matches!(got.as_slice(), [Event::Fill(f)] if f.order == OrderId(12) && f.price == px(90.0)),
        "{got:?}"
    );
}

#[test]
fn corrections_finish_or_adopt_tracked_orders() {
    let mut t = OrderTable::new("te-");
    t.seed(&entry(3), None, None);
    t.seed(&entry(4), None, None);
    t.seed(&entry(5), None, None);
    t.apply(&Correction::NotPlaced {
        order: OrderId(3),
        symbol: SymbolId(0),
    });
    t.apply(&Correction::Adopted {
        order: OrderId(4),
        symbol: SymbolId(0),
        exchange_order_id: 77,
    });
    t.apply(&Correction::Filled {
        order: OrderId(5),
        symbol: SymbolId(0),
        exchange_order_id: 78,
        qty: q(0.01),
        price: px(100.0),
        fee: Money::ZERO,
        unacked: true,
        at: None,
    });
    assert_eq!(t.open(), 1, "only the adopted order works");
    assert!(collect(
        &mut t,
        &update("te-3", ExecType::Trade, OrderStatus::Filled, 0.01, 1.0)
    )
    .is_empty());
    let got = collect(
        &mut t,
        &update("te-4", ExecType::Trade, OrderStatus::Filled, 0.01, 101.0),
    );
    assert!(
        matches!(got.as_slice(), [Event::Fill(f)] if f.order == OrderId(4)),
        "adopted: a fill without a second ack: {got:?}"
    );
    assert_eq!(t.qty_of(OrderId(5)), Some(q(0.01)));
}

#[test]
fn an_update_without_our_prefix_is_never_routed_by_exchange_id() {
    let mut t = OrderTable::new("te-");
    t.seed(&stop(12), Some(99), None);
    let foreign = update("manual-1", ExecType::Trade, OrderStatus::Filled, 0.01, 90.0);
    assert!(collect(&mut t, &foreign).is_empty());
}

/// Issue 19: a stop a start-up reconciliation placed for a position with
/// no stop order of the core (`…r{n}-p{symbol}`) fills while the life
/// runs: the core books that close at the fill's price and fee, from the
/// user stream or from the lookup a pass makes when it is gone.
#[test]
fn a_position_stop_of_a_start_up_fills_as_an_exchange_close_at_its_price() {
    let mut t = OrderTable::new("te-");
    let cid = ClientOrderId::try_new("te-r2-p0").unwrap();
    t.apply(&Correction::StopPlaced {
        replaces: None,
        symbol: SymbolId(0),
        side: Side::Sell,
        qty: q(0.02),
        stop_price: px(90.0),
        client_order_id: cid,
        exchange_order_id: 500,
    });
    // On the book: nothing to look up.
    t.begin_check();
    assert!(t.on_book(&cid, 500));
    let mut gone = Vec::new();
    t.missing_position_stops(&mut |s, c| gone.push((s, c)));
    assert!(gone.is_empty());
    // The next pass misses it: it is looked up under its client id.
    t.begin_check();
    t.missing_position_stops(&mut |s, c| gone.push((s, c)));
    assert_eq!(gone, [(SymbolId(0), cid)]);
    // Half fills, then the rest: two closes at each leg's own price.
    let mut u = update(
        "te-r2-p0",
        ExecType::Trade,
        OrderStatus::PartiallyFilled,
        0.01,
        90.0,
    );
    u.order_id = 500;
    u.side = Side::Sell;
    let got = collect(&mut t, &u);
    assert_eq!(
        got,
        [Event::ExchangeClose(crate::core::ExchangeClose {
            symbol: SymbolId(0),
            side: Side::Buy,
            qty: q(0.01),
            price: px(90.0),
            fee: Money::from_f64(0.5),
            ts: TimestampNs(5),
        })]
    );
    let mut u = update("te-r2-p0", ExecType::Trade, OrderStatus::Filled, 0.02, 89.0);
    u.order_id = 500;
    let got = collect(&mut t, &u);
    assert!(
        matches!(got.as_slice(), [Event::ExchangeClose(c)] if c.qty == q(0.01) && c.price == px(88.0)),
        "{got:?}"
    );
    // Finished: a repeated update books nothing more.
    assert!(collect(&mut t, &u).is_empty());
    // Another client's order with the same exchange id is not it.
    let mut other = update("xx-1", ExecType::Trade, OrderStatus::Filled, 0.02, 89.0);
    other.order_id = 500;
    assert!(collect(&mut t, &other).is_empty());
}
