//! Engine lives of a chaos run: the engine's config, starting a life,
//! aiming its SIGKILL at an activity the simulator sees, the last life that
//! ends by itself, and the hand client cancelling stops behind the
//! engine's back.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bingx_sim::rng::SimRng;
use bingx_sim::{Activity, SimHandle, DEFAULT_API_SECRET};
use trading_engine::io::order::OrderRef;
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::types::SymbolId;

use super::{ChaosError, ChaosOptions, ChaosReport};

/// Consecutive lives failing on their own before the run gives up.
const FAILS_MAX: u32 = 10;
/// Poll period of the kill aiming.
const POLL: Duration = Duration::from_millis(1);

/// How an engine life is started: `program prefix_args... run ...`.
#[derive(Debug, Clone)]
pub struct EngineCommand {
    /// The `trading-engine` binary (or a program that runs its CLI).
    pub program: PathBuf,
    /// Arguments before the engine's own (e.g. a hidden subcommand).
    pub prefix_args: Vec<String>,
}

/// What a life's SIGKILL is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KillTarget {
    /// Right after the exchange accepted an entry (its answer still on the way).
    Entry,
    /// Right after a step of a stop replacement (a second stop placed, or
    /// a stop of an open position cancelled).
    StopReplace,
    /// Right after a partial exit filled.
    Partial,
    /// During the start-up reconciliation (after the first query of the life).
    Reconcile,
    /// At a random moment.
    Random,
}

impl KillTarget {
    /// Every target, in report order.
    pub const ALL: [Self; 5] = [
        Self::Entry,
        Self::StopReplace,
        Self::Partial,
        Self::Reconcile,
        Self::Random,
    ];

    /// Returns the name used in the summary.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Entry => "entry in flight",
            Self::StopReplace => "stop replace step",
            Self::Partial => "partial exit",
            Self::Reconcile => "reconciliation",
            Self::Random => "random moment",
        }
    }

    fn hit(self, before: &Activity, now: &Activity) -> bool {
        match self {
            Self::Entry => now.entries > before.entries,
            Self::StopReplace => now.stop_replace_steps > before.stop_replace_steps,
            Self::Partial => now.partials > before.partials,
            Self::Reconcile => now.queries > before.queries,
            Self::Random => false,
        }
    }
}

/// The engine side of the run: config file and log.
#[derive(Debug)]
pub struct Lives {
    config: PathBuf,
    log: PathBuf,
    work_dir: PathBuf,
}

impl Lives {
    /// Writes the engine's config (the demo's: live against `sim`, lowered
    /// strategy thresholds, flatten on shutdown; journal in `journal`).
    ///
    /// # Errors
    /// [`ChaosError`] when it cannot be rendered or written.
    pub fn new(opts: &ChaosOptions, sim: &SimHandle, journal: &Path) -> Result<Self, ChaosError> {
        let venue = trading_engine::runtime::demo::DemoVenue {
            rest_base: sim.rest_base(),
            ws_url: sim.ws_url(),
            ca_file: sim.cert_path().map(Path::to_path_buf),
            api_key: sim.api_key().to_owned(),
            api_secret: bingx_sim::DEFAULT_API_SECRET.to_owned(),
        };
        // The demo config keeps its marker files in the journal directory,
        // which must exist before the first life's config check.
        std::fs::create_dir_all(journal).map_err(ChaosError::Io)?;
        let mut cfg = trading_engine::runtime::demo::demo_config(&venue, journal);
        cfg.latency.hgrm_dir = None;
        busy_trading(&mut cfg);
        let text = cfg
            .to_toml_string()
            .map_err(|e| ChaosError::Config(e.to_string()))?;
        let config = opts.work_dir.join("engine.toml");
        std::fs::write(&config, text).map_err(ChaosError::Io)?;
        Ok(Self {
            config,
            log: opts.work_dir.join("engine.log"),
            work_dir: opts.work_dir.clone(),
        })
    }

    fn spawn(
        &self,
        opts: &ChaosOptions,
        sim: &SimHandle,
        life: u32,
        duration_secs: u64,
    ) -> Result<Child, ChaosError> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(ChaosError::Io)?;
        writeln!(log, "===== life {life} =====").map_err(ChaosError::Io)?;
        let mut cmd = Command::new(&opts.engine.program);
        cmd.args(&opts.engine.prefix_args)
            .args(["--log-level", "warn", "run", "--mode", "live"])
            .arg("--config")
            .arg(&self.config)
            .args(["--status-every", "0"])
            .args(["--duration", &duration_secs.to_string()])
            .env("BINGX_API_KEY", sim.api_key())
            .env("BINGX_API_SECRET", DEFAULT_API_SECRET)
            .current_dir(&self.work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(ChaosError::Spawn)
    }

