//! `trading-engine demo`: the engine in live mode against the BingX
//! simulator started in-process on loopback with TLS — the real WebSocket,
//! REST and user-stream code, no account and no internet.
//!
//! Consumes [`DemoOptions`]; produces a [`DemoReport`] (the run's report,
//! the simulator's positions and open orders at the end) and prints a
//! status line every second, the trade summary, the final dashboard and
//! the latency table.
//! Never talks to anything but 127.0.0.1.
//!
//! Demo choices (all in [`demo_config`] / [`sim_config`]): the simulator's
//! generated market (seeded, ~2 % of minutes explosive) replayed at
//! `speed` times real time with a day of kline history for the warm-up;
//! strategy thresholds lowered from the production defaults so that the
//! generated market's explosive candles qualify within a minute of wall
//! time; `close_on_shutdown` so every trade is closed and summarised.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::bingx_sim::{SimConfig, SimError, SimHandle, Simulator, Speed};
use crate::config::{Config, Mode};
use crate::io::rest::{RestClient, RestConfig};
use crate::io::tls::TlsOptions;
use crate::strategy::{EveryCandleEntry, Strategy};

use super::setup::{run, RunOptions, RunReport, RuntimeError};

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Binance klines/aggTrades CSV for the simulator; `None` generates a market.
    pub data: Option<PathBuf>,
    /// Market time per wall time.
    pub speed: f64,
    /// Wall-clock length of the run.
    pub duration: Duration,
    /// Journal directory; `None` uses a fresh directory under the system's
    /// temporary directory (kept, so the journal can be replayed).
    pub journal: Option<PathBuf>,
    /// Seed of the generated market.
    pub seed: u64,
    /// Print the status line every second.
    pub status_line: bool,
    /// Pin the hot thread (`engine.hot_core` = 0).
    pub pin: bool,
    /// Handle SIGINT/SIGTERM (stop early, still summarised).
    pub signals: bool,
    /// Where orders go: live to the simulator (the demo), paper (filled by
    /// the in-process simulated exchange: no REST round trip and no
    /// order-rate limit between orders) or dry-run (journaled and refused at
    /// once). Market data always comes from the simulator.
    pub mode: Mode,
    /// Append [`EveryCandleEntry`] to the configured strategies: an entry on
    /// every closed candle that finds the engine flat (latency sampling; the
    /// journal then does not replay against the configuration alone).
    pub every_candle: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            data: None,
            speed: DEFAULT_SPEED,
            duration: Duration::from_secs(DEFAULT_DURATION_SECS),
            journal: None,
            seed: DEFAULT_SEED,
            status_line: true,
            pin: true,
            signals: true,
            mode: Mode::Live,
            every_candle: false,
        }
    }
}

/// Default replay speed: one wall second is ten market minutes.
pub const DEFAULT_SPEED: f64 = 600.0;
/// Default wall-clock duration, seconds (ten market hours at the default speed).
pub const DEFAULT_DURATION_SECS: u64 = 60;

/// Default seed of the generated market (its first ten live hours hold
/// several qualifying explosive candles).
pub const DEFAULT_SEED: u64 = 3;

/// Why the demo failed.
#[derive(Debug)]
pub enum DemoError {
    /// The simulator did not start.
    Simulator(SimError),
    /// The engine run failed to start.
    Runtime(RuntimeError),
    /// A temporary directory could not be made.
    TempDir(std::io::Error),
    /// Writing the output failed.
    Output(std::io::Error),
    /// The speed is not a positive number.
    BadSpeed(f64),
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Simulator(e) => write!(f, "cannot start the simulator: {e}"),
            Self::Runtime(e) => write!(f, "engine run failed: {e}"),
            Self::TempDir(e) => write!(f, "cannot create a temporary directory: {e}"),
            Self::Output(e) => write!(f, "cannot write output: {e}"),
            Self::BadSpeed(s) => write!(f, "speed must be a positive number, got {s}"),
        }
    }
}

impl std::error::Error for DemoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Simulator(e) => Some(e),
            Self::Runtime(e) => Some(e),
            Self::TempDir(e) | Self::Output(e) => Some(e),
            Self::BadSpeed(_) => None,
        }
    }
}

