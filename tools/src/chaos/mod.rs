//! `chaos`: the engine against the BingX simulator with faults on, killed
//! with SIGKILL at aimed moments and restarted on the same journal, while a
//! second REST client cancels its protective stops by hand; at the end the
//! exchange-side invariants and the engine's state are checked against the
//! simulator.
//!
//! Consumes [`ChaosOptions`]; produces a [`ChaosReport`] whose
//! [`violations`](ChaosReport::violations) decide the exit status. Every
//! engine life is a real `trading-engine run --mode live` process (the
//! binary given, or this program re-executing itself as the engine); the
//! simulator runs in this process on 127.0.0.1. Never touches anything but
//! loopback and its work directory.
//!
//! Kill aiming: each life draws a target — an entry in flight, a stop
//! replacement step, a partial exit, the start-up reconciliation, or a
//! random moment — and is killed as soon as the simulator sees that
//! activity (the engine has not had the answer yet: every REST reply is
//! delayed), or at a random moment when it does not come in time.

mod check;
mod life;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bingx_sim::rng::SimRng;
use bingx_sim::{FaultConfig, FaultCounts, SimConfig, SimError, SimHandle, Simulator, Speed};

pub use check::EndState;
pub use life::{self_engine, sibling_engine, EngineCommand, KillTarget};

/// What a chaos run does.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// SIGKILLs to deliver (each followed by a restart).
    pub kills: u32,
    /// Seed of the market, the faults and every random choice here.
    pub seed: u64,
    /// Market time per wall time of the simulator.
    pub speed: f64,
    /// Faults of the simulator.
    pub faults: FaultConfig,
    /// Longest a position may be without its stop, restart time included.
    pub guard: Duration,
    /// Longest wait for an aimed kill's activity before killing anyway.
    pub max_life: Duration,
    /// Mean wall time between two hand cancels of a stop (none when zero).
    pub hand_cancel_every: Duration,
    /// Wall time of the last life, which ends by itself (`--duration`).
    pub final_secs: u64,
    /// How each engine life is started.
    pub engine: EngineCommand,
    /// Work directory (journal, configs, logs).
    pub work_dir: PathBuf,
    /// Tolerance of the equity comparison, USDT.
    pub equity_tolerance: f64,
}

impl ChaosOptions {
    /// Returns the issue's fault set (`--delay-ms 150 --rate-5xx 0.05
    /// --reject-rate 0.05 --burst-429 2 --burst-429-every 30`).
    #[must_use]
    pub fn issue_faults() -> FaultConfig {
        FaultConfig {
            delay_ms: 150,
            rate_5xx: 0.05,
            reject_rate: 0.05,
            burst_429: 2,
            burst_429_every: 30,
            ..FaultConfig::default()
        }
    }
}

/// Why a chaos run could not be carried out (a violation is not an error:
/// it is in the report).
#[derive(Debug)]
pub enum ChaosError {
    /// The simulator did not start.
    Simulator(SimError),
    /// The work directory or a config file could not be written.
    Io(std::io::Error),
    /// The engine's config could not be rendered.
    Config(String),
    /// An engine process could not be started or waited for.
    Spawn(std::io::Error),
    /// Engine lives kept failing to start (the last one's log tail).
    EngineFails(String),
}

impl fmt::Display for ChaosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Simulator(e) => write!(f, "cannot start the simulator: {e}"),
            Self::Io(e) => write!(f, "work directory: {e}"),
            Self::Config(e) => write!(f, "engine config: {e}"),
            Self::Spawn(e) => write!(f, "cannot run the engine: {e}"),
            Self::EngineFails(tail) => {
                write!(
                    f,
                    "engine lives keep failing on their own; last log:\n{tail}"
                )
            }
        }
    }
}

impl std::error::Error for ChaosError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Simulator(e) => Some(e),
            Self::Io(e) | Self::Spawn(e) => Some(e),
            Self::Config(_) | Self::EngineFails(_) => None,
        }
    }
}

