//! Memory-mapped segment files: creation (preallocate, pre-fault, publish by rename), the
//! writer's raw byte access, the flusher's msync view and the read-only view of readers.
//!
//! Consumes a directory, sequence numbers and byte ranges; produces mapped segments. Every
//! raw-pointer access of the crate lives in this module; elsewhere the only unsafe call is
//! [`View::committed`], whose callers state why the range is committed. Nothing here allocates
//! or makes a system call on the per-record path except [`SegmentShared::sync_range`] (msync),
//! which the writer only calls for `Durability::EveryRecord`.
//!
//! # Why mapping the files is sound here
//!
//! A memory map is unsafe in general because another process may modify or truncate the file
//! underneath it. In this crate:
//! - exactly one `Writer` owns a journal directory; it is the only code that writes segment
//!   bytes, and it writes each byte of a record once, before the record's commit word is
//!   published with a release store. Committed bytes are never written again (recovery only
//!   zeroes bytes after the last valid record);
//! - segment files never shrink while in use: they are preallocated to full size before they
//!   become visible (created under a temporary name, renamed into place), and neither `close`
//!   nor recovery truncates them, so a live reader never touches a page past end-of-file
//!   (which would raise SIGBUS);
//! - readers map read-only and touch a record's bytes only after they loaded its commit word
//!   with acquire ordering and saw it non-zero, so they never read a byte the writer is still
//!   writing. The commit word itself is only accessed atomically by both sides.
//!
//! The maps themselves are created with memmap2's `MmapRaw` (a safe call: it hands out raw
//! pointers, not slices), so the soundness argument above is attached to each pointer access
//! below rather than to the `mmap` call. A reader in another process maps the same page-cache
//! pages, so the release/acquire pairing on the commit word holds across processes too.
//! Recovery (`Writer::open`) only zeroes bytes after the last valid record, which a concurrent
//! reader has not read (their commit word was zero or the record failed its checks).
//!
//! Editing or truncating segment files by hand while a writer or reader has them open is
//! outside this contract (as with any memory-mapped file).

use std::fs::{self, File, OpenOptions};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::error::JournalIoError;
use crate::format::{
    commit_word, decode_segment_header, encode_record_tail, encode_segment_header,
    segment_file_name_into, Checksum, SegmentHeader, KIND_END_OF_SEGMENT, MARKER_LEN, RECORD_ALIGN,
    RECORD_HEADER_LEN, SEGMENT_HEADER_LEN, SEGMENT_NAME_LEN,
};

/// Counter making temporary segment names unique within the process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Suffix of segments being prepared; recovery deletes leftovers with this suffix.
pub(crate) const TMP_SUFFIX: &str = ".seg.tmp";

/// A value alone on its own 128-byte block, so the writer's and the flusher's counters do not
/// share a cache line (crossbeam `CachePadded`, rtrb).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

/// Part of a segment shared by the writer, the flusher thread and `Writer::sync`.
///
/// Only exposes msync and the published offsets, never the bytes, so sharing it through an
/// `Arc` never hands out a mutable view.
#[derive(Debug)]
pub(crate) struct SegmentShared {
    /// The read-write map of the whole file.
    map: MmapRaw,
    /// Path of the segment file (final name once published).
    path: PathBuf,
    /// Offset just past the last committed record (or marker). Written only by the writer with
    /// release stores after each commit; read by the flusher. Never decreases.
    pub(crate) committed: Padded<AtomicUsize>,
    /// Offset up to which an msync has completed. Updated only under the writer's flush mutex
    /// (flusher thread or `Writer::sync`). May lag `committed`.
    pub(crate) synced: Padded<AtomicUsize>,
}

impl SegmentShared {
    /// Returns the segment file path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs msync (MS_SYNC) over `[from, to)`; memmap2 rounds `from` down to a page boundary.
    pub(crate) fn sync_range(&self, from: usize, to: usize) -> Result<(), JournalIoError> {
        if to <= from {
            return Ok(());
        }
        self.map
            .flush_range(from, to - from)
            .map_err(|e| JournalIoError::new(&self.path, "msync", e))
    }

