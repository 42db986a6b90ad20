//! Where a position's partial exits and target sit, and how much each closes.
//!
//! Consumes a filled position and the management config; produces an
//! [`ExitPlan`] of up to three take-profit legs. Never allocates.

use super::Position;
use crate::config::ManagementConfig;
use crate::orders::OrderPurpose;
use crate::types::{InstrumentRules, Price, Qty, Rounding, Side};

/// One take-profit leg.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitLeg {
    /// Partial 1, partial 2 or target.
    pub purpose: OrderPurpose,
    /// Trigger price.
    pub trigger: Price,
    /// Quantity it closes.
    pub qty: Qty,
}

/// The take-profit legs, slot 0 partial 1, slot 1 partial 2, slot 2 target.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExitPlan {
    /// Legs; `None` when already done or merged into the target.
    pub legs: [Option<ExitLeg>; 3],
}

/// Builds the plan: partial 1 at `partial1_r` for `partial1_fraction` of the
/// entry quantity, partial 2 at `partial2_r` for `partial2_fraction` (only
/// when it lies before the target; otherwise the target takes it), and the
/// target for everything else still open. Legs already filled are left out.
///
/// Every leg is a whole number of steps and the legs add up to exactly the
/// open quantity, so the last exit closes the position to the last step. A
/// partial below the minimum quantity, or one that would leave less than the
/// minimum for the target, is merged into the target: no leg is one the
/// exchange would refuse.
pub(super) fn plan(p: &Position, m: &ManagementConfig, rules: &InstrumentRules) -> ExitPlan {
    let s = f64::from(p.side.sign());
    let rounding = match p.side {
        Side::Buy => Rounding::Down,
        Side::Sell => Rounding::Up,
    };
    let level = |r_mult: f64| {
        rules.round_price_dir(
            Price::from_f64(p.entry_price + s * r_mult * p.r).unwrap_or(Price::ZERO),
            rounding,
        )
    };
    let part = |fraction: f64| {
        rules.round_qty(Qty::from_f64(p.entry_qty.to_f64() * fraction).unwrap_or(Qty::ZERO))
    };
    let target_r = if p.r > 0.0 {
        p.target_distance / p.r
    } else {
        0.0
    };
    // Differences of grid quantities are snapped back onto the grid: in
    // binary fixed point 0.2317 - 0.0695 - 0.0926 is a bit below 0.0696,
    // which the wire would round down to 0.0695 (the 0.0001 demo leftover).
    let mut remaining = rules.snap_qty(p.open_qty);
    // The quantity left after a partial of `qty`, when that partial is one
    // the exchange accepts and leaves a closable remainder.
    let after = |qty: Qty, remaining: Qty| {
        let rest = rules.snap_qty(remaining.saturating_sub(qty));
        let closable = rest.is_zero() || rest >= rules.min_qty;
        (qty.is_positive() && qty >= rules.min_qty && closable).then_some(rest)
    };
    let mut legs = [None; 3];
    if !p.partial1_done && m.partial1_r < target_r {
        let qty = part(m.partial1_fraction).min(remaining);
        if let Some(rest) = after(qty, remaining) {
            remaining = rest;
            legs[0] = Some(ExitLeg {
                purpose: OrderPurpose::Partial1,
                trigger: level(m.partial1_r),
                qty,
            });
        }
    }
    if !p.partial2_done && m.partial2_r < target_r {
        let qty = part(m.partial2_fraction).min(remaining);
        if let Some(rest) = after(qty, remaining) {
            remaining = rest;
            legs[1] = Some(ExitLeg {
                purpose: OrderPurpose::Partial2,
                trigger: level(m.partial2_r),
                qty,
            });
        }
    }
    if remaining.is_positive() {
        legs[2] = Some(ExitLeg {
            purpose: OrderPurpose::Target,
            trigger: p.target,
            qty: remaining,
        });
    }
    ExitPlan { legs }
}
