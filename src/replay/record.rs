//! [`SimSession`]: a journaling driver of the core against the in-process
//! [`FillModel`], the way the backtest drives it, writing exactly what the
//! live runtime writes: a session record at every start, then every event
//! through [`journal_event`] (input, then outputs),
//! plus order-sent and order-acked records.
//!
//! Consumes market data rows and control commands; produces a journal that
//! [`replay`](super::replay) and [`rebuild`] read. Opening a
//! journal that already holds a session is a restart: the core is rebuilt
//! from the journal and continues. Used by the replay tests, the CLI tests
//! and the replay throughput harness; cold path (it allocates per action).
//!
//! Must never: feed the core an event that is not journaled first.

use core::fmt;
use std::collections::VecDeque;
use std::path::Path;

use super::{journal_event, rebuild, InFlight, JournalEventError, ReplayError};
use crate::config::{Config, ConfigError};
use crate::core::{Action, Command, Core, CoreError, Event};
use crate::datafile::Record as Row;
use crate::fill_model::FillModel;
use crate::io::order::ClientOrderId;
use crate::journal_schema::{self as schema, JournalRecord, Mode, SessionStart};
use crate::types::{InstrumentRules, TimestampNs, NS_PER_MIN};

/// Client order id prefix of the orders a [`SimSession`] routes.
pub const CLIENT_ID_PREFIX: &str = "te-";

/// Offset added to engine order ids to make the simulated exchange's ids.
const EXCHANGE_ID_BASE: u64 = 1_000_000;

/// Why a [`SimSession`] failed.
#[derive(Debug)]
pub enum RecordError {
    /// The journal could not be opened for appending.
    Open(journal::OpenError),
    /// The existing journal could not be rebuilt.
    Rebuild(ReplayError),
    /// The core could not be built from the config.
    Core(CoreError),
    /// The config could not be written as TOML for the session record.
    Config(ConfigError),
    /// A record could not be appended.
    Append(journal::AppendError),
    /// An event and its actions could not be journaled.
    Journal(JournalEventError),
    /// The journal could not be flushed at the end.
    Close(journal::SyncError),
    /// The core refused a reload.
    Reload(crate::core::CoreReloadError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(e) => write!(f, "cannot open the journal: {e}"),
            Self::Rebuild(e) => write!(f, "cannot rebuild the engine from the journal: {e}"),
            Self::Core(e) => write!(f, "cannot build the engine: {e}"),
            Self::Config(e) => write!(f, "cannot write the session config: {e}"),
            Self::Append(e) => write!(f, "cannot append to the journal: {e}"),
            Self::Journal(e) => write!(f, "{e}"),
            Self::Close(e) => write!(f, "cannot flush the journal: {e}"),
            Self::Reload(e) => write!(f, "the engine refused the reload: {e}"),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Rebuild(e) => Some(e),
            Self::Core(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Append(e) => Some(e),
            Self::Journal(e) => Some(e),
            Self::Close(e) => Some(e),
            Self::Reload(e) => Some(e),
        }
    }
}

/// Returns the time a journal header gets for `event`: the event's own time
/// (a candle's close time).
#[must_use]
pub fn event_ts(event: &Event) -> TimestampNs {
    match *event {
        Event::Trade(t) => t.exchange_ts,
        Event::Candle(c) => c.open_time.add_ns(NS_PER_MIN),
        Event::Fill(f) => f.ts,
        Event::Funding(f) => f.ts,
        Event::FundingFee(f) => f.ts,
        Event::Clock(ts)
        | Event::Ack { ts, .. }
        | Event::Rejected { ts, .. }
        | Event::Cancelled { ts, .. }
        | Event::Control { ts, .. } => ts,
    }
}

/// A journaling driver of the core against the simulated exchange (see the
/// module docs).
#[derive(Debug)]
pub struct SimSession {
    core: Core,
    sim: FillModel,
    writer: journal::Writer,
    queue: VecDeque<Event>,
    actions: Vec<Action>,
    in_flight: Vec<InFlight>,
}

