//! The engine's live-mode routing: order and cancel commands to the I/O
//! thread (through the stop coalescer), and the I/O thread's reports (REST
//! results, user-stream order updates, balances, stream status) back into
//! core events.
//!
//! Consumes [`IoReport`]s; produces [`IoCommand`]s, core events and
//! journal records. Never blocks, allocates or logs (notes go to the
//! service thread).

use crate::clock::Clock;
use crate::core::Event;
use crate::io::bridge::IoReport;
use crate::io::order::{IoCommand, OrderRef};
use crate::journal_schema::{
    self as js, ExchangeError, ExchangeErrorKind, JournalRecord, StreamKind, StreamState,
};
use crate::metrics::round_trip::RoundTripKind;
use crate::money::Money;
use crate::orders::OrderId;
use crate::types::{SymbolId, TimestampNs};

use super::super::msg::{FromHot, HotLog};
use super::super::route::{self, ResultEffect};
use super::super::stops::StopOut;
use super::{Engine, Venue};

/// A command in flight to the I/O thread, awaiting its REST result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InFlight {
    /// The engine order of a placement; `None` for a cancel or a
    /// placement the engine's core did not decide (a correction).
    pub(super) order: Option<OrderId>,
    /// What the command is for (the round-trip histogram's label).
    pub(super) kind: RoundTripKind,
    /// Monotonic reading taken right after the command entered the queue.
    pub(super) sent_mono: u64,
}

impl<C: Clock> Engine<C> {
    /// Queues a placement for the I/O thread and journals it; a full queue
    /// refuses the order to the core. Returns the monotonic reading taken
    /// right after the command entered the queue (`None` when it did not).
    pub(super) fn send_live_place(
        &mut self,
        o: &crate::orders::OrderIntent,
        ts: TimestampNs,
    ) -> Option<u64> {
        let Venue::Live { io, hedge } = &mut self.venue else {
            return None;
        };
        let Some(cid) = route::client_id(self.orders.prefix(), o.id) else {
            self.events.push_back(Event::Rejected { order: o.id, ts });
            return None;
        };
        let req = route::request(o, cid, *hedge);
        self.orders.sent(o);
        let queued = io.send(IoCommand::Place(req)).is_ok();
        let queued_mono = queued.then(|| self.clock.mono_ns());
        if let Some(sent_mono) = queued_mono {
            self.inflight.push_back(InFlight {
                order: Some(o.id),
                kind: RoundTripKind::of_purpose(o.purpose),
                sent_mono,
            });
        }
        self.journal(
            ts,
            &JournalRecord::OrderSent {
                order: o.id,
                client_id: cid,
                symbol: o.symbol,
                side: o.side,
                ts,
            },
        );
        if !queued {
            self.log(HotLog::QueueFull(o.id));
            if let Some(e) = self.orders.refuse(o.id, ts) {
                self.exchange_event(e, ts);
            }
        }
        queued_mono
    }

    pub(super) fn send_live_cancel(&mut self, order: OrderId, symbol: SymbolId) {
        let Venue::Live { io, .. } = &mut self.venue else {
            return;
        };
        let Some(cid) = self.orders.wire_id(order) else {
            return;
        };
        let cmd = IoCommand::Cancel {
            symbol,
            order: OrderRef::Client(cid),
        };
        if io.send(cmd).is_ok() {
            let sent_mono = self.clock.mono_ns();
            self.inflight.push_back(InFlight {
                order: None,
                kind: RoundTripKind::Cancel,
                sent_mono,
            });
        } else {
            self.log(HotLog::QueueFull(order));
        }
    }

    pub(super) fn apply_stop_out(&mut self, out: StopOut, ts: TimestampNs) {
        if let Some(e) = out.to_core {
            self.events.push_back(e);
        }
        if let Some((order, symbol, how)) = out.settled {
            self.journal(
                ts,
                &JournalRecord::StopSettled {
                    order,
                    symbol,
                    how,
                    ts,
                },
            );
        }
        // A cancel and a placement together only when an acknowledged
        // stop protects meanwhile: the cancel goes first, so the exchange
        // never holds more than the old and the new stop.
        for id in out.cancel.into_iter().flatten() {
            let symbol = self.stops.symbol_of(id).unwrap_or(self.symbol0);
            self.send_live_cancel(id, symbol);
        }
        if let Some(next) = out.place {
            self.send_live_place(&next, ts);
        }
        if let Some(id) = out.query {
            let symbol = self.stops.symbol_of(id).unwrap_or(self.symbol0);
            self.send_live_query(id, symbol);
        }
    }

