//! The I/O thread's time source, injectable so tests control waiting and the
//! request timestamps: a monotonic reading for rate limiting and backoff, a
//! wall-clock reading for the signed `timestamp`, and `sleep`.
//!
//! Consumes nothing; produces readings. [`SystemClock`] reads the OS clocks;
//! [`ManualClock`] only moves when told to or when something sleeps on it.
//! Never used on the hot thread (which takes time from events).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time for the I/O thread.
pub trait IoClock: Send {
    /// Returns monotonic time since an arbitrary fixed start.
    fn monotonic(&self) -> Duration;
    /// Returns wall-clock milliseconds since the Unix epoch.
    fn unix_ms(&self) -> i64;
    /// Blocks the calling thread for `d`.
    fn sleep(&self, d: Duration);
}

/// The OS clocks.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// Returns a clock whose monotonic zero is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl IoClock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

#[derive(Debug, Default)]
struct ManualState {
    mono_ns: AtomicU64,
    unix_ms: AtomicI64,
    sleeps: Mutex<Vec<Duration>>,
}

/// A clock that advances only through [`ManualClock::advance`] or `sleep`
/// (which returns at once after advancing). Clones share the same time, so a
/// test keeps one handle and gives another to the client.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    state: Arc<ManualState>,
}

impl ManualClock {
    /// Returns a clock at monotonic zero and the given wall-clock time.
    #[must_use]
    pub fn new(unix_ms: i64) -> Self {
        let clock = Self::default();
        clock.state.unix_ms.store(unix_ms, Ordering::SeqCst);
        clock
    }

    /// Moves both readings forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.state.mono_ns.fetch_add(ns, Ordering::SeqCst);
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.state.unix_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Returns every duration slept so far, in order.
    #[must_use]
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state
            .sleeps
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Returns the total time slept so far.
    #[must_use]
    pub fn total_slept(&self) -> Duration {
        self.sleeps().iter().sum()
    }
}

impl IoClock for ManualClock {
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.state.mono_ns.load(Ordering::SeqCst))
    }

    fn unix_ms(&self) -> i64 {
        self.state.unix_ms.load(Ordering::SeqCst)
    }

    fn sleep(&self, d: Duration) {
        if let Ok(mut s) = self.state.sleeps.lock() {
            s.push(d);
        }
        self.advance(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_only_when_told_and_records_sleeps() {
        let c = ManualClock::new(1_700_000_000_000);
        let handle = c.clone();
        assert_eq!(c.monotonic(), Duration::ZERO);
        c.sleep(Duration::from_millis(250));
        handle.advance(Duration::from_secs(1));
        assert_eq!(c.monotonic(), Duration::from_millis(1250));
        assert_eq!(c.unix_ms(), 1_700_000_001_250);
        assert_eq!(handle.sleeps(), vec![Duration::from_millis(250)]);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock::new().unix_ms() > 1_577_836_800_000);
    }
}
