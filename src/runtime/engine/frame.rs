//! Per-frame timing of the hot thread: the stage probe handed to the core,
//! the accumulator of the market frame being handled and, when the frame
//! ends, its latency samples (histograms, journal `FrameTiming` record and
//! the [`FrameSample`] a driver may take).
//!
//! Consumes monotonic clock readings at stage boundaries; produces stage
//! durations. Never allocates, locks or logs.

use crate::clock::Clock;
use crate::core::StageProbe;
use crate::journal_schema::{FrameTiming, JournalRecord};
use crate::metrics::latency::Stage;

use super::Engine;

/// Stage times of the market frame being handled.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FrameAcc {
    /// Monotonic reading when the frame was complete (before inflate).
    pub(super) recv_mono: u64,
    /// Inflate + parse, ns.
    pub(super) parse_ns: u64,
    /// Time per stage, ns, summed over the frame's trades.
    pub(super) stage_ns: [u64; Stage::COUNT],
    /// Trades of the frame fed to the core.
    pub(super) trades: u16,
    /// Received → first order in the venue's queue, ns.
    pub(super) tick_to_order: Option<u64>,
}

/// Times the core's stages for the frame being handled.
pub(super) struct Probe<'a, C: Clock> {
    pub(super) clock: &'a C,
    pub(super) current: Option<Stage>,
    pub(super) since: u64,
    pub(super) acc: &'a mut [u64; Stage::COUNT],
}

impl<C: Clock> Probe<'_, C> {
    /// Closes the current stage; returns the reading taken, if one was.
    pub(super) fn finish(&mut self) -> Option<u64> {
        let s = self.current.take()?;
        let now = self.clock.mono_ns();
        self.acc[s.index()] += now.saturating_sub(self.since);
        Some(now)
    }
}

impl<C: Clock> StageProbe for Probe<'_, C> {
    #[inline]
    fn enter(&mut self, stage: Stage) {
        let now = self.clock.mono_ns();
        if let Some(s) = self.current {
            self.acc[s.index()] += now.saturating_sub(self.since);
        }
        self.current = Some(stage);
        self.since = now;
    }
}

/// The stage times of one market frame, as the engine recorded them into
/// its latency histograms and journaled them (`FrameTiming`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameSample {
    /// Trades of the frame fed to the core.
    pub trades: u16,
    /// Frame complete → decoded (inflate + parse), ns.
    pub parse_ns: u64,
    /// Candle building and indicator updates, summed over the trades, ns.
    pub candles_indicators_ns: u64,
    /// Strategies, aggregation, risk and position management, summed, ns.
    pub strategies_risk_ns: u64,
    /// Routing the frame's orders into the venue's queue, summed, ns.
    pub enqueue_ns: u64,
    /// Frame complete → first order in the venue's queue, ns; `None` when
    /// the frame produced no order.
    pub tick_to_order_ns: Option<u64>,
}

impl<C: Clock> Engine<C> {
    /// Returns the sample of the last market frame handled since the
    /// previous call, if one ended (benchmark drivers read it per frame).
    pub fn take_frame_sample(&mut self) -> Option<FrameSample> {
        self.last_frame.take()
    }

    /// Ends the frame being handled: records its stage times and journals
    /// them.
    pub(super) fn end_frame(&mut self) {
        let Some(acc) = self.frame.take() else {
            return;
        };
        self.counters.frames += 1;
        let sample = FrameSample {
            trades: acc.trades,
            parse_ns: acc.parse_ns,
            candles_indicators_ns: acc.stage_ns[Stage::CandlesIndicators.index()],
            strategies_risk_ns: acc.stage_ns[Stage::StrategiesRisk.index()],
            enqueue_ns: acc.stage_ns[Stage::Enqueue.index()],
            tick_to_order_ns: acc.tick_to_order,
        };
        self.last_frame = Some(sample);
        let l = &mut self.latency;
        l.record(Stage::Parse, sample.parse_ns);
        l.record(Stage::CandlesIndicators, sample.candles_indicators_ns);
        l.record(Stage::StrategiesRisk, sample.strategies_risk_ns);
        if let Some(t2o) = sample.tick_to_order_ns {
            l.record(Stage::TickToOrder, t2o);
        }
        let ts = self.time.last_ts;
        let u32_of = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let rec = JournalRecord::FrameTiming(FrameTiming {
            recv_ts: ts,
            trades: sample.trades,
            parse_ns: u32_of(sample.parse_ns),
            candles_ns: u32_of(sample.candles_indicators_ns),
            strategies_ns: u32_of(sample.strategies_risk_ns),
            enqueue_ns: u32_of(sample.enqueue_ns),
            tick_to_order_ns: sample.tick_to_order_ns.map_or(0, u32_of),
        });
        self.journal(ts, &rec);
    }
}
