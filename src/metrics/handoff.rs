//! Handing latency histograms from the hot thread to the I/O thread with
//! no lock and no allocation on the hot side.
//!
//! Design: interval histograms in a preallocated pool of boxes that
//! circulate through two ringbuf SPSC queues.
//!
//! ```text
//!   hot thread (LatencyRecorder)                I/O thread (LatencyCollector)
//!   active: Box<StageHistograms>  --filled-->   pop, add to total, keep as
//!     record() writes here          (SPSC)      last interval, reset
//!   publish(): pop an empty box,  <--empty---   push the box back
//!     swap with active, push         (SPSC)
//! ```
//!
//! All boxes are allocated in [`latency_channel`] (one active + `spares`);
//! afterwards only the box pointers move. `publish` is wait-free: a pop, a
//! pointer swap and a push. When the I/O thread is late and no empty box
//! is available, `publish` returns [`PublishError::NoSpareBuffer`] and the
//! hot thread keeps recording into the same box: the interval just grows,
//! no sample is lost. The collector owns the cumulative totals, the last
//! interval and everything that formats or writes.
//!
//! Cost (`cargo bench -p bench --bench clock`, shared 2-core machine under
//! load, so upper bounds): `record` 8 ns, `publish` 41 ns including the
//! timing's own `Instant::now` pair.
//!
//! Consumes stage samples (hot side) and filled intervals (I/O side);
//! produces interval and cumulative [`StageHistograms`]. Never allocates,
//! locks or blocks in [`LatencyRecorder::record`] or
//! [`LatencyRecorder::publish`].

use crate::metrics::latency::{HistogramError, Stage, StageHistograms};
use ringbuf::spsc::{self, Consumer, Producer};
use std::fmt;

/// Why [`LatencyRecorder::publish`] kept the current interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishError {
    /// Every spare box is still with the I/O thread; the interval goes on
    /// and will be published next time.
    NoSpareBuffer,
    /// The I/O thread dropped its collector: nobody will read intervals.
    CollectorGone,
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSpareBuffer => f.write_str(
                "no empty latency histogram available: the I/O thread has not returned one yet",
            ),
            Self::CollectorGone => f.write_str("the latency collector has been dropped"),
        }
    }
}

impl std::error::Error for PublishError {}

/// Creates the hot-side recorder and the I/O-side collector with
/// `1 + spares` interval sets plus the collector's total and last-interval
/// sets, all with the bounds `max_ns` / `sigfig`. `spares` is raised to 1
/// when 0.
///
/// # Errors
/// [`HistogramError::Bounds`] when the bounds are invalid.
pub fn latency_channel(
    max_ns: u64,
    sigfig: u8,
    spares: usize,
) -> Result<(LatencyRecorder, LatencyCollector), HistogramError> {
    let spares = spares.max(1);
    let (full_tx, full_rx) = spsc::channel(spares);
    let (mut empty_tx, empty_rx) = spsc::channel(spares);
    for _ in 0..spares {
        // Capacity >= spares, so the pushes fit.
        if empty_tx
            .push(Box::new(StageHistograms::try_new(max_ns, sigfig)?))
            .is_err()
        {
            debug_assert!(false, "Invariant: the empty queue holds every spare");
        }
    }
    let recorder = LatencyRecorder {
        active: Box::new(StageHistograms::try_new(max_ns, sigfig)?),
        full: full_tx,
        empty: empty_rx,
        published: 0,
        missed: 0,
    };
    let collector = LatencyCollector {
        full: full_rx,
        empty: empty_tx,
        total: StageHistograms::try_new(max_ns, sigfig)?,
        last_interval: StageHistograms::try_new(max_ns, sigfig)?,
        intervals: 0,
    };
    Ok((recorder, collector))
}

/// The hot thread's half: records samples into the active interval and
/// publishes it to the I/O thread.
pub struct LatencyRecorder {
    /// The interval being recorded; only this thread touches it.
    active: Box<StageHistograms>,
    /// Filled intervals to the collector.
    full: Producer<Box<StageHistograms>>,
    /// Empty (reset) boxes back from the collector.
    empty: Consumer<Box<StageHistograms>>,
    /// Intervals published so far.
    published: u64,
    /// Publish attempts that found no empty box.
    missed: u64,
}

