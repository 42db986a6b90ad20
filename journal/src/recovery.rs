//! Crash recovery for `Writer::open`: finds the last good record, zeroes a torn tail, repairs
//! or sets aside segments after it, and hands back the segment to continue appending to.
//!
//! Consumes the segment files of a journal directory; produces the writer's starting state and
//! a [`Recovery`] report, or [`OpenError::Corrupt`]. A torn tail is only damage after the last
//! complete record of the journal with no intact record anywhere after it (a crash tears the
//! end of what was being written, nothing before it); damage followed by intact records, in
//! any scanned segment, is corruption and refused untouched, so no record is ever discarded to
//! open a journal (an explicit `repair` does that, keeping a copy). It never deletes a segment
//! that may hold records: empty segments that cannot follow the last good record are renamed
//! to `*.seg.orphaned`. It only zeroes bytes after the last valid record. Runs once at open
//! (cold path).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::decode::{decode_at, find_valid_record, trailing_garbage_len, validate_header, Step};
use crate::error::{Corruption, JournalIoError, OpenError};
use crate::format::{
    decode_segment_header, segment_file_name, Checksum, MARKER_LEN, SEGMENT_HEADER_LEN,
};
use crate::reader::list_segments;
use crate::segment::{
    create_segment, open_for_append, sync_dir, PrepareOptions, ReadMap, SegmentWriter, TMP_SUFFIX,
};

/// Suffix given to segments set aside by recovery.
pub(crate) const ORPHAN_SUFFIX: &str = ".orphaned";

/// Where recovery found the journal's valid data to end early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Segment file of the torn or corrupt record.
    pub segment: PathBuf,
    /// Byte offset of the torn or corrupt record.
    pub offset: u64,
    /// What was wrong there.
    pub reason: Corruption,
    /// Bytes from `offset` up to the last non-zero byte of the segment that recovery zeroed
    /// (0 when the tail was only read, not repaired).
    pub discarded_bytes: u64,
}

/// What `Writer::open` found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Segments scanned (only the last two segments are scanned; earlier ones are closed by
    /// their end-of-segment markers).
    pub segments_scanned: usize,
    /// Valid records found in the scanned segments.
    pub records_scanned: u64,
    /// Sequence number of the last valid record in the journal (`None` if there is none in
    /// the scanned segments).
    pub last_seq: Option<u64>,
    /// Sequence number the writer continues with.
    pub next_seq: u64,
    /// The torn or corrupt record that ended the valid data, if any (a clean end is `None`).
    pub torn: Option<TornTail>,
    /// Non-zero bytes after the last valid record that were zeroed.
    pub discarded_bytes: u64,
    /// End-of-segment markers rewritten because a crash lost them while the next segment
    /// continues the sequence.
    pub repaired_markers: usize,
    /// Segments renamed to `*.seg.orphaned` because they cannot follow the last good record.
    pub orphaned_segments: Vec<PathBuf>,
    /// Temporary segments (`*.seg.tmp`) with a valid header renamed to their final name: the
    /// writer had started appending to them and crashed before the background thread renamed
    /// them (rotation renames off the writer's thread).
    pub adopted_tmp_segments: usize,
    /// Leftover temporary segments (`*.seg.tmp`) deleted.
    pub removed_tmp_files: usize,
}

/// The writer's starting state.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Segment to append to.
    pub seg: SegmentWriter,
    /// Offset of the next record in `seg`.
    pub pos: usize,
    /// Sequence number of the next record.
    pub next_seq: u64,
    /// What was found.
    pub report: Recovery,
}

/// How the scan of one segment ended.
enum SegmentEnd {
    /// A valid end-of-segment marker at `offset`.
    Marker { offset: usize },
    /// A clean end (`None`) or a torn/corrupt record, at `offset`.
    Open {
        offset: usize,
        corruption: Option<Corruption>,
    },
}

