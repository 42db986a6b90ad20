//! Perpetual-swap funding: the settlement event the core receives, the
//! payment record it produces, the amount rule, and the readers of the
//! funding-rate and mark-price files a backtest settles from.
//!
//! Consumes funding rates and mark prices (Binance public-data `fundingRate`
//! and `markPriceKlines` files, or the exchange's user stream); produces
//! [`FundingSettlement`] events for the core and the [`FundingPayment`]s it
//! records. The amount rule ([`funding_amount`]) is the one place that says
//! who pays: `qty × mark × rate`, longs pay when the rate is positive and
//! shorts receive, the reverse when it is negative. Never allocates on the
//! settlement path (the readers are cold path).

mod error;
pub mod files;
pub mod marks;
pub mod rates;
pub mod schedule;

pub use error::PerpDataError;

use crate::money::Money;
use crate::orders::PositionId;
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

/// A funding settlement at a rate: every open position of `symbol` pays or
/// receives `qty × mark × rate` ([`funding_amount`]). What backtest and
/// paper feed the core at each funding time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingSettlement {
    /// Symbol settled.
    pub symbol: SymbolId,
    /// Funding rate as a fraction (0.0001 = 0.01 %); positive means longs
    /// pay shorts.
    pub rate: f64,
    /// Mark price at the settlement.
    pub mark: Price,
    /// Settlement time.
    pub ts: TimestampNs,
}

/// A funding fee the exchange reported as already settled (live: the
/// user stream's balance update with reason `FUNDING_FEE`). The core books
/// the amount as reported, without recomputing it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingFee {
    /// Symbol settled.
    pub symbol: SymbolId,
    /// Amount credited to the wallet (negative: paid), quote currency.
    pub amount: Money,
    /// Settlement time (exchange time).
    pub ts: TimestampNs,
}

/// One funding payment booked by the core: journaled as its own record
/// and summed per trade, strategy and symbol by the reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingPayment {
    /// Position that paid or received (`PositionId(0)` when the exchange
    /// reported a fee for a symbol the core holds no position in).
    pub position: PositionId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Side of the position (`Buy` = long).
    pub side: Side,
    /// Open quantity at the settlement (unsigned).
    pub qty: Qty,
    /// Mark price used.
    pub mark: Price,
    /// Funding rate (for an exchange-reported fee: the rate the amount
    /// implies at `mark`, 0 when it cannot be derived).
    pub rate: f64,
    /// Amount credited to cash (negative: paid), quote currency.
    pub amount: Money,
    /// Settlement time.
    pub ts: TimestampNs,
}

/// Returns the funding a position of `qty` on `side` is credited at a
/// settlement at `mark` and `rate` (negative: it pays). A long pays
/// `qty × mark × rate` when the rate is positive and receives it when the
/// rate is negative; a short the reverse. Rounded to the nearest 1e-8,
/// half away from zero, so a long and a short of the same size always net
/// to exactly zero.
#[must_use]
pub fn funding_amount(side: Side, qty: Qty, mark: Price, rate: f64) -> Money {
    let notional_rate = qty.to_f64() * mark.to_f64() * rate;
    match side {
        Side::Buy => -Money::from_f64(notional_rate),
        Side::Sell => Money::from_f64(notional_rate),
    }
}

/// Returns the rate an exchange-reported `amount` implies for a position
/// of `qty` on `side` at `mark` (0 when qty or mark is zero).
#[must_use]
pub fn implied_rate(side: Side, qty: Qty, mark: Price, amount: Money) -> f64 {
    let notional = qty.to_f64() * mark.to_f64();
    if notional > 0.0 {
        match side {
            Side::Buy => -amount.to_f64() / notional,
            Side::Sell => amount.to_f64() / notional,
        }
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: f64) -> Qty {
        Qty::from_f64(v).unwrap()
    }

    fn p(v: f64) -> Price {
        Price::from_f64(v).unwrap()
    }

    #[test]
    fn long_pays_and_short_receives_when_the_rate_is_positive() {
        let long = funding_amount(Side::Buy, q(2.0), p(1_000.0), 0.0001);
        let short = funding_amount(Side::Sell, q(2.0), p(1_000.0), 0.0001);
        assert_eq!(long, Money::from_f64(-0.2));
        assert_eq!(short, Money::from_f64(0.2));
    }

    #[test]
    fn a_negative_rate_reverses_who_pays() {
        let long = funding_amount(Side::Buy, q(1.5), p(2_000.0), -0.0002);
        assert_eq!(long, Money::from_f64(0.6));
        assert_eq!(
            funding_amount(Side::Sell, q(1.5), p(2_000.0), -0.0002),
            -long
        );
    }

    #[test]
    fn implied_rate_inverts_the_amount() {
        let amount = funding_amount(Side::Sell, q(3.0), p(100.0), 0.00025);
        let r = implied_rate(Side::Sell, q(3.0), p(100.0), amount);
        assert!((r - 0.00025).abs() < 1e-12, "{r}");
        assert_eq!(implied_rate(Side::Buy, Qty::ZERO, p(1.0), amount), 0.0);
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn qty() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.001), Just(1.0), 0.001f64..10_000.0]
    }

    fn rate() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), Just(0.0001), Just(-0.0001), -0.03f64..0.03]
    }

    proptest! {
        #[test]
        fn prop_funding_is_zero_sum_between_long_and_short(
            qv in qty(), mv in 0.0001f64..200_000.0, r in rate()
        ) {
            let (Some(qq), Some(mm)) = (Qty::from_f64(qv), Price::from_f64(mv)) else {
                return Ok(());
            };
            let long = funding_amount(Side::Buy, qq, mm, r);
            let short = funding_amount(Side::Sell, qq, mm, r);
            prop_assert_eq!(long + short, Money::ZERO);
            prop_assert!(r <= 0.0 || long.0 <= 0);
            prop_assert!(r >= 0.0 || long.0 >= 0);
        }
    }
}
