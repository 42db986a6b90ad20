//! Order round-trip latency: from the moment an order command enters the
//! I/O thread's queue to the moment its REST result (acknowledged,
//! rejected, or a transport failure) is back on the hot thread, per
//! [`RoundTripKind`], in fixed Prometheus-style buckets.
//!
//! Consumes durations in nanoseconds (two readings of the engine's
//! monotonic clock); produces bucket counts and sums that
//! [`super::prometheus`] renders as the `te_order_round_trip_seconds`
//! histogram. Recording never allocates, locks or makes a system call: the
//! histogram is a fixed `Copy` array that travels inside the hot thread's
//! status.

use std::fmt;

/// Upper bounds of the buckets, nanoseconds (the Prometheus `le` labels
/// are these in seconds); a last bucket, `+Inf`, takes the rest. From 1 ms
/// (a co-located REST call) to 10 s (the REST client's own timeout range).
pub const ROUND_TRIP_BOUNDS_NS: [u64; 13] = [
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Number of buckets, `+Inf` included.
pub const ROUND_TRIP_BUCKETS: usize = ROUND_TRIP_BOUNDS_NS.len() + 1;

/// What an order command that made the round trip was for (the `kind`
/// label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundTripKind {
    /// Placement of an entry order.
    Entry,
    /// Placement of a protective stop (initial, break-even or trailing).
    Stop,
    /// Placement of an exit: partial, target or close.
    Exit,
    /// Cancel of an order.
    Cancel,
    /// Placement the reconciliation makes on its own (flattening a
    /// position the engine does not know).
    Correction,
}

impl RoundTripKind {
    /// Number of kinds.
    pub const COUNT: usize = 5;

    /// Every kind, in label order (the index order of [`RoundTripKind::index`]).
    pub const ALL: [Self; Self::COUNT] = [
        Self::Entry,
        Self::Stop,
        Self::Exit,
        Self::Cancel,
        Self::Correction,
    ];

    /// Returns the kind's position in [`RoundTripKind::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Returns the label value: `entry`, `stop`, `exit`, `cancel`,
    /// `correction`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::Stop => "stop",
            Self::Exit => "exit",
            Self::Cancel => "cancel",
            Self::Correction => "correction",
        }
    }

    /// Returns the kind of a placement with `purpose`.
    #[must_use]
    pub const fn of_purpose(purpose: crate::orders::OrderPurpose) -> Self {
        use crate::orders::OrderPurpose as P;
        match purpose {
            P::Entry => Self::Entry,
            P::Stop => Self::Stop,
            P::Partial1 | P::Partial2 | P::Target | P::Close(_) => Self::Exit,
        }
    }
}

impl fmt::Display for RoundTripKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Round-trip counts per kind and bucket since start, with the sum of the
/// durations. Written only by the hot thread; copied out in its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundTripHistogram {
    /// Samples per kind and bucket (not cumulative); the last bucket is
    /// `+Inf`.
    counts: [[u64; ROUND_TRIP_BUCKETS]; RoundTripKind::COUNT],
    /// Sum of the recorded durations per kind, nanoseconds (saturating).
    sum_ns: [u64; RoundTripKind::COUNT],
}

impl RoundTripHistogram {
    /// Returns an empty histogram.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            counts: [[0; ROUND_TRIP_BUCKETS]; RoundTripKind::COUNT],
            sum_ns: [0; RoundTripKind::COUNT],
        }
    }

    /// Records one round trip of `kind` that took `ns` nanoseconds.
    pub fn record(&mut self, kind: RoundTripKind, ns: u64) {
        let bucket = ROUND_TRIP_BOUNDS_NS
            .iter()
            .position(|&le| ns <= le)
            .unwrap_or(ROUND_TRIP_BOUNDS_NS.len());
        let k = kind.index();
        self.counts[k][bucket] += 1;
        self.sum_ns[k] = self.sum_ns[k].saturating_add(ns);
    }

    /// Returns the number of round trips of `kind`.
    #[must_use]
    pub fn count(&self, kind: RoundTripKind) -> u64 {
        self.counts[kind.index()].iter().sum()
    }

    /// Returns the summed duration of the round trips of `kind`, ns.
    #[must_use]
    pub fn sum_ns(&self, kind: RoundTripKind) -> u64 {
        self.sum_ns[kind.index()]
    }

    /// Returns the cumulative counts of `kind` (samples at or below each
    /// bound of [`ROUND_TRIP_BOUNDS_NS`], then the total for `+Inf`).
    #[must_use]
    pub fn cumulative(&self, kind: RoundTripKind) -> [u64; ROUND_TRIP_BUCKETS] {
        let mut out = self.counts[kind.index()];
        for i in 1..ROUND_TRIP_BUCKETS {
            out[i] += out[i - 1];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderPurpose;

    #[test]
    fn a_round_trip_lands_in_the_first_bucket_at_or_above_it() {
        let mut h = RoundTripHistogram::new();
        h.record(RoundTripKind::Entry, 1_000_000);
        h.record(RoundTripKind::Entry, 1_000_001);
        h.record(RoundTripKind::Entry, 30_000_000_000);
        h.record(RoundTripKind::Cancel, 0);
        let c = h.cumulative(RoundTripKind::Entry);
        assert_eq!(&c[..3], &[1, 2, 2]);
        assert_eq!(c[ROUND_TRIP_BUCKETS - 2], 2, "10 s bucket");
        assert_eq!(c[ROUND_TRIP_BUCKETS - 1], 3, "+Inf holds everything");
        assert_eq!(h.count(RoundTripKind::Entry), 3);
        assert_eq!(h.sum_ns(RoundTripKind::Entry), 30_002_000_001);
        assert_eq!(h.count(RoundTripKind::Cancel), 1);
        assert_eq!(h.cumulative(RoundTripKind::Cancel)[0], 1);
        assert_eq!(h.count(RoundTripKind::Stop), 0);
    }

    #[test]
    fn kinds_follow_the_order_purpose_and_name_their_labels() {
        assert_eq!(
            RoundTripKind::of_purpose(OrderPurpose::Entry),
            RoundTripKind::Entry
        );
        assert_eq!(
            RoundTripKind::of_purpose(OrderPurpose::Stop),
            RoundTripKind::Stop
        );
        for p in [
            OrderPurpose::Partial1,
            OrderPurpose::Partial2,
            OrderPurpose::Target,
        ] {
            assert_eq!(RoundTripKind::of_purpose(p), RoundTripKind::Exit);
        }
        for (i, k) in RoundTripKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        assert_eq!(RoundTripKind::Correction.to_string(), "correction");
    }

    #[test]
    fn bounds_increase() {
        assert!(ROUND_TRIP_BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }
}
