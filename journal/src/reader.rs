//! Read-only, in-order iteration over the records of a journal directory, including one a live
//! writer is still appending to (follow mode), and the offline [`verify`] scan.
//!
//! Consumes segment files (mapped read-only); produces borrowed [`Record`]s, a clean end
//! (`None`), or a [`ReadError`] naming the segment file and byte offset of the first torn or
//! corrupt record. It never writes, never truncates and never delivers a record that failed
//! its checksum or sequence check. Moving to a new segment allocates a path (cold path).

use std::fs;
use std::path::{Path, PathBuf};

use crate::decode::{check_segment_header, decode_at, trailing_garbage_len, Step};
use crate::error::{Corruption, JournalIoError, OpenError, ReadError};
use crate::format::{parse_segment_file_name, segment_file_name, SEGMENT_HEADER_LEN};
use crate::segment::ReadMap;

/// One record read from the journal; the payload borrows the reader's map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Sequence number: consecutive over the whole journal, starting at 0.
    pub seq: u64,
    /// Caller-defined type tag given to `Writer::append`.
    pub type_tag: u16,
    /// Timestamp in nanoseconds given to `Writer::append`.
    pub ts_ns: i64,
    /// Payload bytes exactly as appended (no padding).
    pub payload: &'a [u8],
}

/// The segment a reader is positioned in.
#[derive(Debug)]
struct OpenSegment {
    /// Segment file path.
    path: PathBuf,
    /// Read-only map of the file as long as it was at open time.
    map: ReadMap,
    /// First sequence number of the segment.
    first_seq: u64,
    /// Capacity announced by the segment header.
    capacity: usize,
}

/// Sequential reader over a journal directory.
///
/// `next` returns records in sequence order across segments. `None` means "no further record
/// right now": the preallocated space after the last record is zero (a clean end). Calling
/// `next` again later returns records appended since, so a reader can follow a live writer by
/// polling (tail mode). A torn or corrupt record yields `Some(Err(ReadError::Corrupt { .. }))`
/// and the reader stays at that position, so calling `next` again reports it again.
///
/// ```
/// use journal::{Durability, Reader, Writer, WriterOptions};
///
/// let dir = tempfile::tempdir()?;
/// let options = WriterOptions { durability: Durability::None, ..WriterOptions::default() };
/// let mut writer = Writer::open(dir.path(), options)?;
/// writer.append(7, 1_000, b"hello")?;
///
/// let mut reader = Reader::open(dir.path())?;
/// let record = reader.next().transpose()?.expect("one record");
/// assert_eq!((record.seq, record.type_tag, record.ts_ns), (0, 7, 1_000));
/// assert_eq!(record.payload, b"hello");
/// assert!(reader.next().is_none()); // clean end, for now
///
/// writer.append(7, 2_000, b"world")?; // the reader follows the live writer
/// assert_eq!(reader.next().transpose()?.map(|r| r.seq), Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reader {
    /// Journal directory.
    dir: PathBuf,
    /// Current segment, `None` until the first segment exists.
    current: Option<OpenSegment>,
    /// Offset of the next record in the current segment.
    offset: usize,
    /// Sequence number of the next record.
    next_seq: u64,
}

