//! The hot thread's half of running reconciliation (live mode): compares
//! a pass of the exchange's positions and open orders ([`SyncItem`]s from
//! the I/O thread) with the core and the order table, and corrects.
//!
//! - A working order of ours missing from the book is looked up
//!   ([`IoCommand::Query`]); the I/O thread reports what it finds as the
//!   user-stream update that was missed, so a fill or cancel during a
//!   stream gap reaches the core as the journaled input it would have been
//!   (a vanished protective stop is then placed again by the core). A
//!   stop put back by a start-up reconciliation is looked up under the
//!   recovery id it carries; one placed for a position without a stop
//!   order of the core (`…p{symbol}`) is looked up too, and its fill is
//!   booked as an `exchange_close` at its price and fee.
//! - A pass runs when the user stream connects (the first time too: the
//!   start-up reconciliation read the exchange before the stream was up)
//!   and at once when a close is refused with 101205 (no position).
//! - A position mismatch seen in two passes in a row, with nothing left to
//!   look up and nothing in flight, is corrected: a position the exchange
//!   no longer has is booked closed on the core's stop (journaled
//!   correction plus the fill it implies); an exchange position unknown to
//!   the core is left or closed (`reconcile.unknown_position`).
//! - During a shutdown, the loop ends clean only once a pass agrees.
//!
//! Consumes [`SyncItem`]s; produces I/O commands, journal records and core
//! events. Never allocates (per-symbol tables are reserved at start-up),
//! never blocks, never logs (notes go to the service thread).

use crate::clock::Clock;
use crate::config::UnknownPosition;
use crate::io::order::{
    ClientOrderId, IoCommand, OrderKind as WireKind, OrderRef, OrderRequest, PositionSide,
};
use crate::io::sync::{SyncCause, SyncItem};
use crate::journal_schema::JournalRecord;
use crate::money::Money;
use crate::types::{Price, Qty, Side, SymbolId, TimestampNs};

use super::super::msg::HotLog;
use super::super::route;
use super::super::startup::reconcile::Correction;
use super::{Engine, Venue};

/// Passes a shutdown waits for agreement before it ends unclean.
const FINAL_PASSES: u32 = 4;

/// One symbol's view in the pass being read and what earlier passes saw.
#[derive(Debug, Clone, Copy, Default)]
struct SymbolSync {
    /// The exchange's position in this pass: side and quantity.
    exchange: Option<(Side, Qty)>,
    /// Its average entry price (what an adopted position is booked at).
    entry: Price,
    /// The mismatch seen in the previous complete pass (the exchange's
    /// signed quantity in bits), to act only on a confirmed one.
    mismatch: Option<i128>,
    /// The mismatch already acted on (not repeated every pass).
    handled: Option<i128>,
}

/// Reconciliation state of the engine (see the module docs).
#[derive(Debug)]
pub(crate) struct SyncState {
    symbols: Vec<SymbolSync>,
    reading: bool,
    /// Prefix of the closes of unknown positions (`{prefix}u`), and the
    /// next sequence (starts at the wall-clock ms of the run: unique
    /// across lives, as the exchange refuses a repeated client order id).
    close_prefix: String,
    close_seq: u64,
    /// What to do with an exchange position the core does not know.
    pub(crate) unknown: UnknownPosition,
    /// A confirming pass was requested and has not ended.
    confirm_pending: bool,
    /// Shutdown: a final pass was requested and has not ended.
    final_pending: bool,
    /// Shutdown: passes run so far and whether the last one agreed.
    final_passes: u32,
    pub(crate) agreed: Option<bool>,
    /// `agreed` was set by a pass not yet looked at.
    fresh: bool,
    /// Complete passes compared.
    pub(crate) passes: u64,
    /// Orders looked up after a pass.
    pub(crate) lookups: u64,
}

