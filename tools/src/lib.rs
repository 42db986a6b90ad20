//! Offline tools and the loopback exchange simulator.
#![forbid(unsafe_code)]
