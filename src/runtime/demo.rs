//! `trading-engine demo`: the engine in live mode against a BingX-compatible
//! exchange on loopback with TLS — the real WebSocket, REST and user-stream
//! code, no account and no internet. The binary starts that exchange (the
//! `bingx-sim` crate, in-process) and hands its coordinates over as a
//! [`DemoVenue`]; this library never links the simulator.
//!
//! Consumes [`DemoOptions`] and a [`DemoVenue`]; produces a [`DemoReport`]
//! (the run's report, the exchange's positions and open orders at the end)
//! and prints a status line every second; [`print_summary`] writes the
//! trade summary, the final dashboard and the latency table.
//! Never talks to anything but the venue it is given (127.0.0.1).
//!
//! Demo choices (all in [`demo_config`]): the simulator's generated market
//! (seeded, ~2 % of minutes explosive) replayed at `speed` times real time
//! with a day of kline history for the warm-up; strategy thresholds lowered
//! from the production defaults so that the generated market's explosive
//! candles qualify within a minute of wall time; `close_on_shutdown` so
//! every trade is closed and summarised.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::config::{Config, Mode};
use crate::io::rest::{RestClient, RestConfig};
use crate::io::tls::TlsOptions;
use crate::strategy::{EveryCandleEntry, StrategiesConfig, Strategy};

use super::setup::{run, RunOptions, RunReport, RuntimeError};

/// Slowest accepted `--speed` multiplier: below it a replay of a day would
/// take years, and the simulator's per-trade wall deadlines overflow.
pub const MIN_SPEED: f64 = 0.001;
/// Fastest accepted `--speed` multiplier (beyond it use `max`).
pub const MAX_SPEED: f64 = 1_000_000.0;

/// Market time per wall time of a demo (`--speed N|max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DemoSpeed {
    /// Market time runs this many times faster than wall time, within
    /// [`MIN_SPEED`]..=[`MAX_SPEED`].
    Times(f64),
    /// As fast as the engine reads the market stream.
    Max,
}

impl DemoSpeed {
    /// Returns the multiplier the engine uses to estimate market time
    /// between events: the speed, or 1 for `max` (market time then advances
    /// only with the events, so no candle closes ahead of its trades).
    #[must_use]
    pub fn time_scale(self) -> f64 {
        match self {
            Self::Times(x) => x,
            Self::Max => 1.0,
        }
    }
}

impl std::fmt::Display for DemoSpeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Times(x) => write!(f, "x{x}"),
            Self::Max => f.write_str("at max speed"),
        }
    }
}

/// Why a `--speed` value was refused: neither a multiplier within
/// [`MIN_SPEED`]..=[`MAX_SPEED`] nor `max` (holds the text given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeedError(pub String);

impl std::fmt::Display for SpeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "speed {:?} is neither a multiplier from {MIN_SPEED} to {MAX_SPEED} nor \"max\"",
            self.0
        )
    }
}

impl std::error::Error for SpeedError {}

impl FromStr for DemoSpeed {
    type Err = SpeedError;

    /// Parses `N` (a multiplier within [`MIN_SPEED`]..=[`MAX_SPEED`]) or
    /// `max`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        match s.parse::<f64>() {
            Ok(x) if (MIN_SPEED..=MAX_SPEED).contains(&x) => Ok(Self::Times(x)),
            _ => Err(SpeedError(s.to_owned())),
        }
    }
}

/// The exchange a demo trades against, as the binary started it: where it
/// listens, the certificate to trust and the credentials it accepts.
#[derive(Clone)]
pub struct DemoVenue {
    /// REST base URL (`https://127.0.0.1:PORT`).
    pub rest_base: String,
    /// Market WebSocket URL (`wss://127.0.0.1:PORT/swap-market`).
    pub ws_url: String,
    /// PEM certificate of the venue's TLS server, trusted for this run only.
    pub ca_file: Option<PathBuf>,
    /// API key the venue accepts.
    pub api_key: String,
    /// API secret the venue verifies signatures with (never printed).
    pub api_secret: String,
}

