//! `chaos`: kills `trading-engine run` (live mode, against `bingx-sim`
//! with faults on) at aimed moments, restarts it on the same journal, lets
//! a second client cancel its stops by hand, and checks the invariants at
//! the end; exits 1 on any violation. See `tools::chaos`.
//!
//! `chaos --kills 1000 --seed 7` runs the long test. Each engine
//! life is this program re-executed as the engine (the same code as the
//! `trading-engine` binary), or `--engine PATH`.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bingx_sim::FaultConfig;
use clap::Parser;
use tools::chaos::{self, ChaosOptions};

/// First argument that makes this program run the engine's CLI instead.
const ENGINE_ARG: &str = "__engine";

/// Kill the live engine at random moments under exchange faults and check
/// that nothing is lost: no duplicate client order id, no position without
/// its stop beyond the guard interval, engine = exchange at the end, the
/// journal replaying with 0 mismatches.
#[derive(Debug, Parser)]
#[command(name = "chaos", version)]
struct Args {
    /// SIGKILLs to deliver (each followed by a restart on the same journal).
    #[arg(long, default_value_t = 50)]
    kills: u32,
    /// Seed of the market, the faults and the kill choices.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Market time per wall time of the simulator (a fast market).
    #[arg(long, default_value_t = 600.0)]
    speed: f64,
    /// REST response delay of the simulator, ms.
    #[arg(long, default_value_t = 150)]
    delay_ms: u64,
    /// Probability of an HTTP 500/504 reply.
    #[arg(long = "rate-5xx", default_value_t = 0.05)]
    rate_5xx: f64,
    /// Probability of a random order reject.
    #[arg(long, default_value_t = 0.05)]
    reject_rate: f64,
    /// Length of each burst of HTTP 429 replies.
    #[arg(long = "burst-429", default_value_t = 2)]
    burst_429: u32,
    /// A 429 burst starts every this many REST requests.
    #[arg(long = "burst-429-every", default_value_t = 30)]
    burst_429_every: u32,
    /// Probability that a market frame is sent malformed.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Longest a position may be without its stop, restart time included, s.
    #[arg(long, default_value_t = 10.0)]
    guard_secs: f64,
    /// Longest wait for an aimed kill's moment before killing anyway, s.
    #[arg(long, default_value_t = 20.0)]
    max_life_secs: f64,
    /// Mean time between two stops cancelled by hand, s (0 = never).
    #[arg(long, default_value_t = 5.0)]
    hand_cancel_secs: f64,
    /// Length of the last life, which stops by itself and flattens, s.
    #[arg(long, default_value_t = 20)]
    final_secs: u64,
    /// Largest tolerated difference of engine and exchange equity, USDT.
    #[arg(long, default_value_t = 0.05)]
    equity_tolerance: f64,
    /// The `trading-engine` binary to run (default: this program runs the
    /// engine's code itself).
    #[arg(long, value_name = "PATH")]
    engine: Option<PathBuf>,
    /// Work directory: journal, engine config and log (default: a new
    /// directory under the system temp dir, kept and printed).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(ENGINE_ARG) {
        return run_engine(&argv[2..]);
    }
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chaos: {e}");
            ExitCode::from(2)
        }
    }
}

/// The engine lives of the harness run `run`; `demo` (which needs the
/// binary's in-process simulator) is refused.
#[allow(
    clippy::result_large_err,
    reason = "the signature is cli::run::DemoRunner's, as for every subcommand of the library"
)]
fn no_demo(
    _: &trading_engine::runtime::demo::DemoOptions,
    _: &mut dyn std::io::Write,
) -> Result<(), trading_engine::cli::CliError> {
    Err(trading_engine::cli::CliError::Demo(
        trading_engine::runtime::demo::DemoError::Simulator(
            "the chaos harness runs engine lives with `run`, not `demo`".into(),
        ),
    ))
}

/// Runs the engine's CLI with `args` exactly as `trading-engine` does.
fn run_engine(args: &[String]) -> ExitCode {
    let cli = trading_engine::cli::Cli::parse_from(
        std::iter::once("trading-engine".to_owned()).chain(args.iter().cloned()),
    );
    let mut logging = trading_engine::config::LoggingConfig::default();
    if let Some(level) = cli.log_level {
        logging.level = level;
    }
    let guard = trading_engine::logging::init(&logging, Path::new(".")).ok();
    let result = cli.command.run(&mut std::io::stdout().lock(), no_demo);
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if guard.is_some() && log::log_enabled!(log::Level::Error) {
                log::error!("{e}");
            } else {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    };
    drop(guard);
    code
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn run(a: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    let engine = match &a.engine {
        Some(p) => chaos::EngineCommand {
            program: p.clone(),
            prefix_args: Vec::new(),
        },
        None => chaos::self_engine(ENGINE_ARG)?,
    };
    let work_dir = match &a.dir {
        Some(d) => d.clone(),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            std::env::temp_dir().join(format!("te-chaos-{}-{nanos}", std::process::id()))
        }
    };
    println!(
        "Chaos: {} kills, seed {}, market x{}, faults: delay {} ms, 5xx {}, rejects {}, 429 bursts {} every {}, malformed {}; work dir {}",
        a.kills,
        a.seed,
        a.speed,
        a.delay_ms,
        a.rate_5xx,
        a.reject_rate,
        a.burst_429,
        a.burst_429_every,
        a.malformed_rate,
        work_dir.display()
    );
    let opts = ChaosOptions {
        kills: a.kills,
        seed: a.seed,
        speed: a.speed,
        faults: FaultConfig {
            delay_ms: a.delay_ms,
            rate_5xx: a.rate_5xx,
            reject_rate: a.reject_rate,
            burst_429: a.burst_429,
            burst_429_every: a.burst_429_every,
            malformed_rate: a.malformed_rate,
            ..FaultConfig::default()
        },
        guard: secs(a.guard_secs),
        max_life: secs(a.max_life_secs),
        hand_cancel_every: secs(a.hand_cancel_secs),
        final_secs: a.final_secs,
        engine,
        work_dir,
        equity_tolerance: a.equity_tolerance,
    };
    let mut out = std::io::stdout().lock();
    let report = chaos::run(&opts, &mut out)?;
    report.print(&mut out)?;
    Ok(report.violations().is_empty())
}
