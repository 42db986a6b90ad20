//! Tick-to-order latency of the live runtime's hot path, per stage, in
//! hdrhistograms.
//!
//! Each measured frame is a BingX `@trade` gzip frame built from the shared
//! BTCUSDT aggTrades day (real prices, sizes and sides; a generated random
//! walk when the data is absent) with timestamps laid out so that a 1m
//! candle closes on `--order-share` of the frames. The frame goes through
//! `bench::hot_path::HotPath`, which is the runtime's own code: the market
//! protocol of the hot loop (`Timed<BingxMarket>`: receive stamp, inflate,
//! parse) → `runtime::Engine::on_market` (journal input, candles +
//! indicators, strategies + risk, live routing) → the order as an
//! `IoCommand` in the I/O thread's queue. The engine journals every input
//! and output into a journal opened by the runtime (`--no-journal` to
//! leave it out) and times its own stages; the harness records the
//! engine's per-frame sample. The configured strategies run after a warm-up
//! of 1,440 history candles, followed by a scripted strategy that signals a
//! long on every closed candle, so each candle close produces an entry
//! order; the harness answers each order with a reject (outside the timed
//! window, standing in for the I/O thread) so that the next close can
//! enter again.
//!
//! Every frame is built before the first measurement, into one arena of
//! about 130 bytes a frame (building a gzip frame zeroes the compressor's
//! state, which would evict the hot path's working set before the next
//! measured frame).
//!
//! "Received" is the engine's reading when the complete message reaches the
//! protocol, before inflate; tick-to-order ends when the first order of the
//! frame is in the command queue. Frame building, the reject and histogram
//! recording are outside the timed window. Allocations are counted with
//! `allocation_counter` around each frame's pipeline call.
//!
//! The engine reads the runtime's clock (the CPU's cycle counter where the
//! kernel trusts the TSC; `--os-clock` for `CLOCK_MONOTONIC`).
//!
//! `--floor` also measures, after the engine's pass and on the same frames
//! (those that produced an order), the floor: the market protocol alone,
//! inflate + decode, with the same clock (`bench::floor`). The report then
//! has a `floor` row and the ratio tick-to-order / floor per percentile.
//!
//! Run: `cargo run --release -p bench --bin tick-to-order -- [--frames N]
//! [--order-share 0.01] [--trades-per-frame 1] [--json FILE] [--hgrm DIR]
//! [--journal DIR | --no-journal] [--evict-kib N] [--floor] [--os-clock]`
#![forbid(unsafe_code)]

use std::path::PathBuf;

use bench::floor::Floor;
use bench::hot_path::{warmup_candles, EveryCandleEntry, FrameError, HotPath};
use bench::market_frames::{load_ticks, FrameBuilder, FramePlan, SYMBOL};
use bench::report::{LatencyReport, Percentiles};
use clap::Parser;
use hdrhistogram::Histogram;
use trading_engine::clock::SystemClock;
use trading_engine::config::Config;
use trading_engine::core::Stage;
use trading_engine::feed::SymbolTable;
use trading_engine::metrics::latency::StageHistograms;
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, SymbolId, TimestampNs};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Tick-to-order latency of the hot path (inflate+parse → core → SPSC)")]
struct Args {
    /// Frames to measure (after the warm-up).
    #[arg(long, default_value_t = 1_000_000)]
    frames: u64,
    /// Untimed warm-up frames.
    #[arg(long, default_value_t = 50_000)]
    warmup: u64,
    /// Share of frames that close a 1m candle and so produce an order intent.
    #[arg(long, default_value_t = 0.01)]
    order_share: f64,
    /// Trades per frame.
    #[arg(long, default_value_t = 1)]
    trades_per_frame: usize,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write one `.hgrm` file per stage (values in µs) into this directory.
    #[arg(long)]
    hgrm: Option<PathBuf>,
    /// Do not pin the thread to a core.
    #[arg(long)]
    no_pin: bool,
    /// Journal into this directory (default: a temporary one, removed at the end).
    #[arg(long, conflicts_with = "no_journal")]
    journal: Option<PathBuf>,
    /// Run without a journal (the engine's journal appends are left out).
    #[arg(long)]
    no_journal: bool,
    /// Between frames (outside the timer), write one byte per 64-byte line
    /// of a buffer this large, KiB: evicts the hot path's data from the
    /// caches as socket reads, TLS and other threads do in a real run.
    #[arg(long, default_value_t = 0)]
    evict_kib: usize,
    /// Also measure the floor: the same frames (those with an order)
    /// through inflate + decode only, with the same clock, after the
    /// engine's pass; reported as `floor` with the ratio tick-to-order / floor.
    #[arg(long)]
    floor: bool,
    /// Read `CLOCK_MONOTONIC` (vDSO) instead of the runtime's cycle-counter
    /// clock, for a comparison.
    #[arg(long)]
    os_clock: bool,
}

