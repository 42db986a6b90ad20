//! Order management of the core's positions: fills, protective stop and
//! take-profit orders, break-even, trailing, flatten and the close of a
//! trade. Part of [`Core`]; never allocates.

use super::engine::Core;
use super::slot::{Slot, RETIRED_ORDERS};
use super::{Action, AdoptPosition, ExchangeClose, LogEvent, Record, StopMove};
use crate::money::Money;
use crate::orders::{ExitReason, Fill, OrderId, OrderIntent, OrderKind, OrderPurpose, PositionId};
use crate::positions::{Position, PositionState};
use crate::strategy::StrategyId;
use crate::types::{SymbolId, TimestampNs, NS_PER_SEC};

impl Core {
    /// Finds the symbol index and slot of a live order.
    pub(super) fn find_order(&self, order: OrderId) -> Option<(usize, Slot)> {
        for (i, s) in self.symbols.iter().enumerate() {
            let Some(p) = &s.position else { continue };
            if p.entry_order == Some(order) {
                return Some((i, Slot::Entry));
            }
            if p.stop_order == Some(order) {
                return Some((i, Slot::Stop));
            }
            if p.close_order == Some(order) {
                return Some((i, Slot::Close));
            }
            if let Some(k) = p.tp_orders.iter().position(|o| *o == Some(order)) {
                return Some((i, Slot::Tp(k)));
            }
        }
        None
    }

    /// Remembers `order` (slot `slot` of position `position`) as retired:
    /// its cancel was requested, but its late events are still the core's.
    fn retire(&mut self, i: usize, order: OrderId, slot: Slot, position: PositionId) {
        let s = &mut self.symbols[i];
        s.retired[s.retired_next] = Some((order, slot, position));
        s.retired_next = (s.retired_next + 1) % RETIRED_ORDERS;
    }

    /// Finds a retired order: symbol index, ring index, slot and position.
    fn find_retired(&self, order: OrderId) -> Option<(usize, usize, Slot, PositionId)> {
        self.symbols.iter().enumerate().find_map(|(i, s)| {
            s.retired.iter().enumerate().find_map(|(k, r)| match *r {
                Some((o, slot, pos)) if o == order => Some((i, k, slot, pos)),
                _ => None,
            })
        })
    }

    /// Returns true when `order` is an order of an open position or one of
    /// the last retired ones: its events are the core's.
    #[must_use]
    pub fn knows_order(&self, order: OrderId) -> bool {
        self.find_order(order).is_some() || self.find_retired(order).is_some()
    }

    /// An order was acknowledged: a stop's ack is fine, a retired order's
    /// late ack is expected; anything else is unknown.
    pub(super) fn on_ack(&mut self, order: OrderId) {
        if self.find_order(order).is_none() && self.find_retired(order).is_none() {
            self.push(Action::Log(LogEvent::UnknownOrder(order)));
        }
    }

    /// Folds a new price extreme into the open position: best price and trailing.
    pub(super) fn on_price(&mut self, i: usize, extreme: f64, ts: TimestampNs) {
        let s = &mut self.symbols[i];
        let rules = s.rules;
        let Some(p) = &mut s.position else { return };
        if p.state != PositionState::Open {
            return;
        }
        let old = p.stop;
        if let Some(new) = p.trail(extreme, &self.mgmt, &rules) {
            let position = p.id;
            self.record(Record::StopMoved {
                position,
                from: old,
                to: new,
                why: StopMove::Trailing,
                ts,
            });
            self.symbols[i].stop_failures = 0;
            self.replace_stop(i, ts);
        }
    }

    pub(super) fn on_fill(&mut self, f: &Fill) {
        let Some((i, slot)) = self.find_order(f.order) else {
            self.on_retired_fill(f);
            return;
        };
        if slot == Slot::Entry {
            self.on_entry_fill(i, f);
        } else {
            self.on_exit_fill(i, slot, f, false);
        }
        self.check_equity(f.ts);
    }

