//! Cross-thread hop latency of `ringbuf::spsc` against
//! `crossbeam_queue::ArrayQueue`, `crossbeam_channel::bounded` and
//! `std::sync::mpsc::sync_channel`, measured in the same run.
//!
//! Method: ping-pong. The main thread (pinned to the first core) reads the
//! clock, pushes a sequence number into the ping queue, spins until the echo
//! thread (pinned to the second core) has popped it and pushed it back
//! through the pong queue, and reads the clock again. One hop is recorded as
//! round trip / 2 into an HdrHistogram. Every queue is polled with its
//! non-blocking `try` operations in a spin loop, so the figures are the
//! queue's hand-off cost (cache-line transfers), never a thread wake-up.
//! Queues are measured in interleaved rounds so that background load on a
//! shared machine spreads over all of them alike.
//!
//! Run: `cargo run --release -p bench --bin spsc_latency [-- --json FILE]`.
//! Prints p50/p90/p99/p99.9/max (ns per hop) per queue.
#![forbid(unsafe_code)]

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use crossbeam_queue::ArrayQueue;
use hdrhistogram::Histogram;
use ringbuf::spsc;

/// Command line of the harness.
#[derive(Debug, Parser)]
#[command(
    about = "Cross-thread hop latency: ringbuf::spsc vs crossbeam ArrayQueue vs crossbeam_channel"
)]
struct Args {
    /// Measured round trips per queue per round.
    #[arg(long, default_value_t = 20_000)]
    iterations: u64,
    /// Interleaved rounds (each queue runs once per round).
    #[arg(long, default_value_t = 10)]
    rounds: u32,
    /// Unrecorded warm-up round trips at the start of every round.
    #[arg(long, default_value_t = 2_000)]
    warmup: u64,
    /// Capacity of every queue.
    #[arg(long, default_value_t = 1024)]
    capacity: usize,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The sending side of a queue under test.
trait Tx: Send + 'static {
    /// Tries to send `v` without blocking; `false` when full.
    fn try_send(&mut self, v: u64) -> bool;
}

/// The receiving side of a queue under test.
trait Rx: Send + 'static {
    /// Tries to receive without blocking; `None` when empty.
    fn try_recv(&mut self) -> Option<u64>;
}

impl Tx for spsc::Producer<u64> {
    #[inline]
    fn try_send(&mut self, v: u64) -> bool {
        self.push(v).is_ok()
    }
}

impl Rx for spsc::Consumer<u64> {
    #[inline]
    fn try_recv(&mut self) -> Option<u64> {
        self.pop()
    }
}

/// One end of a shared `ArrayQueue` (used as sender or receiver).
struct ArrayEnd(Arc<ArrayQueue<u64>>);

impl Tx for ArrayEnd {
    #[inline]
    fn try_send(&mut self, v: u64) -> bool {
        self.0.push(v).is_ok()
    }
}

impl Rx for ArrayEnd {
    #[inline]
    fn try_recv(&mut self) -> Option<u64> {
        self.0.pop()
    }
}

impl Tx for crossbeam_channel::Sender<u64> {
    #[inline]
    fn try_send(&mut self, v: u64) -> bool {
        crossbeam_channel::Sender::try_send(self, v).is_ok()
    }
}

impl Rx for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn try_recv(&mut self) -> Option<u64> {
        crossbeam_channel::Receiver::try_recv(self).ok()
    }
}

impl Tx for std::sync::mpsc::SyncSender<u64> {
    #[inline]
    fn try_send(&mut self, v: u64) -> bool {
        std::sync::mpsc::SyncSender::try_send(self, v).is_ok()
    }
}

impl Rx for std::sync::mpsc::Receiver<u64> {
    #[inline]
    fn try_recv(&mut self) -> Option<u64> {
        std::sync::mpsc::Receiver::try_recv(self).ok()
    }
}

#[inline]
fn spin_send(tx: &mut impl Tx, v: u64) {
    while !tx.try_send(v) {
        std::hint::spin_loop();
    }
}

#[inline]
fn spin_recv(rx: &mut impl Rx) -> u64 {
    loop {
        if let Some(v) = rx.try_recv() {
            return v;
        }
        std::hint::spin_loop();
    }
}

/// The queues compared, in print order.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Spsc,
    ArrayQueue,
    Channel,
    StdMpsc,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Spsc, Kind::ArrayQueue, Kind::Channel, Kind::StdMpsc];

    fn name(self) -> &'static str {
        match self {
            Kind::Spsc => "ringbuf::spsc",
            Kind::ArrayQueue => "crossbeam_queue::ArrayQueue",
            Kind::Channel => "crossbeam_channel::bounded",
            Kind::StdMpsc => "std::sync::mpsc::sync_channel",
        }
    }
}

/// Thread placement: the main thread's core and the echo thread's core.
#[derive(Debug, Clone, Copy)]
struct Placement {
    echo_core: Option<core_affinity::CoreId>,
}

/// Runs one round of ping-pong over `ping` (main → echo) and `pong`
/// (echo → main), recording one hop per measured round trip.
fn ping_pong(
    ping: (impl Tx, impl Rx),
    pong: (impl Tx, impl Rx),
    placement: Placement,
    warmup: u64,
    iterations: u64,
    hist: &mut Histogram<u64>,
) -> Result<(), Box<dyn Error>> {
    let (mut ping_tx, mut ping_rx) = ping;
    let (mut pong_tx, mut pong_rx) = pong;
    let total = warmup + iterations;
    let echo = std::thread::spawn(move || {
        if let Some(core) = placement.echo_core {
            core_affinity::set_for_current(core);
        }
        for _ in 0..total {
            let v = spin_recv(&mut ping_rx);
            spin_send(&mut pong_tx, v);
        }
    });
    for seq in 0..total {
        let start = Instant::now();
        spin_send(&mut ping_tx, seq);
        let back = spin_recv(&mut pong_rx);
        let round_trip_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if back != seq {
            return Err(format!("echo returned {back}, expected {seq}").into());
        }
        if seq >= warmup {
            hist.saturating_record((round_trip_ns / 2).max(1));
        }
    }
    echo.join()
        .map_err(|_| "the echo thread panicked".to_string())?;
    Ok(())
}

