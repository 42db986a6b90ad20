//! Deterministic pseudo-random numbers for the simulator (SplitMix64).
//!
//! Consumes a seed; produces reproducible `u64`/`f64` streams so that a run with the same
//! `--seed` generates the same market and the same faults. Never reads OS entropy.

/// A small deterministic generator (SplitMix64): fast, seedable, good enough for market noise
/// and fault dice; not for cryptography.
#[derive(Debug, Clone)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    /// Returns a generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 high bits give every representable multiple of 2^-53 in [0, 1).
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Returns true with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// Returns a uniform integer in `[lo, hi]` (inclusive); `lo` when `hi <= lo`.
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// Returns an approximately standard-normal float (sum of 4 uniforms, rescaled), enough
    /// for a random walk's increments.
    pub fn gauss(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.next_f64()).sum();
        // Sum of 4 U(0,1) has mean 2 and variance 4/12.
        (s - 2.0) / (4.0f64 / 12.0).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_stream() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = SimRng::new(8);
        assert_ne!(SimRng::new(7).next_u64(), c.next_u64());
    }

    #[test]
    fn ranges_stay_inside_bounds() {
        let mut r = SimRng::new(1);
        for _ in 0..1000 {
            let v = r.range_i64(-3, 5);
            assert!((-3..=5).contains(&v));
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
        assert_eq!(r.range_i64(4, 4), 4);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
    }
}