/// 2020-02-22 00:00 UTC: the day of the shared aggTrades file.
const START_MS: i64 = 1_582_329_600_000;

/// Highest trackable latency, ns (larger samples are clamped).
const MAX_NS: u64 = 10_000_000_000;

/// Dirties every cache line of `buf` (a no-op when it is empty).
fn evict(buf: &mut [u8]) {
    for line in buf.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
    }
    std::hint::black_box(buf);
}

fn pin() -> Option<usize> {
    let ids = core_affinity::get_core_ids()?;
    let last = *ids.last()?;
    core_affinity::set_for_current(last).then_some(last.id)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let pinned = if args.no_pin { None } else { pin() };
    let (ticks, source) = load_ticks(1 << 20);
    let plan = FramePlan::for_order_share(args.order_share, args.trades_per_frame, START_MS);
    let step = DecimalStep::from_precision(3);
    let rules = InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_decimal(5, 0).ok_or("min notional")?,
    };
    let mut symbols = SymbolTable::new();
    symbols.insert(SYMBOL, SymbolId(0))?;
    let temp = tempfile::tempdir()?;
    let journal = match (&args.journal, args.no_journal) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => Some(temp.path().join("journal")),
    };
    let start = TimestampNs(START_MS * 1_000_000);
    let clock = if args.os_clock {
        SystemClock::new()
    } else {
        SystemClock::cycle_counter()
    };
    let mut floor = args.floor.then(|| Floor::new(symbols.clone(), clock));
    let mut hot = HotPath::try_new(
        &Config::default(),
        &[rules],
        symbols,
        vec![Box::new(EveryCandleEntry::default())],
        journal.as_deref(),
        start,
        clock,
    )?;
    hot.warm_up(&warmup_candles(&ticks, SymbolId(0), start, 1_440));
    let mut hists = StageHistograms::try_new(MAX_NS, 3)?;
    let mut builder = FrameBuilder::new();
    let mut allocations = 0u64;
    let mut errors = 0u64;
    let total = args.warmup + args.frames;
    // Every frame is built before the first measurement, into one arena
    // (about 130 bytes a frame): building a gzip frame zeroes a few hundred
    // KiB of compressor state, and doing that between measurements evicts
    // the hot path's working set (with a rebuild every 4,096 frames, p99 of
    // tick-to-order rose from 4.9 to 7.8 µs).
    let mut arena = Vec::new();
    let mut ends = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for frame in 0..total {
        arena.extend_from_slice(&builder.gzip(&ticks, &plan, frame));
        ends.push(arena.len());
    }
    let mut evict_buf = vec![0u8; args.evict_kib * 1024];
    // Frames that produced an order, for the floor pass.
    let mut order_frames = Vec::new();
    let mut start = 0;
    for (frame, &end) in (0..total).zip(&ends) {
        let gz = &arena[start..end];
        start = end;
        let measured = frame >= args.warmup;
        let mut outcome = None;
        let info = allocation_counter::measure(|| {
            outcome = Some(hot.on_frame(gz));
        });
        match outcome {
            Some(Ok(t)) if measured => {
                allocations += info.count_total;
                hists.record(Stage::Parse, t.parse_ns);
                hists.record(Stage::CandlesIndicators, t.candles_indicators_ns);
                hists.record(Stage::StrategiesRisk, t.strategies_risk_ns);
                if let Some(tto) = t.tick_to_order_ns {
                    hists.record(Stage::Enqueue, t.enqueue_ns);
                    hists.record(Stage::TickToOrder, tto);
                    if floor.is_some() {
                        order_frames.push(end - gz.len()..end);
                    }
                }
            }
            // A frame whose trades wait for a candle the engine asked for
            // (its first, partly seen live minute) has no timing.
            Some(Ok(_) | Err(FrameError::NoTrades)) => {}
            _ => errors += 1,
        }
        hot.answer_orders();
        evict(&mut evict_buf);
    }
    // The floor: the same order frames, inflate + decode only, the same
    // clock, the same eviction between frames.
    let mut floor_hist = Histogram::<u64>::new_with_bounds(1, MAX_NS, 3)?;
    let mut floor_allocations = 0u64;
    if let Some(floor) = floor.as_mut() {
        // Warm up on the engine's warm-up frames: they are older than the
        // measured ones, and the decoder refuses trades older than the
        // last it saw (each frame is decoded once, in time order).
        let mut from = 0;
        for &end in ends.iter().take(usize::try_from(args.warmup).unwrap_or(0)) {
            floor.time(&arena[from..end]);
            from = end;
        }
        for range in &order_frames {
            let mut timed = None;
            let info = allocation_counter::measure(|| {
                timed = floor.time(&arena[range.clone()]);
            });
            floor_allocations += info.count_total;
            match timed {
                Some((ns, _)) => floor_hist.saturating_record(ns.max(1)),
                None => errors += 1,
            }
            evict(&mut evict_buf);
        }
    }
    let stats = hot.stats();
    let report = LatencyReport {
        frames: args.frames,
        allocations,
        stages: [
            Stage::Parse,
            Stage::CandlesIndicators,
            Stage::StrategiesRisk,
            Stage::Enqueue,
        ]
        .iter()
        .map(|s| (s.name().to_owned(), Percentiles::of(hists.get(*s))))
        .collect(),
        tick_to_order: Percentiles::of(hists.get(Stage::TickToOrder)),
        floor: floor.is_some().then(|| Percentiles::of(&floor_hist)),
    };
    println!(
        "tick-to-order: {} frames (+{} warm-up), {} trade(s)/frame, a candle close every {} frames; {} KiB evicted between frames; data: {}",
        args.frames,
        args.warmup,
        plan.trades_per_frame,
        plan.frames_per_candle,
        args.evict_kib,
        source.describe()
    );
    let counters = hot.engine().counters();
    println!(
        "clock: {}; pinned to core: {}; journal: {}; frames with an order: {}; decode errors: {errors}; queue full: {}; journal records: {} ({} failed); allocations on the measured path: {allocations}",
        clock.source(),
        pinned.map_or_else(|| "no".to_owned(), |c| c.to_string()),
        journal.as_ref().map_or_else(|| "none".to_owned(), |d| d.display().to_string()),
        report.tick_to_order.count,
        stats.queue_full,
        counters.journal_records,
        counters.journal_failures
    );
    print!("{}", report.table("tick_to_order"));
    if floor.is_some() {
        println!("floor (inflate + decode of the same order frames, after the engine's pass): {floor_allocations} allocations");
    }
    if let Some(path) = &args.json {
        report.write_json(path)?;
        println!("JSON written to {}", path.display());
    }
    if let Some(dir) = &args.hgrm {
        std::fs::create_dir_all(dir)?;
        for path in hists.save_hgrm(dir, "")? {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
