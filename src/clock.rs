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
//!
//! The live hot thread uses [`SystemClock::cycle_counter`]: its monotonic
//! reading comes from the CPU's time-stamp counter through `quanta`
//! (calibrated against `CLOCK_MONOTONIC` when first used), which is a few
//! nanoseconds instead of a vDSO call. It is only used where the TSC is
//! invariant and the kernel itself keeps it as its clocksource (which it
//! stops doing when its watchdog finds the TSC unstable or unsynchronised
//! between CPUs); elsewhere the same clock reads `CLOCK_MONOTONIC`
//! ([`SystemClock::source`] says which). Wall time always comes from the OS;
//! the hot loop derives it from its monotonic reading and re-anchors it on
//! the OS wall clock periodically ([`WallAnchor`]).

use crate::types::TimestampNs;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;
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
/// [`SystemTime`] and `CLOCK_MONOTONIC` through [`Instant`] (or the CPU's
/// cycle counter, see [`SystemClock::cycle_counter`]), relative to the
/// instant this clock was created.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    /// Origin of [`Clock::mono_ns`]; set once at construction.
    origin: Instant,
    /// Raw cycle-counter reading at construction when [`Clock::mono_ns`]
    /// reads the counter ([`cycle_clock`] is then `Some`); `None` for the
    /// OS monotonic clock.
    cycles_origin: Option<u64>,
}

/// The process's calibrated cycle counter: `Some` once the TSC was found
/// trustworthy (see [`SystemClock::cycle_counter`]). Initialised at most
/// once, on the first `cycle_counter` call: calibration takes up to 200 ms
/// (quanta), so processes that never ask for it (backtests, tools) never
/// pay for it.
static CYCLES: OnceLock<Option<quanta::Clock>> = OnceLock::new();

/// Returns the calibrated cycle counter if one was set up and trusted.
#[inline]
fn cycle_clock() -> Option<&'static quanta::Clock> {
    CYCLES.get().and_then(Option::as_ref)
}

/// Returns whether the kernel uses the TSC as its clocksource: it selects it
/// only for an invariant TSC synchronised across CPUs, and its watchdog
/// switches away from it when it drifts, so this is the OS's own verdict.
fn kernel_trusts_tsc() -> bool {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|s| s.trim() == "tsc")
}

impl SystemClock {
    /// Returns a clock whose monotonic origin is now, reading the OS clocks.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            cycles_origin: None,
        }
    }

    /// Returns a clock whose monotonic reading comes from the CPU's
    /// time-stamp counter (`quanta`, calibrated against `CLOCK_MONOTONIC`
    /// on the first call in the process, up to 200 ms), when the TSC is
    /// invariant and the kernel keeps it as its clocksource; otherwise the
    /// same clock as [`SystemClock::new`]. Wall time ([`Clock::now_ns`])
    /// comes from the OS either way. Used for the live hot thread, where
    /// a reading costs ~8 ns instead of a ~25 ns vDSO call (`clock` bench).
    #[must_use]
    pub fn cycle_counter() -> Self {
        let cycles = CYCLES.get_or_init(|| {
            let clock = kernel_trusts_tsc().then(quanta::Clock::new);
            match &clock {
                Some(_) => log::debug!("Hot clock: CPU time-stamp counter (quanta)"),
                None => log::info!(
                    "Hot clock: CLOCK_MONOTONIC (the kernel's clocksource is not the TSC)"
                ),
            }
            clock
        });
        Self {
            origin: Instant::now(),
            cycles_origin: cycles.as_ref().map(quanta::Clock::raw),
        }
    }

    /// Returns which counter [`Clock::mono_ns`] reads: `"tsc"` (the cycle
    /// counter) or `"clock_monotonic"`.
    #[must_use]
    pub fn source(&self) -> &'static str {
        if self.cycles_origin.is_some() {
            "tsc"
        } else {
            "clock_monotonic"
        }
    }
}

