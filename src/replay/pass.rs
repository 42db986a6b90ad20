//! One pass over a journal: the shared engine of [`rebuild`](super::rebuild)
//! and [`replay`](super::replay). Feeds every input record to one core,
//! matches what the core produces against the journaled outputs, and keeps
//! the order bookkeeping crash recovery needs.

use std::collections::{BTreeMap, VecDeque};

use super::{
    InFlight, Mismatch, OrderRoute, PendingCancel, ReplayCounts, ReplayError, SessionChange,
};
use crate::config::Config;
use crate::core::{Action, Core, Event};
use crate::io::order::ClientOrderId;
use crate::journal_schema::{self as schema, tags, CorrectionKind, JournalRecord};
use crate::orders::{OrderId, OrderIntent};
use crate::strategy::StrategyFactory;
use crate::types::{InstrumentRules, TimestampNs, NS_PER_MIN};

/// State of one pass.
#[derive(Debug)]
pub(super) struct Pass {
    pub core: Option<Core>,
    pub config: Option<Config>,
    /// The first session's configuration as journaled: what the core is
    /// built from (a checkpoint builds its core from it too).
    pub build_toml: String,
    pub symbols: String,
    pub rules: Vec<InstrumentRules>,
    /// Actions of the last input not yet matched with an output record.
    pub produced: VecDeque<Action>,
    /// The last input: (seq, event).
    pub last_input: Option<(u64, Event)>,
    /// Encoding scratch for the comparison.
    scratch: Vec<u8>,
    pub orders: BTreeMap<OrderId, OrderRoute>,
    pub in_flight: BTreeMap<OrderId, InFlight>,
    pub pending_cancels: BTreeMap<OrderId, PendingCancel>,
    pub counts: ReplayCounts,
    pub first_mismatch: Option<Mismatch>,
    pub session_changes: Vec<SessionChange>,
    pub torn: Option<journal::TornTail>,
    pub next_seq: u64,
    /// Actions the core produced for the last input of the last life that
    /// the journal lacks.
    pub unjournaled: Vec<Action>,
    /// Builds the strategies instead of the configured ones.
    strategies: Option<StrategyFactory>,
    /// Time of the first session record.
    pub first_session_ts: Option<TimestampNs>,
    /// Market time of the last trade (or the last nanosecond of the last
    /// candle's minute) among the inputs.
    pub last_market_ts: Option<TimestampNs>,
    /// Intents of the orders the core placed that were not rejected or
    /// cancelled (the working ones among them are what a restart tracks).
    pub intents: BTreeMap<OrderId, OrderIntent>,
    /// The last operator record: command and source.
    pub last_operator: Option<(crate::core::Command, schema::OperatorSource)>,
    /// Stops start-up reconciliations placed (for a position whose core
    /// stop was gone, or replacing one): symbol, exchange order id and the
    /// time journaled.
    pub recovery_stops: Vec<super::RecoveryStop>,
    /// Recovery orders announced by start-up reconciliations.
    pub recovery_sends: Vec<super::RecoverySend>,
    /// Fills fed to the core, per engine order id.
    pub booked: BTreeMap<OrderId, crate::orders::Booked>,
    /// The order of the `order_filled` correction just read: when the
    /// input that follows books it as an `exchange_close` (an exit order
    /// the core no longer remembers), that close counts as its fill, so a
    /// later start does not book it again.
    filled_correction: Option<OrderId>,
    /// Sequence number of the checkpoint the pass started from (`None`:
    /// from the journal's first record).
    pub started_at: Option<u64>,
    /// The state at the end of the journal, before the end of the last
    /// life was taken into account: what a checkpoint written after the
    /// journal's last record holds (a pass to the end without a torn tail).
    pub end_state: Option<Vec<u8>>,
}

/// Where a pass starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum From {
    /// At the newest complete checkpoint (a rebuild), else the first record.
    NewestCheckpoint,
    /// At the first record; at the oldest complete checkpoint when
    /// retention removed the first segments (a replay checks every record
    /// it can).
    First,
}

