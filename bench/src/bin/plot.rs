//! Latency-by-percentile SVG of `.hgrm` files (HdrHistogram's plot: log
//! scale of `1/(1-percentile)` on x, latency on y), one labelled line per
//! file.
//!
//! Run: `cargo run --release -p bench --bin plot -- --hgrm A.hgrm B.hgrm
//! [--label tick-to-order --label wire-to-wire] [--log-y] --out latency.svg`
#![forbid(unsafe_code)]

use std::path::PathBuf;

use bench::plot::{parse_hgrm, render_svg_scaled, YScale};
use clap::Parser;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "SVG latency-by-percentile plot of .hgrm files")]
struct Args {
    /// Input `.hgrm` files.
    #[arg(long, num_args = 1.., required = true)]
    hgrm: Vec<PathBuf>,
    /// Legend labels, one per input in order (default: the file stems).
    #[arg(long)]
    label: Vec<String>,
    /// Output SVG file.
    #[arg(long)]
    out: PathBuf,
    /// Plot title.
    #[arg(long, default_value = "Latency by percentile")]
    title: String,
    /// Unit of the values in the files (our .hgrm files are in µs).
    #[arg(long, default_value = "µs")]
    unit: String,
    /// Logarithmic latency axis (for inputs of very different magnitudes).
    #[arg(long)]
    log_y: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut series = Vec::with_capacity(args.hgrm.len());
    for (i, path) in args.hgrm.iter().enumerate() {
        let label = args.label.get(i).cloned().unwrap_or_else(|| {
            path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        });
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        series.push(parse_hgrm(&text, &label).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let scale = if args.log_y {
        YScale::Log
    } else {
        YScale::Linear
    };
    std::fs::write(
        &args.out,
        render_svg_scaled(&series, &args.title, &args.unit, scale),
    )
    .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!("wrote {} ({} series)", args.out.display(), series.len());
    Ok(())
}
