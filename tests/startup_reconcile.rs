//! Start-up reconciliation (`runtime::startup::reconcile`) against the
//! loopback BingX simulator: a missing stop is placed, an orphan order of
//! ours is cancelled (a foreign one left), an in-flight entry is found by
//! client order id and adopted (never resent), an entry never created is
//! reported, a position closed while the engine was down is booked, an
//! interrupted stop tightening is completed, unknown positions follow the
//! policy.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use bingx_sim::{SimConfig, SimHandle, Simulator, Speed};
use std::time::Duration;
use trading_engine::core::Event;
use trading_engine::io::order::{
    ClientOrderId, OrderAck, OrderKind, OrderRef, OrderRequest, PositionSide, TimeInForce,
};
use trading_engine::io::rest::{RestClient, RestConfig, RetryPolicy};
use trading_engine::io::wire::{price_from_text, qty_from_text};
use trading_engine::orders::OrderId;
use trading_engine::runtime::startup::reconcile::{
    reconcile, reconcile_with, CoreOrder, CorePosition, CoreView, Correction, OrderRole,
    ReconcileConfig, UnknownPositionPolicy,
};
use trading_engine::types::{Price, Qty, Side, SymbolId, TimestampNs};

const BTC: SymbolId = SymbolId(0);

fn sim() -> SimHandle {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        warmup_minutes: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.inject_trade("60000.0", "0.0100", false).unwrap();
    sim
}

fn client(sim: &SimHandle) -> RestClient {
    let mut cfg = RestConfig::new(&sim.rest_base(), "sim-key", "sim-secret");
    cfg.http.request_timeout = Duration::from_secs(5);
    cfg.retry = RetryPolicy {
        reconcile_delay: Duration::from_millis(5),
        base_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let mut c = RestClient::try_new(cfg).unwrap();
    c.sync_time().unwrap();
    c.load_symbols(&["BTC-USDT"]).unwrap();
    c
}

fn cfg(policy: UnknownPositionPolicy) -> ReconcileConfig {
    ReconcileConfig {
        client_prefix: "te-".into(),
        recovery_prefix: "te-r1-".into(),
        unknown_position: policy,
    }
}

fn qty(t: &str) -> Qty {
    qty_from_text(t).unwrap()
}

fn px(t: &str) -> Price {
    price_from_text(t).unwrap()
}

fn cid(t: &str) -> ClientOrderId {
    ClientOrderId::try_new(t).unwrap()
}

fn send(rest: &mut RestClient, id: &str, kind: OrderKind, side: Side, stop: &str) -> OrderAck {
    // Every order here works the long leg (hedge mode).
    rest.place_order(&OrderRequest {
        symbol: BTC,
        side,
        position_side: PositionSide::Long,
        kind,
        qty: qty("0.0100"),
        price: if kind == OrderKind::Limit {
            px("50000.0")
        } else {
            Price::ZERO
        },
        stop_price: if kind.is_trigger() {
            px(stop)
        } else {
            Price::ZERO
        },
        reduce_only: false,
        time_in_force: (kind == OrderKind::Limit).then_some(TimeInForce::Gtc),
        client_order_id: cid(id),
    })
    .unwrap()
}

fn long_position(stop: &str, stop_order: Option<u64>, open: &str) -> CorePosition {
    CorePosition {
        symbol: BTC,
        side: Side::Buy,
        open_qty: qty(open),
        stop: px(stop),
        stop_order: stop_order.map(OrderId),
    }
}

fn stop_order(order: u64, id: &str, stop: &str, exchange: Option<u64>) -> CoreOrder {
    CoreOrder {
        order: OrderId(order),
        symbol: BTC,
        role: OrderRole::Stop,
        side: Side::Sell,
        kind: OrderKind::StopMarket,
        qty: qty("0.0100"),
        stop_price: px(stop),
        client_order_id: cid(id),
        exchange_order_id: exchange,
        cancel_requested: false,
        booked: Default::default(),
    }
}

fn entry_order(order: u64, id: &str) -> CoreOrder {
    CoreOrder {
        order: OrderId(order),
        symbol: BTC,
        role: OrderRole::Entry,
        side: Side::Buy,
        kind: OrderKind::Market,
        qty: qty("0.0100"),
        stop_price: Price::ZERO,
        client_order_id: cid(id),
        exchange_order_id: None,
        cancel_requested: false,
        booked: Default::default(),
    }
}

fn open_ids(rest: &mut RestClient) -> Vec<String> {
    let mut v: Vec<String> = rest
        .open_orders(Some(BTC))
        .unwrap()
        .into_iter()
        .map(|o| o.client_order_id)
        .collect();
    v.sort();
    v
}

fn long_qty(rest: &mut RestClient) -> Qty {
    rest.positions(Some("BTC-USDT"))
        .unwrap()
        .iter()
        .filter(|p| p.position_side == "LONG")
        .map(|p| p.position_amt)
        .fold(Qty::ZERO, |a, b| Qty(a.0 + b.0))
}

#[test]
fn missing_stop_is_placed_and_a_second_pass_changes_nothing() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    // The dead-man switch cancelled the stop while the engine was down.
    rest.cancel_order(BTC, OrderRef::OrderId(stop.order_id))
        .unwrap();
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", Some(stop.order_id))],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let Correction::StopPlaced {
        replaces,
        side,
        qty: q,
        stop_price,
        client_order_id,
        exchange_order_id,
        ..
    } = got[0]
    else {
        panic!("{got:?}");
    };
    assert_eq!(replaces, Some(OrderId(2)));
    assert_eq!(
        (side, q, stop_price),
        (Side::Sell, qty("0.0100"), px("59000.0"))
    );
    assert_eq!(client_order_id.as_str(), "te-r1-s2");
    assert_eq!(
        got[0].core_events(TimestampNs(1)),
        [
            Some(Event::Ack {
                order: OrderId(2),
                ts: TimestampNs(1)
            }),
            None
        ]
    );
    assert_eq!(open_ids(&mut rest), vec!["te-r1-s2".to_owned()]);

    // The caller maps the new stop onto order 2: nothing left to correct.
    let view = CoreView {
        positions: view.positions,
        orders: vec![CoreOrder {
            client_order_id,
            ..stop_order(2, "te-r1-s2", "59000.0", Some(exchange_order_id))
        }],
        ..CoreView::default()
    };
    let again = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(long_qty(&mut rest), qty("0.0100"));
}