impl SyncState {
    /// Returns the state for `symbols` symbols and client prefix `prefix`
    /// (cold: reserves the tables).
    pub(crate) fn new(symbols: u16, prefix: &str, wall_ms: u64) -> Self {
        Self {
            symbols: vec![SymbolSync::default(); usize::from(symbols)],
            reading: false,
            close_prefix: format!("{prefix}u"),
            close_seq: wall_ms,
            unknown: UnknownPosition::Leave,
            confirm_pending: false,
            final_pending: false,
            final_passes: 0,
            agreed: None,
            fresh: false,
            passes: 0,
            lookups: 0,
        }
    }
}

fn signed_bits(side: Side, qty: Qty) -> i128 {
    let q = i128::from(qty.to_bits());
    if side == Side::Buy {
        q
    } else {
        -q
    }
}

impl<C: Clock> Engine<C> {
    /// Sets what reconciliation does with unknown exchange positions.
    pub fn set_unknown_position_policy(&mut self, policy: UnknownPosition) {
        self.sync.unknown = policy;
    }

    /// Returns `(passes compared, orders looked up)` so far.
    #[must_use]
    pub fn sync_counts(&self) -> (u64, u64) {
        (self.sync.passes, self.sync.lookups)
    }

    /// Sends a command that is not an engine order (no result is awaited
    /// by the core); returns false when the queue was full.
    pub(super) fn send_io(&mut self, cmd: IoCommand) -> bool {
        let Venue::Live { io, .. } = &mut self.venue else {
            return false;
        };
        io.send(cmd).is_ok()
    }

    /// Handles one item of a reconciliation pass.
    pub(super) fn on_sync(&mut self, item: SyncItem, ts: TimestampNs) {
        match item {
            SyncItem::Begin { cause } => {
                self.sync.reading = true;
                for s in &mut self.sync.symbols {
                    s.exchange = None;
                }
                self.orders.begin_check();
                if cause == SyncCause::StreamGap {
                    self.log(HotLog::ExchangeSync {
                        lookups: 0,
                        mismatches: 0,
                        gap: true,
                    });
                }
            }
            SyncItem::Position {
                symbol,
                side,
                qty,
                entry_price,
            } => {
                if let Some(s) = self.sync.symbols.get_mut(usize::from(symbol.0)) {
                    s.exchange = Some((side, qty));
                    s.entry = entry_price;
                }
            }
            SyncItem::Order {
                client_order_id,
                exchange_id,
                ..
            } => {
                self.orders.on_book(&client_order_id, exchange_id);
            }
            SyncItem::End { complete } => self.end_sync(complete, ts),
        }
    }

    fn end_sync(&mut self, complete: bool, ts: TimestampNs) {
        self.sync.reading = false;
        let final_pass = std::mem::take(&mut self.sync.final_pending);
        let was_confirm = std::mem::take(&mut self.sync.confirm_pending);
        if !complete {
            // Nothing is compared on a partial read.
            self.orders.missing(&mut |_, _| {});
            return;
        }
        self.sync.passes += 1;
        let mut lookups = 0u32;
        let prefix_ok = {
            let mut wanted = [None; 16];
            let mut overflow = false;
            self.orders.missing(
                &mut |order, symbol| match wanted.iter_mut().find(|w| w.is_none()) {
                    Some(w) => *w = Some((order, symbol)),
                    None => overflow = true,
                },
            );
            for (order, symbol) in wanted.into_iter().flatten() {
                if let Some(cid) = self.orders.wire_id(order) {
                    if self.send_io(IoCommand::Query {
                        symbol,
                        order: OrderRef::Client(cid),
                    }) {
                        lookups += 1;
                    }
                }
            }
            let mut stops = [None; 8];
            self.orders
                .missing_position_stops(&mut |symbol, cid| match stops
                    .iter_mut()
                    .find(|w| w.is_none())
                {
                    Some(w) => *w = Some((symbol, cid)),
                    None => overflow = true,
                });
            for (symbol, cid) in stops.into_iter().flatten() {
                if self.send_io(IoCommand::Query {
                    symbol,
                    order: OrderRef::Client(cid),
                }) {
                    lookups += 1;
                }
            }
            !overflow
        };
        self.sync.lookups += u64::from(lookups);
        // Positions are compared only when every order is accounted for
        // and nothing is in flight: a fill on its way explains a mismatch.
        let settled = lookups == 0 && prefix_ok && self.quiet();
        let mut mismatches = 0u32;
        for i in 0..self.symbols {
            if self.compare_symbol(SymbolId(i), settled, ts) {
                mismatches += 1;
            }
        }
        if lookups > 0 || mismatches > 0 {
            self.log(HotLog::ExchangeSync {
                lookups,
                mismatches,
                gap: false,
            });
        }
        let agreed = lookups == 0 && mismatches == 0 && prefix_ok;
        if final_pass || self.stop.is_some() {
            self.sync.agreed = Some(agreed);
            self.sync.fresh = true;
        }
        // A mismatch to confirm, or lookups whose answers change the
        // picture: read again at once rather than a whole interval later;
        // never more than one such pass in a row (a lookup that keeps
        // failing waits for the timer instead of looping on REST).
        if (mismatches > 0 || lookups > 0) && !was_confirm {
            self.sync.confirm_pending = self.send_io(IoCommand::Sync);
        }
    }

