//! Latency probe of the simulator: the instant of the last market-data
//! frame written to a market-stream socket and of the last order placement
//! request that arrived, for wire-to-wire measurements
//! (`cargo run -p bench --bin wire-to-wire`).
//!
//! Consumes the simulator's own events (a market frame about to be written,
//! a `POST /openApi/swap/v2/trade/order` request read and parsed); produces
//! instants and counters readable from any thread through
//! [`SimHandle::latency_probe`](super::SimHandle::latency_probe). Always on:
//! one clock read and two relaxed atomic stores per event. Never blocks,
//! locks or allocates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Instants of the last market-frame write and the last order arrival.
#[derive(Debug)]
pub struct LatencyProbe {
    /// Reference instant; stored times are nanoseconds after it, plus one
    /// (0 means "never").
    epoch: Instant,
    /// Written by the market-stream connection threads.
    frame_write_ns: AtomicU64,
    /// Written by the REST connection threads.
    order_arrival_ns: AtomicU64,
    frames: AtomicU64,
    orders: AtomicU64,
}

impl Default for LatencyProbe {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyProbe {
    /// Returns a probe with nothing recorded.
    #[must_use]
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            frame_write_ns: AtomicU64::new(0),
            order_arrival_ns: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            orders: AtomicU64::new(0),
        }
    }

    fn stamp(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    fn instant(&self, stamp: u64) -> Option<Instant> {
        stamp
            .checked_sub(1)
            .map(|ns| self.epoch + Duration::from_nanos(ns))
    }

    /// Records that a market-data frame is being written to a socket now
    /// (called right before the write, so the write itself is included).
    pub fn market_frame_writing(&self, at: Instant) {
        self.frame_write_ns.store(self.stamp(at), Ordering::Release);
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    /// Records that an order placement request arrived (read and parsed).
    pub fn order_arrived(&self, at: Instant) {
        self.order_arrival_ns
            .store(self.stamp(at), Ordering::Release);
        self.orders.fetch_add(1, Ordering::Release);
    }

    /// Returns when the last market-data frame was written, if any was.
    #[must_use]
    pub fn last_market_frame_write(&self) -> Option<Instant> {
        self.instant(self.frame_write_ns.load(Ordering::Acquire))
    }

    /// Returns when the last order placement request arrived, if any did.
    #[must_use]
    pub fn last_order_arrival(&self) -> Option<Instant> {
        self.instant(self.order_arrival_ns.load(Ordering::Acquire))
    }

    /// Returns how many market-data frames were written.
    #[must_use]
    pub fn market_frames_written(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    /// Returns how many order placement requests arrived.
    #[must_use]
    pub fn orders_arrived(&self) -> u64 {
        self.orders.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_recorded_reads_as_none_and_zero() {
        let p = LatencyProbe::new();
        assert_eq!(p.last_market_frame_write(), None);
        assert_eq!(p.last_order_arrival(), None);
        assert_eq!(p.market_frames_written(), 0);
        assert_eq!(p.orders_arrived(), 0);
    }

    #[test]
    fn recorded_instants_read_back_exactly_and_count() {
        let p = LatencyProbe::new();
        let a = Instant::now() + Duration::from_micros(5);
        let b = a + Duration::from_nanos(12_345);
        p.market_frame_writing(a);
        p.order_arrived(b);
        p.order_arrived(b);
        assert_eq!(p.last_market_frame_write(), Some(a));
        assert_eq!(p.last_order_arrival(), Some(b));
        assert_eq!(p.market_frames_written(), 1);
        assert_eq!(p.orders_arrived(), 2);
        assert_eq!(
            p.last_order_arrival().unwrap() - p.last_market_frame_write().unwrap(),
            Duration::from_nanos(12_345)
        );
    }

    #[test]
    fn an_instant_at_the_epoch_is_still_recorded() {
        let p = LatencyProbe::new();
        p.market_frame_writing(p.epoch);
        assert_eq!(p.last_market_frame_write(), Some(p.epoch));
    }
}
