//! The binary's half of `trading-engine demo`: starts the BingX simulator
//! (the `bingx-sim` crate) in-process on 127.0.0.1 with TLS, runs the
//! library's demo against it and prints the summary.
//!
//! This module belongs to the `trading-engine` binary, not to the library:
//! the engine library never links the simulator, only this front end does.
//! Consumes [`DemoOptions`]; produces the demo's output on `out`. Never
//! talks to anything but 127.0.0.1.

use std::io::Write;
use std::path::PathBuf;

use bingx_sim::{SimConfig, SimError, SimHandle, Simulator, Speed};
use trading_engine::cli::CliError;
use trading_engine::runtime::demo::{self, DemoError, DemoOptions, DemoSpeed, DemoVenue};

/// Minutes of market the simulator serves as REST kline history before the
/// live replay (the engine's warm-up).
const WARMUP_MINUTES: u32 = 1_440;

/// Returns the simulator configuration of the demo.
fn sim_config(opts: &DemoOptions, cert: PathBuf) -> SimConfig {
    SimConfig {
        tls: true,
        cert_out: Some(cert),
        data: opts.data.clone(),
        speed: match opts.speed {
            DemoSpeed::Times(x) => Speed::Times(x),
            DemoSpeed::Max => Speed::Max,
        },
        seed: opts.seed,
        warmup_minutes: WARMUP_MINUTES,
        ..SimConfig::default()
    }
}

/// Returns the engine's view of a running simulator.
fn venue(sim: &SimHandle) -> DemoVenue {
    DemoVenue {
        rest_base: sim.rest_base(),
        ws_url: sim.ws_url(),
        ca_file: sim.cert_path().map(std::path::Path::to_path_buf),
        api_key: sim.api_key().to_owned(),
        api_secret: bingx_sim::DEFAULT_API_SECRET.to_owned(),
    }
}

fn start_error(e: SimError) -> CliError {
    CliError::Demo(DemoError::Simulator(Box::new(e)))
}

/// Runs the demo: starts the simulator, runs the engine against it, stops
/// the simulator and writes the summary to `out`.
///
/// # Errors
/// [`CliError::Demo`] when the simulator or the engine cannot start or the
/// output fails.
#[allow(
    clippy::result_large_err,
    reason = "the signature is cli::run::DemoRunner's, as for every subcommand of the library"
)]
pub fn run(opts: &DemoOptions, out: &mut dyn Write) -> Result<(), CliError> {
    let work = demo::work_dir().map_err(CliError::Demo)?;
    let journal = demo::journal_dir(opts, &work);
    let sim = Simulator::start(sim_config(opts, work.join("sim-ca.pem"))).map_err(start_error)?;
    let report = demo::demo(opts, &venue(&sim), &journal, out).map_err(CliError::Demo)?;
    sim.shutdown();
    demo::print_summary(&report, out).map_err(|e| CliError::Demo(DemoError::Output(e)))?;
    demo::check_agreement(opts, &report).map_err(CliError::Demo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_accepts_exactly_the_speeds_the_simulator_accepts() {
        assert_eq!(demo::MIN_SPEED, bingx_sim::MIN_SPEED);
        assert_eq!(demo::MAX_SPEED, bingx_sim::MAX_SPEED);
        let opts = DemoOptions {
            speed: DemoSpeed::Max,
            ..DemoOptions::default()
        };
        assert_eq!(sim_config(&opts, PathBuf::from("c.pem")).speed, Speed::Max);
    }
}
