//! The checkpointer thread: while the engine runs with a retention limit,
//! a state checkpoint follows every segment rotation, so retention can
//! free disk without waiting for a restart.
//!
//! Consumes the journal directory (read-only, while the hot thread
//! appends) and the `[journal]` config. Every second it lists the segments;
//! after a rotation it rebuilds the state from the newest checkpoint to the
//! journal's current end ([`crate::replay::rebuild_with`]: one segment's
//! worth of records), sends it to the hot thread, which journals it as a
//! `checkpoint` covering the records before the rebuild's end and hands
//! the buffer back ([`Journaled`]), syncs the segments holding it to disk,
//! then applies the retention limits to the segments before the state's
//! first record and asks the hot thread to journal a `journal_retention`
//! record of what it removed. Never writes the journal itself, never blocks
//! the hot thread (bounded channels, `try_send`), and never removes a
//! segment a rebuild from the newest durable checkpoint needs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::config::JournalConfig;
use crate::journal_schema::JournalRecord;
use crate::replay;
use crate::strategy::StrategyFactory;
use crate::types::TimestampNs;

/// How often the segments are listed.
const POLL: Duration = Duration::from_millis(200);

/// Longest wait for the hot thread to journal a state.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// A request to the hot thread.
#[derive(Debug)]
pub enum CheckpointRequest {
    /// Journal `state`, the engine state after every record before
    /// `state_seq`, as a checkpoint stamped `ts`.
    State {
        /// Records covered: every one before this sequence number.
        state_seq: u64,
        /// The state bytes (handed back in [`Journaled`]).
        state: Vec<u8>,
        /// Record time.
        ts: TimestampNs,
    },
    /// Journal a `journal_retention` record of these facts.
    Retention(RetentionFacts),
}

/// What one retention pass removed (the fields of a `journal_retention`
/// record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionFacts {
    /// Segments removed.
    pub segments_removed: u32,
    /// Bytes they held.
    pub bytes_removed: u64,
    /// Sequence number of the oldest record left.
    pub first_seq_kept: u64,
    /// The checkpoint's `state_seq`.
    pub checkpoint_seq: u64,
    /// Segments left.
    pub segments_left: u32,
    /// Bytes they hold.
    pub bytes_left: u64,
    /// Record time.
    pub ts: TimestampNs,
}

impl RetentionFacts {
    /// Returns the journal record of these facts.
    #[must_use]
    pub fn record(&self) -> JournalRecord<'static> {
        JournalRecord::JournalRetention {
            segments_removed: self.segments_removed,
            bytes_removed: self.bytes_removed,
            first_seq_kept: self.first_seq_kept,
            checkpoint_seq: self.checkpoint_seq,
            segments_left: self.segments_left,
            bytes_left: self.bytes_left,
            ts: self.ts,
        }
    }
}

/// The hot thread's answer to [`CheckpointRequest::State`].
#[derive(Debug)]
pub struct Journaled {
    /// Sequence number of the checkpoint's first part (`None`: the append
    /// failed or the journal is closed).
    pub first_part_seq: Option<u64>,
    /// The state buffer, back to the checkpointer (the hot thread never
    /// frees it).
    pub state: Vec<u8>,
}

/// The hot thread's end of the channels.
#[derive(Debug)]
pub struct HotEnd {
    /// Requests from the checkpointer.
    pub requests: Receiver<CheckpointRequest>,
    /// Answers to it.
    pub journaled: Sender<Journaled>,
}

/// A running checkpointer thread.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread for the journal in `dir`; returns it with the end
    /// the hot thread polls ([`crate::runtime::Engine::set_checkpoints`]).
    ///
    /// # Errors
    /// The OS error when the thread cannot be started.
    pub fn spawn(
        dir: PathBuf,
        cfg: JournalConfig,
        strategies: Option<StrategyFactory>,
    ) -> std::io::Result<(Self, HotEnd)> {
        let (req_tx, req_rx) = bounded(2);
        let (ans_tx, ans_rx) = bounded(2);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("checkpointer".into())
            .spawn(move || {
                let mut worker = Worker {
                    dir,
                    cfg,
                    strategies,
                    requests: req_tx,
                    answers: ans_rx,
                    stop: flag,
                    newest_segment: None,
                };
                worker.run();
            })?;
        Ok((
            Self {
                stop,
                handle: Some(handle),
            },
            HotEnd {
                requests: req_rx,
                journaled: ans_tx,
            },
        ))
    }

    /// Stops the thread and waits for it.
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                log::error!("The checkpointer thread panicked");
            }
        }
    }
}

struct Worker {
    dir: PathBuf,
    cfg: JournalConfig,
    strategies: Option<StrategyFactory>,
    requests: Sender<CheckpointRequest>,
    answers: Receiver<Journaled>,
    stop: Arc<AtomicBool>,
    /// First sequence number of the newest segment at the last checkpoint.
    newest_segment: Option<u64>,
}

