//! Start-up and tear-down of a run: builds the REST client, instrument
//! rules, core, journal (session record), venue, market socket and the
//! queues; warms the indicators up from REST klines; starts the hot thread
//! and serves it from the calling thread; then closes the journal, prints
//! and saves the latency figures.
//!
//! Crash recovery: the journal writer opens first (settling a torn tail),
//! then the journal is rebuilt ([`crate::replay::rebuild_with`]). A journal
//! that already holds a session is continued: the rebuilt core (positions,
//! working orders, equity peak, streaks, cooldowns, halts) replaces a new
//! one after the journal is checked against the configuration
//! ([`super::recovery::check_journal`]); the previous life's unjournaled
//! outputs are journaled before the new session record; client order ids
//! keep the journal's prefix; live mode disarms the dead-man timer of the
//! earlier life and reconciles with the exchange, protective stops first,
//! before anything else that needs the exchange (every correction journaled
//! and fed to the core the moment it is applied), paper and dry-run mode start their
//! empty venue flat with journaled corrections
//! ([`super::recovery::local_corrections`]); warm-up feeds only the
//! candles after the journal's last market time. A previous life stopped
//! by the engine itself (signal, duration) is resumed; halts by the kill
//! switch, the STOP file or an operator stay.
//!
//! Consumes [`RunOptions`]; produces a [`RunReport`] or a [`RuntimeError`].
//! Never runs on the hot thread (it allocates and blocks freely) and never
//! logs a credential.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Durability as CfgDurability, FeedSource, Mode, UnknownPosition};
use crate::control::{ControlServer, ControlServerHandle, SharedMetrics};
use crate::core::Core;
use crate::feed::{BinanceDecoder, BingxDecoder, MarketEvent, SymbolTable as FeedSymbols};
use crate::fill_model::{FillModel, MarketFill};
use crate::io::bridge::{BridgeConfig, IoStats, IoThread};
use crate::io::rest::{RestClient, RestConfig};
use crate::io::rest_account::DeadManSwitch;
use crate::io::rest_market::KlineInterval;
use crate::io::tls::TlsOptions;
use crate::io::ws::{
    binance_combined_url, BinanceMarket, BingxMarket, WsClient, WsConfig, WsProtocol,
};
use crate::journal_schema::{self as js, JournalRecord, SessionStart};
use crate::metrics::handoff::latency_channel;
use crate::metrics::summary::LatencySummary;
use crate::strategy::StrategyFactory;
use crate::types::{Candle, InstrumentRules, SymbolId, TimestampNs, NS_PER_MIN, NS_PER_MS};

use super::engine::{Engine, EngineParts, Venue};
pub use super::error::{ExchangeStartError, JournalStartError, RuntimeError, SetupError};
use super::hot::{HotLoop, HotSummary, LoopTimers};
use super::recovery::{self, RecoveryError};
use super::recovery_journal::CorrectionJournal;
use super::service::{Service, ServiceOptions, ServiceParts, ServiceReport};
use super::startup::reconcile::{
    reconcile_with, Correction, ReconcileConfig, UnknownPositionPolicy,
};
use super::timed::Timed;
use crate::replay;

/// Most 1m candles fetched for the warm-up (one REST page; a day covers
/// SMA(200) on 5m candles).
pub const WARMUP_MAX: u32 = 1_440;

