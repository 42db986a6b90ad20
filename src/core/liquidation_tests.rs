//! Liquidation in the core (issue 16): a trade or candle extreme at the
//! position's liquidation price closes it with reason `liquidation`, for
//! longs and shorts, isolated and crossed margin; a cross position's
//! liquidation price moves with the cash behind it.

use super::tests::{long, short, Bench};
use super::*;
use crate::config::{Config, MarginType};
use crate::funding::FundingFee;
use crate::money::Money;
use crate::orders::OrderPurpose;
use crate::types::{Side, NS_PER_MIN};

fn bench(margin: MarginType, strategy: Box<dyn crate::strategy::Strategy>) -> Bench {
    let mut cfg = Config::default();
    cfg.simulator.taker_fee_bps = 0.0;
    cfg.simulator.slippage_bps = 0.0;
    cfg.exchange.margin_type = margin;
    let mut b = Bench::new(&cfg, vec![strategy]);
    b.flat(0, 100.0);
    assert!(b.position().is_some_and(|p| p.open_qty > Qty::ZERO));
    b
}

/// Feeds a trade at `price` to the core alone (the simulated exchange's
/// stop does not see it) and returns the closes the core sent.
fn trade_closes(b: &mut Bench, price: f64) -> Vec<OrderPurpose> {
    b.core.on_event(&Event::Trade(crate::types::Trade {
        symbol: SymbolId(0),
        trade_id: 1,
        price: Price::from_f64(price).unwrap(),
        qty: Qty::from_f64(0.001).unwrap(),
        exchange_ts: TimestampNs(3 * NS_PER_MIN),
        aggressor: Side::Sell,
    }));
    let mut out = Vec::new();
    while let Some(a) = b.core.next_action() {
        if let Action::Place(o) = a {
            out.push(o.purpose);
        }
    }
    out
}

const LIQUIDATION: OrderPurpose = OrderPurpose::Close(ExitReason::Liquidation);

#[test]
fn isolated_long_is_liquidated_at_its_price_and_not_above() {
    // Leverage 5, MMR 0.4 %: 100 × 0.8 / 0.996 = 80.32.
    let mut b = bench(MarginType::Isolated, long(&[0]));
    assert!(trade_closes(&mut b, 80.5).is_empty());
    assert_eq!(trade_closes(&mut b, 80.3), vec![LIQUIDATION]);
}

#[test]
fn isolated_short_is_liquidated_at_its_price_and_not_below() {
    // 100 × 1.2 / 1.004 = 119.52.
    let mut b = bench(MarginType::Isolated, short(&[0]));
    assert!(trade_closes(&mut b, 119.4).is_empty());
    assert_eq!(trade_closes(&mut b, 119.6), vec![LIQUIDATION]);
}

#[test]
fn cross_long_is_backed_by_the_cash_until_a_loss_drains_it() {
    let mut b = bench(MarginType::Crossed, long(&[0]));
    // 10 000 of cash behind a position worth far less: no liquidation price.
    assert!(trade_closes(&mut b, 1.0).is_empty());
    let p = b.position().unwrap();
    let notional = p.open_qty.to_f64() * p.entry_price;
    // A funding fee leaves cash of 1 % of the notional, which moves the
    // liquidation price above the stop at 97.
    let keep = Money::from_f64(notional * 0.01);
    let fee = keep - b.core.cash();
    b.dispatch(Event::FundingFee(FundingFee {
        symbol: SymbolId(0),
        amount: fee,
        ts: TimestampNs(2 * NS_PER_MIN),
    }));
    // LP = (notional - cash) / (qty × 0.996) = 99 / 0.996 = 99.40.
    assert!(trade_closes(&mut b, 99.5).is_empty());
    assert_eq!(trade_closes(&mut b, 99.3), vec![LIQUIDATION]);
}

#[test]
fn cross_short_is_liquidated_where_the_cash_runs_out() {
    let mut b = bench(MarginType::Crossed, short(&[0]));
    let p = b.position().unwrap();
    let qty = p.open_qty.to_f64();
    let cash = b.core.cash().to_f64();
    // LP = (cash + qty × 100) / (qty × 1.004).
    let lp = (cash + qty * p.entry_price) / (qty * 1.004);
    assert!(trade_closes(&mut b, lp - 0.5).is_empty());
    assert_eq!(trade_closes(&mut b, lp + 0.5), vec![LIQUIDATION]);
}

#[test]
fn a_liquidated_position_closes_with_reason_liquidation() {
    let mut b = bench(MarginType::Isolated, long(&[0]));
    // The candle's low reaches the liquidation price; the exchange's stop
    // at 97 was never placed in this bench's exchange (a missing stop).
    let stop = b.position().unwrap().stop_order.unwrap();
    b.sim.cancel(stop, &mut |_| {});
    b.candle(1, 100.0, 100.0, 80.0, 81.0);
    b.flat(2, 81.0);
    let t = b.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].exit_reason, ExitReason::Liquidation);
}
