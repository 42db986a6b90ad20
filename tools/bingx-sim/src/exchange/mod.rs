//! The simulated exchange: validates and executes trading requests, matches resting and
//! trigger orders against each market trade, and emits user-data events.
//!
//! Consumes parsed request parameters and market [`Tick`]s; produces REST `data` values or
//! [`ApiError`]s with BingX codes, and gzip user-stream frames to the subscribers of valid
//! listen keys. Never blocks: user-stream sends are `try_send`.

mod funding;
mod guard;
mod settings;
mod stop_watch;

pub use stop_watch::StopWatchState;

pub use guard::{AccountView, Activity, FilledOrder, GuardReport, StoplessInterval};

pub use self::funding::{FundingConfig, Settlement};
use super::account::Account;
use super::gzip::gzip;
use super::market::MarketState;
use super::num::{parse_scaled, NumError};
use super::orders::{FillInfo, Order, OrderKind, PosSide, Side, Status, Tif};
use super::rng::SimRng;
use super::source::{Precision, Tick};
use crossbeam_channel::{Sender, TrySendError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use tungstenite::Bytes;

/// Request parameters after percent-decoding (query wins over body).
pub type Params = BTreeMap<String, String>;

/// BingX taker fee rate (contracts endpoint `takerFeeRate`).
pub const TAKER_FEE: f64 = 0.0005;
/// BingX maker fee rate (contracts endpoint `makerFeeRate`).
pub const MAKER_FEE: f64 = 0.0002;
/// Maximum leverage of the served symbol.
pub const MAX_LEVERAGE: u32 = 125;
/// Minimum order notional in USDT (`tradeMinUSDT`).
pub const MIN_NOTIONAL: f64 = 2.0;
/// Maximum simultaneously open orders (code 80013 beyond).
pub const MAX_OPEN_ORDERS: usize = 200;

/// A rejected request: BingX business code, message, and HTTP status (200 for business
/// errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// BingX `code`.
    pub code: i64,
    /// BingX `msg`.
    pub msg: String,
    /// HTTP status to answer with.
    pub http: u16,
}

impl ApiError {
    /// Returns a business error (HTTP 200).
    #[must_use]
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
            http: 200,
        }
    }

    /// Returns an invalid-parameter error (109400).
    #[must_use]
    pub fn param(msg: impl Into<String>) -> Self {
        Self::new(109_400, msg)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code {} (HTTP {}): {}", self.code, self.http, self.msg)
    }
}

impl std::error::Error for ApiError {}

/// Static settings of the exchange.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// Served symbol.
    pub symbol: String,
    /// Market-order slippage in basis points.
    pub slippage_bps: f64,
    /// Listen-key lifetime, ms.
    pub listen_key_ttl_ms: u64,
    /// One cancel-all-after `timeOut` unit, ms.
    pub cancel_after_unit_ms: u64,
    /// Also emit `TRADE_UPDATE` per fill.
    pub trade_update_events: bool,
    /// Probability of a random order reject.
    pub reject_rate: f64,
    /// Funding settlements (none by default).
    pub funding: FundingConfig,
}

/// What the cancel-all-after (dead-man switch) endpoint has seen, for tests and the
/// operator: how often it was armed and disarmed, the last `timeOut`, the deadline now
/// armed and how often it fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadManState {
    /// Accepted `type=ACTIVATE` requests (first arming and every refresh).
    pub activations: u32,
    /// Accepted `type=CLOSE` requests.
    pub closes: u32,
    /// `timeOut` of the last accepted activation, units.
    pub last_timeout: u32,
    /// Deadline armed now (ms since the epoch), `None` when disarmed or fired.
    pub deadline_ms: Option<i64>,
    /// Times the timer fired (cancelling every open order).
    pub fired: u32,
}

struct UserSub {
    key: String,
    tx: Sender<Bytes>,
}

/// Exchange state; one instance behind a mutex, shared by REST threads, the feed and the
/// housekeeping thread.
pub struct Exchange {
    cfg: ExchangeConfig,
    market: MarketState,
    account: Account,
    orders: BTreeMap<u64, Order>,
    client_ids: HashMap<String, u64>,
    next_order_id: u64,
    next_trade_id: u64,
    cancel_after_deadline_ms: Option<i64>,
    dead_man: DeadManState,
    stop_watch: StopWatchState,
    listen_keys: HashMap<String, i64>,
    user_subs: Vec<UserSub>,
    rng: SimRng,
    guard: guard::GuardWatch,
    /// Market time of the next funding settlement (set at the first trade).
    next_funding_ms: Option<i64>,
    funding_history: Vec<Settlement>,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("symbol", &self.cfg.symbol)
            .field("orders", &self.orders.len())
            .field("wallet", &self.account.wallet)
            .finish_non_exhaustive()
    }
}