/// Runs one round of `kind` with fresh queues.
fn run_round(
    kind: Kind,
    args: &Args,
    placement: Placement,
    hist: &mut Histogram<u64>,
) -> Result<(), Box<dyn Error>> {
    match kind {
        Kind::Spsc => ping_pong(
            spsc::try_channel::<u64>(args.capacity)?,
            spsc::try_channel::<u64>(args.capacity)?,
            placement,
            args.warmup,
            args.iterations,
            hist,
        ),
        Kind::ArrayQueue => {
            let ping = Arc::new(ArrayQueue::new(args.capacity));
            let pong = Arc::new(ArrayQueue::new(args.capacity));
            ping_pong(
                (ArrayEnd(Arc::clone(&ping)), ArrayEnd(ping)),
                (ArrayEnd(Arc::clone(&pong)), ArrayEnd(pong)),
                placement,
                args.warmup,
                args.iterations,
                hist,
            )
        }
        Kind::Channel => ping_pong(
            crossbeam_channel::bounded::<u64>(args.capacity),
            crossbeam_channel::bounded::<u64>(args.capacity),
            placement,
            args.warmup,
            args.iterations,
            hist,
        ),
        Kind::StdMpsc => ping_pong(
            std::sync::mpsc::sync_channel::<u64>(args.capacity),
            std::sync::mpsc::sync_channel::<u64>(args.capacity),
            placement,
            args.warmup,
            args.iterations,
            hist,
        ),
    }
}

/// Median cost of one `Instant::now()` pair, which every round trip includes.
fn clock_overhead_ns() -> u64 {
    let mut samples: Vec<u64> = (0..10_001)
        .map(|_| {
            let start = Instant::now();
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The percentiles reported for one queue, in nanoseconds per hop.
#[derive(Debug, Clone, Copy)]
struct Summary {
    samples: u64,
    p50: u64,
    p90: u64,
    p99: u64,
    p999: u64,
    max: u64,
    mean: f64,
}

impl Summary {
    fn of(hist: &Histogram<u64>) -> Self {
        Self {
            samples: hist.len(),
            p50: hist.value_at_quantile(0.50),
            p90: hist.value_at_quantile(0.90),
            p99: hist.value_at_quantile(0.99),
            p999: hist.value_at_quantile(0.999),
            max: hist.max(),
            mean: hist.mean(),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    if args.iterations == 0 || args.rounds == 0 {
        return Err("--iterations and --rounds must be at least 1".into());
    }
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let pinned = cores.len() >= 2;
    let placement = if pinned {
        core_affinity::set_for_current(cores[0]);
        Placement {
            echo_core: Some(cores[1]),
        }
    } else {
        Placement { echo_core: None }
    };
    let clock_ns = clock_overhead_ns();

    let mut hists = Vec::new();
    for _ in Kind::ALL {
        hists.push(Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)?);
    }
    for _ in 0..args.rounds {
        for (kind, hist) in Kind::ALL.into_iter().zip(hists.iter_mut()) {
            run_round(kind, &args, placement, hist)?;
        }
    }
    let summaries: Vec<(Kind, Summary)> = Kind::ALL
        .into_iter()
        .zip(hists.iter().map(Summary::of))
        .collect();

    println!(
        "One hop = round trip / 2, in ns; {} rounds x {} round trips per queue, capacity {}, \
         threads {}, clock read pair ~{clock_ns} ns included in each round trip",
        args.rounds,
        args.iterations,
        args.capacity,
        if pinned {
            "pinned to cores 0 and 1"
        } else {
            "not pinned (fewer than 2 cores)"
        },
    );
    println!(
        "{:<30} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "queue", "p50", "p90", "p99", "p99.9", "max", "mean"
    );
    for (kind, s) in &summaries {
        println!(
            "{:<30} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8.1}",
            kind.name(),
            s.p50,
            s.p90,
            s.p99,
            s.p999,
            s.max,
            s.mean
        );
    }
    let ours = summaries[0].1;
    let array = summaries[1].1;
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    println!(
        "Targets: spsc p50 <= 100 ns: {}; spsc p99 <= 250 ns: {}; spsc p50 below ArrayQueue p50: {}",
        verdict(ours.p50 <= 100),
        verdict(ours.p99 <= 250),
        verdict(ours.p50 < array.p50)
    );

    if let Some(path) = &args.json {
        let queues: Vec<serde_json::Value> = summaries
            .iter()
            .map(|(kind, s)| {
                serde_json::json!({
                    "queue": kind.name(),
                    "samples": s.samples,
                    "p50_ns": s.p50,
                    "p90_ns": s.p90,
                    "p99_ns": s.p99,
                    "p99_9_ns": s.p999,
                    "max_ns": s.max,
                    "mean_ns": s.mean,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "method": "ping-pong, one hop = round trip / 2",
            "rounds": args.rounds,
            "iterations_per_round": args.iterations,
            "capacity": args.capacity,
            "pinned": pinned,
            "clock_pair_ns": clock_ns,
            "queues": queues,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("Wrote {}", path.display());
    }
    Ok(())
}
