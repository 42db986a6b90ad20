//! The reconciliation pass: read the exchange, resolve every working order
//! of the core, compare positions, protect, then cancel (see the parent
//! module for the guarantees).
//!
//! Consumes a [`CoreView`] and the exchange through a [`RestClient`];
//! produces [`Correction`]s. Never places an entry and never cancels
//! before every protective stop is in place.

use std::collections::HashMap;

use super::{
    CoreOrder, CorePosition, CoreView, Correction, OrderRole, ReconcileConfig, ReconcileError,
    ReconcileFailure, UnknownPositionPolicy,
};
use crate::io::clock::IoClock;
use crate::io::dto_trade::OrderInfo;
use crate::io::error::{ExchangeCode, OrderError, RestError};
use crate::io::order::{ClientOrderId, OrderKind, OrderRef, OrderRequest, PositionSide};
use crate::io::rest::RestClient;
use crate::io::rest_account::PositionMode;
use crate::money::Money;
use crate::orders::OrderId;
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

/// What step 1 learned about one of the core's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Working on the exchange.
    OnBook,
    /// Completely filled.
    Filled,
    /// No longer working (cancelled, expired, never created).
    Gone,
}

/// An open exchange order and whether a core order (or a position's
/// protection) claimed it.
struct BookOrder {
    info: OrderInfo,
    symbol: SymbolId,
    claimed: bool,
}

/// Entry side of an exchange position row.
fn row_side(position_side: &str, amount: Qty) -> Side {
    match position_side {
        "SHORT" => Side::Sell,
        "LONG" => Side::Buy,
        _ if amount.0.is_negative() => Side::Sell,
        _ => Side::Buy,
    }
}

/// Returns the exchange time `ms` (ms since the epoch) as a timestamp,
/// `None` when the exchange gave none.
/// Earlier starts whose unjournaled recovery stops a position closed on
/// the exchange is looked up among (see `recovery_stop_fill`).
const EARLIER_SESSIONS: u64 = 8;

fn exchange_time(ms: i64) -> Option<TimestampNs> {
    (ms > 0).then(|| TimestampNs(ms.saturating_mul(1_000_000)))
}

fn abs_qty(q: Qty) -> Qty {
    Qty(q.0.saturating_abs())
}

fn is_not_found(e: &OrderError) -> bool {
    matches!(e, OrderError::Request(r) if r.exchange_code() == Some(ExchangeCode::OrderNotFound))
}

/// Returns true when `e` is the exchange refusing the order (a business
/// code), as opposed to a failed or ambiguous request.
fn is_refusal(e: &OrderError) -> bool {
    matches!(e, OrderError::Request(RestError::Api(_)))
}

struct Run<'a, C: IoClock> {
    rest: &'a mut RestClient<C>,
    /// Told every correction as soon as it is applied (journaled there, so
    /// a kill during reconciliation keeps what was done).
    sink: &'a mut dyn FnMut(&Correction),
    /// Positions (symbol, entry side) whose protection is settled.
    protected: Vec<(SymbolId, Side)>,
    view: &'a CoreView,
    cfg: &'a ReconcileConfig,
    mode: PositionMode,
    book: Vec<BookOrder>,
    out: Vec<Correction>,
    fates: HashMap<OrderId, Fate>,
    /// Stops found gone, with the correction reporting it, held back until
    /// it is known whether a replacement stands for them.
    gone_stops: Vec<(OrderId, Correction)>,
    /// Stop orders whose fate is told another way (replaced or booked).
    settled_stops: Vec<OrderId>,
    /// Positions whose entry fill was found now: the core places their stop.
    entry_filled_now: Vec<SymbolId>,
    /// (symbol, side) of unknown positions left alone: keep their stops.
    left_alone: Vec<(SymbolId, Side)>,
    /// The exchange's average entry price of each position (for adopting).
    entry_prices: Vec<(SymbolId, Side, Price)>,
    /// Symbols whose recovery orders this run announced
    /// ([`Correction::RecoverySending`]).
    announced: Vec<SymbolId>,
}

