//! Offline tools.
//!
//! - [`chaos`]: the `chaos` harness, killing the live engine under exchange faults and checking
//!   that no order, fill or stop is lost.
//! - [`dump`]: `journal-dump`, reads engine journals (listing, stats, trades, latency, SQLite
//!   export, checksum verification).
//!
//! The loopback exchange simulator `bingx-sim` is its own crate beside this one
//! (`tools/bingx-sim`); the tests here that run the engine's clients against it use it as a
//! dev-dependency.
#![forbid(unsafe_code)]

pub mod chaos;
pub mod dump;
