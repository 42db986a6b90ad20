//! The writer's two optional background threads: the flusher (msync every interval for
//! `Durability::Interval`) and the preparer (creates, preallocates and pre-faults the next
//! segment ahead of rotation, and completes each rotation: rename, end marker, msync, unmap).
//!
//! # Preparer and rotation
//!
//! The preparer keeps up to [`PREPARE_AHEAD`] `PreparedSegment`s in a mutex-protected queue
//! (locked by the thread only to look at or fill it, never while creating a file). At rotation
//! the writer takes the oldest, writes the header, swaps it in and sends a `Retirement`
//! through a bounded array channel (no allocation per message); the thread renames the new
//! file into place, then writes the old segment's end marker (so readers never see a marker
//! before the next file exists), refills the queue, msyncs the old segment when durable and
//! drops (unmaps) it. Rotations are completed in order.
//!
//! When the queue is empty at rotation (the writer fills segments faster than the thread
//! prepares them), the writer waits for the segment the thread is preparing (a condvar,
//! at most [`MAX_SEGMENT_WAIT`]) rather than creating one itself: the thread is already part
//! way through, and two threads faulting in fresh page-cache pages at once only slow each
//! other down. The waits and their total time are counted (`WriterStats::segment_waits`,
//! `WriterStats::segment_wait_ns`); `journal_bench` reports them.
//!
//! Consumes shared segment handles from the writer (only at rotation, the cold path); produces
//! msyncs and prepared segments. Neither thread ever touches record bytes, and the writer's
//! per-record path never takes their locks: it only stores the committed offset into an atomic
//! that the flusher reads.
//!
//! # Flusher and rotation
//!
//! The flusher knows the current segment through `FlushState::segments`, a mutex the writer
//! takes only at rotation to swap in the new segment and move the old one to `retired`. On
//! every tick the flusher clones the current `Arc`, takes the retired list (both under the
//! mutex, briefly), releases it, then msyncs each retired segment up to its final committed
//! offset (which includes the end-of-segment marker) and the current one up to the committed
//! offset it loads with acquire ordering. A retired segment is unmapped when the flusher drops
//! its last `Arc`, so the writer never waits for an msync. A second mutex serialises msyncs
//! between the flusher and `Writer::sync` and keeps the last flusher error for `sync`/`close`.

use std::collections::VecDeque;
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::error::JournalIoError;
use crate::segment::{
    finish_rename_shared, PrepareOptions, PreparedSegment, SegmentShared, SegmentWriter,
};

/// Segments the flusher must sync.
#[derive(Debug)]
struct FlushSegments {
    /// The segment the writer appends to.
    current: Arc<SegmentShared>,
    /// Segments rotated away since the last tick, still to be synced to their end.
    retired: Vec<Arc<SegmentShared>>,
}

/// State shared by the writer and the flusher thread.
#[derive(Debug)]
struct FlushState {
    /// Current and retired segments; locked by the writer only at rotation.
    segments: Mutex<FlushSegments>,
    /// Serialises msyncs; holds the last error of the flusher thread until reported.
    sync_lock: Mutex<Option<JournalIoError>>,
    /// Set by the writer to stop the thread.
    stop: AtomicBool,
}

