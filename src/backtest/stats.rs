//! Performance statistics of a list of closed trades: the STATS object of
//! `report.json`.
//!
//! Consumes trade rows (PnL, R-multiple, fees, times) and the data span;
//! produces [`Stats`]. Definitions (also in the README):
//! - `return_pct`: sum of trade PnL / initial equity × 100.
//! - `max_drawdown_pct`: largest fall of the realized equity curve (initial
//!   equity + cumulative PnL at each exit) from a previous peak, percent of
//!   that peak; `_start_ms`/`_end_ms` are the peak and trough times.
//! - `win_rate_pct`: wins / trades × 100 (a win has PnL > 0).
//! - `avg_win_pct`/`avg_loss_pct`: mean PnL of wins/losses as a percent of
//!   the realized equity before the trade closed.
//! - `reward_risk`: avg_win_pct / |avg_loss_pct|.
//! - `profit_factor`: gross profit / gross loss.
//! - `expectancy_r`: mean R-multiple.
//! - `sharpe`/`sortino`: mean / standard deviation (sortino: downside
//!   deviation) of daily returns of the realized curve × sqrt(365).
//! - `calmar`: annualized return (compounded over the span) / max drawdown.
//! - `signals_per_month`: trades / (span days / 30.4375); `null` for a span
//!   under 7 days (a month is not extrapolated from less than a week).
//! - `max_drawdown_duration_ms`: longest time the realized curve stayed
//!   below a previous peak (until a new peak, or the end of the span).
//! - `best_trade_pct`/`worst_trade_pct`: largest and smallest trade PnL as a
//!   percent of the realized equity before it closed.
//! - `best_day_pct`/`worst_day_pct`: best and worst daily realized return.
//! - `avg_winner_hours`/`avg_loser_hours`: mean time held by wins/losses.
//! - `exposure_pct`: time with a position open / span × 100.
//! - `fees`: all fees paid.
//!
//! Undefined ratios (no losses, zero deviation) are `null`. Cold path.

use serde::Serialize;

use super::dates::MS_PER_DAY;

/// One closed trade as the statistics need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeResult {
    /// Entry time, ms.
    pub entry_ms: i64,
    /// Exit time, ms.
    pub exit_ms: i64,
    /// PnL net of fees, quote.
    pub pnl: f64,
    /// R-multiple.
    pub r_multiple: f64,
    /// Fees, quote.
    pub fees: f64,
}

impl TradeResult {
    /// Returns what the statistics need of trade row `r`: its PnL with the
    /// funding it paid or received while open.
    #[must_use]
    pub fn of(r: &super::TradeRow) -> Self {
        let t = &r.trade;
        Self {
            entry_ms: t.entry_ts.as_ms(),
            exit_ms: t.exit_ts.as_ms(),
            pnl: (t.pnl + r.funding).to_f64(),
            r_multiple: t.r_multiple,
            fees: t.fees.to_f64(),
        }
    }
}

/// The STATS object.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Stats {
    /// Closed trades.
    pub trades: u64,
    /// Trades with PnL > 0.
    pub wins: u64,
    /// Trades with PnL <= 0.
    pub losses: u64,
    /// Wins / trades × 100.
    pub win_rate_pct: f64,
    /// Sum of PnL / initial equity × 100.
    pub return_pct: f64,
    /// Largest peak-to-trough fall of the realized curve, percent.
    pub max_drawdown_pct: f64,
    /// Time of that peak, ms.
    pub max_drawdown_start_ms: i64,
    /// Time of that trough, ms.
    pub max_drawdown_end_ms: i64,
    /// Mean winning PnL, percent of equity.
    pub avg_win_pct: f64,
    /// Mean losing PnL, percent of equity (negative).
    pub avg_loss_pct: f64,
    /// avg_win_pct / |avg_loss_pct|.
    pub reward_risk: Option<f64>,
    /// Gross profit / gross loss.
    pub profit_factor: Option<f64>,
    /// Mean R-multiple.
    pub expectancy_r: f64,
    /// Annualized Sharpe ratio of daily returns.
    pub sharpe: Option<f64>,
    /// Annualized Sortino ratio of daily returns.
    pub sortino: Option<f64>,
    /// Annualized return / max drawdown.
    pub calmar: Option<f64>,
    /// Longest run of losing trades.
    pub max_consecutive_losses: u64,
    /// Trades per 30.4375 days; `None` for a span under 7 days.
    pub signals_per_month: Option<f64>,
    /// Time in a position, percent of the span.
    pub exposure_pct: f64,
    /// Fees paid, quote.
    pub fees: f64,
    /// Longest time below a previous equity peak, ms.
    pub max_drawdown_duration_ms: i64,
    /// Best trade, percent of equity before it.
    pub best_trade_pct: Option<f64>,
    /// Worst trade, percent of equity before it.
    pub worst_trade_pct: Option<f64>,
    /// Best daily realized return, percent.
    pub best_day_pct: Option<f64>,
    /// Worst daily realized return, percent.
    pub worst_day_pct: Option<f64>,
    /// Mean hours held by winning trades.
    pub avg_winner_hours: Option<f64>,
    /// Mean hours held by losing trades.
    pub avg_loser_hours: Option<f64>,
}

