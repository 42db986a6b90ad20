//! Reconnect backoff: exponential with jitter, bounded, deterministic for a seed.
//!
//! Consumes the attempt count and a seeded generator; produces the delay before the next
//! connection attempt. Never reads a clock (the caller passes times), never allocates.

use std::time::Duration;

/// Exponential backoff with "equal jitter": attempt `n` (0-based) waits a uniformly random
/// delay in `[d/2, d]` where `d = min(max, base · 2^n)`, so a delay never exceeds `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    /// Returns a backoff starting at `base`, capped at `max`, with jitter drawn from `seed`.
    #[must_use]
    pub fn new(base: Duration, max: Duration, seed: u64) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
            rng: seed | 1,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Returns the delay before the next attempt and counts the attempt.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let nanos = u64::try_from(exp.as_nanos()).unwrap_or(u64::MAX);
        let half = nanos / 2;
        let jitter = if half == 0 {
            0
        } else {
            self.next_u64() % (half + 1)
        };
        Duration::from_nanos(nanos - half + jitter)
    }

    /// Returns the number of attempts since the last reset.
    #[must_use]
    pub const fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts over from `base` (after a connection delivered data).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Returns the longest delay this backoff can produce.
    #[must_use]
    pub const fn max(&self) -> Duration {
        self.max
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_delays_stay_within_half_and_full_of_the_capped_exponential(
            base_ms in 1u64..2_000, max_ms in 1u64..60_000, seed in any::<u64>(), n in 1usize..40
        ) {
            let mut b = Backoff::new(Duration::from_millis(base_ms), Duration::from_millis(max_ms), seed);
            let cap = Duration::from_millis(max_ms.max(base_ms));
            for i in 0..n {
                let d = b.next_delay();
                let full = Duration::from_millis(base_ms).saturating_mul(1u32 << i.min(20)).min(cap);
                prop_assert!(d <= full);
                prop_assert!(d >= full / 2);
            }
        }
    }

    #[test]
    fn reset_returns_to_the_base_delay_and_seeds_are_reproducible() {
        let mut a = Backoff::new(Duration::from_millis(100), Duration::from_secs(5), 7);
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5), 7);
        let da: Vec<_> = (0..10).map(|_| a.next_delay()).collect();
        let db: Vec<_> = (0..10).map(|_| b.next_delay()).collect();
        assert_eq!(da, db);
        assert_eq!(a.attempts(), 10);
        a.reset();
        assert!(a.next_delay() <= Duration::from_millis(100));
    }
}