#[test]
fn orphan_order_of_ours_is_cancelled_and_a_foreign_one_left() {
    let sim = sim();
    let mut rest = client(&sim);
    let ours = send(&mut rest, "te-9", OrderKind::Limit, Side::Buy, "");
    send(&mut rest, "manual-1", OrderKind::Limit, Side::Buy, "");
    let got = reconcile(
        &mut rest,
        &CoreView::default(),
        &cfg(UnknownPositionPolicy::Leave),
    )
    .unwrap();
    assert_eq!(
        got,
        vec![Correction::OrphanCancelled {
            symbol: BTC,
            exchange_order_id: ours.order_id,
            client_order_id: cid("te-9"),
        }]
    );
    assert_eq!(open_ids(&mut rest), vec!["manual-1".to_owned()]);
}

#[test]
fn in_flight_entry_is_found_by_client_id_and_never_resent() {
    let sim = sim();
    let mut rest = client(&sim);
    // The entry reached the exchange, but the engine died before the ack.
    let ack = send(&mut rest, "te-5", OrderKind::Market, Side::Buy, "");
    let view = CoreView {
        positions: vec![long_position("59000.0", None, "0")],
        orders: vec![entry_order(5, "te-5"), entry_order(6, "te-6")],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Flatten)).unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    let Correction::Filled {
        order,
        exchange_order_id,
        qty: q,
        price,
        unacked,
        ..
    } = got[0]
    else {
        panic!("{got:?}");
    };
    assert_eq!(
        (order, exchange_order_id, q, unacked),
        (OrderId(5), ack.order_id, qty("0.0100"), true)
    );
    assert!(price.to_f64() > 59_000.0 && price.to_f64() < 61_000.0);
    // Ack then fill for the core, which then places the stop itself.
    let events = got[0].core_events(TimestampNs(7));
    assert!(matches!(
        events[0],
        Some(Event::Ack {
            order: OrderId(5),
            ..
        })
    ));
    assert!(matches!(events[1], Some(Event::Fill(f)) if f.order == OrderId(5) && f.qty == q));
    // Entry 6 never reached the exchange: reported, not sent.
    assert_eq!(
        got[1],
        Correction::NotPlaced {
            order: OrderId(6),
            symbol: BTC
        }
    );
    assert!(matches!(
        got[1].core_events(TimestampNs(7))[0],
        Some(Event::Rejected {
            order: OrderId(6),
            ..
        })
    ));
    assert_eq!(long_qty(&mut rest), qty("0.0100"), "no duplicate entry");
    assert!(open_ids(&mut rest).is_empty(), "nothing placed");
}

