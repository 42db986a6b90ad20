//! Shared helpers for the benchmark harnesses.
#![forbid(unsafe_code)]
pub mod indicator_input;