impl Pass {
    pub(super) fn new(strategies: Option<StrategyFactory>) -> Self {
        Self {
            core: None,
            config: None,
            build_toml: String::new(),
            symbols: String::new(),
            rules: Vec::new(),
            produced: VecDeque::with_capacity(crate::core::ACTION_CAPACITY),
            last_input: None,
            scratch: vec![0; 4096],
            orders: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            pending_cancels: BTreeMap::new(),
            counts: ReplayCounts::default(),
            first_mismatch: None,
            session_changes: Vec::new(),
            torn: None,
            next_seq: 0,
            unjournaled: Vec::new(),
            strategies,
            first_session_ts: None,
            last_market_ts: None,
            intents: BTreeMap::new(),
            last_operator: None,
            recovery_stops: Vec::new(),
            recovery_sends: Vec::new(),
            booked: BTreeMap::new(),
            filled_correction: None,
            started_at: None,
            end_state: None,
        }
    }

    /// Feeds the record `seq` (of type `tag`) to the pass.
    pub(super) fn on_record(
        &mut self,
        seq: u64,
        tag: u16,
        payload: &[u8],
    ) -> Result<(), ReplayError> {
        if schema::is_input(tag) {
            return self.on_input(seq, tag, payload);
        }
        if schema::is_output(tag) {
            return self.on_output(seq, tag, payload);
        }
        match tag {
            tags::SESSION => self.on_session(seq, payload),
            tags::RELOAD_CONFIG => self.on_reload_config(seq, payload),
            tags::ORDER_SENT => {
                if let JournalRecord::OrderSent {
                    order,
                    client_id,
                    symbol,
                    side,
                    ..
                } = decode(seq, tag, payload)?
                {
                    let route = self.orders.entry(order).or_insert(OrderRoute {
                        client_id,
                        symbol,
                        side,
                        exchange_id: None,
                    });
                    route.client_id = client_id;
                    if let Some(f) = self.in_flight.get_mut(&order) {
                        f.client_id = Some(client_id);
                    }
                }
                self.counts.system += 1;
                Ok(())
            }
            tags::ORDER_ACKED => {
                if let JournalRecord::OrderAcked {
                    order, exchange_id, ..
                } = decode(seq, tag, payload)?
                {
                    if let Some(route) = self.orders.get_mut(&order) {
                        route.exchange_id = Some(exchange_id);
                    }
                }
                self.counts.system += 1;
                Ok(())
            }
            tags::OPERATOR => {
                if let JournalRecord::Operator {
                    command, source, ..
                } = decode(seq, tag, payload)?
                {
                    self.last_operator = Some((command, source));
                }
                self.counts.system += 1;
                Ok(())
            }
            tags::STOP_SETTLED => {
                if let JournalRecord::StopSettled { order, .. } = decode(seq, tag, payload)? {
                    // Settled by the stop router: neither in flight nor
                    // waiting for its cancel (nothing to reconcile).
                    self.in_flight.remove(&order);
                    self.pending_cancels.remove(&order);
                    self.intents.remove(&order);
                }
                self.counts.system += 1;
                Ok(())
            }
            tags::CORRECTION => {
                if let JournalRecord::Correction(c) = decode(seq, tag, payload)? {
                    self.on_correction(&c);
                }
                self.counts.system += 1;
                Ok(())
            }
            _ => {
                if schema::type_name(tag).is_some() {
                    self.counts.system += 1;
                } else {
                    self.counts.unknown += 1;
                }
                Ok(())
            }
        }
    }

    fn on_session(&mut self, seq: u64, payload: &[u8]) -> Result<(), ReplayError> {
        let JournalRecord::Session(s) = decode(seq, tags::SESSION, payload)? else {
            return Ok(());
        };
        self.counts.sessions += 1;
        let config = Config::from_toml_str(s.config_toml)
            .map_err(|error| ReplayError::SessionConfig { seq, error })?;
        let rules = s.rules().ok_or(ReplayError::SessionRules { seq })?;
        if self.core.is_none() {
            let core = match self.strategies {
                Some(build) => {
                    Core::try_with_strategies(&config, &rules, build(&config.strategies))
                }
                None => Core::try_new(&config, &rules),
            }
            .map_err(|error| ReplayError::Core { seq, error })?;
            self.core = Some(core);
            self.first_session_ts = Some(s.ts);
            self.build_toml = s.config_toml.to_owned();
            self.symbols = s.symbols.to_owned();
            self.rules = rules;
            self.config = Some(config);
            return Ok(());
        }
        if s.symbols != self.symbols {
            return Err(ReplayError::SymbolsChanged {
                seq,
                first: self.symbols.clone(),
                now: s.symbols.to_owned(),
            });
        }
        // A restart: whatever the previous life produced for its last input
        // but never journaled is lost with it.
        self.end_of_life();
        if let Some(core) = self.core.as_mut() {
            core.begin_life();
        }
        let mut change = SessionChange {
            seq,
            rules_changed: rules != self.rules,
            config_changes: Vec::new(),
            refused: None,
        };
        if let (Some(core), Some(running)) = (self.core.as_mut(), self.config.as_mut()) {
            match super::apply_session_config(core, running, &config) {
                Ok(changes) => {
                    change.config_changes = changes.iter().map(ToString::to_string).collect();
                }
                Err(why) => change.refused = Some(why),
            }
        }
        if change.rules_changed || !change.config_changes.is_empty() || change.refused.is_some() {
            self.session_changes.push(change);
        }
        Ok(())
    }

