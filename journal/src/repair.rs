//! Explicit repair of a damaged journal: keeps every intact record before the first damage and
//! sets the damaged bytes aside, never deleting them.
//!
//! Consumes a journal directory without a live writer; produces a journal that reads cleanly
//! to its end (and that `Writer::open` continues) plus a [`RepairReport`] of what was done, or
//! `None` when nothing needed repair. The damaged segment is kept under a new name
//! (`*.seg.damaged`, a hard link or copy of the original bytes) and replaced, by one atomic
//! rename, with a copy whose bytes from the damage on are zeroed; every later segment is
//! renamed to `*.seg.orphaned`. Nothing is deleted. Cold path.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::decode::{count_valid_records, find_valid_record, trailing_garbage_len};
use crate::error::{Corruption, JournalIoError, ReadError};
use crate::format::{
    encode_segment_header, Checksum, SegmentHeader, MIN_SEGMENT_BYTES, RECORD_ALIGN,
    SEGMENT_HEADER_LEN,
};
use crate::reader::{list_segments, Reader};
use crate::recovery::ORPHAN_SUFFIX;
use crate::segment::{sync_dir, ReadMap};

/// Suffix given to the original bytes of a repaired segment.
const DAMAGED_SUFFIX: &str = ".damaged";

/// Suffix of the repaired copy while it is written (no reader or writer looks at it).
const REPAIR_TMP_SUFFIX: &str = ".repair-tmp";

/// What [`repair`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// The segment the first damage is in. After the repair this name holds the repaired copy.
    pub segment: PathBuf,
    /// Byte offset of the first damage in that segment.
    pub offset: u64,
    /// What was wrong there.
    pub reason: Corruption,
    /// Where the original bytes of the damaged segment now are.
    pub damaged_copy: PathBuf,
    /// Sequence number of the journal's first record (the first kept record).
    pub first_seq: u64,
    /// Sequence number after the last kept record: the journal continues with it.
    pub next_seq: u64,
    /// Later segments renamed to `*.seg.orphaned` (they cannot follow the damage).
    pub set_aside: Vec<PathBuf>,
    /// Intact records found after the damage, in the damaged segment and the set-aside ones:
    /// no longer part of the journal, still in the set-aside files.
    pub records_set_aside: u64,
    /// Capacity in bytes of the repaired segment.
    pub segment_bytes: u64,
}

impl RepairReport {
    /// Returns the number of records kept.
    #[must_use]
    pub fn records_kept(&self) -> u64 {
        self.next_seq - self.first_seq
    }
}

/// Failure of [`repair`].
#[derive(Debug)]
pub enum RepairError {
    /// A file-system operation failed; the journal is left as the text says (every step is
    /// a rename or a new file, so running the repair again continues it).
    Io(JournalIoError),
}

impl std::fmt::Display for RepairError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot repair journal: {e}"),
        }
    }
}

impl std::error::Error for RepairError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
        }
    }
}

impl From<JournalIoError> for RepairError {
    fn from(e: JournalIoError) -> Self {
        Self::Io(e)
    }
}

/// Where the journal's intact records end.
struct Damage {
    segment: PathBuf,
    first_seq_of_segment: u64,
    offset: u64,
    reason: Corruption,
    next_seq: u64,
}

