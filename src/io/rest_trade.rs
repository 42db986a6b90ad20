//! Trading endpoints of the REST client (§4.6–4.10): place order with
//! duplicate-safe retries, cancel, cancel all, query, open orders, and the
//! [`IoCommand`] executor that turns a command from the hot thread into an
//! [`OrderResult`].
//!
//! Consumes [`OrderRequest`]s (fixed-point price and quantity, formatted with
//! the instrument's decimals — never floats); produces acks and typed errors.
//! Never sends an order twice: after an ambiguous place-order failure
//! (timeout or connection lost after the send, 5xx, internal-error code) the
//! order is looked up by client order id, and resent (with the same id) only
//! when the exchange says it does not exist.

use crate::io::clock::IoClock;
use crate::io::dto::parse_data;
use crate::io::dto_trade::{CancelAllResult, OrderData, OrderInfo, OrderList};
use crate::io::endpoint::Endpoint;
use crate::io::error::{Disposition, ExchangeCode, OrderError, OrderInvalid, RestError};
use crate::io::order::{
    ClientOrderId, IoCommand, OrderAck, OrderKind, OrderOutcome, OrderRef, OrderRequest,
    OrderResult, PositionSide,
};
use crate::io::rest::RestClient;
use crate::types::SymbolId;

/// Result of looking an order up after an ambiguous failure.
enum Lookup {
    Exists(OrderInfo),
    Absent,
    Undecided(RestError),
}

fn parse_order(path: &'static str, body: &[u8]) -> Result<OrderInfo, RestError> {
    let data: OrderData = parse_data(path, body)?;
    let order = data.into_order();
    if order.order_id == 0 {
        return Err(RestError::Decode {
            endpoint: path,
            detail: "order reply without orderId".into(),
        });
    }
    Ok(order)
}

fn ack_of(req: &OrderRequest, info: &OrderInfo, recovered: bool) -> OrderAck {
    OrderAck {
        symbol: req.symbol,
        client_order_id: req.client_order_id,
        order_id: info.order_id,
        status: info.status,
        recovered,
    }
}

impl<C: IoClock> RestClient<C> {
    /// Prepares the signed-to-be query of a place-order request in `self.query`.
    fn encode_place_order(&mut self, req: &OrderRequest) -> Result<(), OrderError> {
        if let Some(why) = req.validate() {
            return Err(OrderError::Invalid(why));
        }
        let info = self
            .symbols
            .get(req.symbol)
            .ok_or(OrderError::Invalid(OrderInvalid::UnknownSymbol))?;
        let rules = info.rules;
        let q = &mut self.query;
        q.clear();
        q.push_str("symbol", &info.name)?;
        q.push_str("side", req.side.as_str())?;
        q.push_str("positionSide", req.position_side.as_str())?;
        q.push_str("type", req.kind.as_str())?;
        // Never larger than asked: quantities round down to the step.
        q.push_qty("quantity", rules.round_qty(req.qty), rules.step.decimals())?;
        match req.kind {
            OrderKind::Limit => {
                q.push_price("price", rules.round_price(req.price), rules.tick.decimals())?;
                if let Some(tif) = req.time_in_force {
                    q.push_str("timeInForce", tif.as_str())?;
                }
            }
            OrderKind::StopMarket | OrderKind::TakeProfitMarket => {
                q.push_price(
                    "stopPrice",
                    rules.round_price(req.stop_price),
                    rules.tick.decimals(),
                )?;
            }
            OrderKind::Market => {}
        }
        // reduceOnly is only accepted in one-way mode (§4.6).
        if req.reduce_only && req.position_side == PositionSide::Both {
            q.push_bool("reduceOnly", true)?;
        }
        q.push_str("clientOrderID", req.client_order_id.as_str())?;
        Ok(())
    }

