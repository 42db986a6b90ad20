//! The engine's state as Prometheus text (exposition format 0.0.4).
//!
//! Consumes a [`MetricsSnapshot`] (a plain copy of counters the engine
//! publishes now and then); produces text with `# HELP` and `# TYPE` lines
//! and `te_`-prefixed samples, label values escaped (`\\`, `\"`, `\n`).
//! Money is in USDT, durations in seconds (Prometheus base units), counters
//! end in `_total`, stage latencies are a `summary` with quantiles 0.5,
//! 0.9, 0.99, 0.999 plus a separate max gauge, the order round trip is a
//! `histogram` with fixed buckets per kind. Runs on the I/O or server
//! thread: it allocates and must never be called on the hot path.

use crate::metrics::latency::Stage;
use crate::metrics::round_trip::{RoundTripHistogram, RoundTripKind, ROUND_TRIP_BOUNDS_NS};
use crate::metrics::summary::LatencySummary;
use crate::types::TimestampNs;
use std::fmt::Write as _;

/// Content type of the rendered text, for the HTTP `Content-Type` header.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Count of pre-trade risk rejections for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRejectCount {
    /// The reason, as named by the risk stage (a label value).
    pub reason: String,
    /// Rejections since start.
    pub count: u64,
}

/// Health of the market-data feed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FeedHealth {
    /// Messages per second over the last measuring window.
    pub messages_per_sec: f64,
    /// Time since the last message, nanoseconds.
    pub last_message_age_ns: u64,
    /// Reconnections since start.
    pub reconnects: u64,
    /// Sequence or time gaps detected since start.
    pub gaps: u64,
}

/// What `GET /metrics` shows: a copy of the engine's counters taken at
/// [`MetricsSnapshot::taken_at`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsSnapshot {
    /// When the snapshot was taken (wall clock).
    pub taken_at: TimestampNs,
    /// Trading halted (by the kill switch or a control command).
    pub halted: bool,
    /// Account equity, USDT.
    pub equity_usdt: f64,
    /// Profit and loss since 00:00 UTC, USDT.
    pub pnl_today_usdt: f64,
    /// Profit and loss since start, USDT.
    pub pnl_total_usdt: f64,
    /// Current drawdown from the equity peak, as a fraction of the peak
    /// (0.05 = 5%).
    pub drawdown_ratio: f64,
    /// Open positions.
    pub open_positions: u32,
    /// Orders sent to the exchange since start.
    pub orders_sent: u64,
    /// Orders filled (fully) since start.
    pub orders_filled: u64,
    /// Orders rejected by the exchange since start.
    pub orders_rejected: u64,
    /// Pre-trade risk rejections by reason: a small fixed list, one entry
    /// per reason the risk stage knows (zero counts included).
    pub risk_rejects: Vec<RiskRejectCount>,
    /// Market-data feed health.
    pub feed: FeedHealth,
    /// Stage latency percentiles (cumulative since start).
    pub latency: LatencySummary,
    /// Order round trips (command queued to the I/O thread until its REST
    /// result is back on the hot thread) since start; live mode only.
    pub round_trip: RoundTripHistogram,
    /// Journal lag: bytes of records appended to the journal's current
    /// segment and not yet forced to disk (see
    /// `journal::Writer::unsynced_bytes`); 0 without a journal.
    pub journal_unsynced_bytes: u64,
}

/// Escapes a label value: backslash, double quote and newline.
#[must_use]
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Formats a sample value as Prometheus expects (`+Inf`, `-Inf`, `NaN`).
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

/// Nanoseconds as seconds.
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Appends the HELP and TYPE lines of a family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Appends a family with one unlabelled sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, v: f64) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {}", value(v));
}

