//! Offline tools and the loopback exchange simulator.
//!
//! - [`sim`]: `bingx-sim`, a BingX-compatible exchange on 127.0.0.1 for tests, demos and
//!   benchmarks.
#![forbid(unsafe_code)]

pub mod sim;
