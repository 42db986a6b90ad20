//! Fixed-capacity preallocated ring buffers and a wait-free SPSC queue.
#![deny(missing_docs, missing_debug_implementations)]
