//! Account settings and timers of the simulated exchange: leverage, margin type, position
//! mode, cancel-all-after, listen keys, and the static contract/premium data.
//!
//! Consumes request parameters; produces REST `data` and `ACCOUNT_CONFIG_UPDATE` /
//! `listenKeyExpired` events. Never fills orders.

use super::{
    ApiError, DeadManState, Exchange, Params, MAKER_FEE, MAX_LEVERAGE, MIN_NOTIONAL, TAKER_FEE,
};
use crate::account::MarginType;
use crate::gzip::gzip;
use crate::num::to_f64;
use crate::source::Precision;
use serde_json::{json, Value};
use tungstenite::Bytes;

impl Exchange {
    /// Returns `data` of get leverage.
    ///
    /// # Errors
    /// 109400 for another symbol.
    pub fn leverage(&self, p: &Params) -> Result<Value, ApiError> {
        self.check_symbol(p, true)?;
        Ok(
            json!({"longLeverage": self.account.long_leverage, "shortLeverage": self.account.short_leverage,
            "maxLongLeverage": MAX_LEVERAGE, "maxShortLeverage": MAX_LEVERAGE}),
        )
    }

    fn config_update(&mut self, now_ms: i64) {
        let ev = json!({"e": "ACCOUNT_CONFIG_UPDATE", "E": now_ms, "ac": {"s": self.cfg.symbol,
            "l": self.account.long_leverage, "S": self.account.short_leverage,
            "mt": self.account.margin_type.ws()}});
        self.emit(&ev);
    }