    /// Applies the config of a reload the live engine applied, at the
    /// same point of the inputs.
    fn on_reload_config(&mut self, seq: u64, payload: &[u8]) -> Result<(), ReplayError> {
        self.counts.system += 1;
        let JournalRecord::ReloadConfig { config_toml, .. } =
            decode(seq, tags::RELOAD_CONFIG, payload)?
        else {
            return Ok(());
        };
        // Before any session there is no core (a journal never holds that).
        let Some(core) = self.core.as_mut() else {
            return Ok(());
        };
        let config = Config::from_toml_str_with_cores(config_toml, None)
            .map_err(|error| ReplayError::ReloadConfig { seq, error })?;
        core.reload(&config)
            .map_err(|error| ReplayError::Reload { seq, error })?;
        self.config = Some(config);
        Ok(())
    }

    fn on_input(&mut self, seq: u64, tag: u16, payload: &[u8]) -> Result<(), ReplayError> {
        let JournalRecord::Input(event) = decode(seq, tag, payload)? else {
            return Ok(());
        };
        self.counts.inputs += 1;
        match event {
            Event::Trade(t) => {
                self.counts.market_trades += 1;
                self.last_market_ts = Some(t.exchange_ts);
            }
            Event::Candle(c) => {
                let end = c.open_time.add_ns(NS_PER_MIN - 1);
                if self.last_market_ts.is_none_or(|l| end > l) {
                    self.last_market_ts = Some(end);
                }
            }
            _ => {}
        }
        if let Some(actual) = self.produced.front().copied() {
            // The journal holds fewer outputs than the core produced for
            // the previous input.
            self.mismatch(seq, None, Some(actual));
            self.produced.clear();
        }
        let Some(core) = self.core.as_mut() else {
            return Err(ReplayError::InputBeforeSession { seq });
        };
        let filled_correction = self.filled_correction.take();
        match event {
            Event::Ack { order, .. } => {
                self.in_flight.remove(&order);
            }
            Event::ExchangeClose(c) => {
                if let Some(order) = filled_correction {
                    self.in_flight.remove(&order);
                    self.pending_cancels.remove(&order);
                    self.booked
                        .entry(order)
                        .or_default()
                        .add(c.qty, c.price, c.fee);
                }
            }
            Event::Fill(f) => {
                self.in_flight.remove(&f.order);
                self.pending_cancels.remove(&f.order);
                self.booked
                    .entry(f.order)
                    .or_default()
                    .add(f.qty, f.price, f.fee);
            }
            Event::Rejected { order, .. } | Event::Cancelled { order, .. } => {
                self.in_flight.remove(&order);
                self.pending_cancels.remove(&order);
                self.intents.remove(&order);
            }
            _ => {}
        }
        core.on_event(&event);
        while let Some(action) = core.next_action() {
            match action {
                Action::Place(intent) => {
                    self.intents.insert(intent.id, intent);
                    let client_id = self.orders.get(&intent.id).map(|r| r.client_id);
                    self.in_flight.insert(
                        intent.id,
                        InFlight {
                            intent,
                            client_id,
                            input_seq: seq,
                        },
                    );
                }
                Action::Cancel { order, symbol } => {
                    self.pending_cancels.insert(
                        order,
                        PendingCancel {
                            order,
                            symbol,
                            input_seq: seq,
                        },
                    );
                }
                Action::Record(_) | Action::Log(_) => {}
            }
            self.produced.push_back(action);
        }
        self.last_input = Some((seq, event));
        Ok(())
    }