    /// Asks the I/O thread to look `order` up; its answer comes back as
    /// the order update the user stream would have carried.
    fn send_live_query(&mut self, order: OrderId, symbol: SymbolId) {
        let Some(cid) = self.orders.wire_id(order) else {
            return;
        };
        let cmd = IoCommand::Query {
            symbol,
            order: OrderRef::Client(cid),
        };
        if !self.send_io(cmd) {
            self.log(HotLog::QueueFull(order));
        }
    }

    /// Sends the cancels of stops the core dropped in the batch just
    /// routed without placing a replacement.
    pub(super) fn end_stop_batch(&mut self) {
        if !matches!(self.venue, Venue::Live { .. }) {
            return;
        }
        for i in 0..self.symbols {
            let symbol = SymbolId(i);
            if let Some(id) = self.stops.end_batch(symbol) {
                self.send_live_cancel(id, symbol);
            }
        }
    }

    /// Handles the REST result of a cancel of `order`: a stop cancel the
    /// exchange did not carry out is sent again (bounded), so a replaced
    /// stop never stays beside its replacement.
    fn on_cancel_result(&mut self, order: OrderId, r: &crate::io::order::OrderResult) {
        use crate::io::error::ExchangeCode;
        use crate::io::order::OrderOutcome;
        if !self.stops.tracks(order) {
            return;
        }
        let ts = self.market_now();
        let finished = match r.outcome {
            OrderOutcome::Accepted(_) | OrderOutcome::CancelledAll { .. } => return,
            OrderOutcome::Rejected { kind, .. } => matches!(
                kind,
                ExchangeCode::OrderNotFound | ExchangeCode::OrderAlreadyFilled
            ),
            OrderOutcome::Invalid(_) | OrderOutcome::Failed | OrderOutcome::Unknown => false,
        };
        let out = self.stops.on_cancel_failed(order, finished);
        self.apply_stop_out(out, ts);
    }

    /// Routes an exchange answer through the stop coalescer into the queue.
    /// A fill that closes what is left of a position carries the core's
    /// exact open quantity (decimal text and grid bits may differ by an ulp).
    pub(super) fn exchange_event(&mut self, e: Event, ts: TimestampNs) {
        let mut out = self.stops.on_exchange(&e);
        if let Some(Event::Fill(f)) = out.to_core.as_mut() {
            if let Some(q) = self
                .core
                .position(f.symbol)
                .and_then(|p| route::same_qty(f.qty, p.open_qty))
            {
                f.qty = q;
            }
        }
        self.apply_stop_out(out, ts);
    }

    pub(super) fn cancel(&mut self, order: OrderId, symbol: SymbolId, ts: TimestampNs) {
        self.counters.cancels += 1;
        match &mut self.venue {
            Venue::Live { .. } => {
                if self.stops.tracks(order) {
                    let out = self.stops.on_cancel(order);
                    self.apply_stop_out(out, ts);
                    if !out.send_original {
                        return;
                    }
                }
                self.send_live_cancel(order, symbol);
            }
            Venue::Paper(sim) => {
                let events = &mut self.events;
                sim.cancel(order, &mut |e| events.push_back(e));
            }
            Venue::DryRun => self.events.push_back(Event::Cancelled { order, ts }),
        }
    }

