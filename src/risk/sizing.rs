//! Position sizing: risk amount from equity and the win streak, quantity
//! from the stop distance, capped by the margin limit.
//!
//! Consumes equity, the stop distance, the entry price, leverage and the
//! instrument's rules; produces a quantity on the step grid or the reason it
//! cannot trade. Never allocates.

use super::RejectReason;
use crate::types::{InstrumentRules, Qty};

/// A sized entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sized {
    /// Quantity, rounded down to the step, after the margin cap.
    pub qty: Qty,
    /// Quote amount risked before rounding and capping.
    pub risk_amount: f64,
    /// True when the margin cap reduced the quantity.
    pub capped: bool,
}

/// Returns the multiplier after `wins` consecutive wins: `list[wins]`, the
/// last entry for longer streaks, 1.0 for an empty list.
#[must_use]
pub fn streak_multiplier(list: &[f64], wins: u32) -> f64 {
    let i = usize::try_from(wins).unwrap_or(usize::MAX);
    list.get(i).or(list.last()).copied().unwrap_or(1.0)
}

/// Sizes an entry: `risk_amount = equity * base_risk_pct% * multiplier`,
/// `qty = risk_amount / stop_distance` rounded down to the step, then capped
/// so that `qty * price / leverage <= max_position_pct% * equity`.
///
/// # Errors
/// [`RejectReason::PositionSize`] when the cap leaves less than the exchange
/// minimum, [`RejectReason::MinQty`] when the uncapped size is already below it.
#[allow(
    clippy::too_many_arguments,
    reason = "each input is a named quantity of the sizing formula"
)]
pub fn size_entry(
    equity: f64,
    base_risk_pct: f64,
    multiplier: f64,
    stop_distance: f64,
    price: crate::types::Price,
    leverage: f64,
    max_position_pct: f64,
    rules: &InstrumentRules,
) -> Result<Sized, RejectReason> {
    let risk_amount = equity * base_risk_pct / 100.0 * multiplier;
    let px = price.to_f64();
    if !(stop_distance > 0.0 && px > 0.0 && risk_amount > 0.0) {
        return Err(RejectReason::MinQty);
    }
    let raw = Qty::from_f64(risk_amount / stop_distance).ok_or(RejectReason::MinQty)?;
    let qty = rules.round_qty(raw);
    let cap_raw = Qty::from_f64(max_position_pct / 100.0 * equity * leverage / px)
        .ok_or(RejectReason::PositionSize)?;
    let cap = rules.round_qty(cap_raw);
    if qty <= cap {
        if !rules.accepts(qty, price) {
            return Err(RejectReason::MinQty);
        }
        return Ok(Sized {
            qty,
            risk_amount,
            capped: false,
        });
    }
    if !rules.accepts(cap, price) {
        return Err(RejectReason::PositionSize);
    }
    Ok(Sized {
        qty: cap,
        risk_amount,
        capped: true,
    })
}
