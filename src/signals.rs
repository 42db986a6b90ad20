//! Signal aggregation: picks one entry per symbol and closed candle.
//!
//! Consumes the signals the strategies produced on one closed 1m candle (in
//! config order) and the symbol's position state; produces the winning
//! signal, or a [`DropReason`] for each signal that does not go on to risk.
//! Highest confidence wins, ties go to the strategy listed first. A signal is
//! dropped when a position in that symbol is pending or open, or is open in
//! the opposite direction (no hedging). Never allocates: the caller gets the
//! drops through a callback.

use crate::strategy::Signal;
use crate::types::Side;

/// Why a signal did not reach the risk manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Another strategy's signal on the same candle had higher confidence
    /// (or equal confidence and an earlier place in config order).
    Outranked,
    /// An entry for this symbol is already pending.
    PositionPending,
    /// A position in this symbol is already open in the same direction.
    PositionOpen,
    /// A position in this symbol is open in the opposite direction.
    OppositePosition,
}

impl DropReason {
    /// Returns the snake_case name used in reports and the journal.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Outranked => "outranked",
            Self::PositionPending => "position_pending",
            Self::PositionOpen => "position_open",
            Self::OppositePosition => "opposite_position",
        }
    }
}

/// What the symbol already has, as far as aggregation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// No position.
    Flat,
    /// An entry order is out, not yet filled.
    Pending(Side),
    /// A position is open (or closing) on this side.
    Open(Side),
}

/// Returns the index of the winning signal in `signals` (config order):
/// the highest confidence, the first on ties.
#[must_use]
pub fn best(signals: &[Signal]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, s) in signals.iter().enumerate() {
        match best {
            Some(b) if signals[b].confidence >= s.confidence => {}
            _ => best = Some(i),
        }
    }
    best
}

/// Aggregates one candle's `signals` for a symbol with `exposure`: returns
/// the signal to send to risk, if any, and calls `dropped` for every other
/// signal with its reason.
pub fn aggregate(
    signals: &[Signal],
    exposure: Exposure,
    dropped: &mut impl FnMut(&Signal, DropReason),
) -> Option<Signal> {
    let winner = best(signals)?;
    for (i, s) in signals.iter().enumerate() {
        if i != winner {
            dropped(s, DropReason::Outranked);
        }
    }
    let s = signals[winner];
    let reason = match exposure {
        Exposure::Flat => return Some(s),
        Exposure::Pending(_) => DropReason::PositionPending,
        Exposure::Open(side) if side != s.side => DropReason::OppositePosition,
        Exposure::Open(_) => DropReason::PositionOpen,
    };
    dropped(&s, reason);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::StrategyId;
    use crate::types::{Price, SymbolId, TimestampNs};

    fn sig(strategy: u8, side: Side, confidence: f64) -> Signal {
        Signal {
            strategy: StrategyId(strategy),
            symbol: SymbolId(0),
            side,
            confidence,
            price: Price::from_f64(100.0).unwrap(),
            atr: 1.0,
            stop_distance: 3.0,
            target_distance: 12.0,
            ts: TimestampNs(0),
        }
    }

    fn run(signals: &[Signal], exposure: Exposure) -> (Option<Signal>, Vec<(u8, DropReason)>) {
        let mut drops = Vec::new();
        let w = aggregate(signals, exposure, &mut |s, r| drops.push((s.strategy.0, r)));
        (w, drops)
    }

    #[test]
    fn highest_confidence_wins_and_the_other_is_outranked() {
        let (w, drops) = run(
            &[sig(0, Side::Buy, 0.4), sig(1, Side::Sell, 0.6)],
            Exposure::Flat,
        );
        assert_eq!(w.unwrap().strategy, StrategyId(1));
        assert_eq!(drops, [(0, DropReason::Outranked)]);
    }

    #[test]
    fn ties_go_to_the_strategy_listed_first() {
        let (w, _) = run(
            &[sig(0, Side::Buy, 0.5), sig(1, Side::Sell, 0.5)],
            Exposure::Flat,
        );
        assert_eq!(w.unwrap().strategy, StrategyId(0));
    }

    #[test]
    fn pending_position_drops_the_signal() {
        let (w, drops) = run(&[sig(0, Side::Buy, 0.5)], Exposure::Pending(Side::Buy));
        assert!(w.is_none());
        assert_eq!(drops, [(0, DropReason::PositionPending)]);
    }

    #[test]
    fn open_position_same_side_drops_as_position_open() {
        let (w, drops) = run(&[sig(0, Side::Buy, 0.5)], Exposure::Open(Side::Buy));
        assert!(w.is_none());
        assert_eq!(drops, [(0, DropReason::PositionOpen)]);
    }

    #[test]
    fn opposite_open_position_drops_as_no_hedging() {
        let (w, drops) = run(&[sig(0, Side::Sell, 0.5)], Exposure::Open(Side::Buy));
        assert!(w.is_none());
        assert_eq!(drops, [(0, DropReason::OppositePosition)]);
    }

    #[test]
    fn no_signals_give_nothing() {
        assert_eq!(run(&[], Exposure::Flat), (None, vec![]));
    }
}
