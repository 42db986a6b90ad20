//! Shared helpers for the benchmark harnesses.
#![forbid(unsafe_code)]
