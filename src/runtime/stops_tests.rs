//! Tests of the stop coalescer: storms, late fills, exchange-side cancels.

use super::*;
use crate::money::Money;
use crate::orders::{Fill, OrderKind, PositionId};
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

fn stop(id: u64) -> OrderIntent {
    OrderIntent {
        id: OrderId(id),
        position: PositionId(1),
        symbol: SymbolId(0),
        side: Side::Sell,
        qty: Qty::from_f64(0.1).unwrap(),
        kind: OrderKind::StopMarket {
            trigger: Price::from_f64(100.0 + id as f64).unwrap(),
        },
        reduce_only: true,
        purpose: OrderPurpose::Stop,
        ts: TimestampNs(id as i64),
    }
}

fn ack(id: u64) -> Event {
    Event::Ack {
        order: OrderId(id),
        ts: TimestampNs(0),
    }
}

fn cancelled(id: u64) -> Event {
    Event::Cancelled {
        order: OrderId(id),
        ts: TimestampNs(0),
    }
}

fn fill(id: u64) -> Event {
    Event::Fill(Fill {
        order: OrderId(id),
        symbol: SymbolId(0),
        qty: Qty::from_f64(0.1).unwrap(),
        price: Price::from_f64(99.0).unwrap(),
        fee: Money::ZERO,
        slippage: Money::ZERO,
        ts: TimestampNs(0),
    })
}

fn sent() -> StopOut {
    StopOut {
        send_original: true,
        ..StopOut::default()
    }
}

#[test]
fn a_replacement_after_the_acknowledgement_goes_straight_through() {
    let mut c = StopCoalescer::new(1);
    assert_eq!(c.on_place(&stop(1)), sent());
    assert_eq!(c.on_exchange(&ack(1)).to_core, Some(ack(1)));
    assert_eq!(c.on_cancel(OrderId(1)), sent());
    assert_eq!(c.on_place(&stop(2)), sent());
    // Our own cancel's confirmation is not passed on (the core forgot order 1).
    assert_eq!(c.on_exchange(&cancelled(1)), StopOut::default());
    assert_eq!(c.on_exchange(&ack(2)).to_core, Some(ack(2)));
}

#[test]
fn a_storm_of_replacements_sends_only_the_newest_after_the_first_is_acknowledged() {
    let mut c = StopCoalescer::new(1);
    assert_eq!(c.on_place(&stop(1)), sent());
    for id in 2..=5 {
        assert_eq!(c.on_cancel(OrderId(id - 1)), StopOut::default());
        assert_eq!(
            c.on_place(&stop(id)),
            StopOut::default(),
            "stop {id} is held"
        );
    }
    let out = c.on_exchange(&ack(1));
    assert_eq!(out.to_core, None);
    assert_eq!(out.cancel, Some(OrderId(1)));
    assert_eq!(out.place, Some(stop(5)));
    assert_eq!(c.on_exchange(&cancelled(1)), StopOut::default());
    assert_eq!(c.on_exchange(&ack(5)).to_core, Some(ack(5)));
    // The next replacement is direct again.
    assert_eq!(c.on_cancel(OrderId(5)), sent());
    assert_eq!(c.on_place(&stop(6)), sent());
}

#[test]
fn a_fill_of_the_stop_on_the_exchange_reaches_the_core_as_its_current_stop() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_cancel(OrderId(1));
    c.on_place(&stop(2));
    // Order 1 triggers before anything else happens.
    let out = c.on_exchange(&fill(1));
    let Some(Event::Fill(f)) = out.to_core else {
        panic!("expected a fill, got {out:?}")
    };
    assert_eq!(f.order, OrderId(2));
    assert_eq!(out.place, None, "the held stop is dropped");
    // Its late acknowledgement no longer sends anything.
    assert_eq!(c.on_exchange(&ack(1)), StopOut::default());
}

#[test]
fn a_stop_cancelled_by_the_exchange_is_reported_under_the_cores_id() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    assert_eq!(c.on_exchange(&cancelled(1)).to_core, Some(cancelled(1)));
    assert!(!c.tracks(OrderId(9)));
}

#[test]
fn a_refused_held_stop_chain_keeps_the_newest() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_cancel(OrderId(1));
    c.on_place(&stop(2));
    let rejected = Event::Rejected {
        order: OrderId(1),
        ts: TimestampNs(0),
    };
    let out = c.on_exchange(&rejected);
    assert_eq!(out.to_core, None);
    assert_eq!(out.cancel, None);
    assert_eq!(out.place, Some(stop(2)));
    let r2 = Event::Rejected {
        order: OrderId(2),
        ts: TimestampNs(0),
    };
    assert_eq!(
        c.on_exchange(&r2).to_core,
        Some(r2),
        "the core learns its stop failed"
    );
}

#[test]
fn orders_that_are_not_stops_pass_untouched() {
    let mut c = StopCoalescer::new(1);
    assert_eq!(c.on_cancel(OrderId(77)), sent());
    assert_eq!(c.on_exchange(&fill(77)).to_core, Some(fill(77)));
}

#[test]
fn an_adopted_stop_of_an_earlier_life_is_cancelled_on_replacement_and_its_late_fill_is_the_cores() {
    let mut c = StopCoalescer::new(1);
    c.adopt(SymbolId(0), OrderId(5));
    assert!(c.tracks(OrderId(5)));
    assert!(
        c.on_cancel(OrderId(5)).send_original,
        "acknowledged: cancel it"
    );
    assert!(c.on_place(&stop(6)).send_original, "nothing else in flight");
    // The adopted stop fired before the cancel reached the exchange.
    let out = c.on_exchange(&fill(5));
    assert!(
        matches!(out.to_core, Some(Event::Fill(f)) if f.order == OrderId(6)),
        "{out:?}"
    );
}