impl Reader {
    /// Opens the journal in `dir` for reading from its oldest segment. An empty or not yet
    /// created directory is allowed: `next` returns `None` until a writer creates the first
    /// segment.
    ///
    /// # Errors
    ///
    /// [`OpenError::Io`] if the directory cannot be listed or the first segment cannot be
    /// mapped. A damaged first segment is not an open error: `next` reports it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, OpenError> {
        let mut reader = Self {
            dir: dir.as_ref().to_path_buf(),
            current: None,
            offset: 0,
            next_seq: 0,
        };
        match reader.open_first() {
            // A damaged first segment is reported by `next`, after zero records.
            Ok(()) | Err(ReadError::Corrupt { .. }) => Ok(reader),
            Err(ReadError::Io(e)) => Err(OpenError::Io(e)),
        }
    }

    /// Opens the journal in `dir` for reading from the segment whose first record is
    /// `first_seq` (a name [`list_segments`] returned): a reader that skips the older
    /// segments, e.g. to start at a state checkpoint.
    ///
    /// # Errors
    ///
    /// [`OpenError::Io`] if that segment cannot be mapped (or does not exist);
    /// [`OpenError::Corrupt`] if its header is damaged.
    pub fn open_at(dir: impl AsRef<Path>, first_seq: u64) -> Result<Self, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(segment_file_name(first_seq));
        let mut reader = Self {
            dir,
            current: None,
            offset: 0,
            next_seq: first_seq,
        };
        match reader.enter_segment(path, first_seq) {
            Ok(()) => Ok(reader),
            Err(ReadError::Io(e)) => Err(OpenError::Io(e)),
            Err(ReadError::Corrupt {
                segment,
                offset,
                reason,
            }) => Err(OpenError::Corrupt {
                segment,
                offset,
                reason,
            }),
        }
    }

    /// Returns the journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the sequence number of the next record `next` will deliver.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Returns the current segment file and byte offset of the next record, if a segment is
    /// open.
    pub fn position(&self) -> Option<(&Path, u64)> {
        self.current
            .as_ref()
            .map(|s| (s.path.as_path(), self.offset as u64))
    }

    /// Returns the next record, `None` at a clean end (call again to follow a live writer), or
    /// the error that stops the reader.
    ///
    /// # Errors
    ///
    /// [`ReadError::Corrupt`] for a torn or corrupt record, a damaged segment header or a
    /// missing next segment; [`ReadError::Io`] if a segment cannot be opened or mapped.
    #[allow(
        clippy::should_implement_trait,
        reason = "records borrow the reader's map, which Iterator cannot express"
    )]
    pub fn next(&mut self) -> Option<Result<Record<'_>, ReadError>> {
        if self.current.is_none() {
            if let Err(e) = self.open_first() {
                return Some(Err(e));
            }
        }
        loop {
            let segment = self.current.as_ref()?;
            match decode_at(
                segment.map.view(),
                segment.capacity,
                self.offset,
                self.next_seq,
            ) {
                Step::Record {
                    seq,
                    type_tag,
                    ts_ns,
                    payload_offset,
                    payload_len,
                    next_offset,
                } => {
                    self.offset = next_offset;
                    self.next_seq = seq + 1;
                    let view = self.current.as_ref()?.map.view();
                    // SAFETY: the payload belongs to a record whose commit word `decode_at`
                    // loaded non-zero; committed bytes are never rewritten.
                    let payload = unsafe { view.committed(payload_offset, payload_len) }?;
                    return Some(Ok(Record {
                        seq,
                        type_tag,
                        ts_ns,
                        payload,
                    }));
                }
                Step::End => return None,
                Step::Corrupt(reason) => return Some(Err(self.corrupt(self.offset, reason))),
                Step::EndOfSegment { next_seq } => {
                    let path = self.dir.join(segment_file_name(next_seq));
                    if !path.exists() {
                        return Some(Err(self.corrupt(
                            self.offset,
                            Corruption::MissingSegment {
                                first_seq: next_seq,
                            },
                        )));
                    }
                    if let Err(e) = self.enter_segment(path, next_seq) {
                        return Some(Err(e));
                    }
                }
            }
        }
    }

    /// Positions the reader at the oldest segment, if any.
    fn open_first(&mut self) -> Result<(), ReadError> {
        let Some((first_seq, path)) = list_segments(&self.dir)?.into_iter().next() else {
            return Ok(());
        };
        self.enter_segment(path, first_seq)
    }

    /// Maps `path`, checks its header against `first_seq` and positions after the header.
    fn enter_segment(&mut self, path: PathBuf, first_seq: u64) -> Result<(), ReadError> {
        let map = ReadMap::open(&path)?;
        let header = match check_segment_header(map.view(), first_seq) {
            Ok(header) => header,
            Err(reason) => {
                return Err(ReadError::Corrupt {
                    segment: path,
                    offset: 0,
                    reason,
                })
            }
        };
        let capacity = usize::try_from(header.capacity_bytes).unwrap_or(usize::MAX);
        self.current = Some(OpenSegment {
            path,
            map,
            first_seq,
            capacity,
        });
        self.offset = SEGMENT_HEADER_LEN;
        self.next_seq = first_seq;
        Ok(())
    }

    /// Builds a corruption error at `offset` of the current segment.
    fn corrupt(&self, offset: usize, reason: Corruption) -> ReadError {
        ReadError::Corrupt {
            segment: self
                .current
                .as_ref()
                .map(|s| s.path.clone())
                .unwrap_or_default(),
            offset: offset as u64,
            reason,
        }
    }
}

