//! Error types of the journal, one enum per operation: opening, appending and reading.
//!
//! Consumes `std::io::Error`s and corruption findings; produces typed errors whose `Display`
//! names the file, the byte offset where it applies and the cause. Corruption is always its own
//! variant ([`Corruption`]), never an io error string. Nothing here allocates on the
//! append success path; the rare io failure of an append is boxed to keep [`AppendError`] small.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What exactly is wrong at a corrupt position of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// The segment header is damaged or unsupported (the text says which check failed).
    BadSegmentHeader(&'static str),
    /// The first sequence number in the segment header differs from the one in the file name
    /// or from the one the previous segment announced.
    SegmentSequenceMismatch {
        /// Sequence number the reader expected the segment to start with.
        expected: u64,
        /// Sequence number found in the segment header.
        found: u64,
    },
    /// The file ends inside a record header (a torn tail).
    TruncatedHeader,
    /// The record's payload or padding runs past the end of the segment (a torn tail).
    TruncatedRecord {
        /// Payload length claimed by the record header.
        payload_len: u32,
    },
    /// The record header claims a payload that would not fit in the segment's capacity (with
    /// the space reserved for the end-of-segment marker).
    RecordTooLong {
        /// Payload length claimed by the record header.
        payload_len: u32,
    },
    /// The record header has an unknown kind byte or non-zero reserved bits.
    BadRecordKind {
        /// The kind byte found.
        kind: u8,
    },
    /// The CRC32 stored in the record header does not match header and payload.
    ChecksumMismatch {
        /// CRC32 stored in the header.
        stored: u32,
        /// CRC32 computed over the bytes on disk.
        computed: u32,
    },
    /// The padding after a record's payload (not covered by the CRC) is not zero.
    NonZeroPadding,
    /// A record carries a sequence number other than the next expected one.
    SequenceGap {
        /// Sequence number expected at this position.
        expected: u64,
        /// Sequence number found.
        found: u64,
    },
    /// An end-of-segment marker announces a segment file that does not exist.
    MissingSegment {
        /// First sequence number of the missing segment.
        first_seq: u64,
    },
    /// A segment ends without an end-of-segment marker although a later segment exists (the
    /// writer crashed between creating the next segment and writing the marker, or records
    /// were lost). Only [`crate::verify`] reports this; recovery repairs or orphans it.
    MissingMarker {
        /// First sequence number of the next segment file found.
        next_first_seq: u64,
    },
    /// The commit word at this offset is zero (a clean end) but an intact record follows at
    /// `next_valid_offset`: a record header was wiped, so the records after it are out of
    /// reach. Only recovery looks for this.
    LostRecord {
        /// Offset of the first intact record after the zero commit word.
        next_valid_offset: u64,
    },
    /// Non-zero bytes follow the last valid record of the last segment (a torn tail whose
    /// commit word never reached the disk). Only [`crate::verify`] and recovery look for this.
    TrailingGarbage {
        /// Number of bytes from the end of the last valid record to the last non-zero byte.
        bytes: u64,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSegmentHeader(why) => write!(f, "bad segment header: {why}"),
            Self::SegmentSequenceMismatch { expected, found } => {
                write!(f, "segment starts at sequence {found}, expected {expected}")
            }
            Self::TruncatedHeader => f.write_str("file ends inside a record header"),
            Self::TruncatedRecord { payload_len } => {
                write!(
                    f,
                    "record of {payload_len} payload bytes runs past the end of the segment"
                )
            }
            Self::RecordTooLong { payload_len } => {
                write!(
                    f,
                    "record claims {payload_len} payload bytes, more than the segment holds"
                )
            }
            Self::BadRecordKind { kind } => write!(f, "unknown record kind {kind}"),
            Self::ChecksumMismatch { stored, computed } => {
                write!(
                    f,
                    "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
                )
            }
            Self::NonZeroPadding => f.write_str("non-zero padding after the record payload"),
            Self::SequenceGap { expected, found } => {
                write!(f, "sequence gap: expected {expected}, found {found}")
            }
            Self::MissingSegment { first_seq } => {
                write!(
                    f,
                    "end-of-segment marker points to missing segment starting at {first_seq}"
                )
            }
            Self::MissingMarker { next_first_seq } => write!(
                f,
                "segment ends without an end-of-segment marker but segment {next_first_seq} follows"
            ),
            Self::LostRecord { next_valid_offset } => write!(
                f,
                "zeroed record header followed by an intact record at byte {next_valid_offset}"
            ),
            Self::TrailingGarbage { bytes } => {
                write!(f, "{bytes} non-zero bytes after the last valid record")
            }
        }
    }
}

/// An operating-system error on a journal file, with the file and the operation that failed.
#[derive(Debug)]
pub struct JournalIoError {
    /// File or directory the operation was applied to.
    pub path: PathBuf,
    /// Short name of the failed operation (`"create"`, `"mmap"`, `"msync"`, ...).
    pub op: &'static str,
    /// The operating-system error.
    pub source: io::Error,
}

