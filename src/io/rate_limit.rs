//! Client-side rate limiting of REST requests with one token bucket per
//! documented limit (protocol §2.4): the per-UID limit of each private
//! endpoint, the per-endpoint IP limit of groups 2 and 3, and the per-group IP
//! limits. A request over budget is delayed, never dropped.
//!
//! Consumes an [`Endpoint`] and the current monotonic time; produces how long
//! to wait before sending, and reserves the slot. Each bucket holds `n`
//! tokens and every spent token comes back exactly one window after it was
//! spent (a sliding-window log), so no window of that length ever sees more
//! than `n` requests — a classic refill-rate bucket would allow `2n - 1`.
//! Buckets are preallocated rings of send times; never sleeps itself and
//! never allocates after construction.

use std::time::Duration;

use crate::io::endpoint::{Endpoint, IpGroup, ENDPOINT_COUNT};

/// A bucket of `n` tokens, each returned one `window` after it was spent.
///
/// Invariant: `sent_ns.len() == n > 0`; the ring holds the last `n` send
/// times in non-decreasing order starting at `head`; `used <= n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    window_ns: u64,
    sent_ns: Vec<u64>,
    head: usize,
    used: usize,
}

impl TokenBucket {
    /// Returns a full bucket allowing `count` requests in any `window`.
    ///
    /// # Panics
    /// Panics when `count` is zero (a programming error in the limit table).
    #[must_use]
    pub fn new(count: u32, window: Duration) -> Self {
        assert!(count > 0, "Invariant: a bucket allows at least one request");
        Self {
            window_ns: ns(window),
            sent_ns: vec![0; count as usize],
            head: 0,
            used: 0,
        }
    }

    /// Returns the earliest time at which a token is available.
    #[must_use]
    pub fn earliest_ns(&self) -> u64 {
        if self.used < self.sent_ns.len() {
            0
        } else {
            // The oldest of the last n sends frees its token one window later.
            self.sent_ns[self.head].saturating_add(self.window_ns)
        }
    }

    /// Spends one token at time `t_ns` (which must be ≥ [`Self::earliest_ns`]
    /// and ≥ every earlier `t_ns`).
    pub fn take(&mut self, t_ns: u64) {
        debug_assert!(
            t_ns >= self.earliest_ns(),
            "Invariant: take only when available"
        );
        self.sent_ns[self.head] = t_ns;
        self.head = (self.head + 1) % self.sent_ns.len();
        self.used = (self.used + 1).min(self.sent_ns.len());
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
    /// Send time of the last reservation: the I/O thread sends serially, so
    /// no request is scheduled before an earlier one.
    last_ns: u64,
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
        let mut uid: [Option<TokenBucket>; ENDPOINT_COUNT] = Default::default();
        let mut ip_endpoint: [Option<TokenBucket>; ENDPOINT_COUNT] = Default::default();
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
            last_ns: 0,
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
        let mut at = now_ns.max(blocked).max(self.last_ns);
        for b in self.buckets(ep).into_iter().flatten() {
            at = at.max(b.earliest_ns());
        }
        for b in self.buckets(ep).into_iter().flatten() {
            b.take(at);
        }
        self.last_ns = at;
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
    fn bucket_returns_each_token_one_window_after_use() {
        let mut b = TokenBucket::new(5, Duration::from_secs(1));
        for i in 0..5 {
            assert_eq!(b.earliest_ns(), 0);
            b.take(i * 100_000_000);
        }
        assert_eq!(b.earliest_ns(), 1_000_000_000);
        b.take(1_000_000_000);
        assert_eq!(b.earliest_ns(), 1_100_000_000);
    }

    #[test]
    fn place_order_burst_of_five_then_the_sixth_waits_a_second() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(100);
        for _ in 0..5 {
            assert_eq!(rl.acquire(Endpoint::PlaceOrder, now), Duration::ZERO);
        }
        assert_eq!(
            rl.acquire(Endpoint::PlaceOrder, now),
            Duration::from_secs(1)
        );
        // Another endpoint has its own UID budget, but is never scheduled
        // before an earlier reservation (the I/O thread sends in order).
        let later = now + Duration::from_secs(1);
        assert_eq!(rl.acquire(Endpoint::CancelOrder, later), Duration::ZERO);
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
        // The 501st waits until the first request's token returns.
        assert_eq!(
            rl.acquire(Endpoint::TickerPrice, now),
            Duration::from_secs(10)
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
        // 500 per 10 s lets 1000 through by 10 s; 1000 per minute holds the rest until 60 s.
        assert_eq!(waited, Duration::from_secs(60));
    }

    #[test]
    fn block_until_delays_only_that_endpoint() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(10);
        rl.block_until(Endpoint::QueryOrder, Duration::from_secs(13));
        assert_eq!(rl.acquire(Endpoint::OpenOrders, now), Duration::ZERO);
        assert_eq!(
            rl.acquire(Endpoint::QueryOrder, now),
            Duration::from_secs(3)
        );
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

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_granted_sends_never_exceed_five_per_second(
            gaps_ms in proptest::collection::vec(0u64..400, 1..120),
        ) {
            let mut rl = RateLimiter::new();
            let mut now = Duration::from_secs(5);
            let mut sends = Vec::new();
            for gap in gaps_ms {
                now += Duration::from_millis(gap);
                let wait = rl.acquire(Endpoint::PlaceOrder, now);
                sends.push(now + wait);
            }
            // Delays, never drops: one send per request, in order.
            prop_assert!(sends.windows(2).all(|w| w[0] <= w[1]));
            for (i, t) in sends.iter().enumerate() {
                let in_window = sends[i..].iter().take_while(|s| **s < *t + Duration::from_secs(1)).count();
                prop_assert!(in_window <= 5, "{} sends within 1 s of {:?}", in_window, t);
            }
        }
    }
}
