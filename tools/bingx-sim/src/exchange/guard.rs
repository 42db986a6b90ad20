//! What a chaos test checks on the exchange side: how long each position
//! was open without a protective stop, and placements that reused a client
//! order id.
//!
//! Consumes the exchange's positions and open orders after every change
//! (request, market trade, timer); produces a [`GuardReport`]. Never changes
//! the exchange state.

use super::super::orders::{Order, OrderKind, PosSide, Side};
use super::Exchange;

/// One stretch of time a position was open without a protective stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoplessInterval {
    /// The position (`LONG`, `SHORT` or `BOTH`).
    pub pos_side: PosSide,
    /// Start, ms since the epoch (the position opened, or its last stop went).
    pub from_ms: i64,
    /// End, ms since the epoch (a stop covered it again or it closed); for
    /// an interval still open, the time of the report.
    pub to_ms: i64,
    /// True when the interval was still open at the time of the report.
    pub open: bool,
}

impl StoplessInterval {
    /// Returns the length in milliseconds.
    #[must_use]
    pub fn len_ms(&self) -> i64 {
        self.to_ms - self.from_ms
    }
}

/// The exchange-side invariants of a run so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardReport {
    /// Every stop-less stretch, oldest first, open ones last.
    pub stopless: Vec<StoplessInterval>,
    /// Client order ids a placement repeated (refused with 101481).
    pub duplicate_client_ids: Vec<String>,
    /// Orders placed (accepted).
    pub orders_placed: u64,
    /// Placements rejected at random by fault injection.
    pub injected_rejects: u64,
    /// What the account's client did so far.
    pub activity: Activity,
}

/// Counts of client activity a chaos test aims its kills at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Accepted orders that open or add to a position (entries).
    pub entries: u64,
    /// Accepted STOP_MARKET placements.
    pub stop_places: u64,
    /// Steps of a stop replacement: a STOP_MARKET placed while another one
    /// protects the same position, or one cancelled while its position is
    /// open.
    pub stop_replace_steps: u64,
    /// Fills that reduced a position without closing it (partial exits).
    pub partials: u64,
    /// Order, open-order and position queries (reconciliation).
    pub queries: u64,
}

impl GuardReport {
    /// Returns the longest stop-less stretch, if any.
    #[must_use]
    pub fn longest(&self) -> Option<StoplessInterval> {
        self.stopless
            .iter()
            .copied()
            .max_by_key(StoplessInterval::len_ms)
    }
}

/// Running state of the watch.
#[derive(Debug, Default)]
pub struct GuardWatch {
    /// Since when each position (long, short, both) has had no stop.
    naked_since: [Option<i64>; 3],
    closed: Vec<StoplessInterval>,
    duplicates: Vec<String>,
    placed: u64,
    rejects: u64,
    activity: Activity,
    /// Position sizes at the last observation (long, short, both).
    last_qty: [i64; 3],
}

const SIDES: [PosSide; 3] = [PosSide::Long, PosSide::Short, PosSide::Both];

impl GuardWatch {
    /// Counts a placement that repeated `client_id`.
    pub fn duplicate(&mut self, client_id: &str) {
        self.duplicates.push(client_id.to_owned());
    }

    /// Counts an order, open-order or position query.
    pub fn query(&mut self) {
        self.activity.queries += 1;
    }

    /// Counts a placement rejected by fault injection.
    pub fn injected_reject(&mut self) {
        self.rejects += 1;
    }
}

impl Exchange {
    /// Returns true when an open STOP_MARKET order closes the whole of the
    /// position on `ps` (whose signed size is `qty` steps).
    fn stop_covers(&self, ps: PosSide, qty: i64) -> bool {
        let closing_side = match ps {
            PosSide::Long => Side::Sell,
            PosSide::Short => Side::Buy,
            PosSide::Both if qty > 0 => Side::Sell,
            PosSide::Both => Side::Buy,
        };
        self.orders.values().any(|o| {
            o.status.is_open()
                && o.kind == OrderKind::StopMarket
                && o.pos_side == ps
                && o.side == closing_side
                && (ps != PosSide::Both || o.reduce_only || o.close_position)
                && (o.close_position || o.qty - o.executed >= qty.abs())
        })
    }

    /// Counts an accepted placement of `o` (not yet among the orders).
    pub(super) fn note_placed(&mut self, o: &Order) {
        self.guard.placed += 1;
        match o.kind {
            OrderKind::StopMarket => {
                self.guard.activity.stop_places += 1;
                let other = self.orders.values().any(|x| {
                    x.id != o.id
                        && x.status.is_open()
                        && x.kind == OrderKind::StopMarket
                        && x.pos_side == o.pos_side
                });
                if other {
                    self.guard.activity.stop_replace_steps += 1;
                }
            }
            OrderKind::Market | OrderKind::Limit if !self.is_reducing(o) => {
                self.guard.activity.entries += 1;
            }
            _ => {}
        }
    }

