//! Wire-to-wire latency over loopback: from the BingX simulator writing a
//! market frame that triggers an entry on its socket to the engine's order
//! request arriving at the simulator (TLS by default). See `bench::wire`
//! for the path and what each leg contains.
//!
//! Run: `cargo run --release -p bench --bin wire-to-wire -- [--orders N]
//! [--json FILE] [--hgrm DIR] [--plain] [--interval-ms 210]
//! [--io-idle-park-us 0]`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use bench::report::{LatencyReport, Percentiles};
use bench::wire::{run, WireOptions};
use clap::Parser;
use trading_engine::metrics::hgrm::{write_hgrm, TICKS_PER_HALF_DISTANCE, UNIT_RATIO_US};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Wire-to-wire latency: simulator frame write → order request at the simulator")]
struct Args {
    /// Orders to measure (after the warm-up).
    #[arg(long, default_value_t = 300)]
    orders: u64,
    /// Orders sent before measuring.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Milliseconds between orders (the client allows 5 orders/s).
    #[arg(long, default_value_t = 210)]
    interval_ms: u64,
    /// Plain TCP instead of TLS.
    #[arg(long)]
    plain: bool,
    /// How long the I/O thread parks when idle, µs (bridge default: 200).
    #[arg(long, default_value_t = 0)]
    io_idle_park_us: u64,
    /// Pin the engine's hot thread to the last core.
    #[arg(long)]
    pin: bool,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write one `.hgrm` file per measurement (µs) into this directory.
    #[arg(long)]
    hgrm: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.pin {
        if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) {
            core_affinity::set_for_current(core);
        }
    }
    let opts = WireOptions {
        orders: args.orders,
        warmup: args.warmup,
        interval: Duration::from_millis(args.interval_ms),
        tls: !args.plain,
        io_idle_park: Duration::from_micros(args.io_idle_park_us),
        ..WireOptions::default()
    };
    let mut count = |f: &mut dyn FnMut()| allocation_counter::measure(f).count_total;
    let result = run(&opts, &mut count)?;
    let legs = [
        ("sim_to_engine", &result.sim_to_engine),
        ("engine_to_queue", &result.engine_to_queue),
        ("queue_to_sim", &result.queue_to_sim),
    ];
    let report = LatencyReport {
        frames: result.frames,
        allocations: result.allocations,
        stages: legs
            .iter()
            .map(|(name, h)| ((*name).to_owned(), Percentiles::of(h)))
            .collect(),
        tick_to_order: Percentiles::of(&result.wire_to_wire),
        floor: None,
    };
    println!(
        "wire-to-wire over loopback {}: {} orders (+{} warm-up), one every {} ms, I/O thread idle park {} µs, {} market frames written; allocations on the engine's hot thread: {}",
        if args.plain { "plain TCP" } else { "TLS" },
        args.orders,
        args.warmup,
        args.interval_ms,
        args.io_idle_park_us,
        result.frames,
        result.allocations
    );
    print!("{}", report.table("wire_to_wire"));
    if let Some(path) = &args.json {
        report.write_json(path)?;
        println!("JSON written to {}", path.display());
    }
    if let Some(dir) = &args.hgrm {
        std::fs::create_dir_all(dir)?;
        for (name, h) in legs
            .iter()
            .copied()
            .chain([("wire_to_wire", &result.wire_to_wire)])
        {
            let path = dir.join(format!("{name}.hgrm"));
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            write_hgrm(h, UNIT_RATIO_US, TICKS_PER_HALF_DISTANCE, &mut file)?;
            std::io::Write::flush(&mut file)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
