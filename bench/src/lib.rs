//! Shared helpers for the benchmark harnesses: indicator input, BingX-shaped
//! market frames, the timed hot path of `tick-to-order` and its floor
//! (inflate + decode only), latency reports
//! (table + JSON) and the `.hgrm` percentile plot.
#![forbid(unsafe_code)]
pub mod cpu;
pub mod floor;
pub mod hot_path;
pub mod indicator_input;
pub mod journal_replay;
pub mod market_frames;
pub mod plot;
pub mod report;
pub mod wire;
