//! The live runtime: `trading-engine run` and `trading-engine demo`.
//!
//! Threads (see docs/ARCHITECTURE.md): the **hot thread** ([`hot`], pinned,
//! busy-polling) owns the core, the market socket, the journal writer and
//! the order routing ([`engine`]); the **I/O thread**
//! ([`crate::io::bridge::IoThread`], live mode) executes REST orders and
//! reads the user stream; the **service thread** ([`service`], the thread
//! that called [`run`]) handles signals, the STOP file, control commands,
//! reloads, backfills, the dead-man switch, logging and printing.
//!
//! Consumes a validated [`Config`] and [`RunOptions`]; produces a
//! [`RunReport`] (counters, closed trades, latency summary, .hgrm files)
//! and a journal of every input, decision and system fact. Modes: live
//! (orders to the exchange), paper (orders filled by the in-process
//! [`FillModel`] on the live market data), dry-run (journaled only).
//! Must never let the hot thread block, allocate, lock or log after
//! start-up. Pre-flight checks, warm-up and backfill fetchers, reconcile
//! and dashboard rendering live in [`startup`].

pub mod checkpointer;
pub mod demo;
pub mod engine;
mod error;
pub mod hot;
pub mod msg;
pub mod observe;
pub mod recovery;
pub mod recovery_journal;
pub mod reload;
pub mod route;
pub mod service;
pub mod setup;
pub mod startup;
pub mod stops;
pub mod timed;

pub use engine::{Engine, EngineParts, FrameSample, HotCounters, Venue};
pub use error::{ExchangeStartError, JournalStartError, RuntimeError, SetupError};
pub use hot::{HotLoop, HotSummary, LoopTimers};
pub use msg::{FeedStatus, FromHot, HotLog, Note, PositionStatus, Status, StopReason, ToHot};
pub use reload::{reload_channel, HotReloads, ReloadPayload, ServiceReloads};
pub use service::{Service, ServiceOptions, ServiceParts, ServiceReport};
pub use setup::{run, RunOptions, RunReport};

#[cfg(test)]
mod tests;