    /// Places an order, never creating a duplicate.
    ///
    /// Retryable failures (not executed: rate limit, connect/write failure,
    /// timestamp reject) are retried with backoff. After an ambiguous failure
    /// the order is looked up by client order id (and, for trigger orders
    /// whose id the exchange may not keep, matched among open orders); it is
    /// resent with the same client order id only if it provably does not exist.
    ///
    /// # Errors
    /// [`OrderError::Invalid`] before sending; [`OrderError::Request`] when the
    /// exchange rejected it or it provably was not created;
    /// [`OrderError::Ambiguous`] when its existence could not be decided.
    pub fn place_order(&mut self, req: &OrderRequest) -> Result<OrderAck, OrderError> {
        let ep = Endpoint::PlaceOrder;
        let path = ep.spec().path;
        let mut attempt = 1;
        loop {
            self.encode_place_order(req)?;
            self.wait_for_slot(ep);
            let err = match self.send_once(ep, &|b| parse_order(path, b)) {
                Ok(info) => return Ok(ack_of(req, &info, false)),
                Err(e) => e,
            };
            match err.disposition(false) {
                Disposition::NotRetryable => return Err(OrderError::Request(err)),
                Disposition::Retryable => {
                    if attempt >= self.retry.max_attempts {
                        return Err(OrderError::Request(err));
                    }
                    self.back_off(ep, attempt, &err);
                }
                Disposition::Ambiguous => {
                    log::warn!(
                        "Place order {} ambiguous, looking it up: {err}",
                        req.client_order_id
                    );
                    match self.reconcile(req) {
                        Lookup::Exists(info) => return Ok(ack_of(req, &info, true)),
                        Lookup::Undecided(lookup) => {
                            return Err(OrderError::Ambiguous {
                                send: Box::new(err),
                                lookup: Box::new(lookup),
                            })
                        }
                        Lookup::Absent => {
                            if attempt >= self.retry.max_attempts {
                                return Err(OrderError::NotPlaced(err));
                            }
                            log::warn!("Order {} provably absent, resending", req.client_order_id);
                            self.back_off(ep, attempt, &err);
                        }
                    }
                }
            }
            attempt += 1;
        }
    }

    /// Decides whether an ambiguously sent order exists.
    fn reconcile(&mut self, req: &OrderRequest) -> Lookup {
        self.clock.sleep(self.retry.reconcile_delay);
        let mut last = None;
        for i in 1..=self.retry.reconcile_attempts.max(1) {
            match self.query_order(req.symbol, OrderRef::Client(req.client_order_id)) {
                Ok(info) => return Lookup::Exists(info),
                Err(OrderError::Request(e))
                    if e.exchange_code() == Some(ExchangeCode::OrderNotFound) =>
                {
                    if req.kind.is_trigger() {
                        return match self.find_trigger_twin(req) {
                            Ok(Some(info)) => Lookup::Exists(info),
                            Ok(None) => Lookup::Absent,
                            Err(e) => Lookup::Undecided(e),
                        };
                    }
                    return Lookup::Absent;
                }
                Err(OrderError::Request(e)) => {
                    if e.disposition(true) != Disposition::Retryable {
                        return Lookup::Undecided(e);
                    }
                    if i < self.retry.reconcile_attempts {
                        self.back_off(Endpoint::QueryOrder, i, &e);
                    }
                    last = Some(e);
                }
                Err(OrderError::Invalid(why)) => {
                    return Lookup::Undecided(RestError::Decode {
                        endpoint: "reconcile",
                        detail: format!("{why:?}"),
                    })
                }
                Err(OrderError::Ambiguous { lookup, .. }) => return Lookup::Undecided(*lookup),
                Err(OrderError::NotPlaced(e)) => return Lookup::Undecided(e),
            }
        }
        Lookup::Undecided(last.unwrap_or(RestError::Decode {
            endpoint: "reconcile",
            detail: "no lookup attempted".into(),
        }))
    }

