//! The engine's one source of time: a [`Clock`] injected into whatever
//! needs "now", so that the trading core never reads the system clock
//! itself (time inside the core comes from events or from this clock).
//!
//! Consumes nothing but the OS clocks ([`SystemClock`]) or the values a
//! test sets ([`ManualClock`]); produces wall-clock [`TimestampNs`] and a
//! monotonic nanosecond reading for latency. Never allocates, locks or
//! blocks: a [`SystemClock`] reading is one `clock_gettime` through the
//! vDSO (no kernel entry on Linux x86-64/aarch64), a [`ManualClock`]
//! reading is one relaxed atomic load.
//!
//! Cost, measured by `cargo bench -p bench --bench clock` on the shared
//! 2-core development machine (load average ~11 at the time, so an upper
//! bound): `SystemClock::now_ns` 55 ns, `SystemClock::mono_ns` 55 ns (one
//! vDSO `clock_gettime` each), `ManualClock::now_ns` 1.5 ns. Read the clock
//! once per event, not per stage.

use crate::types::TimestampNs;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
///
/// Two readings: the wall clock ([`Clock::now_ns`], comparable with
/// exchange timestamps, may jump when the OS clock is set) and a monotonic
/// counter ([`Clock::mono_ns`], never goes back, meaningless across
/// processes) used to time latency stages.
pub trait Clock {
    /// Returns the wall-clock time, nanoseconds since the Unix epoch.
    fn now_ns(&self) -> TimestampNs;

    /// Returns a monotonic reading in nanoseconds from an arbitrary origin
    /// fixed for this clock; differences of two readings are durations.
    fn mono_ns(&self) -> u64;
}

/// The operating system's clocks: `CLOCK_REALTIME` through
/// [`SystemTime`] and `CLOCK_MONOTONIC` through [`Instant`], relative to
/// the instant this clock was created.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    /// Origin of [`Clock::mono_ns`]; set once in [`SystemClock::new`].
    origin: Instant,
}

impl SystemClock {
    /// Returns a clock whose monotonic origin is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_ns(&self) -> TimestampNs {
        // A clock set before 1970 reads as negative nanoseconds; beyond
        // year 2262 the i64 saturates.
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => TimestampNs(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            Err(e) => TimestampNs(-i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX)),
        }
    }

    #[inline]
    fn mono_ns(&self) -> u64 {
        // u64 nanoseconds cover 584 years of uptime.
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A clock for tests and simulations: both readings are set or advanced
/// explicitly. Shared through `&` (atomics), so a test can move time while
/// the component under test holds a reference.
#[derive(Debug, Default)]
pub struct ManualClock {
    /// Wall-clock nanoseconds since the epoch; written by `set_now`/`advance`.
    wall_ns: AtomicI64,
    /// Monotonic nanoseconds; only ever increases (written by `advance`).
    mono_ns: AtomicU64,
}

impl ManualClock {
    /// Returns a clock reading `now` on the wall clock and 0 on the
    /// monotonic one.
    #[must_use]
    pub fn new(now: TimestampNs) -> Self {
        Self {
            wall_ns: AtomicI64::new(now.0),
            mono_ns: AtomicU64::new(0),
        }
    }

    /// Sets the wall clock to `now` (it may go backwards, as a real wall
    /// clock may); the monotonic reading is unchanged.
    pub fn set_now(&self, now: TimestampNs) {
        self.wall_ns.store(now.0, Ordering::Relaxed);
    }

    /// Moves both readings forward by `ns` nanoseconds (saturating).
    pub fn advance(&self, ns: u64) {
        let wall = i64::try_from(ns).unwrap_or(i64::MAX);
        // fetch_update with saturating arithmetic: never wraps around.
        let _ = self
            .wall_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some(w.saturating_add(wall))
            });
        let _ = self
            .mono_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                Some(m.saturating_add(ns))
            });
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_ns(&self) -> TimestampNs {
        TimestampNs(self.wall_ns.load(Ordering::Relaxed))
    }

    #[inline]
    fn mono_ns(&self) -> u64 {
        self.mono_ns.load(Ordering::Relaxed)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now_ns(&self) -> TimestampNs {
        (**self).now_ns()
    }

    #[inline]
    fn mono_ns(&self) -> u64 {
        (**self).mono_ns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_wall_time_is_after_2024_and_monotonic_never_goes_back() {
        let clock = SystemClock::new();
        // 2024-01-01T00:00:00Z.
        assert!(clock.now_ns() > TimestampNs::from_ms(1_704_067_200_000));
        let mut last = clock.mono_ns();
        for _ in 0..1000 {
            let now = clock.mono_ns();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn system_clock_wall_time_agrees_with_system_time() {
        let clock = SystemClock::new();
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let ours = clock.now_ns().0;
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        assert!(before <= ours as u128 && ours as u128 <= after);
    }

    #[test]
    fn system_clock_reading_does_not_allocate() {
        let clock = SystemClock::new();
        let mut sum = 0i64;
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                sum = sum.wrapping_add(clock.now_ns().0);
                sum = sum.wrapping_add(clock.mono_ns() as i64);
            }
        });
        assert_eq!(info.count_total, 0);
        assert_ne!(sum, 0);
    }

    #[test]
    fn manual_clock_is_set_and_advanced_explicitly() {
        let clock = ManualClock::new(TimestampNs(1_000));
        assert_eq!(clock.now_ns(), TimestampNs(1_000));
        assert_eq!(clock.mono_ns(), 0);
        clock.advance(250);
        assert_eq!(clock.now_ns(), TimestampNs(1_250));
        assert_eq!(clock.mono_ns(), 250);
        clock.set_now(TimestampNs(10));
        assert_eq!(clock.now_ns(), TimestampNs(10));
        assert_eq!(clock.mono_ns(), 250, "setting the wall clock keeps mono");
    }

    #[test]
    fn manual_clock_advance_saturates() {
        let clock = ManualClock::new(TimestampNs(i64::MAX - 1));
        clock.advance(u64::MAX);
        assert_eq!(clock.now_ns(), TimestampNs(i64::MAX));
        assert_eq!(clock.mono_ns(), u64::MAX);
        clock.advance(1);
        assert_eq!(clock.mono_ns(), u64::MAX);
    }

    #[test]
    fn clock_is_usable_through_a_reference_and_a_trait_object() {
        let clock = ManualClock::new(TimestampNs(5));
        let by_ref: &dyn Clock = &clock;
        fn read(c: impl Clock) -> TimestampNs {
            c.now_ns()
        }
        assert_eq!(read(by_ref), TimestampNs(5));
        assert_eq!(read(&clock), TimestampNs(5));
    }
}
