//! Candle building: 1-minute candles from trades and 5-minute candles from
//! closed 1-minute candles, with gap detection.
//!
//! Consumes [`Trade`]s (bucketed by exchange timestamp, floor(ts / 60 s)),
//! already closed 1m candles (klines files, exchange kline pushes) and the
//! engine clock; produces [`CandleEvent`]s through a caller-supplied
//! `FnMut(CandleEvent)`, so nothing is returned by allocation. Must never
//! allocate, lock, log or read a clock itself: time comes in through
//! [`CandleBuilder::on_clock`].
//!
//! Closing rules (docs/STRATEGIES.md "Candles"):
//! - A 1m candle closes on the first trade of a later bucket, or when the
//!   clock passes its bucket end plus the grace period
//!   ([`DEFAULT_GRACE_NS`] = 2 s).
//! - A 5m candle (aligned to :00, :05, ...) closes when the 1m candle
//!   completing its bucket (:04) closes, when time reaches a later bucket
//!   (partial bucket, e.g. the first one of a file or one ending in a gap), or
//!   when the clock passes its end plus the grace period.
//! - Minutes without trades are reported as [`CandleEvent::Gap`]; the engine
//!   decides what to do (backfill, journal). A gap is detected when the next
//!   trade or candle after it arrives.
//! - A trade older than the open bucket (or of a bucket already closed by the
//!   clock) is dropped and counted ([`CandleBuilder::late_trades`]).
//!
//! Ordering guarantee, per call: the closing 1m candle's `Closed1m` comes
//! before the `Closed5m` it completes; a `Closed5m` of a finished bucket
//! comes before a `Gap` after it; a `Gap` comes before the candle that
//! follows it.

mod five;

pub use five::{FiveMinuteAggregator, NS_PER_5MIN};

use crate::types::{Candle, SymbolId, TimestampNs, Trade, NS_PER_MIN, NS_PER_SEC};

/// Default grace period after a bucket's end before the clock closes it: 2 s.
pub const DEFAULT_GRACE_NS: i64 = 2 * NS_PER_SEC;

/// What the candle builder reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandleEvent {
    /// A 1-minute candle closed.
    Closed1m(Candle),
    /// A 5-minute candle closed (possibly partial: fewer than five 1m candles).
    Closed5m(Candle),
    /// The 1m buckets from `from` (inclusive) to `to` (exclusive) had no
    /// trade; `to` is the open time of the candle after the gap.
    Gap {
        /// Open time of the first missing minute.
        from: TimestampNs,
        /// Open time of the first minute after the gap.
        to: TimestampNs,
    },
}

/// Builds 1m candles from trades and 5m candles from closed 1m candles for one symbol.
#[derive(Debug, Clone)]
pub struct CandleBuilder {
    symbol: SymbolId,
    grace_ns: i64,
    /// The 1m candle being built; `open_time` is its bucket start.
    open: Option<Candle>,
    /// Bucket start of the newest 1m bucket seen (open or closed).
    last_bucket: Option<TimestampNs>,
    five: FiveMinuteAggregator,
    late_trades: u64,
    late_candles: u64,
    gaps: u64,
}

impl CandleBuilder {
    /// Returns a builder for `symbol` whose clock closes a 1m candle
    /// `grace_ns` after its bucket end (use [`DEFAULT_GRACE_NS`]; a negative
    /// value counts as zero).
    #[must_use]
    pub const fn new(symbol: SymbolId, grace_ns: i64) -> Self {
        Self {
            symbol,
            grace_ns: if grace_ns < 0 { 0 } else { grace_ns },
            open: None,
            last_bucket: None,
            five: FiveMinuteAggregator::new(),
            late_trades: 0,
            late_candles: 0,
            gaps: 0,
        }
    }

    /// Folds in one trade of this builder's symbol, emitting the events it causes.
    #[inline]
    pub fn on_trade(&mut self, t: &Trade, out: &mut impl FnMut(CandleEvent)) {
        debug_assert!(
            t.symbol == self.symbol,
            "Invariant: trades are routed to their symbol's builder"
        );
        let bucket = t.exchange_ts.floor_to(NS_PER_MIN);
        if let Some(open) = &mut self.open {
            if bucket == open.open_time {
                open.high = open.high.max(t.price);
                open.low = open.low.min(t.price);
                open.close = t.price;
                open.volume = open.volume.saturating_add(t.qty);
                open.trade_count = open.trade_count.saturating_add(1);
                return;
            }
        }
        if self.last_bucket.is_some_and(|last| bucket <= last) {
            self.late_trades += 1;
            return;
        }
        self.close_1m(out);
        self.start_bucket(bucket, out);
        self.open = Some(Candle {
            symbol: self.symbol,
            open_time: bucket,
            open: t.price,
            high: t.price,
            low: t.price,
            close: t.price,
            volume: t.qty,
            trade_count: 1,
        });
    }