#[test]
fn stop_filled_while_down_is_reported_as_its_fill() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    sim.inject_trade("58900.0", "0.0500", true).unwrap();
    assert_eq!(
        long_qty(&mut rest),
        Qty::ZERO,
        "the stop closed the position"
    );
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", Some(stop.order_id))],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(matches!(
        got[0],
        Correction::Filled { order: OrderId(2), unacked: false, qty: q, .. } if q == qty("0.0100")
    ));
    let events = got[0].core_events(TimestampNs(3));
    assert_eq!(events[0], None);
    assert!(matches!(events[1], Some(Event::Fill(f)) if f.order == OrderId(2)));
}

#[test]
fn a_fill_an_earlier_life_already_booked_is_not_booked_again() {
    // Life 1's reconciliation booked the stop's fill of 0.0100 and was
    // killed before the position was settled; life 2 looks the same stop
    // up again: nothing more filled, nothing is reported twice.
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    sim.inject_trade("58900.0", "0.0500", true).unwrap();
    let info = rest
        .query_order(BTC, OrderRef::OrderId(stop.order_id))
        .unwrap();
    let mut booked = trading_engine::orders::Booked::default();
    booked.add(
        info.executed_qty,
        info.avg_price,
        trading_engine::money::Money::from_f64(info.commission.to_f64().abs()),
    );
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![CoreOrder {
            booked,
            ..stop_order(2, "te-2", "59000.0", Some(stop.order_id))
        }],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert!(
        !got.iter().any(|c| matches!(c, Correction::Filled { .. })),
        "{got:?}"
    );
    // Half booked: only the other half is reported, at the price that
    // makes the two halves add up to the exchange's average.
    let mut half = trading_engine::orders::Booked::default();
    half.add(
        qty("0.0050"),
        info.avg_price,
        trading_engine::money::Money::ZERO,
    );
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0050")],
        orders: vec![CoreOrder {
            booked: half,
            ..stop_order(2, "te-2", "59000.0", Some(stop.order_id))
        }],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    let filled: Vec<_> = got
        .iter()
        .filter_map(|c| match *c {
            Correction::Filled { qty: q, price, .. } => Some((q, price)),
            _ => None,
        })
        .collect();
    assert_eq!(filled.len(), 1, "{got:?}");
    assert!((filled[0].0.to_f64() - 0.005).abs() < 1e-8, "{got:?}");
    assert!(
        (filled[0].1.to_f64() - info.avg_price.to_f64()).abs() < 1e-6,
        "{got:?}"
    );
    assert_eq!(got.len(), 1, "the position then agrees: {got:?}");
}

#[test]
fn position_closed_on_the_exchange_without_our_fill_is_booked_on_the_stop() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    rest.cancel_order(BTC, OrderRef::OrderId(stop.order_id))
        .unwrap();
    // Someone closed it by hand.
    send(&mut rest, "manual-close", OrderKind::Market, Side::Sell, "");
    assert_eq!(long_qty(&mut rest), Qty::ZERO);
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", Some(stop.order_id))],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let Correction::PositionClosedOnExchange {
        side,
        qty: q,
        booked_on,
        price,
        ..
    } = got[0]
    else {
        panic!("{got:?}");
    };
    assert_eq!(
        (side, q, booked_on),
        (Side::Buy, qty("0.0100"), Some(OrderId(2)))
    );
    assert!(price.is_positive());
    let events = got[0].core_events(TimestampNs(3));
    assert!(matches!(events[0], Some(Event::Fill(f)) if f.order == OrderId(2) && f.qty == q));
    assert!(open_ids(&mut rest).is_empty());
}

