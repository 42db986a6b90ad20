//! Record decoder shared by `Reader`, `verify` and writer recovery.
//!
//! Consumes a mapped segment [`View`], a byte offset and the expected sequence number; produces
//! one [`Step`]: a valid record (as offsets, so callers can re-borrow), the end-of-segment
//! marker, a clean end, or the [`Corruption`] found. It never panics on any byte pattern, never
//! allocates and never reads a record's bytes before its commit word was loaded non-zero.

use crate::error::Corruption;
use crate::format::{
    decode_commit_word, decode_segment_header, read_u32, read_u64, record_crc, Checksum,
    CommitWord, SegmentHeader, KIND_END_OF_SEGMENT, KIND_RECORD, MARKER_LEN, RECORD_ALIGN,
    RECORD_HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::segment::View;

/// Outcome of decoding at one offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A valid data record.
    Record {
        /// Sequence number (equal to the expected one).
        seq: u64,
        /// Caller-defined type tag.
        type_tag: u16,
        /// Timestamp in nanoseconds.
        ts_ns: i64,
        /// Offset of the payload in the segment.
        payload_offset: usize,
        /// Payload length in bytes.
        payload_len: usize,
        /// Offset of the next record (after padding).
        next_offset: usize,
    },
    /// A valid end-of-segment marker: the journal continues in the segment starting at
    /// `next_seq` (equal to the expected sequence number).
    EndOfSegment {
        /// First sequence number of the next segment.
        next_seq: u64,
    },
    /// Zero commit word (preallocated space not yet written) or end of file exactly at a
    /// record boundary: no record here, at least for now.
    End,
    /// A torn or corrupt record at this offset.
    Corrupt(Corruption),
}

/// Largest segment capacity accepted from a header (1 TiB); anything larger is corruption.
const MAX_CAPACITY_BYTES: u64 = 1 << 40;

/// Validates segment header bytes against the sequence number the segment must start with.
pub(crate) fn validate_header(
    bytes: &[u8],
    expected_first_seq: u64,
) -> Result<SegmentHeader, Corruption> {
    let header = decode_segment_header(bytes).map_err(Corruption::BadSegmentHeader)?;
    if header.first_seq != expected_first_seq {
        return Err(Corruption::SegmentSequenceMismatch {
            expected: expected_first_seq,
            found: header.first_seq,
        });
    }
    if header.capacity_bytes % RECORD_ALIGN as u64 != 0
        || header.capacity_bytes < (SEGMENT_HEADER_LEN + RECORD_HEADER_LEN + MARKER_LEN) as u64
        || header.capacity_bytes > MAX_CAPACITY_BYTES
    {
        return Err(Corruption::BadSegmentHeader("invalid segment capacity"));
    }
    Ok(header)
}

/// Validates the segment header in `view` against the sequence number the segment must start
/// with. Returns the decoded header.
pub(crate) fn check_segment_header(
    view: View<'_>,
    expected_first_seq: u64,
) -> Result<SegmentHeader, Corruption> {
    // SAFETY: the header is written before the segment is renamed to its visible name and
    // never written again, so the bytes are immutable while mapped.
    let bytes = unsafe { view.committed(0, SEGMENT_HEADER_LEN) }.ok_or(
        Corruption::BadSegmentHeader("segment shorter than its 64-byte header"),
    )?;
    validate_header(bytes, expected_first_seq)
}

/// Decodes the record at `offset` (a multiple of 8 at or after the segment header) of a segment
/// whose header announced `capacity` bytes. Data records must end at or before
/// `capacity - MARKER_LEN` (the space for the end-of-segment marker is always reserved).
pub(crate) fn decode_at(view: View<'_>, capacity: usize, offset: usize, expected_seq: u64) -> Step {
    let len = view.len();
    if offset == len {
        return Step::End;
    }
    let Some(word) = view.load_commit_word(offset) else {
        // Fewer than 8 bytes left: only possible in a file cut to a length that is not a
        // multiple of 8, which no live writer produces (segments keep their 8-aligned size).
        // SAFETY: no writer writes this file (see above), so the bytes are immutable.
        let rest = unsafe { view.committed(offset, len.saturating_sub(offset)) };
        if rest.is_some_and(|rest| rest.iter().all(|&b| b == 0)) {
            return Step::End;
        }
        return Step::Corrupt(Corruption::TruncatedHeader);
    };
    if word == 0 {
        return Step::End;
    }
    let CommitWord {
        payload_len,
        type_tag,
        kind,
        reserved,
    } = decode_commit_word(word);
    if reserved != 0 || (kind != KIND_RECORD && kind != KIND_END_OF_SEGMENT) {
        return Step::Corrupt(Corruption::BadRecordKind { kind });
    }
    if len - offset < RECORD_HEADER_LEN {
        return Step::Corrupt(Corruption::TruncatedHeader);
    }
    let payload_offset = offset + RECORD_HEADER_LEN;
    let padded = (payload_len as usize).div_ceil(RECORD_ALIGN) * RECORD_ALIGN;
    let limit = if kind == KIND_RECORD {
        capacity.saturating_sub(MARKER_LEN)
    } else {
        capacity
    };
    if padded > limit.saturating_sub(payload_offset) {
        return Step::Corrupt(Corruption::RecordTooLong { payload_len });
    }
    if padded > len - payload_offset {
        return Step::Corrupt(Corruption::TruncatedRecord { payload_len });
    }
    // SAFETY: the commit word at `offset` was loaded non-zero with acquire ordering, so the
    // writer finished this record's header and payload and never writes them again.
    let tail = unsafe { view.committed(offset + 8, RECORD_HEADER_LEN - 8) };
    // SAFETY: as above, the payload belongs to the same committed record.
    let payload = unsafe { view.committed(payload_offset, payload_len as usize) };
    // SAFETY: the padding belongs to the same committed record (it is never written at all).
    let padding = unsafe {
        view.committed(
            payload_offset + payload_len as usize,
            padded - payload_len as usize,
        )
    };
    let (Some(tail), Some(payload), Some(padding)) = (tail, payload, padding) else {
        return Step::Corrupt(Corruption::TruncatedRecord { payload_len });
    };
    let mut tail_arr = [0u8; RECORD_HEADER_LEN - 8];
    tail_arr.copy_from_slice(tail);
    let stored = read_u32(tail, 20);
    // The segment's version names the checksum; a segment whose header is unreadable (only
    // scanned, to tell a torn tail from corruption) accepts a record matching either.
    let checksum = view.checksum().unwrap_or(Checksum::Crc32c);
    let computed = record_crc(checksum, word, &tail_arr, payload);
    if stored != computed
        && (view.checksum().is_some()
            || record_crc(Checksum::Crc32, word, &tail_arr, payload) != stored)
    {
        return Step::Corrupt(Corruption::ChecksumMismatch { stored, computed });
    }
    if padding.iter().any(|&b| b != 0) {
        return Step::Corrupt(Corruption::NonZeroPadding);
    }
    let seq = read_u64(tail, 0);
    if seq != expected_seq {
        return Step::Corrupt(Corruption::SequenceGap {
            expected: expected_seq,
            found: seq,
        });
    }
    if kind == KIND_END_OF_SEGMENT {
        if payload_len != 0 {
            return Step::Corrupt(Corruption::BadRecordKind { kind });
        }
        return Step::EndOfSegment { next_seq: seq };
    }
    Step::Record {
        seq,
        type_tag,
        ts_ns: read_u64(tail, 8) as i64,
        payload_offset,
        payload_len: payload_len as usize,
        next_offset: payload_offset + padded,
    }
}