    /// A fill of an order the core no longer holds: a retired exit order
    /// of the open position (a stop filling while it was being replaced or
    /// cancelled) reduces the position like its live twin would; one of a
    /// closed position is logged as a late fill; anything else is unknown.
    fn on_retired_fill(&mut self, f: &Fill) {
        let Some((i, _, slot, position)) = self.find_retired(f.order) else {
            self.push(Action::Log(LogEvent::UnknownOrder(f.order)));
            return;
        };
        let live = self.symbols[i]
            .position
            .is_some_and(|p| p.id == position && !p.open_qty.is_zero());
        if !live || slot == Slot::Entry {
            self.push(Action::Log(LogEvent::LateFill(f.order)));
            return;
        }
        self.on_exit_fill(i, slot, f, true);
        self.check_equity(f.ts);
    }

    fn on_entry_fill(&mut self, i: usize, f: &Fill) {
        let s = &mut self.symbols[i];
        let rules = s.rules;
        let Some(p) = &mut s.position else { return };
        let was = p.state;
        let change = p.on_entry_fill(f.qty, f.price, f.fee, f.slippage, f.ts, &rules);
        if p.entry_qty >= p.requested_qty {
            p.entry_order = None;
        }
        let (id, symbol, state) = (p.id, p.symbol, p.state);
        self.cash += change;
        if was == PositionState::Pending {
            self.record(Record::Transition {
                position: id,
                symbol,
                from: Some(PositionState::Pending),
                to: PositionState::Open,
                ts: f.ts,
            });
        }
        if state == PositionState::Closing {
            // A fill after a flatten request: close it too.
            let reason = self.closing_reason(i);
            self.send_close(i, reason, f.ts);
        } else {
            self.place_protection(i, f.ts);
        }
    }

    fn closing_reason(&self, i: usize) -> ExitReason {
        self.symbols[i]
            .position
            .map_or(ExitReason::Emergency, |p| p.last_exit)
    }

    /// The exchange closed (part of) the position of `c.symbol` with no
    /// order of the core to book it on: books the exit (reason
    /// `reconciled`), closes the trade when flat, and otherwise protects
    /// what is left with a stop for the smaller quantity.
    pub(super) fn on_exchange_close(&mut self, c: &ExchangeClose) {
        let Some(i) = self.symbol_index(c.symbol) else {
            return;
        };
        let s = &mut self.symbols[i];
        let rules = s.rules;
        let Some(p) = &mut s.position else { return };
        if p.side != c.side || p.open_qty.is_zero() || !c.qty.is_positive() {
            return;
        }
        let qty = if c.qty > p.open_qty {
            p.open_qty
        } else {
            c.qty
        };
        let price = if c.price.is_positive() {
            c.price
        } else {
            s.last_price.unwrap_or(p.stop)
        };
        let reason = ExitReason::Reconciled;
        let leg = p.on_exit_fill(qty, price, c.fee, Money::ZERO, reason, c.ts, &rules);
        let id = p.id;
        let flat = p.open_qty.is_zero();
        self.cash += leg;
        self.record(Record::Exit {
            position: id,
            reason,
            qty,
            price,
            pnl: leg,
            ts: c.ts,
        });
        if flat {
            self.close_position(i, c.ts);
        } else {
            self.symbols[i].stop_failures = 0;
            self.replace_stop(i, c.ts);
        }
        self.check_equity(c.ts);
    }

    /// Takes over an exchange position the core does not know: books it
    /// as a position of strategy [`StrategyId::ADOPTED`] filled at the
    /// exchange's entry price (no fee: the exchange charged it before),
    /// with a stop `adopt_stop_pct` away and a target `adopt_target_r`
    /// stop distances away; the entry fill places the stop and
    /// take-profits like any other. A symbol that already has a position
    /// is left alone (reconciliation reports that mismatch instead).
    pub(super) fn on_adopt(&mut self, a: &AdoptPosition) {
        let Some(i) = self.symbol_index(a.symbol) else {
            return;
        };
        if self.symbols[i].position.is_some() || !a.qty.is_positive() || !a.price.is_positive() {
            return;
        }
        let (stop_pct, target_r) = self.adopt;
        let r = a.price.to_f64() * stop_pct / 100.0;
        let order = self.new_order_id();
        let id = PositionId(self.next_position);
        self.next_position += 1;
        self.symbols[i].position = Some(Position::pending(
            id,
            a.symbol,
            StrategyId::ADOPTED,
            a.side,
            a.qty,
            r,
            r * target_r,
            order,
            a.ts,
        ));
        let s = &mut self.symbols[i];
        s.stop_failures = 0;
        s.close_failures = 0;
        s.close_retry_at = None;
        self.record(Record::Transition {
            position: id,
            symbol: a.symbol,
            from: None,
            to: PositionState::Pending,
            ts: a.ts,
        });
        self.on_fill(&Fill {
            order,
            symbol: a.symbol,
            qty: a.qty,
            price: a.price,
            fee: Money::ZERO,
            slippage: Money::ZERO,
            ts: a.ts,
        });
    }