#[test]
fn position_closed_by_a_recovery_stop_is_booked_at_that_stops_fill_without_an_order_of_the_core() {
    // An earlier life's reconciliation protected the position with a stop
    // of its own (the core held no stop order, e.g. after a refused close);
    // that stop fired while the engine was down.
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let recovery = send(
        &mut rest,
        "te-r0-p0",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    sim.inject_trade("58900.0", "0.0500", true).unwrap();
    assert_eq!(
        long_qty(&mut rest),
        Qty::ZERO,
        "the recovery stop closed it"
    );
    let filled = rest
        .query_order(BTC, OrderRef::OrderId(recovery.order_id))
        .unwrap();
    let view = CoreView {
        positions: vec![long_position("59000.0", None, "0.0100")],
        orders: Vec::new(),
        recovery_stops: vec![(BTC, recovery.order_id)],
        recovery_sends: Vec::new(),
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let Correction::PositionClosedOnExchange {
        booked_on,
        price,
        fee,
        at,
        ..
    } = got[0]
    else {
        panic!("{got:?}");
    };
    assert_eq!(booked_on, None);
    assert_eq!(price, filled.avg_price, "booked at the stop's fill");
    assert!(fee.to_f64() > 0.0, "with its fee");
    assert!(at.is_some());
    let events = got[0].core_events(TimestampNs(3));
    let Some(Event::ExchangeClose(c)) = events[0] else {
        panic!("{events:?}");
    };
    assert_eq!((c.side, c.qty, c.price), (Side::Buy, qty("0.0100"), price));
    assert_eq!(c.fee, fee);
    // Without the recovery stop to look up, the close is still booked (at
    // the last price): the core never keeps a position the exchange lacks.
    let view = CoreView {
        positions: vec![long_position("59000.0", None, "0.0100")],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    let events = got[0].core_events(TimestampNs(3));
    assert!(
        matches!(events[0], Some(Event::ExchangeClose(c)) if c.price.is_positive() && c.fee.to_f64() == 0.0),
        "{events:?}"
    );
}

/// Reconciles, as the fifth start (`te-r5-`), a core long of 0.01 with
/// stop order 2 (`te-2`, never on the book) against an exchange that no
/// longer holds it; returns the close's order, price and fee.
fn closed_at_the_fifth_start(
    rest: &mut RestClient,
) -> (Option<OrderId>, Price, trading_engine::money::Money) {
    closed_at_start(rest, 5, Vec::new())
}

/// The close booked by start `session` for the long position of stop 2
/// that the exchange no longer holds, with `sends` journaled.
fn closed_at_start(
    rest: &mut RestClient,
    session: u64,
    sends: Vec<(SymbolId, u64, Option<OrderId>)>,
) -> (Option<OrderId>, Price, trading_engine::money::Money) {
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", None)],
        recovery_stops: Vec::new(),
        recovery_sends: sends,
    };
    let cfg = ReconcileConfig {
        recovery_prefix: format!("te-r{session}-"),
        ..cfg(UnknownPositionPolicy::Leave)
    };
    let got = reconcile(rest, &view, &cfg).unwrap();
    got.iter()
        .find_map(|c| match *c {
            Correction::PositionClosedOnExchange {
                booked_on,
                price,
                fee,
                ..
            } => Some((booked_on, price, fee)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{got:?}"))
}

/// Found by the chaos harness: a start placed its stop for the position
/// (`te-r3-s2`) and was killed before journaling it; the stop fired while
/// the engine was down. A later start finds the position gone and books
/// the close at that stop's fill, looked up by the id that start gave it.
#[test]
fn position_closed_by_an_unjournaled_recovery_stop_of_an_earlier_start_is_booked_at_its_fill() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let recovery = send(
        &mut rest,
        "te-r3-s2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    sim.inject_trade("58900.0", "0.0500", true).unwrap();
    assert_eq!(long_qty(&mut rest), Qty::ZERO, "the stop closed it");
    let filled = rest
        .query_order(BTC, OrderRef::OrderId(recovery.order_id))
        .unwrap();
    let closed = closed_at_the_fifth_start(&mut rest);
    assert_eq!(closed.0, Some(OrderId(2)));
    assert_eq!(closed.1, filled.avg_price, "booked at the stop's fill");
    assert!(closed.2.to_f64() > 0.0, "with its fee");
}

/// Found by the 1,000-kill chaos run: a start closed a position it could
/// not protect (`te-r4-f0`) and was killed before journaling it; the next
/// start books the close at that order's fill, not at the last price.
#[test]
fn position_closed_by_an_unjournaled_flatten_of_an_earlier_start_is_booked_at_its_fill() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let close = send(&mut rest, "te-r4-f0", OrderKind::Market, Side::Sell, "");
    assert_eq!(long_qty(&mut rest), Qty::ZERO, "the close closed it");
    let filled = rest
        .query_order(BTC, OrderRef::OrderId(close.order_id))
        .unwrap();
    let closed = closed_at_the_fifth_start(&mut rest);
    assert_eq!(closed.1, filled.avg_price, "booked at the close's fill");
    assert!(closed.2.to_f64() > 0.0, "with its fee");
}

/// Found by the 1,000-kill chaos run: start 388 closed a position at
/// market and was killed before journaling it, and the 42 starts after it
/// were killed before they could act. Start 431 looked up only the ids of
/// the last 8 starts and booked the close at the last price (799 USDT off
/// the exchange). The announcement start 388 journaled before sending
/// names its ids however far back it is.
#[test]
fn a_close_announced_by_a_start_long_ago_is_booked_at_its_fill() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let close = send(&mut rest, "te-r4-f0", OrderKind::Market, Side::Sell, "");
    let filled = rest
        .query_order(BTC, OrderRef::OrderId(close.order_id))
        .unwrap();
    // Without the announcement, 36 starts later, the close is not found.
    let unannounced = closed_at_start(&mut rest, 40, Vec::new());
    assert_eq!(unannounced.2.to_f64(), 0.0, "booked at the last price");
    let announced = closed_at_start(&mut rest, 40, vec![(BTC, 4, Some(OrderId(2)))]);
    assert_eq!(announced.0, Some(OrderId(2)));
    assert_eq!(announced.1, filled.avg_price, "booked at the close's fill");
    assert!(announced.2.to_f64() > 0.0, "with its fee");
}

#[test]
fn interrupted_stop_tightening_places_the_new_stop_before_cancelling_the_old() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let old = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    // The core sent cancel(2) + place(3 at 59500); neither reached the exchange.
    let view = CoreView {
        positions: vec![long_position("59500.0", Some(3), "0.0100")],
        orders: vec![
            CoreOrder {
                cancel_requested: true,
                ..stop_order(2, "te-2", "59000.0", Some(old.order_id))
            },
            stop_order(3, "te-3", "59500.0", None),
        ],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(matches!(
        got[0],
        Correction::StopPlaced { replaces: Some(OrderId(3)), stop_price, .. } if stop_price == px("59500.0")
    ));
    assert_eq!(
        got[1],
        Correction::Cancelled {
            order: OrderId(2),
            symbol: BTC
        }
    );
    let open = rest.open_orders(Some(BTC)).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_order_id, "te-r1-s3");
    assert_eq!(open[0].stop_price, px("59500.0"));
}

#[test]
fn unknown_position_is_adopted_at_the_exchanges_entry_price_by_policy() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "manual-3", OrderKind::Market, Side::Buy, "");
    let entry = rest
        .positions(None)
        .unwrap()
        .into_iter()
        .find(|p| !p.position_amt.is_zero())
        .unwrap()
        .avg_price;
    assert!(entry.is_positive());
    let got = reconcile(
        &mut rest,
        &CoreView::default(),
        &cfg(UnknownPositionPolicy::Adopt),
    )
    .unwrap();
    assert_eq!(
        got,
        vec![Correction::PositionAdopted {
            symbol: BTC,
            side: Side::Buy,
            qty: qty("0.0100"),
            price: entry,
        }]
    );
    assert_eq!(long_qty(&mut rest), qty("0.0100"), "nothing traded");
    let events = got[0].core_events(TimestampNs(7));
    assert!(
        matches!(events[0], Some(Event::AdoptPosition(a))
            if a.price == entry && a.qty == qty("0.0100") && a.side == Side::Buy),
        "{events:?}"
    );
    let j = got[0].to_journal(TimestampNs(7));
    assert_eq!(
        j.kind,
        trading_engine::journal_schema::CorrectionKind::AdoptedPosition
    );
    assert_eq!(j.price, entry);
}