/// Recovers the journal in `dir` (which exists) for appending.
pub(crate) fn recover(dir: &Path, options: &PrepareOptions) -> Result<Recovered, OpenError> {
    let mut report = Recovery::default();
    let lowest_adopted = adopt_or_remove_tmp_files(dir, options.durable, &mut report)?;
    let segments = list_segments(dir)?;
    let Some(mut start) = segments
        .len()
        .checked_sub(2)
        .or(segments.len().checked_sub(1))
    else {
        let seg = create_segment(dir, options, 0)?;
        return Ok(Recovered {
            seg,
            pos: SEGMENT_HEADER_LEN,
            next_seq: 0,
            report,
        });
    };
    if let Some(lowest) = lowest_adopted {
        // The segment before the first adopted one may lack its end marker: scan from there.
        if let Some(i) = segments.iter().position(|(first, _)| *first == lowest) {
            start = start.min(i.saturating_sub(1));
        }
    }
    let mut expected = segments[start].0;
    let mut i = start;
    loop {
        let path = &segments[i].1;
        let (capacity, checksum) = match read_header(path, expected)? {
            Ok(header) => header,
            Err(reason) => {
                // A damaged header in front of intact records (here or in a later segment) is
                // corruption; only an empty segment's header can be a torn tail.
                if any_record_in(path, SEGMENT_HEADER_LEN)?
                    || any_record_in_any(&segments[i + 1..])?
                {
                    return Err(OpenError::Corrupt {
                        segment: path.clone(),
                        offset: 0,
                        reason,
                    });
                }
                report.torn = Some(TornTail {
                    segment: path.clone(),
                    offset: 0,
                    reason,
                    discarded_bytes: 0,
                });
                orphan(&segments[i..], &mut report)?;
                return fresh_segment(dir, options, expected, report);
            }
        };
        let mut seg = open_for_append(path, capacity, checksum)?;
        report.segments_scanned += 1;
        let end = scan(&seg, capacity, &mut expected, &mut report);
        let next_follows = segments
            .get(i + 1)
            .map(|(first_seq, _)| *first_seq == expected);
        match end {
            SegmentEnd::Marker { offset } => match next_follows {
                Some(true) => {
                    i += 1;
                    continue;
                }
                Some(false) => {
                    if any_record_in_any(&segments[i + 1..])? {
                        return Err(OpenError::Corrupt {
                            segment: path.clone(),
                            offset: offset as u64,
                            reason: Corruption::MissingSegment {
                                first_seq: expected,
                            },
                        });
                    }
                    orphan(&segments[i + 1..], &mut report)?;
                    return fresh_segment(dir, options, expected, report);
                }
                None => return fresh_segment(dir, options, expected, report),
            },
            SegmentEnd::Open { offset, corruption } => {
                let garbage = trailing_garbage_len(seg.view(), offset);
                check_nothing_follows(
                    &seg,
                    path,
                    (offset, garbage),
                    expected,
                    corruption,
                    next_follows,
                    &segments[i + 1..],
                )?;
                if corruption.is_some() || garbage > 0 {
                    report.torn = Some(TornTail {
                        segment: path.clone(),
                        offset: offset as u64,
                        reason: corruption
                            .unwrap_or(Corruption::TrailingGarbage { bytes: garbage }),
                        discarded_bytes: garbage,
                    });
                }
                report.discarded_bytes += garbage;
                seg.zero_range(offset, offset + garbage as usize);
                if options.durable && garbage > 0 {
                    seg.shared().sync_range(offset, offset + garbage as usize)?;
                }
                if next_follows == Some(true) && offset + MARKER_LEN <= seg.len() {
                    // The crash lost the marker but the next segment continues the sequence.
                    seg.write_end_marker(offset, expected);
                    if options.durable {
                        seg.shared().sync_range(offset, offset + MARKER_LEN)?;
                    }
                    report.repaired_markers += 1;
                    i += 1;
                    continue;
                }
                if next_follows.is_some() {
                    orphan(&segments[i + 1..], &mut report)?;
                }
                if options.prefault {
                    seg.prefault_from(offset);
                }
                seg.shared().committed.0.store(offset, Ordering::Release);
                report.next_seq = expected;
                return Ok(Recovered {
                    seg,
                    pos: offset,
                    next_seq: expected,
                    report,
                });
            }
        }
    }
}

/// Refuses (as [`OpenError::Corrupt`]) to treat the end of the valid records of `seg` at
/// `offset`, followed by `garbage` bytes up to the last non-zero one, as a torn tail when intact records follow: later in `seg` (at any 8-byte aligned
/// offset, so a destroyed length field does not hide them), or, after a bad record or a clean
/// end whose next segment does not continue the sequence, in any `later` segment. A clean end
/// whose next segment continues the sequence is the marker a crash lost during rotation.
fn check_nothing_follows(
    seg: &SegmentWriter,
    path: &Path,
    (offset, garbage): (usize, u64),
    expected: u64,
    corruption: Option<Corruption>,
    next_follows: Option<bool>,
    later: &[(u64, PathBuf)],
) -> Result<(), OpenError> {
    let corrupt = |reason| OpenError::Corrupt {
        segment: path.to_path_buf(),
        offset: offset as u64,
        reason,
    };
    // Only non-zero bytes can hold a record: a clean end followed by zeros needs no search.
    let in_segment = if garbage > 0 {
        find_valid_record(seg.view(), offset, expected)
    } else {
        None
    };
    if let Some((at, _)) = in_segment {
        return Err(corrupt(corruption.unwrap_or(Corruption::LostRecord {
            next_valid_offset: at as u64,
        })));
    }
    let lost_marker = corruption.is_none() && next_follows == Some(true);
    if lost_marker || !any_record_in_any(later)? {
        return Ok(());
    }
    Err(corrupt(corruption.unwrap_or(Corruption::MissingMarker {
        next_first_seq: later.first().map_or(expected, |(first, _)| *first),
    })))
}

/// Returns true when the segment file at `path` holds an intact record (or end-of-segment
/// marker) at or after `from`, whatever its sequence number.
fn any_record_in(path: &Path, from: usize) -> Result<bool, JournalIoError> {
    let map = ReadMap::open(path)?;
    Ok(find_valid_record(map.view(), from, 0).is_some())
}