    /// Drains the I/O thread's reports into the core; returns how many.
    pub fn poll_io(&mut self) -> usize {
        let mut n = 0;
        loop {
            let Venue::Live { io, .. } = &mut self.venue else {
                return n;
            };
            let Some(report) = io.poll() else {
                if !self.io_gone && io.io_thread_gone() {
                    self.io_gone = true;
                    self.log(HotLog::IoGone);
                }
                return n;
            };
            n += 1;
            let ts = self.market_now();
            match report {
                IoReport::Cancel(r) => {
                    self.settle_inflight(None, RoundTripKind::Cancel);
                    if let Some(order) = self.orders.order_of_client(&r.client_order_id) {
                        self.on_cancel_result(order, &r);
                    }
                }
                IoReport::Sync(item) => self.on_sync(item, ts),
                IoReport::Order(r) => {
                    let kind = route::engine_order(self.orders.prefix(), &r.client_order_id);
                    self.settle_inflight(kind, RoundTripKind::Correction);
                    if kind.is_none() {
                        continue;
                    }
                    match self.orders.on_place_result(&r, ts) {
                        ResultEffect::None => {
                            if let (Some(order), crate::io::order::OrderOutcome::Unknown) =
                                (kind, r.outcome)
                            {
                                self.log(HotLog::OrderUnknown(order));
                            }
                        }
                        ResultEffect::Acked { event, exchange_id } => {
                            if let Event::Ack { order, .. } = event {
                                self.journal(
                                    ts,
                                    &JournalRecord::OrderAcked {
                                        order,
                                        exchange_id,
                                        ts,
                                    },
                                );
                            }
                            self.exchange_event(event, ts);
                            self.drain_events();
                        }
                        ResultEffect::Rejected { event, code } => {
                            if let Event::Rejected { order, .. } = event {
                                self.journal(
                                    ts,
                                    &JournalRecord::ExchangeError(ExchangeError {
                                        order,
                                        kind: if code == 0 {
                                            ExchangeErrorKind::Transport
                                        } else {
                                            ExchangeErrorKind::Api
                                        },
                                        code,
                                        http_status: 0,
                                        ts,
                                    }),
                                );
                                self.log(HotLog::OrderRejected { order, code });
                                if crate::io::error::ExchangeCode::from_code(code)
                                    == crate::io::error::ExchangeCode::NoPositionToClose
                                {
                                    // The exchange holds no position the
                                    // core thinks open: a fill was missed.
                                    // A pass now finds and books it.
                                    self.send_io(IoCommand::Sync);
                                }
                            }
                            self.exchange_event(event, ts);
                            self.drain_events();
                        }
                    }
                }
                IoReport::User(crate::io::ws::UserEvent::Order(u)) => {
                    let mut got = [None; 4];
                    let mut k = 0;
                    self.orders.on_update(&u, ts, &mut |e| {
                        if let Some(slot) = got.get_mut(k) {
                            *slot = Some(e);
                            k += 1;
                        }
                    });
                    for e in got.into_iter().flatten() {
                        self.exchange_event(e, ts);
                    }
                    self.drain_events();
                }
                IoReport::User(crate::io::ws::UserEvent::Balance(b)) => {
                    let rec = JournalRecord::Balance {
                        balance: Money::from_f64(b.wallet.to_f64()),
                        available: Money::from_f64(b.cross_wallet.to_f64()),
                        ts,
                    };
                    self.journal(ts, &rec);
                }
                IoReport::User(_) => {}
                IoReport::Stream(s) => {
                    if s == crate::io::bridge::StreamStatus::Connected {
                        self.user_ready = true;
                    }
                    self.journal_stream(StreamKind::User, s, ts);
                    self.log(HotLog::UserStream(s));
                }
            }
        }
    }

    /// Removes the in-flight entry a result answers (a placement of
    /// `order`, or for `None` a command of `other` kind, else any command
    /// without an engine order) and sends its round trip to the service
    /// thread.
    fn settle_inflight(&mut self, order: Option<OrderId>, other: RoundTripKind) {
        let at = self
            .inflight
            .iter()
            .position(|x| x.order == order && (order.is_some() || x.kind == other))
            .or_else(|| self.inflight.iter().position(|x| x.order.is_none()));
        if let Some(x) = at.and_then(|k| self.inflight.remove(k)) {
            let ns = self.clock.mono_ns().saturating_sub(x.sent_mono);
            // A full queue to the service thread drops the sample (the
            // status and log notes share that queue and matter more).
            let _ = self.out.push(FromHot::RoundTrip { kind: x.kind, ns });
        }
    }

    fn journal_stream(
        &mut self,
        kind: StreamKind,
        s: crate::io::bridge::StreamStatus,
        ts: TimestampNs,
    ) {
        use crate::io::bridge::StreamStatus as S;
        let (state, from, to) = match s {
            S::Connected => (StreamState::Connected, ts, ts),
            S::Disconnected(_) => (StreamState::Disconnected, ts, ts),
            S::Outage(w) => (StreamState::Outage, w.from, w.to),
            S::ListenKeyRenewed | S::ListenKeyFailed => (StreamState::ListenKeyRenewed, ts, ts),
        };
        let rec = JournalRecord::Stream(js::StreamStatus {
            stream: kind,
            state,
            from,
            to,
            ts,
        });
        self.journal(ts, &rec);
    }
}