#[test]
fn unknown_position_is_flattened_or_left_by_policy() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "manual-2", OrderKind::Market, Side::Buy, "");
    let got = reconcile(
        &mut rest,
        &CoreView::default(),
        &cfg(UnknownPositionPolicy::Leave),
    )
    .unwrap();
    assert_eq!(
        got,
        vec![Correction::UnknownPositionLeft {
            symbol: BTC,
            side: Side::Buy,
            qty: qty("0.0100")
        }]
    );
    assert_eq!(long_qty(&mut rest), qty("0.0100"));
    let got = reconcile(
        &mut rest,
        &CoreView::default(),
        &cfg(UnknownPositionPolicy::Flatten),
    )
    .unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(matches!(
        got[0],
        Correction::Flattened {
            side: Side::Buy,
            booked_on: None,
            ..
        }
    ));
    assert_eq!(long_qty(&mut rest), Qty::ZERO);
}

#[test]
fn recovery_prefix_must_extend_the_client_prefix() {
    let sim = sim();
    let mut rest = client(&sim);
    let bad = ReconcileConfig {
        recovery_prefix: "xx-".into(),
        ..cfg(UnknownPositionPolicy::Leave)
    };
    let err = reconcile(&mut rest, &CoreView::default(), &bad).unwrap_err();
    assert!(err.applied.is_empty());
    assert!(err.to_string().contains("recovery prefix \"xx-\""), "{err}");
}