/// Repairs the journal in `dir`, which no writer may have open: finds the first damage
/// (a torn or corrupt record or segment header, a missing segment, an intact record after a
/// zeroed header, a segment without end marker followed by another, non-zero bytes after the
/// last record), keeps every record before it and sets the rest aside (see the module docs).
/// Returns `None`, changing nothing, when the journal reads cleanly to its end.
///
/// ```
/// use journal::{repair, Durability, Reader, Writer, WriterOptions};
///
/// let dir = tempfile::tempdir()?;
/// let options = WriterOptions { durability: Durability::None, ..WriterOptions::default() };
/// let mut writer = Writer::open(dir.path(), options)?;
/// for i in 0..3u8 {
///     writer.append(1, 0, &[i; 10])?;
/// }
/// writer.close()?;
/// assert!(repair(dir.path())?.is_none()); // nothing to repair
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`RepairError::Io`] when a segment cannot be read, copied, written or renamed.
pub fn repair(dir: impl AsRef<Path>) -> Result<Option<RepairReport>, RepairError> {
    let dir = dir.as_ref();
    let segments = list_segments(dir)?;
    let Some(&(journal_first_seq, _)) = segments.first() else {
        return Ok(None);
    };
    let Some(damage) = find_damage(dir, &segments)? else {
        return Ok(None);
    };
    let later: Vec<&(u64, PathBuf)> = segments
        .iter()
        .filter(|(first, _)| *first > damage.first_seq_of_segment)
        .collect();
    let mut records_set_aside = {
        let map = ReadMap::open(&damage.segment)?;
        count_valid_records(map.view(), damage.offset as usize)
    };
    let mut set_aside = Vec::with_capacity(later.len());
    for (_, path) in &later {
        let map = ReadMap::open(path)?;
        records_set_aside += count_valid_records(map.view(), SEGMENT_HEADER_LEN);
        drop(map);
        let target = unique_name(path, ORPHAN_SUFFIX);
        fs::rename(path, &target)
            .map_err(|e| JournalIoError::new(path.as_path(), "rename set-aside segment", e))?;
        set_aside.push(target);
    }
    let tmp = with_suffix(&damage.segment, REPAIR_TMP_SUFFIX);
    let segment_bytes = write_repaired_copy(&damage, &tmp)?;
    let damaged_copy = unique_name(&damage.segment, DAMAGED_SUFFIX);
    if fs::hard_link(&damage.segment, &damaged_copy).is_err() {
        fs::copy(&damage.segment, &damaged_copy)
            .map_err(|e| JournalIoError::new(&damaged_copy, "copy damaged segment", e))?;
    }
    // One atomic rename: a crash leaves either the damaged or the repaired segment in place.
    fs::rename(&tmp, &damage.segment)
        .map_err(|e| JournalIoError::new(&tmp, "rename repaired segment", e))?;
    sync_dir(dir)?;
    log::warn!(
        "Journal {} repaired: damage in {} at byte {} ({}); kept records {}..{}, original bytes in {}, {} later segments and {} records after the damage set aside",
        dir.display(),
        damage.segment.display(),
        damage.offset,
        damage.reason,
        journal_first_seq,
        damage.next_seq,
        damaged_copy.display(),
        set_aside.len(),
        records_set_aside
    );
    Ok(Some(RepairReport {
        segment: damage.segment,
        offset: damage.offset,
        reason: damage.reason,
        damaged_copy,
        first_seq: journal_first_seq,
        next_seq: damage.next_seq,
        set_aside,
        records_set_aside,
        segment_bytes,
    }))
}

/// Reads the journal from its first record and returns where its intact records end, if
/// anything but a clean end follows them.
fn find_damage(dir: &Path, segments: &[(u64, PathBuf)]) -> Result<Option<Damage>, RepairError> {
    let mut reader = Reader::open(dir).map_err(|e| match e {
        crate::OpenError::Io(e) => RepairError::Io(e),
        other => RepairError::Io(JournalIoError::new(
            dir,
            "open reader",
            std::io::Error::other(other.to_string()),
        )),
    })?;
    let first_of = |path: &Path| {
        segments
            .iter()
            .find(|(_, p)| p == path)
            .map_or(0, |(first, _)| *first)
    };
    loop {
        match reader.next() {
            Some(Ok(_)) => {}
            Some(Err(ReadError::Io(e))) => return Err(RepairError::Io(e)),
            Some(Err(ReadError::Corrupt {
                segment,
                offset,
                reason,
            })) => {
                let first_seq_of_segment = first_of(&segment);
                // A damaged header: the segment's records start at the one its name announces.
                let next_seq = if offset == 0 {
                    first_seq_of_segment
                } else {
                    reader.next_seq()
                };
                return Ok(Some(Damage {
                    first_seq_of_segment,
                    segment,
                    offset,
                    reason,
                    next_seq,
                }));
            }
            None => break,
        }
    }
    let Some((segment, offset)) = reader.position() else {
        return Ok(None);
    };
    let segment = segment.to_path_buf();
    let first_seq_of_segment = first_of(&segment);
    let next_seq = reader.next_seq();
    let map = ReadMap::open(&segment)?;
    let reason = if let Some((at, _)) = find_valid_record(map.view(), offset as usize, next_seq) {
        Some(Corruption::LostRecord {
            next_valid_offset: at as u64,
        })
    } else if let Some((next_first_seq, _)) = segments
        .iter()
        .find(|(first, _)| *first > first_seq_of_segment)
    {
        Some(Corruption::MissingMarker {
            next_first_seq: *next_first_seq,
        })
    } else {
        let bytes = trailing_garbage_len(map.view(), offset as usize);
        (bytes > 0).then_some(Corruption::TrailingGarbage { bytes })
    };
    Ok(reason.map(|reason| Damage {
        segment,
        first_seq_of_segment,
        offset,
        reason,
        next_seq,
    }))
}