impl MetricsSnapshot {
    /// Renders the snapshot as Prometheus text.
    #[must_use]
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render(&mut out);
        out
    }

    /// Appends the Prometheus text of the snapshot to `out`.
    pub fn render(&self, out: &mut String) {
        let gauge = "gauge";
        let counter = "counter";
        single(
            out,
            "te_snapshot_timestamp_seconds",
            gauge,
            "Wall-clock time the engine took this snapshot, Unix seconds.",
            // Whole seconds and fraction apart: an i64 of ns has more
            // digits than an f64 holds.
            self.taken_at.0.div_euclid(1_000_000_000) as f64
                + self.taken_at.0.rem_euclid(1_000_000_000) as f64 / 1e9,
        );
        single(
            out,
            "te_halted",
            gauge,
            "1 when trading is halted (kill switch or control command), else 0.",
            f64::from(u8::from(self.halted)),
        );
        single(
            out,
            "te_equity_usdt",
            gauge,
            "Account equity in USDT.",
            self.equity_usdt,
        );
        single(
            out,
            "te_pnl_today_usdt",
            gauge,
            "Profit and loss since 00:00 UTC in USDT.",
            self.pnl_today_usdt,
        );
        single(
            out,
            "te_pnl_total_usdt",
            gauge,
            "Profit and loss since start in USDT.",
            self.pnl_total_usdt,
        );
        single(
            out,
            "te_drawdown_ratio",
            gauge,
            "Current drawdown from the equity peak as a fraction of the peak.",
            self.drawdown_ratio,
        );
        single(
            out,
            "te_open_positions",
            gauge,
            "Number of open positions.",
            f64::from(self.open_positions),
        );
        single(
            out,
            "te_orders_sent_total",
            counter,
            "Orders sent to the exchange.",
            self.orders_sent as f64,
        );
        single(
            out,
            "te_orders_filled_total",
            counter,
            "Orders filled by the exchange.",
            self.orders_filled as f64,
        );
        single(
            out,
            "te_orders_rejected_total",
            counter,
            "Orders rejected by the exchange.",
            self.orders_rejected as f64,
        );
        family(
            out,
            "te_risk_rejects_total",
            counter,
            "Order intents rejected by the pre-trade risk checks, by reason.",
        );
        for r in &self.risk_rejects {
            let _ = writeln!(
                out,
                "te_risk_rejects_total{{reason=\"{}\"}} {}",
                escape_label_value(&r.reason),
                r.count
            );
        }
        self.render_feed(out);
        self.render_latency(out);
        self.render_orders_journal(out);
    }

    /// Appends the order round-trip histogram and the journal lag.
    fn render_orders_journal(&self, out: &mut String) {
        family(
            out,
            "te_order_round_trip_seconds",
            "histogram",
            "Order command queued to the I/O thread until its REST result (ack, reject or transport failure) is back on the hot thread, seconds, by kind (entry, stop, exit, cancel, correction). Live mode only.",
        );
        for kind in RoundTripKind::ALL {
            let name = kind.name();
            let cumulative = self.round_trip.cumulative(kind);
            for (le, n) in ROUND_TRIP_BOUNDS_NS.iter().zip(cumulative) {
                let _ = writeln!(
                    out,
                    "te_order_round_trip_seconds_bucket{{kind=\"{name}\",le=\"{}\"}} {n}",
                    value(secs(*le))
                );
            }
            let total = self.round_trip.count(kind);
            let _ = writeln!(
                out,
                "te_order_round_trip_seconds_bucket{{kind=\"{name}\",le=\"+Inf\"}} {total}"
            );
            let _ = writeln!(
                out,
                "te_order_round_trip_seconds_sum{{kind=\"{name}\"}} {}",
                value(secs(self.round_trip.sum_ns(kind)))
            );
            let _ = writeln!(
                out,
                "te_order_round_trip_seconds_count{{kind=\"{name}\"}} {total}"
            );
        }
        single(
            out,
            "te_journal_unsynced_bytes",
            "gauge",
            "Journal lag: bytes of records appended to the current journal segment and not yet forced to disk (msync); what a machine crash would lose.",
            self.journal_unsynced_bytes as f64,
        );
    }

    /// Appends the feed-health families.
    fn render_feed(&self, out: &mut String) {
        let f = &self.feed;
        single(
            out,
            "te_feed_messages_per_second",
            "gauge",
            "Market-data messages per second.",
            f.messages_per_sec,
        );
        single(
            out,
            "te_feed_last_message_age_seconds",
            "gauge",
            "Seconds since the last market-data message.",
            secs(f.last_message_age_ns),
        );
        single(
            out,
            "te_feed_reconnects_total",
            "counter",
            "Market-data reconnections.",
            f.reconnects as f64,
        );
        single(
            out,
            "te_feed_gaps_total",
            "counter",
            "Market-data gaps detected.",
            f.gaps as f64,
        );
    }

    /// Appends the stage-latency summary and max families.
    fn render_latency(&self, out: &mut String) {
        family(
            out,
            "te_stage_latency_seconds",
            "summary",
            "Hot-path stage latency since start, seconds.",
        );
        for stage in Stage::ALL {
            let s = self.latency.get(stage);
            let name = stage.name();
            for (q, ns) in [
                ("0.5", s.p50_ns),
                ("0.9", s.p90_ns),
                ("0.99", s.p99_ns),
                ("0.999", s.p999_ns),
            ] {
                let _ = writeln!(
                    out,
                    "te_stage_latency_seconds{{stage=\"{name}\",quantile=\"{q}\"}} {}",
                    value(secs(ns))
                );
            }
            let sum = s.mean_ns * s.count as f64 / 1e9;
            let _ = writeln!(
                out,
                "te_stage_latency_seconds_sum{{stage=\"{name}\"}} {}",
                value(sum)
            );
            let _ = writeln!(
                out,
                "te_stage_latency_seconds_count{{stage=\"{name}\"}} {}",
                s.count
            );
        }
        family(
            out,
            "te_stage_latency_max_seconds",
            "gauge",
            "Largest hot-path stage latency since start, seconds.",
        );
        for stage in Stage::ALL {
            let _ = writeln!(
                out,
                "te_stage_latency_max_seconds{{stage=\"{}\"}} {}",
                stage.name(),
                value(secs(self.latency.get(stage).max_ns))
            );
        }
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
