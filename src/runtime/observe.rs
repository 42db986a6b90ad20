//! What the service thread shows of a run: the periodic dashboard and the
//! Prometheus snapshot, both built from the hot thread's latest
//! [`Status`], the latency histograms and a feed message rate.
//!
//! Consumes [`Status`] values (plain copies), symbol names and latency
//! summaries; produces a [`DashboardInput`] (rendered by
//! [`crate::runtime::startup::dashboard`]) and a [`MetricsSnapshot`]
//! (served by the control server's `/metrics`). Never runs on the hot
//! thread (it allocates) and never reads the core.

use std::time::{Duration, Instant};

use crate::config::Mode;
use crate::metrics::prometheus::{FeedHealth as PromFeed, MetricsSnapshot, RiskRejectCount};
use crate::metrics::summary::LatencySummary;
use crate::risk::RejectReason;

use super::msg::Status;
use super::startup::dashboard::{DashboardInput, DashboardPosition, FeedHealth};

/// Messages per second of a growing counter, measured over windows of at
/// least a given length (the first window starts at the first reading).
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageRate {
    mark: Option<(Instant, u64)>,
    rate: f64,
}

impl MessageRate {
    /// Returns an empty meter (rate 0 until a window completes).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            mark: None,
            rate: 0.0,
        }
    }

    /// Feeds the counter's value `count` read at `now`; when at least
    /// `window` has passed since the window began, the rate of that window
    /// becomes current and a new window begins. Returns the current rate.
    pub fn observe(&mut self, now: Instant, count: u64, window: Duration) -> f64 {
        match self.mark {
            None => self.mark = Some((now, count)),
            Some((at, start)) => {
                let dt = now.saturating_duration_since(at);
                if dt >= window && !dt.is_zero() {
                    self.rate = count.saturating_sub(start) as f64 / dt.as_secs_f64();
                    self.mark = Some((now, count));
                }
            }
        }
        self.rate
    }

    /// Returns the rate of the last completed window.
    #[must_use]
    pub const fn rate(&self) -> f64 {
        self.rate
    }
}

/// Rounds to 8 decimals (an average entry price of fixed-point fills
/// prints as `38744.1`, not `38744.10000000009`).
fn round8(v: f64) -> f64 {
    (v * 1e8).round() / 1e8
}

/// Returns `None` when no latency sample was recorded yet.
fn sampled(latency: LatencySummary) -> Option<LatencySummary> {
    let any = crate::metrics::latency::Stage::ALL
        .iter()
        .any(|s| latency.get(*s).count > 0);
    any.then_some(latency)
}

/// Returns the dashboard of `s`: `symbols` names the symbol ids,
/// `msgs_per_sec` is the feed's message rate over the dashboard interval.
#[must_use]
pub fn dashboard_input(
    s: &Status,
    mode: Mode,
    symbols: &[String],
    msgs_per_sec: f64,
    latency: LatencySummary,
) -> DashboardInput {
    let positions = s
        .open
        .iter()
        .flatten()
        .map(|p| DashboardPosition {
            symbol: symbols
                .get(usize::from(p.symbol.0))
                .cloned()
                .unwrap_or_else(|| format!("#{}", p.symbol.0)),
            side: p.side,
            qty: p.qty,
            entry_price: round8(p.entry_price),
            mark_price: round8(p.mark_price),
            r: p.r,
        })
        .collect();
    DashboardInput {
        ts: s.market_ts,
        mode,
        equity: s.equity,
        pnl_today: s.pnl_today,
        pnl_total: s.pnl_total,
        peak_equity: s.peak_equity,
        positions,
        trades: s.closed_trades,
        wins: s.wins,
        risk: s.risk,
        feed: FeedHealth {
            msgs_per_sec,
            last_msg_age_ms: s.feed.last_msg_age_ns.map(|ns| ns / 1_000_000),
            reconnects: s.feed.reconnects,
            gaps: s.feed.gaps,
        },
        latency: sampled(latency),
    }
}