/// Everything a run needs besides the config file's contents.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The validated configuration.
    pub config: Config,
    /// The file it came from (re-read on reload).
    pub config_path: Option<PathBuf>,
    /// Live, paper or dry-run.
    pub mode: Mode,
    /// API key and secret (live mode; paper and dry-run only read public data).
    pub credentials: Option<(String, String)>,
    /// Market time per wall time (1.0 against a real exchange).
    pub time_scale: f64,
    /// Stop after this long (demo, tests); `None` runs until a signal.
    pub duration: Option<Duration>,
    /// Handle SIGTERM/SIGINT/SIGHUP.
    pub signals: bool,
    /// Print a status line this often.
    pub status_every: Option<Duration>,
    /// An external stop flag.
    pub stop: Option<Arc<AtomicBool>>,
    /// Client order id prefix; `None` derives it from the journal's first
    /// session ([`crate::replay::client_prefix`]: `te<base36 seconds>-`), so
    /// every life of the engine on one journal keeps its orders' ids and
    /// two journals never share ids. A prefix given here must stay the same
    /// across restarts on one journal.
    pub client_prefix: Option<String>,
    /// The account is in hedge (dual-side) position mode.
    pub hedge_mode: bool,
    /// 1m candles of warm-up history (at most [`WARMUP_MAX`]).
    pub warmup_candles: u32,
    /// Pin the hot thread to `engine.hot_core`.
    pub pin: bool,
    /// Journal the run into this directory (`None`: `journal.dir` of the config).
    pub journal_dir: Option<PathBuf>,
    /// Hot-loop timers.
    pub timers: LoopTimers,
    /// Override of the WebSocket settings (trust and timeouts come from the config otherwise).
    pub ws: Option<WsConfig>,
    /// Start the metrics/control server when `metrics.enabled`.
    pub control_server: bool,
    /// Write `.hgrm` files into `latency.hgrm_dir` at the end.
    pub save_hgrm: bool,
    /// Strategies to run instead of the configured ones (scripted
    /// scenarios); `None` builds the configured strategies.
    pub strategies: Option<StrategyFactory>,
    /// Set to the metrics/control server's bound address once it listens
    /// (`metrics.listen` with port 0 picks a free port: tests, embedding).
    pub control_bound: Option<Arc<OnceLock<SocketAddr>>>,
}