    /// Books an exit fill of `slot`; a `retired` order's fill leaves the
    /// position's live order slots alone (they hold its successors).
    fn on_exit_fill(&mut self, i: usize, slot: Slot, f: &Fill, retired: bool) {
        let s = &mut self.symbols[i];
        let rules = s.rules;
        let Some(p) = &mut s.position else { return };
        let reason = match slot {
            Slot::Stop => p.stop_reason(),
            Slot::Tp(2) => ExitReason::Target,
            Slot::Tp(_) => ExitReason::Partial,
            Slot::Close | Slot::Entry => p.last_exit,
        };
        // A retired order may fill more than what is left (its successor
        // filled too): the core books at most its open quantity.
        let qty = if f.qty > p.open_qty {
            p.open_qty
        } else {
            f.qty
        };
        let leg = p.on_exit_fill(qty, f.price, f.fee, f.slippage, reason, f.ts, &rules);
        let id = p.id;
        let flat = p.open_qty.is_zero();
        match slot {
            _ if retired => {}
            Slot::Tp(0) => {
                p.partial1_done = true;
                p.tp_orders[0] = None;
            }
            Slot::Tp(1) => {
                p.partial2_done = true;
                p.tp_orders[1] = None;
            }
            Slot::Tp(_) => p.tp_orders[2] = None,
            Slot::Stop => {
                if flat {
                    p.stop_order = None;
                }
            }
            Slot::Close => {
                if flat {
                    p.close_order = None;
                }
            }
            Slot::Entry => {}
        }
        self.cash += leg;
        self.record(Record::Exit {
            position: id,
            reason,
            qty,
            price: f.price,
            pnl: leg,
            ts: f.ts,
        });
        if flat {
            self.close_position(i, f.ts);
            return;
        }
        if slot == Slot::Tp(0) && self.mgmt.breakeven_on_partial1 {
            let s = &mut self.symbols[i];
            let rules = s.rules;
            if let Some(p) = &mut s.position {
                let old = p.stop;
                if let Some(new) = p.breakeven(&self.mgmt, self.fee_rate, &rules) {
                    self.record(Record::StopMoved {
                        position: id,
                        from: old,
                        to: new,
                        why: StopMove::BreakEven,
                        ts: f.ts,
                    });
                }
            }
        }
        if matches!(slot, Slot::Tp(_)) || (retired && slot != Slot::Close) {
            // The stop now covers a smaller quantity (and maybe a new level).
            self.symbols[i].stop_failures = 0;
            self.replace_stop(i, f.ts);
        }
    }

    /// An order was rejected (`rejected`) or cancelled.
    pub(super) fn on_order_gone(&mut self, order: OrderId, ts: TimestampNs, rejected: bool) {
        let Some((i, slot)) = self.find_order(order) else {
            if let Some((i, k, _, _)) = self.find_retired(order) {
                // The cancel we asked for (or a reject of an order we had
                // given up on): nothing more will come for it.
                self.symbols[i].retired[k] = None;
            } else if rejected {
                self.push(Action::Log(LogEvent::UnknownOrder(order)));
            }
            return;
        };
        let attempts = self.stop_attempts;
        let s = &mut self.symbols[i];
        let failures = &mut s.stop_failures;
        let Some(p) = &mut s.position else {
            return;
        };
        match slot {
            Slot::Entry => {
                p.entry_order = None;
                if p.entry_qty.is_zero() {
                    let (id, symbol, from) = (p.id, p.symbol, p.state);
                    self.symbols[i].position = None;
                    self.record(Record::Transition {
                        position: id,
                        symbol,
                        from: Some(from),
                        to: PositionState::Closed,
                        ts,
                    });
                }
            }
            Slot::Stop => {
                // Refused, or cancelled behind the engine's back (by hand,
                // by the dead-man switch): the position must not stay
                // without a stop. It is placed again, and after
                // `stop_attempts` failures in a row the position is closed.
                p.stop_order = None;
                if p.state == PositionState::Open && !p.open_qty.is_zero() {
                    *failures += 1;
                    if *failures >= attempts {
                        let id = p.id;
                        self.push(Action::Log(LogEvent::StopRejected(id)));
                        self.close_with(i, ExitReason::Emergency, ts);
                    } else {
                        self.replace_stop(i, ts);
                    }
                }
            }
            Slot::Tp(k) => p.tp_orders[k] = None,
            Slot::Close => {
                p.close_order = None;
                if p.state == PositionState::Closing && !p.open_qty.is_zero() {
                    // Refused (or cancelled) close: the position is still
                    // open. It gets its stop back at once and the close is
                    // sent again after a back-off (see `retry_closes`).
                    let (id, unprotected) = (p.id, p.stop_order.is_none());
                    s.close_failures = s.close_failures.saturating_add(1);
                    let shift = s.close_failures.clamp(1, 7) - 1;
                    s.close_retry_at = Some(ts.add_ns(NS_PER_SEC << shift));
                    self.push(Action::Log(LogEvent::CloseRefused(id)));
                    if unprotected {
                        self.replace_stop(i, ts);
                    }
                }
            }
        }
    }