impl JournalIoError {
    /// Returns a new error for `op` on `path` caused by `source`.
    pub fn new(path: impl Into<PathBuf>, op: &'static str, source: io::Error) -> Self {
        Self {
            path: path.into(),
            op,
            source,
        }
    }
}

impl fmt::Display for JournalIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed: {}",
            self.op,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for JournalIoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Failure of `Writer::open` or `Reader::open`.
#[derive(Debug)]
pub enum OpenError {
    /// The options are unusable (the text says which one).
    InvalidOptions(&'static str),
    /// A file-system operation failed.
    Io(JournalIoError),
    /// A segment is corrupt in a way recovery cannot repair by truncating the tail.
    Corrupt {
        /// Segment file in which the corruption was found.
        segment: PathBuf,
        /// Byte offset within that file.
        offset: u64,
        /// What is wrong.
        reason: Corruption,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidOptions(why) => write!(f, "invalid journal options: {why}"),
            Self::Io(e) => write!(f, "cannot open journal: {e}"),
            Self::Corrupt {
                segment,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "corrupt journal segment {} at byte {offset}: {reason}",
                    segment.display()
                )
            }
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::InvalidOptions(_) | Self::Corrupt { .. } => None,
        }
    }
}

impl From<JournalIoError> for OpenError {
    fn from(e: JournalIoError) -> Self {
        Self::Io(e)
    }
}

/// Failure of `Writer::append` / `Writer::append_with`.
#[derive(Debug)]
pub enum AppendError {
    /// The payload is larger than one segment can hold; nothing was written.
    TooLarge {
        /// Requested payload length in bytes.
        len: usize,
        /// Largest payload accepted with the writer's segment size.
        max: usize,
    },
    /// Rotating to a new segment failed; nothing was written and the writer stays usable (the
    /// next append retries the rotation).
    Rotate(Box<JournalIoError>),
    /// The record was appended with sequence number `seq` (readers see it) but the `msync`
    /// demanded by `Durability::EveryRecord` failed, so it may not be on disk.
    NotDurable {
        /// Sequence number of the appended record.
        seq: u64,
        /// The failed msync.
        error: Box<JournalIoError>,
    },
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => {
                write!(
                    f,
                    "record payload of {len} bytes exceeds the segment limit of {max} bytes"
                )
            }
            Self::Rotate(e) => write!(f, "cannot rotate journal segment: {e}"),
            Self::NotDurable { seq, error } => {
                write!(f, "record {seq} appended but not made durable: {error}")
            }
        }
    }
}

impl std::error::Error for AppendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::TooLarge { .. } => None,
            Self::Rotate(e) | Self::NotDurable { error: e, .. } => Some(e.as_ref()),
        }
    }
}

/// Failure of `Writer::flush`, `Writer::sync` or `Writer::close`.
#[derive(Debug)]
pub struct SyncError(pub JournalIoError);

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot sync journal: {}", self.0)
    }
}

impl std::error::Error for SyncError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Failure while reading records with `Reader`.
#[derive(Debug)]
pub enum ReadError {
    /// A torn or corrupt record: the reader delivered every record before `offset` and stops
    /// here. Calling `next` again reports the same corruption.
    Corrupt {
        /// Segment file in which the corruption was found.
        segment: PathBuf,
        /// Byte offset of the bad record (or header) within that file.
        offset: u64,
        /// What is wrong.
        reason: Corruption,
    },
    /// A file-system operation failed (listing the directory, opening or mapping a segment).
    Io(JournalIoError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Corrupt {
                segment,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "corrupt journal segment {} at byte {offset}: {reason}",
                    segment.display()
                )
            }
            Self::Io(e) => write!(f, "cannot read journal: {e}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Corrupt { .. } => None,
        }
    }
}

impl From<JournalIoError> for ReadError {
    fn from(e: JournalIoError) -> Self {
        Self::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_display_names_segment_offset_and_reason() {
        let e = ReadError::Corrupt {
            segment: PathBuf::from("/j/journal-00000000000000000000.seg"),
            offset: 4160,
            reason: Corruption::ChecksumMismatch {
                stored: 1,
                computed: 2,
            },
        };
        let text = e.to_string();
        assert!(text.contains("journal-00000000000000000000.seg"), "{text}");
        assert!(text.contains("4160"), "{text}");
        assert!(text.contains("checksum mismatch"), "{text}");
    }

    #[test]
    fn io_display_keeps_the_cause_and_path() {
        let e = OpenError::Io(JournalIoError::new(
            "/nope/dir",
            "create directory",
            io::Error::new(io::ErrorKind::PermissionDenied, "denied by test"),
        ));
        let text = e.to_string();
        assert!(
            text.contains("/nope/dir") && text.contains("denied by test"),
            "{text}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn append_error_stays_small() {
        assert!(std::mem::size_of::<AppendError>() <= 24);
    }
}