impl RunOptions {
    /// Returns options for `config` in `mode` with the defaults of a real run.
    #[must_use]
    pub fn new(config: Config, mode: Mode) -> Self {
        Self {
            config,
            config_path: None,
            mode,
            credentials: None,
            time_scale: 1.0,
            duration: None,
            signals: true,
            status_every: None,
            stop: None,
            client_prefix: None,
            hedge_mode: true,
            warmup_candles: WARMUP_MAX,
            pin: true,
            journal_dir: None,
            timers: LoopTimers::default(),
            ws: None,
            control_server: true,
            save_hgrm: true,
            strategies: None,
            control_bound: None,
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub struct RunReport {
    /// Mode.
    pub mode: Mode,
    /// The hot loop's summary (its journal already closed).
    pub hot: HotSummary,
    /// What the service thread collected (closed trades, reloads, ...).
    pub service: ServiceReport,
    /// Latency of the whole run.
    pub latency: LatencySummary,
    /// `.hgrm` files written.
    pub hgrm: Vec<PathBuf>,
    /// Journal directory, when journaled.
    pub journal_dir: Option<PathBuf>,
    /// I/O thread counters (live mode).
    pub io: Option<IoStats>,
    /// Warm-up candles fed per symbol.
    pub warmup_candles: usize,
    /// Client order id prefix used.
    pub client_prefix: String,
    /// The run continued the state rebuilt from an existing journal.
    pub resumed: bool,
    /// Corrections applied at start-up (reconciliation with the exchange in
    /// live mode, the empty simulated venue in paper and dry-run mode).
    pub corrections: Vec<Correction>,
}

fn tls_options(cfg: &Config) -> TlsOptions {
    TlsOptions {
        use_webpki_roots: true,
        extra_ca_file: cfg
            .exchange
            .ca_file
            .as_ref()
            .map(|p| cfg.engine.resolve_path(p)),
    }
}

/// Builds a REST client for the configured exchange with the symbols loaded.
fn rest_client(cfg: &Config, creds: Option<&(String, String)>) -> Result<RestClient, RuntimeError> {
    let (key, secret) = creds.map_or(("", ""), |(k, s)| (k.as_str(), s.as_str()));
    let mut rc = RestConfig::new(cfg.exchange.effective_rest_base_url(), key, secret);
    rc.recv_window_ms = u32::try_from(cfg.exchange.recv_window_ms).unwrap_or(5_000);
    rc.http.request_timeout = Duration::from_millis(cfg.exchange.request_timeout_ms);
    rc.http.tls = tls_options(cfg);
    let mut rest = RestClient::try_new(rc).map_err(RuntimeError::Rest)?;
    if creds.is_some() {
        rest.sync_time()
            .map_err(|e| RuntimeError::Exchange(ExchangeStartError::ServerTime(e)))?;
    }
    let names: Vec<&str> = cfg.market.symbols.iter().map(String::as_str).collect();
    rest.load_symbols(&names)
        .map_err(|e| RuntimeError::Exchange(ExchangeStartError::SymbolRules(e)))?;
    Ok(rest)
}

/// Returns the last `count` closed 1m candles of `symbol` from REST (the
/// newest kline, still forming, is left out).
///
/// # Errors
/// [`RuntimeError::Exchange`] when the request fails.
pub fn warmup_candles(
    rest: &mut RestClient,
    symbol: &str,
    id: SymbolId,
    count: u32,
) -> Result<Vec<Candle>, RuntimeError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut k = rest
        .klines(
            symbol,
            KlineInterval::M1,
            None,
            None,
            (count + 1).min(WARMUP_MAX),
        )
        .map_err(|source| {
            RuntimeError::Exchange(ExchangeStartError::WarmupKlines {
                symbol: symbol.to_owned(),
                source,
            })
        })?;
    k.pop();
    Ok(k.into_iter()
        .map(|k| Candle {
            symbol: id,
            open_time: TimestampNs(k.open_time_ms.saturating_mul(NS_PER_MS)),
            open: k.open,
            high: k.high,
            low: k.low,
            close: k.close,
            volume: k.volume,
            trade_count: 0,
        })
        .collect())
}

/// Opens the run's journal in `dir` with the configured segment size and
/// durability and writes a session record (mode, version, symbols, rules,
/// configuration) stamped now. Benchmarks open their journal here, so they
/// journal exactly as a run does (a run itself rebuilds from the journal
/// between opening it and writing its session record).
///
/// # Errors
/// [`RuntimeError::Journal`] when the directory or the journal cannot be
/// created or the session record not written.
pub fn open_journal(
    cfg: &Config,
    dir: &std::path::Path,
    mode: Mode,
    rules: &[InstrumentRules],
    clock: &SystemClock,
) -> Result<journal::Writer, RuntimeError> {
    let mut w = open_writer(cfg, dir)?;
    write_session(&mut w, cfg, mode, rules, clock.now_ns())?;
    Ok(w)
}

/// Opens the journal writer of a run in `dir` (created if missing) with the
/// configured segment size and durability: the journal's recovery runs
/// here. A torn tail is zeroed (logged at WARN with its byte count, in
/// [`journal::Writer::recovery`]); corruption is refused unchanged.
///
/// # Errors
/// [`RuntimeError::Recovery`] naming the segment, the byte offset and the
/// commands that inspect and repair it when the journal is corrupt;
/// [`RuntimeError::Journal`] when the directory or a segment cannot be
/// created or opened.
pub fn open_writer(cfg: &Config, dir: &std::path::Path) -> Result<journal::Writer, RuntimeError> {
    let durability = match cfg.journal.durability {
        CfgDurability::None => journal::Durability::None,
        CfgDurability::Interval => {
            journal::Durability::Interval(Duration::from_millis(cfg.journal.msync_interval_ms))
        }
        CfgDurability::EveryRecord => journal::Durability::EveryRecord,
    };
    let opts = journal::WriterOptions {
        segment_bytes: usize::try_from(cfg.journal.segment_size_bytes).unwrap_or(64 << 20),
        durability,
        ..journal::WriterOptions::default()
    };
    std::fs::create_dir_all(dir).map_err(|source| {
        RuntimeError::Journal(JournalStartError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })
    })?;
    journal::Writer::open(dir, opts).map_err(|e| match e {
        // Corruption is refused like a rebuild refuses it: same message and repair hint.
        journal::OpenError::Corrupt {
            segment,
            offset,
            reason,
        } => RuntimeError::Recovery(RecoveryError::Rebuild(replay::ReplayError::Corrupt {
            segment,
            offset,
            reason,
        })),
        source => RuntimeError::Journal(JournalStartError::Open {
            dir: dir.to_path_buf(),
            source,
        }),
    })
}

fn write_session(
    w: &mut journal::Writer,
    cfg: &Config,
    mode: Mode,
    rules: &[InstrumentRules],
    ts: TimestampNs,
) -> Result<(), RuntimeError> {
    let toml = cfg
        .to_toml_string()
        .map_err(|e| RuntimeError::Journal(JournalStartError::SessionConfig(e)))?;
    let mut raw = vec![0u8; rules.len() * 64];
    let len = SessionStart::encode_rules(rules, &mut raw)
        .ok_or(RuntimeError::Journal(JournalStartError::RulesBuffer))?;
    raw.truncate(len);
    let symbols = cfg.market.symbols.join(",");
    let rec = JournalRecord::Session(SessionStart {
        mode: match mode {
            Mode::Live => js::Mode::Live,
            Mode::Paper => js::Mode::Paper,
            Mode::DryRun => js::Mode::DryRun,
        },
        ts,
        version: env!("CARGO_PKG_VERSION"),
        symbols: &symbols,
        rules_raw: &raw,
        config_toml: &toml,
    });
    js::write(w, ts, &rec).map_err(|e| RuntimeError::Journal(JournalStartError::Append(e)))?;
    // The hot thread's first rotation then takes the allocation-free path.
    if !w.wait_next_segment_ready(Duration::from_secs(5)) {
        log::warn!("Journal next segment not prepared yet: the first rotation creates it inline");
    }
    Ok(())
}

/// Runs the engine until it is stopped (signal, duration, stop flag);
/// writes the status line, the trade summary is the caller's, the latency
/// summary is logged and returned.
///
/// # Errors
/// [`RuntimeError`] when the run cannot start.
pub fn run(opts: RunOptions, out: &mut dyn Write) -> Result<RunReport, RuntimeError> {
    let cfg = &opts.config;
    // The hot thread's clock: the CPU's cycle counter where the kernel
    // trusts it (a few ns a reading instead of a vDSO call).
    let clock = SystemClock::cycle_counter();
    let live = opts.mode == Mode::Live;
    if live && opts.credentials.is_none() {
        return Err(RuntimeError::NoCredentials);
    }
    let creds = if live {
        opts.credentials.as_ref()
    } else {
        None
    };
    // The port is bound before anything is journaled: a port in use fails
    // the start with nothing written.
    let control_bound = bind_control(cfg, opts.control_server)?;
    let mut rest = rest_client(cfg, creds)?;
    let n = cfg.market.symbols.len();
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
        let info = rest.symbols().get(id).ok_or_else(|| {
            RuntimeError::Exchange(ExchangeStartError::MissingRules {
                symbol: cfg.market.symbols.get(i).cloned().unwrap_or_default(),
            })
        })?;
        rules.push(info.rules);
    }
    let symbols = u16::try_from(n).unwrap_or(u16::MAX);
    let journal_dir = opts
        .journal_dir
        .clone()
        .unwrap_or_else(|| cfg.engine.resolve_path(&cfg.journal.dir));
    // The writer opens first: its recovery settles a torn tail, so the
    // rebuild ends exactly where the writer continues.
    let mut writer = open_writer(cfg, &journal_dir)?;
    let mut rebuilt = replay::rebuild_with(&journal_dir, opts.strategies)
        .map_err(|e| RuntimeError::Recovery(RecoveryError::Rebuild(e)))?;
    // The writer's recovery zeroed a torn tail before the rebuild read the
    // journal: the rebuild summary reports it (the WARN line has the bytes).
    if rebuilt.torn.is_none() {
        rebuilt.torn = writer.recovery().torn.clone();
    }
    let resumed = rebuilt.core.is_some();
    if resumed {
        log::info!("{}", recovery::summary(&rebuilt, symbols));
        let changes =
            recovery::check_journal(cfg, &rebuilt, &journal_dir).map_err(RuntimeError::Recovery)?;
        if !changes.is_empty() {
            log::info!(
                "The configuration differs from the journal's in reloadable keys (applied at the new session): {}",
                changes.join("; ")
            );
        }
        if rebuilt.session_changes.iter().any(|c| c.rules_changed) {
            log::warn!("Instrument rules changed since the journal started; the core keeps the first session's rules");
        }
        if let Some(m) = &rebuilt.first_mismatch {
            log::warn!("The rebuilt core differs from the journal (another engine version?): {m}");
        }
    }
    let session_ts = clock.now_ns();
    let prefix = opts
        .client_prefix
        .clone()
        .unwrap_or_else(|| replay::client_prefix(rebuilt.first_session_ts.unwrap_or(session_ts)));
    let mut core = match rebuilt.core.take() {
        Some(core) => core,
        None => match opts.strategies {
            Some(build) => Core::try_with_strategies(cfg, &rules, build(&cfg.strategies)),
            None => Core::try_new(cfg, &rules),
        }
        .map_err(RuntimeError::Core)?,
    };
    let plan = if resumed {
        recovery::resume(&core, symbols, &rebuilt, &prefix)
    } else {
        recovery::Resume::default()
    };
    let recovery_ts = rebuilt.last_market_ts.unwrap_or(session_ts);
    // The rebuilt state as a checkpoint, before anything else is written:
    // the next rebuild starts there, and retention may remove the segments
    // before it.
    replay::retention::journal_rebuilt_state(&mut writer, &rebuilt, &cfg.journal, recovery_ts);
    // What the previous life produced for its last input but never
    // journaled comes before the new session record, so replay matches it;
    // its orders are among the in-flight ones reconciled below.
    for a in &rebuilt.unjournaled {
        js::write(&mut writer, recovery_ts, &JournalRecord::Output(*a))
            .map_err(|e| RuntimeError::Journal(JournalStartError::Append(e)))?;
    }
    write_session(&mut writer, cfg, opts.mode, &rules, session_ts)?;
    if resumed {
        core.begin_life();
        // Reloadable differences from the journal's config take effect at
        // this session record, exactly as replay applies them there.
        if let Some(running) = rebuilt.config.as_mut() {
            match replay::apply_session_config(&mut core, running, cfg) {
                Ok(changes) if !changes.is_empty() => {
                    let list: Vec<String> = changes.iter().map(ToString::to_string).collect();
                    log::info!(
                        "Reloadable config changes applied at start: {}",
                        list.join("; ")
                    );
                }
                Ok(_) => {}
                Err(e) => log::warn!("The journal's config stays, the edited one is refused: {e}"),
            }
        }
    }
    if live && cfg.exchange.cancel_all_after_secs > 0 {
        // A dead-man timer armed by an earlier life would cancel the stops
        // placed below when it fires; the service re-arms it once the
        // engine runs, with every stop in place.
        if let Err(e) = rest.cancel_all_after(DeadManSwitch::Close) {
            log::warn!("Disarming the cancel-all-after timer before the stops failed: {e}");
        }
    }
    // Protective stops first: reconciliation (each correction journaled as
    // it is applied) runs before anything else that needs the exchange.
    let mut steps = Vec::new();
    let corrections = if resumed {
        let mut sink = CorrectionJournal::new(&mut writer, &mut core, &plan.view, recovery_ts)
            .with_intents(&rebuilt.intents);
        let result = start_corrections(
            &opts,
            &mut rest,
            &plan,
            &prefix,
            rebuilt.counts.sessions + 1,
            &mut |c| sink.apply(c),
        );
        steps = std::mem::take(&mut sink.steps);
        match result {
            Ok(c) => c,
            Err(failure) => {
                if let Err(e) = writer.close() {
                    log::error!("Closing the journal failed: {e}");
                }
                return Err(RuntimeError::Recovery(failure));
            }
        }
    } else {
        Vec::new()
    };
    let mut warm = Vec::with_capacity(n);
    for (i, name) in cfg.market.symbols.iter().enumerate() {
        let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
        let mut candles = warmup_candles(&mut rest, name, id, opts.warmup_candles)?;
        if let (true, Some(last)) = (resumed, rebuilt.last_market_ts) {
            // The core already holds the history up to the journal's end.
            let minute = last.0.div_euclid(NS_PER_MIN) * NS_PER_MIN;
            candles.retain(|c| c.open_time.0 > minute);
        }
        warm.push(candles);
    }
    let warmup_count = warm.first().map_or(0, Vec::len);
    let journal = writer;
    let (recorder, collector) = latency_channel(
        cfg.latency.histogram_max_ns,
        cfg.latency.histogram_sigfig,
        4,
    )
    .map_err(|e| RuntimeError::Setup(SetupError::Histograms(e)))?;
    let (to_hot_tx, to_hot_rx) = ringbuf::spsc::channel(1024);
    let (from_hot_tx, from_hot_rx) = ringbuf::spsc::channel(8192);
    let (service_reloads, hot_reloads) = super::reload::reload_channel();
    let mut feed_symbols = FeedSymbols::new();
    for (i, name) in cfg.market.symbols.iter().enumerate() {
        let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
        let spelled = match cfg.market.feed {
            FeedSource::Bingx => name.clone(),
            FeedSource::Binance => name.replace(['-', '_'], ""),
        };
        feed_symbols.insert(&spelled, id).map_err(|source| {
            RuntimeError::Setup(SetupError::Symbol {
                name: name.clone(),
                source,
            })
        })?;
    }
    let ws_cfg = opts.ws.clone().unwrap_or_else(|| match cfg.market.feed {
        FeedSource::Bingx => WsConfig::for_exchange(&cfg.exchange),
        FeedSource::Binance => WsConfig::binance(&cfg.exchange),
    });
    let service_rest = rest_client(cfg, creds)?;
    let mut io_thread = None;
    let venue = match opts.mode {
        Mode::Live => {
            let mut symbols = FeedSymbols::new();
            for (i, name) in cfg.market.symbols.iter().enumerate() {
                let id = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
                symbols.insert(name, id).map_err(|source| {
                    RuntimeError::Setup(SetupError::Symbol {
                        name: name.clone(),
                        source,
                    })
                })?;
            }
            let bridge = BridgeConfig {
                user_stream_url: Some(cfg.exchange.effective_ws_url().to_owned()),
                ws: WsConfig {
                    tls: ws_cfg.tls.clone(),
                    backoff_base: ws_cfg.backoff_base,
                    backoff_max: ws_cfg.backoff_max,
                    ..WsConfig::for_exchange(&cfg.exchange)
                },
                symbols,
                reconcile_interval: Some(Duration::from_secs(cfg.reconcile.interval_secs.max(1))),
                client_prefix: prefix.clone(),
                ..BridgeConfig::default()
            };
            let (io, hot) = IoThread::spawn(rest, bridge)
                .map_err(|e| RuntimeError::Setup(SetupError::IoThread(e)))?;
            io_thread = Some(io);
            Venue::Live {
                io: hot,
                hedge: opts.hedge_mode,
            }
        }
        Mode::Paper => Venue::Paper(Box::new(FillModel::new(
            &cfg.simulator,
            n,
            MarketFill::NextTrade,
        ))),
        Mode::DryRun => Venue::DryRun,
    };
    let start_ts = warm
        .iter()
        .filter_map(|w| w.last())
        .map(|c| c.open_time.add_ns(NS_PER_MIN))
        .chain(rebuilt.last_market_ts)
        .max()
        .unwrap_or_else(|| clock.now_ns());
    let mut engine = Engine::new(EngineParts {
        core,
        venue,
        journal: Some(journal),
        latency: recorder,
        out: from_hot_tx,
        inbox: to_hot_rx,
        reloads: hot_reloads,
        clock,
        prefix: prefix.clone(),
        time_scale: opts.time_scale,
        start_ts,
        symbols: u16::try_from(n).unwrap_or(u16::MAX),
    });
    engine.set_unknown_position_policy(cfg.reconcile.unknown_position);
    engine.adopt_orders(&plan.tracked);
    if !corrections.is_empty() {
        log::info!(
            "Start-up reconciliation applied {} corrections",
            corrections.len()
        );
    }
    engine.resume_steps(&steps, recovery_ts);
    if resumed && recovery::stopped_by_engine_halt(&rebuilt, engine.core_halted()) {
        // The previous life was stopped (signal, end of its duration)
        // without flattening, which halts the core; a restart trades again.
        // Halts by the kill switch, the STOP file or an operator stay.
        log::info!("Resuming after the previous life's stop");
        engine.engine_command(crate::core::Command::Resume, recovery_ts);
    }
    for candles in &warm {
        engine.warm_up(candles);
    }
    if let (true, Some(last)) = (warm.iter().all(Vec::is_empty), rebuilt.last_market_ts) {
        engine.resume(last);
    }
    drop(warm);
    let checkpointer = start_checkpointer(&mut engine, &journal_dir, cfg, opts.strategies);
    let (control, control_rx, metrics) = start_control(control_bound)?;
    if let (Some(h), Some(cell)) = (control.as_ref(), opts.control_bound.as_ref()) {
        let _ = cell.set(h.local_addr());
    }
    let hot_core = cfg.engine.hot_core;
    let pin = opts.pin;
    let timers = opts.timers;
    let ws_url = cfg.exchange.effective_ws_url().to_owned();
    let handle = match cfg.market.feed {
        FeedSource::Bingx => {
            let mut proto = BingxMarket::new(BingxDecoder::new(feed_symbols));
            for name in &cfg.market.symbols {
                proto.subscribe(&format!("{name}@trade"));
            }
            spawn_hot(&ws_url, ws_cfg, proto, engine, timers, pin, hot_core, clock)?
        }
        FeedSource::Binance => {
            let names: Vec<&str> = cfg.market.symbols.iter().map(String::as_str).collect();
            let url = binance_combined_url(&cfg.exchange.binance_ws_url, &names, true, false);
            let proto = BinanceMarket::new(BinanceDecoder::new(feed_symbols));
            spawn_hot(&url, ws_cfg, proto, engine, timers, pin, hot_core, clock)?
        }
    };
    let service = Service::new(
        ServiceOptions {
            signals: opts.signals,
            stop_file: Some(cfg.engine.resolve_path(&cfg.risk.stop_file)),
            halt_file: Some(cfg.engine.resolve_path(&cfg.risk.halt_file)),
            config_path: opts.config_path.clone(),
            status_every: opts.status_every,
            latency_every: (cfg.latency.report_interval_secs > 0)
                .then(|| Duration::from_secs(cfg.latency.report_interval_secs)),
            duration: opts.duration,
            flatten_on_stop: cfg.risk.close_on_shutdown,
            dead_man_secs: (live && cfg.exchange.cancel_all_after_secs > 0)
                .then(|| u32::try_from(cfg.exchange.cancel_all_after_secs).unwrap_or(60)),
            dashboard_every: (cfg.dashboard.interval_secs > 0)
                .then(|| Duration::from_secs(cfg.dashboard.interval_secs)),
            mode: opts.mode,
        },
        ServiceParts {
            from_hot: from_hot_rx,
            to_hot: to_hot_tx,
            reloads: service_reloads,
            latency: collector,
            control: control_rx,
            rest: Some(service_rest),
            symbols: cfg.market.symbols.clone(),
            config: cfg.clone(),
            stop: opts.stop.clone(),
            metrics,
        },
    )
    .map_err(RuntimeError::Os)?;
    let (service, collector) = service.run(&mut || handle.is_finished(), out);
    let mut hot = handle.join().map_err(|_| RuntimeError::HotPanicked)?;
    if let Some(c) = checkpointer {
        c.shutdown();
    }
    if let Some(mut w) = hot.journal.take() {
        // A checkpoint of the state at the end of this life: the next start
        // reads only the records after it.
        match w.flush() {
            Ok(()) => match replay::rebuild_with(&journal_dir, opts.strategies) {
                Ok(end) => {
                    let ts = end.last_market_ts.unwrap_or(session_ts);
                    replay::retention::journal_rebuilt_state(&mut w, &end, &cfg.journal, ts);
                }
                Err(e) => {
                    log::warn!("No checkpoint at shutdown: the journal does not rebuild: {e}")
                }
            },
            Err(e) => log::warn!("No checkpoint at shutdown: the journal cannot be flushed: {e}"),
        }
        if let Err(e) = w.close() {
            log::error!("Closing the journal failed: {e}");
        }
    }
    let io = io_thread.map(IoThread::shutdown);
    if let Some(c) = control {
        c.shutdown();
    }
    let latency = collector.total().summary();
    let mut hgrm = Vec::new();
    if opts.save_hgrm {
        if let Some(dir) = cfg.latency.hgrm_dir.as_ref() {
            let dir = cfg.engine.resolve_path(dir);
            match std::fs::create_dir_all(&dir)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    collector
                        .total()
                        .save_hgrm(&dir, "shutdown-")
                        .map_err(|e| e.to_string())
                }) {
                Ok(p) => hgrm = p,
                Err(e) => log::error!("Saving the latency histograms failed: {e}"),
            }
        }
    }
    Ok(RunReport {
        mode: opts.mode,
        hot,
        service,
        latency,
        hgrm,
        journal_dir: Some(journal_dir),
        io,
        warmup_candles: warmup_count,
        client_prefix: prefix,
        resumed,
        corrections,
    })
}

