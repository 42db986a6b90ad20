//! The live runtime: the hot loop, the modes, order routing and the
//! start-up sequence around them.
//!
//! Consumes the configuration, the exchange connections and the journal;
//! produces a running engine. Never runs strategy logic itself: the core
//! does that.

pub mod startup;