    /// Sends again the market close of every closing position whose close
    /// was refused, once its back-off has passed at `now`.
    pub(super) fn retry_closes(&mut self, now: TimestampNs) {
        for i in 0..self.symbols.len() {
            let s = &mut self.symbols[i];
            let Some(at) = s.close_retry_at else { continue };
            if at > now {
                continue;
            }
            s.close_retry_at = None;
            let due = s.position.is_some_and(|p| {
                p.state == PositionState::Closing
                    && p.close_order.is_none()
                    && !p.open_qty.is_zero()
            });
            if due {
                let reason = self.closing_reason(i);
                self.send_close(i, reason, now);
            }
        }
    }

    /// Cancels the live exit orders and places the stop and the take-profit
    /// legs for the current open quantity.
    fn place_protection(&mut self, i: usize, ts: TimestampNs) {
        self.replace_stop(i, ts);
        let s = &mut self.symbols[i];
        let rules = s.rules;
        let Some(p) = &mut s.position else { return };
        let plan = p.exit_plan(&self.mgmt, &rules);
        let (id, symbol, side) = (p.id, p.symbol, p.side);
        let old = p.tp_orders;
        for (k, o) in old.iter().enumerate() {
            if let Some(o) = *o {
                self.retire(i, o, Slot::Tp(k), id);
                self.push(Action::Cancel { order: o, symbol });
            }
        }
        for (k, leg) in plan.legs.iter().enumerate() {
            let order = leg.map(|_| self.new_order_id());
            if let Some(p) = &mut self.symbols[i].position {
                p.tp_orders[k] = order;
            }
            if let (Some(leg), Some(order)) = (leg, order) {
                self.push(Action::Place(OrderIntent {
                    id: order,
                    position: id,
                    symbol,
                    side: side.opposite(),
                    qty: leg.qty,
                    kind: OrderKind::TakeProfitMarket {
                        trigger: leg.trigger,
                    },
                    reduce_only: true,
                    purpose: leg.purpose,
                    ts,
                }));
            }
        }
    }

    /// Cancels the live stop (if any) and places one at the position's stop
    /// for its open quantity.
    pub(super) fn replace_stop(&mut self, i: usize, ts: TimestampNs) {
        let order = self.new_order_id();
        let Some(p) = &mut self.symbols[i].position else {
            return;
        };
        let old = p.stop_order.replace(order);
        let intent = OrderIntent {
            id: order,
            position: p.id,
            symbol: p.symbol,
            side: p.side.opposite(),
            qty: p.open_qty,
            kind: OrderKind::StopMarket { trigger: p.stop },
            reduce_only: true,
            purpose: OrderPurpose::Stop,
            ts,
        };
        if let Some(o) = old {
            self.retire(i, o, Slot::Stop, intent.position);
            self.push(Action::Cancel {
                order: o,
                symbol: intent.symbol,
            });
        }
        self.push(Action::Place(intent));
    }