/// Writes the repaired copy of the damaged segment to `tmp`: the original bytes with every
/// byte from the damage on zeroed, or, for a damaged segment header, a fresh empty segment of
/// the same size. Returns its capacity.
fn write_repaired_copy(damage: &Damage, tmp: &Path) -> Result<u64, JournalIoError> {
    let src = &damage.segment;
    let len = fs::metadata(src)
        .map_err(|e| JournalIoError::new(src, "stat", e))?
        .len();
    let capacity = (len - len % RECORD_ALIGN as u64).max(MIN_SEGMENT_BYTES as u64);
    let _ = fs::remove_file(tmp);
    let mut file = if damage.offset == 0 {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(|e| JournalIoError::new(tmp, "create", e))?;
        file.set_len(capacity)
            .map_err(|e| JournalIoError::new(tmp, "preallocate", e))?;
        let header = encode_segment_header(SegmentHeader {
            first_seq: damage.first_seq_of_segment,
            capacity_bytes: capacity,
            // An empty segment: written in the current format version.
            checksum: Checksum::Crc32c,
        });
        file.write_all(&header)
            .map_err(|e| JournalIoError::new(tmp, "write header", e))?;
        file
    } else {
        fs::copy(src, tmp).map_err(|e| JournalIoError::new(tmp, "copy segment", e))?;
        let zero_to = {
            let map = ReadMap::open(src)?;
            damage.offset + trailing_garbage_len(map.view(), damage.offset as usize)
        };
        let mut file = OpenOptions::new()
            .write(true)
            .open(tmp)
            .map_err(|e| JournalIoError::new(tmp, "open", e))?;
        zero_range(&mut file, tmp, damage.offset, zero_to)?;
        file
    };
    file.flush()
        .and_then(|()| file.sync_all())
        .map_err(|e| JournalIoError::new(tmp, "fsync", e))?;
    Ok(if damage.offset == 0 { capacity } else { len })
}

/// Overwrites bytes `from..to` of `file` with zeros.
fn zero_range(file: &mut File, path: &Path, from: u64, to: u64) -> Result<(), JournalIoError> {
    const CHUNK: usize = 64 * 1024;
    let zeros = [0u8; CHUNK];
    file.seek(SeekFrom::Start(from))
        .map_err(|e| JournalIoError::new(path, "seek", e))?;
    let mut left = to.saturating_sub(from);
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        file.write_all(&zeros[..n])
            .map_err(|e| JournalIoError::new(path, "zero damaged bytes", e))?;
        left -= n as u64;
    }
    Ok(())
}

/// Returns `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Returns `path` + `suffix`, or + `suffix.N` for the smallest N that names no existing file,
/// so an earlier repair's files are never overwritten.
fn unique_name(path: &Path, suffix: &str) -> PathBuf {
    let first = with_suffix(path, suffix);
    if !first.exists() {
        return first;
    }
    (1u32..)
        .map(|n| with_suffix(path, &format!("{suffix}.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}
