//! REST fault injection: response delay, periodic bursts of HTTP 429 and random 5xx replies.
//!
//! Consumes the [`FaultConfig`] and a seed; produces a decision per request. Deterministic
//! for a given seed and request order. Never touches the exchange state itself.

use super::config::FaultConfig;
use super::rng::SimRng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What to do with one REST request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestFault {
    /// Serve normally.
    None,
    /// Answer HTTP 429 (code 100410) without executing.
    TooMany,
    /// Answer HTTP 500 (code 100500) without executing.
    Internal,
    /// Execute, then answer HTTP 504 (outcome unknown to the client).
    GatewayTimeout,
}

/// How many faults a simulator injected so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// REST requests answered HTTP 429 (code 100410) without executing.
    pub too_many: u64,
    /// REST requests answered HTTP 500 without executing.
    pub internal: u64,
    /// REST requests executed, then answered HTTP 504.
    pub gateway_timeout: u64,
    /// Order placements rejected at random (101204 / 80012).
    pub rejects: u64,
    /// Market-stream frames sent malformed.
    pub malformed: u64,
}

impl FaultCounts {
    /// Returns the sum of every kind.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.too_many + self.internal + self.gateway_timeout + self.rejects + self.malformed
    }
}

/// Per-simulator fault dice.
#[derive(Debug)]
pub struct Faults {
    cfg: FaultConfig,
    rng: Mutex<SimRng>,
    requests: AtomicU64,
    /// Injected so far, per kind: 429, 500, 504, malformed frames.
    injected: [AtomicU64; 4],
    /// Delay before an order placement is executed, ms (settable at run time).
    order_delay_ms: AtomicU64,
}

impl Faults {
    /// Returns the fault state for `cfg`, seeded with `seed`.
    #[must_use]
    pub fn new(cfg: FaultConfig, seed: u64) -> Self {
        Self {
            cfg,
            rng: Mutex::new(SimRng::new(seed ^ 0xFA17)),
            requests: AtomicU64::new(0),
            injected: Default::default(),
            order_delay_ms: AtomicU64::new(0),
        }
    }

    /// Counts a market frame sent malformed.
    pub fn count_malformed(&self) {
        self.injected[3].fetch_add(1, Ordering::Relaxed);
    }

    /// Returns the REST and market-stream faults injected so far (rejects,
    /// decided by the exchange, are 0 here).
    #[must_use]
    pub fn counts(&self) -> FaultCounts {
        let n = |k: usize| self.injected[k].load(Ordering::Relaxed);
        FaultCounts {
            too_many: n(0),
            internal: n(1),
            gateway_timeout: n(2),
            rejects: 0,
            malformed: n(3),
        }
    }

    /// Returns the delay applied before executing an order placement, ms.
    #[must_use]
    pub fn order_delay_ms(&self) -> u64 {
        self.order_delay_ms.load(Ordering::Acquire)
    }

    /// Sets the delay applied before executing an order placement, ms
    /// (0 turns it off).
    pub fn set_order_delay_ms(&self, ms: u64) {
        self.order_delay_ms.store(ms, Ordering::Release);
    }

    /// Returns the configured response delay in ms.
    #[must_use]
    pub fn delay_ms(&self) -> u64 {
        self.cfg.delay_ms
    }

    /// Decides the fate of the next REST request. Requests `every·k … every·k + burst − 1`
    /// (k ≥ 1, counting from 1) get 429; otherwise 5xx with probability `rate_5xx`, half
    /// 500 and half 504.
    pub fn next_request(&self) -> RestFault {
        let fault = self.decide();
        let kind = match fault {
            RestFault::None => return fault,
            RestFault::TooMany => 0,
            RestFault::Internal => 1,
            RestFault::GatewayTimeout => 2,
        };
        self.injected[kind].fetch_add(1, Ordering::Relaxed);
        fault
    }

    fn decide(&self) -> RestFault {
        let n = self.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let burst = u64::from(self.cfg.burst_429);
        if burst > 0 {
            let every = u64::from(self.cfg.burst_429_every).max(burst + 1);
            if n >= every && n % every < burst {
                return RestFault::TooMany;
            }
        }
        if self.cfg.rate_5xx > 0.0 {
            let mut rng = super::lock(&self.rng);
            if rng.chance(self.cfg.rate_5xx) {
                return if rng.chance(0.5) {
                    RestFault::Internal
                } else {
                    RestFault::GatewayTimeout
                };
            }
        }
        RestFault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_delay_is_off_by_default_and_settable_at_run_time() {
        let f = Faults::new(FaultConfig::default(), 1);
        assert_eq!(f.order_delay_ms(), 0);
        f.set_order_delay_ms(250);
        assert_eq!(f.order_delay_ms(), 250);
        f.set_order_delay_ms(0);
        assert_eq!(f.order_delay_ms(), 0);
    }

    #[test]
    fn bursts_of_429_repeat_periodically() {
        let f = Faults::new(
            FaultConfig {
                burst_429: 2,
                burst_429_every: 5,
                ..FaultConfig::default()
            },
            1,
        );
        let got: Vec<bool> = (0..12)
            .map(|_| f.next_request() == RestFault::TooMany)
            .collect();
        // Requests 5, 6, 10, 11 (1-based).
        let want = [
            false, false, false, false, true, true, false, false, false, true, true, false,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn certain_5xx_rate_always_fails_and_zero_never_does() {
        let always = Faults::new(
            FaultConfig {
                rate_5xx: 1.0,
                ..FaultConfig::default()
            },
            3,
        );
        assert!((0..50).all(|_| always.next_request() != RestFault::None));
        let never = Faults::new(FaultConfig::default(), 3);
        assert!((0..50).all(|_| never.next_request() == RestFault::None));
    }
}
