//! `trading-engine`: a low-latency automated trading engine for crypto
//! perpetual swaps (BingX USDT-M; Binance USD-M futures market data).
//!
//! Modules follow the pipeline, one stage each: [`feed`] → [`candles`] →
//! [`indicators`] → [`strategy`] → [`signals`] → [`risk`] → [`positions`] →
//! [`orders`], driven as one deterministic state machine by [`core`], with
//! [`io`] (REST, WebSocket and the I/O-thread bridge) beside them. The
//! fill model of backtest and paper mode (the in-process simulated exchange)
//! is [`fill_model`]; [`backtest`] drives the core over [`datafile`] inputs.
//! The repository README describes the threads, modes and commands.
#![forbid(unsafe_code)]

/// The engine's version, as `--version` prints it and sweep manifests record
/// it: the package version and the git revision it was built from
/// (`unknown` without git at build time).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("TE_GIT_REVISION"),
    ")"
);

pub mod backtest;
pub mod candles;
pub mod checkpoint;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod core;
pub mod datafile;
pub mod feed;
pub mod fill_model;
pub mod funding;
pub mod history;
pub mod indicators;
pub mod io;
pub mod journal_schema;
pub mod logging;
pub mod metrics;
pub mod money;
pub mod orders;
pub mod positions;
pub mod replay;
pub mod research;
pub mod risk;
pub mod runtime;
pub mod signals;
pub mod strategy;
pub mod types;