/// Returns the corrections that continue a rebuilt core: live mode
/// reconciles with the exchange (recovery orders under
/// `{prefix}r{session}-`), paper and dry-run mode align the core with a
/// venue that starts empty (see [`recovery::local_corrections`]).
fn start_corrections(
    opts: &RunOptions,
    rest: &mut RestClient,
    plan: &recovery::Resume,
    prefix: &str,
    session: u64,
    sink: &mut dyn FnMut(&Correction),
) -> Result<Vec<Correction>, RecoveryError> {
    match opts.mode {
        Mode::Live => {
            let rc = ReconcileConfig {
                client_prefix: prefix.to_owned(),
                recovery_prefix: replay::recovery_prefix(prefix, session),
                unknown_position: match opts.config.reconcile.unknown_position {
                    UnknownPosition::Leave => UnknownPositionPolicy::Leave,
                    UnknownPosition::Close => UnknownPositionPolicy::Flatten,
                    UnknownPosition::Adopt => UnknownPositionPolicy::Adopt,
                },
            };
            reconcile_with(rest, &plan.view, &rc, sink).map_err(RecoveryError::Reconcile)
        }
        Mode::Paper | Mode::DryRun => {
            let out = recovery::local_corrections(&plan.view, &mut |id| {
                let name = rest
                    .symbols()
                    .get(id)
                    .map(|s| s.name.clone())
                    .ok_or_else(|| "not in the symbol table".to_owned())?;
                rest.price(&name)
                    .map(|t| t.price)
                    .map_err(|e| e.to_string())
            })?;
            for c in &out {
                sink(c);
            }
            Ok(out)
        }
    }
}

