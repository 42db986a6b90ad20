//! Per-candle cost of the indicator updates as a distribution (hdrhistogram).
//!
//! Criterion's mean is wall-clock time, which on a shared, overloaded machine
//! mostly measures how often the thread was descheduled. This harness times
//! short batches of `--batch` consecutive candle updates (well below a
//! scheduler time slice), divides by the batch size and records the per-candle
//! figure of every batch, so p50 shows the cost while the thread runs and the
//! tail shows interference. Cases are the same as `benches/indicators.rs`.
//!
//! Run: `cargo run --release -p bench --bin indicators_latency -- --batches 20000`
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

use bench::indicator_input::{load_bars, Bar, BARS};
use clap::Parser;
use hdrhistogram::Histogram;
use trading_engine::indicators::{
    Atr, Bollinger, Ema, IndicatorPeriods, PriorChannel, Rsi, Sma, TimeframeIndicators,
};

const MASK: usize = BARS - 1;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Per-candle indicator update cost: p50/p90/p99/p99.9/max over timed batches")]
struct Args {
    /// Timed batches per case.
    #[arg(long, default_value_t = 20_000)]
    batches: usize,
    /// Candle updates per timed batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
}

/// Warms `step` over all bars, then records picoseconds per candle per batch.
fn case(name: &str, bars: &[Bar], args: &Args, mut step: impl FnMut(&Bar)) {
    for bar in bars {
        step(bar);
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3)
        .unwrap_or_else(|e| panic!("Histogram bounds are constants: {e}"));
    let mut i = 0usize;
    let batch = u128::try_from(args.batch.max(1)).unwrap_or(1);
    for _ in 0..args.batches {
        let start = Instant::now();
        for _ in 0..args.batch.max(1) {
            step(black_box(&bars[i & MASK]));
            i = i.wrapping_add(1);
        }
        let ps = start.elapsed().as_nanos() * 1000 / batch;
        hist.saturating_record(u64::try_from(ps).unwrap_or(u64::MAX).max(1));
    }
    #[allow(clippy::cast_precision_loss, reason = "picoseconds to ns for display")]
    let ns = |ps: u64| ps as f64 / 1000.0;
    println!(
        "{name:<28} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2}",
        ns(hist.min()),
        ns(hist.value_at_quantile(0.5)),
        ns(hist.value_at_quantile(0.9)),
        ns(hist.value_at_quantile(0.99)),
        ns(hist.value_at_quantile(0.999)),
        ns(hist.max()),
    );
}

fn main() {
    let args = Args::parse();
    let (bars, real) = load_bars();
    println!(
        "Input: {BARS} {} 1m bars; {} batches of {} updates per case; ns per candle",
        if real { "real BTCUSDT" } else { "synthetic" },
        args.batches,
        args.batch
    );
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "case", "min", "p50", "p90", "p99", "p99.9", "max"
    );

    let mut set = TimeframeIndicators::try_new(IndicatorPeriods::default())
        .unwrap_or_else(|e| panic!("Default periods are valid: {e}"));
    case("timeframe_bundle", &bars, &args, |bar| {
        set.update_values(bar.high, bar.low, bar.close, bar.volume);
        black_box(set.snapshot());
    });

    let (mut sma20, mut sma50, mut sma200) = (Sma::new(20), Sma::new(50), Sma::new(200));
    let (mut ema20, mut ema50) = (Ema::new(20), Ema::new(50));
    let (mut rsi, mut atr, mut bb) = (Rsi::new(14), Atr::new(14), Bollinger::new(20, 2.0));
    case("reference_eight", &bars, &args, |bar| {
        sma20.update(bar.close);
        sma50.update(bar.close);
        sma200.update(bar.close);
        ema20.update(bar.close);
        ema50.update(bar.close);
        rsi.update(bar.close);
        atr.update(bar.high, bar.low, bar.close);
        bb.update(bar.close);
        black_box((
            sma20.value(),
            sma50.value(),
            sma200.value(),
            ema20.value(),
            ema50.value(),
            rsi.value(),
            atr.value(),
            bb.value(),
        ));
    });

    let mut sma = Sma::new(200);
    case("sma200", &bars, &args, |bar| {
        sma.update(bar.close);
        black_box(sma.value());
    });
    let mut ema = Ema::new(20);
    case("ema20", &bars, &args, |bar| {
        ema.update(bar.close);
        black_box((ema.value(), ema.prev_value()));
    });
    let mut rsi = Rsi::new(14);
    case("rsi14", &bars, &args, |bar| {
        rsi.update(bar.close);
        black_box(rsi.value());
    });
    let mut atr = Atr::new(14);
    case("atr14", &bars, &args, |bar| {
        atr.update(bar.high, bar.low, bar.close);
        black_box(atr.value());
    });
    let mut bb = Bollinger::new(20, 2.0);
    case("bollinger20", &bars, &args, |bar| {
        bb.update(bar.close);
        black_box(bb.value());
    });
    let mut volume = Sma::new(20);
    case("volume_sma20", &bars, &args, |bar| {
        volume.update(bar.volume);
        black_box(volume.value());
    });
    let mut channel = PriorChannel::with_periods(60, 20);
    case("prior_channel60_20", &bars, &args, |bar| {
        channel.update(bar.high, bar.low);
        black_box((channel.highest(), channel.lowest()));
    });
}