/// Days of data below which `signals_per_month` is not extrapolated.
pub const MIN_DAYS_FOR_MONTHLY_RATE: f64 = 7.0;

/// Computes [`Stats`] of `trades` (in exit order) over `[from_ms, to_ms]`.
#[must_use]
pub fn compute(trades: &[TradeResult], initial: f64, from_ms: i64, to_ms: i64) -> Stats {
    let mut s = Stats {
        trades: trades.len() as u64,
        max_drawdown_start_ms: from_ms,
        max_drawdown_end_ms: from_ms,
        ..Stats::default()
    };
    let span_ms = (to_ms - from_ms).max(1);
    let (mut equity, mut peak, mut peak_ms) = (initial, initial, from_ms);
    let (mut gross_win, mut gross_loss) = (0.0, 0.0);
    let (mut win_pct, mut loss_pct) = (0.0, 0.0);
    let (mut run, mut held_ms, mut r_sum) = (0u64, 0i64, 0.0);
    let (mut win_ms, mut loss_ms) = (0i64, 0i64);
    let mut under_since: Option<i64> = None;
    for t in trades {
        let before = equity;
        equity += t.pnl;
        s.fees += t.fees;
        r_sum += t.r_multiple;
        held_ms += (t.exit_ms - t.entry_ms).max(0);
        let pct = if before > 0.0 {
            t.pnl / before * 100.0
        } else {
            0.0
        };
        s.best_trade_pct = Some(s.best_trade_pct.map_or(pct, |b| b.max(pct)));
        s.worst_trade_pct = Some(s.worst_trade_pct.map_or(pct, |w| w.min(pct)));
        if t.pnl > 0.0 {
            win_ms += (t.exit_ms - t.entry_ms).max(0);
        } else {
            loss_ms += (t.exit_ms - t.entry_ms).max(0);
        }
        if t.pnl > 0.0 {
            s.wins += 1;
            gross_win += t.pnl;
            win_pct += pct;
            run = 0;
        } else {
            s.losses += 1;
            gross_loss -= t.pnl;
            loss_pct += pct;
            run += 1;
            s.max_consecutive_losses = s.max_consecutive_losses.max(run);
        }
        if equity > peak {
            if let Some(since) = under_since.take() {
                s.max_drawdown_duration_ms = s.max_drawdown_duration_ms.max(t.exit_ms - since);
            }
            peak = equity;
            peak_ms = t.exit_ms;
        } else if peak > 0.0 {
            under_since.get_or_insert(peak_ms);
            let dd = (peak - equity) / peak * 100.0;
            if dd > s.max_drawdown_pct {
                s.max_drawdown_pct = dd;
                s.max_drawdown_start_ms = peak_ms;
                s.max_drawdown_end_ms = t.exit_ms;
            }
        }
    }
    if let Some(since) = under_since {
        s.max_drawdown_duration_ms = s.max_drawdown_duration_ms.max(to_ms - since);
    }
    let hours = |ms: i64, n: u64| (n > 0).then(|| ms as f64 / 3_600_000.0 / n as f64);
    s.avg_winner_hours = hours(win_ms, s.wins);
    s.avg_loser_hours = hours(loss_ms, s.losses);
    let n = trades.len() as f64;
    if n > 0.0 {
        s.win_rate_pct = s.wins as f64 / n * 100.0;
        s.expectancy_r = r_sum / n;
    }
    if s.wins > 0 {
        s.avg_win_pct = win_pct / s.wins as f64;
    }
    if s.losses > 0 {
        s.avg_loss_pct = loss_pct / s.losses as f64;
    }
    s.reward_risk = (s.avg_loss_pct < 0.0).then(|| s.avg_win_pct / -s.avg_loss_pct);
    s.profit_factor = (gross_loss > 0.0).then(|| gross_win / gross_loss);
    s.return_pct = if initial > 0.0 {
        (equity - initial) / initial * 100.0
    } else {
        0.0
    };
    let days = span_ms as f64 / MS_PER_DAY as f64;
    s.signals_per_month = (days >= MIN_DAYS_FOR_MONTHLY_RATE).then(|| n / (days / 30.4375));
    s.exposure_pct = held_ms as f64 / span_ms as f64 * 100.0;
    let (sharpe, sortino, best_day, worst_day) = daily_ratios(trades, initial, from_ms, to_ms);
    s.sharpe = sharpe;
    s.sortino = sortino;
    s.best_day_pct = best_day;
    s.worst_day_pct = worst_day;
    if s.max_drawdown_pct > 0.0 && initial > 0.0 && equity > 0.0 {
        let annual = ((equity / initial).powf(365.0 / days) - 1.0) * 100.0;
        s.calmar = Some(annual / s.max_drawdown_pct);
    }
    s
}