/// What a chaos run saw.
#[derive(Debug, Clone, Default)]
pub struct ChaosReport {
    /// SIGKILLs delivered, per target.
    pub kills: Vec<(KillTarget, u32)>,
    /// Engine lives started.
    pub lives: u32,
    /// Lives that ended by themselves with a failure before their kill.
    pub failed_lives: u32,
    /// Longest wall time from a kill to the next life's first order
    /// activity on the exchange (start-up time), ms.
    pub longest_restart_ms: u64,
    /// Faults the simulator injected.
    pub faults: FaultCounts,
    /// Stops cancelled by the hand client.
    pub hand_cancels: u32,
    /// Orders the exchange accepted.
    pub orders: u64,
    /// Client order ids a placement repeated.
    pub duplicates: Vec<String>,
    /// Longest stretch a position was without its stop, ms.
    pub longest_stopless_ms: i64,
    /// Stretches longer than the guard interval across at most one kill
    /// (violations): (position side, length ms).
    pub stopless_over: Vec<(String, i64)>,
    /// Stretches longer than the guard interval across two or more kills
    /// in a row (no life lived long enough to place the stop: the
    /// harness's doing, reported, not a violation): (side, length ms,
    /// kills inside).
    pub stopless_across_kills: Vec<(String, i64, usize)>,
    /// Wall time of every kill, ms since the epoch.
    pub kill_ms: Vec<i64>,
    /// The guard interval checked against, ms.
    pub guard_ms: i64,
    /// Engine and exchange at the end.
    pub end: EndState,
    /// Differences between the engine's and the exchange's state.
    pub state_mismatches: Vec<String>,
    /// Journal problems: unreadable records, replay mismatches.
    pub journal_problems: Vec<String>,
    /// Sessions (lives) the journal holds.
    pub sessions: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl ChaosReport {
    /// Returns every violated invariant, one line each (empty: pass).
    #[must_use]
    pub fn violations(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.duplicates.is_empty() {
            v.push(format!(
                "{} duplicate client order ids: {:?}",
                self.duplicates.len(),
                self.duplicates
            ));
        }
        for (side, ms) in &self.stopless_over {
            v.push(format!(
                "{side} position without a stop for {ms} ms (guard {} ms)",
                self.guard_ms
            ));
        }
        v.extend(self.state_mismatches.iter().cloned());
        v.extend(self.journal_problems.iter().cloned());
        v
    }

    /// Writes the summary.
    ///
    /// # Errors
    /// Errors of `out`.
    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let kills: u32 = self.kills.iter().map(|(_, n)| n).sum();
        let per: Vec<String> = self
            .kills
            .iter()
            .map(|(t, n)| format!("{} {n}", t.as_str()))
            .collect();
        writeln!(out, "Chaos summary ({:.0} s)", self.elapsed.as_secs_f64())?;
        writeln!(out, "  kills: {kills} ({})", per.join(", "))?;
        writeln!(
            out,
            "  lives: {} ({} failed on their own); journal sessions: {}; longest restart: {} ms",
            self.lives, self.failed_lives, self.sessions, self.longest_restart_ms
        )?;
        let f = &self.faults;
        writeln!(
            out,
            "  faults injected: {} (429: {}, 500: {}, 504: {}, rejects: {}, malformed frames: {}); stops cancelled by hand: {}",
            f.total() + u64::from(self.hand_cancels),
            f.too_many,
            f.internal,
            f.gateway_timeout,
            f.rejects,
            f.malformed,
            self.hand_cancels
        )?;
        writeln!(
            out,
            "  orders accepted: {}; duplicate client order ids: {}",
            self.orders,
            self.duplicates.len()
        )?;
        writeln!(
            out,
            "  longest stop-less time: {} ms (guard {} ms); over the guard: {}; over the guard across 2+ kills in a row: {}",
            self.longest_stopless_ms,
            self.guard_ms,
            self.stopless_over.len(),
            self.stopless_across_kills.len()
        )?;
        for (side, ms, kills) in &self.stopless_across_kills {
            writeln!(out, "    {side}: {ms} ms across {kills} kills")?;
        }
        writeln!(out, "  end: {}", self.end)?;
        writeln!(
            out,
            "  state mismatches: {}; journal problems: {}",
            self.state_mismatches.len(),
            self.journal_problems.len()
        )?;
        let v = self.violations();
        if v.is_empty() {
            writeln!(out, "PASS")?;
        } else {
            writeln!(out, "FAIL: {} violations", v.len())?;
            for line in v {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}

/// Runs the chaos test; `out` gets one progress line per life.
///
/// # Errors
/// [`ChaosError`] when the run cannot be carried out.
pub fn run(opts: &ChaosOptions, out: &mut dyn Write) -> Result<ChaosReport, ChaosError> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.work_dir).map_err(ChaosError::Io)?;
    let sim = start_sim(opts)?;
    let mut rng = SimRng::new(opts.seed ^ 0xC4A0_5EED);
    let journal = opts.work_dir.join("journal");
    let mut report = ChaosReport {
        guard_ms: i64::try_from(opts.guard.as_millis()).unwrap_or(i64::MAX),
        ..ChaosReport::default()
    };
    let lives = life::Lives::new(opts, &sim, &journal)?;
    let hand = life::HandCanceller::start(&sim, opts.hand_cancel_every, opts.seed);
    lives.run_all(opts, &sim, &mut rng, &mut report, out)?;
    report.hand_cancels = hand.stop();
    check::finish(opts, &sim, &journal, &mut report);
    report.elapsed = started.elapsed();
    sim.shutdown();
    Ok(report)
}

fn start_sim(opts: &ChaosOptions) -> Result<SimHandle, ChaosError> {
    Simulator::start(SimConfig {
        speed: Speed::Times(opts.speed),
        seed: opts.seed,
        warmup_minutes: 1_440,
        faults: opts.faults.clone(),
        ..SimConfig::default()
    })
    .map_err(ChaosError::Simulator)
}