    /// Starts writeback (msync MS_ASYNC) of everything committed but not yet synced, without
    /// waiting for it.
    pub(crate) fn flush_async_committed(&self) -> Result<(), JournalIoError> {
        let end = self.committed.0.load(Ordering::Acquire);
        let from = self.synced.0.load(Ordering::Relaxed);
        if end <= from {
            return Ok(());
        }
        self.map
            .flush_async_range(from, end - from)
            .map_err(|e| JournalIoError::new(&self.path, "msync (async)", e))
    }

    /// Syncs everything committed but not yet synced and advances `synced`. The caller holds
    /// the writer's flush mutex (or is the only thread that syncs, as in `EveryRecord`).
    pub(crate) fn sync_committed(&self) -> Result<(), JournalIoError> {
        let end = self.committed.0.load(Ordering::Acquire);
        let from = self.synced.0.load(Ordering::Relaxed);
        self.sync_range(from, end)?;
        // `fetch_max`: the flusher and the background thread may both sync a segment around
        // a rotation; the offset never goes back.
        self.synced.0.fetch_max(end, Ordering::Relaxed);
        Ok(())
    }
}

/// The writer's exclusive handle on the segment it appends to.
///
/// Holds the base pointer of the read-write map; the map itself is kept alive by `shared`.
/// Not `Clone`: all byte writes go through `&mut self`.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    /// Base of the map; valid for `len` bytes while `shared` is alive.
    base: *mut u8,
    /// Length of the map in bytes (the segment capacity).
    len: usize,
    /// Checksum of this segment's records (from its header's format version).
    checksum: Checksum,
    /// Map owner, shared with the flusher.
    shared: std::sync::Arc<SegmentShared>,
}

// SAFETY: `SegmentWriter` is the single owner of write access to its map (it is not Clone and
// writes need `&mut self`); the raw pointer points into the map kept alive by `shared`, which
// is itself Send + Sync. Moving the handle to another thread moves that exclusive access along.
unsafe impl Send for SegmentWriter {}

impl SegmentWriter {
    /// Returns the segment capacity in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns the shared part (msync and published offsets).
    pub(crate) fn shared(&self) -> &std::sync::Arc<SegmentShared> {
        &self.shared
    }

    /// Returns the checksum this segment's records carry.
    #[inline]
    pub(crate) fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// Returns a mutable view of `[offset, offset + len)`, a region no reader looks at because
    /// the commit word at or before it has not been published.
    ///
    /// # Panics
    ///
    /// Panics if the range is outside the map (an internal invariant of the writer).
    #[inline]
    pub(crate) fn uncommitted_mut(&mut self, offset: usize, len: usize) -> &mut [u8] {
        assert!(
            offset <= self.len && len <= self.len - offset,
            "Invariant: uncommitted range inside the segment"
        );
        // SAFETY: the range is inside the live map (asserted above; `shared` keeps the map
        // alive for the borrow of `self`). `&mut self` makes this the only Rust reference into
        // the writer's map, and readers do not read this range before the commit word covering
        // it is published (module docs), so nothing else accesses it during the borrow.
        unsafe { std::slice::from_raw_parts_mut(self.base.wrapping_add(offset), len) }
    }

    /// Publishes a record by storing its commit word at `offset` with release ordering, after
    /// every other byte of the record has been written, and advances `committed` to `end`.
    ///
    /// # Panics
    ///
    /// Panics if `offset` is not 8-aligned or the word is outside the map.
    #[inline]
    pub(crate) fn publish(&mut self, offset: usize, word: u64, end: usize) {
        assert!(
            offset % RECORD_ALIGN == 0 && offset + 8 <= self.len,
            "Invariant: commit word aligned and inside the segment"
        );
        // SAFETY: in bounds (asserted), 8-aligned because the map base is page-aligned and
        // `offset` is a multiple of 8 (asserted), and the location is only ever accessed
        // atomically while the map is shared (readers load it with `AtomicU64` too).
        let slot = unsafe { AtomicU64::from_ptr(self.base.wrapping_add(offset).cast::<u64>()) };
        slot.store(word, Ordering::Release);
        self.shared.committed.0.store(end, Ordering::Release);
    }