/// Result of a successful [`verify`] scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    /// Number of segment files visited.
    pub segments: usize,
    /// Number of valid records.
    pub records: u64,
    /// Sequence number of the first record, if any.
    pub first_seq: Option<u64>,
    /// Sequence number of the last record, if any.
    pub last_seq: Option<u64>,
    /// Total payload bytes.
    pub payload_bytes: u64,
}

/// Scans the whole journal in `dir` and returns a summary, or the first corruption.
///
/// Stricter than [`Reader`], which treats zeroed space as "no record yet": `verify` also
/// reports non-zero bytes after the last record of the last segment (a torn record whose
/// commit word never reached the disk) and a segment that ends without an end-of-segment
/// marker although later segments exist. Meant for a journal without a live writer (a live
/// writer can be caught between creating a segment and writing the marker).
///
/// ```
/// use journal::{verify, Durability, Writer, WriterOptions};
///
/// let dir = tempfile::tempdir()?;
/// let options = WriterOptions { durability: Durability::None, ..WriterOptions::default() };
/// let mut writer = Writer::open(dir.path(), options)?;
/// for i in 0..3 {
///     writer.append(1, i, &[0xAB; 40])?;
/// }
/// writer.close()?;
/// let summary = verify(dir.path())?;
/// assert_eq!((summary.records, summary.last_seq, summary.payload_bytes), (3, Some(2), 120));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ReadError::Corrupt`] for the first torn or corrupt position, [`ReadError::Io`] if the
/// directory or a segment cannot be read.
pub fn verify(dir: impl AsRef<Path>) -> Result<VerifySummary, ReadError> {
    let dir = dir.as_ref();
    let segments = list_segments(dir)?;
    let mut reader = Reader {
        dir: dir.to_path_buf(),
        current: None,
        offset: 0,
        next_seq: 0,
    };
    reader.open_first()?;
    let mut summary = VerifySummary {
        segments: usize::from(reader.current.is_some()),
        records: 0,
        first_seq: None,
        last_seq: None,
        payload_bytes: 0,
    };
    let mut last_path = reader.current.as_ref().map(|s| s.path.clone());
    loop {
        let step = match reader.next() {
            Some(Ok(record)) => Some((record.seq, record.payload.len() as u64)),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let now = reader.current.as_ref().map(|s| &s.path);
        if now != last_path.as_ref() {
            summary.segments += 1;
            last_path = now.cloned();
        }
        let Some((seq, payload_len)) = step else {
            break;
        };
        summary.first_seq.get_or_insert(seq);
        summary.last_seq = Some(seq);
        summary.records += 1;
        summary.payload_bytes += payload_len;
    }
    if let Some(segment) = &reader.current {
        if let Some((first_seq, _)) = segments.iter().find(|(seq, _)| *seq > segment.first_seq) {
            return Err(reader.corrupt(
                reader.offset,
                Corruption::MissingMarker {
                    next_first_seq: *first_seq,
                },
            ));
        }
        let garbage = trailing_garbage_len(segment.map.view(), reader.offset);
        if garbage > 0 {
            return Err(reader.corrupt(
                reader.offset,
                Corruption::TrailingGarbage { bytes: garbage },
            ));
        }
    }
    Ok(summary)
}

/// Lists the segment files of `dir` as `(first_seq, path)`, sorted by sequence number. A
/// missing directory is an empty journal.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, JournalIoError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(JournalIoError::new(dir, "list directory", e)),
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalIoError::new(dir, "list directory", e))?;
        if let Some(seq) = entry.file_name().to_str().and_then(parse_segment_file_name) {
            segments.push((seq, entry.path()));
        }
    }
    segments.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(segments)
}