#[test]
fn corrections_become_journal_records_that_round_trip() {
    use trading_engine::journal_schema::{CorrectionKind, JournalRecord};
    let placed = Correction::StopPlaced {
        replaces: Some(OrderId(4)),
        symbol: BTC,
        side: Side::Sell,
        qty: qty("0.0100"),
        stop_price: px("59000.0"),
        client_order_id: cid("te-r1-s4"),
        exchange_order_id: 77,
    };
    let rec = JournalRecord::Correction(placed.to_journal(TimestampNs(9)));
    let mut buf = [0u8; 256];
    let n = rec.encode(&mut buf);
    let JournalRecord::Correction(c) = JournalRecord::decode(rec.tag(), &buf[..n]).unwrap() else {
        panic!("not a correction");
    };
    assert_eq!(c.kind, CorrectionKind::StopPlaced);
    assert_eq!(
        (c.order, c.exchange_id, c.qty, c.price),
        (OrderId(4), 77, qty("0.0100"), px("59000.0"))
    );
    let left = Correction::UnknownPositionLeft {
        symbol: BTC,
        side: Side::Buy,
        qty: qty("0.0200"),
    };
    let rec = JournalRecord::Correction(left.to_journal(TimestampNs(9)));
    let n = rec.encode(&mut buf);
    let JournalRecord::Correction(c) = JournalRecord::decode(rec.tag(), &buf[..n]).unwrap() else {
        panic!("not a correction");
    };
    assert_eq!(c.kind, CorrectionKind::UnknownPositionLeft);
    assert_eq!(c.qty, qty("0.0200"));
}

