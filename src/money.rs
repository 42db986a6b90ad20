//! [`Money`]: exact quote-currency amounts (USDT) for fees, PnL and equity.
//!
//! Consumes f64 products of fixed-point prices and quantities; produces
//! integer amounts in units of 1e-8 quote, so that equity is always the exact
//! sum of the fees and PnL applied to it (no float drift between a trade's
//! PnL and the equity it moved). Never allocates.

use core::fmt;
use core::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Units of [`Money`] per quote unit: 1e8.
pub const MONEY_SCALE: i64 = 100_000_000;

/// A quote-currency amount in units of 1e-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// Returns `v` quote units rounded to the nearest 1e-8 (NaN is zero,
    /// out-of-range values saturate).
    #[must_use]
    pub fn from_f64(v: f64) -> Self {
        // `as` saturates and maps NaN to 0, which is the documented behaviour.
        Self((v * MONEY_SCALE as f64).round() as i64)
    }

    /// Returns the amount in quote units.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MONEY_SCALE as f64
    }

    /// Returns true when the amount is above zero.
    #[must_use]
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl Add for Money {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Money {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Money {
    type Output = Self;
    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = MONEY_SCALE.unsigned_abs();
        write!(f, "{sign}{}.{:08}", abs / scale, abs % scale)
    }
}

crate::checkpoint::value_newtype!(Money(i64));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_f64_rounds_to_the_nearest_unit_and_displays_eight_decimals() {
        assert_eq!(Money::from_f64(1.5), Money(150_000_000));
        assert_eq!(Money::from_f64(-0.000_000_016).0, -2);
        assert_eq!(Money::from_f64(f64::NAN), Money::ZERO);
        assert_eq!(Money(-150_000_001).to_string(), "-1.50000001");
        assert_eq!((Money(3) - Money(5) + Money(1)).0, -1);
    }
}
