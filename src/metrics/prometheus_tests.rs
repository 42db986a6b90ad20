//! Tests of the Prometheus rendering: the text is parsed back by the
//! strict test parser shared with the integration tests.

use super::*;
use crate::metrics::latency::StageHistograms;
use crate::metrics::round_trip::ROUND_TRIP_BUCKETS;

#[path = "../../tests/util/prom_text.rs"]
mod prom_text;

/// A snapshot with every field set to a distinct value.
pub(crate) fn sample_snapshot() -> MetricsSnapshot {
    let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
    for v in 1..=1_000u64 {
        h.record(Stage::Parse, v * 10);
        h.record(Stage::TickToOrder, v * 100);
    }
    let mut round_trip = RoundTripHistogram::new();
    round_trip.record(RoundTripKind::Entry, 3_000_000);
    round_trip.record(RoundTripKind::Entry, 40_000_000);
    round_trip.record(RoundTripKind::Cancel, 20_000_000_000);
    MetricsSnapshot {
        taken_at: TimestampNs(1_764_000_000_500_000_000),
        halted: true,
        equity_usdt: 10_250.5,
        pnl_today_usdt: -12.25,
        pnl_total_usdt: 250.5,
        drawdown_ratio: 0.0125,
        open_positions: 2,
        orders_sent: 17,
        orders_filled: 15,
        orders_rejected: 1,
        risk_rejects: vec![
            RiskRejectCount {
                reason: "max_positions".to_owned(),
                count: 3,
            },
            RiskRejectCount {
                reason: "daily_loss".to_owned(),
                count: 0,
            },
            RiskRejectCount {
                reason: "odd \"quoted\" \\ reason\nwith newline".to_owned(),
                count: 1,
            },
        ],
        feed: FeedHealth {
            messages_per_sec: 42.5,
            last_message_age_ns: 1_500_000_000,
            reconnects: 4,
            gaps: 5,
        },
        latency: h.summary(),
        round_trip,
        journal_unsynced_bytes: 4_096,
    }
}

/// Every family the renderer must produce, with its type.
const FAMILIES: [(&str, &str); 19] = [
    ("te_snapshot_timestamp_seconds", "gauge"),
    ("te_halted", "gauge"),
    ("te_equity_usdt", "gauge"),
    ("te_pnl_today_usdt", "gauge"),
    ("te_pnl_total_usdt", "gauge"),
    ("te_drawdown_ratio", "gauge"),
    ("te_open_positions", "gauge"),
    ("te_orders_sent_total", "counter"),
    ("te_orders_filled_total", "counter"),
    ("te_orders_rejected_total", "counter"),
    ("te_risk_rejects_total", "counter"),
    ("te_feed_messages_per_second", "gauge"),
    ("te_feed_last_message_age_seconds", "gauge"),
    ("te_feed_reconnects_total", "counter"),
    ("te_feed_gaps_total", "counter"),
    ("te_stage_latency_seconds", "summary"),
    ("te_stage_latency_max_seconds", "gauge"),
    ("te_order_round_trip_seconds", "histogram"),
    ("te_journal_unsynced_bytes", "gauge"),
];

#[test]
fn every_metric_is_present_with_help_type_and_value() {
    let snap = sample_snapshot();
    let exp = prom_text::parse(&snap.to_prometheus());
    assert_eq!(exp.families.len(), FAMILIES.len());
    for (name, kind) in FAMILIES {
        let (help, got_kind) = exp.families.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(got_kind, kind, "{name}");
        assert!(!help.is_empty(), "{name}");
    }
    assert!(exp.samples.iter().all(|s| s.name.starts_with("te_")));
    let v = |name: &str| exp.value(name, &[]).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(v("te_snapshot_timestamp_seconds"), 1_764_000_000.5);
    assert_eq!(v("te_halted"), 1.0);
    assert_eq!(v("te_equity_usdt"), 10_250.5);
    assert_eq!(v("te_pnl_today_usdt"), -12.25);
    assert_eq!(v("te_pnl_total_usdt"), 250.5);
    assert_eq!(v("te_drawdown_ratio"), 0.0125);
    assert_eq!(v("te_open_positions"), 2.0);
    assert_eq!(v("te_orders_sent_total"), 17.0);
    assert_eq!(v("te_orders_filled_total"), 15.0);
    assert_eq!(v("te_orders_rejected_total"), 1.0);
    assert_eq!(v("te_feed_messages_per_second"), 42.5);
    assert_eq!(v("te_feed_last_message_age_seconds"), 1.5);
    assert_eq!(v("te_feed_reconnects_total"), 4.0);
    assert_eq!(v("te_feed_gaps_total"), 5.0);
    assert_eq!(v("te_journal_unsynced_bytes"), 4_096.0);
}

