//! Crash recovery at start-up: what a restart on an existing journal
//! continues with. The journal is rebuilt ([`crate::replay::rebuild_with`])
//! by the caller; this module checks that the journal belongs to this
//! configuration, describes the rebuild for the log, turns the rebuilt core
//! and order bookkeeping into the [`CoreView`] the exchange reconciliation
//! compares (and the orders the engine's order table tracks again), and, in
//! paper and dry-run mode where no exchange kept the previous life's
//! orders, builds the corrections that bring the core in line with a venue
//! that starts empty.
//!
//! Consumes a [`Rebuilt`] journal state and the run's [`Config`]; produces
//! a [`Resume`] plan, [`Correction`]s or a [`RecoveryError`]. Never sends
//! anything, never writes the journal and never resends an entry: every
//! order without a journaled outcome is handed to reconciliation (live) or
//! reported not placed (paper, dry-run).

use core::fmt;
use std::path::PathBuf;

use crate::config::Config;
use crate::core::{Command, Core};
use crate::io::order::ClientOrderId;
use crate::journal_schema::OperatorSource;
use crate::money::Money;
use crate::orders::{OrderId, OrderIntent};
use crate::replay::{Rebuilt, ReplayError};
use crate::risk::HaltReason;
use crate::types::{Price, SymbolId};

use super::route;
use super::startup::reconcile::{
    CoreOrder, CorePosition, CoreView, Correction, OrderRole, ReconcileFailure,
};

/// Why a restart on an existing journal refused to start.
#[derive(Debug)]
pub enum RecoveryError {
    /// The journal could not be rebuilt.
    Rebuild(ReplayError),
    /// The journal trades other symbols than the configuration.
    SymbolsChanged {
        /// Journal directory.
        dir: PathBuf,
        /// Symbols of the journal.
        journal: Vec<String>,
        /// Symbols of the configuration.
        config: Vec<String>,
    },
    /// The configuration differs from the journal's in keys that cannot
    /// change while the engine holds state.
    ConfigChanged {
        /// Journal directory.
        dir: PathBuf,
        /// The differences (or why the configuration is refused).
        detail: String,
    },
    /// Reconciliation with the exchange stopped (what it applied is journaled).
    Reconcile(ReconcileFailure),
    /// Paper mode: a rebuilt position has no stop order to book its close on.
    Unprotected {
        /// Instrument.
        symbol: SymbolId,
    },
    /// The last price needed to close a paper position could not be read.
    Price {
        /// Instrument.
        symbol: SymbolId,
        /// Why.
        reason: String,
    },
    /// The recovery records could not be journaled.
    Journal(String),
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rebuild(e) => write!(f, "cannot rebuild the state from the journal: {e}"),
            Self::SymbolsChanged {
                dir,
                journal,
                config,
            } => write!(
                f,
                "the journal in {} trades [{}] but the configuration trades [{}]; use a new journal directory",
                dir.display(),
                journal.join(","),
                config.join(",")
            ),
            Self::ConfigChanged { dir, detail } => write!(
                f,
                "the configuration differs from the one the journal in {} was started with: {detail}; use a new journal directory",
                dir.display()
            ),
            Self::Reconcile(e) => write!(f, "reconciliation with the exchange failed: {e}"),
            Self::Unprotected { symbol } => write!(
                f,
                "the rebuilt position on symbol {} has no stop order to book the paper close on",
                symbol.0
            ),
            Self::Price { symbol, reason } => {
                write!(f, "last price of symbol {} unavailable: {reason}", symbol.0)
            }
            Self::Journal(m) => write!(f, "cannot journal the recovery: {m}"),
        }
    }
}

impl std::error::Error for RecoveryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rebuild(e) => Some(e),
            Self::Reconcile(e) => Some(e),
            _ => None,
        }
    }
}

