//! Client-side rate limiting of REST requests with one token bucket per
//! documented limit (protocol §2.4): the per-UID limit of each private
//! endpoint, the per-endpoint IP limit of groups 2 and 3, and the per-group IP
//! limits. A request over budget is delayed, never dropped.
//!
//! Consumes an [`Endpoint`] and the current monotonic time; produces how long
//! to wait before sending, and reserves the slot. Buckets are GCRA (a token
//! bucket expressed as a "theoretical arrival time"), in integer nanoseconds.
//! Never sleeps itself and never allocates.

use std::time::Duration;

use crate::io::endpoint::{Endpoint, IpGroup, ENDPOINT_COUNT};

/// One token bucket of `count` requests per `window`, as GCRA.
///
/// Invariant: `interval_ns > 0`; `tolerance_ns = window - interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    interval_ns: u64,
    tolerance_ns: u64,
    /// Theoretical arrival time of the next request (ns on the limiter's clock).
    tat_ns: u64,
}

impl TokenBucket {
    /// Returns a full bucket allowing `count` requests per `window` (bursts up to `count`).
    ///
    /// # Panics
    /// Panics when `count` is zero or `window` is shorter than `count` ns
    /// (a programming error in the limit table).
    #[must_use]
    pub fn new(count: u32, window: Duration) -> Self {
        assert!(count > 0, "Invariant: a bucket allows at least one request");
        let window_ns = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        let interval_ns = window_ns / u64::from(count);
        assert!(interval_ns > 0, "Invariant: window longer than count ns");
        Self {
            interval_ns,
            tolerance_ns: window_ns - interval_ns,
            tat_ns: 0,
        }
    }

    /// Returns the earliest time at which one more request conforms.
    #[must_use]
    pub fn earliest_ns(&self) -> u64 {
        self.tat_ns.saturating_sub(self.tolerance_ns)
    }

    /// Takes one token at time `t_ns` (which must be ≥ [`Self::earliest_ns`]).
    pub fn take(&mut self, t_ns: u64) {
        debug_assert!(
            t_ns >= self.earliest_ns(),
            "Invariant: take only when conforming"
        );
        self.tat_ns = self.tat_ns.max(t_ns) + self.interval_ns;
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Every documented REST limit, applied together.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    uid: [Option<TokenBucket>; ENDPOINT_COUNT],
    ip_endpoint: [Option<TokenBucket>; ENDPOINT_COUNT],
    market_10s: TokenBucket,
    market_60s: TokenBucket,
    group2_10s: TokenBucket,
    group3_10s: TokenBucket,
    blocked_until_ns: [u64; ENDPOINT_COUNT],
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    /// Returns a limiter with the documented limits and full buckets.
    #[must_use]
    pub fn new() -> Self {
        let ten = Duration::from_secs(10);
        let mut uid = [None; ENDPOINT_COUNT];
        let mut ip_endpoint = [None; ENDPOINT_COUNT];
        for ep in Endpoint::ALL {
            let spec = ep.spec();
            uid[ep.index()] = spec
                .uid_per_sec
                .map(|n| TokenBucket::new(n, Duration::from_secs(1)));
            if matches!(spec.group, IpGroup::Group2 | IpGroup::Group3) {
                ip_endpoint[ep.index()] = Some(TokenBucket::new(300, ten));
            }
        }
        Self {
            uid,
            ip_endpoint,
            market_10s: TokenBucket::new(500, ten),
            market_60s: TokenBucket::new(1000, Duration::from_secs(60)),
            group2_10s: TokenBucket::new(2000, ten),
            group3_10s: TokenBucket::new(2000, ten),
            blocked_until_ns: [0; ENDPOINT_COUNT],
        }
    }

    fn buckets(&mut self, ep: Endpoint) -> [Option<&mut TokenBucket>; 4] {
        let i = ep.index();
        let (g1, g2) = match ep.spec().group {
            IpGroup::Market => (Some(&mut self.market_10s), Some(&mut self.market_60s)),
            IpGroup::Group2 => (Some(&mut self.group2_10s), None),
            IpGroup::Group3 => (Some(&mut self.group3_10s), None),
            IpGroup::None => (None, None),
        };
        [self.uid[i].as_mut(), self.ip_endpoint[i].as_mut(), g1, g2]
    }

    /// Reserves a slot for one request to `ep` and returns how long after
    /// `now` it may be sent (zero when within every budget).
    pub fn acquire(&mut self, ep: Endpoint, now: Duration) -> Duration {
        let now_ns = ns(now);
        let blocked = self.blocked_until_ns[ep.index()];
        let mut at = now_ns.max(blocked);
        for b in self.buckets(ep).into_iter().flatten() {
            at = at.max(b.earliest_ns());
        }
        for b in self.buckets(ep).into_iter().flatten() {
            b.take(at);
        }
        Duration::from_nanos(at - now_ns)
    }

    /// Blocks `ep` until `until` (the server's retry hint after a 429).
    pub fn block_until(&mut self, ep: Endpoint, until: Duration) {
        let i = ep.index();
        self.blocked_until_ns[i] = self.blocked_until_ns[i].max(ns(until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_spaces_requests() {
        let mut b = TokenBucket::new(5, Duration::from_secs(1));
        for _ in 0..5 {
            assert_eq!(b.earliest_ns(), 0);
            b.take(0);
        }
        assert_eq!(b.earliest_ns(), 200_000_000);
    }

    #[test]
    fn place_order_burst_of_five_then_delays_by_200ms() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(100);
        for _ in 0..5 {
            assert_eq!(rl.acquire(Endpoint::PlaceOrder, now), Duration::ZERO);
        }
        assert_eq!(
            rl.acquire(Endpoint::PlaceOrder, now),
            Duration::from_millis(200)
        );
        assert_eq!(
            rl.acquire(Endpoint::PlaceOrder, now),
            Duration::from_millis(400)
        );
        // Another endpoint has its own UID budget.
        assert_eq!(rl.acquire(Endpoint::CancelOrder, now), Duration::ZERO);
    }

    #[test]
    fn market_group_is_shared_across_endpoints() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(1000);
        for i in 0..500 {
            let ep = if i % 2 == 0 {
                Endpoint::Depth
            } else {
                Endpoint::Klines
            };
            assert_eq!(rl.acquire(ep, now), Duration::ZERO);
        }
        // 501st in the same instant waits one 10 s / 500 interval.
        assert_eq!(
            rl.acquire(Endpoint::TickerPrice, now),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn market_minute_limit_binds_after_the_ten_second_one() {
        let mut rl = RateLimiter::new();
        let mut now = Duration::from_secs(1000);
        let mut waited = Duration::ZERO;
        for _ in 0..1100 {
            let w = rl.acquire(Endpoint::Depth, now);
            waited += w;
            now += w;
        }
        // 1000 per minute: the last 100 beyond the burst take at least 6 s.
        assert!(waited >= Duration::from_secs(6), "{waited:?}");
    }

    #[test]
    fn block_until_delays_only_that_endpoint() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(10);
        rl.block_until(Endpoint::QueryOrder, Duration::from_secs(13));
        assert_eq!(
            rl.acquire(Endpoint::QueryOrder, now),
            Duration::from_secs(3)
        );
        assert_eq!(rl.acquire(Endpoint::OpenOrders, now), Duration::ZERO);
    }

    #[test]
    fn listen_keys_have_no_documented_limit() {
        let mut rl = RateLimiter::new();
        for _ in 0..10_000 {
            assert_eq!(
                rl.acquire(Endpoint::ListenKeyExtend, Duration::ZERO),
                Duration::ZERO
            );
        }
    }
}
