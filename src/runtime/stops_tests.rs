//! Tests of the stop router: place-new-then-cancel-old, storms, late fills,
//! exchange-side cancels, cancel retries.

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

fn cancels(ids: &[u64]) -> [Option<OrderId>; 2] {
    let mut out = [None; 2];
    for (k, id) in ids.iter().enumerate() {
        out[k] = Some(OrderId(*id));
    }
    out
}

/// The core's replacement of stop `old` by `new`, routed as one batch.
fn replace(c: &mut StopCoalescer, old: u64, new: u64) -> (StopOut, StopOut, Option<OrderId>) {
    let a = c.on_cancel(OrderId(old));
    let b = c.on_place(&stop(new));
    (a, b, c.end_batch(SymbolId(0)))
}

const S0: SymbolId = SymbolId(0);

#[test]
fn a_replacement_places_the_new_stop_first_and_cancels_the_old_once_it_is_acknowledged() {
    let mut c = StopCoalescer::new(1);
    assert_eq!(c.on_place(&stop(1)), sent());
    assert_eq!(c.on_exchange(&ack(1)).to_core, Some(ack(1)));
    assert_eq!(c.live_stops(S0), 1);
    let (cancel, place, end) = replace(&mut c, 1, 2);
    assert_eq!(cancel, StopOut::default(), "the old stop's cancel is held");
    assert_eq!(place, sent(), "the new stop goes at once");
    assert_eq!(end, None, "nothing to cancel at the end of the batch");
    assert_eq!(c.live_stops(S0), 2, "both work until the new one is acked");
    let out = c.on_exchange(&ack(2));
    assert_eq!(out.to_core, Some(ack(2)));
    assert_eq!(out.cancel, cancels(&[1]), "the old one goes now");
    assert_eq!(c.live_stops(S0), 1);
    // Our own cancel's confirmation settles order 1 without the core.
    assert_eq!(
        c.on_exchange(&cancelled(1)),
        StopOut::settle(OrderId(1), Settled::CancelConfirmed)
    );
    assert!(!c.tracks(OrderId(1)));
}

#[test]
fn a_stop_dropped_without_replacement_is_cancelled_at_the_end_of_the_batch() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    assert_eq!(c.on_cancel(OrderId(1)), StopOut::default());
    assert_eq!(c.end_batch(S0), Some(OrderId(1)));
    assert_eq!(c.end_batch(S0), None);
    assert_eq!(c.live_stops(S0), 0);
}

#[test]
fn a_storm_of_replacements_sends_only_the_newest_and_settles_the_rest_as_coalesced() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    let (_, place, _) = replace(&mut c, 1, 2);
    assert_eq!(place, sent());
    // Stop 2 is in flight: 3, 4 and 5 are held; 3 and 4 never leave.
    let (_, held, _) = replace(&mut c, 2, 3);
    assert_eq!(held, StopOut::default(), "stop 3 is held");
    for id in 4..=5 {
        let (cancel, held, end) = replace(&mut c, id - 1, id);
        assert_eq!(
            cancel,
            StopOut::settle(OrderId(id - 1), Settled::Coalesced),
            "stop {} never reaches the exchange",
            id - 1
        );
        assert_eq!(held, StopOut::default(), "stop {id} is held");
        assert_eq!(end, None);
    }
    // Stop 2 is acknowledged (the core had cancelled it): stop 1 goes,
    // stop 5 is placed, stop 2 stays until stop 5 is acknowledged.
    let out = c.on_exchange(&ack(2));
    assert_eq!(out.to_core, None);
    assert_eq!(out.cancel, cancels(&[1]));
    assert_eq!(out.place, Some(stop(5)));
    let out = c.on_exchange(&ack(5));
    assert_eq!(out.to_core, Some(ack(5)));
    assert_eq!(out.cancel, cancels(&[2]));
    assert_eq!(c.live_stops(S0), 1);
    // The next replacement is direct again.
    let (_, place, _) = replace(&mut c, 5, 6);
    assert_eq!(place, sent());
}

#[test]
fn a_fill_of_the_old_stop_during_a_replacement_is_the_cores_and_the_new_stop_goes() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    // Order 1 triggers before stop 2 is acknowledged.
    let out = c.on_exchange(&fill(1));
    let Some(Event::Fill(f)) = out.to_core else {
        panic!("expected a fill, got {out:?}")
    };
    assert_eq!(f.order, OrderId(2));
    assert_eq!(out.cancel, [None; 2], "stop 2 is not acknowledged yet");
    // Its acknowledgement cancels it.
    let out = c.on_exchange(&ack(2));
    assert_eq!(out.to_core, None);
    assert_eq!(out.cancel, cancels(&[2]));
    assert_eq!(c.live_stops(S0), 0);
}

