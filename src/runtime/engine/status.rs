//! The engine's periodic outputs: status snapshots and latency intervals
//! to the service thread; equity samples, daily metrics and state
//! snapshots to the journal.
//!
//! Cadences: a status every `LoopTimers::status_every_ns` of wall time; an
//! `equity` record before the first trade (or backfilled candle) of every
//! new market minute — the equity at the close of each 1m candle, stamped
//! with that event's time, so the curve has 1m resolution in market time
//! whatever the replay speed (minutes without any event have none; the
//! warm-up has none) — and one at shutdown; a `daily` record
//! ([`DailyTracker`](crate::runtime::startup::daily::DailyTracker)) when an
//! equity sample or a closed trade starts a new UTC day (market time) and
//! for the day in progress at shutdown; a `snapshot` record every
//! `LoopTimers::snapshot_every_ns` of wall time and at shutdown. Equity,
//! daily and snapshot records are system records: replay skips them.
//!
//! Consumes the core's state; produces [`Status`] messages and journal
//! records. Never allocates, blocks or logs.

use crate::clock::Clock;
use crate::io::ws::WsStats;
use crate::journal_schema::{self as js, JournalRecord};
use crate::money::Money;
use crate::risk::RejectReason;
use crate::runtime::startup::daily::DailyMetrics;
use crate::runtime::startup::dashboard::RiskState;
use crate::types::{Side, SymbolId, TimestampNs, NS_PER_MIN};

use super::super::msg::{FeedStatus, FromHot, PositionStatus, Status, STATUS_MAX_POSITIONS};
use super::Engine;

fn signed(side: Side, v: f64) -> f64 {
    match side {
        Side::Buy => v,
        Side::Sell => -v,
    }
}

impl<C: Clock> Engine<C> {
    /// Returns the last trade price of `symbol`, or `fallback` before its first trade.
    fn mark(&self, symbol: SymbolId, fallback: f64) -> f64 {
        self.core
            .last_price(symbol)
            .map_or(fallback, |p| p.to_f64())
    }

    /// Publishes the latency interval and sends a status snapshot; `ws`
    /// holds the market socket's counters.
    pub fn publish(&mut self, ws: &WsStats) {
        let _ = self.latency.publish();
        let mono = self.clock.mono_ns();
        let core = &self.core;
        let pos = core.position(self.symbol0);
        let mut open = [None; STATUS_MAX_POSITIONS];
        let mut k = 0;
        for i in 0..self.symbols {
            if k == STATUS_MAX_POSITIONS {
                break;
            }
            if let Some(p) = core.position(SymbolId(i)) {
                open[k] = Some(PositionStatus {
                    symbol: p.symbol,
                    side: p.side,
                    qty: p.open_qty,
                    entry_price: p.entry_price,
                    mark_price: self.mark(p.symbol, p.entry_price),
                    r: p.r,
                });
                k += 1;
            }
        }
        let stopping = self.stopping_reason();
        let mut risk_rejects = [0u64; RejectReason::ALL.len()];
        for (n, reason) in risk_rejects.iter_mut().zip(RejectReason::ALL) {
            *n = core.risk().rejections(reason);
        }
        let status = Status {
            wall_ts: self.clock.now_ns(),
            market_ts: self.time.last_ts,
            equity: core.equity(),
            cash: core.cash().to_f64(),
            positions: u32::try_from(self.open_positions()).unwrap_or(u32::MAX),
            position_qty: pos.map_or(0.0, |p| signed(p.side, p.open_qty.to_f64())),
            halted: core.halted().is_some() && stopping.is_none(),
            frames: self.counters.frames,
            trades: self.counters.trades,
            orders: self.counters.orders,
            fills: self.counters.fills,
            closed_trades: self.counters.closed_trades,
            last_price: self.last_price,
            connected: self.connected,
            peak_equity: core.risk().peak_equity(),
            pnl_today: self.daily.current().map_or(0.0, |d| d.pnl.to_f64()),
            pnl_total: (core.cash() - core.initial_equity()).to_f64(),
            wins: self.counters.wins,
            risk: stopping.map_or_else(
                || RiskState::of(core.risk(), self.market_now()),
                |reason| RiskState::Stopped {
                    reason: reason.as_str(),
                },
            ),
            commands_applied: self.commands_applied,
            open,
            feed: FeedStatus {
                messages: ws.messages,
                last_msg_age_ns: self.last_msg_mono.map(|t| mono.saturating_sub(t)),
                reconnects: ws.connects.saturating_sub(1),
                gaps: self.counters.outages,
            },
            rejected: self.counters.rejected,
            journal_unsynced_bytes: self
                .journal
                .as_ref()
                .map_or(0, journal::Writer::unsynced_bytes),
            risk_rejects,
        };
        let _ = self.out.push(FromHot::Status(status));
    }

