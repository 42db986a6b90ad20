//! The periodic dashboard: a compact multi-line status block the service
//! thread logs every `dashboard.interval_secs` (default hourly) and at the
//! end of a run (filled by [`crate::runtime::observe`]).
//!
//! Consumes a plain [`DashboardInput`] (equity and PnL, open positions,
//! trade counts, risk state, feed health, latency percentiles) that the
//! runtime fills from the core and its counters; produces text through
//! `Display`. Never reads the core, a clock or a socket itself, and never
//! runs on the hot thread (formatting allocates).

use core::fmt;

use crate::config::Mode;
use crate::metrics::latency::Stage;
use crate::metrics::summary::LatencySummary;
use crate::risk::{HaltReason, RiskManager};
use crate::types::{Qty, Side, TimestampNs};

/// Entry permission as the risk manager sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RiskState {
    /// Entries allowed.
    #[default]
    Ok,
    /// No entries until `until` after a losing trade.
    CoolingDown {
        /// End of the cooldown.
        until: TimestampNs,
    },
    /// No entries until `until` after a losing streak.
    Locked {
        /// End of the lock.
        until: TimestampNs,
    },
    /// HALTED: no entries until a person resumes.
    Halted(HaltReason),
    /// The run is stopping (signal, duration): no new entries, and no
    /// halt for a person to clear.
    Stopped {
        /// Why (`duration`, `signal`, ...).
        reason: &'static str,
    },
}

impl RiskState {
    /// Returns the state of `risk` at `now` (HALTED first, then the longer
    /// lock, then the cooldown).
    #[must_use]
    pub fn of(risk: &RiskManager, now: TimestampNs) -> Self {
        if let Some(reason) = risk.halted() {
            return Self::Halted(reason);
        }
        match (risk.lock_until(), risk.cooldown_until()) {
            (Some(until), _) if now < until => Self::Locked { until },
            (_, Some(until)) if now < until => Self::CoolingDown { until },
            _ => Self::Ok,
        }
    }
}

impl fmt::Display for RiskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::CoolingDown { until } => write!(f, "cooling down until {}", hhmm(*until)),
            Self::Locked { until } => write!(f, "locked until {}", hhmm(*until)),
            Self::Halted(reason) => write!(f, "HALTED ({})", reason.as_str()),
            Self::Stopped { reason } => write!(f, "stopped ({reason})"),
        }
    }
}

/// One open position as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardPosition {
    /// Exchange symbol.
    pub symbol: String,
    /// Entry side (`Buy` = long).
    pub side: Side,
    /// Quantity open.
    pub qty: Qty,
    /// Average entry price.
    pub entry_price: f64,
    /// Last price.
    pub mark_price: f64,
    /// Initial stop distance in price units (1R per unit); 0 when unknown.
    pub r: f64,
}

impl DashboardPosition {
    fn sign(&self) -> f64 {
        f64::from(self.side.sign())
    }

    /// Returns the unrealized PnL at the mark price, quote currency.
    #[must_use]
    pub fn unrealized(&self) -> f64 {
        (self.mark_price - self.entry_price) * self.qty.to_f64() * self.sign()
    }

    /// Returns the open profit in R (0 when `r` is unknown).
    #[must_use]
    pub fn r_multiple(&self) -> f64 {
        if self.r > 0.0 {
            (self.mark_price - self.entry_price) * self.sign() / self.r
        } else {
            0.0
        }
    }
}

/// Market-data feed health.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FeedHealth {
    /// Messages per second over the last interval.
    pub msgs_per_sec: f64,
    /// Age of the last message, ms; `None` before the first.
    pub last_msg_age_ms: Option<u64>,
    /// Reconnects since start.
    pub reconnects: u64,
    /// Feed gaps (outages backfilled) since start.
    pub gaps: u64,
}

