//! The protective-stop watch: after every change of the account (REST
//! request, market trade, timer), checks that every open position has a
//! working STOP_MARKET order on its closing side, and records the longest
//! time one went without (wall clock) and the most stops one had at once.
//! Tests read it through [`SimHandle::stop_watch`](crate::SimHandle::stop_watch)
//! to prove "never a naked position" from the exchange's side.

use super::Exchange;
use crate::orders::{OrderKind, PosSide, Side};

/// What the stop watch has seen since the simulator started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StopWatchState {
    /// Observations made (one per REST request, trade batch and timer tick).
    pub observations: u64,
    /// Observations that saw an open position.
    pub with_position: u64,
    /// Times a position started to be without any working stop.
    pub naked_episodes: u32,
    /// Longest time a position went without a working stop, ms (an
    /// episode still running counts up to the last observation).
    pub longest_naked_ms: i64,
    /// Since when (ms since the epoch) a position is without a stop now.
    pub naked_since_ms: Option<i64>,
    /// Most working stops one position had at the same time.
    pub max_stops: usize,
    /// Observations that saw more than one working stop for a position.
    pub doubled: u64,
}

impl Exchange {
    /// Working STOP_MARKET orders that close the position on `pos_side`
    /// held `long` (true) or short.
    fn stops_closing(&self, pos_side: PosSide, long: bool) -> usize {
        let closing = if long { Side::Sell } else { Side::Buy };
        self.orders
            .values()
            .filter(|o| {
                o.kind == OrderKind::StopMarket
                    && o.status.is_open()
                    && o.side == closing
                    && o.pos_side == pos_side
            })
            .count()
    }

    /// Records the stop coverage of every open position at `now_ms`.
    pub fn observe_stops(&mut self, now_ms: i64) {
        let legs = [
            (PosSide::Both, self.account.both.qty),
            (PosSide::Long, self.account.long.qty),
            (PosSide::Short, -self.account.short.qty.abs()),
        ];
        let mut open = false;
        let mut naked = false;
        for (pos_side, qty) in legs {
            if qty == 0 {
                continue;
            }
            open = true;
            let n = self.stops_closing(pos_side, qty > 0);
            let w = &mut self.stop_watch;
            w.max_stops = w.max_stops.max(n);
            if n > 1 {
                w.doubled += 1;
            }
            naked |= n == 0;
        }
        let w = &mut self.stop_watch;
        w.observations += 1;
        w.with_position += u64::from(open);
        match (naked, w.naked_since_ms) {
            (true, None) => {
                w.naked_since_ms = Some(now_ms);
                w.naked_episodes += 1;
            }
            (true, Some(since)) => {
                w.longest_naked_ms = w.longest_naked_ms.max(now_ms - since);
            }
            (false, Some(since)) => {
                w.longest_naked_ms = w.longest_naked_ms.max(now_ms - since);
                w.naked_since_ms = None;
            }
            (false, None) => {}
        }
    }

    /// Returns what the stop watch has seen.
    #[must_use]
    pub fn stop_watch(&self) -> StopWatchState {
        self.stop_watch
    }
}