    /// Sets leverage for `side`; returns `{leverage, symbol}`.
    ///
    /// # Errors
    /// 101414 above the maximum, 109400 bad side for the position mode or bad value.
    pub fn set_leverage(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        self.check_symbol(p, true)?;
        let lev: u32 = p
            .get("leverage")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l >= 1)
            .ok_or_else(|| ApiError::param("leverage must be a positive integer"))?;
        if lev > MAX_LEVERAGE {
            return Err(ApiError::new(
                101_414,
                format!("leverage exceeds the maximum {MAX_LEVERAGE}"),
            ));
        }
        match (self.account.hedge, p.get("side").map(String::as_str)) {
            (true, Some("LONG")) => self.account.long_leverage = lev,
            (true, Some("SHORT")) => self.account.short_leverage = lev,
            (false, Some("BOTH")) => {
                self.account.long_leverage = lev;
                self.account.short_leverage = lev;
            }
            (true, _) => {
                return Err(ApiError::param(
                    "In the Hedge mode, side must be LONG or SHORT",
                ))
            }
            (false, _) => return Err(ApiError::param("In the One-way mode, side must be BOTH")),
        }
        log::info!("Leverage set to {lev}");
        self.config_update(now_ms);
        Ok(json!({"leverage": lev, "symbol": self.cfg.symbol}))
    }

    /// Returns `data` of get margin type.
    ///
    /// # Errors
    /// 109400 for another symbol.
    pub fn margin_type(&self, p: &Params) -> Result<Value, ApiError> {
        self.check_symbol(p, true)?;
        Ok(json!({"marginType": self.account.margin_type.as_str(), "symbol": self.cfg.symbol}))
    }

    fn has_open_orders(&self) -> bool {
        self.orders.values().any(|o| o.status.is_open())
    }

    /// Sets the margin type (refused while positions or orders are open).
    ///
    /// # Errors
    /// 109400 for a bad value or while positions/orders are open.
    pub fn set_margin_type(&mut self, p: &Params, now_ms: i64) -> Result<(), ApiError> {
        self.check_symbol(p, true)?;
        let mt = p
            .get("marginType")
            .and_then(|m| MarginType::parse(m))
            .ok_or_else(|| {
                ApiError::param("marginType must be ISOLATED, CROSSED or SEPARATE_ISOLATED")
            })?;
        if mt != self.account.margin_type
            && (self.account.has_positions() || self.has_open_orders())
        {
            return Err(ApiError::param(
                "margin type cannot be changed with open positions or orders",
            ));
        }
        self.account.margin_type = mt;
        log::info!("Margin type set to {}", mt.as_str());
        self.config_update(now_ms);
        Ok(())
    }

    /// Returns `data` of get position mode.
    #[must_use]
    pub fn position_mode(&self) -> Value {
        json!({"dualSidePosition": if self.account.hedge { "true" } else { "false" }})
    }

    /// Sets hedge (`dualSidePosition=true`) or one-way mode.
    ///
    /// # Errors
    /// 109400 for a bad value or while positions/orders are open.
    pub fn set_position_mode(&mut self, p: &Params) -> Result<Value, ApiError> {
        let hedge = match p.get("dualSidePosition").map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(ApiError::param("dualSidePosition must be true or false")),
        };
        if hedge != self.account.hedge && (self.account.has_positions() || self.has_open_orders()) {
            return Err(ApiError::param(
                "position mode cannot be changed with open positions or orders",
            ));
        }
        self.account.hedge = hedge;
        log::info!(
            "Position mode set to {}",
            if hedge { "hedge" } else { "one-way" }
        );
        Ok(self.position_mode())
    }

    /// Arms (`type=ACTIVATE`, `timeOut` 10–120) or disarms (`type=CLOSE`) the dead-man switch.
    ///
    /// # Errors
    /// 109400 for a bad type or time-out.
    pub fn cancel_all_after(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        match p.get("type").map(String::as_str) {
            Some("ACTIVATE") => {
                let secs: i64 = p
                    .get("timeOut")
                    .and_then(|t| t.parse().ok())
                    .filter(|t| (10..=120).contains(t))
                    .ok_or_else(|| ApiError::param("timeOut must be an integer from 10 to 120"))?;
                let deadline = now_ms + secs * self.cfg.cancel_after_unit_ms as i64;
                self.cancel_after_deadline_ms = Some(deadline);
                self.dead_man.activations += 1;
                self.dead_man.last_timeout = u32::try_from(secs).unwrap_or(u32::MAX);
                log::info!("Cancel-all-after armed for {secs} units");
                Ok(
                    json!({"triggerTime": deadline / 1_000, "status": "ACTIVATED",
                    "note": format!("All your pending orders will be closed automatically at {} ms since the epoch, before that you can cancel the timer, or extend triggerTime time by this request", deadline)}),
                )
            }
            Some("CLOSE") => {
                self.cancel_after_deadline_ms = None;
                self.dead_man.closes += 1;
                log::info!("Cancel-all-after disarmed");
                Ok(
                    json!({"triggerTime": 0, "status": "CLOSED", "note": "The timer has been cancelled"}),
                )
            }
            _ => Err(ApiError::param("type must be ACTIVATE or CLOSE")),
        }
    }

    /// Returns what the cancel-all-after endpoint has seen and the deadline armed now.
    #[must_use]
    pub fn dead_man(&self) -> DeadManState {
        DeadManState {
            deadline_ms: self.cancel_after_deadline_ms,
            ..self.dead_man
        }
    }

    /// Creates a listen key valid for the configured lifetime.
    pub fn create_listen_key(&mut self, now_ms: i64) -> String {
        let key: String = (0..4)
            .map(|_| format!("{:016x}", self.rng.next_u64()))
            .collect();
        self.listen_keys
            .insert(key.clone(), now_ms + self.cfg.listen_key_ttl_ms as i64);
        log::info!("Listen key created");
        key
    }

    /// Extends a listen key; false when unknown.
    pub fn extend_listen_key(&mut self, key: &str, now_ms: i64) -> bool {
        let ttl = self.cfg.listen_key_ttl_ms as i64;
        self.listen_keys
            .get_mut(key)
            .map(|exp| *exp = now_ms + ttl)
            .is_some()
    }

    /// Deletes a listen key; false when unknown.
    pub fn delete_listen_key(&mut self, key: &str) -> bool {
        self.user_subs.retain(|s| s.key != key);
        self.listen_keys.remove(key).is_some()
    }

    /// Runs timers: fires cancel-all-after and expires listen keys (pushing
    /// `listenKeyExpired`).
    pub fn housekeeping(&mut self, now_ms: i64) {
        if self.cancel_after_deadline_ms.is_some_and(|d| now_ms >= d) {
            self.cancel_after_deadline_ms = None;
            self.dead_man.fired += 1;
            let n = self.cancel_where(None, now_ms).len();
            log::info!("Cancel-all-after fired: {n} orders cancelled");
            self.observe_guard(now_ms);
        }
        self.observe_stops(now_ms);
        let expired: Vec<String> = self
            .listen_keys
            .iter()
            .filter(|(_, exp)| now_ms >= **exp)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            let ev = json!({"e": "listenKeyExpired", "E": now_ms, "listenKey": key});
            let frame = Bytes::from(gzip(ev.to_string().as_bytes()));
            for s in self.user_subs.iter().filter(|s| s.key == key) {
                let _ = s.tx.try_send(frame.clone());
            }
            self.user_subs.retain(|s| s.key != key);
            self.listen_keys.remove(&key);
            log::info!("Listen key expired");
        }
    }

    /// Returns the contracts `data` array for the served symbol.
    #[must_use]
    pub fn contracts(&self) -> Value {
        let Precision { price, qty } = self.market.precision();
        let asset = self.cfg.symbol.split('-').next().unwrap_or("BTC");
        json!([{"contractId": "100", "symbol": self.cfg.symbol, "size": "0",
            "quantityPrecision": qty, "pricePrecision": price, "feeRate": TAKER_FEE,
            "makerFeeRate": MAKER_FEE, "takerFeeRate": TAKER_FEE, "tradeMinLimit": 0,
            "tradeMinQuantity": to_f64(1, qty), "tradeMinUSDT": MIN_NOTIONAL,
            "maxLongLeverage": MAX_LEVERAGE, "maxShortLeverage": MAX_LEVERAGE, "currency": "USDT",
            "asset": asset, "status": 1, "apiStateOpen": "true", "apiStateClose": "true",
            "brokerState": "true", "launchTime": 1_586_275_200_000_i64, "maintainTime": 0, "offTime": 0}])
    }

    /// Returns the premium-index `data` (mark = index = last trade; the
    /// funding rate of `--funding-rate`, 0 without it, and the next
    /// settlement time).
    #[must_use]
    pub fn premium_index(&self, now_ms: i64) -> Value {
        let last = self.market.last_price().unwrap_or(0);
        let (rate, next_funding) = self.next_funding(now_ms);
        json!({"symbol": self.cfg.symbol, "markPrice": self.market.px(last), "indexPrice": self.market.px(last),
            "lastFundingRate": format!("{rate:.8}"), "nextFundingTime": next_funding})
    }
}
