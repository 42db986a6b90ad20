//! Drift-free running sums over a fixed window of f64 values.
//!
//! Consumes one value per update and produces the window's sum (and sum of
//! squares) so that SMA and Bollinger are O(1) per update. A plain running
//! sum drifts over millions of add/subtract pairs and the textbook
//! `E[x^2] - E[x]^2` cancels catastrophically at price scale 1e5. Both are
//! avoided here: sums are kept over deviations from an anchor near the window
//! mean, and every `max(RESYNC_MIN_UPDATES, period)` updates the anchor moves
//! to the current mean and the sums are recomputed exactly from the ring, so
//! the error can never accumulate (O(1) amortized: at most one extra add per
//! update). The absolute error of the mean is a few ulp of the largest
//! magnitude pushed since the last recomputation (TA-Lib's running sums carry
//! the whole history instead); the variance error is a few ulp of the squared
//! distance of those values from the anchor. Allocates only in `new`.

use ringbuf::HistoryRing;

/// Minimum number of updates between two exact recomputations.
const RESYNC_MIN_UPDATES: usize = 1024;

/// Running sums of the last `period` values; sums of squares when `SQUARES`.
#[derive(Debug)]
pub(crate) struct WindowSums<const SQUARES: bool> {
    /// The window, newest first; preallocated, never grows.
    ring: HistoryRing<f64>,
    /// `1 / period`: multiplying is cheaper than dividing on every read.
    inv_period: f64,
    /// Reference point the sums are taken relative to; set to the window
    /// mean at every recomputation (and to the first value of an empty window).
    anchor: f64,
    /// Sum of `x - anchor` over the window.
    sum: f64,
    /// Sum of `(x - anchor)^2` over the window (0 when `SQUARES` is false).
    sum_sq: f64,
    /// Updates left before the next exact recomputation.
    until_resync: usize,
    /// Updates between exact recomputations.
    resync_every: usize,
}

impl<const SQUARES: bool> WindowSums<SQUARES> {
    /// Creates empty sums over `period` values.
    ///
    /// # Panics
    /// Panics when `period` is 0.
    pub(crate) fn new(period: usize) -> Self {
        assert!(period > 0, "window period must be at least 1");
        let resync_every = period.max(RESYNC_MIN_UPDATES);
        #[allow(
            clippy::cast_precision_loss,
            reason = "periods are small integers, exact in f64"
        )]
        let period_f64 = period as f64;
        Self {
            ring: HistoryRing::new(period),
            inv_period: 1.0 / period_f64,
            anchor: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            until_resync: resync_every,
            resync_every,
        }
    }

    /// Folds in `value`, evicting the oldest once the window is full.
    #[inline]
    pub(crate) fn push(&mut self, value: f64) {
        if self.ring.is_empty() {
            self.anchor = value;
        }
        let dev = value - self.anchor;
        match self.ring.push(value) {
            Some(evicted) => {
                let old = evicted - self.anchor;
                self.sum += dev - old;
                if SQUARES {
                    // dev^2 - old^2 without forming either square.
                    self.sum_sq += (dev - old) * (dev + old);
                }
            }
            None => {
                self.sum += dev;
                if SQUARES {
                    self.sum_sq += dev * dev;
                }
            }
        }
        self.until_resync -= 1;
        if self.until_resync == 0 {
            self.resync();
        }
    }

    /// Re-anchors at the window mean and recomputes the sums from the ring.
    #[cold]
    fn resync(&mut self) {
        self.until_resync = self.resync_every;
        let len = self.ring.len();
        if len == 0 {
            return;
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "window lengths are small integers, exact in f64"
        )]
        let anchor = self.anchor + self.sum / len as f64;
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for value in self.ring.iter() {
            let dev = value - anchor;
            sum += dev;
            if SQUARES {
                sum_sq += dev * dev;
            }
        }
        self.anchor = anchor;
        self.sum = sum;
        self.sum_sq = sum_sq;
    }

    /// Returns true once `period` values were pushed.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// Returns the mean of a full window (meaningless before).
    #[inline]
    pub(crate) fn mean(&self) -> f64 {
        self.anchor + self.sum * self.inv_period
    }

    /// Returns the population variance of a full window, never negative.
    #[inline]
    pub(crate) fn variance(&self) -> f64 {
        let mean_dev = self.sum * self.inv_period;
        (self.sum_sq * self.inv_period - mean_dev * mean_dev).max(0.0)
    }

    /// Returns the window length.
    pub(crate) fn period(&self) -> usize {
        self.ring.capacity()
    }

    /// Empties the window.
    pub(crate) fn reset(&mut self) {
        self.ring.clear();
        self.anchor = 0.0;
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.until_resync = self.resync_every;
    }
}

