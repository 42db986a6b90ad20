//! Feed gaps: the minutes missed during an outage (and between the warm-up
//! and the first live trade) are fetched from REST before trading resumes,
//! the first live minute, whose earlier trades were missed, is replaced by
//! its REST candle once it has closed, no clock tick closes candles while
//! data is missing, and no entry is sent on a backfilled candle that
//! closed more than `risk.stale_data_secs` before the market time of the
//! decision (the moment has passed; the refusal is journaled).
//!
//! Consumes the first trade after an outage, later trades, and the service
//! thread's backfill candles; produces backfill requests, core events and
//! `order_refused` journal records. Never allocates, blocks or logs (trades
//! wait in the preallocated held queue).

use super::{Engine, FromHot};
use crate::clock::Clock;
use crate::core::Event;
use crate::journal_schema::{JournalRecord, RefusalReason};
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

impl Engine {
    /// The first trade after an outage: asks for the minutes strictly
    /// between the last trade before it and this one, holding trades
    /// meanwhile; remembers this trade's minute as partially seen.
    pub(super) fn begin_backfill(&mut self, first: &Trade) {
        self.gap = Gap::None;
        let earlier = self
            .partial
            .replace((first.symbol, minute_of(first.exchange_ts)));
        self.gap_end_ts = first.exchange_ts;
        let Some(last) = self.last_trade_ts else {
            return;
        };
        let mut from = minute_of(last).add_ns(NS_PER_MIN);
        // An outage inside the minute still waiting for its REST candle:
        // that minute is fetched (and replaced) with the gap.
        if earlier == Some((first.symbol, minute_of(last))) {
            from = minute_of(last);
            self.refill = Some(from);
        }
        let to = minute_of(first.exchange_ts).add_ns(-NS_PER_MIN);
        if to < from {
            return;
        }
        let req = FromHot::Backfill {
            symbol: first.symbol,
            from,
            to,
        };
        if self.out.push(req).is_ok() {
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
    /// (the partially seen minute excepted: its candle replaces theirs).
    /// Entries decided on it are refused when it closed more than
    /// `risk.stale_data_secs` before the trade that ended the gap.
    pub(super) fn on_backfill_candle(&mut self, c: Candle) {
        let after_last = self
            .last_trade_ts
            .is_none_or(|l| c.open_time > minute_of(l));
        if !after_last && self.refill != Some(c.open_time) {
            return;
        }
        self.counters.backfilled_candles += 1;
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
    }

    /// Feeds the trades held during a backfill, stopping at one that ends
    /// the partially seen minute (it asks for that minute's candle first).
    pub(super) fn release_held(&mut self) {
        while let Some(t) = self.held.pop_front() {
            self.refill_partial(&t);
            if self.gap == Gap::Backfilling {
                self.held.push_front(t);
                return;
            }
            let now = self.clock.mono_ns();
            self.on_trade(t, now);
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