/// Returns true when any of `segments` holds an intact record after its header.
fn any_record_in_any(segments: &[(u64, PathBuf)]) -> Result<bool, JournalIoError> {
    for (_, path) in segments {
        if any_record_in(path, SEGMENT_HEADER_LEN)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Scans the records of `seg` from its header on, advancing `expected` and the report.
fn scan(
    seg: &SegmentWriter,
    capacity: usize,
    expected: &mut u64,
    report: &mut Recovery,
) -> SegmentEnd {
    let mut offset = SEGMENT_HEADER_LEN;
    loop {
        match decode_at(seg.view(), capacity, offset, *expected) {
            Step::Record {
                seq, next_offset, ..
            } => {
                offset = next_offset;
                *expected = seq + 1;
                report.records_scanned += 1;
                report.last_seq = Some(seq);
            }
            Step::EndOfSegment { .. } => return SegmentEnd::Marker { offset },
            Step::End => {
                return SegmentEnd::Open {
                    offset,
                    corruption: None,
                }
            }
            Step::Corrupt(reason) => {
                return SegmentEnd::Open {
                    offset,
                    corruption: Some(reason),
                }
            }
        }
    }
}

/// Reads and validates the header of `path`; the inner error is a corruption, the outer one an
/// io failure. Returns the segment capacity and the checksum of its records.
fn read_header(
    path: &Path,
    expected: u64,
) -> Result<Result<(usize, Checksum), Corruption>, JournalIoError> {
    let mut bytes = Vec::with_capacity(SEGMENT_HEADER_LEN);
    fs::File::open(path)
        .and_then(|f| f.take(SEGMENT_HEADER_LEN as u64).read_to_end(&mut bytes))
        .map_err(|e| JournalIoError::new(path, "read header", e))?;
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Ok(Err(Corruption::BadSegmentHeader(
            "segment shorter than its 64-byte header",
        )));
    }
    Ok(validate_header(&bytes, expected).map(|h| (h.capacity_bytes as usize, h.checksum)))
}

/// Creates a new empty segment starting at `next_seq` and returns it as the writer's state.
fn fresh_segment(
    dir: &Path,
    options: &PrepareOptions,
    next_seq: u64,
    mut report: Recovery,
) -> Result<Recovered, OpenError> {
    let seg = create_segment(dir, options, next_seq)?;
    report.next_seq = next_seq;
    Ok(Recovered {
        seg,
        pos: SEGMENT_HEADER_LEN,
        next_seq,
        report,
    })
}

/// Renames `segments` to `*.seg.orphaned` and records them in the report.
fn orphan(segments: &[(u64, PathBuf)], report: &mut Recovery) -> Result<(), JournalIoError> {
    for (_, path) in segments {
        let mut target = path.clone().into_os_string();
        target.push(ORPHAN_SUFFIX);
        let target = PathBuf::from(target);
        fs::rename(path, &target)
            .map_err(|e| JournalIoError::new(path, "rename orphaned segment", e))?;
        log::warn!(
            "Journal segment {} cannot follow the last good record, renamed to {}",
            path.display(),
            target.display()
        );
        report.orphaned_segments.push(target);
    }
    Ok(())
}

/// Handles temporary segments left by a crashed writer: one with a valid header was started
/// by the writer (it may hold records) and is renamed to its final name unless that name
/// exists; any other is deleted. Returns the lowest first sequence number adopted.
fn adopt_or_remove_tmp_files(
    dir: &Path,
    durable: bool,
    report: &mut Recovery,
) -> Result<Option<u64>, JournalIoError> {
    let entries = fs::read_dir(dir).map_err(|e| JournalIoError::new(dir, "list directory", e))?;
    let mut lowest: Option<u64> = None;
    for entry in entries {
        let entry = entry.map_err(|e| JournalIoError::new(dir, "list directory", e))?;
        let is_tmp = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.ends_with(TMP_SUFFIX));
        if !is_tmp {
            continue;
        }
        let path = entry.path();
        let mut bytes = Vec::with_capacity(SEGMENT_HEADER_LEN);
        fs::File::open(&path)
            .and_then(|f| f.take(SEGMENT_HEADER_LEN as u64).read_to_end(&mut bytes))
            .map_err(|e| JournalIoError::new(&path, "read header", e))?;
        let target = decode_segment_header(&bytes)
            .ok()
            .map(|h| (h.first_seq, dir.join(segment_file_name(h.first_seq))))
            .filter(|(_, target)| !target.exists());
        match target {
            Some((first_seq, target)) => {
                fs::rename(&path, &target)
                    .map_err(|e| JournalIoError::new(&path, "rename started segment", e))?;
                log::warn!(
                    "Journal segment {} was started but not renamed before a crash, renamed to {}",
                    path.display(),
                    target.display()
                );
                report.adopted_tmp_segments += 1;
                lowest = Some(lowest.map_or(first_seq, |l| l.min(first_seq)));
            }
            None => {
                fs::remove_file(&path).map_err(|e| JournalIoError::new(&path, "remove", e))?;
                report.removed_tmp_files += 1;
            }
        }
    }
    if durable && report.adopted_tmp_segments > 0 {
        sync_dir(dir)?;
    }
    Ok(lowest)
}