/// Returns the Prometheus snapshot of `s`. `msgs_per_sec` is the feed's
/// recent message rate; `no_msg_age_ns` stands for the age of the last
/// message before the first one arrived (the run's age).
#[must_use]
pub fn metrics_snapshot(
    s: &Status,
    msgs_per_sec: f64,
    no_msg_age_ns: u64,
    latency: LatencySummary,
) -> MetricsSnapshot {
    let drawdown_ratio = if s.peak_equity > 0.0 && s.equity < s.peak_equity {
        (s.peak_equity - s.equity) / s.peak_equity
    } else {
        0.0
    };
    MetricsSnapshot {
        taken_at: s.wall_ts,
        halted: s.halted,
        equity_usdt: s.equity,
        pnl_today_usdt: s.pnl_today,
        pnl_total_usdt: s.pnl_total,
        drawdown_ratio,
        open_positions: s.positions,
        orders_sent: s.orders,
        orders_filled: s.fills,
        orders_rejected: s.rejected,
        risk_rejects: RejectReason::ALL
            .iter()
            .zip(s.risk_rejects)
            .map(|(r, count)| RiskRejectCount {
                reason: r.as_str().to_owned(),
                count,
            })
            .collect(),
        feed: PromFeed {
            messages_per_sec: msgs_per_sec,
            last_message_age_ns: s.feed.last_msg_age_ns.unwrap_or(no_msg_age_ns),
            reconnects: s.feed.reconnects,
            gaps: s.feed.gaps,
        },
        latency,
        round_trip: crate::metrics::round_trip::RoundTripHistogram::new(),
        journal_unsynced_bytes: s.journal_unsynced_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::latency::{Stage, StageHistograms};
    use crate::runtime::msg::{FeedStatus, PositionStatus};
    use crate::runtime::startup::dashboard::RiskState;
    use crate::types::{Qty, Side, SymbolId, TimestampNs};

    fn status() -> Status {
        let mut s = Status {
            wall_ts: TimestampNs(1_700_000_000_123_000_000),
            // 2024-10-04 13:00:00 UTC
            market_ts: TimestampNs::from_ms(20_000 * 86_400_000 + 13 * 3_600_000),
            equity: 9_900.0,
            cash: 9_880.0,
            positions: 1,
            halted: false,
            orders: 7,
            fills: 5,
            closed_trades: 4,
            peak_equity: 10_000.0,
            pnl_today: 12.5,
            pnl_total: -120.0,
            wins: 3,
            risk: RiskState::Ok,
            feed: FeedStatus {
                messages: 1_000,
                last_msg_age_ns: Some(2_500_000_000),
                reconnects: 1,
                gaps: 2,
            },
            rejected: 1,
            ..Status::default()
        };
        s.open[0] = Some(PositionStatus {
            symbol: SymbolId(1),
            side: Side::Sell,
            qty: Qty::from_f64(2.0).unwrap(),
            entry_price: 3_000.000_000_000_09,
            mark_price: 2_950.0,
            r: 25.0,
        });
        s.risk_rejects[RejectReason::ALL
            .iter()
            .position(|r| *r == RejectReason::Cooldown)
            .unwrap()] = 6;
        s
    }

    #[test]
    fn the_dashboard_of_a_status_names_symbols_and_shows_its_numbers() {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        h.record(Stage::TickToOrder, 1_000);
        let names = vec!["BTC-USDT".to_owned(), "ETH-USDT".to_owned()];
        let d = dashboard_input(&status(), Mode::Paper, &names, 35.0, h.summary());
        assert_eq!(d.positions.len(), 1);
        assert_eq!(d.positions[0].symbol, "ETH-USDT");
        assert!((d.positions[0].unrealized() - 100.0).abs() < 1e-9);
        assert!((d.positions[0].r_multiple() - 2.0).abs() < 1e-9);
        assert!((d.drawdown_pct() - 1.0).abs() < 1e-9);
        let text = d.to_string();
        assert!(
            text.starts_with("Dashboard 2024-10-04 13:00:00 UTC (paper)\n"),
            "{text}"
        );
        assert!(
            text.contains("equity 9900.00 USDT | today +12.50 | total -120.00 | drawdown 1.00%"),
            "{text}"
        );
        assert!(
            text.contains("ETH-USDT SHORT 2 @ 3000 mark 2950 uPnL +100.00 (+2.00R)"),
            "{text}"
        );
        assert!(
            text.contains("trades 4 | win rate 75.0% (3 won) | risk ok"),
            "{text}"
        );
        assert!(
            text.contains("feed 35.0 msg/s, last 2.5 s ago, 1 reconnects, 2 gaps"),
            "{text}"
        );
        assert!(text.contains("tick-to-order p50 1.000"), "{text}");
    }

    #[test]
    fn a_dashboard_before_any_sample_says_no_samples() {
        let h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        let d = dashboard_input(&Status::default(), Mode::Live, &[], 0.0, h.summary());
        assert!(d.latency.is_none());
        assert!(d.to_string().contains("no message yet"));
    }

    #[test]
    fn the_metrics_snapshot_of_a_status_carries_every_family() {
        let h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        let m = metrics_snapshot(&status(), 12.0, 99, h.summary());
        assert_eq!(m.taken_at, TimestampNs(1_700_000_000_123_000_000));
        assert!((m.drawdown_ratio - 0.01).abs() < 1e-12);
        assert_eq!(
            (m.orders_sent, m.orders_filled, m.orders_rejected),
            (7, 5, 1)
        );
        assert_eq!(m.open_positions, 1);
        assert_eq!(m.risk_rejects.len(), RejectReason::ALL.len());
        let cooldown = m
            .risk_rejects
            .iter()
            .find(|r| r.reason == "cooldown")
            .unwrap();
        assert_eq!(cooldown.count, 6);
        assert_eq!(m.feed.last_message_age_ns, 2_500_000_000);
        assert_eq!((m.feed.reconnects, m.feed.gaps), (1, 2));
        let none = Status::default();
        assert_eq!(
            metrics_snapshot(&none, 0.0, 99, h.summary())
                .feed
                .last_message_age_ns,
            99
        );
        let text = m.to_prometheus();
        assert!(text.contains("te_equity_usdt 9900\n"), "{text}");
        assert!(text.contains("te_risk_rejects_total{reason=\"cooldown\"} 6\n"));
    }

    #[test]
    fn message_rate_is_measured_over_whole_windows() {
        let t0 = Instant::now();
        let mut r = MessageRate::new();
        let w = Duration::from_secs(10);
        assert_eq!(r.observe(t0, 100, w), 0.0);
        assert_eq!(r.observe(t0 + Duration::from_secs(5), 150, w), 0.0);
        let rate = r.observe(t0 + Duration::from_secs(10), 300, w);
        assert!((rate - 20.0).abs() < 1e-9, "{rate}");
        // The next window starts at the last reading.
        assert!((r.observe(t0 + Duration::from_secs(12), 310, w) - 20.0).abs() < 1e-9);
        let rate = r.observe(t0 + Duration::from_secs(20), 400, w);
        assert!((rate - 10.0).abs() < 1e-9, "{rate}");
        assert!((r.rate() - 10.0).abs() < 1e-9);
    }
}