#[test]
fn a_fill_of_the_old_stop_after_the_replacement_cancels_the_acknowledged_new_one() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    c.on_exchange(&ack(2));
    // Stop 1 fired before our cancel reached it.
    let out = c.on_exchange(&fill(1));
    assert!(matches!(out.to_core, Some(Event::Fill(f)) if f.order == OrderId(2)));
    assert_eq!(out.cancel, cancels(&[2]));
    assert_eq!(c.live_stops(S0), 0);
    // Booked on order 2: the journal says order 1 is settled, so a restart
    // does not look it up and book its fill again (found by chaos).
    assert_eq!(
        out.settled,
        Some((OrderId(1), S0, Settled::FilledAsCurrent))
    );
}

#[test]
fn a_fill_of_the_current_stop_settles_nothing_else() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    let out = c.on_exchange(&fill(1));
    assert!(matches!(out.to_core, Some(Event::Fill(f)) if f.order == OrderId(1)));
    assert_eq!(out.settled, None, "booked on its own id");
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
fn a_refused_replacement_is_the_cores_and_the_old_stop_goes() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    let r2 = Event::Rejected {
        order: OrderId(2),
        ts: TimestampNs(0),
    };
    let out = c.on_exchange(&r2);
    assert_eq!(out.to_core, Some(r2), "the core learns its stop failed");
    assert_eq!(out.cancel, cancels(&[1]));
}

#[test]
fn a_refused_held_stop_chain_keeps_the_newest_and_settles_the_refused_one() {
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
    assert_eq!(out.cancel, [None; 2]);
    assert_eq!(out.place, Some(stop(2)));
    assert_eq!(out.settled, Some((OrderId(1), S0, Settled::GoneOnExchange)));
}

#[test]
fn a_failed_cancel_of_a_replaced_stop_is_retried_a_bounded_number_of_times() {
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    assert_eq!(c.on_exchange(&ack(2)).cancel, cancels(&[1]));
    for _ in 1..CANCEL_ATTEMPTS {
        assert_eq!(c.on_cancel_failed(OrderId(1), false).cancel, cancels(&[1]));
    }
    assert_eq!(c.on_cancel_failed(OrderId(1), false).cancel, [None; 2]);
    // A cancel that finds the order finished asks for a lookup: it may
    // have filled, and only the lookup's answer settles it.
    let out = c.on_cancel_failed(OrderId(1), true);
    assert_eq!(out.query, Some(OrderId(1)));
    assert_eq!(out.settled, None);
    assert!(c.tracks(OrderId(1)));
}

#[test]
fn a_replaced_stop_found_filled_by_its_lookup_is_the_cores_fill_and_a_cancelled_one_settles() {
    // Filled: the lookup's fill reaches the core under the stop the core
    // holds, so the exit is booked at the exchange's price.
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    c.on_exchange(&ack(2));
    assert_eq!(c.on_cancel_failed(OrderId(1), true).query, Some(OrderId(1)));
    assert_eq!(c.on_exchange(&fill(1)).to_core, Some(fill(2)));
    // Cancelled (or unknown to the exchange): settled, nothing for the core.
    let mut c = StopCoalescer::new(1);
    c.on_place(&stop(1));
    c.on_exchange(&ack(1));
    replace(&mut c, 1, 2);
    c.on_exchange(&ack(2));
    assert_eq!(c.on_cancel_failed(OrderId(1), true).query, Some(OrderId(1)));
    let out = c.on_exchange(&cancelled(1));
    assert_eq!(out.to_core, None);
    assert_eq!(
        out.settled,
        Some((OrderId(1), SymbolId(0), Settled::CancelConfirmed))
    );
    assert!(!c.tracks(OrderId(1)));
}

#[test]
fn orders_that_are_not_stops_pass_untouched() {
    let mut c = StopCoalescer::new(1);
    assert_eq!(c.on_cancel(OrderId(77)), sent());
    assert_eq!(c.on_exchange(&fill(77)).to_core, Some(fill(77)));
}

#[test]
fn an_adopted_stop_of_an_earlier_life_is_replaced_place_first_and_its_late_fill_is_the_cores() {
    let mut c = StopCoalescer::new(1);
    c.adopt(SymbolId(0), OrderId(5));
    assert!(c.tracks(OrderId(5)));
    let (_, place, end) = replace(&mut c, 5, 6);
    assert!(place.send_original, "the new stop goes first");
    assert_eq!(end, None);
    // The adopted stop fired before the replacement was acknowledged.
    let out = c.on_exchange(&fill(5));
    assert!(
        matches!(out.to_core, Some(Event::Fill(f)) if f.order == OrderId(6)),
        "{out:?}"
    );
}