    /// Closes every position at market (pending entries are cancelled).
    /// Closes the open position of symbol `i` with reason `liquidation`
    /// when `adverse` (the trade price, or the candle's adverse extreme)
    /// reaches its liquidation price (isolated: its margin; crossed: the
    /// cash backs it). The exchange would have closed it there.
    pub(super) fn check_liquidation(&mut self, i: usize, adverse: f64, ts: TimestampNs) {
        let s = &self.symbols[i];
        let Some(p) = &s.position else { return };
        if p.state != PositionState::Open || p.open_qty.is_zero() {
            return;
        }
        let lp = s.liquidation.price(
            p.side,
            p.open_qty.to_f64(),
            p.entry_price,
            self.cash.to_f64(),
        );
        if lp.is_some_and(|lp| {
            crate::risk::liquidation::LiquidationRule::stop_beyond(p.side, adverse, lp)
        }) {
            self.close_with(i, ExitReason::Liquidation, ts);
        }
    }

    pub(super) fn flatten_all(&mut self, reason: ExitReason, ts: TimestampNs) {
        for i in 0..self.symbols.len() {
            self.close_with(i, reason, ts);
        }
    }

    /// Moves the position of symbol `i` to CLOSING for `reason`.
    fn close_with(&mut self, i: usize, reason: ExitReason, ts: TimestampNs) {
        let Some(p) = &mut self.symbols[i].position else {
            return;
        };
        let from = p.state;
        if from == PositionState::Closing {
            return;
        }
        p.state = PositionState::Closing;
        p.last_exit = reason;
        let (id, symbol) = (p.id, p.symbol);
        self.record(Record::Transition {
            position: id,
            symbol,
            from: Some(from),
            to: PositionState::Closing,
            ts,
        });
        if let Some(Some(order)) = self.symbols[i].position.map(|p| p.entry_order) {
            self.push(Action::Cancel { order, symbol });
        }
        self.send_close(i, reason, ts);
    }

    /// Cancels the stop and take-profits and sends a reduce-only market
    /// order for the open quantity.
    fn send_close(&mut self, i: usize, reason: ExitReason, ts: TimestampNs) {
        self.cancel_exits(i);
        let order = self.new_order_id();
        let Some(p) = &mut self.symbols[i].position else {
            return;
        };
        if p.open_qty.is_zero() {
            return;
        }
        p.close_order = Some(order);
        let intent = OrderIntent {
            id: order,
            position: p.id,
            symbol: p.symbol,
            side: p.side.opposite(),
            qty: p.open_qty,
            kind: OrderKind::Market,
            reduce_only: true,
            purpose: OrderPurpose::Close(reason),
            ts,
        };
        self.push(Action::Place(intent));
    }

    /// Cancels the live stop and take-profit orders.
    fn cancel_exits(&mut self, i: usize) {
        let Some(p) = &mut self.symbols[i].position else {
            return;
        };
        let (symbol, position): (SymbolId, PositionId) = (p.symbol, p.id);
        let mut to_cancel = [None; 4];
        to_cancel[0] = p.stop_order.take().map(|o| (o, Slot::Stop));
        for (k, o) in p.tp_orders.iter_mut().enumerate() {
            to_cancel[k + 1] = o.take().map(|o| (o, Slot::Tp(k)));
        }
        for (order, slot) in to_cancel.into_iter().flatten() {
            self.retire(i, order, slot, position);
            self.push(Action::Cancel { order, symbol });
        }
    }

    /// The position is flat: cancels what is left, records the trade and
    /// feeds its result to risk.
    fn close_position(&mut self, i: usize, ts: TimestampNs) {
        self.cancel_exits(i);
        let Some(p) = self.symbols[i].position.take() else {
            return;
        };
        if let Some(order) = p.entry_order {
            self.retire(i, order, Slot::Entry, p.id);
            self.push(Action::Cancel {
                order,
                symbol: p.symbol,
            });
        }
        if let Some(order) = p.close_order {
            // A close still working when another exit made the position
            // flat: the exchange rejects or cancels it (reduce-only).
            self.retire(i, order, Slot::Close, p.id);
        }
        self.record(Record::Transition {
            position: p.id,
            symbol: p.symbol,
            from: Some(p.state),
            to: PositionState::Closed,
            ts,
        });
        let trade = p.closed_trade();
        self.risk.on_trade_closed(trade.pnl, ts);
        self.record(Record::TradeClosed(trade));
    }
}