/// Starts the checkpointer thread when a retention limit is set (its
/// checkpoints at segment rotations let retention free disk while the
/// engine runs); `None` otherwise or when it cannot start (logged).
fn start_checkpointer(
    engine: &mut Engine,
    dir: &std::path::Path,
    cfg: &Config,
    strategies: Option<StrategyFactory>,
) -> Option<super::checkpointer::Checkpointer> {
    if cfg.journal.retention().is_off() {
        return None;
    }
    match super::checkpointer::Checkpointer::spawn(
        dir.to_path_buf(),
        cfg.journal.clone(),
        strategies,
    ) {
        Ok((c, end)) => {
            engine.set_checkpoints(end);
            Some(c)
        }
        Err(e) => {
            log::warn!("No checkpoints while running (retention waits for a restart): {e}");
            None
        }
    }
}

type ControlParts = (
    Option<ControlServerHandle>,
    Option<crossbeam_channel::Receiver<crate::control::ControlRequest>>,
    Option<SharedMetrics>,
);

/// A bound, not yet serving control server with its command receiver and
/// the snapshot holder the service thread publishes to.
type BoundControl = Option<(
    ControlServer,
    crossbeam_channel::Receiver<crate::control::ControlRequest>,
    SharedMetrics,
)>;

/// Binds the metrics/control port when enabled (`None` otherwise).
fn bind_control(cfg: &Config, enabled: bool) -> Result<BoundControl, RuntimeError> {
    if !enabled || !cfg.metrics.enabled {
        return Ok(None);
    }
    let (tx, rx) = crossbeam_channel::bounded(16);
    let metrics = SharedMetrics::new();
    let server = ControlServer::from_config(&cfg.metrics, metrics.clone(), tx)
        .map_err(|e| RuntimeError::Setup(SetupError::ControlServer(e)))?;
    Ok(server.map(|s| (s, rx, metrics)))
}

