//! Daily metrics: per UTC day, closed trades, wins, realized PnL, fees,
//! equity at open / close / peak and the largest drawdown within the day.
//!
//! Consumes closed trades and equity samples (with their event time);
//! produces [`DailyMetrics`] — a fixed-size `Copy` record the runtime
//! journals when a day ends (and at shutdown for the day in progress).
//! Never reads a clock: days roll over on the timestamps it is given.
//! Never allocates.

use crate::backtest::dates::{civil_from_days, MS_PER_DAY};
use crate::money::Money;
use crate::positions::ClosedTrade;
use crate::types::TimestampNs;

/// Returns the UTC day number (days since 1970-01-01) of `ts`.
#[must_use]
pub const fn utc_day(ts: TimestampNs) -> i64 {
    ts.as_ms().div_euclid(MS_PER_DAY)
}

/// The metrics of one UTC day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyMetrics {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Trades closed that day.
    pub trades: u32,
    /// Of which with a positive net PnL.
    pub wins: u32,
    /// Realized PnL net of fees of the trades closed that day.
    pub pnl: Money,
    /// Fees of the trades closed that day.
    pub fees: Money,
    /// First equity seen that day.
    pub open_equity: f64,
    /// Last equity seen that day.
    pub close_equity: f64,
    /// Highest equity seen that day.
    pub peak_equity: f64,
    /// Largest fall from the day's running peak, percent of that peak.
    pub max_drawdown_pct: f64,
}

impl DailyMetrics {
    /// Returns an empty day `day` that opens at `equity`.
    #[must_use]
    pub const fn open(day: i64, equity: f64) -> Self {
        Self {
            day,
            trades: 0,
            wins: 0,
            pnl: Money::ZERO,
            fees: Money::ZERO,
            open_equity: equity,
            close_equity: equity,
            peak_equity: equity,
            max_drawdown_pct: 0.0,
        }
    }

    /// Returns the day as `YYYY-MM-DD`.
    #[must_use]
    pub fn date(&self) -> String {
        let (y, m, d) = civil_from_days(self.day);
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Returns wins / trades in percent, 0 without trades.
    #[must_use]
    pub fn win_rate_pct(&self) -> f64 {
        if self.trades == 0 {
            0.0
        } else {
            f64::from(self.wins) * 100.0 / f64::from(self.trades)
        }
    }

    /// Returns the journal record of this day, written at `ts`.
    #[must_use]
    pub fn to_journal(&self, ts: TimestampNs) -> crate::journal_schema::DailyMetrics {
        crate::journal_schema::DailyMetrics {
            day: self.day,
            trades: self.trades,
            wins: self.wins,
            pnl: self.pnl,
            fees: self.fees,
            equity_end: Money::from_f64(self.close_equity),
            max_drawdown_pct: self.max_drawdown_pct,
            ts,
        }
    }

    fn sample(&mut self, equity: f64) {
        self.close_equity = equity;
        if equity > self.peak_equity {
            self.peak_equity = equity;
        }
        if self.peak_equity > 0.0 {
            let dd = (self.peak_equity - equity) / self.peak_equity * 100.0;
            if dd > self.max_drawdown_pct {
                self.max_drawdown_pct = dd;
            }
        }
    }
}

/// Accumulates [`DailyMetrics`] and hands back each finished day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DailyTracker {
    current: Option<DailyMetrics>,
}

impl DailyTracker {
    /// Returns a tracker with no day open yet.
    #[must_use]
    pub const fn new() -> Self {
        Self { current: None }
    }

    /// Returns the day in progress.
    #[must_use]
    pub const fn current(&self) -> Option<&DailyMetrics> {
        self.current.as_ref()
    }

    /// Moves to the day of `ts` opening at `equity`; returns the previous
    /// day when it just ended.
    fn roll(&mut self, ts: TimestampNs, equity: f64) -> Option<DailyMetrics> {
        let day = utc_day(ts);
        match self.current {
            Some(cur) if cur.day == day => None,
            Some(cur) if cur.day > day => None, // late sample: counted in the current day
            previous => {
                let open = previous.map_or(equity, |p| p.close_equity);
                self.current = Some(DailyMetrics::open(day, open));
                previous
            }
        }
    }

    /// Records an equity sample at `ts`; returns the previous day's
    /// metrics when `ts` starts a new UTC day.
    pub fn on_equity(&mut self, ts: TimestampNs, equity: f64) -> Option<DailyMetrics> {
        let ended = self.roll(ts, equity);
        if let Some(cur) = self.current.as_mut() {
            cur.sample(equity);
        }
        ended
    }

    /// Records a closed trade (on the day of its exit) and the equity after
    /// it; returns the previous day's metrics when the exit starts a new
    /// UTC day.
    pub fn on_trade_closed(&mut self, trade: &ClosedTrade, equity: f64) -> Option<DailyMetrics> {
        let ended = self.roll(trade.exit_ts, equity - trade.pnl.to_f64());
        if let Some(cur) = self.current.as_mut() {
            cur.trades += 1;
            if trade.pnl.is_positive() {
                cur.wins += 1;
            }
            cur.pnl += trade.pnl;
            cur.fees += trade.fees;
            cur.sample(equity);
        }
        ended
    }

