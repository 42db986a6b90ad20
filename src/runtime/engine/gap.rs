//! Feed gaps and distrusted minutes: the minutes missed during an outage
//! (and between the warm-up and the first live trade) are fetched from REST
//! before trading resumes; a minute whose trades were only partly received
//! — the first live minute, the minute a disconnect or an undecodable
//! (malformed) message fell in, and the minute the next trade after it
//! falls in — is replaced by its REST candle once it has closed, before
//! the strategies see it (both candles are journaled as `candle_replaced`);
//! no clock tick closes candles while data is missing; and no entry is sent
//! on a backfilled candle that closed more than `risk.stale_data_secs`
//! before the market time of the decision (the moment has passed; the
//! refusal is journaled).
//!
//! Consumes the first trade after an outage, later trades, and the service
//! thread's backfill candles, and the losses the market socket reports;
//! produces backfill requests, core events and `order_refused` and
//! `candle_replaced` journal records. Never allocates, blocks or logs (trades
//! wait in the preallocated held queue).

use super::{Engine, FromHot, GAP_BUFFER};
use crate::clock::Clock;
use crate::core::Event;
use crate::journal_schema::{JournalRecord, RefusalReason, ReplaceCause};
use crate::orders::OrderIntent;
use crate::types::{Candle, SymbolId, TimestampNs, Trade, NS_PER_MIN, NS_PER_SEC};

/// Gap handling state of the market feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gap {
    /// Data flows.
    None,
    /// An outage ended; the next trade tells where the gap ends.
    AwaitFirstTrade,
    /// Candles are being fetched; trades are held.
    Backfilling,
}

/// How long after its end a quiet, partly seen minute's REST candle is
/// asked for (the default `market.candle_grace_period_ms`).
const REFILL_DELAY_NS: i64 = 2 * NS_PER_SEC;

/// Returns the start of the minute `ts` falls in.
fn minute_of(ts: TimestampNs) -> TimestampNs {
    TimestampNs(ts.0.div_euclid(NS_PER_MIN) * NS_PER_MIN)
}

impl<C: Clock> Engine<C> {
    /// Market data may have been lost here (an undecodable message, a
    /// disconnect or an outage): the minute of the last trade fed and every
    /// minute up to the next trade received are distrusted. While trades
    /// are held for a backfill, the loss is marked at its place in the held
    /// queue and applied when the release reaches it.
    pub(super) fn distrust(&mut self, cause: ReplaceCause) {
        match self.gap {
            Gap::Backfilling => {
                // A full mark queue (cannot happen within one REST round
                // trip) keeps the marks it has: the earliest loss still
                // reopens the gap at its place.
                if self.lost_marks.len() < self.lost_marks.capacity() {
                    self.lost_marks.push_back((self.held_in, cause));
                }
            }
            Gap::None | Gap::AwaitFirstTrade => {
                if self.last_trade_ts.is_none() {
                    return;
                }
                if self.gap == Gap::None || self.last_was_trade {
                    self.gap_cause = cause;
                }
                self.gap = Gap::AwaitFirstTrade;
                self.distrust_last |= self.last_was_trade;
            }
        }
    }

    /// A market message could not be decoded: see [`Self::distrust`].
    pub fn on_market_lost(&mut self) {
        self.counters.lost_messages += 1;
        self.distrust(ReplaceCause::Malformed);
    }

    /// The first trade after an outage, a lost message or the warm-up:
    /// asks for the minutes strictly between the last trade before it and
    /// this one, and for the last trade's minute too when data was lost
    /// after it (its REST candle replaces the one built from trades),
    /// holding trades meanwhile; remembers this trade's minute as partially
    /// seen.
    pub(super) fn begin_backfill(&mut self, first: &Trade) {
        self.gap = Gap::None;
        let distrust_last = std::mem::take(&mut self.distrust_last);
        let first_min = minute_of(first.exchange_ts);
        let earlier = self.partial.replace((first.symbol, first_min));
        let earlier_cause = self.partial_cause;
        self.partial_cause = self.gap_cause;
        self.gap_end_ts = first.exchange_ts;
        let Some(last) = self.last_trade_ts else {
            return;
        };
        let last_min = minute_of(last);
        let mut from = last_min.add_ns(NS_PER_MIN);
        let mut refill = None;
        // A minute still waiting for its REST candle, or one in which data
        // was lost, is fetched (and replaced) with the gap.
        if distrust_last && last_min < first_min {
            from = last_min;
            refill = Some((last_min, self.gap_cause));
        } else if earlier == Some((first.symbol, last_min)) {
            from = last_min;
            refill = Some((last_min, earlier_cause));
        }
        let to = first_min.add_ns(-NS_PER_MIN);
        if to < from {
            return;
        }
        let req = FromHot::Backfill {
            symbol: first.symbol,
            from,
            to,
        };
        if self.out.push(req).is_ok() {
            if let Some((minute, cause)) = refill {
                self.refill = Some(minute);
                self.refill_cause = cause;
            }
            self.gap = Gap::Backfilling;
        }
    }

    /// A trade while data flows: the first one past the partially seen
    /// minute asks for that minute's REST candle (now closed) and is held
    /// until it arrives, so the candle replaces the one built from the
    /// trades seen.
    pub(super) fn refill_partial(&mut self, t: &Trade) {
        let Some((symbol, minute)) = self.partial else {
            return;
        };
        if t.symbol != symbol || minute_of(t.exchange_ts) <= minute {
            return;
        }
        self.request_refill(symbol, minute, t.exchange_ts);
    }