/// The simulator's positions at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeView {
    /// Non-zero positions as (position side, amount).
    pub positions: Vec<(String, f64)>,
    /// Open orders left.
    pub open_orders: usize,
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoReport {
    /// The engine run.
    pub run: RunReport,
    /// The exchange's view at the end (`None` when it could not be read).
    pub exchange: Option<ExchangeView>,
}

/// Returns the configured strategies followed by [`EveryCandleEntry`]
/// (`demo --every-candle`).
#[must_use]
pub fn with_every_candle(cfg: &Config) -> Vec<Box<dyn Strategy>> {
    let mut out = crate::strategy::build(&cfg.strategies);
    out.push(Box::new(EveryCandleEntry::default()));
    out
}

/// Returns the simulator configuration of the demo.
#[must_use]
pub fn sim_config(opts: &DemoOptions, cert: PathBuf) -> SimConfig {
    SimConfig {
        tls: true,
        cert_out: Some(cert),
        data: opts.data.clone(),
        speed: Speed::Times(opts.speed),
        seed: opts.seed,
        warmup_minutes: 1_440,
        ..SimConfig::default()
    }
}

/// Returns the engine configuration of the demo for a running simulator.
#[must_use]
pub fn demo_config(sim: &SimHandle, journal: &std::path::Path) -> Config {
    let mut cfg = Config::default();
    cfg.engine.mode = Mode::Live;
    cfg.exchange.rest_base_url = Some(sim.rest_base());
    cfg.exchange.ws_url = Some(sim.ws_url());
    cfg.exchange.ca_file = sim.cert_path().map(std::path::Path::to_path_buf);
    cfg.exchange.cancel_all_after_secs = 60;
    cfg.market.symbols = vec!["BTC-USDT".into()];
    cfg.journal.dir = journal.to_path_buf();
    cfg.latency.hgrm_dir = Some(journal.to_path_buf());
    cfg.latency.report_interval_secs = 0;
    cfg.metrics.enabled = false;
    cfg.risk.close_on_shutdown = true;
    cfg.risk.stop_file = journal.join("STOP");
    cfg.risk.halt_file = journal.join("HALT");
    demo_strategies(&mut cfg);
    cfg
}

/// Lowers the strategy thresholds from the production defaults so the
/// generated market's explosive candles qualify often enough for a short
/// demo: body ≥ 1 ATR, volume ≥ 1.2 × SMA, 10-minute breakout/breakdown,
/// RSI cap 95, no minimum distance below the 5m SMA(200). Periods stay.
pub fn demo_strategies(cfg: &mut Config) {
    let l = &mut cfg.strategies.mtf_long;
    l.body_atr_mult = 1.0;
    l.volume_mult = 1.2;
    l.breakout_lookback = 10;
    l.rsi_max = 95.0;
    let s = &mut cfg.strategies.trend_distance_short;
    s.body_atr_mult = 1.0;
    s.volume_mult = 1.2;
    s.breakdown_lookback = 10;
    s.min_distance_pct = 0.0;
}

fn exchange_view(sim: &SimHandle, cfg: &Config) -> Option<ExchangeView> {
    let mut rc = RestConfig::new(
        &sim.rest_base(),
        sim.api_key(),
        crate::bingx_sim::DEFAULT_API_SECRET,
    );
    rc.http.tls = TlsOptions {
        use_webpki_roots: false,
        extra_ca_file: cfg.exchange.ca_file.clone(),
    };
    let mut rest = RestClient::try_new(rc).ok()?;
    rest.load_symbols(&["BTC-USDT"]).ok()?;
    let positions = rest
        .positions(Some("BTC-USDT"))
        .ok()?
        .into_iter()
        .filter(|p| p.position_amt.to_f64() != 0.0)
        .map(|p| (p.position_side, p.position_amt.to_f64()))
        .collect();
    let open_orders = rest.open_orders(None).ok()?.len();
    Some(ExchangeView {
        positions,
        open_orders,
    })
}