    /// Writes and publishes an end-of-segment marker announcing `next_seq` at `offset`.
    pub(crate) fn write_end_marker(&mut self, offset: usize, next_seq: u64) {
        let word = commit_word(0, 0, KIND_END_OF_SEGMENT);
        let tail = encode_record_tail(self.checksum, word, next_seq, 0, &[]);
        self.uncommitted_mut(offset + 8, RECORD_HEADER_LEN - 8)
            .copy_from_slice(&tail);
        self.publish(offset, word, offset + MARKER_LEN);
    }

    /// Returns a read view of the whole map (recovery scans the segment it will continue).
    pub(crate) fn view(&self) -> View<'_> {
        View {
            ptr: self.base,
            len: self.len,
            checksum: Some(self.checksum),
            _map: PhantomData,
        }
    }

    /// Pre-faults `[from, len)` writable (recovery, for the segment it continues); failures
    /// are only logged because appends work without it.
    pub(crate) fn prefault_from(&self, from: usize) {
        #[cfg(target_os = "linux")]
        if from < self.len {
            if let Err(e) =
                self.shared
                    .map
                    .advise_range(memmap2::Advice::PopulateWrite, from, self.len - from)
            {
                log::debug!(
                    "Journal segment {} not pre-faulted: {e}",
                    self.shared.path.display()
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = from;
    }

    /// Zeroes `[from, to)` (recovery discards a torn tail) without touching committed bytes.
    pub(crate) fn zero_range(&mut self, from: usize, to: usize) {
        let to = to.min(self.len);
        if from < to {
            self.uncommitted_mut(from, to - from).fill(0);
        }
    }
}

/// Read-only view of a mapped segment used by the record decoder.
///
/// Only hands out atomic loads of commit words and slices of committed (immutable) bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    /// Base of the map; valid for `len` bytes during `'a`.
    ptr: *const u8,
    /// Length of the map.
    len: usize,
    /// Checksum of the segment's records, from its header; `None` when the header is damaged
    /// (the decoder then accepts a record that matches either checksum).
    checksum: Option<Checksum>,
    /// Ties the view to the borrow of the map owner.
    _map: PhantomData<&'a MmapRaw>,
}

impl<'a> View<'a> {
    /// Returns the mapped length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns the checksum of the segment's records, `None` if its header is unreadable.
    #[inline]
    pub(crate) fn checksum(&self) -> Option<Checksum> {
        self.checksum
    }

    /// Loads the commit word at `offset` with acquire ordering, or `None` if fewer than 8 bytes
    /// remain or the offset is misaligned.
    #[inline]
    pub(crate) fn load_commit_word(&self, offset: usize) -> Option<u64> {
        if offset % RECORD_ALIGN != 0 || offset.checked_add(8)? > self.len {
            return None;
        }
        // SAFETY: in bounds and 8-aligned (checked above; the map base is page-aligned); the
        // writer only stores this word atomically (see `SegmentWriter::publish`).
        let slot =
            unsafe { AtomicU64::from_ptr(self.ptr.cast_mut().wrapping_add(offset).cast::<u64>()) };
        Some(slot.load(Ordering::Acquire))
    }

    /// Returns the bytes `[offset, offset + len)`, or `None` if the range is outside the map.
    ///
    /// # Safety
    ///
    /// The range must be immutable for `'a`: either it lies inside the segment header or inside
    /// a record whose commit word the caller loaded non-zero through
    /// [`View::load_commit_word`] (the writer never rewrites committed bytes), or no writer is
    /// running on the journal.
    #[inline]
    pub(crate) unsafe fn committed(&self, offset: usize, len: usize) -> Option<&'a [u8]> {
        if offset > self.len || len > self.len - offset {
            return None;
        }
        // SAFETY: in bounds (checked above) of a map alive for `'a`; the caller guarantees the
        // bytes are not written during `'a`.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.wrapping_add(offset), len) })
    }
}