fn flag(p: &Params, key: &str) -> Result<bool, ApiError> {
    match p.get(key).map(String::as_str) {
        None | Some("" | "false" | "FALSE" | "False") => Ok(false),
        Some("true" | "TRUE" | "True") => Ok(true),
        Some(other) => Err(ApiError::param(format!(
            "{key} must be true or false, got {other}"
        ))),
    }
}

fn scaled(p: &Params, key: &str, decimals: u32) -> Result<Option<i64>, ApiError> {
    match p.get(key).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => match parse_scaled(text, decimals) {
            Ok(v) if v > 0 => Ok(Some(v)),
            Ok(_) => Err(ApiError::param(format!("{key} must be positive"))),
            Err(NumError::Precision) => Err(ApiError::param(format!(
                "{key} precision exceeds {decimals} decimal places"
            ))),
            Err(e) => Err(ApiError::param(format!("{key}: {e}"))),
        },
    }
}

impl Exchange {
    /// Returns an exchange with a flat account and an empty market.
    #[must_use]
    pub fn new(cfg: ExchangeConfig, precision: Precision, account: Account, seed: u64) -> Self {
        let mut rng = SimRng::new(seed ^ 0x0E0E_0E0E);
        let next_order_id = 1_735_119_588_833_849_344 + rng.range_i64(0, 1 << 20) as u64;
        Self {
            market: MarketState::new(&cfg.symbol, precision),
            cfg,
            account,
            orders: BTreeMap::new(),
            client_ids: HashMap::new(),
            next_order_id,
            next_trade_id: 511_178_071,
            cancel_after_deadline_ms: None,
            dead_man: DeadManState::default(),
            stop_watch: StopWatchState::default(),
            listen_keys: HashMap::new(),
            user_subs: Vec::new(),
            rng,
            guard: guard::GuardWatch::default(),
            next_funding_ms: None,
            funding_history: Vec::new(),
        }
    }

    /// Returns the market state.
    #[must_use]
    pub fn market(&self) -> &MarketState {
        &self.market
    }

    /// Checks that `symbol` (if given) is the served one.
    ///
    /// # Errors
    /// 109400 for another symbol.
    pub fn check_symbol(&self, p: &Params, required: bool) -> Result<(), ApiError> {
        match p.get("symbol").map(String::as_str) {
            None | Some("") if !required => Ok(()),
            None | Some("") => Err(ApiError::param("symbol is required")),
            Some(s) if s == self.cfg.symbol => Ok(()),
            Some(s) => Err(ApiError::param(format!("symbol {s} does not exist"))),
        }
    }