/// Starts serving a bound control server; returns its handle, the
/// command receiver and the snapshot holder.
fn start_control(bound: BoundControl) -> Result<ControlParts, RuntimeError> {
    let Some((server, rx, metrics)) = bound else {
        return Ok((None, None, None));
    };
    let h = server
        .spawn()
        .map_err(|e| RuntimeError::Setup(SetupError::ControlServer(e)))?;
    log::info!("Control server on {}", h.local_addr());
    Ok((Some(h), Some(rx), Some(metrics)))
}

#[allow(clippy::too_many_arguments, reason = "one private call site per feed")]
fn spawn_hot<P>(
    url: &str,
    ws: WsConfig,
    proto: P,
    engine: Engine,
    timers: LoopTimers,
    pin: bool,
    hot_core: usize,
    clock: SystemClock,
) -> Result<std::thread::JoinHandle<HotSummary>, RuntimeError>
where
    P: WsProtocol<Event = MarketEvent> + Send + 'static,
{
    let market = WsClient::new(url, ws, Timed::new(proto, clock))
        .map_err(|e| RuntimeError::Setup(SetupError::MarketStream(e)))?;
    let hot = HotLoop::new(market, engine, timers);
    std::thread::Builder::new()
        .name("hot".into())
        .spawn(move || {
            if pin {
                let pinned = core_affinity::set_for_current(core_affinity::CoreId { id: hot_core });
                if !pinned {
                    log::warn!("Could not pin the hot thread to core {hot_core}");
                }
            }
            hot.run()
        })
        .map_err(RuntimeError::Os)
}