    /// Returns the last lines of the engine log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Runs `opts.kills` killed lives, then the last one to its end.
    ///
    /// # Errors
    /// [`ChaosError`] when an engine cannot be started or keeps failing.
    pub fn run_all(
        &self,
        opts: &ChaosOptions,
        sim: &SimHandle,
        rng: &mut SimRng,
        report: &mut ChaosReport,
        out: &mut dyn Write,
    ) -> Result<(), ChaosError> {
        let mut kills = [0u32; KillTarget::ALL.len()];
        let mut fails = 0;
        let mut done = 0;
        while done < opts.kills {
            let target =
                KillTarget::ALL[rng.range_i64(0, KillTarget::ALL.len() as i64 - 1) as usize];
            report.lives += 1;
            let life = report.lives;
            let before = sim.activity();
            let spawned = Instant::now();
            // A bound on the life in case this harness dies before its
            // kill: the engine then stops by itself a minute later.
            let bound = opts.max_life.as_secs() + 60;
            let mut child = self.spawn(opts, sim, life, bound)?;
            let random_at = Duration::from_millis(rng.range_i64(300, 8_000) as u64);
            let deadline = if target == KillTarget::Random {
                random_at
            } else {
                opts.max_life
            };
            let mut first_query = None;
            let outcome = loop {
                if let Some(status) = child.try_wait().map_err(ChaosError::Spawn)? {
                    break LifeEnd::Exited(status);
                }
                let now = sim.activity();
                if first_query.is_none() && now.queries > before.queries {
                    first_query = Some(spawned.elapsed());
                }
                if target.hit(&before, &now) {
                    if target == KillTarget::Reconcile {
                        // Somewhere inside the start-up's lookups.
                        std::thread::sleep(Duration::from_millis(rng.range_i64(0, 400) as u64));
                    }
                    break LifeEnd::Killed(target);
                }
                if spawned.elapsed() >= deadline {
                    break LifeEnd::Killed(KillTarget::Random);
                }
                std::thread::sleep(POLL);
            };
            if let Some(t) = first_query {
                let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
                report.longest_restart_ms = report.longest_restart_ms.max(ms);
            }
            match outcome {
                LifeEnd::Killed(t) => {
                    // SIGKILL; an engine that exited meanwhile is reaped the same way.
                    let _ = child.kill();
                    report.kill_ms.push(bingx_sim::now_ms());
                    child.wait().map_err(ChaosError::Spawn)?;
                    kills[KillTarget::ALL.iter().position(|x| *x == t).unwrap_or(0)] += 1;
                    done += 1;
                    fails = 0;
                    let _ = writeln!(
                        out,
                        "life {life}: killed after {:.2} s ({})",
                        spawned.elapsed().as_secs_f64(),
                        t.as_str()
                    );
                }
                LifeEnd::Exited(status) => {
                    report.failed_lives += 1;
                    fails += 1;
                    let _ = writeln!(out, "life {life}: ended on its own ({status})");
                    if fails >= FAILS_MAX {
                        return Err(ChaosError::EngineFails(self.log_tail()));
                    }
                }
            }
        }
        report.kills = KillTarget::ALL
            .iter()
            .zip(kills)
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (*t, n))
            .collect();
        self.last_life(opts, sim, report, out)
    }

    /// The last life: runs `final_secs` and stops by itself (flattening).
    fn last_life(
        &self,
        opts: &ChaosOptions,
        sim: &SimHandle,
        report: &mut ChaosReport,
        out: &mut dyn Write,
    ) -> Result<(), ChaosError> {
        for _ in 0..FAILS_MAX {
            report.lives += 1;
            let life = report.lives;
            let mut child = self.spawn(opts, sim, life, opts.final_secs)?;
            // Start-up, the run, and the drain after it.
            let limit = Duration::from_secs(opts.final_secs + 120);
            let started = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().map_err(ChaosError::Spawn)? {
                    break Some(s);
                }
                if started.elapsed() > limit {
                    let _ = child.kill();
                    child.wait().map_err(ChaosError::Spawn)?;
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let _ = writeln!(
                out,
                "life {life}: last life ended after {:.1} s ({})",
                started.elapsed().as_secs_f64(),
                status.map_or("hung, killed".to_owned(), |s| s.to_string())
            );
            match status {
                Some(s) if s.success() => return Ok(()),
                Some(_) if started.elapsed() < Duration::from_secs(opts.final_secs) => {
                    // Failed at start-up (faults): try again.
                    report.failed_lives += 1;
                }
                other => {
                    report.state_mismatches.push(format!(
                        "the last life did not end cleanly ({}); log:\n{}",
                        other.map_or("hung".to_owned(), |s| s.to_string()),
                        self.log_tail()
                    ));
                    return Ok(());
                }
            }
        }
        Err(ChaosError::EngineFails(self.log_tail()))
    }
}

