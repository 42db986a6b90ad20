//! How a [`Pass`] runs over a journal directory: where it starts (the
//! newest or oldest checkpoint, else the first record), how it reads the
//! segments (a torn tail ends it, damage before a later segment is an
//! error), and the state it leaves for a checkpoint at the end.
//!
//! Consumes the journal's records; produces the finished pass. Cold path.

use std::path::Path;
use std::time::Instant;

use super::checkpoint::{self, Which};
use super::pass::{From, Pass};
use super::{ReplayCounts, ReplayError, StopAt};
use crate::strategy::StrategyFactory;

/// Records between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 16;

impl Pass {
    /// Returns the pass to start with, the reader positioned for it and the
    /// first sequence number to feed (records before it are in the
    /// restored state).
    fn start(
        dir: &Path,
        strategies: Option<StrategyFactory>,
        from: From,
    ) -> Result<(Self, journal::Reader, u64), ReplayError> {
        let segments = journal::list_segments(dir)
            .map_err(|e| ReplayError::Open(journal::OpenError::Io(e)))?;
        let first_seq = segments.first().map_or(0, |(s, _)| *s);
        let trimmed = first_seq > 0;
        let which = match from {
            From::NewestCheckpoint => Some(Which::Newest),
            From::First => trimmed.then_some(Which::Oldest),
        };
        if let Some(which) = which {
            let found = checkpoint::find(dir, which)
                .map_err(|e| ReplayError::Open(journal::OpenError::Io(e)))?;
            match found {
                Some(found) => match checkpoint::restore(&found.state, strategies) {
                    Ok(mut pass) => {
                        pass.started_at = Some(found.state_seq);
                        let reader = journal::Reader::open_at(dir, found.segment_first_seq)
                            .map_err(ReplayError::Open)?;
                        return Ok((pass, reader, found.state_seq));
                    }
                    Err(error) if trimmed => {
                        return Err(ReplayError::Checkpoint {
                            seq: found.state_seq,
                            error,
                        })
                    }
                    Err(error) => log::warn!(
                        "Checkpoint at sequence {} of {} unusable ({error}); reading the journal from its first record",
                        found.state_seq,
                        dir.display()
                    ),
                },
                None if trimmed => {
                    return Err(ReplayError::Trimmed {
                        dir: dir.to_path_buf(),
                        first_seq,
                    })
                }
                None => {}
            }
        }
        let reader = journal::Reader::open(dir).map_err(ReplayError::Open)?;
        Ok((Self::new(strategies), reader, 0))
    }

    /// Runs the pass over the journal in `dir`, stopping at the end, at a
    /// torn tail, or (with [`StopAt::FirstMismatch`]) at the first mismatch.
    pub(super) fn run(
        dir: &Path,
        stop: StopAt,
        strategies: Option<StrategyFactory>,
        from: From,
        progress: &mut dyn FnMut(&ReplayCounts),
    ) -> Result<(Self, std::time::Duration), ReplayError> {
        let started = Instant::now();
        let (mut pass, mut reader, feed_from) = Self::start(dir, strategies, from)?;
        loop {
            match reader.next() {
                None => {
                    // A clean end before a later segment: the crash lost
                    // this segment's end marker (a writer's recovery
                    // repairs it), so the later records are out of reach.
                    if let Some((segment, offset)) = reader.position() {
                        if let Some(next_first_seq) = next_segment(dir, segment) {
                            return Err(ReplayError::Corrupt {
                                segment: segment.to_path_buf(),
                                offset,
                                reason: journal::Corruption::MissingMarker { next_first_seq },
                            });
                        }
                    }
                    break;
                }
                Some(Ok(rec)) if rec.seq < feed_from => {}
                Some(Ok(rec)) => {
                    pass.counts.records += 1;
                    pass.on_record(rec.seq, rec.type_tag, rec.payload)?;
                    if pass.counts.records % PROGRESS_EVERY == 0 {
                        progress(&pass.counts);
                    }
                    if stop == StopAt::FirstMismatch && pass.first_mismatch.is_some() {
                        break;
                    }
                }
                Some(Err(journal::ReadError::Corrupt {
                    segment,
                    offset,
                    reason,
                })) => {
                    if next_segment(dir, &segment).is_some() {
                        return Err(ReplayError::Corrupt {
                            segment,
                            offset,
                            reason,
                        });
                    }
                    pass.torn = Some(journal::TornTail {
                        segment,
                        offset,
                        reason,
                        discarded_bytes: 0,
                    });
                    break;
                }
                Some(Err(e)) => return Err(ReplayError::Read(e)),
            }
        }
        pass.next_seq = reader.next_seq();
        if stop == StopAt::End && pass.torn.is_none() {
            pass.end_state =
                checkpoint::encode(&pass).map_err(|error| ReplayError::Checkpoint {
                    seq: pass.next_seq,
                    error,
                })?;
        }
        if pass.first_mismatch.is_none() || stop == StopAt::End {
            pass.end_of_life();
        }
        progress(&pass.counts);
        Ok((pass, started.elapsed()))
    }
}

/// Returns the first sequence number of the earliest segment file in `dir`
/// that sorts after `segment` (segment names are fixed-width, zero-padded
/// first sequence numbers), or `None` when `segment` is the last.
fn next_segment(dir: &Path, segment: &Path) -> Option<u64> {
    let template = journal::segment_file_name(0);
    let (first_digit, last_digit) = (template.find('0')?, template.rfind('0')?);
    let (prefix, suffix) = (&template[..first_digit], &template[last_digit + 1..]);
    let seq_of = |name: &str| -> Option<u64> {
        if name.len() != template.len() || !name.starts_with(prefix) || !name.ends_with(suffix) {
            return None;
        }
        let digits = name.get(first_digit..=last_digit)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let current = seq_of(segment.file_name()?.to_str()?)?;
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(seq_of))
        .filter(|&seq| seq > current)
        .min()
}