    /// Asks for the REST candle of the partly seen `minute` at market time
    /// `at`, holding trades until it arrives.
    fn request_refill(&mut self, symbol: SymbolId, minute: TimestampNs, at: TimestampNs) {
        let req = FromHot::Backfill {
            symbol,
            from: minute,
            to: minute,
        };
        if self.out.push(req).is_ok() {
            self.partial = None;
            self.refill = Some(minute);
            self.refill_cause = self.partial_cause;
            self.gap_end_ts = at;
            self.gap = Gap::Backfilling;
        }
    }

    /// Decides whether a clock tick at market time `now` may reach the
    /// core: never during a gap (it would close candles, 5m ones included,
    /// before the backfill), nor once the partly seen minute has ended: its
    /// REST candle is asked for [`REFILL_DELAY_NS`] after its end (the
    /// exchange's candle is final by then) and replaces it instead.
    pub(super) fn clock_may_close(&mut self, now: TimestampNs) -> bool {
        if self.gap != Gap::None {
            return false;
        }
        let Some((symbol, minute)) = self.partial else {
            return true;
        };
        let end = minute.add_ns(NS_PER_MIN);
        if now < end {
            return true;
        }
        if now >= end.add_ns(REFILL_DELAY_NS) {
            self.request_refill(symbol, minute, now);
        }
        false
    }

    /// Feeds a backfilled candle unless trades already covered its minute
    /// (the minute being replaced excepted: its candle replaces the one
    /// built from trades, and both are journaled). Entries decided on it
    /// are refused when it closed more than `risk.stale_data_secs` before
    /// the trade that ended the gap.
    pub(super) fn on_backfill_candle(&mut self, c: Candle) {
        let after_last = self
            .last_trade_ts
            .is_none_or(|l| c.open_time > minute_of(l));
        let replacing = self.refill == Some(c.open_time);
        if !after_last && !replacing {
            return;
        }
        self.counters.backfilled_candles += 1;
        if replacing {
            let local = self
                .core
                .open_candle(c.symbol)
                .filter(|o| o.open_time == c.open_time)
                .copied();
            if let Some(local) = local {
                self.counters.replaced_candles += 1;
                let ts = self.market_now();
                let rec = JournalRecord::CandleReplaced {
                    local,
                    rest: c,
                    cause: self.refill_cause,
                    ts,
                };
                self.journal(ts, &rec);
            }
        }
        let close = c.open_time.add_ns(NS_PER_MIN);
        let stale_secs = self.core.risk().config().stale_data_secs;
        let stale_ns = i64::try_from(stale_secs)
            .unwrap_or(i64::MAX / NS_PER_SEC)
            .saturating_mul(NS_PER_SEC);
        if self.gap_end_ts.0.saturating_sub(close.0) > stale_ns {
            self.refuse = Some((RefusalReason::StaleCandle, close));
        }
        self.feed_candle(c);
        self.refuse = None;
        self.last_trade_ts = Some(close.add_ns(-1));
        self.last_was_trade = false;
    }

    /// Feeds the trades held during a backfill, applying the losses marked
    /// among them at their places, and stopping at one that needs another
    /// backfill first (it ends the partially seen minute, or follows a
    /// loss).
    pub(super) fn release_held(&mut self) {
        while let Some(t) = self.held.pop_front() {
            let k = self.held_out;
            self.held_out += 1;
            self.apply_lost_marks(k);
            if self.gap == Gap::AwaitFirstTrade {
                self.begin_backfill(&t);
            } else {
                self.refill_partial(&t);
            }
            if self.gap == Gap::Backfilling {
                self.held.push_front(t);
                self.held_out -= 1;
                return;
            }
            let now = self.clock.mono_ns();
            self.on_trade(t, now);
        }
        // Losses after the last held trade: the next trade ends them.
        self.apply_lost_marks(self.held_out);
        self.held_in = 0;
        self.held_out = 0;
    }

    /// Applies the losses marked before held trade number `k`.
    fn apply_lost_marks(&mut self, k: u64) {
        while let Some(&(at, cause)) = self.lost_marks.front() {
            if at > k {
                return;
            }
            self.lost_marks.pop_front();
            self.distrust(cause);
        }
    }

    /// Holds a trade during a backfill (counted for the loss marks).
    pub(super) fn hold(&mut self, t: Trade) {
        if self.held.len() < GAP_BUFFER {
            self.held.push_back(t);
            self.held_in += 1;
        } else {
            self.counters.gap_dropped += 1;
        }
    }

    /// Answers an order the venue must not see as rejected, journaling why.
    pub(super) fn refuse_order(
        &mut self,
        o: &OrderIntent,
        reason: RefusalReason,
        data_ts: TimestampNs,
        ts: TimestampNs,
    ) {
        // The decision's event time is the candle's close; the refusal
        // happens at the market time the gap ended (or the run started).
        let at = TimestampNs(ts.0.max(self.gap_end_ts.0));
        let rec = JournalRecord::OrderRefused {
            order: o.id,
            symbol: o.symbol,
            reason,
            data_ts,
            ts: at,
        };
        self.journal(at, &rec);
        self.events.push_back(Event::Rejected { order: o.id, ts });
    }
}

#[cfg(test)]
#[path = "gap_tests.rs"]
mod tests;