/// Reconciles `view` with the exchange through `rest` (whose symbol table
/// must hold `market.symbols`) and returns the corrections applied, in
/// order.
///
/// # Errors
/// [`ReconcileFailure`] with the corrections already applied when a request
/// fails or the configuration's prefixes are unusable.
pub fn reconcile<C: IoClock>(
    rest: &mut RestClient<C>,
    view: &CoreView,
    cfg: &ReconcileConfig,
) -> Result<Vec<Correction>, ReconcileFailure> {
    reconcile_with(rest, view, cfg, &mut |_| {})
}

/// [`reconcile`], telling `sink` each correction the moment it is applied
/// (the caller journals it then: a kill during reconciliation does not
/// start it over). Protective stops come first: every position of the
/// core that the exchange still holds is checked against the open orders
/// (no lookup) and, without its stop, gets one at the stored level (or is
/// closed at market when the exchange refuses it) before any order is
/// looked up; a position the exchange no longer holds has its stop looked
/// up, so its close is booked at that stop's fill.
///
/// # Errors
/// As [`reconcile`].
pub fn reconcile_with<C: IoClock>(
    rest: &mut RestClient<C>,
    view: &CoreView,
    cfg: &ReconcileConfig,
    sink: &mut dyn FnMut(&Correction),
) -> Result<Vec<Correction>, ReconcileFailure> {
    let fail = |error| ReconcileFailure {
        applied: Vec::new(),
        error,
    };
    if !cfg.recovery_prefix.starts_with(&cfg.client_prefix)
        || ClientOrderId::from_sequence(&format!("{}s", cfg.recovery_prefix), u64::from(u32::MAX))
            .is_none()
    {
        return Err(fail(ReconcileError::BadPrefix(cfg.recovery_prefix.clone())));
    }
    let mode = rest
        .position_mode()
        .map_err(|e| fail(ReconcileError::PositionMode(e)))?;
    let rows = rest
        .positions(None)
        .map_err(|e| fail(ReconcileError::Positions(e)))?;
    let mut exchange: Vec<(SymbolId, Side, Qty)> = Vec::new();
    let mut entry_prices: Vec<(SymbolId, Side, Price)> = Vec::new();
    for row in &rows {
        if let Some(id) = rest.symbols().id_of(&row.symbol) {
            if !row.position_amt.is_zero() {
                let side = row_side(&row.position_side, row.position_amt);
                exchange.push((id, side, abs_qty(row.position_amt)));
                entry_prices.push((id, side, row.avg_price));
            }
        }
    }
    let open = rest
        .open_orders(None)
        .map_err(|e| fail(ReconcileError::OpenOrders(e)))?;
    let book = open
        .into_iter()
        .filter_map(|info| {
            let symbol = rest.symbols().id_of(&info.symbol)?;
            Some(BookOrder {
                info,
                symbol,
                claimed: false,
            })
        })
        .collect();
    let mut run = Run {
        rest,
        sink,
        protected: Vec::new(),
        view,
        cfg,
        mode,
        book,
        out: Vec::new(),
        fates: HashMap::new(),
        gone_stops: Vec::new(),
        settled_stops: Vec::new(),
        entry_filled_now: Vec::new(),
        left_alone: Vec::new(),
        entry_prices,
        announced: Vec::new(),
    };
    match run.all(&exchange) {
        Ok(()) => Ok(run.out),
        Err(error) => Err(ReconcileFailure {
            applied: run.out,
            error,
        }),
    }
}

impl<'a, C: IoClock> Run<'a, C> {
    fn push(&mut self, c: Correction) {
        (self.sink)(&c);
        self.out.push(c);
    }