#[test]
fn order_round_trips_are_a_cumulative_histogram_per_kind() {
    let snap = sample_snapshot();
    let exp = prom_text::parse(&snap.to_prometheus());
    let bucket = |kind: &str, le: &str| {
        exp.value(
            "te_order_round_trip_seconds_bucket",
            &[("kind", kind), ("le", le)],
        )
        .unwrap_or_else(|| panic!("{kind} {le}"))
    };
    assert_eq!(bucket("entry", "0.001"), 0.0);
    assert_eq!(bucket("entry", "0.005"), 1.0);
    assert_eq!(bucket("entry", "0.05"), 2.0);
    assert_eq!(bucket("entry", "10"), 2.0);
    assert_eq!(bucket("entry", "+Inf"), 2.0);
    assert_eq!(bucket("cancel", "10"), 0.0, "20 s is past the last bound");
    assert_eq!(bucket("cancel", "+Inf"), 1.0);
    let one = |name: &str, kind: &str| exp.value(name, &[("kind", kind)]).unwrap();
    assert_eq!(one("te_order_round_trip_seconds_count", "entry"), 2.0);
    assert!((one("te_order_round_trip_seconds_sum", "entry") - 0.043).abs() < 1e-12);
    assert_eq!(one("te_order_round_trip_seconds_count", "stop"), 0.0);
    assert_eq!(
        exp.named("te_order_round_trip_seconds_bucket").len(),
        ROUND_TRIP_BUCKETS * RoundTripKind::COUNT
    );
}

#[test]
fn risk_reject_reasons_are_labels_escaped_and_unescaped_back() {
    let snap = sample_snapshot();
    let text = snap.to_prometheus();
    assert!(
        text.contains(r#"reason="odd \"quoted\" \\ reason\nwith newline""#),
        "{text}"
    );
    let exp = prom_text::parse(&text);
    let rejects = exp.named("te_risk_rejects_total");
    assert_eq!(rejects.len(), 3);
    for (want, got) in snap.risk_rejects.iter().zip(rejects) {
        assert_eq!(got.labels["reason"], want.reason);
        assert_eq!(got.value, want.count as f64);
    }
}

#[test]
fn stage_latency_quantiles_sum_and_count_per_stage() {
    let snap = sample_snapshot();
    let exp = prom_text::parse(&snap.to_prometheus());
    for stage in Stage::ALL {
        let s = snap.latency.get(stage);
        let name = stage.name();
        for (q, ns) in [
            ("0.5", s.p50_ns),
            ("0.9", s.p90_ns),
            ("0.99", s.p99_ns),
            ("0.999", s.p999_ns),
        ] {
            let got = exp
                .value(
                    "te_stage_latency_seconds",
                    &[("stage", name), ("quantile", q)],
                )
                .unwrap_or_else(|| panic!("{name} {q}"));
            assert!((got - ns as f64 / 1e9).abs() < 1e-15, "{name} {q}");
        }
        let count = exp
            .value("te_stage_latency_seconds_count", &[("stage", name)])
            .unwrap();
        assert_eq!(count, s.count as f64);
        let sum = exp
            .value("te_stage_latency_seconds_sum", &[("stage", name)])
            .unwrap();
        assert!((sum - s.mean_ns * s.count as f64 / 1e9).abs() < 1e-9);
        let max = exp
            .value("te_stage_latency_max_seconds", &[("stage", name)])
            .unwrap();
        assert_eq!(max, s.max_ns as f64 / 1e9);
    }
    // Parse: 10 ns .. 10 µs uniform, so p50 is 5 µs.
    let p50 = exp
        .value(
            "te_stage_latency_seconds",
            &[("stage", "parse"), ("quantile", "0.5")],
        )
        .unwrap();
    assert!((p50 - 5e-6).abs() < 1e-8, "{p50}");
}

#[test]
fn non_finite_values_use_prometheus_spelling() {
    let snap = MetricsSnapshot {
        equity_usdt: f64::NAN,
        pnl_today_usdt: f64::INFINITY,
        pnl_total_usdt: f64::NEG_INFINITY,
        ..MetricsSnapshot::default()
    };
    let text = snap.to_prometheus();
    assert!(text.contains("te_equity_usdt NaN\n"), "{text}");
    assert!(text.contains("te_pnl_today_usdt +Inf\n"), "{text}");
    assert!(text.contains("te_pnl_total_usdt -Inf\n"), "{text}");
    let exp = prom_text::parse(&text);
    assert!(exp.value("te_equity_usdt", &[]).unwrap().is_nan());
}

#[test]
fn default_snapshot_renders_every_family_with_zeros() {
    let exp = prom_text::parse(&MetricsSnapshot::default().to_prometheus());
    assert_eq!(exp.families.len(), FAMILIES.len());
    assert!(exp.named("te_risk_rejects_total").is_empty());
    assert_eq!(
        exp.named("te_stage_latency_seconds").len(),
        4 * Stage::COUNT
    );
    assert!(exp
        .samples
        .iter()
        .filter(|s| s.name != "te_snapshot_timestamp_seconds")
        .all(|s| s.value == 0.0));
}

#[test]
fn escape_label_value_handles_the_three_specials_only() {
    assert_eq!(escape_label_value("plain é"), "plain é");
    assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}
