//! Start-up and supervision helpers of the live runtime, all on the cold
//! path (the I/O thread or before the hot thread starts):
//! [`preflight`] checks, indicator [`warmup`] and gap backfill from REST
//! klines, [`reconcile`] of the rebuilt core with the exchange, and the
//! periodic [`dashboard`] with [`daily`] metrics.
//!
//! Consumes the configuration, a [`RestClient`](crate::io::rest::RestClient)
//! and plain snapshots of the core's state; produces checklists, candles,
//! typed corrections and text. Never runs on the hot thread: everything
//! here blocks on sockets and allocates.

pub mod daily;
pub mod dashboard;
pub mod preflight;
pub mod reconcile;
pub mod warmup;
