//! Funding on the simulated exchange: at every settlement time of the
//! replayed market (`--funding-rate R` every `--funding-interval-hours`),
//! each open position pays or receives `qty × mark × rate` (longs pay a
//! positive rate, shorts receive it), the wallet moves by that amount and
//! the user stream gets an `ACCOUNT_UPDATE` with reason `FUNDING_FEE`
//! (balances only for cross margin, as BingX sends it; the position too
//! for isolated margin). The settled rates are served by the
//! funding-history endpoint and `premiumIndex`.
//!
//! Consumes market trade times; produces wallet changes, user-stream
//! events and the funding history. Mark = the last trade price before the
//! settlement (the simulator keeps no separate mark).

use super::Exchange;
use crate::num::to_f64;
use crate::orders::PosSide;
use serde_json::{json, Value};

/// The funding schedule of the simulated exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingConfig {
    /// Rate charged at each settlement (0.0001 = 0.01 %); `None`: no funding.
    pub rate: Option<f64>,
    /// Settlement interval, ms (BingX: 8 h on most symbols).
    pub interval_ms: i64,
}

impl Default for FundingConfig {
    fn default() -> Self {
        Self {
            rate: None,
            interval_ms: 8 * 3_600_000,
        }
    }
}

/// One settlement, as the funding-history endpoint serves it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settlement {
    /// Settlement time, ms.
    pub time_ms: i64,
    /// Rate settled.
    pub rate: f64,
    /// Mark price used.
    pub mark: f64,
}

/// Returns the funding a position of signed `qty` (negative: short) is
/// credited at `mark` and `rate` (negative: it pays), rounded to 1e-8.
#[must_use]
pub fn funding_amount(qty: f64, mark: f64, rate: f64) -> f64 {
    (-qty * mark * rate * 1e8).round() / 1e8
}

impl Exchange {
    /// Settles every funding time up to market time `time_ms` (called before
    /// the trade at `time_ms` is applied, so the mark is the last trade
    /// before the settlement).
    pub(super) fn settle_funding(&mut self, time_ms: i64, now_ms: i64) {
        let FundingConfig {
            rate: Some(rate),
            interval_ms,
        } = self.cfg.funding
        else {
            return;
        };
        let interval_ms = interval_ms.max(1);
        let next = *self
            .next_funding_ms
            .get_or_insert((time_ms / interval_ms + 1) * interval_ms);
        if time_ms < next {
            return;
        }
        self.next_funding_ms = Some((time_ms / interval_ms + 1) * interval_ms);
        let Some(last) = self.market.last_price() else {
            return;
        };
        let prec = self.market.precision();
        let mark = to_f64(last, prec.price);
        self.funding_history.push(Settlement {
            time_ms: next,
            rate,
            mark,
        });
        for ps in [PosSide::Long, PosSide::Short, PosSide::Both] {
            let qty = to_f64(self.account.position(ps).qty, prec.qty);
            let signed = if ps == PosSide::Short { -qty } else { qty };
            if signed == 0.0 {
                continue;
            }
            let amount = funding_amount(signed, mark, rate);
            self.account.wallet += amount;
            log::info!(
                "Funding {amount:.8} USDT at rate {rate} on {} {:?}",
                self.cfg.symbol,
                ps
            );
            let crossed = self.account.margin_type == crate::account::MarginType::Crossed;
            let ev = self.account.account_update(
                &self.market,
                "FUNDING_FEE",
                amount,
                (!crossed).then_some(ps),
                now_ms.max(next),
            );
            self.emit(&ev);
        }
    }

    /// Returns the funding-history `data` of
    /// `GET /openApi/swap/v2/quote/fundingRate` (`startTime`/`endTime` ms
    /// inclusive, newest `limit` of them, oldest first).
    #[must_use]
    pub fn funding_rate_data(
        &self,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: usize,
    ) -> Value {
        let rows: Vec<&Settlement> = self
            .funding_history
            .iter()
            .filter(|s| {
                start_ms.is_none_or(|t| s.time_ms >= t) && end_ms.is_none_or(|t| s.time_ms <= t)
            })
            .collect();
        let from = rows.len().saturating_sub(limit);
        Value::Array(
            rows[from..]
                .iter()
                .map(|s| {
                    json!({"symbol": self.cfg.symbol, "fundingRate": format!("{:.8}", s.rate),
                        "fundingTime": s.time_ms})
                })
                .collect(),
        )
    }

    /// Returns the rate and time of the next settlement for `premiumIndex`
    /// (rate 0 without funding).
    pub(super) fn next_funding(&self, now_ms: i64) -> (f64, i64) {
        let interval = self.cfg.funding.interval_ms.max(1);
        let next = self
            .next_funding_ms
            .unwrap_or((now_ms / interval + 1) * interval);
        (self.cfg.funding.rate.unwrap_or(0.0), next)
    }
}
