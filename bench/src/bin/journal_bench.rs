//! Journal append benchmark: per-append latency percentiles (HdrHistogram) and sustained
//! throughput for each durability policy, written into a temporary directory.
//!
//! The sustained cases append across segment rotations (the default 20 M records of 64 B
//! fill 28 segments of 64 MiB) and report the rotations, the writer's stall time waiting for
//! the preparer thread's next segment (`WriterStats::segment_wait_ns`), segments created
//! inline, and the rate per second of the appending thread's CPU time beside the wall-clock
//! rate (on a shared machine the thread is not on a CPU all the time).
//! `--sustained-only` runs just the 64 B `none` case across rotations.
//!
//! Consumes command-line options; produces a table on stdout and optionally a JSON file. It
//! checks that every journal it timed reads back completely before reporting it. Run with
//! `cargo run --release -p bench --bin journal_bench [-- --json FILE]`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use journal::{Durability, Reader, Writer, WriterOptions};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Journal append latency and throughput benchmark")]
struct Args {
    /// Appends timed one by one for each latency case (Durability None and Interval).
    #[arg(long, default_value_t = 2_000_000)]
    latency_records: u64,
    /// Records written per sustained-throughput case (None and Interval, 64 B; a quarter of
    /// that for 256 B).
    #[arg(long, default_value_t = 20_000_000)]
    records: u64,
    /// Records per EveryRecord case (each one is an msync).
    #[arg(long, default_value_t = 2_000)]
    every_record_records: u64,
    /// Segment size in MiB.
    #[arg(long, default_value_t = 64)]
    segment_mib: usize,
    /// Flusher interval in milliseconds for Durability::Interval.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Directory in which to create the temporary journals (default: the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run only the sustained 64 B, durability `none` case across rotations.
    #[arg(long)]
    sustained_only: bool,
}

