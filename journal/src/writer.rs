//! The single appender of a journal: options, durability policy, the per-record append path,
//! rotation, sync and close.
//!
//! Consumes type tags, timestamps and payload bytes; produces records in memory-mapped
//! segments and their sequence numbers. On the per-record path (`append`, `append_with`) it
//! never allocates, never locks and never makes a system call, except the msync that
//! `Durability::EveryRecord` asks for. Rotation with the preparer thread allocates nothing
//! and makes no file-system call either (see `Writer::rotate`); `sync`, `flush` and `close`
//! are the cold path.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::background::{Flusher, Preparer, Retirement};
use crate::error::{AppendError, JournalIoError, OpenError, SyncError};
use crate::format::{
    commit_word, encode_record_tail, max_payload_len, record_len, KIND_RECORD, MARKER_LEN,
    MIN_SEGMENT_BYTES, RECORD_ALIGN, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::recovery::{recover, Recovery};
use crate::segment::{create_segment, PrepareOptions, PreparedSegment, SegmentWriter};

/// When appended records are forced to disk.
///
/// Whatever the policy, an appended record is immediately visible to readers (the map is
/// shared; right after a rotation with `precreate_next`, once the background thread has
/// renamed the new segment) and survives a crash of the process (it is in the page cache,
/// and recovery adopts a new segment the thread had not renamed yet); the policy only
/// decides what survives a crash of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// No msync: the kernel writes pages back on its own schedule (typically within 30 s).
    /// `sync` and `close` still msync on request.
    None,
    /// A background flusher thread msyncs everything committed every interval, so at most
    /// about one interval of records is lost in a machine crash. The append path stays free
    /// of system calls and locks.
    Interval(Duration),
    /// Every append msyncs its record before returning. This costs a disk round trip per
    /// record: `journal_bench` measured p50 3.5 ms, p99 12 ms per 64-byte append (243
    /// records/s) on the development VM's disk, against 60 ns p50 without it.
    EveryRecord,
}

/// Options of [`Writer::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Size of each new segment file in bytes; a multiple of 8, at least
    /// [`MIN_SEGMENT_BYTES`](crate::MIN_SEGMENT_BYTES). Default 64 MiB. The largest payload is
    /// [`max_payload_len`](crate::max_payload_len) of this size.
    pub segment_bytes: usize,
    /// Durability policy. Default `Interval(100 ms)`.
    pub durability: Durability,
    /// Pre-fault new segments writable (Linux `MADV_POPULATE_WRITE`, which also allocates the
    /// file's blocks) so appends take no page faults. Default true.
    pub prefault: bool,
    /// Prepare the next segments on a background thread (two ahead: created, blocks
    /// allocated, mapped, pre-faulted, bookkeeping allocated) and complete rotations there
    /// (rename into place, end marker, msync, unmap), so a rotation on the writer's thread
    /// allocates nothing and makes no file-system call. Default true. A writer that fills
    /// segments faster than the thread prepares them waits for the thread's next segment,
    /// counted in [`WriterStats::segment_waits`] and [`WriterStats::segment_wait_ns`] (and
    /// creates one inline, counted in [`WriterStats::inline_segment_creates`], only if the
    /// thread failed or did not deliver within a second). Side effect: the records of a new
    /// segment become visible to readers once the thread has renamed it and published the
    /// old segment's marker (microseconds normally; `sync` waits for it).
    pub precreate_next: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            durability: Durability::Interval(Duration::from_millis(100)),
            prefault: true,
            precreate_next: true,
        }
    }
}

impl WriterOptions {
    /// Checks the options.
    fn validate(&self) -> Result<(), OpenError> {
        if self.segment_bytes < MIN_SEGMENT_BYTES {
            return Err(OpenError::InvalidOptions(
                "segment_bytes is below MIN_SEGMENT_BYTES",
            ));
        }
        if self.segment_bytes % RECORD_ALIGN != 0 {
            return Err(OpenError::InvalidOptions(
                "segment_bytes is not a multiple of 8",
            ));
        }
        if let Durability::Interval(d) = self.durability {
            if d.is_zero() {
                return Err(OpenError::InvalidOptions("durability interval is zero"));
            }
        }
        Ok(())
    }

    /// Returns how new segments are prepared.
    pub(crate) fn prepare_options(&self) -> PrepareOptions {
        PrepareOptions {
            capacity: self.segment_bytes,
            prefault: self.prefault,
            durable: self.durable(),
        }
    }

