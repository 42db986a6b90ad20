//! The research loop: parameter sweeps on all cores and across a cluster
//! (shards, merge, resume) and walk-forward out-of-sample validation.
//!
//! Consumes a grid file, a base [`Config`](crate::config::Config) and data
//! files parsed once ([`LoadedData`](crate::backtest::LoadedData)); drives
//! the ordinary backtest ([`run_loaded`](crate::backtest::run_loaded)) once
//! per parameter set on scoped worker threads that share the data
//! read-only; produces deterministic result files. Never depends on thread
//! scheduling or hash-map order for anything it writes.

pub mod error;
pub mod grid;
pub mod manifest;
pub mod merge;
pub mod objective;
pub mod pool;
pub mod shard;
pub mod sweep;
pub mod table;
pub mod walkforward;

pub use error::ResearchError;
pub use grid::{Grid, GridError, Mode, Param, ParamValue};
pub use objective::{Objective, Rank};
pub use shard::Shard;
