//! The writer's two optional background threads: the flusher (msync every interval for
//! `Durability::Interval`) and the preparer (creates, preallocates and pre-faults the next
//! segment ahead of rotation).
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

use std::mem;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::error::JournalIoError;
use crate::segment::{PrepareOptions, PreparedSegment, SegmentShared, SegmentWriter};

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

/// Handle on the preparer thread that keeps one preallocated, pre-faulted segment ready and
/// unmaps segments the writer rotated away (an munmap of a populated 64 MiB map takes long
/// enough to show in the append tail latency).
#[derive(Debug)]
pub(crate) struct Preparer {
    /// Rendezvous channel: the thread blocks in `send` holding the prepared segment until the
    /// writer takes it, so exactly one segment is prepared ahead.
    rx: Option<Receiver<Result<PreparedSegment, JournalIoError>>>,
    /// Segments rotated away, dropped (unmapped) by the thread after its next hand-over.
    retired_tx: Option<Sender<SegmentWriter>>,
    /// The thread; `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl Preparer {
    /// Starts the thread preparing segments in `dir`.
    pub(crate) fn start(dir: PathBuf, opts: PrepareOptions) -> Result<Self, JournalIoError> {
        let (tx, rx) = sync_channel(0);
        let (retired_tx, retired_rx) = channel::<SegmentWriter>();
        let thread = thread::Builder::new()
            .name("journal-prepare".into())
            .spawn(move || loop {
                let prepared = PreparedSegment::create(&dir, opts);
                if let Err(unsent) = tx.send(prepared) {
                    if let Ok(segment) = unsent.0 {
                        segment.discard();
                    }
                    break;
                }
                // The writer just rotated; drop what it retired before (the segment it
                // retires now usually arrives after this loop and goes next time).
                while let Ok(old) = retired_rx.try_recv() {
                    drop(old);
                }
            })
            .map_err(|e| JournalIoError::new("journal-prepare", "spawn preparer thread", e))?;
        Ok(Self {
            rx: Some(rx),
            retired_tx: Some(retired_tx),
            thread: Some(thread),
        })
    }

    /// Takes the prepared segment, waiting if the thread is still creating it. `None` if the
    /// thread is gone.
    pub(crate) fn take(&mut self) -> Option<Result<PreparedSegment, JournalIoError>> {
        self.rx.as_ref()?.recv().ok()
    }

    /// Hands a rotated-away segment to the thread to unmap; drops it here if the thread is
    /// gone.
    pub(crate) fn retire(&self, old: SegmentWriter) {
        if let Some(tx) = &self.retired_tx {
            // A send error gives the segment back; dropping it unmaps it on this thread.
            let _ = tx.send(old);
        }
    }

    /// Stops the thread; a segment it prepared and not handed over is deleted, retired
    /// segments are unmapped.
    pub(crate) fn stop(&mut self) {
        drop(self.rx.take());
        drop(self.retired_tx.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("Journal preparer thread panicked");
            }
        }
    }
}