/// Runs the demo, writing the status lines and the summary to `out`.
///
/// # Errors
/// [`DemoError`] when the simulator or the engine cannot start.
pub fn demo(opts: &DemoOptions, out: &mut dyn Write) -> Result<DemoReport, DemoError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let work = std::env::temp_dir().join(format!("te-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(DemoError::TempDir)?;
    let journal = match &opts.journal {
        Some(j) => j.clone(),
        None => work.join("journal"),
    };
    let sim = Simulator::start(sim_config(opts, work.join("sim-ca.pem")))
        .map_err(DemoError::Simulator)?;
    let cfg = demo_config(&sim, &journal);
    writeln!(
        out,
        "Simulator on {} (TLS), market x{} for {} s{}{}; journal in {}",
        sim.rest_base(),
        opts.speed,
        opts.duration.as_secs(),
        match opts.mode {
            Mode::Live => "",
            Mode::Paper => ", paper orders",
            Mode::DryRun => ", dry-run orders",
        },
        if opts.every_candle {
            ", an entry on every closed candle"
        } else {
            ""
        },
        journal.display()
    )
    .map_err(DemoError::Output)?;
    let mut ro = RunOptions::new(cfg.clone(), opts.mode);
    if opts.every_candle {
        ro.strategies = Some(with_every_candle);
    }
    ro.credentials = Some((
        sim.api_key().to_owned(),
        crate::bingx_sim::DEFAULT_API_SECRET.to_owned(),
    ));
    ro.time_scale = opts.speed;
    ro.duration = Some(opts.duration);
    ro.signals = opts.signals;
    ro.status_every = opts.status_line.then_some(Duration::from_secs(1));
    ro.pin = opts.pin;
    ro.journal_dir = Some(journal);
    ro.control_server = false;
    let report = run(ro, out).map_err(DemoError::Runtime)?;
    let exchange = exchange_view(&sim, &cfg);
    sim.shutdown();
    let report = DemoReport {
        run: report,
        exchange,
    };
    print_summary(&report, out).map_err(DemoError::Output)?;
    Ok(report)
}

/// Writes the trade summary and the latency table.
///
/// # Errors
/// The writer's error.
pub fn print_summary(r: &DemoReport, out: &mut dyn Write) -> std::io::Result<()> {
    let run = &r.run;
    let c = &run.hot.counters;
    writeln!(out)?;
    writeln!(
        out,
        "Stopped ({}): {} trades in {} frames, {} orders, {} fills, {} warm-up candles, {} journal records",
        run.hot.reason.as_str(),
        c.trades,
        c.frames,
        c.orders,
        c.fills,
        run.warmup_candles,
        c.journal_records
    )?;
    writeln!(out, "Closed trades: {}", run.service.trades.len())?;
    writeln!(
        out,
        "{:>3} {:<5} {:>12} {:>12} {:>10} {:>10} {:>7}",
        "#", "side", "entry", "exit", "qty", "pnl", "R"
    )?;
    for (i, t) in run.service.trades.iter().enumerate() {
        writeln!(
            out,
            "{:>3} {:<5} {:>12.1} {:>12.1} {:>10.4} {:>10.2} {:>7.2}",
            i + 1,
            if t.side == crate::types::Side::Buy {
                "long"
            } else {
                "short"
            },
            t.entry_price.to_f64(),
            t.avg_exit_price.to_f64(),
            t.qty.to_f64(),
            t.pnl.to_f64(),
            t.r_multiple
        )?;
    }
    let pnl: f64 = run.service.trades.iter().map(|t| t.pnl.to_f64()).sum();
    writeln!(
        out,
        "Net PnL {pnl:.2} USDT; equity {:.2}; engine positions open: {}",
        run.hot.equity, run.hot.open_positions
    )?;
    match &r.exchange {
        Some(x) => writeln!(
            out,
            "Exchange: {} open position(s), {} open order(s)",
            x.positions.len(),
            x.open_orders
        )?,
        None => writeln!(out, "Exchange: state could not be read")?,
    }
    if let Some(d) = &run.service.final_dashboard {
        writeln!(out, "\n{d}")?;
    }
    writeln!(out, "\nLatency (hot thread, whole run):\n{}", run.latency)?;
    if !run.hgrm.is_empty() {
        writeln!(out, "Histograms saved: {}", run.hgrm.len())?;
    }
    Ok(())
}