impl fmt::Debug for LatencyRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyRecorder")
            .field("active_samples", &self.active.total_count())
            .field("published", &self.published)
            .field("missed", &self.missed)
            .finish()
    }
}

impl LatencyRecorder {
    /// Records one `ns`-long sample of `stage` (clamped to the range).
    /// Never allocates, locks or fails.
    #[inline]
    pub fn record(&mut self, stage: Stage, ns: u64) {
        self.active.record(stage, ns);
    }

    /// Records the time between two monotonic readings (`end` before
    /// `start` records 0).
    #[inline]
    pub fn record_between(&mut self, stage: Stage, start_mono_ns: u64, end_mono_ns: u64) {
        self.record(stage, end_mono_ns.saturating_sub(start_mono_ns));
    }

    /// Returns the interval being recorded.
    #[must_use]
    pub fn active(&self) -> &StageHistograms {
        &self.active
    }

    /// Returns how many intervals were published.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Returns how many publish attempts found no empty box.
    #[must_use]
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Hands the current interval to the I/O thread and starts a new one
    /// in an empty box. Wait-free; never allocates.
    ///
    /// # Errors
    /// [`PublishError::NoSpareBuffer`] when no empty box is back yet (the
    /// interval continues); [`PublishError::CollectorGone`] when the
    /// collector was dropped.
    pub fn publish(&mut self) -> Result<(), PublishError> {
        if self.full.is_abandoned() {
            return Err(PublishError::CollectorGone);
        }
        let Some(mut fresh) = self.empty.pop() else {
            self.missed += 1;
            return Err(PublishError::NoSpareBuffer);
        };
        std::mem::swap(&mut self.active, &mut fresh);
        // `fresh` now holds the filled interval. Boxes in circulation are
        // 1 + spares and the full queue holds at least `spares`, so it
        // cannot be full while we hold two boxes.
        if let Err(e) = self.full.push(fresh) {
            // Unreachable by the invariant above; recover without losing
            // samples: put the filled interval back as the active one and
            // drop the empty box we took (the pool shrinks by one).
            debug_assert!(false, "Invariant: the full queue has room");
            self.active = e.into_inner();
            self.missed += 1;
            return Err(PublishError::NoSpareBuffer);
        }
        self.published += 1;
        Ok(())
    }
}

/// The I/O thread's half: collects published intervals into cumulative
/// totals and returns the boxes.
#[derive(Debug)]
pub struct LatencyCollector {
    /// Filled intervals from the recorder.
    full: Consumer<Box<StageHistograms>>,
    /// Reset boxes back to the recorder.
    empty: Producer<Box<StageHistograms>>,
    /// Every sample of every collected interval.
    total: StageHistograms,
    /// The most recently collected interval (empty before the first).
    last_interval: StageHistograms,
    /// Intervals collected so far.
    intervals: u64,
}

impl LatencyCollector {
    /// Takes every published interval: adds it to the totals, keeps the
    /// newest as [`LatencyCollector::last_interval`], resets the box and
    /// returns it to the recorder. Returns the number collected.
    ///
    /// # Errors
    /// [`HistogramError::Mismatch`] when an interval does not fit the
    /// totals (impossible with boxes from [`latency_channel`]); the box is
    /// still returned.
    pub fn collect(&mut self) -> Result<usize, HistogramError> {
        let mut n = 0;
        let mut result = Ok(());
        while let Some(mut interval) = self.full.pop() {
            let added = self
                .total
                .add(&interval)
                .and_then(|()| self.last_interval.set_to(&interval));
            if result.is_ok() {
                result = added;
            }
            interval.reset();
            // The empty queue holds every spare, so this push has room.
            if self.empty.push(interval).is_err() {
                debug_assert!(false, "Invariant: the empty queue has room");
            }
            self.intervals += 1;
            n += 1;
        }
        result.map(|()| n)
    }

    /// Returns every sample collected so far.
    #[must_use]
    pub fn total(&self) -> &StageHistograms {
        &self.total
    }

    /// Returns the most recently collected interval.
    #[must_use]
    pub fn last_interval(&self) -> &StageHistograms {
        &self.last_interval
    }

