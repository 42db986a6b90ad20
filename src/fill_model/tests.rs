use super::*;
use crate::orders::{OrderPurpose, PositionId};

fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

fn order(id: u64, side: Side, qty: f64, kind: OrderKind, reduce_only: bool) -> OrderIntent {
    OrderIntent {
        id: OrderId(id),
        position: PositionId(1),
        symbol: SymbolId(0),
        side,
        qty: Qty::from_f64(qty).unwrap(),
        kind,
        reduce_only,
        purpose: OrderPurpose::Entry,
        ts: TimestampNs(0),
    }
}

fn trade(price: f64, ts: i64) -> Trade {
    Trade {
        symbol: SymbolId(0),
        trade_id: 1,
        price: px(price),
        qty: Qty::from_f64(1.0).unwrap(),
        exchange_ts: TimestampNs(ts),
        aggressor: Side::Buy,
    }
}

fn candle(o: f64, h: f64, l: f64, c: f64) -> Candle {
    Candle {
        symbol: SymbolId(0),
        open_time: TimestampNs(0),
        open: px(o),
        high: px(h),
        low: px(l),
        close: px(c),
        volume: Qty::from_f64(1.0).unwrap(),
        trade_count: 1,
    }
}

fn cfg(slippage_bps: f64) -> SimulatorConfig {
    SimulatorConfig {
        slippage_bps,
        ..SimulatorConfig::default()
    }
}

fn fills(events: &[Event]) -> Vec<(u64, f64, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Fill(f) => Some((f.order.0, f.qty.to_f64(), f.price.to_f64())),
            _ => None,
        })
        .collect()
}

#[test]
fn market_order_fills_at_the_next_trade_with_slippage_and_taker_fee() {
    let mut sim = FillModel::new(&cfg(10.0), 1, MarketFill::NextTrade);
    let mut ev = Vec::new();
    sim.submit(
        &order(1, Side::Buy, 2.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    assert!(fills(&ev).is_empty());
    sim.on_trade(&trade(100.0, 5), &mut |e| ev.push(e));
    let Some(Event::Fill(f)) = ev.last().copied() else {
        panic!("{ev:?}")
    };
    assert!((f.price.to_f64() - 100.1).abs() < 1e-6);
    assert_eq!(f.fee, Money::from_f64(2.0 * f.price.to_f64() * 0.0005));
    assert_eq!(f.slippage, Money::from_f64(0.2));
    assert_eq!(f.ts, TimestampNs(5));
}

#[test]
fn market_order_on_klines_fills_at_once_at_the_last_close() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::LastClose);
    let mut ev = Vec::new();
    sim.submit(
        &order(1, Side::Sell, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    assert!(matches!(ev[0], Event::Rejected { .. }), "no price yet");
    sim.on_candle(&candle(100.0, 110.0, 90.0, 105.0), &mut |e| ev.push(e));
    sim.submit(
        &order(2, Side::Sell, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    assert_eq!(fills(&ev), [(2, 1.0, 105.0)]);
    assert_eq!(sim.position(SymbolId(0)).to_num::<f64>(), -1.0);
}

#[test]
fn stop_wins_when_a_candle_touches_both_stop_and_target() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::LastClose);
    let mut ev = Vec::new();
    sim.on_candle(&candle(100.0, 100.0, 100.0, 100.0), &mut |e| ev.push(e));
    sim.submit(
        &order(1, Side::Buy, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(
            2,
            Side::Sell,
            1.0,
            OrderKind::TakeProfitMarket { trigger: px(110.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(
            3,
            Side::Sell,
            1.0,
            OrderKind::StopMarket { trigger: px(95.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    ev.clear();
    sim.on_candle(&candle(100.0, 111.0, 94.0, 100.0), &mut |e| ev.push(e));
    assert_eq!(fills(&ev), [(3, 1.0, 95.0)]);
    assert!(
        matches!(
            ev[1],
            Event::Cancelled {
                order: OrderId(2),
                ..
            }
        ),
        "{ev:?}"
    );
}

#[test]
fn candle_gapping_through_the_stop_fills_at_the_open() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::LastClose);
    let mut ev = Vec::new();
    sim.on_candle(&candle(100.0, 100.0, 100.0, 100.0), &mut |e| ev.push(e));
    sim.submit(
        &order(1, Side::Buy, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(
            2,
            Side::Sell,
            1.0,
            OrderKind::StopMarket { trigger: px(95.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    ev.clear();
    sim.on_candle(&candle(90.0, 92.0, 88.0, 91.0), &mut |e| ev.push(e));
    assert_eq!(fills(&ev), [(2, 1.0, 90.0)]);
}

#[test]
fn take_profits_fill_nearest_first_at_their_triggers_on_candles() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::LastClose);
    let mut ev = Vec::new();
    sim.on_candle(&candle(100.0, 100.0, 100.0, 100.0), &mut |e| ev.push(e));
    sim.submit(
        &order(1, Side::Sell, 10.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(
            3,
            Side::Buy,
            4.0,
            OrderKind::TakeProfitMarket { trigger: px(88.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(
            2,
            Side::Buy,
            3.0,
            OrderKind::TakeProfitMarket { trigger: px(94.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    ev.clear();
    sim.on_candle(&candle(99.0, 99.0, 87.0, 90.0), &mut |e| ev.push(e));
    assert_eq!(fills(&ev), [(2, 3.0, 94.0), (3, 4.0, 88.0)]);
}

#[test]
fn triggers_fire_on_trades_at_the_trade_price() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::NextTrade);
    let mut ev = Vec::new();
    sim.submit(
        &order(1, Side::Buy, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    sim.on_trade(&trade(100.0, 1), &mut |e| ev.push(e));
    sim.submit(
        &order(
            2,
            Side::Sell,
            1.0,
            OrderKind::StopMarket { trigger: px(95.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    sim.on_trade(&trade(96.0, 2), &mut |e| ev.push(e));
    sim.on_trade(&trade(94.5, 3), &mut |e| ev.push(e));
    assert_eq!(fills(&ev), [(1, 1.0, 100.0), (2, 1.0, 94.5)]);
}

#[test]
fn reduce_only_is_capped_and_rejected_when_flat() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::LastClose);
    let mut ev = Vec::new();
    sim.on_candle(&candle(100.0, 100.0, 100.0, 100.0), &mut |e| ev.push(e));
    sim.submit(
        &order(1, Side::Buy, 1.0, OrderKind::Market, false),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(2, Side::Sell, 5.0, OrderKind::Market, true),
        &mut |e| ev.push(e),
    );
    sim.submit(
        &order(3, Side::Sell, 5.0, OrderKind::Market, true),
        &mut |e| ev.push(e),
    );
    assert_eq!(fills(&ev), [(1, 1.0, 100.0), (2, 1.0, 100.0)]);
    assert!(matches!(
        ev.last(),
        Some(Event::Rejected {
            order: OrderId(3),
            ..
        })
    ));
}

#[test]
fn cancel_removes_a_resting_order() {
    let mut sim = FillModel::new(&cfg(0.0), 1, MarketFill::NextTrade);
    let mut ev = Vec::new();
    sim.submit(
        &order(
            2,
            Side::Sell,
            1.0,
            OrderKind::StopMarket { trigger: px(95.0) },
            true,
        ),
        &mut |e| ev.push(e),
    );
    assert_eq!(sim.resting_orders(), 1);
    sim.cancel(OrderId(2), &mut |e| ev.push(e));
    assert_eq!(sim.resting_orders(), 0);
    assert!(matches!(
        ev.last(),
        Some(Event::Cancelled {
            order: OrderId(2),
            ..
        })
    ));
}