/// A read-only map of one segment file, as used by `Reader`.
#[derive(Debug)]
pub(crate) struct ReadMap {
    /// The read-only map; `None` for an empty file (which cannot be mapped).
    map: Option<MmapRaw>,
    /// Checksum of the records, from the header; `None` if the header is damaged.
    checksum: Option<Checksum>,
}

impl ReadMap {
    /// Maps `path` read-only with its current length.
    pub(crate) fn open(path: &Path) -> Result<Self, JournalIoError> {
        let file = File::open(path).map_err(|e| JournalIoError::new(path, "open", e))?;
        let len = file
            .metadata()
            .map_err(|e| JournalIoError::new(path, "stat", e))?
            .len();
        if len == 0 {
            return Ok(Self {
                map: None,
                checksum: None,
            });
        }
        // Mapping is a safe call with MmapRaw; the access rules are in the module docs.
        let map = MmapOptions::new()
            .map_raw_read_only(&file)
            .map_err(|e| JournalIoError::new(path, "mmap", e))?;
        let mut this = Self {
            map: Some(map),
            checksum: None,
        };
        let view = this.view();
        // SAFETY: the header is written before the segment gets its visible name and never
        // written again (module docs), so the bytes are immutable while mapped.
        let header = unsafe { view.committed(0, SEGMENT_HEADER_LEN) };
        this.checksum = header
            .and_then(|h| decode_segment_header(h).ok())
            .map(|h| h.checksum);
        Ok(this)
    }

    /// Returns the decoder view of the whole map.
    pub(crate) fn view(&self) -> View<'_> {
        match &self.map {
            Some(m) => View {
                ptr: m.as_ptr(),
                len: m.len(),
                checksum: self.checksum,
                _map: PhantomData,
            },
            None => View {
                ptr: std::ptr::NonNull::<u64>::dangling().as_ptr().cast(),
                len: 0,
                checksum: None,
                _map: PhantomData,
            },
        }
    }
}

/// How new segments are prepared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrepareOptions {
    /// Segment size in bytes.
    pub capacity: usize,
    /// Pre-fault the map writable (MADV_POPULATE_WRITE on Linux, MAP_POPULATE elsewhere), which
    /// also allocates the file's blocks.
    pub prefault: bool,
    /// Make file creation and renames durable (directory fsync, header msync).
    pub durable: bool,
}

/// Creates and publishes a segment starting at `first_seq` on the calling thread (recovery,
/// and rotations without the preparer thread).
pub(crate) fn create_segment(
    dir: &Path,
    opts: &PrepareOptions,
    first_seq: u64,
) -> Result<SegmentWriter, JournalIoError> {
    PreparedSegment::create(dir, *opts)?.publish(dir, first_seq, opts.durable)
}

/// A preallocated, mapped segment under a temporary name, not yet visible to readers.
///
/// Everything a rotation needs is allocated here, off the writer's thread: the shared part
/// (`Arc`) and a path buffer large enough for the final name, so [`PreparedSegment::start`]
/// allocates nothing.
#[derive(Debug)]
pub(crate) struct PreparedSegment {
    /// Shared part; its `path` is the temporary path until `start`. Never cloned before
    /// `start`, so the writer can still edit it.
    shared: std::sync::Arc<SegmentShared>,
    /// Empty buffer with room for `dir/<segment name>`.
    spare_path: PathBuf,
}