/// Average fill price and update time (ns) of exchange order `id`.
fn fill_of(rest: &mut RestClient, id: u64) -> (Price, TimestampNs) {
    let info = rest.query_order(BTC, OrderRef::OrderId(id)).unwrap();
    assert!(info.executed_qty.is_positive(), "{info:?}");
    (info.avg_price, TimestampNs(info.update_time_ms * 1_000_000))
}

#[test]
fn issue_19_a_stop_filled_while_down_is_booked_at_its_fill_price_and_time() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    sim.inject_trade("58900.0", "0.0500", true).unwrap();
    sim.inject_trade("61000.0", "0.0500", true).unwrap();
    let (price, at) = fill_of(&mut rest, stop.order_id);
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", Some(stop.order_id))],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    let events = got[0].core_events(TimestampNs(3));
    let Some(Event::Fill(f)) = events[1] else {
        panic!("{got:?}");
    };
    assert_eq!((f.order, f.price, f.ts), (OrderId(2), price, at));
    assert!(f.price < px("60000.0"), "not the restart price: {f:?}");
}

#[test]
fn issue_19_a_stop_the_market_passed_while_down_closes_at_market_booked_at_the_close_fill() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    let stop = send(
        &mut rest,
        "te-2",
        OrderKind::StopMarket,
        Side::Sell,
        "59000.0",
    );
    // The dead-man switch cancelled the stop, then the market fell through it.
    rest.cancel_order(BTC, OrderRef::OrderId(stop.order_id))
        .unwrap();
    sim.inject_trade("58000.0", "0.0500", true).unwrap();
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![stop_order(2, "te-2", "59000.0", Some(stop.order_id))],
        ..CoreView::default()
    };
    let got = reconcile(&mut rest, &view, &cfg(UnknownPositionPolicy::Leave)).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let Correction::Flattened {
        booked_on,
        exchange_order_id,
        price,
        at,
        ..
    } = got[0]
    else {
        panic!("{got:?}");
    };
    assert_eq!(booked_on, Some(OrderId(2)));
    let (fill_price, fill_at) = fill_of(&mut rest, exchange_order_id);
    assert_eq!((price, at), (fill_price, Some(fill_at)));
    let events = got[0].core_events(TimestampNs(3));
    assert!(
        matches!(events[0], Some(Event::Fill(f)) if f.order == OrderId(2) && f.price == fill_price && f.ts == fill_at),
        "{events:?}"
    );
    assert_eq!(long_qty(&mut rest), Qty::ZERO);
    assert!(open_ids(&mut rest).is_empty());
}

#[test]
fn issue_19_stops_come_first_and_every_correction_reaches_the_sink_when_applied() {
    let sim = sim();
    let mut rest = client(&sim);
    send(&mut rest, "te-1", OrderKind::Market, Side::Buy, "");
    // The stop was never placed and an entry of another symbol slot is in
    // flight with no trace on the exchange: both need the exchange, the
    // stop comes first.
    let view = CoreView {
        positions: vec![long_position("59000.0", Some(2), "0.0100")],
        orders: vec![
            entry_order(5, "te-5"),
            stop_order(2, "te-2", "59000.0", None),
        ],
        ..CoreView::default()
    };
    let mut seen = Vec::new();
    let got = reconcile_with(
        &mut rest,
        &view,
        &cfg(UnknownPositionPolicy::Leave),
        &mut |c| seen.push(*c),
    )
    .unwrap();
    assert_eq!(
        seen[0],
        Correction::RecoverySending {
            symbol: BTC,
            replaces: Some(OrderId(2)),
        },
        "announced before the stop is sent"
    );
    assert_eq!(seen[1..], got, "every correction is told as it is applied");
    assert!(
        matches!(
            got[0],
            Correction::StopPlaced {
                replaces: Some(OrderId(2)),
                ..
            }
        ),
        "{got:?}"
    );
    assert!(got[1..].iter().any(|c| matches!(
        c,
        Correction::NotPlaced {
            order: OrderId(5),
            ..
        }
    )));
    assert_eq!(open_ids(&mut rest), vec!["te-r1-s2".to_owned()]);
}
