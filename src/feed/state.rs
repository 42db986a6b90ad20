//! State shared by both decoders: symbol table, limits, per-symbol last
//! timestamps, counters and the reused event scratch buffers.
//!
//! Consumes validated events; produces them, in time order, to the sink and
//! drops (and counts) those whose timestamp went backwards. Never allocates
//! once the scratch buffers have reached the largest frame seen.

use super::error::{FeedError, FeedErrorKind, FeedStats};
use super::symbols::SymbolTable;
use super::{BookTicker, FeedLimits, FrameKind, KlineUpdate, MarketEvent};
use crate::types::{SymbolId, TimestampNs, Trade};

/// Scratch capacity reserved for trades of one frame (BingX sends tens).
const TRADE_SCRATCH: usize = 1024;
/// Scratch capacity reserved for kline bars of one frame (BingX sends one).
const KLINE_SCRATCH: usize = 16;

/// Streams whose timestamps are tracked separately per symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Trade = 0,
    AggTrade = 1,
    Kline = 2,
    BookTicker = 3,
}

const STREAMS: usize = 4;

#[derive(Debug)]
pub(crate) struct DecoderState {
    pub(crate) symbols: SymbolTable,
    pub(crate) limits: FeedLimits,
    pub(crate) stats: FeedStats,
    /// Last accepted timestamp (ns) per `symbol * STREAMS + stream`; `i64::MIN` = none.
    last_ts: Vec<i64>,
    pub(crate) trades: Vec<Trade>,
    pub(crate) klines: Vec<KlineUpdate>,
}

impl DecoderState {
    pub(crate) fn new(symbols: SymbolTable, limits: FeedLimits) -> Self {
        let ids = symbols.max_id().map_or(0, |m| usize::from(m.0) + 1);
        Self {
            symbols,
            limits,
            stats: FeedStats::default(),
            last_ts: vec![i64::MIN; ids * STREAMS],
            trades: Vec::with_capacity(TRADE_SCRATCH),
            klines: Vec::with_capacity(KLINE_SCRATCH),
        }
    }

    pub(crate) fn symbol(&self, name: &str) -> Result<SymbolId, FeedError> {
        self.symbols
            .lookup(name.as_bytes())
            .ok_or(FeedError::UnknownSymbol)
    }

    /// Returns true (and records `ts`) unless `ts` is earlier than the last
    /// accepted timestamp of `symbol` on `stream`; equal timestamps pass.
    fn advance(&mut self, symbol: SymbolId, stream: Stream, ts: TimestampNs) -> bool {
        let slot = usize::from(symbol.0) * STREAMS + stream as usize;
        match self.last_ts.get_mut(slot) {
            Some(last) if ts.0 < *last => false,
            Some(last) => {
                *last = ts.0;
                true
            }
            // Unreachable for ids from the table; accept rather than panic.
            None => true,
        }
    }

    /// Emits the scratch trades oldest first. `newest_first` tells the order
    /// they were pushed in; a stable insertion sort repairs any other order
    /// (already sorted input costs one comparison per trade).
    pub(crate) fn emit_trades(
        &mut self,
        stream: Stream,
        newest_first: bool,
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        if newest_first {
            self.trades.reverse();
        }
        insertion_sort_by_key(&mut self.trades, |t| t.exchange_ts);
        let (mut emitted, mut skipped) = (0u16, 0u16);
        for i in 0..self.trades.len() {
            let t = self.trades[i];
            if self.advance(t.symbol, stream, t.exchange_ts) {
                sink(MarketEvent::Trade(t));
                emitted = emitted.saturating_add(1);
            } else {
                skipped = skipped.saturating_add(1);
            }
        }
        self.stats.trades += u64::from(emitted);
        self.stats
            .add_errors(FeedErrorKind::TimestampBackwards, u64::from(skipped));
        if emitted == 0 && skipped > 0 {
            Err(FeedError::TimestampBackwards)
        } else {
            Ok(FrameKind::Trades { emitted, skipped })
        }
    }

    /// Emits the scratch klines in open-time order.
    pub(crate) fn emit_klines(
        &mut self,
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        insertion_sort_by_key(&mut self.klines, |k| k.open_time);
        let mut emitted = 0u64;
        let mut skipped = 0u64;
        for i in 0..self.klines.len() {
            let k = self.klines[i];
            if self.advance(k.symbol, Stream::Kline, k.open_time) {
                sink(MarketEvent::Kline(k));
                emitted += 1;
            } else {
                skipped += 1;
            }
        }
        self.stats.klines += emitted;
        self.stats
            .add_errors(FeedErrorKind::TimestampBackwards, skipped);
        if emitted == 0 {
            // An empty `data` array never gets here: callers reject it.
            Err(FeedError::TimestampBackwards)
        } else {
            Ok(FrameKind::Kline)
        }
    }

    pub(crate) fn emit_book(
        &mut self,
        book: BookTicker,
        sink: &mut impl FnMut(MarketEvent),
    ) -> Result<FrameKind, FeedError> {
        if self.advance(book.symbol, Stream::BookTicker, book.ts) {
            sink(MarketEvent::BookTicker(book));
            self.stats.book_tickers += 1;
            Ok(FrameKind::BookTicker)
        } else {
            self.stats.add_errors(FeedErrorKind::TimestampBackwards, 1);
            Err(FeedError::TimestampBackwards)
        }
    }

    /// Counts the outcome of one frame and passes it through.
    /// `TimestampBackwards` was already counted per skipped event.
    pub(crate) fn finish(
        &mut self,
        result: Result<FrameKind, FeedError>,
    ) -> Result<FrameKind, FeedError> {
        self.stats.frames += 1;
        match result {
            Ok(FrameKind::Ping) => self.stats.pings += 1,
            Ok(FrameKind::SubscriptionAck(_)) => self.stats.acks += 1,
            Ok(FrameKind::Ignored(_)) => self.stats.ignored += 1,
            Ok(_) | Err(FeedError::TimestampBackwards) => {}
            Err(e) => self.stats.record_error(e),
        }
        result
    }
}

/// Stable in-place insertion sort: no allocation (unlike `slice::sort_by_key`),
/// linear on sorted input, and frames hold few elements.
fn insertion_sort_by_key<T: Copy, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && key(&v[j - 1]) > key(&v[j]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_sort_is_stable() {
        let mut v = [(3, 'a'), (1, 'b'), (3, 'c'), (1, 'd'), (2, 'e')];
        insertion_sort_by_key(&mut v, |p| p.0);
        assert_eq!(v, [(1, 'b'), (1, 'd'), (2, 'e'), (3, 'a'), (3, 'c')]);
    }
}