/// Everything the dashboard shows, filled by the runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardInput {
    /// Time of the snapshot.
    pub ts: TimestampNs,
    /// Run mode.
    pub mode: Mode,
    /// Mark-to-market equity, quote currency.
    pub equity: f64,
    /// Realized PnL of the current UTC day.
    pub pnl_today: f64,
    /// Realized PnL since the journal began.
    pub pnl_total: f64,
    /// Highest equity so far (the kill switch's reference).
    pub peak_equity: f64,
    /// Open positions.
    pub positions: Vec<DashboardPosition>,
    /// Closed trades since the journal began.
    pub trades: u64,
    /// Of which won.
    pub wins: u64,
    /// Entry permission.
    pub risk: RiskState,
    /// Feed health.
    pub feed: FeedHealth,
    /// Latency percentiles; `None` before the first sample.
    pub latency: Option<LatencySummary>,
}

impl DashboardInput {
    /// Returns the drawdown from the peak, percent (0 at or above it).
    #[must_use]
    pub fn drawdown_pct(&self) -> f64 {
        if self.peak_equity > 0.0 && self.equity < self.peak_equity {
            (self.peak_equity - self.equity) / self.peak_equity * 100.0
        } else {
            0.0
        }
    }

    /// Returns wins / trades in percent, 0 without trades.
    #[must_use]
    pub fn win_rate_pct(&self) -> f64 {
        if self.trades == 0 {
            0.0
        } else {
            self.wins as f64 * 100.0 / self.trades as f64
        }
    }
}

fn utc(ts: TimestampNs) -> String {
    let secs = ts.as_ms().div_euclid(1000);
    let (y, m, d) = crate::backtest::dates::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn hhmm(ts: TimestampNs) -> String {
    let sod = ts.as_ms().div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02} UTC", sod / 3600, sod % 3600 / 60)
}

fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000, ns % 1_000)
}

