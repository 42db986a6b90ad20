//! A position closed on the exchange with no order of the core to book it
//! on ([`Event::ExchangeClose`]), and a refused market close that must not
//! leave the position without a stop (issue 19: the chaos run ended with
//! the engine short while the exchange was flat).

use super::fill_tests::{feed, fill, logs, open_long, places};
use super::*;
use crate::money::Money;
use crate::orders::OrderPurpose;
use crate::types::{NS_PER_MIN, NS_PER_SEC};

fn close_event(side: Side, qty: Qty, price: f64, fee: f64, ts: i64) -> Event {
    Event::ExchangeClose(ExchangeClose {
        symbol: SymbolId(0),
        side,
        qty,
        price: Price::from_f64(price).unwrap(),
        fee: Money::from_f64(fee),
        ts: TimestampNs(ts),
    })
}

fn exits(actions: &[Action]) -> Vec<(ExitReason, Qty, Price)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Record(Record::Exit {
                reason, qty, price, ..
            }) => Some((*reason, *qty, *price)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_exchange_close_books_the_whole_position_at_its_price_and_fee_with_reason_reconciled() {
    let (mut b, stop) = open_long();
    let p = b.position().unwrap();
    let cash = b.core.cash();
    let out = feed(
        &mut b,
        close_event(Side::Buy, p.open_qty, 96.5, 0.25, 2 * NS_PER_MIN),
    );
    assert_eq!(
        exits(&out),
        [(
            ExitReason::Reconciled,
            p.open_qty,
            Price::from_f64(96.5).unwrap()
        )]
    );
    assert!(b.position().is_none(), "flat like the exchange");
    // The stop it no longer needs is cancelled.
    assert!(out
        .iter()
        .any(|a| matches!(a, Action::Cancel { order, .. } if *order == stop)));
    // Cash moves by the leg's PnL less the close's fee.
    let expected = (96.5 - p.entry_price) * p.open_qty.to_f64() - 0.25;
    assert!(
        (b.core.cash().to_f64() - cash.to_f64() - expected).abs() < 1e-6,
        "cash {} -> {}, expected change {expected}",
        cash.to_f64(),
        b.core.cash().to_f64()
    );
    let closed = out.iter().find_map(|a| match a {
        Action::Record(Record::TradeClosed(t)) => Some(*t),
        _ => None,
    });
    assert_eq!(closed.map(|t| t.exit_reason), Some(ExitReason::Reconciled));
}

#[test]
fn an_exchange_close_of_the_other_side_or_of_nothing_changes_nothing() {
    let (mut b, _) = open_long();
    let p = b.position().unwrap();
    let out = feed(
        &mut b,
        close_event(Side::Sell, p.open_qty, 96.5, 0.0, 2 * NS_PER_MIN),
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(b.position().map(|q| q.open_qty), Some(p.open_qty));
    let out = feed(
        &mut b,
        close_event(Side::Buy, Qty::ZERO, 96.5, 0.0, 2 * NS_PER_MIN),
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_partial_exchange_close_keeps_the_rest_protected_by_a_smaller_stop() {
    let (mut b, stop) = open_long();
    let p = b.position().unwrap();
    let half = Qty::from_f64(10.0).unwrap();
    let out = feed(
        &mut b,
        close_event(Side::Buy, half, 99.0, 0.0, 2 * NS_PER_MIN),
    );
    let left = b.position().unwrap().open_qty;
    assert_eq!(left, Qty(p.open_qty.0 - half.0));
    let stops: Vec<_> = places(&out)
        .into_iter()
        .filter(|o| o.purpose == OrderPurpose::Stop)
        .collect();
    assert_eq!(stops.len(), 1, "{out:?}");
    assert_eq!(stops[0].qty, left);
    assert_ne!(stops[0].id, stop);
}

#[test]
fn an_exchange_close_without_a_price_is_booked_at_the_last_price() {
    let (mut b, _) = open_long();
    let p = b.position().unwrap();
    let last = b.core.last_price(SymbolId(0)).unwrap();
    let out = feed(
        &mut b,
        close_event(Side::Buy, p.open_qty, 0.0, 0.0, 2 * NS_PER_MIN),
    );
    assert_eq!(exits(&out), [(ExitReason::Reconciled, p.open_qty, last)]);
}

#[test]
fn a_refused_close_puts_the_stop_back_and_is_sent_again_after_a_back_off() {
    let (mut b, _) = open_long();
    let p = b.position().unwrap();
    let t0 = 2 * NS_PER_MIN;
    let out = feed(
        &mut b,
        Event::Control {
            command: Command::Flatten,
            ts: TimestampNs(t0),
        },
    );
    let close = places(&out)[0];
    assert_eq!(close.purpose, OrderPurpose::Close(ExitReason::Manual));
    assert_eq!(
        b.position().unwrap().stop_order,
        None,
        "cancelled for the close"
    );
    // Refused: the position gets a stop again at once.
    let out = feed(
        &mut b,
        Event::Rejected {
            order: close.id,
            ts: TimestampNs(t0 + 1),
        },
    );
    assert_eq!(logs(&out), [LogEvent::CloseRefused(p.id)]);
    let stop = places(&out)
        .into_iter()
        .find(|o| o.purpose == OrderPurpose::Stop)
        .expect("a stop while the close waits");
    assert_eq!(stop.qty, p.open_qty);
    assert_eq!(b.position().unwrap().stop_order, Some(stop.id));
    // Not before the back-off (1 s) ...
    let out = feed(&mut b, Event::Clock(TimestampNs(t0 + NS_PER_SEC / 2)));
    assert!(places(&out).is_empty(), "{out:?}");
    // ... then the close goes again, cancelling the stop it replaces.
    let out = feed(&mut b, Event::Clock(TimestampNs(t0 + 1 + NS_PER_SEC)));
    let again = places(&out);
    assert_eq!(again.len(), 1, "{out:?}");
    assert_eq!(again[0].purpose, OrderPurpose::Close(ExitReason::Manual));
    assert_eq!(again[0].qty, p.open_qty);
    assert!(out
        .iter()
        .any(|a| matches!(a, Action::Cancel { order, .. } if *order == stop.id)));
    // Refused again: the back-off doubles (2 s).
    feed(
        &mut b,
        Event::Rejected {
            order: again[0].id,
            ts: TimestampNs(t0 + 2 * NS_PER_SEC),
        },
    );
    let out = feed(&mut b, Event::Clock(TimestampNs(t0 + 3 * NS_PER_SEC)));
    assert!(places(&out)
        .iter()
        .all(|o| o.purpose != OrderPurpose::Close(ExitReason::Manual)));
    let out = feed(&mut b, Event::Clock(TimestampNs(t0 + 4 * NS_PER_SEC)));
    let third = places(&out);
    assert_eq!(third.len(), 1, "{out:?}");
    // It fills: flat, the trade is closed as a manual exit.
    let out = feed(
        &mut b,
        fill(third[0].id, p.open_qty, 99.0, t0 + 5 * NS_PER_SEC),
    );
    assert!(b.position().is_none());
    assert_eq!(
        exits(&out),
        [(
            ExitReason::Manual,
            p.open_qty,
            Price::from_f64(99.0).unwrap()
        )]
    );
}

/// `reconcile.unknown_position = "adopt"`: an exchange position the core
/// does not know becomes a position of its own, filled at the exchange's
/// entry price, protected by a stop `adopt_stop_pct` away and a target
/// `adopt_target_r` stop distances away.
#[test]
fn an_adopted_position_is_booked_at_its_entry_and_protected_by_a_stop_and_target() {
    let mut b = super::tests::Bench::free(vec![]);
    let cash = b.core.cash();
    let adopt = |side, qty: f64, price: f64| {
        Event::AdoptPosition(crate::core::AdoptPosition {
            symbol: SymbolId(0),
            side,
            qty: Qty::from_f64(qty).unwrap(),
            price: Price::from_f64(price).unwrap(),
            ts: TimestampNs(3 * NS_PER_MIN),
        })
    };
    let out = feed(&mut b, adopt(Side::Sell, 2.0, 100.0));
    let p = b.position().expect("adopted");
    assert_eq!(p.side, Side::Sell);
    assert_eq!(p.strategy, crate::strategy::StrategyId::ADOPTED);
    assert_eq!(b.core.strategy_name(p.strategy), "adopted");
    assert_eq!(p.open_qty, Qty::from_f64(2.0).unwrap());
    assert!((p.entry_price - 100.0).abs() < 1e-9);
    // Defaults: stop 2 % above a short's entry, target 2 R below.
    assert_eq!(p.stop, Price::from_f64(102.0).unwrap());
    assert_eq!(p.target, Price::from_f64(96.0).unwrap());
    let placed = places(&out);
    let stop = placed
        .iter()
        .find(|o| o.purpose == OrderPurpose::Stop)
        .expect("a stop");
    assert_eq!(stop.side, Side::Buy);
    assert_eq!(stop.qty, p.open_qty);
    assert!(stop.reduce_only);
    assert!(
        placed.iter().all(|o| o.purpose != OrderPurpose::Entry),
        "nothing is bought: {placed:?}"
    );
    assert_eq!(b.core.cash(), cash, "no fee booked, nothing realised");
    // A second report for the same symbol changes nothing.
    let again = feed(&mut b, adopt(Side::Buy, 1.0, 90.0));
    assert!(places(&again).is_empty(), "{again:?}");
    assert_eq!(b.position().unwrap().side, Side::Sell);
    // Its stop filling closes it like any other position.
    let out = feed(&mut b, fill(stop.id, p.open_qty, 102.0, 4 * NS_PER_MIN));
    assert!(b.position().is_none(), "{out:?}");
    let expected = -2.0 * 2.0;
    assert!(
        (b.core.cash().to_f64() - cash.to_f64() - expected).abs() < 1e-6,
        "a 2-point loss on 2 units"
    );
}