    /// Journals, before the first recovery order for `symbol` is sent,
    /// that this start is sending some ([`Correction::RecoverySending`]):
    /// a start killed before journaling what it placed still leaves the
    /// ids a later start must look up, however many starts come between.
    /// Told to the sink only (it changes nothing in the core).
    fn announce(&mut self, symbol: SymbolId, replaces: Option<OrderId>) {
        if self.announced.contains(&symbol) {
            return;
        }
        self.announced.push(symbol);
        (self.sink)(&Correction::RecoverySending { symbol, replaces });
    }

    fn all(&mut self, exchange: &[(SymbolId, Side, Qty)]) -> Result<(), ReconcileError> {
        let mut pending_cancels = Vec::new();
        let mut done: Vec<OrderId> = Vec::new();
        self.stops_first(exchange, &mut pending_cancels, &mut done)?;
        let view: &'a CoreView = self.view;
        for o in &view.orders {
            if done.contains(&o.order) {
                continue;
            }
            if let Some(id) = self.resolve(o)? {
                pending_cancels.push((o, id));
            }
        }
        self.positions(exchange)?;
        for (order, correction) in std::mem::take(&mut self.gone_stops) {
            if !self.settled_stops.contains(&order) {
                self.push(correction);
            }
        }
        for (o, exchange_order_id) in pending_cancels {
            self.cancel(o.symbol, exchange_order_id)?;
            self.push(Correction::Cancelled {
                order: o.order,
                symbol: o.symbol,
            });
        }
        self.cancel_orphans()
    }

