//! Memory-mapped, segmented, checksummed append-only journal.
#![deny(missing_docs, missing_debug_implementations)]