    /// Counts the cancel of order `id` (a replacement step when it is a
    /// stop of an open position).
    pub(super) fn note_cancel(&mut self, id: u64) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        if o.kind == OrderKind::StopMarket && self.account.position(o.pos_side).qty != 0 {
            self.guard.activity.stop_replace_steps += 1;
        }
    }

    /// Updates the stop-less watch after a change at `now_ms`.
    pub fn observe_guard(&mut self, now_ms: i64) {
        for (k, ps) in SIDES.into_iter().enumerate() {
            let qty = self.account.position(ps).qty;
            let before = std::mem::replace(&mut self.guard.last_qty[k], qty);
            if qty != 0 && qty.abs() < before.abs() && qty.signum() == before.signum() {
                self.guard.activity.partials += 1;
            }
            let naked = qty != 0 && !self.stop_covers(ps, qty);
            match (naked, self.guard.naked_since[k]) {
                (true, None) => self.guard.naked_since[k] = Some(now_ms),
                (false, Some(from_ms)) => {
                    self.guard.naked_since[k] = None;
                    self.guard.closed.push(StoplessInterval {
                        pos_side: ps,
                        from_ms,
                        to_ms: now_ms,
                        open: false,
                    });
                }
                _ => {}
            }
        }
    }

    /// Returns the counts of client activity so far.
    #[must_use]
    pub fn activity(&self) -> Activity {
        self.guard.activity
    }

    /// Returns the watch's report at `now_ms` (stretches still open end now).
    #[must_use]
    pub fn guard_report(&self, now_ms: i64) -> GuardReport {
        let mut stopless = self.guard.closed.clone();
        for (k, ps) in SIDES.into_iter().enumerate() {
            if let Some(from_ms) = self.guard.naked_since[k] {
                stopless.push(StoplessInterval {
                    pos_side: ps,
                    from_ms,
                    to_ms: now_ms.max(from_ms),
                    open: true,
                });
            }
        }
        GuardReport {
            stopless,
            duplicate_client_ids: self.guard.duplicates.clone(),
            orders_placed: self.guard.placed,
            injected_rejects: self.guard.rejects,
            activity: self.guard.activity,
        }
    }
}

/// The account as the exchange holds it (for end-of-run comparisons,
/// without going through REST and its fault injection).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    /// Wallet balance, USDT (deposits + realised PnL − fees).
    pub wallet: f64,
    /// Open positions: side and signed quantity (negative = short).
    pub positions: Vec<(PosSide, f64)>,
    /// Open orders: client order id and type (`STOP_MARKET`, ...).
    pub open_orders: Vec<(String, &'static str)>,
    /// Every order with a fill, in placement order.
    pub filled: Vec<FilledOrder>,
}

/// An order that (partly) filled, as the account booked it.
#[derive(Debug, Clone, PartialEq)]
pub struct FilledOrder {
    /// Client order id ("" when none).
    pub client_id: String,
    /// Type (`MARKET`, `STOP_MARKET`, ...).
    pub kind: &'static str,
    /// Order side (`BUY`/`SELL`).
    pub side: &'static str,
    /// Filled quantity.
    pub qty: f64,
    /// Average fill price.
    pub price: f64,
    /// Fees paid.
    pub fee: f64,
    /// Realised PnL of its fills.
    pub profit: f64,
    /// Last change, ms.
    pub update_ms: i64,
}

impl Exchange {
    /// Returns the account view (see [`AccountView`]).
    #[must_use]
    pub fn account_view(&self) -> AccountView {
        let step = 10f64.powi(-i32::try_from(self.market.precision().qty).unwrap_or(0));
        let positions = SIDES
            .into_iter()
            .filter_map(|ps| {
                let q = self.account.position(ps).qty;
                let signed = if ps == PosSide::Short { -q } else { q };
                (q != 0).then_some((ps, signed as f64 * step))
            })
            .collect();
        let open_orders = self
            .orders
            .values()
            .filter(|o| o.status.is_open())
            .map(|o| (o.client_id.clone(), o.kind.as_str()))
            .collect();
        let qty_step = step;
        let tick = 10f64.powi(-i32::try_from(self.market.precision().price).unwrap_or(0));
        let filled = self
            .orders
            .values()
            .filter(|o| o.executed > 0)
            .map(|o| FilledOrder {
                client_id: o.client_id.clone(),
                kind: o.kind.as_str(),
                side: o.side.as_str(),
                qty: o.executed as f64 * qty_step,
                price: o.avg_price as f64 * tick,
                fee: o.fee,
                profit: o.profit,
                update_ms: o.update_ms,
            })
            .collect();
        AccountView {
            wallet: self.account.wallet,
            positions,
            open_orders,
            filled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_length_is_its_end_minus_its_start() {
        let i = StoplessInterval {
            pos_side: PosSide::Long,
            from_ms: 1_000,
            to_ms: 1_250,
            open: false,
        };
        assert_eq!(i.len_ms(), 250);
        let r = GuardReport {
            stopless: vec![i, StoplessInterval { to_ms: 1_100, ..i }],
            ..GuardReport::default()
        };
        assert_eq!(r.longest(), Some(i));
    }
}