    /// Step 0: the protective stop of every position of the core. A stop
    /// on the book is claimed (no request); a position the exchange holds
    /// without its stop gets one now; a position the exchange no longer
    /// holds has its stop looked up (its fill books the close). Records the
    /// orders resolved here in `done`.
    fn stops_first(
        &mut self,
        exchange: &[(SymbolId, Side, Qty)],
        pending_cancels: &mut Vec<(&'a CoreOrder, u64)>,
        done: &mut Vec<OrderId>,
    ) -> Result<(), ReconcileError> {
        let view: &'a CoreView = self.view;
        // Orders on the book are resolved without a request (so that only
        // stops the core does not know count as a position's twin).
        for o in &view.orders {
            if self.book.iter().any(|b| !b.claimed && self.matches(b, o)) {
                done.push(o.order);
                if let Some(id) = self.resolve(o)? {
                    pending_cancels.push((o, id));
                }
            }
        }
        for pos in view.positions.iter().filter(|p| p.open_qty.is_positive()) {
            let held = exchange
                .iter()
                .find(|(s, d, _)| *s == pos.symbol && *d == pos.side)
                .map_or(Qty::ZERO, |e| e.2);
            if held.is_positive() {
                // Without its stop on the book: one goes on now.
                self.protect(pos, held)?;
                self.protected.push((pos.symbol, pos.side));
                continue;
            }
            // Gone with the position: the stop's fill books the close.
            let stop = pos
                .stop_order
                .and_then(|id| view.orders.iter().find(|o| o.order == id));
            if let Some(o) = stop.filter(|o| !done.contains(&o.order)) {
                done.push(o.order);
                if let Some(id) = self.resolve(o)? {
                    pending_cancels.push((o, id));
                }
            }
        }
        Ok(())
    }

    fn position_side(&self, entry: Side) -> PositionSide {
        match (self.mode, entry) {
            (PositionMode::OneWay, _) => PositionSide::Both,
            (PositionMode::Hedge, Side::Buy) => PositionSide::Long,
            (PositionMode::Hedge, Side::Sell) => PositionSide::Short,
        }
    }

    /// Returns true when open order `x` is core order `o`.
    fn matches(&self, x: &BookOrder, o: &CoreOrder) -> bool {
        if x.symbol != o.symbol {
            return false;
        }
        if o.exchange_order_id == Some(x.info.order_id) {
            return true;
        }
        if !x.info.client_order_id.is_empty() {
            return x.info.client_order_id == o.client_order_id.as_str();
        }
        // Trigger orders may lose their client id on the exchange: match the twin.
        let Some(rules) = self.rest.symbols().get(o.symbol).map(|s| s.rules) else {
            return false;
        };
        o.kind.is_trigger()
            && x.info.kind() == Some(o.kind)
            && x.info.side == Some(o.side)
            && rules.round_price(x.info.stop_price) == rules.round_price(o.stop_price)
            && rules.round_qty(x.info.orig_qty) == rules.round_qty(o.qty)
    }

    /// Step 1 for one core order; returns the exchange id when the core
    /// wants it cancelled and it is still working.
    fn resolve(&mut self, o: &CoreOrder) -> Result<Option<u64>, ReconcileError> {
        let found =
            (0..self.book.len()).find(|&i| !self.book[i].claimed && self.matches(&self.book[i], o));
        if let Some(i) = found {
            self.book[i].claimed = true;
            let id = self.book[i].info.order_id;
            self.fates.insert(o.order, Fate::OnBook);
            if o.exchange_order_id.is_none() {
                self.push(Correction::Adopted {
                    order: o.order,
                    symbol: o.symbol,
                    exchange_order_id: id,
                });
            }
            return Ok(o.cancel_requested.then_some(id));
        }
        let by = o
            .exchange_order_id
            .map_or(OrderRef::Client(o.client_order_id), OrderRef::OrderId);
        let gone = match self.rest.query_order(o.symbol, by) {
            Ok(info) => self.resolved(o, &info),
            Err(e) if is_not_found(&e) => {
                if o.exchange_order_id.is_some() {
                    Correction::Cancelled {
                        order: o.order,
                        symbol: o.symbol,
                    }
                } else {
                    Correction::NotPlaced {
                        order: o.order,
                        symbol: o.symbol,
                    }
                }
            }
            Err(source) => {
                return Err(ReconcileError::Lookup {
                    order: o.order,
                    source,
                })
            }
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.fates.entry(o.order) {
            slot.insert(Fate::Gone);
            if o.role == OrderRole::Stop {
                self.gone_stops.push((o.order, gone));
            } else {
                self.push(gone);
            }
        }
        Ok(None)
    }

    /// Reports a looked-up order; returns the correction to use if it is
    /// gone (the caller pushes it unless a fate was recorded here).
    fn resolved(&mut self, o: &CoreOrder, info: &OrderInfo) -> Correction {
        let cancelled = Correction::Cancelled {
            order: o.order,
            symbol: o.symbol,
        };
        if !info.status.is_final() {
            // Working, though the open-orders list did not show it yet.
            self.fates.insert(o.order, Fate::OnBook);
            if o.exchange_order_id.is_none() {
                self.push(Correction::Adopted {
                    order: o.order,
                    symbol: o.symbol,
                    exchange_order_id: info.order_id,
                });
            }
            return cancelled;
        }
        // Only what the journal has not booked yet (an earlier life's
        // reconciliation may have booked part or all of this order).
        let new_qty = Qty(info.executed_qty.0.saturating_sub(o.booked.qty.0));
        if new_qty.to_f64() >= crate::runtime::route::QTY_EPSILON {
            let price = if o.booked.qty.is_positive() {
                let rest = info.avg_price.to_f64() * info.executed_qty.to_f64()
                    - o.booked.notional.to_f64();
                Price::from_f64(rest / new_qty.to_f64()).unwrap_or(info.avg_price)
            } else {
                info.avg_price
            };
            let fee = (info.commission.to_f64().abs() - o.booked.fee.to_f64()).max(0.0);
            self.push(Correction::Filled {
                order: o.order,
                symbol: o.symbol,
                exchange_order_id: info.order_id,
                qty: new_qty,
                price,
                fee: Money::from_f64(fee),
                unacked: o.exchange_order_id.is_none(),
                at: exchange_time(info.update_time_ms),
            });
            if o.role == OrderRole::Entry {
                self.entry_filled_now.push(o.symbol);
            }
            if info.executed_qty >= o.qty {
                self.fates.insert(o.order, Fate::Filled);
            }
        }
        cancelled
    }

    /// Core quantity per (symbol, side) after the fills found in step 1.
    fn core_quantities(&self) -> Vec<(SymbolId, Side, Qty)> {
        let mut q: Vec<(SymbolId, Side, Qty)> = self
            .view
            .positions
            .iter()
            .map(|p| (p.symbol, p.side, p.open_qty))
            .collect();
        for c in &self.out {
            let Correction::Filled {
                order, symbol, qty, ..
            } = *c
            else {
                continue;
            };
            let Some(o) = self.view.orders.iter().find(|o| o.order == order) else {
                continue;
            };
            let (side, delta) = match o.role {
                OrderRole::Entry => (o.side, qty.0),
                OrderRole::Stop | OrderRole::Exit => (o.side.opposite(), -qty.0),
            };
            match q.iter_mut().find(|(s, d, _)| *s == symbol && *d == side) {
                Some(entry) => entry.2 = Qty(entry.2 .0.saturating_add(delta)),
                None => q.push((symbol, side, Qty(delta))),
            }
        }
        q
    }

    fn positions(&mut self, exchange: &[(SymbolId, Side, Qty)]) -> Result<(), ReconcileError> {
        let core = self.core_quantities();
        let mut keys: Vec<(SymbolId, Side)> = core
            .iter()
            .filter(|(_, _, q)| q.is_positive())
            .map(|(s, d, _)| (*s, *d))
            .chain(exchange.iter().map(|(s, d, _)| (*s, *d)))
            .collect();
        keys.sort_by_key(|(s, d)| (s.0, *d == Side::Sell));
        keys.dedup();
        for (symbol, side) in keys {
            let qty_of = |list: &[(SymbolId, Side, Qty)]| {
                list.iter()
                    .find(|(s, d, _)| *s == symbol && *d == side)
                    .map_or(Qty::ZERO, |e| e.2)
            };
            let (c, e) = (qty_of(&core), qty_of(exchange));
            let pos = self
                .view
                .positions
                .iter()
                .find(|p| p.symbol == symbol && p.side == side)
                .copied();
            match (c.is_positive(), e.is_positive()) {
                (true, false) => self.closed_on_exchange(symbol, side, c, pos)?,
                (false, true) => self.unknown_position(symbol, side, e)?,
                (true, true) => {
                    if c != e {
                        self.push(Correction::PositionMismatch {
                            symbol,
                            side,
                            core_qty: c,
                            exchange_qty: e,
                        });
                    }
                    if let Some(pos) = pos {
                        self.protect(&pos, e)?;
                    }
                }
                (false, false) => {}
            }
        }
        Ok(())
    }

    fn closed_on_exchange(
        &mut self,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
        pos: Option<CorePosition>,
    ) -> Result<(), ReconcileError> {
        let booked_on = pos.and_then(|p| p.stop_order);
        let found = self.recovery_stop_fill(symbol, booked_on);
        let (price, fee, at) = match found {
            Some(fill) => fill,
            None => (self.last_price(symbol)?, Money::ZERO, None),
        };
        if let Some(stop) = booked_on {
            self.settled_stops.push(stop);
        }
        self.push(Correction::PositionClosedOnExchange {
            symbol,
            side,
            qty,
            booked_on,
            price,
            fee,
            at,
        });
        Ok(())
    }

    /// The fill (price, fee, time) of the newest stop an earlier
    /// reconciliation placed for `symbol`'s position that filled: the core
    /// holds no order for it. The journaled ones are looked up by exchange
    /// id; then the ids the last [`EARLIER_SESSIONS`] starts would have
    /// given one (`{prefix}r{k}-s{stop}` and `{prefix}r{k}-p{symbol}`) or
    /// the market close of a position it could not protect
    /// (`{prefix}r{k}-f{symbol}`), because a start killed between placing
    /// such an order and journaling it left no record of it. `None` when none filled or every lookup failed
    /// (the close is then booked at the last price).
    fn recovery_stop_fill(
        &mut self,
        symbol: SymbolId,
        stop: Option<OrderId>,
    ) -> Option<(Price, Money, Option<TimestampNs>)> {
        let view = self.view;
        let mut announced: Vec<ClientOrderId> = Vec::new();
        for &(_, session, replaces) in view.recovery_sends.iter().rev().filter(|r| r.0 == symbol) {
            for id in self.session_recovery_ids(session, symbol, replaces.or(stop)) {
                if !announced.contains(&id) {
                    announced.push(id);
                }
            }
        }
        let journaled = view
            .recovery_stops
            .iter()
            .rev()
            .filter(|(s, _)| *s == symbol)
            .map(|&(_, id)| OrderRef::OrderId(id));
        let guessed: Vec<ClientOrderId> = self
            .earlier_recovery_ids(symbol, stop)
            .into_iter()
            .filter(|id| !announced.contains(id))
            .collect();
        let wanted: Vec<OrderRef> = announced
            .into_iter()
            .map(OrderRef::Client)
            .chain(journaled)
            .chain(guessed.into_iter().map(OrderRef::Client))
            .collect();
        for order in wanted {
            match self.rest.query_order(symbol, order) {
                Ok(info) if info.executed_qty.is_positive() && info.avg_price.is_positive() => {
                    return Some((
                        info.avg_price,
                        Money::from_f64(info.commission.to_f64().abs()),
                        exchange_time(info.update_time_ms),
                    ));
                }
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    log::warn!(
                        "Looking up the recovery stop {order:?} of symbol {}: {e}",
                        symbol.0
                    );
                }
            }
        }
        None
    }

    /// The client ids the stops and closes of `symbol`'s position placed by
    /// the last [`EARLIER_SESSIONS`] starts would carry, newest first (none
    /// when the recovery prefix does not name its session).
    fn earlier_recovery_ids(&self, symbol: SymbolId, stop: Option<OrderId>) -> Vec<ClientOrderId> {
        let session = self
            .cfg
            .recovery_prefix
            .strip_prefix(self.cfg.client_prefix.as_str())
            .and_then(|r| r.strip_prefix('r'))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        let mut out = Vec::new();
        for k in (session.saturating_sub(EARLIER_SESSIONS)..session).rev() {
            if k != 0 {
                out.extend(self.session_recovery_ids(k, symbol, stop));
            }
        }
        out
    }

    /// The client ids start `session` gave the recovery orders of
    /// `symbol`'s position: the stop standing for `stop`
    /// (`{prefix}r{session}-s{stop}`), the stop of a position without one
    /// (`…-p{symbol}`) and the market close (`…-f{symbol}`).
    fn session_recovery_ids(
        &self,
        session: u64,
        symbol: SymbolId,
        stop: Option<OrderId>,
    ) -> Vec<ClientOrderId> {
        let prefix = format!("{}r{session}-", self.cfg.client_prefix);
        let mut out = Vec::with_capacity(3);
        if let Some(stop) = stop {
            out.extend(ClientOrderId::from_sequence(&format!("{prefix}s"), stop.0));
        }
        for tag in ['p', 'f'] {
            out.extend(ClientOrderId::from_sequence(
                &format!("{prefix}{tag}"),
                u64::from(symbol.0),
            ));
        }
        out
    }

    fn last_price(&mut self, symbol: SymbolId) -> Result<Price, ReconcileError> {
        let name = self
            .rest
            .symbols()
            .get(symbol)
            .ok_or(ReconcileError::UnknownSymbol(symbol))?
            .name
            .clone();
        Ok(self.rest.price(&name).map_err(ReconcileError::Price)?.price)
    }

    fn unknown_position(
        &mut self,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
    ) -> Result<(), ReconcileError> {
        match self.cfg.unknown_position {
            UnknownPositionPolicy::Leave => {
                self.left_alone.push((symbol, side));
                self.out
                    .push(Correction::UnknownPositionLeft { symbol, side, qty });
                Ok(())
            }
            UnknownPositionPolicy::Flatten => self.flatten(symbol, side, qty, None),
            UnknownPositionPolicy::Adopt => {
                let price = self
                    .entry_prices
                    .iter()
                    .find(|(s, d, _)| *s == symbol && *d == side)
                    .map(|e| e.2)
                    .filter(|p| p.is_positive());
                let price = match price {
                    Some(p) => p,
                    None => self.last_price(symbol)?,
                };
                self.push(Correction::PositionAdopted {
                    symbol,
                    side,
                    qty,
                    price,
                });
                Ok(())
            }
        }
    }

    fn recovery_id(&self, tag: char, seq: u64) -> Result<ClientOrderId, ReconcileError> {
        ClientOrderId::from_sequence(&format!("{}{tag}", self.cfg.recovery_prefix), seq)
            .ok_or_else(|| ReconcileError::BadPrefix(self.cfg.recovery_prefix.clone()))
    }

    fn request(
        &self,
        symbol: SymbolId,
        entry: Side,
        kind: OrderKind,
        qty: Qty,
        stop_price: Price,
        client_order_id: ClientOrderId,
    ) -> OrderRequest {
        let position_side = self.position_side(entry);
        OrderRequest {
            symbol,
            side: entry.opposite(),
            position_side,
            kind,
            qty,
            price: Price::ZERO,
            stop_price,
            reduce_only: position_side == PositionSide::Both,
            time_in_force: None,
            client_order_id,
        }
    }

    fn flatten(
        &mut self,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
        booked_on: Option<OrderId>,
    ) -> Result<(), ReconcileError> {
        let id = self.recovery_id('f', u64::from(symbol.0))?;
        let req = self.request(symbol, side, OrderKind::Market, qty, Price::ZERO, id);
        self.announce(symbol, booked_on);
        let ack = self
            .rest
            .place_order(&req)
            .map_err(|source| ReconcileError::Place { symbol, source })?;
        if let Some(stop) = booked_on {
            self.settled_stops.push(stop);
        }
        // The close is booked at its fill on the exchange; only when the
        // exchange does not tell it, at the last price.
        let (price, fee, at) = match self
            .rest
            .query_order(symbol, OrderRef::OrderId(ack.order_id))
        {
            Ok(info) if info.executed_qty.is_positive() && info.avg_price.is_positive() => (
                info.avg_price,
                Money::from_f64(info.commission.to_f64().abs()),
                exchange_time(info.update_time_ms),
            ),
            other => {
                log::warn!(
                    "The fill of close {} on symbol {} is unknown ({:?}); booking it at the last price",
                    ack.order_id,
                    symbol.0,
                    other.map(|i| i.status)
                );
                (self.last_price(symbol)?, Money::ZERO, None)
            }
        };
        self.push(Correction::Flattened {
            symbol,
            side,
            qty,
            booked_on,
            client_order_id: id,
            exchange_order_id: ack.order_id,
            price,
            fee,
            at,
        });
        Ok(())
    }

    /// Makes sure the exchange position `qty` of `pos` has a protective stop.
    fn protect(&mut self, pos: &CorePosition, qty: Qty) -> Result<(), ReconcileError> {
        if self.protected.contains(&(pos.symbol, pos.side)) {
            return Ok(());
        }
        let stop_fate = pos.stop_order.and_then(|o| self.fates.get(&o).copied());
        if stop_fate == Some(Fate::OnBook) {
            return Ok(());
        }
        if pos.stop_order.is_none() && self.entry_filled_now.contains(&pos.symbol) {
            // The core places the stop itself when it is fed the entry fill.
            return Ok(());
        }
        let closing = pos.side.opposite();
        let want_ps = self.position_side(pos.side);
        let twin = self.book.iter().position(|b| {
            !b.claimed
                && b.symbol == pos.symbol
                && b.info.kind() == Some(OrderKind::StopMarket)
                && b.info.side == Some(closing)
                && b.info.position_side.is_none_or(|ps| ps == want_ps)
                && b.info.orig_qty >= qty
        });
        if let Some(i) = twin {
            // Already protected by a stop the core does not track: keep it.
            self.book[i].claimed = true;
            return Ok(());
        }
        if !pos.stop.is_positive() {
            return self.flatten(pos.symbol, pos.side, qty, pos.stop_order);
        }
        let last = self.last_price(pos.symbol)?;
        let through = match pos.side {
            Side::Buy => last <= pos.stop,
            Side::Sell => last >= pos.stop,
        };
        if through {
            log::warn!(
                "The market ({}) is through the stop ({}) of the position on symbol {}: closing it at market",
                last.to_f64(),
                pos.stop.to_f64(),
                pos.symbol.0
            );
            return self.flatten(pos.symbol, pos.side, qty, pos.stop_order);
        }
        let seq = pos.stop_order.map_or(u64::from(pos.symbol.0), |o| o.0);
        let tag = if pos.stop_order.is_some() { 's' } else { 'p' };
        let id = self.recovery_id(tag, seq)?;
        let req = self.request(
            pos.symbol,
            pos.side,
            OrderKind::StopMarket,
            qty,
            pos.stop,
            id,
        );
        self.announce(pos.symbol, pos.stop_order);
        match self.rest.place_order(&req) {
            Ok(ack) => {
                if let Some(stop) = pos.stop_order {
                    self.settled_stops.push(stop);
                }
                self.push(Correction::StopPlaced {
                    replaces: pos.stop_order,
                    symbol: pos.symbol,
                    side: closing,
                    qty,
                    stop_price: pos.stop,
                    client_order_id: id,
                    exchange_order_id: ack.order_id,
                });
                Ok(())
            }
            // The market is already through the stop: close instead.
            Err(e) if is_refusal(&e) => {
                log::warn!(
                    "Stop for symbol {} refused ({e}), closing the position at market",
                    pos.symbol.0
                );
                self.flatten(pos.symbol, pos.side, qty, pos.stop_order)
            }
            Err(source) => Err(ReconcileError::Place {
                symbol: pos.symbol,
                source,
            }),
        }
    }

    fn cancel(&mut self, symbol: SymbolId, exchange_order_id: u64) -> Result<(), ReconcileError> {
        match self
            .rest
            .cancel_order(symbol, OrderRef::OrderId(exchange_order_id))
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(ReconcileError::Cancel {
                exchange_order_id,
                source,
            }),
        }
    }