impl PreparedSegment {
    /// Creates a zero-filled temporary segment of `opts.capacity` bytes in `dir` and maps it.
    /// With `opts.durable`, the directory is fsynced so the temporary file (which may receive
    /// records before it is renamed) survives a machine crash.
    pub(crate) fn create(dir: &Path, opts: PrepareOptions) -> Result<Self, JournalIoError> {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp_path = dir.join(format!(
            "journal-next-{}-{n}{TMP_SUFFIX}",
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .map_err(|e| JournalIoError::new(&tmp_path, "create", e))?;
        preallocate(&file, opts.capacity as u64)
            .map_err(|e| JournalIoError::new(&tmp_path, "preallocate", e))?;
        let map = map_rw(&file, &tmp_path, opts.prefault)?;
        if opts.durable {
            sync_dir(dir)?;
        }
        Ok(Self {
            shared: std::sync::Arc::new(SegmentShared {
                map,
                path: tmp_path,
                committed: Padded(AtomicUsize::new(SEGMENT_HEADER_LEN)),
                synced: Padded(AtomicUsize::new(0)),
            }),
            spare_path: PathBuf::with_capacity(dir.as_os_str().len() + SEGMENT_NAME_LEN + 16),
        })
    }

    /// Writes the segment header for `first_seq` and returns the writer handle, whose path is
    /// already the final name `dir/<segment_file_name(first_seq)>`, together with the
    /// temporary path the file still has. Allocates nothing and makes no system call: the
    /// file is not renamed yet (see [`PreparedSegment::publish`] and the background thread).
    ///
    /// # Errors
    ///
    /// Fails only if the shared part was cloned before (an internal invariant).
    pub(crate) fn start(
        mut self,
        dir: &Path,
        first_seq: u64,
    ) -> Result<(SegmentWriter, PathBuf), JournalIoError> {
        let mut name = [0u8; SEGMENT_NAME_LEN];
        let name = segment_file_name_into(first_seq, &mut name);
        let mut final_path = std::mem::take(&mut self.spare_path);
        final_path.as_mut_os_string().push(dir.as_os_str());
        final_path.push(name);
        let Some(shared) = std::sync::Arc::get_mut(&mut self.shared) else {
            return Err(JournalIoError::new(
                final_path,
                "start segment",
                std::io::Error::other("prepared segment shared before it started"),
            ));
        };
        let tmp_path = std::mem::replace(&mut shared.path, final_path);
        // New segments are written in the current format version.
        let checksum = Checksum::Crc32c;
        let header = encode_segment_header(SegmentHeader {
            first_seq,
            capacity_bytes: shared.map.len() as u64,
            checksum,
        });
        let mut writer = SegmentWriter {
            base: shared.map.as_mut_ptr(),
            len: shared.map.len(),
            checksum,
            shared: self.shared,
        };
        writer
            .uncommitted_mut(0, SEGMENT_HEADER_LEN)
            .copy_from_slice(&header);
        Ok((writer, tmp_path))
    }

    /// Writes the segment header for `first_seq`, renames the file to its final name and
    /// returns the writer handle (the synchronous path: recovery and writers without a
    /// background thread). With `durable`, the header is msynced and the directory fsynced so
    /// the new name survives a crash.
    pub(crate) fn publish(
        self,
        dir: &Path,
        first_seq: u64,
        durable: bool,
    ) -> Result<SegmentWriter, JournalIoError> {
        let (writer, tmp_path) = self.start(dir, first_seq)?;
        if let Err(e) = finish_rename(&writer, &tmp_path, dir, durable) {
            drop(writer);
            if let Err(e) = fs::remove_file(&tmp_path) {
                log::warn!("Cannot remove journal segment {}: {e}", tmp_path.display());
            }
            return Err(e);
        }
        Ok(writer)
    }

    /// Unmaps and deletes the temporary file of a segment that will not be used.
    pub(crate) fn discard(self) {
        let path = self.shared.path.clone();
        drop(self.shared);
        if let Err(e) = fs::remove_file(&path) {
            log::warn!(
                "Cannot remove unused journal segment {}: {e}",
                path.display()
            );
        }
    }
}

/// Gives a started segment (see [`PreparedSegment::start`]) its final name: msyncs the header
/// (with `durable`), renames `tmp_path` to the segment's path and fsyncs the directory (with
/// `durable`).
pub(crate) fn finish_rename(
    seg: &SegmentWriter,
    tmp_path: &Path,
    dir: &Path,
    durable: bool,
) -> Result<(), JournalIoError> {
    finish_rename_shared(seg.shared(), tmp_path, dir, durable)
}

/// As [`finish_rename`], from the shared part (the background thread holds only that).
pub(crate) fn finish_rename_shared(
    shared: &SegmentShared,
    tmp_path: &Path,
    dir: &Path,
    durable: bool,
) -> Result<(), JournalIoError> {
    if durable {
        shared.sync_range(0, SEGMENT_HEADER_LEN)?;
    }
    fs::rename(tmp_path, shared.path())
        .map_err(|e| JournalIoError::new(shared.path(), "rename", e))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Opens an existing segment read-write for recovery, growing it back to `capacity` if it was
/// truncated (the new bytes are zero). Appends keep the segment's `checksum` (its version).
pub(crate) fn open_for_append(
    path: &Path,
    capacity: usize,
    checksum: Checksum,
) -> Result<SegmentWriter, JournalIoError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| JournalIoError::new(path, "open", e))?;
    let len = file
        .metadata()
        .map_err(|e| JournalIoError::new(path, "stat", e))?
        .len();
    if len < capacity as u64 {
        file.set_len(capacity as u64)
            .map_err(|e| JournalIoError::new(path, "extend", e))?;
    }
    let map = MmapOptions::new()
        .map_raw(&file)
        .map_err(|e| JournalIoError::new(path, "mmap", e))?;
    Ok(SegmentWriter {
        base: map.as_mut_ptr(),
        len: map.len().min(capacity),
        checksum,
        shared: std::sync::Arc::new(SegmentShared {
            map,
            path: path.to_path_buf(),
            committed: Padded(AtomicUsize::new(SEGMENT_HEADER_LEN)),
            synced: Padded(AtomicUsize::new(0)),
        }),
    })
}

/// Sizes a new, empty segment file to `len` bytes with its disk blocks allocated up front
/// (Linux `fallocate`), so a full disk fails here, on the preparer thread, with `ENOSPC`,
/// instead of as a SIGBUS on the writer's first store into a page the file system cannot
/// back. File systems without `fallocate` get a sparse file (`set_len`).
fn preallocate(file: &File, len: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len) {
        Ok(()) => return Ok(()),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {}
        Err(e) => return Err(e.into()),
    }
    file.set_len(len)
}

/// Maps `file` read-write and optionally pre-faults it writable.
fn map_rw(file: &File, path: &Path, prefault: bool) -> Result<MmapRaw, JournalIoError> {
    let mut opts = MmapOptions::new();
    if prefault && !cfg!(target_os = "linux") {
        opts.populate();
    }
    let map = opts
        .map_raw(file)
        .map_err(|e| JournalIoError::new(path, "mmap", e))?;
    #[cfg(target_os = "linux")]
    if prefault {
        // MADV_POPULATE_WRITE (Linux 5.14+) faults every page in writable and allocates the
        // blocks of the sparse file, so appends take no page fault. Older kernels reject it:
        // the journal still works, appends then take the first-touch faults.
        if let Err(e) = map.advise(memmap2::Advice::PopulateWrite) {
            log::debug!("Journal segment {} not pre-faulted: {e}", path.display());
        }
    }
    Ok(map)
}

/// Fsyncs a directory so that file creations and renames in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalIoError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| JournalIoError::new(dir, "fsync directory", e))
}