impl std::fmt::Debug for DemoVenue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoVenue")
            .field("rest_base", &self.rest_base)
            .field("ws_url", &self.ws_url)
            .field("ca_file", &self.ca_file)
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Binance klines/aggTrades CSV for the simulator; `None` generates a market.
    pub data: Option<PathBuf>,
    /// Market time per wall time.
    pub speed: DemoSpeed,
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
            speed: DemoSpeed::Times(DEFAULT_SPEED),
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
    /// The simulator (the venue the binary starts) did not start.
    Simulator(Box<dyn std::error::Error + Send + Sync>),
    /// The engine run failed to start.
    Runtime(RuntimeError),
    /// A temporary directory could not be made.
    TempDir(std::io::Error),
    /// Writing the output failed.
    Output(std::io::Error),
    /// Live demo: at the end the engine's open positions differ from the
    /// simulator's (or the simulator could not be read).
    Disagree {
        /// Positions the engine had open.
        engine: usize,
        /// Positions on the simulator (`None`: not readable).
        exchange: Option<usize>,
    },
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Simulator(e) => write!(f, "cannot start the simulator: {e}"),
            Self::Runtime(e) => write!(f, "engine run failed: {e}"),
            Self::TempDir(e) => write!(f, "cannot create a temporary directory: {e}"),
            Self::Output(e) => write!(f, "cannot write output: {e}"),
            Self::Disagree { engine, exchange } => match exchange {
                Some(x) => write!(
                    f,
                    "engine and exchange disagree at the end: {engine} engine position(s), {x} on the exchange"
                ),
                None => write!(
                    f,
                    "the exchange could not be read at the end to confirm the engine's {engine} position(s)"
                ),
            },
        }
    }
}

impl std::error::Error for DemoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Simulator(e) => Some(e.as_ref()),
            Self::Runtime(e) => Some(e),
            Self::TempDir(e) | Self::Output(e) => Some(e),
            Self::Disagree { .. } => None,
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
pub fn with_every_candle(cfg: &StrategiesConfig) -> Vec<Box<dyn Strategy>> {
    let mut out = crate::strategy::build(cfg);
    out.push(Box::new(EveryCandleEntry::default()));
    out
}

