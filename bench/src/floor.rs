//! The floor of `tick-to-order`: the same BingX gzip frames through the
//! market protocol alone (`BingxMarket`: inflate + decode), timed with the
//! same clock as the engine's path, so the engine's overhead above what any
//! consumer of the feed must pay is a ratio measured in one run rather than
//! an absolute figure that depends on the machine.
//!
//! Consumes gzip frames; produces one duration per frame (received →
//! decoded, the trades handed to a sink that only keeps them observable).
//! Never allocates after warm-up, locks or logs inside [`Floor::time`].

use std::fmt;
use std::hint::black_box;

use trading_engine::clock::{Clock, SystemClock};
use trading_engine::feed::{BingxDecoder, SymbolTable};
use trading_engine::io::ws::{BingxMarket, MessageKind, Outbox, WsProtocol};

/// Inflate + decode of market frames, the lower bound of the hot path.
pub struct Floor {
    market: BingxMarket,
    clock: SystemClock,
    send_buf: Vec<u8>,
    rng: u64,
}

impl fmt::Debug for Floor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Floor")
            .field("clock", &self.clock.source())
            .finish_non_exhaustive()
    }
}

impl Floor {
    /// Returns the floor path for `symbols`, reading `clock` (pass the
    /// engine's clock so both paths pay the same readings).
    #[must_use]
    pub fn new(symbols: SymbolTable, clock: SystemClock) -> Self {
        Self {
            market: BingxMarket::new(BingxDecoder::new(symbols)),
            clock,
            send_buf: Vec::with_capacity(256),
            rng: 0x2545_F491_4F6C_DD1D,
        }
    }

    /// Inflates and decodes `frame` as the hot loop's market protocol
    /// does, between two clock readings; returns the nanoseconds between
    /// them and the trades decoded, or `None` for a frame that does not
    /// decode.
    pub fn time(&mut self, frame: &[u8]) -> Option<(u64, u32)> {
        let mut trades = 0u32;
        let mut out = Outbox::new(&mut self.send_buf, &mut self.rng);
        let start = self.clock.mono_ns();
        let kind = self.market.on_message(false, frame, &mut out, &mut |e| {
            trades += 1;
            black_box(e);
        });
        let end = self.clock.mono_ns();
        self.send_buf.clear();
        (kind != MessageKind::Malformed).then_some((end.saturating_sub(start), trades))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_frames::{generate_ticks, FrameBuilder, FramePlan, SYMBOL};
    use trading_engine::types::SymbolId;

    #[test]
    fn the_floor_decodes_the_harness_frames_without_allocating() {
        let ticks = generate_ticks(1_000);
        let plan = FramePlan::for_order_share(0.01, 1, 1_582_329_600_000);
        let mut builder = FrameBuilder::new();
        let frames: Vec<Vec<u8>> = (0..200).map(|i| builder.gzip(&ticks, &plan, i)).collect();
        let mut symbols = SymbolTable::new();
        symbols.insert(SYMBOL, SymbolId(0)).unwrap();
        let mut floor = Floor::new(symbols, SystemClock::new());
        for f in &frames[..100] {
            assert_eq!(floor.time(f).map(|(_, n)| n), Some(1));
        }
        let info = allocation_counter::measure(|| {
            for f in &frames[100..] {
                assert!(floor.time(f).is_some());
            }
        });
        assert_eq!(info.count_total, 0);
        assert_eq!(floor.time(b"not gzip"), None);
    }
}