/// Returns the realized equity at the end of every UTC day of the span.
#[must_use]
pub fn daily_equity(trades: &[TradeResult], initial: f64, from_ms: i64, to_ms: i64) -> Vec<f64> {
    let first = from_ms.div_euclid(MS_PER_DAY);
    let last = to_ms.div_euclid(MS_PER_DAY);
    let mut out = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0));
    let mut equity = initial;
    let mut k = 0;
    for day in first..=last {
        let end = (day + 1) * MS_PER_DAY;
        while k < trades.len() && trades[k].exit_ms < end {
            equity += trades[k].pnl;
            k += 1;
        }
        out.push(equity);
    }
    out
}

fn daily_ratios(
    trades: &[TradeResult],
    initial: f64,
    from_ms: i64,
    to_ms: i64,
) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    let eq = daily_equity(trades, initial, from_ms, to_ms);
    let mut prev = initial;
    let mut returns = Vec::with_capacity(eq.len());
    for e in eq {
        if prev > 0.0 {
            returns.push(e / prev - 1.0);
        }
        prev = e;
    }
    let best = returns.iter().copied().reduce(f64::max).map(|r| r * 100.0);
    let worst = returns.iter().copied().reduce(f64::min).map(|r| r * 100.0);
    if returns.len() < 2 {
        return (None, None, best, worst);
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let down = returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n;
    let annual = 365f64.sqrt();
    let sharpe = (var > 0.0).then(|| mean / var.sqrt() * annual);
    let sortino = (down > 0.0).then(|| mean / down.sqrt() * annual);
    (sharpe, sortino, best, worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(exit_day: i64, pnl: f64, r: f64) -> TradeResult {
        TradeResult {
            entry_ms: exit_day * MS_PER_DAY - 3_600_000,
            exit_ms: exit_day * MS_PER_DAY + 1,
            pnl,
            r_multiple: r,
            fees: 1.0,
        }
    }

    #[test]
    fn stats_follow_their_definitions() {
        let trades = [
            t(1, 300.0, 3.0),
            t(2, -100.0, -1.0),
            t(3, -200.0, -1.0),
            t(4, 500.0, 4.0),
        ];
        let s = compute(&trades, 10_000.0, 0, 10 * MS_PER_DAY);
        assert_eq!((s.trades, s.wins, s.losses), (4, 2, 2));
        assert_eq!(s.win_rate_pct, 50.0);
        assert!((s.return_pct - 5.0).abs() < 1e-9);
        // peak 10300 at day 1, trough 10000 at day 3
        assert!((s.max_drawdown_pct - 300.0 / 10_300.0 * 100.0).abs() < 1e-9);
        assert_eq!(s.max_drawdown_start_ms, MS_PER_DAY + 1);
        assert_eq!(s.max_drawdown_end_ms, 3 * MS_PER_DAY + 1);
        assert_eq!(s.max_consecutive_losses, 2);
        assert!((s.profit_factor.unwrap() - 800.0 / 300.0).abs() < 1e-9);
        assert!((s.expectancy_r - 1.25).abs() < 1e-9);
        assert_eq!(s.fees, 4.0);
        assert!((s.exposure_pct - 4.0 / 240.0 * 100.0).abs() < 1e-5);
        assert!((s.signals_per_month.unwrap() - 4.0 / (10.0 / 30.4375)).abs() < 1e-9);
        // Under water from day 1 (peak 10300) until day 4 (10500).
        assert_eq!(s.max_drawdown_duration_ms, 3 * MS_PER_DAY);
        assert!((s.best_trade_pct.unwrap() - 500.0 / 10_000.0 * 100.0).abs() < 1e-9);
        assert!((s.worst_trade_pct.unwrap() + 200.0 / 10_200.0 * 100.0).abs() < 1e-9);
        assert!((s.best_day_pct.unwrap() - 5.0).abs() < 1e-9);
        assert!((s.worst_day_pct.unwrap() + 200.0 / 10_200.0 * 100.0).abs() < 1e-9);
        assert!((s.avg_winner_hours.unwrap() - 1.0).abs() < 1e-6);
        assert!((s.avg_loser_hours.unwrap() - 1.0).abs() < 1e-6);
        assert!(s.sharpe.unwrap() > 0.0 && s.sortino.unwrap() > 0.0 && s.calmar.unwrap() > 0.0);
        assert!((s.avg_win_pct - (3.0 + 500.0 / 10_000.0 * 100.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn no_trades_give_zeros_and_nulls() {
        let s = compute(&[], 10_000.0, 0, MS_PER_DAY);
        assert_eq!(s.trades, 0);
        assert_eq!(s.profit_factor, None);
        assert_eq!(s.sharpe, None);
        assert_eq!(s.calmar, None);
        assert_eq!(
            s.signals_per_month, None,
            "one day is not extrapolated to a month"
        );
        assert_eq!(s.best_trade_pct, None);
    }
}