    fn on_output(&mut self, seq: u64, tag: u16, payload: &[u8]) -> Result<(), ReplayError> {
        self.counts.outputs += 1;
        if tag == tags::TRADE_CLOSED {
            self.counts.closed_trades += 1;
        }
        let Some(actual) = self.produced.pop_front() else {
            if self.first_mismatch.is_none() {
                let expected = output_action(seq, tag, payload)?;
                self.mismatch(seq, Some(expected), None);
            }
            return Ok(());
        };
        if self.first_mismatch.is_some() {
            return Ok(());
        }
        let record = JournalRecord::Output(actual);
        let len = record.encoded_len();
        if self.scratch.len() < len {
            self.scratch.resize(len, 0);
        }
        let written = record.encode(&mut self.scratch);
        let same = record.tag() == tag && self.scratch.get(..written) == Some(payload);
        if !same {
            let expected = output_action(seq, tag, payload)?;
            self.mismatch(seq, Some(expected), Some(actual));
        }
        Ok(())
    }

    /// Notes what a start-up reconciliation learned about an order's route:
    /// its exchange id, and for a replacement stop the recovery client id
    /// it was placed under (see [`super::recovery_prefix`]).
    fn on_correction(&mut self, c: &schema::Correction) {
        self.filled_correction =
            (c.kind == CorrectionKind::OrderFilled && c.order.0 != 0).then_some(c.order);
        if c.kind == CorrectionKind::RecoverySending {
            self.recovery_sends.push(super::RecoverySend {
                symbol: c.symbol,
                session: self.counts.sessions,
                replaces: (c.order.0 != 0).then_some(c.order),
                ts: c.ts,
            });
        }
        if c.kind == CorrectionKind::StopPlaced && c.exchange_id != 0 {
            self.recovery_stops.push(super::RecoveryStop {
                symbol: c.symbol,
                exchange_id: c.exchange_id,
                ts: c.ts,
            });
        }
        let adopts = matches!(
            c.kind,
            CorrectionKind::AdoptedOrder | CorrectionKind::OrderFilled | CorrectionKind::StopPlaced
        );
        if !adopts || c.order.0 == 0 || c.exchange_id == 0 {
            return;
        }
        let recovery_id = if c.kind == CorrectionKind::StopPlaced {
            self.recovery_stop_id(c.order)
        } else {
            None
        };
        if let Some(route) = self.orders.get_mut(&c.order) {
            route.exchange_id = Some(c.exchange_id);
            if let Some(id) = recovery_id {
                route.client_id = id;
            }
        } else if let Some(client_id) = recovery_id {
            let side = self
                .intents
                .get(&c.order)
                .map_or(crate::types::Side::Sell, |i| i.side);
            self.orders.insert(
                c.order,
                OrderRoute {
                    client_id,
                    symbol: c.symbol,
                    side,
                    exchange_id: Some(c.exchange_id),
                },
            );
        }
    }

    /// The client id a reconciliation of the current session gave the stop
    /// replacing `order`.
    fn recovery_stop_id(&self, order: OrderId) -> Option<ClientOrderId> {
        let prefix = super::client_prefix(self.first_session_ts?);
        let recovery = super::recovery_prefix(&prefix, self.counts.sessions);
        ClientOrderId::from_sequence(&format!("{recovery}s"), order.0)
    }

    /// Records the first mismatch (later ones follow from it).
    fn mismatch(&mut self, seq: u64, expected: Option<Action>, actual: Option<Action>) {
        if self.first_mismatch.is_some() {
            return;
        }
        let (input_seq, input) = match self.last_input {
            Some((s, e)) => (Some(s), Some(e)),
            None => (None, None),
        };
        self.first_mismatch = Some(Mismatch {
            seq,
            input_seq,
            input,
            expected,
            actual,
        });
    }

    /// A life of the engine ended (restart or end of the journal): actions
    /// the core produced for the last input that the journal lacks were
    /// never journaled.
    pub(super) fn end_of_life(&mut self) {
        self.counts.unjournaled += self.produced.len() as u64;
        self.unjournaled.clear();
        self.unjournaled.extend(self.produced.drain(..));
    }
}

/// Decodes a record's payload.
fn decode(seq: u64, tag: u16, payload: &[u8]) -> Result<JournalRecord<'_>, ReplayError> {
    JournalRecord::decode(tag, payload).map_err(|error| ReplayError::Decode { seq, error })
}

/// Decodes an output record's action.
fn output_action(seq: u64, tag: u16, payload: &[u8]) -> Result<Action, ReplayError> {
    match decode(seq, tag, payload)? {
        JournalRecord::Output(a) => Ok(a),
        _ => Err(ReplayError::Decode {
            seq,
            error: schema::DecodeError::UnknownTag(tag),
        }),
    }
}