    /// Finds an open trigger order with the same symbol, type, side, position
    /// side, stop price and quantity (the exchange may not keep client ids
    /// on trigger orders, §4.6).
    fn find_trigger_twin(&mut self, req: &OrderRequest) -> Result<Option<OrderInfo>, RestError> {
        let Some(info) = self.symbols.get(req.symbol) else {
            return Ok(None);
        };
        let rules = info.rules;
        let orders = match self.open_orders(Some(req.symbol)) {
            Ok(o) => o,
            Err(OrderError::Request(e)) => return Err(e),
            Err(other) => {
                return Err(RestError::Decode {
                    endpoint: "open orders",
                    detail: other.to_string(),
                })
            }
        };
        let stop = rules.round_price(req.stop_price);
        let qty = rules.round_qty(req.qty);
        Ok(orders.into_iter().find(|o| {
            o.kind() == Some(req.kind)
                && o.side == Some(req.side)
                && o.position_side == Some(req.position_side)
                && rules.round_price(o.stop_price) == stop
                && rules.round_qty(o.orig_qty) == qty
                && (o.client_order_id.is_empty()
                    || o.client_order_id == req.client_order_id.as_str())
        }))
    }

    fn push_order_ref(&mut self, symbol: SymbolId, order: OrderRef) -> Result<(), OrderError> {
        let info = self
            .symbols
            .get(symbol)
            .ok_or(OrderError::Invalid(OrderInvalid::UnknownSymbol))?;
        self.query.clear();
        self.query.push_str("symbol", &info.name)?;
        match order {
            OrderRef::OrderId(id) => self.query.push_u64("orderId", id)?,
            OrderRef::Client(id) if id.is_empty() => {
                return Err(OrderError::Invalid(OrderInvalid::MissingOrderRef))
            }
            OrderRef::Client(id) => self.query.push_str("clientOrderID", id.as_str())?,
        }
        Ok(())
    }

    /// Returns one order by order id or client order id (§4.9).
    ///
    /// # Errors
    /// [`OrderError::Request`] with [`ExchangeCode::OrderNotFound`] when the
    /// order does not exist, or any other request failure after retries.
    pub fn query_order(
        &mut self,
        symbol: SymbolId,
        order: OrderRef,
    ) -> Result<OrderInfo, OrderError> {
        self.push_order_ref(symbol, order)?;
        let path = Endpoint::QueryOrder.spec().path;
        Ok(self.call_with(Endpoint::QueryOrder, &|b| parse_order(path, b))?)
    }

    /// Cancels one order (§4.7) and returns it as cancelled.
    ///
    /// # Errors
    /// [`OrderError::Request`] (e.g. not found, already filled) after retries.
    pub fn cancel_order(
        &mut self,
        symbol: SymbolId,
        order: OrderRef,
    ) -> Result<OrderInfo, OrderError> {
        self.push_order_ref(symbol, order)?;
        let path = Endpoint::CancelOrder.spec().path;
        Ok(self.call_with(Endpoint::CancelOrder, &|b| parse_order(path, b))?)
    }

    /// Cancels every open order of `symbol`, or of all symbols for `None` (§4.8).
    ///
    /// # Errors
    /// [`OrderError::Request`] after retries.
    pub fn cancel_all(&mut self, symbol: Option<SymbolId>) -> Result<CancelAllResult, OrderError> {
        self.push_optional_symbol(symbol)?;
        Ok(self.call(Endpoint::CancelAll)?)
    }

    /// Returns open orders of `symbol`, or of all symbols for `None` (§4.10).
    ///
    /// # Errors
    /// [`OrderError::Request`] after retries.
    pub fn open_orders(&mut self, symbol: Option<SymbolId>) -> Result<Vec<OrderInfo>, OrderError> {
        self.push_optional_symbol(symbol)?;
        let list: OrderList = self.call(Endpoint::OpenOrders)?;
        Ok(list.orders)
    }

    fn push_optional_symbol(&mut self, symbol: Option<SymbolId>) -> Result<(), OrderError> {
        self.query.clear();
        if let Some(id) = symbol {
            let info = self
                .symbols
                .get(id)
                .ok_or(OrderError::Invalid(OrderInvalid::UnknownSymbol))?;
            self.query.push_str("symbol", &info.name)?;
        }
        Ok(())
    }

    /// Encodes, signs and writes a place-order request without waiting for
    /// the reply: no rate limiting, retries or reconciliation. For latency
    /// measurement and callers that handle the reply themselves with
    /// [`RestClient::finish_place_order`].
    ///
    /// # Errors
    /// [`OrderError::Invalid`] or a write-phase [`OrderError::Request`].
    pub fn begin_place_order(&mut self, req: &OrderRequest) -> Result<(), OrderError> {
        self.encode_place_order(req)?;
        Ok(self.write_prepared(Endpoint::PlaceOrder)?)
    }