    /// Returns whether segment creation must be made durable (header msync, directory fsync).
    pub(crate) fn durable(&self) -> bool {
        self.durability != Durability::None
    }
}

/// Appends records to a journal directory. One writer per directory.
///
/// ```
/// use journal::{Durability, Writer, WriterOptions};
///
/// let dir = tempfile::tempdir()?;
/// let options = WriterOptions {
///     segment_bytes: 1 << 20,
///     durability: Durability::Interval(std::time::Duration::from_millis(10)),
///     ..WriterOptions::default()
/// };
/// let mut writer = Writer::open(dir.path(), options)?;
/// assert_eq!(writer.append(1, 1_700_000_000_000_000_000, b"order intent")?, 0);
/// // Serialize straight into the map: no intermediate buffer.
/// let seq = writer.append_with(2, 1_700_000_000_000_000_001, 16, |buf| {
///     buf[..8].copy_from_slice(&42u64.to_le_bytes());
///     buf[8..].copy_from_slice(&7u64.to_le_bytes());
/// })?;
/// assert_eq!(seq, 1);
/// writer.close()?; // final msync; the segment keeps its preallocated size
///
/// let writer = Writer::open(dir.path(), options)?; // reopen continues the sequence
/// assert_eq!((writer.next_seq(), writer.recovery().last_seq), (2, Some(1)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Writer {
    /// Journal directory.
    dir: PathBuf,
    /// Options given at open.
    options: WriterOptions,
    /// Segment being appended to.
    seg: SegmentWriter,
    /// Offset of the next record in `seg`. Invariant: 8-aligned, `<= limit`.
    pos: usize,
    /// Records must end at or before this offset (`seg.len() - MARKER_LEN`).
    limit: usize,
    /// End of the bytes possibly written by an unfinished `append_with` closure (differs from
    /// `pos` only after the closure panicked; the next append zeroes the range).
    dirty_end: usize,
    /// Sequence number of the next record.
    next_seq: u64,
    /// Largest payload accepted (from `options.segment_bytes`).
    max_payload: usize,
    /// Flusher thread of `Durability::Interval`.
    flusher: Option<Flusher>,
    /// Preparer thread of `precreate_next`.
    preparer: Option<Preparer>,
    /// What `open` found.
    recovery: Recovery,
    /// Rotations so far.
    rotations: u64,
    /// Set once `close` ran (so `Drop` does nothing).
    closed: bool,
}

/// Rotation statistics of a [`Writer`] (see [`Writer::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Segment rotations since open.
    pub rotations: u64,
    /// Rotations that got no prepared segment (its preparation failed, or the background
    /// thread did not deliver one within a second of waiting) and created the file on the
    /// writer's thread: these allocate and make system calls. Always 0 without
    /// `precreate_next` (then every rotation is inline by design and not counted here).
    pub inline_segment_creates: u64,
    /// Rotations that found no prepared segment ready and waited for the background thread
    /// (the writer fills segments faster than the thread prepares them).
    pub segment_waits: u64,
    /// Total time the writer spent in those waits, in nanoseconds: the writer's stall time
    /// waiting for a segment.
    pub segment_wait_ns: u64,
    /// Rotations that found the hand-off queue to the background thread full and waited.
    pub handoff_stalls: u64,
    /// Rotations the background thread completed (rename, end marker, msync, unmap).
    pub background_rotations: u64,
}