    /// Compares one symbol; returns true when core and exchange disagree.
    fn compare_symbol(&mut self, symbol: SymbolId, settled: bool, ts: TimestampNs) -> bool {
        let i = usize::from(symbol.0);
        let Some(&SymbolSync {
            exchange,
            mismatch,
            handled,
            ..
        }) = self.sync.symbols.get(i)
        else {
            return false;
        };
        let core = self
            .core
            .position(symbol)
            .map(|p| (p.side, p.open_qty, p.stop_order, p.close_order));
        let core_qty = core.map_or(0, |(side, qty, ..)| signed_bits(side, qty));
        let ex_qty = exchange.map_or(0, |(side, qty)| signed_bits(side, qty));
        let same = match (core, exchange) {
            (Some((cs, cq, ..)), Some((es, eq))) => cs == es && route::same_qty(eq, cq).is_some(),
            _ => core_qty == ex_qty,
        };
        let entry_in_flight = core.is_some_and(|(_, q, ..)| q.is_zero());
        let s = &mut self.sync.symbols[i];
        if same || entry_in_flight {
            s.mismatch = None;
            s.handled = None;
            return false;
        }
        if !settled || mismatch != Some(ex_qty) {
            s.mismatch = Some(ex_qty);
            return true;
        }
        if handled == Some(ex_qty) {
            // Reported already (a position left alone): not a new mismatch.
            return false;
        }
        s.handled = Some(ex_qty);
        match (core, exchange) {
            (Some((side, qty, stop, close)), None) => {
                let price = self.core.last_price(symbol).unwrap_or(Price::ZERO);
                let c = Correction::PositionClosedOnExchange {
                    symbol,
                    side,
                    qty,
                    booked_on: stop.or(close),
                    price,
                    fee: Money::ZERO,
                    at: None,
                };
                self.apply_corrections(&[c], ts);
            }
            (None, Some((side, qty))) => self.unknown_position(symbol, side, qty, ts),
            (Some((side, core_qty, ..)), Some((_, exchange_qty))) => {
                let c = Correction::PositionMismatch {
                    symbol,
                    side,
                    core_qty,
                    exchange_qty,
                };
                self.journal(ts, &JournalRecord::Correction(c.to_journal(ts)));
            }
            (None, None) => {}
        }
        true
    }

    /// Journals every running-reconciliation correction and feeds the
    /// events it implies to the core at `ts` through the journaled
    /// dispatch; the core's decisions on them go to the venue.
    fn apply_corrections(&mut self, corrections: &[Correction], ts: TimestampNs) {
        for c in corrections {
            self.journal(ts, &JournalRecord::Correction(c.to_journal(ts)));
            self.orders.apply(c);
            for e in c.core_events(ts).into_iter().flatten() {
                let e = match e {
                    crate::core::Event::Fill(mut f) => {
                        if let Some(q) = self
                            .orders
                            .qty_of(f.order)
                            .and_then(|q| route::same_qty(f.qty, q))
                        {
                            f.qty = q;
                        }
                        if let Some(q) = self
                            .core
                            .position(f.symbol)
                            .and_then(|p| route::same_qty(f.qty, p.open_qty))
                        {
                            f.qty = q;
                        }
                        crate::core::Event::Fill(f)
                    }
                    other => other,
                };
                self.dispatch(e);
            }
        }
    }

