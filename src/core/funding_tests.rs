//! Funding in the core (issue 16): a settlement moves cash by exactly the
//! booked amount and records it, longs and shorts of one size net to
//! zero, a position closed before a settlement pays nothing at it, and a
//! large payment trips the kill switch like any loss.

use super::tests::{long, short, Bench};
use super::*;
use crate::funding::{funding_amount, FundingFee, FundingSettlement};
use crate::money::Money;
use crate::types::{Side, NS_PER_MIN};
use proptest::prelude::*;

fn settle(b: &mut Bench, rate: f64, mark: f64, minute: i64) {
    b.dispatch(Event::Funding(FundingSettlement {
        symbol: SymbolId(0),
        rate,
        mark: Price::from_f64(mark).unwrap(),
        ts: TimestampNs(minute * NS_PER_MIN),
    }));
}

fn payments(b: &Bench) -> Vec<crate::funding::FundingPayment> {
    b.records
        .iter()
        .filter_map(|r| match r {
            Record::Funding(p) => Some(*p),
            _ => None,
        })
        .collect()
}

/// A bench holding a position opened by `strategy` at 100.
fn opened(strategy: Box<dyn crate::strategy::Strategy>) -> Bench {
    let mut b = Bench::free(vec![strategy]);
    b.flat(0, 100.0);
    assert!(b.position().is_some_and(|p| p.open_qty > Qty::ZERO));
    b
}

#[test]
fn a_long_pays_a_positive_rate_and_cash_moves_by_exactly_the_amount() {
    let mut b = opened(long(&[0]));
    let qty = b.position().unwrap().open_qty;
    let (cash, equity) = (b.core.cash(), b.core.equity());
    settle(&mut b, 0.0001, 101.0, 5);
    let paid = payments(&b);
    assert_eq!(paid.len(), 1);
    let expected = funding_amount(Side::Buy, qty, Price::from_f64(101.0).unwrap(), 0.0001);
    assert!(expected < Money::ZERO);
    assert_eq!(paid[0].amount, expected);
    assert_eq!(paid[0].qty, qty);
    assert_eq!(paid[0].position, b.position().unwrap().id);
    assert_eq!(b.core.cash(), cash + expected);
    assert!((b.core.equity() - (equity + expected.to_f64())).abs() < 1e-9);
}

#[test]
fn long_and_short_of_one_size_net_to_zero() {
    let mut l = opened(long(&[0]));
    let mut s = opened(short(&[0]));
    assert_eq!(
        l.position().unwrap().open_qty,
        s.position().unwrap().open_qty
    );
    settle(&mut l, -0.000_37, 1_234.56, 5);
    settle(&mut s, -0.000_37, 1_234.56, 5);
    let (pl, ps) = (payments(&l)[0], payments(&s)[0]);
    assert!(pl.amount > Money::ZERO, "a long receives a negative rate");
    assert_eq!(pl.amount + ps.amount, Money::ZERO);
}

#[test]
fn a_position_closed_before_the_settlement_pays_nothing() {
    let mut b = opened(long(&[0]));
    b.dispatch(Event::Control {
        command: Command::Flatten,
        ts: TimestampNs(2 * NS_PER_MIN),
    });
    assert!(b.position().is_none());
    let cash = b.core.cash();
    settle(&mut b, 0.01, 100.0, 3);
    assert!(payments(&b).is_empty());
    assert_eq!(b.core.cash(), cash);
}

#[test]
fn an_exchange_reported_fee_is_booked_as_reported() {
    let mut b = opened(short(&[0]));
    let cash = b.core.cash();
    b.dispatch(Event::FundingFee(FundingFee {
        symbol: SymbolId(0),
        amount: Money(-1_234),
        ts: TimestampNs(4 * NS_PER_MIN),
    }));
    let p = payments(&b)[0];
    assert_eq!(p.amount, Money(-1_234));
    assert!(p.rate < 0.0, "a short paying implies a negative rate");
    assert_eq!(b.core.cash(), cash + Money(-1_234));
}

#[test]
fn a_large_funding_payment_trips_the_kill_switch() {
    let mut b = opened(long(&[0]));
    settle(&mut b, 0.9, 100_000.0, 5);
    assert!(b.records.iter().any(|r| matches!(
        r,
        Record::Halted {
            reason: HaltReason::KillSwitch,
            ..
        }
    )));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_funding_is_paid_only_while_open_and_nets_to_zero(
        close_after in prop::bool::ANY,
        rate in prop_oneof![Just(0.0001), Just(-0.0001), -0.003f64..0.003],
        mark in prop_oneof![Just(100.0), 1.0f64..50_000.0],
    ) {
        let mut l = opened(long(&[0]));
        let mut s = opened(short(&[0]));
        for b in [&mut l, &mut s] {
            if !close_after {
                b.dispatch(Event::Control { command: Command::Flatten, ts: TimestampNs(2 * NS_PER_MIN) });
            }
            settle(b, rate, mark, 3);
        }
        let (pl, ps) = (payments(&l), payments(&s));
        if close_after {
            prop_assert_eq!(pl.len(), 1);
            prop_assert_eq!(pl[0].amount + ps[0].amount, Money::ZERO);
        } else {
            prop_assert!(pl.is_empty() && ps.is_empty());
        }
    }
}