/// Checks that the journal rebuilt in `rebuilt` (from `dir`) may continue
/// under `cfg`: same symbols, no difference outside the reloadable keys.
/// Returns the reloadable differences (the rebuilt core keeps the journal's
/// values; a reload applies new ones).
///
/// # Errors
/// [`RecoveryError::SymbolsChanged`] or [`RecoveryError::ConfigChanged`].
pub fn check_journal(
    cfg: &Config,
    rebuilt: &Rebuilt,
    dir: &std::path::Path,
) -> Result<Vec<String>, RecoveryError> {
    let Some(first) = rebuilt.config.as_ref() else {
        return Ok(Vec::new());
    };
    if first.market.symbols != cfg.market.symbols {
        return Err(RecoveryError::SymbolsChanged {
            dir: dir.to_path_buf(),
            journal: first.market.symbols.clone(),
            config: cfg.market.symbols.clone(),
        });
    }
    match first.reloadable_changes(cfg) {
        Ok(changes) => Ok(changes.iter().map(ToString::to_string).collect()),
        Err(e) => Err(RecoveryError::ConfigChanged {
            dir: dir.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

/// Returns the one-line description of a rebuild for the log.
#[must_use]
pub fn summary(rebuilt: &Rebuilt, symbols: u16) -> String {
    let positions = rebuilt.core.as_ref().map_or(0, |c| {
        (0..symbols)
            .filter(|i| c.position(SymbolId(*i)).is_some())
            .count()
    });
    let torn = rebuilt.torn.as_ref().map_or_else(
        || "none".to_owned(),
        |t| {
            format!(
                "{} at byte {} ({}, {} bytes discarded)",
                t.segment.display(),
                t.offset,
                t.reason,
                t.discarded_bytes
            )
        },
    );
    let mismatch = rebuilt
        .first_mismatch
        .as_ref()
        .map_or_else(|| "none".to_owned(), |m| format!("at record {}", m.seq));
    format!(
        "Rebuilt from the journal: {} records, {} sessions, {} inputs, {positions} open positions, {} in-flight orders, {} pending cancels, {} unjournaled actions, torn tail {torn}, first mismatch {mismatch}",
        rebuilt.counts.records,
        rebuilt.counts.sessions,
        rebuilt.counts.inputs,
        rebuilt.in_flight.len(),
        rebuilt.pending_cancels.len(),
        rebuilt.unjournaled.len(),
    )
}

/// Returns true when the core of `rebuilt` is halted (`halted`: its halt
/// reason) only because the engine stopped its previous life without
/// flattening (the last operator record is a halt by a signal or the
/// engine itself, and the halt reason is a command).
#[must_use]
pub fn stopped_by_engine_halt(rebuilt: &Rebuilt, halted: Option<HaltReason>) -> bool {
    halted == Some(HaltReason::Command)
        && matches!(
            rebuilt.last_operator,
            Some((
                Command::Halt,
                OperatorSource::Signal | OperatorSource::Engine
            ))
        )
}

/// An order of the rebuilt core that the engine tracks again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracked {
    /// The intent it was placed with.
    pub intent: OrderIntent,
    /// The exchange's order id when its acknowledgement was journaled.
    pub exchange_id: Option<u64>,
    /// The client order id it carries on the exchange (the journaled one:
    /// a recovery id for a stop an earlier start-up put back).
    pub client_id: ClientOrderId,
}

/// What a restart continues with besides the core.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    /// Positions and working orders to reconcile.
    pub view: CoreView,
    /// Orders for the engine's order table.
    pub tracked: Vec<Tracked>,
}

/// Returns the core's working orders: those its positions reference, the
/// orders placed without a journaled outcome, and the orders whose cancel
/// has no journaled outcome, each once, by engine order id.
fn working_orders(core: &Core, symbols: u16, rebuilt: &Rebuilt) -> Vec<OrderId> {
    let mut ids: Vec<OrderId> = Vec::new();
    for i in 0..symbols {
        if let Some(p) = core.position(SymbolId(i)) {
            ids.extend(
                [p.entry_order, p.stop_order, p.close_order]
                    .into_iter()
                    .chain(p.tp_orders)
                    .flatten(),
            );
        }
    }
    ids.extend(rebuilt.in_flight.iter().map(|f| f.intent.id));
    ids.extend(rebuilt.pending_cancels.iter().map(|c| c.order));
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Returns the view of `core` (rebuilt) for reconciliation and the orders
/// the engine tracks again. An order's client id is the journaled one, or
/// for an order never handed to the exchange the id it would have had
/// (`prefix` + engine id): reconciliation looks it up and reports it not
/// placed. Orders without a journaled intent cannot be described and are
/// left out (their position is still protected by reconciliation).
#[must_use]
pub fn resume(core: &Core, symbols: u16, rebuilt: &Rebuilt, prefix: &str) -> Resume {
    let mut out = Resume::default();
    for i in 0..symbols {
        if let Some(p) = core.position(SymbolId(i)) {
            out.view.positions.push(CorePosition::of(p));
            out.view.recovery_stops.extend(
                rebuilt
                    .recovery_stops
                    .iter()
                    .filter(|r| r.symbol == p.symbol && r.ts >= p.signal_ts)
                    .map(|r| (r.symbol, r.exchange_id)),
            );
            out.view.recovery_sends.extend(
                rebuilt
                    .recovery_sends
                    .iter()
                    .filter(|r| r.symbol == p.symbol && r.ts >= p.signal_ts)
                    .map(|r| (r.symbol, r.session, r.replaces)),
            );
        }
    }
    for id in working_orders(core, symbols, rebuilt) {
        let Some(intent) = rebuilt.intents.get(&id) else {
            log::warn!("Order {} of the rebuilt core has no journaled intent", id.0);
            continue;
        };
        let route = rebuilt.orders.get(&id);
        let client = route
            .map(|r| r.client_id)
            .or_else(|| route::client_id(prefix, id));
        let Some(client) = client else {
            continue;
        };
        let exchange_id = route.and_then(|r| r.exchange_id);
        let mut o = CoreOrder::from_intent(intent, client);
        o.exchange_order_id = exchange_id;
        o.cancel_requested = rebuilt.pending_cancels.iter().any(|c| c.order == id);
        o.booked = rebuilt.booked.get(&id).copied().unwrap_or_default();
        out.view.orders.push(o);
        out.tracked.push(Tracked {
            intent: *intent,
            exchange_id,
            client_id: client,
        });
    }
    out
}

/// Returns the corrections of a paper or dry-run restart, whose venue (the
/// in-process simulated exchange, or none) starts empty: the previous
/// life's orders are gone with it. Every open position is closed on the
/// simulated exchange at `price(symbol)`, booked on its stop order. Entries not
/// yet filled are reported not placed, every other working order cancelled
/// (the stop of an open position excepted). The engine then
/// starts flat; every step is journaled, so replay reproduces it.
///
/// # Errors
/// [`RecoveryError::Unprotected`] for an open position without a stop
/// order, [`RecoveryError::Price`] when `price` fails.
pub fn local_corrections(
    view: &CoreView,
    price: &mut dyn FnMut(SymbolId) -> Result<Price, String>,
) -> Result<Vec<Correction>, RecoveryError> {
    let mut out = Vec::new();
    let stops: Vec<OrderId> = view
        .positions
        .iter()
        .filter(|p| p.open_qty.is_positive())
        .filter_map(|p| p.stop_order)
        .collect();
    for o in &view.orders {
        if stops.contains(&o.order) {
            continue;
        }
        out.push(if o.role == OrderRole::Entry && !o.cancel_requested {
            Correction::NotPlaced {
                order: o.order,
                symbol: o.symbol,
            }
        } else {
            Correction::Cancelled {
                order: o.order,
                symbol: o.symbol,
            }
        });
    }
    for p in view.positions.iter().filter(|p| p.open_qty.is_positive()) {
        let Some(stop) = p.stop_order else {
            return Err(RecoveryError::Unprotected { symbol: p.symbol });
        };
        let last = price(p.symbol).map_err(|reason| RecoveryError::Price {
            symbol: p.symbol,
            reason,
        })?;
        out.push(Correction::PositionClosedOnExchange {
            symbol: p.symbol,
            side: p.side,
            qty: p.open_qty,
            booked_on: Some(stop),
            price: last,
            fee: Money::ZERO,
            at: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