    /// An exchange position the core does not know: left alone or closed
    /// by policy, journaled either way.
    fn unknown_position(&mut self, symbol: SymbolId, side: Side, qty: Qty, ts: TimestampNs) {
        let c = match self.sync.unknown {
            UnknownPosition::Adopt => {
                let entry = self
                    .sync
                    .symbols
                    .get(usize::from(symbol.0))
                    .map_or(Price::ZERO, |s| s.entry);
                let price = if entry.is_positive() {
                    entry
                } else {
                    self.core.last_price(symbol).unwrap_or(Price::ZERO)
                };
                if !price.is_positive() {
                    // Nothing to book it at yet: reported, and adopted by a
                    // later pass once a price is known.
                    self.sync.symbols[usize::from(symbol.0)].handled = None;
                    return;
                }
                let c = Correction::PositionAdopted {
                    symbol,
                    side,
                    qty,
                    price,
                };
                self.apply_corrections(&[c], ts);
                return;
            }
            UnknownPosition::Leave => Correction::UnknownPositionLeft { symbol, side, qty },
            UnknownPosition::Close => {
                self.sync.close_seq += 1;
                let Some(cid) =
                    ClientOrderId::from_sequence(&self.sync.close_prefix, self.sync.close_seq)
                else {
                    return;
                };
                let hedge = matches!(self.venue, Venue::Live { hedge: true, .. });
                let req = OrderRequest {
                    symbol,
                    side: side.opposite(),
                    position_side: match (hedge, side) {
                        (false, _) => PositionSide::Both,
                        (true, Side::Buy) => PositionSide::Long,
                        (true, Side::Sell) => PositionSide::Short,
                    },
                    kind: WireKind::Market,
                    qty,
                    price: Price::ZERO,
                    stop_price: Price::ZERO,
                    reduce_only: !hedge,
                    time_in_force: None,
                    client_order_id: cid,
                };
                if self.send_io(IoCommand::Place(req)) {
                    let sent_mono = crate::clock::Clock::mono_ns(&self.clock);
                    self.inflight.push_back(super::live::InFlight {
                        order: None,
                        kind: crate::metrics::round_trip::RoundTripKind::Correction,
                        sent_mono,
                    });
                }
                Correction::Flattened {
                    symbol,
                    side,
                    qty,
                    booked_on: None,
                    client_order_id: cid,
                    exchange_order_id: 0,
                    price: Price::ZERO,
                    fee: Money::ZERO,
                    at: None,
                }
            }
        };
        self.journal(ts, &JournalRecord::Correction(c.to_journal(ts)));
    }

    /// Returns the outcome of the shutdown's reconciliation: `None` when
    /// not live or no pass ended.
    pub(crate) fn final_agreement(&self) -> Option<bool> {
        matches!(self.venue, Venue::Live { .. })
            .then_some(self.sync.agreed)
            .flatten()
    }

    /// Shutdown (live): returns `Some(true)` once a reconciliation pass
    /// finds engine and exchange in agreement, `Some(false)` when
    /// [`FINAL_PASSES`] passes did not; `None` while a pass is pending
    /// (one is requested when none is). Other venues agree at once.
    pub(crate) fn exchange_agreement(&mut self) -> Option<bool> {
        if !matches!(self.venue, Venue::Live { .. }) {
            return Some(true);
        }
        if self.sync.final_pending || self.sync.reading {
            return None;
        }
        if std::mem::take(&mut self.sync.fresh) {
            let a = self.sync.agreed.unwrap_or(false);
            if a || self.sync.final_passes >= FINAL_PASSES {
                return Some(a);
            }
        }
        if self.sync.final_passes >= FINAL_PASSES {
            return Some(false);
        }
        self.sync.final_passes += 1;
        self.sync.final_pending = self.send_io(IoCommand::Sync);
        if self.sync.final_pending {
            None
        } else {
            Some(false)
        }
    }
}
