//! Memory-mapped, segmented, checksummed append-only journal: bytes and records only.
//!
//! Consumes records (a `u16` type tag, an `i64` timestamp in nanoseconds and payload bytes)
//! from a single [`Writer`]; produces segment files that [`Reader`] iterates in order, live or
//! offline, and that [`verify`] checks. It knows nothing about engine types: callers serialize
//! their own payloads. The append path never allocates, locks or makes a system call (see
//! [`Durability`] for the one exception the caller can opt into).
//!
//! # On-disk format (version 2; version 1 still reads)
//!
//! All integers are **little-endian**. A journal is a directory of segment files named
//! `journal-<first seq, 20 decimal digits>.seg` (for example
//! `journal-00000000000000000000.seg`), so names sort in sequence order. Other names are
//! ignored (`*.seg.tmp`: a segment being prepared, or started by the writer and not yet renamed
//! by its background thread, which recovery then adopts; `*.seg.orphaned`: set aside by
//! recovery or repair; `*.seg.damaged`: the original bytes of a segment [`repair`] rewrote).
//!
//! Segment header, 64 bytes at offset 0 ([`SEGMENT_HEADER_LEN`]):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 8  | magic `b"TEJOURNL"` ([`SEGMENT_MAGIC`]) |
//! | 8  | 4  | format version: `2` ([`FORMAT_VERSION`]) in new segments, `1` ([`MIN_FORMAT_VERSION`]) in older ones |
//! | 12 | 4  | header length, `64` |
//! | 16 | 8  | sequence number of the segment's first record (equals the name) |
//! | 24 | 8  | capacity: file size in bytes at creation (a multiple of 8) |
//! | 32 | 28 | reserved, zero |
//! | 60 | 4  | CRC-32 (IEEE, `crc32fast`) of bytes 0..60, in every version |
//!
//! Records follow from offset 64. Every record starts at an 8-byte aligned offset
//! ([`RECORD_ALIGN`]) with a 32-byte header ([`RECORD_HEADER_LEN`]):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 4 | payload length in bytes |
//! | 4  | 2 | type tag (caller-defined) |
//! | 6  | 1 | kind: `1` record, `2` end-of-segment marker (`0` never appears: zero = no record) |
//! | 7  | 1 | reserved, zero |
//! | 8  | 8 | sequence number (`u64`, consecutive over the whole journal, first record 0) |
//! | 16 | 8 | timestamp (`i64` nanoseconds, caller-defined clock) |
//! | 24 | 4 | reserved, zero |
//! | 28 | 4 | checksum of header bytes 0..28 followed by the payload: CRC-32C (Castagnoli, `crc32c`) in version 2, CRC-32 (IEEE) in version 1 |
//!
//! The two versions differ only in the record checksum: CRC-32C is computed by one CPU
//! instruction per 8 bytes (SSE4.2, ARMv8); `journal_bench` measured the 64 B append at p50
//! 49 ns against 68 ns with CRC-32 (bench/README.md has the figures and their caveats; the
//! `record_checksum` criterion group compares the checksums alone). Each segment keeps
//! the version it was created with: a writer opened on a version 1 journal continues its last
//! segment with CRC-32 and creates new segments as version 2, so a journal may mix versions and
//! every reader, `verify` and `repair` checks each segment by its own version.
//!
//! The payload follows the header and is padded with zero bytes to the next multiple of 8, so
//! a record occupies `32 + round_up(len, 8)` bytes ([`record_len`]). Bytes 0..8 form the
//! **commit word**: the writer fills bytes 8..32 and the payload first, then stores the commit
//! word with one release store; because the kind byte is never zero, a non-zero commit word
//! means a complete record to a reader in any process (the page cache is shared).
//!
//! A data record never extends into the last 32 bytes of the segment's capacity
//! ([`MARKER_LEN`]): that space is kept for the **end-of-segment marker**, a record header of
//! kind 2 with payload length 0, type tag 0, timestamp 0 and, as its sequence number, the first
//! sequence number of the next segment. When a record does not fit, the writer gives the next
//! segment its final name and then writes the marker, so a marker always points to an existing
//! file. Segments are created under a temporary name, preallocated to their full capacity
//! (zero-filled, pre-faulted), given their header and only then renamed into place; files never
//! shrink afterwards.
//!
//! # Torn tails and corruption
//!
//! A reader walks records from offset 64 and checks, in order: commit word zero means **clean
//! end** (preallocated space after the last record, "no record yet" for a live journal), and so
//! does an end of file at a record boundary (or inside zero bytes); otherwise the kind byte, that the header
//! and padded payload lie inside the file and inside the capacity, the CRC, that the padding
//! is zero, and that the sequence number is the expected one. The first failure stops the reader with
//! [`ReadError::Corrupt`] naming the segment file, the byte offset and the [`Corruption`].
//! Records before it have all been delivered; nothing after it is. A crash can tear the last
//! records in any way (commit word on disk but payload not, or the reverse): the CRC catches the
//! first case, the zero commit word hides the second, and [`verify`] additionally reports
//! non-zero bytes after the last record ([`Corruption::TrailingGarbage`]).
//!
//! A **torn tail** is only damage after the last complete record of the journal: bad or
//! non-zero bytes with no intact record anywhere after them (a crash tears what was being
//! written, nothing before it). A bad record (or a zeroed record header, a damaged segment
//! header, a missing segment) followed by further intact records, in any segment, is
//! **corruption**. Intact records are found by trying every 8-byte aligned offset after the
//! damage, so a destroyed length field cannot hide them.
//!
//! [`Writer::open`] recovers: it scans the last two segments and keeps every record up to the
//! first torn or corrupt one. A torn tail is zeroed (the file keeps its size; logged at WARN
//! with the byte count and reported in [`Recovery::torn`]); corruption is refused with
//! [`OpenError::Corrupt`] naming the segment and offset, changing nothing. It rewrites an
//! end-of-segment marker a crash lost if the next segment continues the sequence, renames
//! empty segments that cannot follow to `*.seg.orphaned`, and continues with the next sequence
//! number. [`Recovery`] reports what it found. Readers stop at damage in older segments.
//!
//! [`repair`] is the explicit way past corruption: it keeps every record before the first
//! damage, keeps the damaged segment's original bytes as `*.seg.damaged` and renames later
//! segments to `*.seg.orphaned` (nothing is deleted). [`apply_retention`] removes whole old
//! segments the caller no longer needs.
//!
//! # Durability and threads
//!
//! [`Durability::None`] leaves write-back to the kernel; [`Durability::Interval`] runs a flusher
//! thread that msyncs up to the committed offset the writer publishes with an atomic store
//! after each record (no lock or syscall on the append path; at rotation the writer hands the
//! old segment to the flusher under a mutex, and the flusher msyncs it to its end, marker
//! included, before unmapping it); [`Durability::EveryRecord`] msyncs each record before
//! `append` returns. With [`WriterOptions::precreate_next`] a second thread prepares the next
//! segment so rotation only renames a ready file, and unmaps segments rotated away.
//!
//! # Performance
//!
//! Measured with `cargo run --release -p bench --bin journal_bench` on the 2-core development
//! VM while other builds ran (load average about 9), 64 MiB segments:
//!
//! | case | p50 | p90 | p99 | p99.9 | max |
//! |------|----:|----:|----:|------:|----:|
//! | 64 B append, `None` | 60 ns | 70 ns | 71 ns | 90 ns | 40 ms |
//! | 256 B append, `None` | 70 ns | 80 ns | 91 ns | 211 ns | 125 ms |
//! | 64 B append, `EveryRecord` | 3.5 ms | 6.9 ms | 12 ms | 17 ms | 19 ms |
//!
//! Each append was timed with an `Instant` pair, which alone costs 20–30 ns here. The maxima
//! are rotations that waited for the preparer thread. Those figures are from format version 1
//! (CRC-32). With version 2 (CRC-32C) and two segments prepared ahead, measured on 2026-12-07
//! in one session against the version 1 code under a load average of 9–10 (bench/README.md):
//! 64 B append p50 49 ns against 68 ns; sustained 64 B appends across 28 rotations 3.3–3.9
//! million records/s against 2.4–2.6 (about 29 million per CPU-second of the appending thread
//! against 10.5), and 15 million records/s inside one pre-faulted segment against 6.9. Across
//! rotations the limit is the kernel handing out fresh page-cache pages: creating, allocating
//! and pre-faulting a 64 MiB segment took 46 ms, and the writer's wait for it is reported in
//! [`WriterStats::segment_wait_ns`].
//!
//! # Errors and panics
//!
//! Every fallible operation returns a typed error ([`OpenError`], [`AppendError`],
//! [`SyncError`], [`ReadError`]) that names the file and keeps the cause. Corrupt input never
//! panics; a panic would mean a broken internal invariant (documented under `# Panics`).
//!
//! # Example
//!
//! ```
//! use journal::{Durability, Reader, Writer, WriterOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let options = WriterOptions { durability: Durability::None, ..WriterOptions::default() };
//! let mut writer = Writer::open(dir.path(), options)?;
//! for i in 0..3u8 {
//!     writer.append(1, i64::from(i), &[i; 10])?;
//! }
//! let mut reader = Reader::open(dir.path())?;
//! let mut seqs = Vec::new();
//! while let Some(record) = reader.next() {
//!     seqs.push(record?.seq);
//! }
//! assert_eq!(seqs, [0, 1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(
    missing_docs,
    missing_debug_implementations,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::unnecessary_safety_comment
)]

mod background;
mod decode;
mod error;
mod format;
mod reader;
mod recovery;
mod repair;
mod retention;
mod segment;
mod writer;

pub use error::{AppendError, Corruption, JournalIoError, OpenError, ReadError, SyncError};
pub use format::{
    max_payload_len, parse_segment_file_name, record_len, segment_file_name, FORMAT_VERSION,
    MARKER_LEN, MIN_FORMAT_VERSION, MIN_SEGMENT_BYTES, RECORD_ALIGN, RECORD_HEADER_LEN,
    SEGMENT_HEADER_LEN, SEGMENT_MAGIC,
};
pub use reader::{list_segments, verify, Reader, Record, VerifySummary};
pub use recovery::{Recovery, TornTail};
pub use repair::{repair, RepairError, RepairReport};
pub use retention::{apply_retention, RetentionPolicy, RetentionReport};
pub use writer::{Durability, Writer, WriterOptions, WriterStats};

#[cfg(test)]
mod tests {
    fn assert_send<T: Send>() {}

    #[test]
    fn writer_and_reader_can_move_to_another_thread() {
        assert_send::<crate::Writer>();
        assert_send::<crate::Reader>();
        assert_send::<crate::AppendError>();
        assert_send::<crate::ReadError>();
    }
}