    fn emit(&mut self, event: &Value) {
        if self.user_subs.is_empty() {
            return;
        }
        let frame = Bytes::from(gzip(event.to_string().as_bytes()));
        let keys = &self.listen_keys;
        self.user_subs.retain(|s| {
            if !keys.contains_key(&s.key) {
                return true;
            }
            match s.tx.try_send(frame.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    log::warn!("User stream client too slow, event dropped");
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }

    /// Registers a user-stream connection for `key`; false when the key is unknown.
    pub fn add_user_sub(&mut self, key: &str, tx: Sender<Bytes>) -> bool {
        if !self.listen_keys.contains_key(key) {
            return false;
        }
        self.user_subs.push(UserSub {
            key: key.to_owned(),
            tx,
        });
        true
    }

    fn resolve_pos_side(&self, raw: Option<&str>) -> Result<PosSide, ApiError> {
        let ps = match raw {
            None | Some("") => None,
            Some(s) => Some(
                PosSide::parse(s)
                    .ok_or_else(|| ApiError::param(format!("positionSide {s} is invalid")))?,
            ),
        };
        match (self.account.hedge, ps) {
            (true, None) => Ok(PosSide::Long),
            (true, Some(PosSide::Both)) => Err(ApiError::param(
                "In the Hedge mode, the 'PositionSide' field can only be set to LONG or SHORT",
            )),
            (false, None | Some(PosSide::Both)) => Ok(PosSide::Both),
            (false, Some(_)) => Err(ApiError::param(
                "In the One-way mode, the 'PositionSide' field can only be set to BOTH",
            )),
            (true, Some(ps)) => Ok(ps),
        }
    }

    fn is_reducing(&self, o: &Order) -> bool {
        match o.pos_side {
            PosSide::Long => o.side == Side::Sell,
            PosSide::Short => o.side == Side::Buy,
            PosSide::Both => o.reduce_only || o.close_position,
        }
    }

    fn slipped(&self, side: Side, price: i64) -> i64 {
        let slip = (price as f64 * self.cfg.slippage_bps / 10_000.0).round() as i64;
        match side {
            Side::Buy => price + slip,
            Side::Sell => (price - slip).max(1),
        }
    }

    fn frozen_margin(&self) -> f64 {
        let last = self.market.last_price().unwrap_or(0);
        self.orders
            .values()
            .filter(|o| o.status.is_open() && !self.is_reducing(o))
            .map(|o| {
                let px = if o.price > 0 {
                    o.price
                } else if o.stop > 0 {
                    o.stop
                } else {
                    last
                };
                self.market.notional(px, o.qty) / f64::from(o.leverage.max(1))
            })
            .sum::<f64>()
            // An empty float sum is -0.0; report it as 0.
            + 0.0
    }

    /// Places an order (`POST /openApi/swap/v2/trade/order`); returns `data`.
    ///
    /// # Errors
    /// The BingX code of the first failed check (parameters 109400, duplicate client id
    /// 101481, minimum size 101400/110425, reduce-only 101290, no position 101205, margin
    /// 101204, post-only 101215, too many orders 80013, random fault 101204/80012).
    pub fn place_order(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        self.check_symbol(p, true)?;
        let prec = self.market.precision();
        let kind = p
            .get("type")
            .and_then(|t| OrderKind::parse(t))
            .ok_or_else(|| {
                ApiError::param("type is invalid (MARKET, LIMIT, STOP_MARKET, TAKE_PROFIT_MARKET)")
            })?;
        let side = p
            .get("side")
            .and_then(|s| Side::parse(s))
            .ok_or_else(|| ApiError::param("side must be BUY or SELL"))?;
        let pos_side = self.resolve_pos_side(p.get("positionSide").map(String::as_str))?;
        let tif = match p.get("timeInForce").map(String::as_str) {
            None | Some("") => Tif::Gtc,
            Some(t) => Tif::parse(t)
                .ok_or_else(|| ApiError::param(format!("timeInForce {t} is invalid")))?,
        };
        let reduce_only = flag(p, "reduceOnly")?;
        let close_position = flag(p, "closePosition")? && kind.is_trigger();
        let qty = scaled(p, "quantity", prec.qty)?;
        let qty = match (qty, close_position) {
            (Some(q), _) => q,
            (None, true) => 0,
            (None, false) => return Err(ApiError::param("quantity is required")),
        };
        let price = scaled(p, "price", prec.price)?.unwrap_or(0);
        if kind == OrderKind::Limit && price == 0 {
            return Err(ApiError::param("price is required for LIMIT orders"));
        }
        let stop = scaled(p, "stopPrice", prec.price)?.unwrap_or(0);
        if kind.is_trigger() && stop == 0 {
            return Err(ApiError::param("stopPrice is required for trigger orders"));
        }
        let client_id = p
            .get("clientOrderID")
            .or_else(|| p.get("clientOrderId"))
            .map(|c| c.to_lowercase())
            .unwrap_or_default();
        if client_id.len() > 40 {
            return Err(ApiError::param("clientOrderID must be 1-40 characters"));
        }
        if !client_id.is_empty() && self.client_ids.contains_key(&client_id) {
            self.guard.duplicate(&client_id);
            return Err(ApiError::new(101_481, "clientOrderID repeated"));
        }
        if self.rng.chance(self.cfg.reject_rate) {
            self.guard.injected_reject();
            return Err(if self.rng.chance(0.5) {
                ApiError::new(101_204, "Insufficient margin")
            } else {
                ApiError::new(80_012, "The current system is busy, please try again later")
            });
        }
        let Some(last) = self.market.last_price() else {
            return Err(ApiError::new(
                80_012,
                "No market price yet, please try again later",
            ));
        };
        if self.orders.values().filter(|o| o.status.is_open()).count() >= MAX_OPEN_ORDERS {
            return Err(ApiError::new(80_013, "Too many open orders"));
        }
        if !close_position {
            if qty < 1 {
                return Err(ApiError::new(101_400, "quantity below tradeMinQuantity"));
            }
            let ref_px = if price > 0 {
                price
            } else if stop > 0 {
                stop
            } else {
                last
            };
            if self.market.notional(ref_px, qty) < MIN_NOTIONAL {
                return Err(ApiError::new(
                    110_425,
                    "order notional must be greater than 2u",
                ));
            }
        }
        let mut order = Order {
            id: self.next_order_id,
            client_id,
            side,
            pos_side,
            kind,
            qty,
            price,
            stop,
            tif,
            reduce_only,
            close_position,
            status: Status::New,
            executed: 0,
            avg_price: 0,
            fee: 0.0,
            profit: 0.0,
            leverage: self.account.leverage_for(pos_side),
            time_ms: now_ms,
            update_ms: now_ms,
            working_type: p
                .get("workingType")
                .filter(|w| !w.is_empty())
                .cloned()
                .unwrap_or_else(|| "MARK_PRICE".to_owned()),
        };
        let reducing = self.is_reducing(&order);
        let closable = self.account.closable(side, pos_side);
        if !kind.is_trigger() {
            if reducing && closable == 0 {
                return Err(if pos_side == PosSide::Both {
                    ApiError::new(101_290, "Reduce Only order would increase the position")
                } else {
                    ApiError::new(101_205, "No position to close")
                });
            }
            if reduce_only && !reducing {
                return Err(ApiError::new(
                    101_290,
                    "Reduce Only order would open a position",
                ));
            }
        }
        if !reducing {
            let opening = qty
                - if pos_side == PosSide::Both {
                    closable.min(qty)
                } else {
                    0
                };
            let ref_px = if price > 0 {
                price
            } else if stop > 0 {
                stop
            } else {
                last
            };
            let notional = self.market.notional(ref_px, opening);
            let required = notional / f64::from(order.leverage.max(1)) + notional * TAKER_FEE;
            let (equity, used, _) = self.account.totals(&self.market);
            if required > equity - used - self.frozen_margin() {
                return Err(ApiError::new(101_204, "Insufficient margin"));
            }
        }
        let marketable = kind == OrderKind::Limit
            && match side {
                Side::Buy => price >= last,
                Side::Sell => price <= last,
            };
        if marketable && tif == Tif::PostOnly {
            return Err(ApiError::new(
                101_215,
                "Post Only order would immediately match",
            ));
        }
        order.status = if kind == OrderKind::Limit {
            Status::Pending
        } else {
            Status::New
        };
        self.next_order_id += 1 + self.rng.range_i64(0, 1_000) as u64;
        if !order.client_id.is_empty() {
            self.client_ids.insert(order.client_id.clone(), order.id);
        }
        self.note_placed(&order);
        let id = order.id;
        log::info!(
            "Order {id} placed: {} {} {} qty {} price {} stop {}",
            order.kind.as_str(),
            order.side.as_str(),
            order.pos_side.as_str(),
            self.market.qty(qty),
            self.market.px(price),
            self.market.px(stop)
        );
        let new_event = order.event_json(&self.market, "ORDER_TRADE_UPDATE", "NEW", now_ms, None);
        self.orders.insert(id, order);
        self.emit(&new_event);
        match kind {
            OrderKind::Market => {
                let fill_px = self.slipped(side, last);
                self.execute(id, fill_px, false, now_ms, now_ms);
            }
            OrderKind::Limit if marketable => {
                let fill_px = match side {
                    Side::Buy => self.slipped(side, last).min(price),
                    Side::Sell => self.slipped(side, last).max(price),
                };
                self.execute(id, fill_px, false, now_ms, now_ms);
            }
            OrderKind::Limit if matches!(tif, Tif::Ioc | Tif::Fok) => {
                self.finish(id, Status::Expired, now_ms);
            }
            _ => {}
        }
        let order = self
            .orders
            .get(&id)
            .ok_or_else(|| ApiError::new(80_012, "order vanished"))?;
        Ok(json!({"order": order.ack_json(&self.market)}))
    }

    /// Fills order `id` completely at `price` (capped to the position for reducing orders).
    fn execute(&mut self, id: u64, price: i64, maker: bool, trade_ms: i64, now_ms: i64) {
        let Some(order) = self.orders.get(&id).cloned() else {
            return;
        };
        let reducing = self.is_reducing(&order);
        let closable = self.account.closable(order.side, order.pos_side);
        let want = if order.close_position {
            closable
        } else {
            order.qty
        };
        if reducing && closable == 0 || want == 0 {
            log::info!("Order {id} expired: nothing left to reduce");
            self.finish(id, Status::Expired, now_ms);
            return;
        }
        let fill = self.account.apply_fill(
            &self.market,
            order.side,
            order.pos_side,
            price,
            want,
            reducing,
        );
        let rate = if maker { MAKER_FEE } else { TAKER_FEE };
        let fee = self.market.notional(price, fill.qty) * rate;
        self.account.wallet -= fee;
        let info = FillInfo {
            fee,
            pnl: fill.pnl,
            trade_id: self.next_trade_id,
            trade_ms,
        };
        self.next_trade_id += 1;
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        if o.close_position {
            o.qty = fill.qty;
        }
        o.executed = fill.qty;
        o.avg_price = price;
        o.fee += fee;
        o.profit += fill.pnl;
        o.status = Status::Filled;
        o.update_ms = now_ms;
        let o = o.clone();
        log::info!(
            "Order {id} filled: {} {} at {} ({})",
            o.side.as_str(),
            self.market.qty(fill.qty),
            self.market.px(price),
            if maker { "maker" } else { "taker" }
        );
        let ev = o.event_json(
            &self.market,
            "ORDER_TRADE_UPDATE",
            "TRADE",
            now_ms,
            Some(&info),
        );
        self.emit(&ev);
        if self.cfg.trade_update_events {
            let ev = o.event_json(&self.market, "TRADE_UPDATE", "TRADE", now_ms, Some(&info));
            self.emit(&ev);
        }
        let acc = self.account.account_update(
            &self.market,
            "ORDER",
            fill.pnl - fee,
            Some(o.pos_side),
            now_ms,
        );
        self.emit(&acc);
    }

    fn finish(&mut self, id: u64, status: Status, now_ms: i64) {
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        o.status = status;
        o.update_ms = now_ms;
        let o = o.clone();
        let exec = if status == Status::Cancelled {
            "CANCELED"
        } else {
            "EXPIRED"
        };
        let ev = o.event_json(&self.market, "ORDER_TRADE_UPDATE", exec, now_ms, None);
        self.emit(&ev);
    }

    /// Records a market trade and fills every resting or trigger order it reaches.
    pub fn on_tick(&mut self, t: &Tick, now_ms: i64) {
        self.settle_funding(t.time_ms, now_ms);
        self.market.apply(t);
        let mut hits: Vec<(u64, i64, bool)> = Vec::new();
        for o in self.orders.values().filter(|o| o.status.is_open()) {
            match (o.kind, o.side) {
                (OrderKind::Limit, Side::Buy) if t.price <= o.price => {
                    hits.push((o.id, o.price, true))
                }
                (OrderKind::Limit, Side::Sell) if t.price >= o.price => {
                    hits.push((o.id, o.price, true))
                }
                (OrderKind::StopMarket, Side::Buy) | (OrderKind::TakeProfitMarket, Side::Sell)
                    if t.price >= o.stop =>
                {
                    hits.push((o.id, self.slipped(o.side, t.price), false));
                }
                (OrderKind::StopMarket, Side::Sell) | (OrderKind::TakeProfitMarket, Side::Buy)
                    if t.price <= o.stop =>
                {
                    hits.push((o.id, self.slipped(o.side, t.price), false));
                }
                _ => {}
            }
        }
        for (id, px, maker) in hits {
            if maker {
                log::info!("Order {id} crossed by trade at {}", self.market.px(t.price));
            } else {
                log::info!(
                    "Order {id} triggered by trade at {}",
                    self.market.px(t.price)
                );
            }
            self.execute(id, px, maker, t.time_ms, now_ms);
        }
        self.observe_guard(now_ms);
    }

    fn find(&self, p: &Params) -> Result<u64, ApiError> {
        if let Some(id) = p.get("orderId").filter(|s| !s.is_empty()) {
            let id: u64 = id
                .parse()
                .map_err(|_| ApiError::param(format!("orderId {id} is not an integer")))?;
            return if self.orders.contains_key(&id) {
                Ok(id)
            } else {
                Err(ApiError::new(109_421, "order not exist"))
            };
        }
        let cid = p
            .get("clientOrderID")
            .or_else(|| p.get("clientOrderId"))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::param("orderId or clientOrderID is required"))?;
        self.client_ids
            .get(&cid.to_lowercase())
            .copied()
            .ok_or_else(|| ApiError::new(109_421, "order not exist"))
    }

    fn one_way(&self) -> bool {
        !self.account.hedge
    }

    /// Cancels one order; returns `data` with the cancelled order.
    ///
    /// # Errors
    /// 109421 unknown or already closed, 109422 already filled, 109400 bad parameters.
    pub fn cancel_order(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        self.check_symbol(p, true)?;
        let id = self.find(p)?;
        match self.orders.get(&id).map(|o| o.status) {
            Some(Status::Filled) => return Err(ApiError::new(109_422, "order already filled")),
            Some(s) if s.is_open() => {}
            _ => return Err(ApiError::new(109_421, "order not exist")),
        }
        self.note_cancel(id);
        self.finish(id, Status::Cancelled, now_ms);
        log::info!("Order {id} cancelled");
        let o = self
            .orders
            .get(&id)
            .ok_or_else(|| ApiError::new(80_012, "order vanished"))?;
        Ok(json!({"order": o.rest_json(&self.market, self.one_way())}))
    }

    fn cancel_where(&mut self, type_filter: Option<OrderKind>, now_ms: i64) -> Vec<Value> {
        let ids: Vec<u64> = self
            .orders
            .values()
            .filter(|o| o.status.is_open() && type_filter.is_none_or(|k| k == o.kind))
            .map(|o| o.id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            self.finish(id, Status::Cancelled, now_ms);
            if let Some(o) = self.orders.get(&id) {
                out.push(o.rest_json(&self.market, self.one_way()));
            }
        }
        out
    }

    /// Cancels all open orders (optionally of one `type`); returns `{success, failed}`.
    ///
    /// # Errors
    /// 109400 for another symbol or an unknown type.
    pub fn cancel_all(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        self.check_symbol(p, false)?;
        let filter = match p.get("type").filter(|t| !t.is_empty()) {
            Some(t) => Some(
                OrderKind::parse(t)
                    .ok_or_else(|| ApiError::param(format!("type {t} is invalid")))?,
            ),
            None => None,
        };
        let success = self.cancel_where(filter, now_ms);
        log::info!("Cancel all: {} orders cancelled", success.len());
        Ok(json!({"success": success, "failed": null}))
    }

    /// Returns `data` of query order.
    ///
    /// # Errors
    /// 109421 unknown order, 109400 bad parameters.
    pub fn query_order(&mut self, p: &Params) -> Result<Value, ApiError> {
        self.guard.query();
        self.check_symbol(p, true)?;
        let id = self.find(p)?;
        let o = self
            .orders
            .get(&id)
            .ok_or_else(|| ApiError::new(109_421, "order not exist"))?;
        Ok(json!({"order": o.rest_json(&self.market, self.one_way())}))
    }

    /// Returns `data` of open orders.
    ///
    /// # Errors
    /// 109400 for another symbol.
    pub fn open_orders(&mut self, p: &Params) -> Result<Value, ApiError> {
        self.guard.query();
        self.check_symbol(p, false)?;
        let filter = p.get("type").and_then(|t| OrderKind::parse(t));
        let orders: Vec<Value> = self
            .orders
            .values()
            .filter(|o| o.status.is_open() && filter.is_none_or(|k| k == o.kind))
            .map(|o| o.rest_json(&self.market, self.one_way()))
            .collect();
        Ok(json!({"orders": orders}))
    }

    /// Returns `data` of positions.
    ///
    /// # Errors
    /// 109400 for another symbol.
    pub fn positions(&mut self, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        self.guard.query();
        self.check_symbol(p, false)?;
        Ok(self.account.positions_json(&self.market, now_ms))
    }

    /// Returns the v3 balance array (USDT and an empty USDC row) or, with `legacy`, the v2
    /// `{"balance": {...}}` object.
    #[must_use]
    pub fn balance(&self, legacy: bool) -> Value {
        let usdt = self.account.balance_row(&self.market, self.frozen_margin());
        if legacy {
            return json!({"balance": usdt});
        }
        let mut usdc = usdt.clone();
        for (k, v) in [
            ("asset", "USDC"),
            ("balance", "0.0000"),
            ("equity", "0.0000"),
            ("unrealizedProfit", "0.0000"),
            ("realisedProfit", "0"),
            ("availableMargin", "0.0000"),
            ("usedMargin", "0.0000"),
            ("freezedMargin", "0.0000"),
        ] {
            usdc[k] = json!(v);
        }
        json!([usdt, usdc])
    }
}
