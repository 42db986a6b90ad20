//! Runtime metrics: per-stage latency histograms recorded on the hot
//! thread ([`latency`]), handed to the I/O thread without locks
//! ([`handoff`]), summarised ([`summary`]) and exported as `.hgrm` text
//! ([`hgrm`]); and the Prometheus text rendering of a [`MetricsSnapshot`]
//! ([`prometheus`]); the order round-trip histogram ([`round_trip`]).
//!
//! Consumes latency samples (nanoseconds) and engine counters; produces
//! histograms, summaries, `.hgrm` files and Prometheus text. Never
//! allocates, locks or does I/O on the recording side; everything that
//! formats or writes runs on the I/O thread.

pub mod handoff;
pub mod hgrm;
pub mod latency;
pub mod prometheus;
pub mod round_trip;
pub mod stage;
pub mod summary;

pub use handoff::{latency_channel, LatencyCollector, LatencyRecorder, PublishError};
pub use latency::{HistogramError, Stage, StageHistograms};
pub use prometheus::{FeedHealth, MetricsSnapshot, RiskRejectCount};
pub use round_trip::{RoundTripHistogram, RoundTripKind};
pub use summary::{LatencySummary, StageSummary};