impl Worker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn run(&mut self) {
        while !self.stopped() {
            std::thread::sleep(POLL);
            let newest = match journal::list_segments(&self.dir) {
                Ok(s) => s.last().map(|(first, _)| *first),
                Err(e) => {
                    log::warn!("Checkpointer cannot list the journal: {e}");
                    continue;
                }
            };
            if newest.is_none() {
                continue;
            }
            if self.newest_segment.is_none() {
                // The segment the run started in: its start-up checkpoint
                // was just written.
                self.newest_segment = newest;
                continue;
            }
            if newest == self.newest_segment {
                continue;
            }
            // The next rotation tries again after a failure.
            self.newest_segment = newest;
            if let Err(e) = self.checkpoint() {
                log::warn!("Checkpoint after a segment rotation failed: {e}");
            }
            // A checkpoint larger than what is left of a segment rotates
            // the journal itself: only the next rotation by new records
            // calls for another one.
            if let Ok(s) = journal::list_segments(&self.dir) {
                self.newest_segment = s.last().map(|(first, _)| *first).or(newest);
            }
        }
    }

    /// Rebuilds, has the state journaled, syncs it and applies retention.
    fn checkpoint(&mut self) -> Result<(), CheckpointWriteError> {
        let rebuilt = replay::rebuild_with(&self.dir, self.strategies)
            .map_err(CheckpointWriteError::Rebuild)?;
        let Some(state) = rebuilt.checkpoint else {
            return Ok(());
        };
        let state_seq = rebuilt.next_seq;
        let ts = rebuilt.last_market_ts.unwrap_or(TimestampNs(0));
        self.requests
            .try_send(CheckpointRequest::State {
                state_seq,
                state,
                ts,
            })
            .map_err(|_| CheckpointWriteError::HotGone)?;
        let first_part_seq = self.wait_answer()?;
        sync_from(&self.dir, first_part_seq)?;
        let report = replay::retention::enforce(&self.dir, &self.cfg, state_seq, SystemTime::now())
            .map_err(CheckpointWriteError::Retention)?;
        log::info!(
            "Journal checkpoint at sequence {first_part_seq} (state of the records before {state_seq}); retention removed {} segments",
            report.removed.len()
        );
        if !report.removed.is_empty() {
            let first_seq_kept = journal::list_segments(&self.dir)
                .map_err(CheckpointWriteError::Segments)?
                .first()
                .map_or(state_seq, |(s, _)| *s);
            let record = RetentionFacts {
                segments_removed: u32::try_from(report.removed.len()).unwrap_or(u32::MAX),
                bytes_removed: report.removed_bytes,
                first_seq_kept,
                checkpoint_seq: state_seq,
                segments_left: u32::try_from(report.segments_left).unwrap_or(u32::MAX),
                bytes_left: report.total_bytes,
                ts,
            };
            self.requests
                .try_send(CheckpointRequest::Retention(record))
                .map_err(|_| CheckpointWriteError::HotGone)?;
        }
        Ok(())
    }

    fn wait_answer(&self) -> Result<u64, CheckpointWriteError> {
        let deadline = Instant::now() + ANSWER_WAIT;
        while Instant::now() < deadline && !self.stopped() {
            if let Ok(answer) = self.answers.recv_timeout(POLL) {
                return answer
                    .first_part_seq
                    .ok_or(CheckpointWriteError::NotJournaled);
            }
        }
        Err(CheckpointWriteError::NoAnswer)
    }
}

/// Why a checkpoint after a segment rotation was not written (the journal
/// stays as it was; the next rotation tries again).
#[derive(Debug)]
pub enum CheckpointWriteError {
    /// The journal did not rebuild.
    Rebuild(replay::ReplayError),
    /// The hot thread no longer takes checkpoint requests.
    HotGone,
    /// The hot thread could not journal the state.
    NotJournaled,
    /// The hot thread did not answer in time.
    NoAnswer,
    /// The journal's segments could not be listed.
    Segments(journal::JournalIoError),
    /// A segment could not be forced to disk.
    Sync {
        /// The segment file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Retention could not remove the segments the checkpoint replaces.
    Retention(journal::JournalIoError),
}

impl fmt::Display for CheckpointWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rebuild(e) => write!(f, "the journal does not rebuild: {e}"),
            Self::HotGone => f.write_str("the hot thread is not taking requests"),
            Self::NotJournaled => f.write_str("the hot thread could not journal it"),
            Self::NoAnswer => f.write_str("no answer from the hot thread"),
            Self::Segments(e) | Self::Retention(e) => write!(f, "{e}"),
            Self::Sync { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for CheckpointWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rebuild(e) => Some(e),
            Self::Segments(e) | Self::Retention(e) => Some(e),
            Self::Sync { source, .. } => Some(source),
            Self::HotGone | Self::NotJournaled | Self::NoAnswer => None,
        }
    }
}

/// Forces every segment from the one holding `seq` on to disk (fsync of
/// the files the writer maps): the checkpoint is durable before the
/// records it replaces are removed.
fn sync_from(dir: &Path, seq: u64) -> Result<(), CheckpointWriteError> {
    let segments = journal::list_segments(dir).map_err(CheckpointWriteError::Segments)?;
    let from = segments
        .iter()
        .rposition(|(first, _)| *first <= seq)
        .unwrap_or(0);
    for (_, path) in segments.iter().skip(from) {
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|source| CheckpointWriteError::Sync {
                path: path.clone(),
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_from_a_file_instead_of_a_directory_is_a_segments_error_with_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let e = sync_from(&file, 0).unwrap_err();
        assert!(matches!(e, CheckpointWriteError::Segments(_)), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().contains("not-a-dir"), "{e}");
    }
}
