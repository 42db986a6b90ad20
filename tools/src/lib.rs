//! Offline tools and the loopback exchange simulator.
//!
//! - [`chaos`]: the `chaos` harness, killing the live engine under exchange faults and checking
//!   that no order, fill or stop is lost.
//! - [`dump`]: `journal-dump`, reads engine journals (listing, stats, trades, latency, SQLite
//!   export, checksum verification).
//! - [`sim`]: `bingx-sim`, a BingX-compatible exchange on 127.0.0.1 for tests, demos and
//!   benchmarks (it lives in the engine library as [`trading_engine::bingx_sim`] so that
//!   `trading-engine demo` can start it in-process; re-exported here under its old name).
#![forbid(unsafe_code)]

pub mod chaos;
pub mod dump;

pub use trading_engine::bingx_sim as sim;