/// The wall clock derived from monotonic readings: the hot loop reads the
/// monotonic clock once per iteration and gets wall time from it, re-reading
/// the OS wall clock only every `resync_ns` (so a step of the OS clock, or
/// a drift of the cycle counter's calibration, shows within that interval).
#[derive(Debug, Clone, Copy)]
pub struct WallAnchor {
    /// OS wall time at the last re-anchoring.
    wall: TimestampNs,
    /// Monotonic reading taken right after `wall`.
    mono: u64,
    /// Re-anchor once a reading is this far past `mono`.
    resync_ns: u64,
}

impl WallAnchor {
    /// Returns an anchor taken from `clock` now, re-anchoring every
    /// `resync_ns` nanoseconds of monotonic time.
    #[must_use]
    pub fn new(clock: &impl Clock, resync_ns: u64) -> Self {
        Self {
            wall: clock.now_ns(),
            mono: clock.mono_ns(),
            resync_ns,
        }
    }

    /// Returns the wall time at the monotonic reading `mono` (taken from
    /// `clock`), re-anchoring on the OS wall clock first when the anchor
    /// is `resync_ns` old. A reading older than the anchor maps to the
    /// anchor's wall time.
    #[inline]
    pub fn wall_at(&mut self, clock: &impl Clock, mono: u64) -> TimestampNs {
        let since = mono.saturating_sub(self.mono);
        if since >= self.resync_ns {
            self.wall = clock.now_ns();
            self.mono = mono;
            return self.wall;
        }
        // `since < resync_ns`, a few seconds at most: fits an i64.
        self.wall.add_ns(i64::try_from(since).unwrap_or(i64::MAX))
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
        if let (Some(origin), Some(cycles)) = (self.cycles_origin, cycle_clock()) {
            // One `rdtsc` and a fixed-point multiply; never goes back while
            // the TSC is synchronised (the kernel's verdict, see above).
            return cycles.delta_as_nanos(origin, cycles.raw());
        }
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
    fn cycle_counter_clock_agrees_with_the_os_monotonic_clock() {
        let clock = SystemClock::cycle_counter();
        assert!(["tsc", "clock_monotonic"].contains(&clock.source()));
        let os_start = Instant::now();
        let start = clock.mono_ns();
        let mut last = start;
        let mut spins = 0u64;
        // Bounded busy wait of about 20 ms of OS monotonic time.
        while os_start.elapsed() < std::time::Duration::from_millis(20) && spins < 1 << 32 {
            let now = clock.mono_ns();
            assert!(now >= last, "monotonic reading went back");
            last = now;
            spins += 1;
        }
        let ours = clock.mono_ns() - start;
        let os = os_start.elapsed().as_nanos() as u64;
        // Calibrated against CLOCK_MONOTONIC: within 2 % plus a scheduling
        // hiccup between the two readings.
        let diff = ours.abs_diff(os);
        assert!(diff < os / 50 + 2_000_000, "ours {ours} ns, os {os} ns");
    }

    #[test]
    fn cycle_counter_reading_does_not_allocate_after_calibration() {
        let clock = SystemClock::cycle_counter();
        let mut sum = 0u64;
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                sum = sum.wrapping_add(clock.mono_ns());
            }
        });
        assert_eq!(info.count_total, 0);
        assert_ne!(sum, 0);
    }

    #[test]
    fn wall_anchor_derives_wall_time_and_reanchors_on_the_os_clock() {
        let clock = ManualClock::new(TimestampNs(1_000_000));
        let mut anchor = WallAnchor::new(&clock, 100);
        assert_eq!(anchor.wall_at(&clock, 40), TimestampNs(1_000_040));
        // The OS wall clock steps; the anchor follows at the next resync.
        clock.set_now(TimestampNs(5_000_000));
        assert_eq!(anchor.wall_at(&clock, 99), TimestampNs(1_000_099));
        assert_eq!(anchor.wall_at(&clock, 100), TimestampNs(5_000_000));
        assert_eq!(anchor.wall_at(&clock, 150), TimestampNs(5_000_050));
        // A reading older than the anchor does not go before it.
        assert_eq!(anchor.wall_at(&clock, 10), TimestampNs(5_000_000));
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