/// Returns the engine configuration of the demo for a running venue.
#[must_use]
pub fn demo_config(venue: &DemoVenue, journal: &Path) -> Config {
    let mut cfg = Config::default();
    cfg.engine.mode = Mode::Live;
    cfg.exchange.rest_base_url = Some(venue.rest_base.clone());
    cfg.exchange.ws_url = Some(venue.ws_url.clone());
    cfg.exchange.ca_file.clone_from(&venue.ca_file);
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

fn exchange_view(venue: &DemoVenue, cfg: &Config) -> Option<ExchangeView> {
    let mut rc = RestConfig::new(&venue.rest_base, &venue.api_key, &venue.api_secret);
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

/// Creates the demo's working directory under the system's temporary
/// directory (kept after the run: it holds the venue's certificate and, by
/// default, the journal, so the run can be replayed).
///
/// # Errors
/// [`DemoError::TempDir`] when the directory cannot be made.
pub fn work_dir() -> Result<PathBuf, DemoError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let work = std::env::temp_dir().join(format!("te-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(DemoError::TempDir)?;
    Ok(work)
}

/// Returns the journal directory of a demo: `opts.journal`, else
/// `journal` inside the working directory.
#[must_use]
pub fn journal_dir(opts: &DemoOptions, work: &Path) -> PathBuf {
    match &opts.journal {
        Some(j) => j.clone(),
        None => work.join("journal"),
    }
}

/// Runs the engine against `venue` until the duration ends (or a signal),
/// writing the status lines to `out`, then reads the venue's positions and
/// open orders. The caller stops the venue and prints [`print_summary`].
///
/// # Errors
/// [`DemoError`] when the engine cannot start or the output fails.
pub fn demo(
    opts: &DemoOptions,
    venue: &DemoVenue,
    journal: &Path,
    out: &mut dyn Write,
) -> Result<DemoReport, DemoError> {
    let cfg = demo_config(venue, journal);
    writeln!(
        out,
        "Simulator on {} (TLS), market {} for {} s{}{}; journal in {}",
        venue.rest_base,
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
    ro.credentials = Some((venue.api_key.clone(), venue.api_secret.clone()));
    ro.time_scale = opts.speed.time_scale();
    ro.duration = Some(opts.duration);
    ro.signals = opts.signals;
    ro.status_every = opts.status_line.then_some(Duration::from_secs(1));
    ro.pin = opts.pin;
    ro.journal_dir = Some(journal.to_path_buf());
    ro.control_server = false;
    let run = run(ro, out).map_err(DemoError::Runtime)?;
    let exchange = exchange_view(venue, &cfg);
    Ok(DemoReport { run, exchange })
}

/// Returns an error when a live demo ended with the engine and the
/// exchange disagreeing (open positions, or the final reconciliation pass).
///
/// # Errors
/// [`DemoError::Disagree`] naming both counts.
pub fn check_agreement(opts: &DemoOptions, report: &DemoReport) -> Result<(), DemoError> {
    if opts.mode != Mode::Live {
        return Ok(());
    }
    let engine = report.run.hot.open_positions;
    let exchange = report.exchange.as_ref().map(|x| x.positions.len());
    if exchange != Some(engine) || report.run.hot.exchange_agrees == Some(false) {
        return Err(DemoError::Disagree { engine, exchange });
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn demo_speed(args: &[&str]) -> Result<DemoSpeed, String> {
        let mut argv = vec!["trading-engine", "demo"];
        argv.extend(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Demo(d),
                ..
            }) => Ok(d.speed),
            Ok(other) => panic!("parsed as {other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn issue_20_demo_speed_accepts_max_and_bounded_multipliers() {
        assert_eq!(demo_speed(&[]), Ok(DemoSpeed::Times(DEFAULT_SPEED)));
        assert_eq!(demo_speed(&["--speed", "max"]), Ok(DemoSpeed::Max));
        assert_eq!(demo_speed(&["--speed", "MAX"]), Ok(DemoSpeed::Max));
        assert_eq!(demo_speed(&["--speed", "1"]), Ok(DemoSpeed::Times(1.0)));
        assert_eq!(
            demo_speed(&["--speed", "0.001"]),
            Ok(DemoSpeed::Times(MIN_SPEED))
        );
        assert_eq!(
            demo_speed(&["--speed", "1000000"]),
            Ok(DemoSpeed::Times(MAX_SPEED))
        );
    }

    #[test]
    fn issue_20_demo_speed_out_of_range_is_an_error_naming_the_flag() {
        for bad in [
            "1e-300", "0", "-5", "inf", "NaN", "1e300", "1000001", "fast",
        ] {
            let err = demo_speed(&[&format!("--speed={bad}")]).unwrap_err();
            assert!(err.contains("--speed"), "{bad}: {err}");
            assert!(err.contains("from 0.001 to 1000000"), "{bad}: {err}");
        }
    }

    #[test]
    fn max_speed_estimates_market_time_at_wall_pace() {
        assert_eq!(DemoSpeed::Max.time_scale(), 1.0);
        assert_eq!(DemoSpeed::Times(600.0).time_scale(), 600.0);
        assert_eq!(DemoSpeed::Times(600.0).to_string(), "x600");
    }

    #[test]
    fn the_venue_secret_is_redacted() {
        let v = DemoVenue {
            rest_base: "https://127.0.0.1:1".into(),
            ws_url: "wss://127.0.0.1:1/swap-market".into(),
            ca_file: None,
            api_key: "k".into(),
            api_secret: "very-secret-value".into(),
        };
        assert!(!format!("{v:?}").contains("very-secret-value"));
    }
}
