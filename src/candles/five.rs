//! [`FiveMinuteAggregator`]: 5-minute candles from closed 1-minute candles.
//!
//! Consumes closed 1m candles (built from trades, read from klines files or
//! pushed by the exchange) and time; produces closed 5m candles aligned to
//! wall-clock 5-minute boundaries (:00, :05, ...). Never allocates.

use super::CandleEvent;
use crate::types::{Candle, TimestampNs, NS_PER_MIN};

/// Nanoseconds per 5-minute bucket.
pub const NS_PER_5MIN: i64 = 5 * NS_PER_MIN;

/// Aggregates closed 1m candles into 5m candles.
///
/// A 5m candle opens at its bucket start (even when its first 1m candle is
/// later, e.g. the first bucket of a file) and closes either when the 1m
/// candle completing the bucket (the one at :04, :09, ...) is folded in, or
/// when [`advance`](Self::advance) learns that time has reached a later
/// bucket (a partial bucket). Open = first 1m open, high/low = extremes,
/// close = last 1m close, volume and trade count = sums.
#[derive(Debug, Clone, Default)]
pub struct FiveMinuteAggregator {
    /// The 5m candle being built; `open_time` is its bucket start.
    open: Option<Candle>,
    /// Open time of the newest 1m candle folded in.
    last_1m: Option<TimestampNs>,
    /// 1m candles dropped because they were not newer than `last_1m`.
    late: u64,
}

impl FiveMinuteAggregator {
    /// Returns an empty aggregator.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            open: None,
            last_1m: None,
            late: 0,
        }
    }

    /// Folds in the closed 1m candle `c`, emitting [`CandleEvent::Closed5m`]
    /// for a previous bucket it proves finished and for its own bucket when
    /// `c` completes it, in that order. A candle not newer than the last one
    /// folded in is dropped and counted ([`late`](Self::late)).
    #[inline]
    pub fn on_1m(&mut self, c: &Candle, out: &mut impl FnMut(CandleEvent)) {
        let minute = c.open_time.floor_to(NS_PER_MIN);
        if self.last_1m.is_some_and(|last| minute <= last) {
            self.late += 1;
            return;
        }
        self.last_1m = Some(minute);
        self.advance(minute, out);
        let bucket = minute.floor_to(NS_PER_5MIN);
        match &mut self.open {
            Some(five) => {
                debug_assert!(
                    five.open_time == bucket,
                    "Invariant: advance closed every earlier bucket"
                );
                five.high = five.high.max(c.high);
                five.low = five.low.min(c.low);
                five.close = c.close;
                five.volume = five.volume.saturating_add(c.volume);
                five.trade_count = five.trade_count.saturating_add(c.trade_count);
            }
            None => {
                self.open = Some(Candle {
                    open_time: bucket,
                    ..*c
                });
            }
        }
        if minute.add_ns(NS_PER_MIN) == bucket.add_ns(NS_PER_5MIN) {
            self.close(out);
        }
    }

    /// Closes the open 5m candle if `now` is at or past its bucket end.
    /// `now` is a time known to be reached: the start of a later 1m bucket,
    /// or the engine clock minus the grace period.
    #[inline]
    pub fn advance(&mut self, now: TimestampNs, out: &mut impl FnMut(CandleEvent)) {
        if self
            .open
            .is_some_and(|five| now >= five.open_time.add_ns(NS_PER_5MIN))
        {
            self.close(out);
        }
    }

    /// Closes the open 5m candle whatever the time (end of input).
    pub fn flush(&mut self, out: &mut impl FnMut(CandleEvent)) {
        self.close(out);
    }

    /// Returns the 5m candle being built, if any.
    #[must_use]
    pub fn open_candle(&self) -> Option<&Candle> {
        self.open.as_ref()
    }

    /// Returns how many 1m candles were dropped as not newer than the last.
    #[must_use]
    pub fn late(&self) -> u64 {
        self.late
    }

    #[inline]
    fn close(&mut self, out: &mut impl FnMut(CandleEvent)) {
        if let Some(five) = self.open.take() {
            out(CandleEvent::Closed5m(five));
        }
    }
}

crate::checkpoint::state_struct!(FiveMinuteAggregator {
    open,
    last_1m,
    late
});
