//! Liquidation price of a position in one-way mode, the USDⓈ-M rule of
//! Binance (and BingX, which liquidates when the margin balance falls to
//! the maintenance margin the same way):
//!
//! `LP = (WB − s·qty·entry) / (qty·MMR − s·qty)`, with `s` = +1 for a long
//! and −1 for a short, `MMR` the maintenance-margin rate and `WB` the
//! wallet balance backing the position: its isolated margin
//! `qty·entry / leverage` (isolated), or the cross wallet balance
//! (crossed). Isolated simplifies to `entry·(1 − 1/L)/(1 − MMR)` for a
//! long and `entry·(1 + 1/L)/(1 + MMR)` for a short. The maintenance
//! amount of higher tiers is 0 at the first tier, which is what the
//! engine's sizes reach. Pure arithmetic: no allocation, no state.

use crate::config::MarginType;
use crate::types::Side;

/// What a liquidation price depends on besides the position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiquidationRule {
    /// Isolated or crossed margin.
    pub margin_type: MarginType,
    /// Leverage (≥ 1).
    pub leverage: f64,
    /// Maintenance-margin rate, a fraction.
    pub maintenance_margin_rate: f64,
}

impl LiquidationRule {
    /// Returns the liquidation price of a position of `qty` at `entry` on
    /// `side`; `wallet` is the cross wallet balance (ignored when
    /// isolated). `None` when the position cannot be liquidated (a cross
    /// long whose wallet covers its whole notional) or the inputs are not
    /// positive.
    #[must_use]
    pub fn price(&self, side: Side, qty: f64, entry: f64, wallet: f64) -> Option<f64> {
        if !(qty > 0.0 && entry > 0.0 && self.leverage >= 1.0) {
            return None;
        }
        let s = match side {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        };
        let wb = match self.margin_type {
            MarginType::Isolated => qty * entry / self.leverage,
            MarginType::Crossed => wallet,
        };
        let lp = (wb - s * qty * entry) / (qty * self.maintenance_margin_rate - s * qty);
        (lp.is_finite() && lp > 0.0).then_some(lp)
    }

    /// Returns true when a stop at `stop` lies at or beyond the liquidation
    /// price `lp` of a position on `side` (the exchange would liquidate it
    /// before the stop triggers).
    #[must_use]
    pub fn stop_beyond(side: Side, stop: f64, lp: f64) -> bool {
        match side {
            Side::Buy => stop <= lp,
            Side::Sell => stop >= lp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(margin_type: MarginType, leverage: f64) -> LiquidationRule {
        LiquidationRule {
            margin_type,
            leverage,
            maintenance_margin_rate: 0.004,
        }
    }

    #[test]
    fn isolated_long_and_short_follow_the_closed_form() {
        let r = rule(MarginType::Isolated, 10.0);
        let long = r.price(Side::Buy, 2.0, 2_000.0, 0.0).unwrap();
        assert!((long - 2_000.0 * 0.9 / 0.996).abs() < 1e-9, "{long}");
        let short = r.price(Side::Sell, 2.0, 2_000.0, 0.0).unwrap();
        assert!((short - 2_000.0 * 1.1 / 1.004).abs() < 1e-9, "{short}");
        // Worked check: at the long's LP the margin balance equals the
        // maintenance margin.
        let margin = 2.0 * 2_000.0 / 10.0 + 2.0 * (long - 2_000.0);
        assert!((margin - 2.0 * long * 0.004).abs() < 1e-9);
    }

    #[test]
    fn cross_uses_the_wallet_and_a_rich_long_cannot_be_liquidated() {
        let r = rule(MarginType::Crossed, 5.0);
        let long = r.price(Side::Buy, 1.0, 2_000.0, 1_000.0).unwrap();
        assert!((long - 1_000.0 / 0.996).abs() < 1e-9, "{long}");
        let short = r.price(Side::Sell, 1.0, 2_000.0, 1_000.0).unwrap();
        assert!((short - 3_000.0 / 1.004).abs() < 1e-9, "{short}");
        assert_eq!(r.price(Side::Buy, 1.0, 2_000.0, 5_000.0), None);
        // Cross with a bigger wallet is further away than isolated.
        let iso = rule(MarginType::Isolated, 5.0)
            .price(Side::Sell, 1.0, 2_000.0, 0.0)
            .unwrap();
        assert!(short > iso);
    }

    #[test]
    fn a_stop_beyond_the_liquidation_price_is_detected_per_side() {
        assert!(LiquidationRule::stop_beyond(Side::Buy, 1_700.0, 1_800.0));
        assert!(!LiquidationRule::stop_beyond(Side::Buy, 1_900.0, 1_800.0));
        assert!(LiquidationRule::stop_beyond(Side::Sell, 2_300.0, 2_200.0));
        assert!(!LiquidationRule::stop_beyond(Side::Sell, 2_100.0, 2_200.0));
    }
}
