//! Every fill, cancel and ack of the core's own orders is matched, also
//! when it comes late: a stop acknowledged or filled after the core asked
//! to cancel or replace it, and a protective stop that disappears behind
//! the engine's back is placed again (issue 19, items 3 and 4).

use super::tests::{long, Bench};
use super::*;
use crate::money::Money;
use crate::orders::OrderPurpose;
use crate::types::NS_PER_MIN;

/// A bench with an open long (stop at 97) whose exchange is driven by hand
/// from now on: returns it with the position's working stop id.
pub(super) fn open_long() -> (Bench, OrderId) {
    let mut b = Bench::free(vec![long(&[0])]);
    b.flat(0, 100.0);
    let stop = b.position().unwrap().stop_order.unwrap();
    b.places.clear();
    b.records.clear();
    (b, stop)
}

/// Feeds `e` to the core alone and returns its actions.
pub(super) fn feed(b: &mut Bench, e: Event) -> Vec<Action> {
    b.core.on_event(&e);
    let mut out = Vec::new();
    while let Some(a) = b.core.next_action() {
        out.push(a);
    }
    out
}

pub(super) fn logs(actions: &[Action]) -> Vec<LogEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(l) => Some(*l),
            _ => None,
        })
        .collect()
}

pub(super) fn places(actions: &[Action]) -> Vec<OrderIntent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Place(o) => Some(*o),
            _ => None,
        })
        .collect()
}

pub(super) fn fill(order: OrderId, qty: Qty, price: f64, ts: i64) -> Event {
    Event::Fill(crate::orders::Fill {
        order,
        symbol: SymbolId(0),
        qty,
        price: Price::from_f64(price).unwrap(),
        fee: Money::ZERO,
        slippage: Money::ZERO,
        ts: TimestampNs(ts),
    })
}

#[test]
fn issue_19_a_stop_filling_after_the_shutdown_close_was_rejected_closes_the_position() {
    let (mut b, stop) = open_long();
    let qty = b.position().unwrap().open_qty;
    let id = b.position().unwrap().id;
    let out = feed(
        &mut b,
        Event::Control {
            command: Command::Shutdown,
            ts: TimestampNs(2 * NS_PER_MIN),
        },
    );
    let close = places(&out)[0];
    assert_eq!(close.purpose, OrderPurpose::Close(ExitReason::Shutdown));
    // The stop is acknowledged after its cancel was requested, the close
    // is refused (the stop already fired), then the stop's fill arrives.
    let mut seen = feed(
        &mut b,
        Event::Ack {
            order: stop,
            ts: TimestampNs(2 * NS_PER_MIN + 1),
        },
    );
    seen.extend(feed(
        &mut b,
        Event::Rejected {
            order: close.id,
            ts: TimestampNs(2 * NS_PER_MIN + 2),
        },
    ));
    seen.extend(feed(&mut b, fill(stop, qty, 96.9, 2 * NS_PER_MIN + 3)));
    seen.extend(feed(
        &mut b,
        Event::Cancelled {
            order: stop,
            ts: TimestampNs(2 * NS_PER_MIN + 4),
        },
    ));
    // The refused close is reported (and the position protected again
    // until the stop's fill arrives); no order is unknown.
    assert_eq!(logs(&seen), [LogEvent::CloseRefused(id)]);
    assert!(b.position().is_none(), "flat like the exchange");
    let closed: Vec<_> = seen
        .iter()
        .filter_map(|a| match a {
            Action::Record(Record::TradeClosed(t)) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 1);
    assert!((closed[0].avg_exit_price.to_f64() - 96.9).abs() < 1e-9);
}

#[test]
fn a_stop_filling_while_it_is_replaced_is_booked_and_its_successor_cancelled() {
    let (mut b, stop) = open_long();
    let qty = b.position().unwrap().open_qty;
    // Trailing needs 3R (109); a trade at 112 moves the stop up.
    let out = feed(
        &mut b,
        Event::Trade(crate::types::Trade {
            symbol: SymbolId(0),
            trade_id: 1,
            price: Price::from_f64(112.0).unwrap(),
            qty: Qty::from_f64(1.0).unwrap(),
            exchange_ts: TimestampNs(NS_PER_MIN + 10),
            aggressor: crate::types::Side::Buy,
        }),
    );
    let successor = places(&out)
        .into_iter()
        .find(|o| o.purpose == OrderPurpose::Stop)
        .expect("a replacement stop");
    assert_ne!(successor.id, stop);
    let seen = feed(&mut b, fill(stop, qty, 97.0, NS_PER_MIN + 20));
    assert_eq!(logs(&seen), []);
    assert!(b.position().is_none(), "the old stop's fill closed it");
    assert!(
        seen.iter()
            .any(|a| matches!(a, Action::Cancel { order, .. } if *order == successor.id)),
        "the successor stop is cancelled"
    );
    // Its cancel confirmation and a late ack of the old one are quiet.
    let late = feed(
        &mut b,
        Event::Cancelled {
            order: successor.id,
            ts: TimestampNs(NS_PER_MIN + 30),
        },
    );
    assert_eq!(logs(&late), []);
}

#[test]
fn a_stop_cancelled_behind_the_engines_back_is_placed_again_then_the_position_closed() {
    let (mut b, stop) = open_long();
    let level = b.position().unwrap().stop;
    let out = feed(
        &mut b,
        Event::Cancelled {
            order: stop,
            ts: TimestampNs(NS_PER_MIN + 5),
        },
    );
    let again = places(&out);
    assert_eq!(again.len(), 1, "{out:?}");
    assert_eq!(again[0].purpose, OrderPurpose::Stop);
    assert_eq!(
        again[0].kind,
        crate::orders::OrderKind::StopMarket { trigger: level }
    );
    assert_eq!(b.position().unwrap().stop_order, Some(again[0].id));
    // The second failure in a row (default reconcile.stop_attempts = 2)
    // closes the position at market.
    let out = feed(
        &mut b,
        Event::Rejected {
            order: again[0].id,
            ts: TimestampNs(NS_PER_MIN + 6),
        },
    );
    let close = places(&out);
    assert_eq!(
        close[0].purpose,
        OrderPurpose::Close(ExitReason::Emergency),
        "{out:?}"
    );
    assert_eq!(b.position().unwrap().state, PositionState::Closing);
}

#[test]
fn with_one_stop_attempt_a_refused_stop_closes_at_once() {
    let mut cfg = crate::config::Config::default();
    cfg.simulator.taker_fee_bps = 0.0;
    cfg.simulator.slippage_bps = 0.0;
    cfg.reconcile.stop_attempts = 1;
    let mut b = Bench::new(&cfg, vec![long(&[0])]);
    b.flat(0, 100.0);
    let stop = b.position().unwrap().stop_order.unwrap();
    let out = feed(
        &mut b,
        Event::Rejected {
            order: stop,
            ts: TimestampNs(NS_PER_MIN + 6),
        },
    );
    assert!(logs(&out).contains(&LogEvent::StopRejected(b.position().unwrap().id)));
    assert_eq!(
        places(&out)[0].purpose,
        OrderPurpose::Close(ExitReason::Emergency)
    );
}

#[test]
fn a_fill_of_an_order_the_core_never_sent_is_still_unknown() {
    let (mut b, _) = open_long();
    let out = feed(
        &mut b,
        fill(OrderId(9_999), Qty::from_f64(0.1).unwrap(), 1.0, 1),
    );
    assert_eq!(logs(&out), [LogEvent::UnknownOrder(OrderId(9_999))]);
    assert!(b.position().is_some());
}