/// Locks a mutex, ignoring poisoning (the protected data stays consistent: every critical
/// section only swaps `Arc`s or stores an error).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FlushState {
    /// Msyncs every retired segment and the current one up to their committed offsets.
    /// Returns the first error, if any.
    fn sync_all(&self) -> Result<(), JournalIoError> {
        let mut pending = lock(&self.sync_lock);
        if let Some(e) = pending.take() {
            return Err(e);
        }
        let (current, retired) = {
            let mut segs = lock(&self.segments);
            (Arc::clone(&segs.current), mem::take(&mut segs.retired))
        };
        let mut result = Ok(());
        for segment in retired.iter().chain(std::iter::once(&current)) {
            if let Err(e) = segment.sync_committed() {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }
}

/// Handle on the flusher thread of `Durability::Interval`.
#[derive(Debug)]
pub(crate) struct Flusher {
    /// Shared state.
    state: Arc<FlushState>,
    /// The thread; `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts a flusher that msyncs `current` (and later segments) every `interval`.
    pub(crate) fn start(
        current: Arc<SegmentShared>,
        interval: Duration,
        dir: &Path,
    ) -> Result<Self, JournalIoError> {
        let state = Arc::new(FlushState {
            segments: Mutex::new(FlushSegments {
                current,
                retired: Vec::new(),
            }),
            sync_lock: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let thread_state = Arc::clone(&state);
        let thread = thread::Builder::new()
            .name("journal-flush".into())
            .spawn(move || flusher_loop(&thread_state, interval))
            .map_err(|e| JournalIoError::new(dir, "spawn flusher thread", e))?;
        Ok(Self {
            state,
            thread: Some(thread),
        })
    }

    /// Makes `next` the current segment and hands the previous one to the flusher for its
    /// final msync. Called by the writer at rotation only.
    pub(crate) fn rotate(&self, next: Arc<SegmentShared>) {
        let mut segs = lock(&self.state.segments);
        let old = mem::replace(&mut segs.current, next);
        segs.retired.push(old);
    }

    /// Makes `next` the current segment and returns the previous one, without allocating.
    /// The caller completes the old segment's final msync itself (the preparer thread does).
    pub(crate) fn swap_current(&self, next: Arc<SegmentShared>) -> Arc<SegmentShared> {
        mem::replace(&mut lock(&self.state.segments).current, next)
    }

    /// Msyncs everything committed so far, first reporting any earlier flusher error.
    pub(crate) fn sync_now(&self) -> Result<(), JournalIoError> {
        self.state.sync_all()
    }

    /// Stops the thread, then runs a final sync.
    pub(crate) fn stop(&mut self) -> Result<(), JournalIoError> {
        self.state.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                log::error!("Journal flusher thread panicked");
            }
        }
        self.state.sync_all()
    }
}

/// Body of the flusher thread: sleep one interval (woken early to stop), msync, repeat.
fn flusher_loop(state: &FlushState, interval: Duration) {
    while !state.stop.load(Ordering::Acquire) {
        thread::park_timeout(interval);
        if state.stop.load(Ordering::Acquire) {
            break;
        }
        if let Err(e) = state.sync_all() {
            log::error!("Journal flusher msync failed: {e}");
            *lock(&state.sync_lock) = Some(e);
        }
    }
}

/// A rotation handed from the writer to the preparer thread: the segment rotated away, where
/// its end marker goes, and the new segment still under its temporary name.
#[derive(Debug)]
pub(crate) struct Retirement {
    /// The segment rotated away; the writer no longer touches it.
    pub old: SegmentWriter,
    /// Offset of the end-of-segment marker in `old` (just past its last record).
    pub marker_offset: usize,
    /// First sequence number of the new segment, announced by the marker.
    pub next_seq: u64,
    /// Shared part of the new segment; its path is already the final name.
    pub new: Arc<SegmentShared>,
    /// Temporary path the new segment file still has.
    pub tmp_path: PathBuf,
}

/// Completes a rotation off the writer's thread: renames the new segment into place, then
/// publishes the end marker of the old one (so a reader that sees the marker always finds the
/// next file), msyncs the old segment to its marker when `durable`, and unmaps it.
///
/// When the rename fails, no marker is written (a reader then waits at the end of the old
/// segment rather than failing on a missing file) and recovery adopts the temporary file.
pub(crate) fn complete_rotation(
    job: Retirement,
    dir: &Path,
    durable: bool,
) -> Result<(), JournalIoError> {
    let (old, result) = publish_rotation(job, dir, durable);
    result?;
    sync_retired(&old, durable)
}

/// First half of [`complete_rotation`]: rename the new segment, then write the old one's end
/// marker. Returns the old segment (for [`sync_retired`] and unmapping) and the outcome.
fn publish_rotation(
    job: Retirement,
    dir: &Path,
    durable: bool,
) -> (SegmentWriter, Result<(), JournalIoError>) {
    let Retirement {
        mut old,
        marker_offset,
        next_seq,
        new,
        tmp_path,
    } = job;
    let result = finish_rename_shared(&new, &tmp_path, dir, durable);
    if result.is_ok() {
        old.write_end_marker(marker_offset, next_seq);
    }
    (old, result)
}

/// Second half of [`complete_rotation`]: with `durable`, msyncs the old segment up to its
/// marker.
fn sync_retired(old: &SegmentWriter, durable: bool) -> Result<(), JournalIoError> {
    if durable {
        old.shared().sync_committed()?;
    }
    Ok(())
}

/// Rotation statistics of the preparer, read by `Writer::stats`.
#[derive(Debug, Default)]
pub(crate) struct PrepStats {
    /// Rotations that found no prepared segment and created one inline on the writer's thread.
    pub inline_creates: AtomicU64,
    /// Rotations that found the hand-off queue full and waited for the thread.
    pub retire_stalls: AtomicU64,
    /// Rotations completed by the thread (rename, marker, msync), successful or not.
    pub completed: AtomicU64,
}

/// Completion state of handed-off rotations.
#[derive(Debug, Default)]
struct Done {
    /// Rotations processed so far.
    count: u64,
    /// First failure not yet reported to the writer.
    error: Option<JournalIoError>,
}

/// Segments prepared ahead, oldest first (or the error of a failed preparation), at most
/// [`PREPARE_AHEAD`]; the capacity is reserved at start, so pushing and popping never
/// allocate.
type Ready = VecDeque<Result<PreparedSegment, JournalIoError>>;

/// State shared by the writer and the preparer thread.
#[derive(Debug)]
struct PrepShared {
    /// The next segments, prepared ahead. The thread holds the lock only to look at or fill
    /// the queue (never while creating a file); the writer only to take from it.
    ready: Mutex<Ready>,
    /// Signalled whenever the thread pushes a segment.
    ready_cv: Condvar,
    /// Rotations processed, and the first unreported error.
    done: Mutex<Done>,
    /// Signalled after every processed rotation.
    done_cv: Condvar,
    /// Counters.
    stats: PrepStats,
}

/// Capacity of the rotation hand-off queue: rotations the writer can hand over before it
/// waits for the thread (a bounded array channel: sending into it does not allocate).
const RETIRE_QUEUE: usize = 8;

/// Segments the preparer keeps ready. Two absorb the jitter of preparation on a busy machine
/// (creating and pre-faulting a 64 MiB segment took 20–90 ms on the development VM, against
/// 35 ms for the writer to fill one at 20 M records/s) at the cost of one more segment of
/// pre-faulted page cache.
pub(crate) const PREPARE_AHEAD: usize = 2;

/// Longest a rotation waits for the preparer's segment before creating one itself (a stuck
/// or very slow thread, e.g. a long msync of a durable journal on a slow disk).
pub(crate) const MAX_SEGMENT_WAIT: Duration = Duration::from_secs(1);

/// Handle on the preparer thread. It keeps one preallocated, pre-faulted, mapped segment ready
/// (with its shared part and path buffer already allocated), and completes rotations the
/// writer hands over: rename of the new segment, end marker and msync of the old one, unmap
/// (an munmap of a populated 64 MiB map takes long enough to show in the append tail
/// latency).
#[derive(Debug)]
pub(crate) struct Preparer {
    /// Shared state.
    shared: Arc<PrepShared>,
    /// Rotation hand-off queue; `None` once stopped.
    jobs: Option<SyncSender<Retirement>>,
    /// Journal directory.
    dir: PathBuf,
    /// Whether renames and markers are made durable.
    durable: bool,
    /// Rotations handed over so far.
    sent: u64,
    /// Rotations that found no segment ready and waited for the thread.
    waits: u64,
    /// Total time those rotations waited, in nanoseconds.
    wait_ns: u64,
    /// The thread; `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl Preparer {
    /// Starts the thread preparing segments in `dir`.
    pub(crate) fn start(dir: PathBuf, opts: PrepareOptions) -> Result<Self, JournalIoError> {
        let (tx, rx) = sync_channel::<Retirement>(RETIRE_QUEUE);
        let shared = Arc::new(PrepShared {
            ready: Mutex::new(VecDeque::with_capacity(PREPARE_AHEAD)),
            ready_cv: Condvar::new(),
            done: Mutex::new(Done::default()),
            done_cv: Condvar::new(),
            stats: PrepStats::default(),
        });
        let thread_shared = Arc::clone(&shared);
        let thread_dir = dir.clone();
        let thread = thread::Builder::new()
            .name("journal-prepare".into())
            .spawn(move || preparer_loop(&thread_shared, &thread_dir, opts, &rx))
            .map_err(|e| JournalIoError::new(&dir, "spawn preparer thread", e))?;
        Ok(Self {
            shared,
            jobs: Some(tx),
            dir,
            durable: opts.durable,
            sent: 0,
            waits: 0,
            wait_ns: 0,
            thread: Some(thread),
        })
    }

    /// Takes the oldest prepared segment. If none is ready, waits for the thread (counted in
    /// the wait statistics) up to [`MAX_SEGMENT_WAIT`], or not at all if the thread has
    /// stopped: `None` then (the caller creates one inline and this counts it).
    pub(crate) fn take(&mut self) -> Option<Result<PreparedSegment, JournalIoError>> {
        let mut ready = lock(&self.shared.ready);
        let mut taken = ready.pop_front();
        if taken.is_none() && self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            // Cold: the writer outran the thread. Waiting costs what is left of a preparation
            // already under way (or the thread's next poll), less than a whole one here.
            let start = Instant::now();
            let deadline = start + MAX_SEGMENT_WAIT;
            loop {
                let now = Instant::now();
                if now >= deadline || self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
                    break;
                }
                ready = self
                    .shared
                    .ready_cv
                    .wait_timeout(ready, (deadline - now).min(Duration::from_millis(10)))
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0);
                taken = ready.pop_front();
                if taken.is_some() {
                    break;
                }
            }
            self.waits += 1;
            self.wait_ns = self
                .wait_ns
                .saturating_add(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        drop(ready);
        if taken.is_none() {
            self.shared
                .stats
                .inline_creates
                .fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// Counts a rotation that created its segment inline because preparation had failed.
    pub(crate) fn count_inline_create(&self) {
        self.shared
            .stats
            .inline_creates
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Hands a rotation to the thread. Does not allocate or block unless the queue is full
    /// (counted; then it waits). If the thread is gone, completes the rotation here.
    pub(crate) fn retire(&mut self, job: Retirement) -> Result<(), JournalIoError> {
        let Some(tx) = &self.jobs else {
            return complete_rotation(job, &self.dir, self.durable);
        };
        let job = match tx.try_send(job) {
            Ok(()) => {
                self.sent += 1;
                return Ok(());
            }
            Err(TrySendError::Full(job)) => {
                self.shared
                    .stats
                    .retire_stalls
                    .fetch_add(1, Ordering::Relaxed);
                match tx.send(job) {
                    Ok(()) => {
                        self.sent += 1;
                        return Ok(());
                    }
                    Err(unsent) => unsent.0,
                }
            }
            Err(TrySendError::Disconnected(job)) => job,
        };
        complete_rotation(job, &self.dir, self.durable)
    }

    /// Returns (inline creates, queue stalls, rotations completed by the thread).
    pub(crate) fn stats(&self) -> (u64, u64, u64) {
        let s = &self.shared.stats;
        (
            s.inline_creates.load(Ordering::Relaxed),
            s.retire_stalls.load(Ordering::Relaxed),
            s.completed.load(Ordering::Relaxed),
        )
    }

    /// Returns (rotations that waited for a segment, total wait in nanoseconds).
    pub(crate) fn wait_stats(&self) -> (u64, u64) {
        (self.waits, self.wait_ns)
    }

    /// Waits up to `timeout` for the thread to have the next segment prepared; returns whether
    /// it has (a failed preparation counts as not ready).
    pub(crate) fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if matches!(lock(&self.shared.ready).front(), Some(Ok(_))) {
                return true;
            }
            let finished = self.thread.as_ref().is_none_or(JoinHandle::is_finished);
            if finished || std::time::Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits until every rotation handed over so far is complete (its new segment renamed,
    /// its marker written, and with `durable` msynced), then reports the first failure the
    /// thread met since the last call.
    pub(crate) fn wait_idle(&self) -> Result<(), JournalIoError> {
        let mut done = lock(&self.shared.done);
        while done.count < self.sent && self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            done = self
                .shared
                .done_cv
                .wait_timeout(done, Duration::from_millis(50))
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        match done.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Stops the thread after it completed every handed-over rotation; a segment it prepared
    /// and not handed over is deleted. Returns the first unreported failure.
    pub(crate) fn stop(&mut self) -> Result<(), JournalIoError> {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("Journal preparer thread panicked");
            }
        }
        let unused = mem::take(&mut *lock(&self.shared.ready));
        for segment in unused.into_iter().flatten() {
            segment.discard();
        }
        match lock(&self.shared.done).error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// How often the preparer thread looks for handed-over rotations. It polls instead of
/// blocking in `recv` so that the writer's `try_send` never has a waiting receiver to wake:
/// a futex wake costs tens of microseconds on a VM (measured with `journal-rotation`), which
/// would be the whole cost of a rotation. The price is up to one interval before readers see
/// a new segment, and ~500 wake-ups per second of an otherwise idle thread.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Body of the preparer thread: keep the `ready` slot filled; complete every rotation handed
/// over, in order; exit when the writer drops the queue (after draining it).
fn preparer_loop(shared: &PrepShared, dir: &Path, opts: PrepareOptions, rx: &Receiver<Retirement>) {
    refill(shared, dir, opts);
    let mut published = Vec::with_capacity(RETIRE_QUEUE);
    loop {
        match rx.try_recv() {
            Ok(job) => {
                // Make the new segments visible first, then get the writer its next segment,
                // and only then run the (possibly long) msyncs of the old ones.
                published.push(publish_rotation(job, dir, opts.durable));
                while let Ok(job) = rx.try_recv() {
                    published.push(publish_rotation(job, dir, opts.durable));
                }
                refill(shared, dir, opts);
                for (old, result) in published.drain(..) {
                    let result = result.and_then(|()| sync_retired(&old, opts.durable));
                    drop(old);
                    record_done(shared, result);
                }
            }
            Err(TryRecvError::Empty) => thread::sleep(POLL_INTERVAL),
            Err(TryRecvError::Disconnected) => break,
        }
    }
}

/// Prepares segments until [`PREPARE_AHEAD`] are ready, or one preparation fails (its error
/// is queued for the writer, which then creates its segment inline; the next rotation retries
/// here). Files are created outside the lock; each one is announced as soon as it is ready.
fn refill(shared: &PrepShared, dir: &Path, opts: PrepareOptions) {
    loop {
        if lock(&shared.ready).len() >= PREPARE_AHEAD {
            return;
        }
        let prepared = PreparedSegment::create(dir, opts);
        let failed = prepared.is_err();
        lock(&shared.ready).push_back(prepared);
        shared.ready_cv.notify_all();
        if failed {
            return;
        }
    }
}

/// Records the outcome of one completed rotation and wakes `Writer::sync`.
fn record_done(shared: &PrepShared, result: Result<(), JournalIoError>) {
    if let Err(e) = &result {
        log::error!("Journal rotation not completed: {e}");
    }
    let mut done = lock(&shared.done);
    done.count += 1;
    if let Err(e) = result {
        done.error.get_or_insert(e);
    }
    shared.stats.completed.fetch_add(1, Ordering::Relaxed);
    drop(done);
    shared.done_cv.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{segment_file_name, MARKER_LEN, SEGMENT_HEADER_LEN};

    fn opts() -> PrepareOptions {
        PrepareOptions {
            capacity: 4096,
            prefault: false,
            durable: false,
        }
    }

    /// A published segment starting at 0 and a started one at 5 (still under its tmp name).
    fn rotation(dir: &Path) -> (Retirement, Arc<SegmentShared>) {
        let old = PreparedSegment::create(dir, opts())
            .unwrap()
            .publish(dir, 0, false)
            .unwrap();
        let old_shared = Arc::clone(old.shared());
        let (new, tmp_path) = PreparedSegment::create(dir, opts())
            .unwrap()
            .start(dir, 5)
            .unwrap();
        let job = Retirement {
            old,
            marker_offset: SEGMENT_HEADER_LEN,
            next_seq: 5,
            new: Arc::clone(new.shared()),
            tmp_path,
        };
        (job, old_shared)
    }

    #[test]
    fn completed_rotation_renames_the_new_segment_then_publishes_the_old_marker() {
        let dir = tempfile::tempdir().unwrap();
        let (job, old) = rotation(dir.path());
        let tmp = job.tmp_path.clone();
        assert_eq!(job.new.path(), dir.path().join(segment_file_name(5)));
        assert!(!job.new.path().exists(), "not renamed before completion");
        complete_rotation(job, dir.path(), false).unwrap();
        assert!(dir.path().join(segment_file_name(5)).exists());
        assert!(!tmp.exists());
        assert_eq!(
            old.committed.0.load(Ordering::Acquire),
            SEGMENT_HEADER_LEN + MARKER_LEN
        );
    }

    #[test]
    fn a_failed_rename_leaves_the_old_segment_without_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let (job, old) = rotation(dir.path());
        std::fs::remove_file(&job.tmp_path).unwrap();
        assert!(complete_rotation(job, dir.path(), false).is_err());
        assert_eq!(
            old.committed.0.load(Ordering::Acquire),
            SEGMENT_HEADER_LEN,
            "a reader must not be sent to a missing segment"
        );
    }
}
