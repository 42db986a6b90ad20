//! Shared helpers of the journal integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test helpers may panic on failure; each test crate uses a different subset"
)]

use std::path::{Path, PathBuf};

use journal::{Durability, ReadError, Reader, WriterOptions};

/// An owned copy of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub seq: u64,
    pub type_tag: u16,
    pub ts_ns: i64,
    pub payload: Vec<u8>,
}

/// Small segments, no background threads, no prefault: fast, deterministic tests.
pub fn small_options(segment_bytes: usize) -> WriterOptions {
    WriterOptions {
        segment_bytes,
        durability: Durability::None,
        prefault: false,
        precreate_next: false,
    }
}

/// Reads every record until the end or the first error.
pub fn read_all(dir: &Path) -> (Vec<Owned>, Option<ReadError>) {
    let mut reader = Reader::open(dir).expect("open reader");
    let mut out = Vec::new();
    loop {
        match reader.next() {
            Some(Ok(r)) => out.push(Owned {
                seq: r.seq,
                type_tag: r.type_tag,
                ts_ns: r.ts_ns,
                payload: r.payload.to_vec(),
            }),
            Some(Err(e)) => return (out, Some(e)),
            None => return (out, None),
        }
    }
}

/// Deterministic payload for record `i` of length `len`.
pub fn payload(i: u64, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i as usize * 31 + k * 7) as u8).collect()
}

/// Segment files of `dir`, sorted.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

/// Tiny deterministic PRNG (xorshift64*), so corruption tests need no extra dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