    /// Ends the day in progress (at shutdown) and returns it.
    pub fn finish(&mut self) -> Option<DailyMetrics> {
        self.current.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{ExitReason, PositionId};
    use crate::strategy::StrategyId;
    use crate::types::{Price, Qty, Side, SymbolId};

    const DAY_NS: i64 = MS_PER_DAY * 1_000_000;

    fn at(day: i64, hour: i64) -> TimestampNs {
        TimestampNs(day * DAY_NS + hour * 3_600_000_000_000)
    }

    fn trade(exit: TimestampNs, pnl: f64, fees: f64) -> ClosedTrade {
        ClosedTrade {
            position: PositionId(1),
            symbol: SymbolId(0),
            strategy: StrategyId(0),
            side: Side::Buy,
            entry_ts: exit,
            exit_ts: exit,
            entry_price: Price::from_f64(100.0).unwrap(),
            avg_exit_price: Price::from_f64(101.0).unwrap(),
            qty: Qty::from_f64(1.0).unwrap(),
            fees: Money::from_f64(fees),
            slippage: Money::ZERO,
            pnl: Money::from_f64(pnl),
            initial_risk: Money::from_f64(10.0),
            r_multiple: pnl / 10.0,
            hours_held: 0.0,
            exit_reason: ExitReason::Target,
            exits: 1,
        }
    }

    #[test]
    fn trades_and_drawdown_accumulate_per_utc_day() {
        let mut t = DailyTracker::new();
        assert_eq!(t.on_equity(at(20_000, 0), 1000.0), None);
        assert_eq!(
            t.on_trade_closed(&trade(at(20_000, 1), 50.0, 1.0), 1050.0),
            None
        );
        assert_eq!(
            t.on_trade_closed(&trade(at(20_000, 2), -30.0, 1.0), 1020.0),
            None
        );
        assert_eq!(t.on_equity(at(20_000, 3), 945.0), None);
        let day = *t.current().unwrap();
        assert_eq!((day.trades, day.wins), (2, 1));
        assert_eq!(day.pnl, Money::from_f64(20.0));
        assert_eq!(day.fees, Money::from_f64(2.0));
        assert!((day.max_drawdown_pct - 10.0).abs() < 1e-9, "1050 -> 945");
        assert!((day.win_rate_pct() - 50.0).abs() < 1e-9);
        assert_eq!(day.date(), "2024-10-04");

        // Midnight: the finished day comes back, the new one opens at the close.
        let ended = t.on_equity(at(20_001, 0), 950.0).unwrap();
        assert_eq!(ended.day, 20_000);
        assert_eq!(ended.close_equity, 945.0);
        let new = *t.current().unwrap();
        assert_eq!((new.day, new.trades, new.open_equity), (20_001, 0, 945.0));
        assert_eq!(new.close_equity, 950.0);
        assert_eq!(t.finish().unwrap().day, 20_001);
        assert!(t.current().is_none());
    }

    #[test]
    fn first_trade_of_a_day_rolls_the_day_over() {
        let mut t = DailyTracker::new();
        t.on_equity(at(5, 23), 500.0);
        let ended = t.on_trade_closed(&trade(at(6, 1), -10.0, 0.5), 490.0);
        assert_eq!(ended.map(|d| d.day), Some(5));
        let cur = *t.current().unwrap();
        assert_eq!((cur.day, cur.trades, cur.wins), (6, 1, 0));
        assert_eq!(cur.open_equity, 500.0);
        assert!((cur.max_drawdown_pct - 2.0).abs() < 1e-9);
    }

    #[test]
    fn day_round_trips_through_its_journal_record() {
        use crate::journal_schema::JournalRecord;
        let mut t = DailyTracker::new();
        t.on_equity(at(9, 1), 100.0);
        t.on_trade_closed(&trade(at(9, 2), 5.0, 0.25), 105.0);
        let rec = JournalRecord::Daily(t.current().unwrap().to_journal(at(9, 3)));
        let mut buf = [0u8; 256];
        let n = rec.encode(&mut buf);
        let back = JournalRecord::decode(rec.tag(), &buf[..n]).unwrap();
        let JournalRecord::Daily(d) = back else {
            panic!("{back:?}");
        };
        assert_eq!((d.day, d.trades, d.wins), (9, 1, 1));
        assert_eq!(d.pnl, Money::from_f64(5.0));
        assert_eq!(d.equity_end, Money::from_f64(105.0));
        assert_eq!(d.ts, at(9, 3));
    }

    #[test]
    fn a_late_sample_from_yesterday_does_not_reopen_it() {
        let mut t = DailyTracker::new();
        t.on_equity(at(9, 1), 100.0);
        assert_eq!(t.on_equity(at(8, 23), 90.0), None);
        assert_eq!(t.current().unwrap().day, 9);
    }
}