    /// Folds in an already closed 1m candle (klines file, exchange kline
    /// push): emits [`CandleEvent::Closed1m`] for it and feeds the 5m
    /// aggregator, with gap detection. A candle for the bucket currently built
    /// from trades replaces it; one older than the newest bucket seen is
    /// dropped and counted ([`late_candles`](Self::late_candles)).
    #[inline]
    pub fn on_closed_1m(&mut self, c: &Candle, out: &mut impl FnMut(CandleEvent)) {
        let bucket = c.open_time.floor_to(NS_PER_MIN);
        let replaces_open = self.open.is_some_and(|open| open.open_time == bucket);
        if replaces_open {
            self.open = None;
        } else {
            if self.last_bucket.is_some_and(|last| bucket <= last) {
                self.late_candles += 1;
                return;
            }
            self.close_1m(out);
            self.start_bucket(bucket, out);
        }
        let candle = Candle {
            open_time: bucket,
            ..*c
        };
        out(CandleEvent::Closed1m(candle));
        self.five.on_1m(&candle, out);
    }

    /// Closes what the engine clock `now` has made final: the open 1m candle
    /// once `now >= bucket end + grace`, and likewise the open 5m candle.
    #[inline]
    pub fn on_clock(&mut self, now: TimestampNs, out: &mut impl FnMut(CandleEvent)) {
        let reached = now.add_ns(-self.grace_ns);
        if self
            .open
            .is_some_and(|open| reached >= open.open_time.add_ns(NS_PER_MIN))
        {
            self.close_1m(out);
        }
        self.five.advance(reached, out);
    }

    /// Closes the open 1m and 5m candles whatever the time (end of input).
    pub fn flush(&mut self, out: &mut impl FnMut(CandleEvent)) {
        self.close_1m(out);
        self.five.flush(out);
    }

    /// Returns the 1m candle being built, if any.
    #[must_use]
    pub fn open_candle(&self) -> Option<&Candle> {
        self.open.as_ref()
    }

    /// Returns the 5m aggregator (for its open candle).
    #[must_use]
    pub fn five_minute(&self) -> &FiveMinuteAggregator {
        &self.five
    }

    /// Returns how many trades were dropped as older than the open bucket.
    #[must_use]
    pub fn late_trades(&self) -> u64 {
        self.late_trades
    }

    /// Returns how many closed 1m candles were dropped as not newer than the newest bucket.
    #[must_use]
    pub fn late_candles(&self) -> u64 {
        self.late_candles
    }

    /// Returns how many [`CandleEvent::Gap`] events were emitted.
    #[must_use]
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Returns the grace period in nanoseconds.
    #[must_use]
    pub fn grace_ns(&self) -> i64 {
        self.grace_ns
    }

    /// Closes the open 1m candle, if any, and feeds it to the 5m aggregator.
    #[inline]
    fn close_1m(&mut self, out: &mut impl FnMut(CandleEvent)) {
        if let Some(candle) = self.open.take() {
            out(CandleEvent::Closed1m(candle));
            self.five.on_1m(&candle, out);
        }
    }

    /// Makes `bucket` (newer than every bucket seen) the newest: closes a 5m
    /// bucket it proves finished and reports the minutes skipped since the
    /// previous bucket.
    #[inline]
    fn start_bucket(&mut self, bucket: TimestampNs, out: &mut impl FnMut(CandleEvent)) {
        self.five.advance(bucket, out);
        if let Some(last) = self.last_bucket {
            let from = last.add_ns(NS_PER_MIN);
            if bucket > from {
                self.gaps += 1;
                out(CandleEvent::Gap { from, to: bucket });
            }
        }
        self.last_bucket = Some(bucket);
    }
}

crate::checkpoint::state_struct!(CandleBuilder {
    symbol,
    grace_ns,
    open,
    last_bucket,
    five,
    late_trades,
    late_candles,
    gaps
});

#[cfg(test)]
mod tests;