    fn cancel_orphans(&mut self) -> Result<(), ReconcileError> {
        let orphans: Vec<(SymbolId, u64, String)> = self
            .book
            .iter()
            .filter(|b| !b.claimed && b.info.client_order_id.starts_with(&self.cfg.client_prefix))
            .filter(|b| {
                // Keep stops protecting an unknown position that is left alone.
                let protects = b.info.kind() == Some(OrderKind::StopMarket)
                    && self
                        .left_alone
                        .iter()
                        .any(|(s, d)| *s == b.symbol && b.info.side == Some(d.opposite()));
                !protects
            })
            .map(|b| (b.symbol, b.info.order_id, b.info.client_order_id.clone()))
            .collect();
        for (symbol, exchange_order_id, client) in orphans {
            self.cancel(symbol, exchange_order_id)?;
            self.push(Correction::OrphanCancelled {
                symbol,
                exchange_order_id,
                client_order_id: ClientOrderId::try_new(&client).unwrap_or(ClientOrderId::EMPTY),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_rows_give_the_entry_side() {
        let q = |v: f64| Qty::from_f64(v).unwrap();
        assert_eq!(row_side("LONG", q(1.0)), Side::Buy);
        assert_eq!(row_side("SHORT", q(1.0)), Side::Sell);
        assert_eq!(row_side("BOTH", q(-1.0)), Side::Sell);
        assert_eq!(row_side("BOTH", q(1.0)), Side::Buy);
        assert_eq!(abs_qty(q(-2.5)), q(2.5));
    }
}