    /// Reads the reply to [`RestClient::begin_place_order`].
    ///
    /// # Errors
    /// [`OrderError::Request`] for any failure; nothing is retried.
    pub fn finish_place_order(&mut self, req: &OrderRequest) -> Result<OrderAck, OrderError> {
        let path = Endpoint::PlaceOrder.spec().path;
        let info = self.read_prepared(Endpoint::PlaceOrder, &|b| parse_order(path, b))?;
        Ok(ack_of(req, &info, false))
    }

    /// Executes one command from the hot thread and returns its fixed-size result.
    /// Failures are logged with their full cause.
    pub fn execute(&mut self, cmd: &IoCommand) -> OrderResult {
        match *cmd {
            IoCommand::Place(req) => {
                let outcome = match self.place_order(&req) {
                    Ok(ack) => OrderOutcome::Accepted(ack),
                    Err(e) => self.outcome_of_error("Place order", &e),
                };
                OrderResult {
                    symbol: req.symbol,
                    client_order_id: req.client_order_id,
                    outcome,
                }
            }
            IoCommand::Cancel { symbol, order } => {
                let client_order_id = match order {
                    OrderRef::Client(id) => id,
                    OrderRef::OrderId(_) => ClientOrderId::EMPTY,
                };
                let outcome = match self.cancel_order(symbol, order) {
                    Ok(info) => OrderOutcome::Accepted(OrderAck {
                        symbol,
                        client_order_id,
                        order_id: info.order_id,
                        status: info.status,
                        recovered: false,
                    }),
                    Err(e) => self.outcome_of_error("Cancel order", &e),
                };
                OrderResult {
                    symbol,
                    client_order_id,
                    outcome,
                }
            }
            IoCommand::Query { symbol, order } => {
                let client_order_id = match order {
                    OrderRef::Client(id) => id,
                    OrderRef::OrderId(_) => ClientOrderId::EMPTY,
                };
                let outcome = match self.query_order(symbol, order) {
                    Ok(info) => OrderOutcome::Accepted(OrderAck {
                        symbol,
                        client_order_id,
                        order_id: info.order_id,
                        status: info.status,
                        recovered: false,
                    }),
                    Err(e) => self.outcome_of_error("Query order", &e),
                };
                OrderResult {
                    symbol,
                    client_order_id,
                    outcome,
                }
            }
            IoCommand::Sync => OrderResult {
                symbol: SymbolId(0),
                client_order_id: ClientOrderId::EMPTY,
                outcome: OrderOutcome::Invalid(OrderInvalid::MissingOrderRef),
            },
            IoCommand::CancelAll { symbol } => {
                let outcome = match self.cancel_all(Some(symbol)) {
                    Ok(r) => OrderOutcome::CancelledAll {
                        cancelled: u32::try_from(r.success.len()).unwrap_or(u32::MAX),
                        failed: u32::try_from(r.failed.len()).unwrap_or(u32::MAX),
                    },
                    Err(e) => self.outcome_of_error("Cancel all", &e),
                };
                OrderResult {
                    symbol,
                    client_order_id: ClientOrderId::EMPTY,
                    outcome,
                }
            }
        }
    }

    fn outcome_of_error(&self, what: &str, e: &OrderError) -> OrderOutcome {
        log::warn!("{what} failed: {e}");
        match e {
            OrderError::Invalid(why) => OrderOutcome::Invalid(*why),
            OrderError::Request(RestError::Api(api)) => OrderOutcome::Rejected {
                code: api.code,
                kind: api.kind,
            },
            OrderError::Request(other) => match other.disposition(false) {
                Disposition::Ambiguous => OrderOutcome::Unknown,
                _ => OrderOutcome::Failed,
            },
            OrderError::NotPlaced(_) => OrderOutcome::Failed,
            OrderError::Ambiguous { .. } => OrderOutcome::Unknown,
        }
    }
}