/// Latency percentiles of one case, in nanoseconds.
#[derive(Debug)]
struct Latency {
    case: String,
    samples: u64,
    p50: u64,
    p90: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

/// Sustained throughput of one case.
#[derive(Debug)]
struct Throughput {
    case: String,
    records: u64,
    seconds: f64,
    records_per_sec: f64,
    gb_per_sec: f64,
    segments: usize,
    /// Shares of the wall time the appending thread was on a CPU and runnable but waiting for
    /// one (Linux schedstat), if known; the rest it was blocked (preparer, msync, faults).
    sched: Option<(f64, f64)>,
    /// The writer's rotation statistics at the end of the run.
    stats: journal::WriterStats,
}

impl Throughput {
    /// Records per second of the appending thread's CPU time, if known.
    fn per_cpu_second(&self) -> Option<f64> {
        let (cpu, _) = self.sched?;
        (cpu > 0.0).then(|| self.records_per_sec / cpu)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("journal_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

fn run(args: &Args) -> Result<(), BoxError> {
    let policies = [
        ("none", Durability::None),
        (
            "interval",
            Durability::Interval(Duration::from_millis(args.interval_ms)),
        ),
        ("every-record", Durability::EveryRecord),
    ];
    let timer = timer_overhead()?;
    if args.sustained_only {
        let t = throughput_case(args, "none", Durability::None, 64, args.records, false)?;
        print_tables(&[], std::slice::from_ref(&t), &timer);
        if let Some(path) = &args.json {
            write_json(path, args, &[], std::slice::from_ref(&t), &timer, 0.0)?;
            println!("\nJSON written to {}", path.display());
        }
        return Ok(());
    }
    let mut latencies = Vec::new();
    for size in [64usize, 256] {
        for (name, durability) in policies {
            let n = match durability {
                Durability::EveryRecord => args.every_record_records,
                _ => args.latency_records,
            };
            latencies.push(latency_case(args, name, durability, size, n)?);
        }
    }
    let mut throughputs = Vec::new();
    for (size, divisor) in [(64usize, 1u64), (256, 4)] {
        for (name, durability) in policies {
            let n = match durability {
                Durability::EveryRecord => args.every_record_records,
                _ => args.records / divisor,
            };
            throughputs.push(throughput_case(args, name, durability, size, n, false)?);
        }
        // The same run into one segment preallocated and pre-faulted at open: the append
        // path alone, without rotation and the kernel's page allocation for new segments.
        let n = args.records / divisor;
        throughputs.push(throughput_case(
            args,
            "none",
            Durability::None,
            size,
            n,
            true,
        )?);
    }
    let setup = segment_setup(args)?;
    print_tables(&latencies, &throughputs, &timer);
    println!(
        "\nNew segment ({} MiB) create + preallocate + pre-fault: {:.1} ms (mean of 5 Writer::open)",
        args.segment_mib, setup
    );
    if let Some(path) = &args.json {
        write_json(path, args, &latencies, &throughputs, &timer, setup)?;
        println!("\nJSON written to {}", path.display());
    }
    Ok(())
}

fn options(args: &Args, durability: Durability) -> WriterOptions {
    WriterOptions {
        segment_bytes: args.segment_mib << 20,
        durability,
        prefault: true,
        precreate_next: true,
    }
}

fn temp_dir(args: &Args) -> Result<tempfile::TempDir, BoxError> {
    let dir = match &args.dir {
        Some(base) => tempfile::Builder::new()
            .prefix("journal-bench")
            .tempdir_in(base)?,
        None => tempfile::Builder::new().prefix("journal-bench").tempdir()?,
    };
    Ok(dir)
}

/// Cost of one `Instant::now()` pair, measured the same way the appends are timed.
fn timer_overhead() -> Result<Latency, BoxError> {
    let mut hist = histogram()?;
    for _ in 0..1_000_000 {
        let t0 = Instant::now();
        let t1 = Instant::now();
        record(&mut hist, t1 - t0);
    }
    Ok(summarize("timer (Instant pair, no append)".into(), &hist))
}

fn histogram() -> Result<Histogram<u64>, BoxError> {
    // 1 ns .. 10 s at 3 significant digits; bounded, never resizes while recording.
    Ok(Histogram::new_with_bounds(1, 10_000_000_000, 3)?)
}

fn record(hist: &mut Histogram<u64>, elapsed: Duration) {
    let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1);
    hist.saturating_record(ns);
}

fn summarize(case: String, hist: &Histogram<u64>) -> Latency {
    Latency {
        case,
        samples: hist.len(),
        p50: hist.value_at_quantile(0.50),
        p90: hist.value_at_quantile(0.90),
        p99: hist.value_at_quantile(0.99),
        p999: hist.value_at_quantile(0.999),
        max: hist.max(),
    }
}

/// Times `n` appends of `size`-byte payloads one by one, after a warm-up.
fn latency_case(
    args: &Args,
    name: &str,
    durability: Durability,
    size: usize,
    n: u64,
) -> Result<Latency, BoxError> {
    eprintln!("latency: {size} B, {name}, {n} appends");
    let dir = temp_dir(args)?;
    let mut writer = Writer::open(dir.path(), options(args, durability))?;
    let payload = vec![0xA5u8; size];
    let warmup = (n / 10).min(100_000);
    for i in 0..warmup {
        writer.append(1, i as i64, &payload)?;
    }
    let mut hist = histogram()?;
    for i in 0..n {
        let t0 = Instant::now();
        let seq = writer.append(1, i as i64, black_box(&payload))?;
        let t1 = Instant::now();
        black_box(seq);
        record(&mut hist, t1 - t0);
    }
    writer.close()?;
    check_read_back(dir.path(), warmup + n, size)?;
    Ok(summarize(format!("{size} B, {name}"), &hist))
}

/// Appends `n` records of `size` bytes as fast as possible and measures the whole run.
fn throughput_case(
    args: &Args,
    name: &str,
    durability: Durability,
    size: usize,
    n: u64,
    single_segment: bool,
) -> Result<Throughput, BoxError> {
    eprintln!(
        "throughput: {size} B, {name}, {n} records{}",
        if single_segment { ", one segment" } else { "" }
    );
    let dir = temp_dir(args)?;
    let mut opts = options(args, durability);
    let mut case = format!("{size} B, {name}");
    if single_segment {
        let needed = n as usize * journal::record_len(size) + 4096;
        opts.segment_bytes = needed.div_ceil(1 << 20) << 20;
        opts.precreate_next = false;
        case.push_str(", 1 segment");
    }
    let mut writer = Writer::open(dir.path(), opts)?;
    // Start as a live engine does: with the next segment prepared.
    writer.wait_next_segment_ready(Duration::from_secs(10));
    let payload = vec![0x5Au8; size];
    let cpu_before = thread_on_cpu_ns();
    let start = Instant::now();
    for i in 0..n {
        black_box(writer.append(2, i as i64, black_box(&payload))?);
    }
    let seconds = start.elapsed().as_secs_f64();
    let sched = cpu_before.zip(thread_on_cpu_ns()).map(|(before, after)| {
        let share = |a: u64, b: u64| a.saturating_sub(b) as f64 / 1e9 / seconds;
        (share(after.0, before.0), share(after.1, before.1))
    });
    let stats = writer.stats();
    writer.close()?;
    let segments = std::fs::read_dir(dir.path())?.count();
    check_read_back(dir.path(), n, size)?;
    let bytes = n as f64 * journal::record_len(size) as f64;
    Ok(Throughput {
        case,
        records: n,
        seconds,
        records_per_sec: n as f64 / seconds,
        gb_per_sec: bytes / seconds / 1e9,
        segments,
        sched,
        stats,
    })
}

/// Nanoseconds the calling thread has spent on a CPU and waiting on a run queue (first two
/// fields of Linux `/proc/thread-self/schedstat`); `None` elsewhere.
fn thread_on_cpu_ns() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    Some((fields.next()?.ok()?, fields.next()?.ok()?))
}

/// Mean time in milliseconds of `Writer::open` on an empty directory, which creates,
/// preallocates and pre-faults the first segment (what the preparer thread does per segment).
fn segment_setup(args: &Args) -> Result<f64, BoxError> {
    let mut total = Duration::ZERO;
    for _ in 0..5 {
        let dir = temp_dir(args)?;
        let mut opts = options(args, Durability::None);
        opts.precreate_next = false;
        let start = Instant::now();
        let writer = Writer::open(dir.path(), opts)?;
        total += start.elapsed();
        writer.close()?;
    }
    Ok(total.as_secs_f64() * 1e3 / 5.0)
}

/// Reads the journal back and checks the record count and payload sizes.
fn check_read_back(dir: &Path, expected: u64, size: usize) -> Result<(), BoxError> {
    let mut reader = Reader::open(dir)?;
    let mut count = 0u64;
    while let Some(record) = reader.next() {
        let record = record?;
        if record.seq != count || record.payload.len() != size {
            return Err(format!(
                "read back record {} of {} bytes, expected {count}",
                record.seq,
                record.payload.len()
            )
            .into());
        }
        count += 1;
    }
    if count != expected {
        return Err(format!("read back {count} records, expected {expected}").into());
    }
    Ok(())
}

fn print_tables(latencies: &[Latency], throughputs: &[Throughput], timer: &Latency) {
    println!("Append latency (ns, each append timed with an Instant pair)");
    println!(
        "{:<36} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "case", "samples", "p50", "p90", "p99", "p99.9", "max"
    );
    for l in latencies.iter().chain(std::iter::once(timer)) {
        println!(
            "{:<36} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10}",
            l.case, l.samples, l.p50, l.p90, l.p99, l.p999, l.max
        );
    }
    println!("\nSustained append throughput (records/s, GB/s of on-disk record bytes). Scheduler");
    println!("shares of the wall time for the appending thread: cpu = running, rq = runnable but");
    println!("waiting for a CPU (a busy machine), the rest blocked (preparer thread, msync)");
    println!("and, across rotations: rot = rotations, stall = the writer's total wait for the");
    println!("preparer's next segment (waits), inl = segments created inline; rec/cpu-s = records");
    println!("per second of the appending thread's CPU time");
    println!(
        "{:<36} {:>10} {:>8} {:>12} {:>7} {:>5} {:>5} {:>5} {:>4} {:>14} {:>4} {:>12}",
        "case",
        "records",
        "seconds",
        "records/s",
        "GB/s",
        "segs",
        "cpu",
        "rq",
        "rot",
        "stall ms (n)",
        "inl",
        "rec/cpu-s"
    );
    for t in throughputs {
        let pct = |v: f64| format!("{:.0}%", v * 100.0);
        let (cpu, rq) = t
            .sched
            .map_or(("n/a".into(), "n/a".into()), |(c, r)| (pct(c), pct(r)));
        let stall = format!(
            "{:.1} ({})",
            t.stats.segment_wait_ns as f64 / 1e6,
            t.stats.segment_waits
        );
        let per_cpu = t
            .per_cpu_second()
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.0}"));
        println!(
            "{:<36} {:>10} {:>8.3} {:>12.0} {:>7.3} {:>5} {:>5} {:>5} {:>4} {:>14} {:>4} {:>12}",
            t.case,
            t.records,
            t.seconds,
            t.records_per_sec,
            t.gb_per_sec,
            t.segments,
            cpu,
            rq,
            t.stats.rotations,
            stall,
            t.stats.inline_segment_creates,
            per_cpu
        );
    }
}

fn write_json(
    path: &Path,
    args: &Args,
    latencies: &[Latency],
    throughputs: &[Throughput],
    timer: &Latency,
    segment_setup_ms: f64,
) -> Result<(), BoxError> {
    let lat = |l: &Latency| {
        serde_json::json!({
            "case": l.case, "samples": l.samples, "p50_ns": l.p50, "p90_ns": l.p90,
            "p99_ns": l.p99, "p999_ns": l.p999, "max_ns": l.max,
        })
    };
    let value = serde_json::json!({
        "bench": "journal_bench",
        "segment_mib": args.segment_mib,
        "interval_ms": args.interval_ms,
        "timer_overhead": lat(timer),
        "segment_setup_ms": segment_setup_ms,
        "latency": latencies.iter().map(lat).collect::<Vec<_>>(),
        "throughput": throughputs.iter().map(|t| serde_json::json!({
            "case": t.case, "records": t.records, "seconds": t.seconds,
            "records_per_sec": t.records_per_sec, "gb_per_sec": t.gb_per_sec,
            "segments": t.segments,
            "on_cpu_share": t.sched.map(|s| s.0), "runqueue_wait_share": t.sched.map(|s| s.1),
            "records_per_cpu_sec": t.per_cpu_second(),
            "rotations": t.stats.rotations, "segment_waits": t.stats.segment_waits,
            "segment_wait_ns": t.stats.segment_wait_ns,
            "inline_segment_creates": t.stats.inline_segment_creates,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(path, serde_json::to_string_pretty(&value)?)?;
    Ok(())
}