impl SimSession {
    /// Opens the journal in `dir` and appends a session record (mode
    /// `mode`, time `ts`, `cfg` and `rules`). A journal that already holds
    /// a session is a restart: the core is rebuilt from it and continues,
    /// taking `cfg`'s reloadable changes ([`super::apply_session_config`]); `sim` is the exchange, which
    /// outlives the engine. Actions the core produced for the previous
    /// life's last input that the journal lacks (a crash between the input
    /// and its outputs) are journaled as outputs *before* the session
    /// record, which is where replay expects them, and then executed. Orders
    /// of a crashed previous life whose outcome was lost are listed by
    /// [`in_flight`](Self::in_flight); they are not resolved here.
    ///
    /// # Errors
    /// [`RecordError`] when the journal cannot be rebuilt or opened, the
    /// core cannot be built, or the session record cannot be written.
    pub fn open(
        dir: &Path,
        cfg: &Config,
        rules: &[InstrumentRules],
        sim: FillModel,
        mode: Mode,
        ts: TimestampNs,
        options: journal::WriterOptions,
    ) -> Result<Self, RecordError> {
        // The writer first: its recovery settles a torn tail, so the
        // rebuild reads exactly the records the writer continues after.
        let mut writer = journal::Writer::open(dir, options).map_err(RecordError::Open)?;
        let rebuilt = rebuild(dir).map_err(RecordError::Rebuild)?;
        let in_flight = rebuilt.in_flight;
        for action in &rebuilt.unjournaled {
            schema::write(&mut writer, ts, &JournalRecord::Output(*action))
                .map_err(RecordError::Append)?;
        }
        let resumed = rebuilt.core.is_some();
        let mut core = match (rebuilt.core, rebuilt.config) {
            (Some(mut core), Some(mut running)) => {
                // A restart with an edited config takes its reloadable
                // changes like a reload, at the session record, as replay
                // does; a refused change leaves the running config.
                let _ = super::apply_session_config(&mut core, &mut running, cfg);
                core
            }
            (Some(core), None) => core,
            (None, _) => Core::try_new(cfg, rules).map_err(RecordError::Core)?,
        };
        let config_toml = cfg.to_toml_string().map_err(RecordError::Config)?;
        let symbols = cfg.market.symbols.join(",");
        // Generously sized: encode_rules reports the bytes it used.
        let mut rules_raw = vec![0u8; rules.len() * 64];
        let n = SessionStart::encode_rules(rules, &mut rules_raw).unwrap_or(0);
        rules_raw.truncate(n);
        let session = JournalRecord::Session(SessionStart {
            mode,
            ts,
            version: env!("CARGO_PKG_VERSION"),
            symbols: &symbols,
            rules_raw: &rules_raw,
            config_toml: &config_toml,
        });
        schema::write(&mut writer, ts, &session).map_err(RecordError::Append)?;
        if resumed {
            // A new life, as replay sees it at this session record.
            core.begin_life();
        }
        let mut s = Self {
            core,
            sim,
            writer,
            queue: VecDeque::with_capacity(64),
            actions: rebuilt.unjournaled,
            in_flight,
        };
        s.execute_actions(ts)?;
        s.drain()?;
        Ok(s)
    }

    /// Returns the core.
    #[must_use]
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Returns the fill model (the simulated exchange of the replay).
    #[must_use]
    pub fn fill_model(&self) -> &FillModel {
        &self.sim
    }

    /// Returns the orders a crashed previous life placed without a
    /// journaled outcome (empty after a clean end).
    #[must_use]
    pub fn in_flight(&self) -> &[InFlight] {
        &self.in_flight
    }