impl fmt::Display for DashboardInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Dashboard {} ({})", utc(self.ts), self.mode.as_str())?;
        writeln!(
            f,
            "equity {:.2} USDT | today {:+.2} | total {:+.2} | drawdown {:.2}% from peak {:.2}",
            self.equity,
            self.pnl_today,
            self.pnl_total,
            self.drawdown_pct(),
            self.peak_equity
        )?;
        if self.positions.is_empty() {
            writeln!(f, "positions none")?;
        } else {
            writeln!(f, "positions {}", self.positions.len())?;
        }
        for p in &self.positions {
            writeln!(
                f,
                "  {} {} {} @ {} mark {} uPnL {:+.2} ({:+.2}R)",
                p.symbol,
                if p.side == Side::Buy { "LONG" } else { "SHORT" },
                p.qty,
                p.entry_price,
                p.mark_price,
                p.unrealized(),
                p.r_multiple()
            )?;
        }
        writeln!(
            f,
            "trades {} | win rate {:.1}% ({} won) | risk {}",
            self.trades,
            self.win_rate_pct(),
            self.wins,
            self.risk
        )?;
        let age = self.feed.last_msg_age_ms.map_or_else(
            || "no message yet".to_owned(),
            |ms| format!("last {}.{} s ago", ms / 1000, ms % 1000 / 100),
        );
        write!(
            f,
            "feed {:.1} msg/s, {age}, {} reconnects, {} gaps",
            self.feed.msgs_per_sec, self.feed.reconnects, self.feed.gaps
        )?;
        match &self.latency {
            None => write!(f, "\nlatency no samples yet"),
            Some(l) => {
                let t = l.get(Stage::TickToOrder);
                write!(
                    f,
                    "\nlatency µs tick-to-order p50 {} p90 {} p99 {} p99.9 {} max {} (n={})",
                    us(t.p50_ns),
                    us(t.p90_ns),
                    us(t.p99_ns),
                    us(t.p999_ns),
                    us(t.max_ns),
                    t.count
                )?;
                write!(f, "\nlatency µs p99 by stage")?;
                for stage in [
                    Stage::Parse,
                    Stage::CandlesIndicators,
                    Stage::StrategiesRisk,
                    Stage::Enqueue,
                ] {
                    write!(f, " | {} {}", stage.name(), us(l.get(stage).p99_ns))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RiskConfig, SizingConfig};
    use crate::metrics::latency::StageHistograms;
    use crate::money::Money;

    fn input() -> DashboardInput {
        let mut h = StageHistograms::try_new(10_000_000_000, 3).unwrap();
        for v in [800, 900, 1000, 1200, 40_000] {
            h.record(Stage::TickToOrder, v);
            h.record(Stage::Parse, v / 4);
        }
        DashboardInput {
            // 2024-10-04 13:00:00 UTC
            ts: TimestampNs::from_ms(20_000 * 86_400_000 + 13 * 3_600_000),
            mode: Mode::Live,
            equity: 10_234.5,
            pnl_today: 34.56,
            pnl_total: -65.5,
            peak_equity: 10_358.9,
            positions: vec![DashboardPosition {
                symbol: "BTC-USDT".into(),
                side: Side::Buy,
                qty: Qty::from_f64(0.01).unwrap(),
                entry_price: 60_000.0,
                mark_price: 60_500.0,
                r: 1_000.0,
            }],
            trades: 12,
            wins: 7,
            risk: RiskState::CoolingDown {
                until: TimestampNs::from_ms(20_000 * 86_400_000 + 14 * 3_600_000),
            },
            feed: FeedHealth {
                msgs_per_sec: 35.24,
                last_msg_age_ms: Some(300),
                reconnects: 2,
                gaps: 1,
            },
            latency: Some(h.summary()),
        }
    }

    #[test]
    fn dashboard_renders_the_golden_block() {
        let text = input().to_string();
        let golden = "\
Dashboard 2024-10-04 13:00:00 UTC (live)
equity 10234.50 USDT | today +34.56 | total -65.50 | drawdown 1.20% from peak 10358.90
positions 1
  BTC-USDT LONG 0.01 @ 60000 mark 60500 uPnL +5.00 (+0.50R)
trades 12 | win rate 58.3% (7 won) | risk cooling down until 14:00 UTC
feed 35.2 msg/s, last 0.3 s ago, 2 reconnects, 1 gaps
latency µs tick-to-order p50 1.000 p90 40.031 p99 40.031 p99.9 40.031 max 40.031 (n=5)
latency µs p99 by stage | parse 10.007 | candles_indicators 0.000 | strategies_risk 0.000 | enqueue 0.000";
        assert_eq!(text, golden);
    }

    #[test]
    fn empty_dashboard_says_so() {
        let d = DashboardInput {
            positions: Vec::new(),
            trades: 0,
            wins: 0,
            risk: RiskState::Halted(HaltReason::StopFile),
            feed: FeedHealth::default(),
            latency: None,
            ..input()
        };
        let text = d.to_string();
        assert!(text.contains("\npositions none\n"), "{text}");
        assert!(
            text.contains("win rate 0.0% (0 won) | risk HALTED (stop_file)"),
            "{text}"
        );
        assert!(text.contains("no message yet"), "{text}");
        assert!(text.ends_with("latency no samples yet"), "{text}");
    }

    #[test]
    fn short_position_profits_when_price_falls() {
        let p = DashboardPosition {
            symbol: "ETH-USDT".into(),
            side: Side::Sell,
            qty: Qty::from_f64(2.0).unwrap(),
            entry_price: 3000.0,
            mark_price: 2950.0,
            r: 25.0,
        };
        assert!((p.unrealized() - 100.0).abs() < 1e-9);
        assert!((p.r_multiple() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn risk_state_reports_halt_then_lock_then_cooldown() {
        let mut risk = RiskManager::new(RiskConfig::default(), SizingConfig::default(), 1000.0);
        let t0 = TimestampNs::from_ms(1_000_000);
        assert_eq!(RiskState::of(&risk, t0), RiskState::Ok);
        risk.on_trade_closed(Money::from_f64(-5.0), t0);
        assert!(matches!(
            RiskState::of(&risk, t0),
            RiskState::CoolingDown { .. }
        ));
        // Three losses in a row lock entries for longer than the cooldown.
        risk.on_trade_closed(Money::from_f64(-5.0), t0);
        risk.on_trade_closed(Money::from_f64(-5.0), t0);
        assert!(matches!(RiskState::of(&risk, t0), RiskState::Locked { .. }));
        let later = TimestampNs::from_ms(1_000_000 + 10 * 3_600_000);
        assert_eq!(RiskState::of(&risk, later), RiskState::Ok);
        risk.halt(HaltReason::Command);
        assert_eq!(
            RiskState::of(&risk, later),
            RiskState::Halted(HaltReason::Command)
        );
    }
}
