//! The timed stages of the hot path ([`Stage`]), shared by the histograms
//! ([`super::latency`]) and their summaries ([`super::summary`]).
//!
//! A plain `Copy` enum: no allocation, no state.

use std::fmt;

/// A timed stage of the hot path, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Frame bytes to events: inflate (BingX gzip) and parse.
    Parse,
    /// Candle building and the indicator updates.
    CandlesIndicators,
    /// Strategy evaluation, signal aggregation and risk checks.
    StrategiesRisk,
    /// Pushing the order intent into the order queue.
    Enqueue,
    /// Frame received to order intent in the queue (end to end).
    TickToOrder,
}

impl Stage {
    /// Number of stages.
    pub const COUNT: usize = 5;

    /// Every stage, in pipeline order (the index order of
    /// [`Stage::index`]).
    pub const ALL: [Self; Self::COUNT] = [
        Self::Parse,
        Self::CandlesIndicators,
        Self::StrategiesRisk,
        Self::Enqueue,
        Self::TickToOrder,
    ];

    /// Returns the stage's position in [`Stage::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Returns the stage's name as used in tables, file names and metric
    /// labels: `parse`, `candles_indicators`, `strategies_risk`, `enqueue`,
    /// `tick_to_order`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Parse => "parse",
            Self::CandlesIndicators => "candles_indicators",
            Self::StrategiesRisk => "strategies_risk",
            Self::Enqueue => "enqueue",
            Self::TickToOrder => "tick_to_order",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