    /// Called before an event at market time `ts` is handled: journals an
    /// equity sample when `ts` is in a later minute than the last sample
    /// (the first call always samples), so the sample is the equity at the
    /// close of the previous minute, stamped with the event's time.
    pub(super) fn sample_equity(&mut self, ts: TimestampNs) {
        if matches!(
            self.refuse,
            Some((crate::journal_schema::RefusalReason::WarmUp, _))
        ) {
            return;
        }
        let minute = ts.0.div_euclid(NS_PER_MIN);
        if self.equity_minute.is_some_and(|m| minute <= m) {
            return;
        }
        self.equity_minute = Some(minute);
        self.write_equity(ts);
    }

    /// Journals an equity sample at `ts` and, when it starts a new UTC
    /// day, the finished day's metrics.
    fn write_equity(&mut self, ts: TimestampNs) {
        let core = &self.core;
        let equity_f = core.equity();
        let rec = JournalRecord::Equity {
            equity: Money::from_f64(equity_f),
            cash: core.cash(),
            peak: Money::from_f64(core.risk().peak_equity()),
            ts,
        };
        self.journal(ts, &rec);
        self.counters.equity_samples += 1;
        if let Some(day) = self.daily.on_equity(ts, equity_f) {
            self.journal_daily(&day, ts);
        }
    }

    /// Journals a finished (or, at shutdown, the current) day.
    pub(super) fn journal_daily(&mut self, day: &DailyMetrics, ts: TimestampNs) {
        self.journal(ts, &JournalRecord::Daily(day.to_journal(ts)));
        self.counters.daily_records += 1;
    }

    /// The shutdown's records: a last equity sample and the day in progress.
    pub fn close_day(&mut self) {
        let ts = self.time.last_ts;
        self.write_equity(ts);
        // The tracker keeps the day: the last status still shows today's PnL.
        if let Some(day) = self.daily.current().copied() {
            self.journal_daily(&day, ts);
        }
    }