    /// Returns the sequence number of the next journal record.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.writer.next_seq()
    }

    /// Feeds one market data row: the exchange sees it first (resting
    /// orders trigger), then the core, then every answer until quiet.
    ///
    /// # Errors
    /// [`RecordError`] when a record cannot be appended.
    pub fn on_row(&mut self, row: &Row) -> Result<(), RecordError> {
        let queue = &mut self.queue;
        let event = match *row {
            Row::Trade(t) => {
                self.sim.on_trade(&t, &mut |e| queue.push_back(e));
                Event::Trade(t)
            }
            Row::Candle(c) => {
                self.sim.on_candle(&c, &mut |e| queue.push_back(e));
                Event::Candle(c)
            }
        };
        self.dispatch(event)
    }

    /// Sends a control command to the core (and handles its answers).
    ///
    /// # Errors
    /// [`RecordError`] when a record cannot be appended.
    pub fn command(&mut self, command: Command, ts: TimestampNs) -> Result<(), RecordError> {
        self.dispatch(Event::Control { command, ts })
    }

    /// Applies an accepted reload between two events, journaling it the way
    /// the live runtime does: the accepted reload record (`detail`), then
    /// the whole new config, which replay applies at the same point. `cfg`
    /// must be validated and differ from the running config in reloadable
    /// keys only ([`Config::reloadable_changes`]).
    ///
    /// # Errors
    /// [`RecordError::Reload`] when the core refuses it (nothing is
    /// journaled or changed), [`RecordError::Config`] when it cannot be
    /// written as TOML, [`RecordError::Append`] when a record cannot be
    /// appended.
    pub fn reload(
        &mut self,
        cfg: &Config,
        detail: &str,
        ts: TimestampNs,
    ) -> Result<(), RecordError> {
        let config_toml = cfg.to_toml_string().map_err(RecordError::Config)?;
        self.core.reload(cfg).map_err(RecordError::Reload)?;
        let accepted = JournalRecord::Reload {
            outcome: schema::ReloadOutcome::Accepted,
            detail,
            ts,
        };
        schema::write(&mut self.writer, ts, &accepted).map_err(RecordError::Append)?;
        let applied = JournalRecord::ReloadConfig {
            config_toml: &config_toml,
            ts,
        };
        schema::write(&mut self.writer, ts, &applied).map_err(RecordError::Append)?;
        Ok(())
    }

    /// Fills the exchange's queued market orders at the last price (end of
    /// data) and handles the answers.
    ///
    /// # Errors
    /// [`RecordError`] when a record cannot be appended.
    pub fn flush_exchange(&mut self) -> Result<(), RecordError> {
        let queue = &mut self.queue;
        self.sim.flush(&mut |e| queue.push_back(e));
        self.drain()
    }

    /// Ends the session cleanly: flushes and closes the journal. Returns the
    /// core and the exchange (which outlives the engine, for a restart).
    ///
    /// # Errors
    /// [`RecordError::Close`] when the journal cannot be flushed.
    pub fn finish(self) -> Result<(Core, FillModel), RecordError> {
        self.writer.close().map_err(RecordError::Close)?;
        Ok((self.core, self.sim))
    }

    /// Journals and feeds `event`, then every answer of the exchange, until
    /// quiet.
    fn dispatch(&mut self, event: Event) -> Result<(), RecordError> {
        self.queue.push_back(event);
        self.drain()
    }

    /// Journals and feeds every queued event, oldest first, with the
    /// exchange's answers, until quiet.
    fn drain(&mut self) -> Result<(), RecordError> {
        while let Some(e) = self.queue.pop_front() {
            let ts = event_ts(&e);
            if let Event::Ack { order, ts } = e {
                let acked = JournalRecord::OrderAcked {
                    order,
                    exchange_id: order.0 + EXCHANGE_ID_BASE,
                    ts,
                };
                schema::write(&mut self.writer, ts, &acked).map_err(RecordError::Append)?;
            }
            let actions = &mut self.actions;
            actions.clear();
            journal_event(&mut self.writer, &mut self.core, &e, ts, |a| {
                actions.push(a)
            })
            .map_err(RecordError::Journal)?;
            self.execute_actions(ts)?;
        }
        Ok(())
    }

    /// Routes `self.actions` to the exchange (order-sent records for
    /// placements); the answers go to the queue.
    fn execute_actions(&mut self, ts: TimestampNs) -> Result<(), RecordError> {
        for k in 0..self.actions.len() {
            let queue = &mut self.queue;
            match self.actions[k] {
                Action::Place(o) => {
                    let client_id = ClientOrderId::from_sequence(CLIENT_ID_PREFIX, o.id.0)
                        .unwrap_or(ClientOrderId::EMPTY);
                    let sent = JournalRecord::OrderSent {
                        order: o.id,
                        client_id,
                        symbol: o.symbol,
                        side: o.side,
                        ts,
                    };
                    schema::write(&mut self.writer, ts, &sent).map_err(RecordError::Append)?;
                    self.sim.submit(&o, &mut |e| queue.push_back(e));
                }
                Action::Cancel { order, .. } => {
                    self.sim.cancel(order, &mut |e| queue.push_back(e));
                }
                Action::Record(_) | Action::Log(_) => {}
            }
        }
        Ok(())
    }
}