/// Returns how many bytes from `from` up to and including the last non-zero byte of the view
/// are non-zero-terminated garbage (0 if everything from `from` on is zero).
///
/// Uses atomic loads, so it is memory-safe even if a writer is appending concurrently (in that
/// case the answer may include a record being written; callers only use it without a writer).
pub(crate) fn trailing_garbage_len(view: View<'_>, from: usize) -> u64 {
    let len = view.len();
    if from >= len {
        return 0;
    }
    // Scan whole 8-byte words backwards from the end; `from` is 8-aligned.
    let word_end = len - (len - from) % RECORD_ALIGN;
    // A partial word at the end only exists in an externally truncated file.
    if word_end < len {
        // SAFETY: a file cut to a non-multiple of 8 has no live writer (the writer keeps
        // segments at their 8-aligned capacity), so these bytes are not being written.
        if let Some(rest) = unsafe { view.committed(word_end, len - word_end) } {
            if let Some(pos) = rest.iter().rposition(|&b| b != 0) {
                return (word_end + pos + 1 - from) as u64;
            }
        }
    }
    let mut at = word_end;
    while at > from {
        at -= RECORD_ALIGN;
        if let Some(word) = view.load_commit_word(at) {
            if word != 0 {
                let last = word
                    .to_ne_bytes()
                    .iter()
                    .rposition(|&b| b != 0)
                    .unwrap_or(0);
                return (at + last + 1 - from) as u64;
            }
        }
    }
    0
}

/// Returns the first record at or after `from` (8-aligned) in `view` that passes every check
/// but the sequence one and whose sequence number is at least `min_seq`: its offset and
/// sequence number. End-of-segment markers count as records. Used to tell a torn tail (nothing
/// valid follows the bad bytes) from corruption (intact records follow them).
///
/// Checks every 8-byte aligned offset, so it finds records even when the damage destroyed the
/// length of the record before them. A false positive needs random bytes that form a header
/// with a matching CRC32 (one in 2^32 per non-zero candidate that passes the kind check).
pub(crate) fn find_valid_record(view: View<'_>, from: usize, min_seq: u64) -> Option<(usize, u64)> {
    let len = view.len();
    let capacity = len - len % RECORD_ALIGN;
    let mut offset = from.div_ceil(RECORD_ALIGN) * RECORD_ALIGN;
    while offset + RECORD_HEADER_LEN <= len {
        if view.load_commit_word(offset).is_some_and(|w| w != 0) {
            let seq = match decode_at(view, capacity, offset, min_seq) {
                Step::Record { seq, .. } => Some(seq),
                Step::EndOfSegment { next_seq } => Some(next_seq),
                Step::Corrupt(Corruption::SequenceGap { found, .. }) if found >= min_seq => {
                    Some(found)
                }
                _ => None,
            };
            if let Some(seq) = seq {
                return Some((offset, seq));
            }
        }
        offset += RECORD_ALIGN;
    }
    None
}

/// Counts the records at or after `from` in `view` that pass every check but the sequence one
/// (see [`find_valid_record`]), skipping over each one found. End-of-segment markers are not
/// counted.
pub(crate) fn count_valid_records(view: View<'_>, from: usize) -> u64 {
    let len = view.len();
    let capacity = len - len % RECORD_ALIGN;
    let mut count = 0;
    let mut offset = from;
    while let Some((at, seq)) = find_valid_record(view, offset, 0) {
        match decode_at(view, capacity, at, seq) {
            Step::Record { next_offset, .. } => {
                count += 1;
                offset = next_offset;
            }
            _ => offset = at + MARKER_LEN,
        }
    }
    count
}