/// Makes the engine trade all the time, so that kills find entries,
/// stops, partials and trailing replacements: thresholds far below the
/// demo's, exits close to the entry, no cooldowns or streak locks, and no
/// kill switch (faults cost money).
fn busy_trading(cfg: &mut trading_engine::config::Config) {
    let l = &mut cfg.strategies.mtf_long;
    l.body_atr_mult = 0.3;
    l.volume_mult = 0.5;
    l.close_position = 0.5;
    l.breakout_lookback = 2;
    l.rsi_max = 100.0;
    l.stop_atr_mult = 1.5;
    l.target_atr_mult = 4.0;
    let s = &mut cfg.strategies.trend_distance_short;
    s.body_atr_mult = 0.3;
    s.volume_mult = 0.5;
    s.close_position = 0.5;
    s.breakdown_lookback = 2;
    s.min_distance_pct = 0.0;
    s.stop_atr_mult = 1.5;
    s.target_atr_mult = 4.0;
    let m = &mut cfg.management;
    m.partial1_r = 0.5;
    m.partial2_r = 1.0;
    m.trail_start_r = 0.7;
    m.trail_distance_r = 0.5;
    m.trail2_start_r = 1.2;
    m.trail2_distance_r = 0.4;
    let r = &mut cfg.risk;
    r.max_drawdown_pct = 100.0;
    r.cooldown_minutes = 0;
    r.max_consecutive_losses = 1_000;
    r.loss_streak_lock_minutes = 0;
}

enum LifeEnd {
    Killed(KillTarget),
    Exited(ExitStatus),
}

/// A second REST client on the engine's account cancelling one of its
/// STOP_MARKET orders now and then.
#[derive(Debug)]
pub struct HandCanceller {
    stop: Arc<AtomicBool>,
    cancels: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

impl HandCanceller {
    /// Starts cancelling a stop every `every` on average (never when zero).
    #[must_use]
    pub fn start(sim: &SimHandle, every: Duration, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let cancels = Arc::new(AtomicU32::new(0));
        let thread = (!every.is_zero()).then(|| {
            let (stop, cancels) = (Arc::clone(&stop), Arc::clone(&cancels));
            let (base, key) = (sim.rest_base(), sim.api_key().to_owned());
            std::thread::spawn(move || cancel_loop(&base, &key, every, seed, &stop, &cancels))
        });
        Self {
            stop,
            cancels,
            thread,
        }
    }

    /// Stops the client; returns the stops it cancelled.
    #[must_use]
    pub fn stop(mut self) -> u32 {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.cancels.load(Ordering::Acquire)
    }
}

fn cancel_loop(
    base: &str,
    key: &str,
    every: Duration,
    seed: u64,
    stop: &AtomicBool,
    cancels: &AtomicU32,
) {
    let mut rng = SimRng::new(seed ^ 0x4A4D_CA9C);
    let mut client: Option<RestClient> = None;
    let mean_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(2);
    while !stop.load(Ordering::Acquire) {
        let wait = Duration::from_millis(rng.range_i64(mean_ms / 2, mean_ms * 3 / 2) as u64);
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if client.is_none() {
            client = RestClient::try_new(RestConfig::new(base, key, DEFAULT_API_SECRET))
                .ok()
                .and_then(|mut c| c.load_symbols(&["BTC-USDT"]).is_ok().then_some(c));
        }
        let Some(c) = client.as_mut() else {
            continue;
        };
        let Ok(orders) = c.open_orders(Some(SymbolId(0))) else {
            continue;
        };
        let stops: Vec<u64> = orders
            .iter()
            .filter(|o| o.order_type == "STOP_MARKET")
            .map(|o| o.order_id)
            .collect();
        if stops.is_empty() {
            continue;
        }
        let pick = stops[rng.range_i64(0, stops.len() as i64 - 1) as usize];
        if c.cancel_order(SymbolId(0), OrderRef::OrderId(pick)).is_ok() {
            cancels.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Returns the engine command that re-executes this program with `hidden`
/// as its first argument (the program must then run the engine's CLI).
///
/// # Errors
/// When the program's own path is unknown.
pub fn self_engine(hidden: &str) -> std::io::Result<EngineCommand> {
    Ok(EngineCommand {
        program: std::env::current_exe()?,
        prefix_args: vec![hidden.to_owned()],
    })
}

/// Returns the `trading-engine` binary beside this program's, if built.
#[must_use]
pub fn sibling_engine() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join("trading-engine"),
        dir.parent()?.join("trading-engine"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}