    /// Returns how many intervals were collected.
    #[must_use]
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// Returns true when the recorder has been dropped (the hot thread
    /// ended); intervals already published can still be collected.
    #[must_use]
    pub fn recorder_gone(&self) -> bool {
        self.full.is_abandoned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_intervals_reach_the_collector_totals() {
        let (mut rec, mut col) = latency_channel(10_000_000_000, 3, 2).unwrap();
        rec.record(Stage::Parse, 1_000);
        rec.record(Stage::Parse, 2_000);
        rec.publish().unwrap();
        rec.record(Stage::Parse, 3_000);
        rec.record_between(Stage::TickToOrder, 10, 5_010);
        rec.publish().unwrap();
        assert_eq!(col.collect().unwrap(), 2);
        assert_eq!(col.total().get(Stage::Parse).len(), 3);
        assert_eq!(col.last_interval().get(Stage::Parse).len(), 1);
        let t2o = col.last_interval().get(Stage::TickToOrder);
        assert!(t2o.equivalent(t2o.max(), 5_000), "{}", t2o.max());
        assert_eq!(rec.active().total_count(), 0, "a new interval started");
        assert_eq!((rec.published(), col.intervals()), (2, 2));
    }

    #[test]
    fn late_collector_means_no_spare_and_the_interval_keeps_growing() {
        let (mut rec, mut col) = latency_channel(10_000_000_000, 3, 1).unwrap();
        rec.record(Stage::Enqueue, 10);
        rec.publish().unwrap();
        rec.record(Stage::Enqueue, 20);
        assert_eq!(rec.publish(), Err(PublishError::NoSpareBuffer));
        assert_eq!(rec.missed(), 1);
        rec.record(Stage::Enqueue, 30);
        assert_eq!(col.collect().unwrap(), 1);
        rec.publish().unwrap();
        assert_eq!(col.collect().unwrap(), 1);
        assert_eq!(col.total().get(Stage::Enqueue).len(), 3, "nothing lost");
        assert_eq!(col.last_interval().get(Stage::Enqueue).len(), 2);
    }

    #[test]
    fn dropped_collector_is_reported_to_the_recorder() {
        let (mut rec, col) = latency_channel(1_000_000, 3, 1).unwrap();
        drop(col);
        assert_eq!(rec.publish(), Err(PublishError::CollectorGone));
        rec.record(Stage::Parse, 1);
    }

    #[test]
    fn zero_spares_is_raised_to_one() {
        let (mut rec, mut col) = latency_channel(1_000_000, 3, 0).unwrap();
        rec.publish().unwrap();
        assert_eq!(col.collect().unwrap(), 1);
        assert!(!col.recorder_gone());
        drop(rec);
        assert!(col.recorder_gone());
    }

    #[test]
    fn invalid_bounds_fail_at_creation() {
        assert!(matches!(
            latency_channel(1, 3, 2),
            Err(HistogramError::Bounds { .. })
        ));
    }

    #[test]
    fn record_and_publish_allocate_nothing_in_steady_state() {
        let (mut rec, mut col) = latency_channel(10_000_000_000, 3, 2).unwrap();
        let mut collected = 0;
        for round in 0..20u64 {
            let info = allocation_counter::measure(|| {
                for i in 0..1_000u64 {
                    for stage in Stage::ALL {
                        rec.record(stage, round * 1_000 + i + 1);
                    }
                }
                rec.publish().unwrap();
                rec.record(Stage::Parse, u64::MAX);
            });
            assert_eq!(info.count_total, 0, "round {round}: {info:?}");
            // The collector side (cold) runs outside the measurement.
            collected += col.collect().unwrap();
        }
        assert_eq!(collected, 20);
        assert_eq!(col.total().get(Stage::Parse).len(), 20 * 1_000 + 19);
    }

    #[test]
    fn intervals_cross_threads_and_every_sample_arrives() {
        let (mut rec, mut col) = latency_channel(10_000_000_000, 3, 2).unwrap();
        let hot = std::thread::spawn(move || {
            let mut pending = false;
            for i in 0..50_000u64 {
                rec.record(Stage::TickToOrder, i % 5_000 + 1);
                if i % 1_000 == 999 || pending {
                    pending = rec.publish().is_err();
                }
            }
            while rec.publish().is_err() {
                std::thread::yield_now();
            }
            rec.published()
        });
        while !col.recorder_gone() {
            col.collect().unwrap();
            std::thread::yield_now();
        }
        col.collect().unwrap();
        let published = hot.join().unwrap();
        assert_eq!(col.intervals(), published);
        assert_eq!(col.total().get(Stage::TickToOrder).len(), 50_000);
    }
}
