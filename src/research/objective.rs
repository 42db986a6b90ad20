//! The objective a sweep ranks its parameter sets by, and the ranking.
//!
//! Consumes a backtest's combined [`Stats`]; produces a score (`None` when
//! the ratio is undefined, e.g. a profit factor without losses) and a total
//! order: sets with at least `min_trades` trades first, then defined scores
//! before undefined ones, higher scores first, ties by id. Never uses a
//! float comparison that is not total.

use std::cmp::Ordering;

use crate::backtest::stats::Stats;

/// What a sweep maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Annualized Sharpe ratio of daily returns.
    Sharpe,
    /// Annualized Sortino ratio of daily returns.
    Sortino,
    /// Annualized return / max drawdown.
    Calmar,
    /// Gross profit / gross loss.
    ProfitFactor,
    /// Mean R-multiple.
    ExpectancyR,
    /// Return, percent.
    ReturnPct,
    /// Return percent / max drawdown percent (undefined without drawdown).
    ReturnOverDrawdown,
}

impl Objective {
    /// Every objective, in documentation order.
    pub const ALL: [Self; 7] = [
        Self::Sharpe,
        Self::Sortino,
        Self::Calmar,
        Self::ProfitFactor,
        Self::ExpectancyR,
        Self::ReturnPct,
        Self::ReturnOverDrawdown,
    ];

    /// Returns the name used in `GRID.toml` and `summary.json`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sharpe => "sharpe",
            Self::Sortino => "sortino",
            Self::Calmar => "calmar",
            Self::ProfitFactor => "profit_factor",
            Self::ExpectancyR => "expectancy_r",
            Self::ReturnPct => "return_pct",
            Self::ReturnOverDrawdown => "return_over_drawdown",
        }
    }

    /// Returns the objective called `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Returns the names, comma-separated, for error messages.
    #[must_use]
    pub fn list() -> String {
        Self::ALL
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Returns the score of `s`, `None` when undefined.
    #[must_use]
    pub fn score(self, s: &Stats) -> Option<f64> {
        let v = match self {
            Self::Sharpe => s.sharpe,
            Self::Sortino => s.sortino,
            Self::Calmar => s.calmar,
            Self::ProfitFactor => s.profit_factor,
            Self::ExpectancyR => Some(s.expectancy_r),
            Self::ReturnPct => Some(s.return_pct),
            Self::ReturnOverDrawdown => {
                (s.max_drawdown_pct > 0.0).then(|| s.return_pct / s.max_drawdown_pct)
            }
        };
        v.filter(|v| v.is_finite())
    }
}

/// What ranks one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct Rank {
    /// The set's id (16 hex digits).
    pub id: String,
    /// Closed trades.
    pub trades: u64,
    /// The objective's score.
    pub score: Option<f64>,
}

impl Rank {
    /// Orders `a` before `b` when `a` is the better set: enough trades,
    /// then a defined score, then the higher score, then the smaller id.
    #[must_use]
    pub fn better(a: &Self, b: &Self, min_trades: u64) -> Ordering {
        let eligible = |r: &Self| r.trades >= min_trades;
        eligible(b)
            .cmp(&eligible(a))
            .then_with(|| b.score.is_some().cmp(&a.score.is_some()))
            .then_with(|| match (a.score, b.score) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                _ => Ordering::Equal,
            })
            .then_with(|| a.id.cmp(&b.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, trades: u64, score: Option<f64>) -> Rank {
        Rank {
            id: id.into(),
            trades,
            score,
        }
    }

    #[test]
    fn too_few_trades_rank_last_then_undefined_then_by_score_then_id() {
        let mut v = [
            r("a", 1, Some(9.0)),
            r("b", 10, None),
            r("c", 10, Some(1.0)),
            r("d", 10, Some(2.0)),
            r("0", 10, Some(2.0)),
        ];
        v.sort_by(|a, b| Rank::better(a, b, 5));
        let ids: Vec<&str> = v.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["0", "d", "c", "b", "a"]);
    }

    #[test]
    fn every_objective_round_trips_its_name() {
        for o in Objective::ALL {
            assert_eq!(Objective::from_name(o.as_str()), Some(o));
        }
        let s = Stats {
            return_pct: 6.0,
            max_drawdown_pct: 3.0,
            ..Stats::default()
        };
        assert_eq!(Objective::ReturnOverDrawdown.score(&s), Some(2.0));
        assert_eq!(Objective::Sharpe.score(&s), None);
    }
}