impl<const SQUARES: bool> crate::checkpoint::Restore for WindowSums<SQUARES> {
    fn save(&self, w: &mut crate::checkpoint::StateWriter) {
        crate::checkpoint::save_history(&self.ring, w);
        w.put(&(self.inv_period, self.anchor, self.sum));
        w.put(&(self.sum_sq, self.until_resync, self.resync_every));
    }

    fn restore(
        &mut self,
        r: &mut crate::checkpoint::StateReader<'_>,
    ) -> Result<(), crate::checkpoint::StateError> {
        crate::checkpoint::restore_history(&mut self.ring, r)?;
        (self.inv_period, self.anchor, self.sum) = r.take()?;
        (self.sum_sq, self.until_resync, self.resync_every) = r.take()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neumaier-compensated sum: the exact reference for the drift test.
    fn exact_sum(values: impl Iterator<Item = f64>) -> f64 {
        let (mut sum, mut comp) = (0.0f64, 0.0f64);
        for v in values {
            let t = sum + v;
            comp += if sum.abs() >= v.abs() {
                (sum - t) + v
            } else {
                (v - t) + sum
            };
            sum = t;
        }
        sum + comp
    }

    /// SplitMix64: deterministic uniform numbers in [-1, 1) without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next_unit(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
            let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
            unit * 2.0 - 1.0
        }
    }

    fn check_against_exact(sums: &WindowSums<true>, history: &[f64], newest: usize) {
        let period = sums.period();
        let window = (0..period).map(|age| history[(newest + history.len() - age) % history.len()]);
        #[allow(clippy::cast_precision_loss, reason = "small period")]
        let n = period as f64;
        let mean = exact_sum(window.clone()) / n;
        let var = exact_sum(window.map(|x| (x - mean) * (x - mean))) / n;
        let (got_mean, got_sd) = (sums.mean(), sums.variance().sqrt());
        assert!(
            (got_mean - mean).abs() <= 1e-14 * mean.abs(),
            "mean {got_mean} vs exact {mean}"
        );
        assert!(
            (got_sd - var.sqrt()).abs() <= 1e-9 * var.sqrt(),
            "stddev {got_sd} vs exact {}",
            var.sqrt()
        );
    }

    #[test]
    fn ten_million_random_walk_updates_at_price_scale_1e5_do_not_drift() {
        let mut fast = WindowSums::<true>::new(20);
        let mut slow = WindowSums::<true>::new(200);
        let mut history = vec![0.0; 256];
        let mut rng = Rng(42);
        let mut price = 100_000.0f64;
        for i in 0..10_000_000usize {
            // Random walk with a reflecting floor and cap, on a 0.1 tick.
            price += (rng.next_unit() * 200.0).round() / 10.0;
            if !(50_000.0..=200_000.0).contains(&price) {
                price = price.clamp(50_000.0, 200_000.0);
            }
            history[i % 256] = price;
            fast.push(price);
            slow.push(price);
            if i % 1_000_003 == 1_000_002 {
                check_against_exact(&fast, &history, i % 256);
                check_against_exact(&slow, &history, i % 256);
            }
        }
        check_against_exact(&fast, &history, 9_999_999 % 256);
        check_against_exact(&slow, &history, 9_999_999 % 256);
    }

    #[test]
    fn flat_window_variance_is_exactly_zero() {
        let mut sums = WindowSums::<true>::new(5);
        for _ in 0..3000 {
            sums.push(99_999.9);
        }
        assert_eq!(sums.variance(), 0.0);
        assert_eq!(sums.mean(), 99_999.9);
    }

    #[test]
    fn reset_forgets_the_window() {
        let mut sums = WindowSums::<false>::new(2);
        sums.push(5.0);
        sums.push(7.0);
        assert!(sums.is_full());
        sums.reset();
        assert!(!sums.is_full());
        sums.push(1.0);
        sums.push(2.0);
        assert_eq!(sums.mean(), 1.5);
    }
}