impl Writer {
    /// Opens (creating if needed) the journal in `dir` for appending. An existing journal is
    /// recovered first: the last good record is found, a torn tail is zeroed and appends
    /// continue with the next sequence number; see [`Writer::recovery`] for what was found.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidOptions`] for unusable options, [`OpenError::Io`] when the
    /// directory or a segment cannot be created, opened, mapped or renamed, or a background
    /// thread cannot be spawned. [`OpenError::Corrupt`] when damage in the last two segments is
    /// followed by intact records (not a torn tail; nothing is changed: see [`crate::repair`]).
    /// Damage in older segments is left to readers, which stop there.
    pub fn open(dir: impl AsRef<Path>, options: WriterOptions) -> Result<Self, OpenError> {
        options.validate()?;
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| JournalIoError::new(&dir, "create directory", e))?;
        let recovered = recover(&dir, &options.prepare_options())?;
        let seg = recovered.seg;
        let flusher = match options.durability {
            Durability::Interval(interval) => {
                Some(Flusher::start(Arc::clone(seg.shared()), interval, &dir)?)
            }
            Durability::None | Durability::EveryRecord => None,
        };
        let preparer = if options.precreate_next {
            Some(Preparer::start(dir.clone(), options.prepare_options())?)
        } else {
            None
        };
        match &recovered.report.torn {
            Some(torn) => log::warn!(
                "Journal {} torn tail truncated: {} bytes zeroed after the last complete record in {} at byte {} ({}); opened at sequence {}",
                dir.display(),
                recovered.report.discarded_bytes,
                torn.segment.display(),
                torn.offset,
                torn.reason,
                recovered.next_seq
            ),
            None => log::info!(
                "Journal {} opened at sequence {} (0 bytes discarded)",
                dir.display(),
                recovered.next_seq
            ),
        }
        Ok(Self {
            dir,
            options,
            limit: seg.len() - MARKER_LEN,
            seg,
            pos: recovered.pos,
            dirty_end: recovered.pos,
            next_seq: recovered.next_seq,
            max_payload: max_payload_len(options.segment_bytes),
            flusher,
            preparer,
            recovery: recovered.report,
            rotations: 0,
            closed: false,
        })
    }

    /// Returns the journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the options the writer was opened with.
    pub fn options(&self) -> &WriterOptions {
        &self.options
    }

    /// Returns the sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Returns the largest payload an append accepts.
    pub fn max_payload_len(&self) -> usize {
        self.max_payload
    }

    /// Returns what recovery found when the writer was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Returns the path of the segment being appended to.
    pub fn current_segment(&self) -> &Path {
        self.seg.shared().path()
    }

    /// Returns how many bytes of records appended to the current segment are not yet forced to
    /// disk: the committed offset minus the offset the last completed msync (`MS_SYNC`) reached,
    /// the segment header not counted. 0 right after [`Writer::sync`] and always 0 under
    /// [`Durability::EveryRecord`] (once a record was appended); under [`Durability::Interval`]
    /// it drops to 0 at each flusher tick; under [`Durability::None`] it only drops at `sync`.
    /// Records recovered at open count until the first sync (the writer cannot tell whether a
    /// crashed process's records reached the disk). A segment rotated away is synced by the
    /// background thread and not counted here. Two atomic loads: no lock, no system call,
    /// callable on the hot path.
    pub fn unsynced_bytes(&self) -> u64 {
        let shared = self.seg.shared();
        let committed = shared.committed.0.load(Ordering::Acquire);
        let synced = shared
            .synced
            .0
            .load(Ordering::Acquire)
            .max(SEGMENT_HEADER_LEN);
        u64::try_from(committed.saturating_sub(synced)).unwrap_or(u64::MAX)
    }

    /// Appends one record and returns its sequence number.
    ///
    /// Copies header and payload into the mapped segment and publishes the record with one
    /// release store: no allocation, lock or system call (rotation to a new segment aside, and
    /// the msync of `Durability::EveryRecord`).
    ///
    /// # Errors
    ///
    /// [`AppendError::TooLarge`] if the payload exceeds [`Writer::max_payload_len`];
    /// [`AppendError::Rotate`] if a new segment was needed and could not be set up;
    /// [`AppendError::NotDurable`] if the record was appended but its msync failed.
    #[inline]
    pub fn append(
        &mut self,
        type_tag: u16,
        ts_ns: i64,
        payload: &[u8],
    ) -> Result<u64, AppendError> {
        self.append_with(type_tag, ts_ns, payload.len(), |buf| {
            buf.copy_from_slice(payload)
        })
    }

    /// Appends one record of `len` payload bytes that `fill` writes directly into the mapped
    /// segment (zero-copy serialization), and returns its sequence number.
    ///
    /// `fill` receives exactly `len` bytes, initially zero; whatever it leaves there is the
    /// payload. Readers see the record only after `fill` returns. If `fill` panics, nothing is
    /// appended and the next append cleans up the partly written bytes.
    ///
    /// # Errors
    ///
    /// As [`Writer::append`].
    #[inline]
    pub fn append_with<F: FnOnce(&mut [u8])>(
        &mut self,
        type_tag: u16,
        ts_ns: i64,
        len: usize,
        fill: F,
    ) -> Result<u64, AppendError> {
        if len > self.max_payload {
            return Err(AppendError::TooLarge {
                len,
                max: self.max_payload,
            });
        }
        if self.dirty_end != self.pos {
            self.clean_after_panic();
        }
        let rec_len = record_len(len);
        if rec_len > self.limit - self.pos {
            self.rotate()?;
        }
        let offset = self.pos;
        let seq = self.next_seq;
        // `len <= max_payload <= u32::MAX` (checked above).
        let word = commit_word(len as u32, type_tag, KIND_RECORD);
        self.dirty_end = offset + rec_len;
        let checksum = self.seg.checksum();
        let region = self
            .seg
            .uncommitted_mut(offset + 8, RECORD_HEADER_LEN - 8 + len);
        let (tail_slot, payload) = region.split_at_mut(RECORD_HEADER_LEN - 8);
        fill(payload);
        let tail = encode_record_tail(checksum, word, seq, ts_ns, payload);
        tail_slot.copy_from_slice(&tail);
        self.seg.publish(offset, word, offset + rec_len);
        self.pos = offset + rec_len;
        self.next_seq = seq + 1;
        if self.options.durability == Durability::EveryRecord {
            self.sync_record(seq, offset)?;
        }
        Ok(seq)
    }

    /// Msyncs the record just appended at `offset` (`Durability::EveryRecord`).
    #[inline(never)]
    fn sync_record(&mut self, seq: u64, offset: usize) -> Result<(), AppendError> {
        let shared = self.seg.shared();
        let result = shared.sync_range(offset, self.pos);
        shared.synced.0.store(self.pos, Ordering::Relaxed);
        result.map_err(|e| AppendError::NotDurable {
            seq,
            error: Box::new(e),
        })
    }

    /// Zeroes bytes an `append_with` closure wrote before panicking.
    #[cold]
    #[inline(never)]
    fn clean_after_panic(&mut self) {
        self.seg.zero_range(self.pos, self.dirty_end);
        self.dirty_end = self.pos;
    }

    /// Moves to a new segment starting at `next_seq`.
    ///
    /// With the preparer thread (the common case) this allocates nothing and makes no system
    /// call beyond a possible futex wake: it takes the segment the thread prepared (file
    /// created, sized, mapped, pre-faulted, its `Arc` and path buffer allocated), writes its
    /// header, swaps it in and hands the old segment to the thread, which renames the new file
    /// into place, and only then publishes the old segment's end marker (a reader that sees
    /// the marker always finds the next file), msyncs and unmaps it. If no prepared segment is
    /// ready, it waits for the thread's next one (`WriterStats::segment_waits`); only if the
    /// thread failed or is gone is one created inline (`WriterStats::inline_segment_creates`).
    ///
    /// Without the thread, everything happens here: create, rename, marker.
    #[cold]
    #[inline(never)]
    fn rotate(&mut self) -> Result<(), AppendError> {
        let rotate_err = |e: JournalIoError| AppendError::Rotate(Box::new(e));
        self.rotations += 1;
        let Some(preparer) = self.preparer.as_mut() else {
            let next = create_segment(&self.dir, &self.options.prepare_options(), self.next_seq)
                .map_err(rotate_err)?;
            self.write_marker();
            let old = self.swap_segment(next);
            match (&self.flusher, self.options.durability) {
                (Some(flusher), _) => flusher.rotate(Arc::clone(self.seg.shared())),
                (None, Durability::EveryRecord) => {
                    old.shared().sync_committed().map_err(rotate_err)?;
                }
                (None, _) => {}
            }
            return Ok(());
        };
        let prepared = match preparer.take() {
            Some(Ok(prepared)) => prepared,
            Some(Err(e)) => {
                log::warn!("Journal segment preparation failed, creating inline: {e}");
                preparer.count_inline_create();
                PreparedSegment::create(&self.dir, self.options.prepare_options())
                    .map_err(rotate_err)?
            }
            None => PreparedSegment::create(&self.dir, self.options.prepare_options())
                .map_err(rotate_err)?,
        };
        let (next, tmp_path) = prepared
            .start(&self.dir, self.next_seq)
            .map_err(rotate_err)?;
        let marker_offset = self.pos;
        let old = self.swap_segment(next);
        if let Some(flusher) = &self.flusher {
            // `old` still holds the segment: dropping the flusher's handle only decrements.
            drop(flusher.swap_current(Arc::clone(self.seg.shared())));
        }
        let job = Retirement {
            old,
            marker_offset,
            next_seq: self.next_seq,
            new: Arc::clone(self.seg.shared()),
            tmp_path,
        };
        if let Some(preparer) = self.preparer.as_mut() {
            preparer.retire(job).map_err(rotate_err)?;
        }
        Ok(())
    }

    /// Makes `next` the current segment and returns the previous one.
    fn swap_segment(&mut self, next: SegmentWriter) -> SegmentWriter {
        let old = std::mem::replace(&mut self.seg, next);
        self.pos = SEGMENT_HEADER_LEN;
        self.dirty_end = SEGMENT_HEADER_LEN;
        self.limit = self.seg.len() - MARKER_LEN;
        old
    }

    /// Writes the end-of-segment marker announcing `next_seq` at `pos` of the current segment.
    fn write_marker(&mut self) {
        self.seg.write_end_marker(self.pos, self.next_seq);
    }

    /// Waits up to `timeout` until the background thread has the next segment prepared, so
    /// the next rotation takes the allocation-free path (call it at start-up, before going
    /// hot). Returns whether a prepared segment is ready; always false without
    /// `precreate_next`.
    pub fn wait_next_segment_ready(&self, timeout: Duration) -> bool {
        self.preparer
            .as_ref()
            .is_some_and(|p| p.wait_ready(timeout))
    }

    /// Returns rotation statistics: how many rotations happened and how many of them took
    /// the slow path.
    pub fn stats(&self) -> WriterStats {
        let (inline_segment_creates, handoff_stalls, background_rotations) =
            self.preparer.as_ref().map_or((0, 0, 0), |p| p.stats());
        let (segment_waits, segment_wait_ns) =
            self.preparer.as_ref().map_or((0, 0), |p| p.wait_stats());
        WriterStats {
            rotations: self.rotations,
            inline_segment_creates,
            segment_waits,
            segment_wait_ns,
            handoff_stalls,
            background_rotations,
        }
    }

    /// Starts writeback of everything appended so far (msync `MS_ASYNC`) without waiting.
    /// Records are already visible to readers and safe from a process crash without it.
    ///
    /// # Errors
    ///
    /// [`SyncError`] if the msync call fails.
    pub fn flush(&mut self) -> Result<(), SyncError> {
        self.seg.shared().flush_async_committed().map_err(SyncError)
    }

    /// Forces everything appended so far to disk (msync `MS_SYNC`, including segments rotated
    /// away and not yet synced by the flusher) and returns when it is done.
    ///
    /// # Errors
    ///
    /// [`SyncError`] if an msync fails, or if the flusher thread reported a failed msync since
    /// the last call.
    pub fn sync(&mut self) -> Result<(), SyncError> {
        if let Some(preparer) = &self.preparer {
            preparer.wait_idle().map_err(SyncError)?;
        }
        match &self.flusher {
            Some(flusher) => flusher.sync_now().map_err(SyncError),
            None => self.seg.shared().sync_committed().map_err(SyncError),
        }
    }

    /// Stops the background threads and msyncs everything appended (whatever the durability
    /// policy). The last segment keeps its preallocated size: it is not truncated to its used
    /// length because a reader may still have it mapped (shrinking a mapped file makes the
    /// reader's accesses past the new end fault with SIGBUS), and a later `open` continues
    /// appending into it. The zeroed space after the last record reads as a clean end.
    ///
    /// Dropping a writer without `close` does the same but only logs a failure.
    ///
    /// # Errors
    ///
    /// [`SyncError`] if the final msync fails.
    pub fn close(mut self) -> Result<(), SyncError> {
        self.shutdown()
    }

    /// Stops threads and syncs; idempotent.
    fn shutdown(&mut self) -> Result<(), SyncError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let prepared = match self.preparer.as_mut() {
            Some(preparer) => preparer.stop(),
            None => Ok(()),
        };
        let result = match self.flusher.as_mut() {
            Some(flusher) => flusher.stop(),
            None => self.seg.shared().sync_committed(),
        };
        let stats = self.stats();
        log::info!(
            "Journal {} closed at sequence {}: {} rotations, {} with an inline segment creation, {} waited {} µs for a segment, {} hand-off stalls",
            self.dir.display(),
            self.next_seq,
            stats.rotations,
            stats.inline_segment_creates,
            stats.segment_waits,
            stats.segment_wait_ns / 1_000,
            stats.handoff_stalls
        );
        prepared.and(result).map_err(SyncError)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            log::error!("Journal {} not synced on drop: {e}", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn offsets(writer: &Writer) -> (usize, usize) {
        let shared = writer.seg.shared();
        (
            shared.committed.0.load(Ordering::Acquire),
            shared.synced.0.load(Ordering::Acquire),
        )
    }

    fn options(durability: Durability) -> WriterOptions {
        WriterOptions {
            segment_bytes: 1 << 16,
            durability,
            prefault: false,
            precreate_next: false,
        }
    }

    #[test]
    fn unsynced_bytes_count_appends_until_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(dir.path(), options(Durability::None)).unwrap();
        assert_eq!(
            writer.unsynced_bytes(),
            0,
            "a fresh segment has no record to lose"
        );
        for i in 0..3 {
            writer.append(1, i, &[3; 40]).unwrap();
        }
        assert_eq!(writer.unsynced_bytes(), 3 * record_len(40) as u64);
        writer.sync().unwrap();
        assert_eq!(writer.unsynced_bytes(), 0);
        writer.append(1, 3, &[3; 40]).unwrap();
        assert_eq!(writer.unsynced_bytes(), record_len(40) as u64);
        drop(writer);

        let mut every = Writer::open(dir.path(), options(Durability::EveryRecord)).unwrap();
        assert_eq!(
            every.unsynced_bytes(),
            4 * record_len(40) as u64,
            "records recovered at open count until the first sync"
        );
        every.append(1, 4, &[3; 40]).unwrap();
        assert_eq!(
            every.unsynced_bytes(),
            0,
            "every record is msynced before append returns"
        );
    }

    #[test]
    fn interval_flusher_msyncs_up_to_the_committed_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(
            dir.path(),
            options(Durability::Interval(Duration::from_millis(1))),
        )
        .unwrap();
        for i in 0..100 {
            writer.append(1, i, &[3; 40]).unwrap();
        }
        let (committed, _) = offsets(&writer);
        assert_eq!(committed, SEGMENT_HEADER_LEN + 100 * record_len(40));
        // Bounded wait for the background thread; not a timing assertion.
        let deadline = Instant::now() + Duration::from_secs(30);
        while offsets(&writer).1 < committed {
            assert!(Instant::now() < deadline, "flusher never synced");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn sync_without_flusher_advances_the_synced_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(dir.path(), options(Durability::None)).unwrap();
        writer.append(1, 1, b"abc").unwrap();
        let (committed, synced) = offsets(&writer);
        assert!(
            synced < committed,
            "durability None does not sync by itself"
        );
        writer.sync().unwrap();
        assert_eq!(offsets(&writer).1, committed);
    }

    #[test]
    fn every_record_syncs_each_append_and_the_marker_of_a_rotated_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(dir.path(), options(Durability::EveryRecord)).unwrap();
        let first = Arc::clone(writer.seg.shared());
        while Arc::ptr_eq(&first, writer.seg.shared()) {
            writer.append(1, 0, &[9; 3000]).unwrap();
            let (committed, synced) = offsets(&writer);
            assert_eq!(committed, synced);
        }
        let end = first.committed.0.load(Ordering::Acquire);
        assert_eq!(
            first.synced.0.load(Ordering::Acquire),
            end,
            "marker synced at rotation"
        );
    }

    #[test]
    fn rotation_hands_the_old_segment_to_the_flusher_which_syncs_it_to_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::open(
            dir.path(),
            options(Durability::Interval(Duration::from_secs(3600))),
        )
        .unwrap();
        let first = Arc::clone(writer.seg.shared());
        while Arc::ptr_eq(&first, writer.seg.shared()) {
            writer.append(1, 0, &[5; 500]).unwrap();
        }
        let end = first.committed.0.load(Ordering::Acquire);
        assert!(
            first.synced.0.load(Ordering::Acquire) < end,
            "nothing synced yet"
        );
        // `sync` goes through the flusher's list, which holds the retired segment.
        writer.sync().unwrap();
        assert_eq!(first.synced.0.load(Ordering::Acquire), end);
    }
}