    /// Writes the periodic state snapshot.
    pub fn snapshot(&mut self) {
        let ts = self.market_now();
        let core = &self.core;
        let mut snap = js::Snapshot {
            ts,
            equity: Money::from_f64(core.equity()),
            cash: core.cash(),
            peak: Money::from_f64(core.risk().peak_equity()),
            halted: core.halted().is_some(),
            working_orders: u32::try_from(self.orders.open()).unwrap_or(u32::MAX),
            trades: u32::try_from(self.counters.closed_trades).unwrap_or(u32::MAX),
            positions: [None; js::SNAPSHOT_MAX_POSITIONS],
        };
        let mut k = 0;
        for i in 0..self.symbols {
            if k == js::SNAPSHOT_MAX_POSITIONS {
                break;
            }
            if let Some(p) = core.position(SymbolId(i)) {
                let mark = self.mark(p.symbol, p.entry_price);
                snap.positions[k] = Some(js::PositionSnap {
                    position: p.id,
                    symbol: p.symbol,
                    side: p.side,
                    state: p.state,
                    qty: p.open_qty,
                    entry: crate::types::Price::from_f64(p.entry_price).unwrap_or(p.stop),
                    stop: p.stop,
                    unrealized: Money::from_f64(signed(
                        p.side,
                        (mark - p.entry_price) * p.open_qty.to_f64(),
                    )),
                });
                k += 1;
            }
        }
        self.journal(ts, &JournalRecord::Snapshot(snap));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Config;
    use crate::core::Core;
    use crate::metrics::handoff::latency_channel;
    use crate::runtime::engine::{EngineParts, Venue};
    use crate::types::{DecimalStep, InstrumentRules, Price, Qty, Trade};

    /// 2024-10-05 00:00:00 UTC.
    const MIDNIGHT: i64 = 20_001 * 86_400_000_000_000;

    fn rules() -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(4),
            min_qty: Qty::from_decimal(1, 4).unwrap(),
            min_notional: Price::from_decimal(2, 0).unwrap(),
        }
    }

    fn trade(ts: i64, price: f64) -> Trade {
        Trade {
            symbol: SymbolId(0),
            trade_id: 0,
            price: Price::from_f64(price).unwrap(),
            qty: Qty::from_f64(0.01).unwrap(),
            exchange_ts: TimestampNs(ts),
            aggressor: Side::Buy,
        }
    }

    #[test]
    fn equity_is_sampled_once_per_market_minute_and_days_are_journaled_at_midnight_and_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::default();
        let (recorder, _collector) = latency_channel(
            cfg.latency.histogram_max_ns,
            cfg.latency.histogram_sigfig,
            2,
        )
        .unwrap();
        let (out, mut from_hot) = ringbuf::spsc::channel(64);
        let (_to_hot, inbox) = ringbuf::spsc::channel(4);
        let journal = journal::Writer::open(
            dir.path(),
            journal::WriterOptions {
                segment_bytes: 1 << 20,
                durability: journal::Durability::None,
                ..journal::WriterOptions::default()
            },
        )
        .unwrap();
        let mut e = Engine::new(EngineParts {
            core: Core::try_new(&cfg, &[rules()]).unwrap(),
            venue: Venue::DryRun,
            journal: Some(journal),
            latency: recorder,
            out,
            inbox,
            clock: SystemClock::new(),
            prefix: "t-".into(),
            time_scale: 1.0,
            start_ts: TimestampNs(MIDNIGHT - 3 * NS_PER_MIN),
            symbols: 1,
            reloads: crate::runtime::reload::reload_channel().1,
        });
        let s = 1_000_000_000;
        // 23:58:10, 23:58:50 (same minute), 23:59:30, 00:00:20 (next day), 00:01:05.
        for (ts, price) in [
            (MIDNIGHT - 110 * s, 60_000.0),
            (MIDNIGHT - 70 * s, 60_010.0),
            (MIDNIGHT - 30 * s, 60_020.0),
            (MIDNIGHT + 20 * s, 60_030.0),
            (MIDNIGHT + 65 * s, 60_040.5),
        ] {
            e.on_trade(trade(ts, price), 0);
        }
        // A late event does not sample again.
        e.sample_equity(TimestampNs(MIDNIGHT + 10 * s));
        assert_eq!(e.core.last_price(SymbolId(0)), Price::from_f64(60_040.5));
        assert_eq!(e.core.last_price(SymbolId(1)), None);
        e.close_day();
        e.publish(&WsStats {
            connects: 2,
            messages: 42,
            ..WsStats::default()
        });
        let Some(FromHot::Status(st)) = from_hot.pop() else {
            panic!("no status");
        };
        assert_eq!(st.market_ts, TimestampNs(MIDNIGHT + 65 * s));
        assert_eq!(st.last_price, 60_040.5);
        assert_eq!(st.risk, RiskState::Ok);
        assert_eq!((st.feed.messages, st.feed.reconnects), (42, 1));
        assert_eq!(st.feed.last_msg_age_ns, None, "no socket message yet");
        assert_eq!(st.open, [None; STATUS_MAX_POSITIONS]);
        assert_eq!(st.pnl_today, 0.0);
        assert_eq!(
            e.counters.equity_samples, 5,
            "four minutes and the shutdown"
        );
        assert_eq!(e.counters.daily_records, 2);

        e.take_journal().unwrap().close().unwrap();
        let mut reader = journal::Reader::open(dir.path()).unwrap();
        let (mut equity, mut daily) = (Vec::new(), Vec::new());
        while let Some(r) = reader.next() {
            let r = r.unwrap();
            match JournalRecord::decode(r.type_tag, r.payload).unwrap() {
                JournalRecord::Equity { ts, equity: eq, .. } => {
                    assert_eq!(eq, Money::from_f64(cfg.simulator.initial_equity));
                    equity.push(ts.0.div_euclid(NS_PER_MIN) - MIDNIGHT / NS_PER_MIN);
                }
                JournalRecord::Daily(d) => daily.push((d.day, d.ts)),
                _ => {}
            }
        }
        assert_eq!(equity, vec![-2, -1, 0, 1, 1]);
        assert_eq!(
            daily,
            vec![
                (20_000, TimestampNs(MIDNIGHT + 20 * s)),
                (20_001, TimestampNs(MIDNIGHT + 65 * s)),
            ]
        );
    }
}
