//! The service thread: everything around the hot loop that may block,
//! allocate or log — signals, the STOP file, control-server commands,
//! config reloads, REST backfills, the dead-man switch, log lines for the
//! hot thread's notes, the status line, periodic latency summaries, the
//! periodic and final dashboard (`dashboard.interval_secs`) and the
//! Prometheus snapshot served by the control server (one per status).
//!
//! Consumes [`FromHot`] messages, published latency intervals, operator
//! input (signals, files, control requests); produces [`ToHot`] messages,
//! log lines, text on the run's output, metrics snapshots and the
//! collected closed trades.
//! Never touches the core: every effect on trading goes through the hot
//! thread's inbox.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use ringbuf::spsc::{Consumer, Producer};

use crate::config::{Config, Mode};
use crate::control::{ControlRequest, SharedMetrics};
use crate::core::Command;
use crate::io::rest::RestClient;
use crate::io::rest_account::DeadManSwitch;
use crate::io::rest_market::KlineInterval;
use crate::journal_schema::{OperatorSource, ReloadOutcome};
use crate::metrics::handoff::LatencyCollector;
use crate::positions::ClosedTrade;
use crate::types::{Candle, TimestampNs, NS_PER_MS};

use super::msg::{FromHot, HotLog, Note, Status, StopReason, ToHot};
use super::observe::{dashboard_input, metrics_snapshot, MessageRate};
use super::reload::{ReloadPayload, ServiceReloads};

#[path = "service_control.rs"]
mod control;
use control::{HaltMarker, Pending};

/// Window of the feed message rate published as a metric.
const METRICS_RATE_WINDOW: Duration = Duration::from_secs(5);

/// How the service thread behaves.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Watch SIGTERM/SIGINT (graceful stop) and SIGHUP (reload).
    pub signals: bool,
    /// The STOP file to watch, if any.
    pub stop_file: Option<PathBuf>,
    /// The halt marker to keep (`risk.halt_file`), if any.
    pub halt_file: Option<PathBuf>,
    /// Config file re-read on reload.
    pub config_path: Option<PathBuf>,
    /// Print a status line this often.
    pub status_every: Option<Duration>,
    /// Print the latency summary of the last interval this often.
    pub latency_every: Option<Duration>,
    /// Stop the run after this long.
    pub duration: Option<Duration>,
    /// Close every position on a stop (`risk.close_on_shutdown`).
    pub flatten_on_stop: bool,
    /// Refresh the exchange's cancel-all-after every `secs / 3`.
    pub dead_man_secs: Option<u32>,
    /// Log the dashboard this often (and at the end); `None` never logs it.
    pub dashboard_every: Option<Duration>,
    /// The run's mode, as the dashboard names it.
    pub mode: Mode,
}

/// Handles held by the service thread.
pub struct ServiceParts {
    /// From the hot thread.
    pub from_hot: Consumer<FromHot>,
    /// To the hot thread.
    pub to_hot: Producer<ToHot>,
    /// Accepted reloads to the hot thread (and back, to be freed here).
    pub reloads: ServiceReloads,
    /// Latency intervals from the hot thread.
    pub latency: LatencyCollector,
    /// Control-server requests, when a server runs.
    pub control: Option<Receiver<ControlRequest>>,
    /// REST client for backfills and the dead-man switch (signed for the latter).
    pub rest: Option<RestClient>,
    /// Symbol names by id.
    pub symbols: Vec<String>,
    /// The running configuration.
    pub config: Config,
    /// An external stop request (tests, embedding).
    pub stop: Option<Arc<AtomicBool>>,
    /// Where the metrics snapshots go (the control server's `/metrics`).
    pub metrics: Option<SharedMetrics>,
}

impl std::fmt::Debug for ServiceParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceParts")
            .field("symbols", &self.symbols)
            .finish_non_exhaustive()
    }
}

/// What the service thread collected.
#[derive(Debug, Default)]
pub struct ServiceReport {
    /// Trades closed by the core, in order.
    pub trades: Vec<ClosedTrade>,
    /// The last status received.
    pub status: Status,
    /// Reloads accepted / refused.
    pub reloads: (u32, u32),
    /// True when the STOP file was seen.
    pub stop_file_seen: bool,
    /// Backfills served and candles sent.
    pub backfills: (u32, u32),
    /// Dead-man refreshes that succeeded.
    pub dead_man_refreshes: u32,
    /// Dashboards logged on the interval (the final one not included).
    pub dashboards: u32,
    /// The dashboard of the last status, rendered when the run ended.
    pub final_dashboard: Option<String>,
    /// Metrics snapshots published.
    pub metrics_published: u64,
    /// Order round trips reported by the hot thread (live mode).
    pub round_trips: crate::metrics::round_trip::RoundTripHistogram,
}

/// The service thread's state.
pub struct Service {
    opts: ServiceOptions,
    p: ServiceParts,
    report: ServiceReport,
    term: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
    stop_sent: bool,
    started: Instant,
    /// Feed message rate since the previous dashboard.
    dash_rate: MessageRate,
    /// Feed message rate over [`METRICS_RATE_WINDOW`].
    metrics_rate: MessageRate,
    /// Operator commands sent to the hot thread so far.
    commands_sent: u64,
    /// Control commands waiting for the engine to apply them.
    pending: Vec<Pending>,
    /// The halt marker.
    halt: HaltMarker,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

fn ms(ts: TimestampNs) -> i64 {
    ts.0.div_euclid(NS_PER_MS)
}

impl Service {
    /// Returns the service, registering the signal handlers when asked.
    ///
    /// # Errors
    /// The operating system's error when a signal handler cannot be registered.
    pub fn new(opts: ServiceOptions, p: ServiceParts) -> std::io::Result<Self> {
        let term = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        if opts.signals {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            signal_hook::flag::register(SIGTERM, Arc::clone(&term))?;
            signal_hook::flag::register(SIGINT, Arc::clone(&term))?;
            signal_hook::flag::register(SIGHUP, Arc::clone(&hup))?;
        }
        Ok(Self {
            p,
            report: ServiceReport::default(),
            term,
            hup,
            stop_sent: false,
            started: Instant::now(),
            dash_rate: {
                let mut r = MessageRate::new();
                r.observe(Instant::now(), 0, Duration::ZERO);
                r
            },
            metrics_rate: MessageRate::new(),
            commands_sent: 0,
            pending: Vec::new(),
            halt: HaltMarker::new(opts.halt_file.clone()),
            opts,
        })
    }

    /// Sends `m` to the hot thread, waiting while its inbox is full.
    fn send(&mut self, m: ToHot) {
        if matches!(m, ToHot::Command { .. }) {
            self.commands_sent += 1;
        }
        let mut m = m;
        loop {
            match self.p.to_hot.push(m) {
                Ok(()) => return,
                Err(e) => {
                    if self.p.to_hot.is_abandoned() {
                        return;
                    }
                    m = e.into_inner();
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    fn request_stop(&mut self, reason: StopReason) {
        if self.stop_sent {
            return;
        }
        self.stop_sent = true;
        log::info!("Stopping ({})", reason.as_str());
        self.send(ToHot::Stop {
            reason,
            flatten: self.opts.flatten_on_stop,
        });
    }

    /// Serves until `hot_done` returns true, writing the status line and
    /// latency summaries to `out`; returns what it collected.
    pub fn run(
        mut self,
        hot_done: &mut dyn FnMut() -> bool,
        out: &mut dyn Write,
    ) -> (ServiceReport, LatencyCollector) {
        let mut last_status = Instant::now();
        let mut last_latency = Instant::now();
        let mut last_stop_check = Instant::now() - Duration::from_secs(1);
        let mut last_dead_man: Option<Instant> = None;
        let mut last_dashboard = Instant::now();
        loop {
            let done = hot_done();
            self.drain(out);
            if done {
                break;
            }
            if self.term.swap(false, Ordering::AcqRel) {
                self.request_stop(StopReason::Signal);
            }
            if self
                .p
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Acquire))
            {
                self.request_stop(StopReason::Requested);
            }
            if self
                .opts
                .duration
                .is_some_and(|d| self.started.elapsed() >= d)
            {
                self.request_stop(StopReason::Duration);
            }
            if self.hup.swap(false, Ordering::AcqRel) {
                log::info!("SIGHUP: reloading the config");
                let _ = self.reload();
            }
            if last_stop_check.elapsed() >= Duration::from_millis(200) {
                last_stop_check = Instant::now();
                self.check_stop_file();
                self.check_halt_marker();
            }
            self.serve_control();
            if let Some(secs) = self.opts.dead_man_secs {
                let every = Duration::from_secs(u64::from(secs).max(3) / 3);
                if last_dead_man.is_none_or(|t| t.elapsed() >= every) {
                    last_dead_man = Some(Instant::now());
                    self.refresh_dead_man(secs);
                }
            }
            if let Err(e) = self.p.latency.collect() {
                log::warn!("Latency interval not collected: {e}");
            }
            if let Some(every) = self.opts.status_every {
                if last_status.elapsed() >= every {
                    last_status = Instant::now();
                    let _ = writeln!(out, "{}", self.status_line());
                }
            }
            if let Some(every) = self.opts.latency_every {
                if last_latency.elapsed() >= every {
                    last_latency = Instant::now();
                    let s = self.p.latency.total().summary();
                    log::info!("Latency so far:\n{s}");
                }
            }
            if let Some(every) = self.opts.dashboard_every {
                if last_dashboard.elapsed() >= every {
                    last_dashboard = Instant::now();
                    let text = self.dashboard();
                    self.report.dashboards += 1;
                    log::info!("{text}");
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if self.opts.dead_man_secs.is_some() {
            if let Some(rest) = self.p.rest.as_mut() {
                if let Err(e) = rest.cancel_all_after(DeadManSwitch::Close) {
                    log::warn!("Closing the cancel-all-after timer failed: {e}");
                }
            }
        }
        if let Err(e) = self.p.latency.collect() {
            log::warn!("Latency interval not collected: {e}");
        }
        let status = self.report.status;
        self.publish_metrics(&status);
        let text = self.dashboard();
        if self.opts.dashboard_every.is_some() {
            log::info!("Final {text}");
        }
        self.report.final_dashboard = Some(text);
        (self.report, self.p.latency)
    }

    /// Renders the dashboard of the last status (the feed rate since the
    /// previous dashboard).
    fn dashboard(&mut self) -> String {
        let s = self.report.status;
        let rate = self
            .dash_rate
            .observe(Instant::now(), s.feed.messages, Duration::ZERO);
        let latency = self.p.latency.total().summary();
        dashboard_input(&s, self.opts.mode, &self.p.symbols, rate, latency).to_string()
    }

    /// Publishes the metrics snapshot of `s`, when a server serves them.
    fn publish_metrics(&mut self, s: &Status) {
        let Some(shared) = self.p.metrics.as_ref() else {
            return;
        };
        let rate = self
            .metrics_rate
            .observe(Instant::now(), s.feed.messages, METRICS_RATE_WINDOW);
        let age = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let latency = self.p.latency.total().summary();
        let mut snapshot = metrics_snapshot(s, rate, age, latency);
        snapshot.round_trip = self.report.round_trips;
        shared.publish(snapshot);
        self.report.metrics_published += 1;
    }

    fn status_line(&self) -> String {
        let s = &self.report.status;
        format!(
            "[{:>5.1}s] {} price {:.1} pos {:+.4} equity {:.2} trades {} orders {} fills {} closed {}{}",
            self.started.elapsed().as_secs_f64(),
            crate::journal_schema::format_ts(s.market_ts),
            s.last_price,
            s.position_qty,
            s.equity,
            s.trades,
            s.orders,
            s.fills,
            s.closed_trades,
            if s.halted { " HALTED" } else { "" },
        )
    }

    fn drain(&mut self, _out: &mut dyn Write) {
        self.p.reloads.collect();
        while let Some(m) = self.p.from_hot.pop() {
            match m {
                FromHot::Log(l) => log_note(&l),
                FromHot::Status(s) => {
                    self.report.status = s;
                    self.publish_metrics(&s);
                    self.answer_pending();
                }
                FromHot::TradeClosed(t) => self.report.trades.push(t),
                FromHot::Backfill { symbol, from, to } => self.backfill(symbol, from, to),
                FromHot::RoundTrip { kind, ns } => self.report.round_trips.record(kind, ns),
            }
        }
    }

    fn backfill(&mut self, symbol: crate::types::SymbolId, from: TimestampNs, to: TimestampNs) {
        let name = self.p.symbols.get(usize::from(symbol.0)).cloned();
        let mut candles = Vec::new();
        match (self.p.rest.as_mut(), name) {
            (Some(rest), Some(name)) => {
                match rest.klines_range(&name, KlineInterval::M1, ms(from), ms(to)) {
                    Ok(k) => candles = k,
                    Err(e) => log::warn!("Backfill of {name} failed, the gap stays: {e}"),
                }
            }
            _ => log::warn!("Backfill impossible: no REST client or unknown symbol"),
        }
        let n = u32::try_from(candles.len()).unwrap_or(u32::MAX);
        log::info!("Backfilling {n} candles after a feed gap");
        for k in candles {
            self.send(ToHot::BackfillCandle(Candle {
                symbol,
                open_time: TimestampNs(k.open_time_ms.saturating_mul(NS_PER_MS)),
                open: k.open,
                high: k.high,
                low: k.low,
                close: k.close,
                volume: k.volume,
                trade_count: 0,
            }));
        }
        self.report.backfills.0 += 1;
        self.report.backfills.1 += n;
        self.send(ToHot::BackfillDone {
            symbol,
            from,
            to,
            candles: n,
        });
    }

    fn check_stop_file(&mut self) {
        let Some(path) = self.opts.stop_file.as_ref() else {
            return;
        };
        let exists = path.exists();
        if exists && !self.report.stop_file_seen {
            self.report.stop_file_seen = true;
            log::error!("STOP file {} found: flattening and halting", path.display());
            self.send(ToHot::Command {
                command: Command::EmergencyStop,
                source: OperatorSource::StopFile,
            });
        } else if !exists {
            self.report.stop_file_seen = false;
        }
    }

    fn refresh_dead_man(&mut self, secs: u32) {
        let Some(rest) = self.p.rest.as_mut() else {
            return;
        };
        match rest.cancel_all_after(DeadManSwitch::Activate { timeout_secs: secs }) {
            Ok(_) => self.report.dead_man_refreshes += 1,
            Err(e) => log::warn!("Cancel-all-after refresh failed: {e}"),
        }
    }

    /// Re-reads the config file and, when every change is reloadable and
    /// the engine can take it, sends the new config to the hot thread (which
    /// applies it to the core between two events and journals it), applies
    /// the log level and the stop behaviour here, and keeps the new config
    /// as the running one. Returns whether it was accepted and a one-line
    /// description; a refusal keeps the running config and is logged. Either
    /// outcome is journaled through the hot thread.
    fn reload(&mut self) -> (bool, String) {
        let result = match self.opts.config_path.as_ref() {
            None => Err("no config file to re-read (running on built-in defaults)".to_owned()),
            Some(path) => match Config::load(path) {
                Err(e) => Err(format!("invalid config: {e}")),
                Ok(new) => self.take_reload(new),
            },
        };
        let (accepted, detail) = match result {
            Ok(d) => {
                self.report.reloads.0 += 1;
                log::info!("Reload accepted: {d}");
                (true, d)
            }
            Err(d) => {
                self.report.reloads.1 += 1;
                log::error!("Reload refused, the running config stays: {d}");
                (false, d)
            }
        };
        self.send(ToHot::Reload {
            outcome: if accepted {
                ReloadOutcome::Accepted
            } else {
                ReloadOutcome::Refused
            },
            detail: Note::new(&detail),
        });
        (accepted, detail)
    }

    /// Checks `new` against the running config and the engine, sends it to
    /// the hot thread and makes it the running config; returns the changes
    /// as text, or why it was refused.
    fn take_reload(&mut self, new: Config) -> Result<String, String> {
        let changes = self
            .p
            .config
            .reloadable_changes(&new)
            .map_err(|e| e.to_string())?;
        crate::core::check_reload(&self.p.config, &new)
            .map_err(|e| format!("reload refused by the engine: {e}"))?;
        let config_toml = new
            .to_toml_string()
            .map_err(|e| format!("cannot journal the new config: {e}"))?;
        self.p
            .reloads
            .send(ReloadPayload {
                config: new.clone(),
                config_toml,
            })
            .map_err(|e| format!("reload not sent: {e}"))?;
        log::set_max_level(new.logging.level.to_level_filter());
        self.opts.flatten_on_stop = new.risk.close_on_shutdown;
        self.p.config = new;
        let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
        Ok(if text.is_empty() {
            "no change".to_owned()
        } else {
            text.join("; ")
        })
    }
}

/// Logs one hot-thread note.
fn log_note(l: &HotLog) {
    match l {
        HotLog::Core(e) => log::warn!("Core: {e:?}"),
        HotLog::MarketConnected { reconnect } => {
            log::info!(
                "Market stream connected{}",
                if *reconnect { " again" } else { "" }
            );
        }
        HotLog::MarketDisconnected(r) => log::warn!("Market stream lost: {r}"),
        HotLog::MarketOutage { from, to } => log::warn!(
            "Market data gap of {} ms, backfilling",
            (to.0 - from.0) / NS_PER_MS
        ),
        HotLog::UserStream(s) => log::info!("User stream: {s:?}"),
        HotLog::OrderRejected { order, code } => {
            log::warn!("Order {} refused (code {code})", order.0);
        }
        HotLog::OrderUnknown(o) => {
            log::warn!(
                "Outcome of order {} unknown; the user stream will settle it",
                o.0
            );
        }
        HotLog::QueueFull(o) => log::error!("Order queue full: order {} not sent", o.0),
        HotLog::JournalFailed => log::error!("A journal append failed"),
        HotLog::JournalDisabled => {
            log::error!("Journal closed after repeated failures: the run is no longer journaled");
        }
        HotLog::IoGone => log::error!("The I/O thread is gone"),
        HotLog::ExchangeSync {
            lookups,
            mismatches,
            gap,
        } => {
            if *gap {
                log::warn!("User stream gap: re-syncing orders and positions by REST");
            } else {
                log::warn!(
                    "Reconciliation: {lookups} order(s) missing from the book looked up, {mismatches} position mismatch(es)"
                );
            }
        }
        HotLog::ReloadApplied => log::info!("Reload applied by the engine"),
        HotLog::ReloadFailed(e) => {
            log::error!("The engine refused the reload, its parameters stay: {e}");
        }
        HotLog::ReloadMissing => {
            log::error!("The engine received a reload without its parameters; nothing applied");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::handoff::latency_channel;
    use crate::runtime::reload::HotReloads;

    fn service(path: &std::path::Path) -> (Service, Consumer<ToHot>, HotReloads) {
        let (_rec, collector) = latency_channel(1_000_000, 3, 1).unwrap();
        let (to_hot, inbox) = ringbuf::spsc::channel(16);
        let (reloads, hot_reloads) = crate::runtime::reload::reload_channel();
        let (_out, from_hot) = ringbuf::spsc::channel(16);
        let s = Service::new(
            ServiceOptions {
                signals: false,
                stop_file: None,
                halt_file: None,
                config_path: Some(path.to_path_buf()),
                status_every: None,
                latency_every: None,
                duration: None,
                flatten_on_stop: false,
                dead_man_secs: None,
                dashboard_every: None,
                mode: Mode::Paper,
            },
            ServiceParts {
                from_hot,
                to_hot,
                reloads,
                latency: collector,
                control: None,
                rest: None,
                symbols: vec!["BTC-USDT".into()],
                config: Config::default(),
                stop: None,
                metrics: None,
            },
        )
        .unwrap();
        (s, inbox, hot_reloads)
    }

    #[test]
    fn round_trips_from_the_hot_thread_reach_the_published_metrics() {
        use crate::metrics::round_trip::RoundTripKind;
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _inbox, _hot) = service(&dir.path().join("config.toml"));
        let (mut out, from_hot) = ringbuf::spsc::channel(16);
        s.p.from_hot = from_hot;
        let shared = SharedMetrics::new();
        s.p.metrics = Some(shared.clone());
        for (kind, ns) in [
            (RoundTripKind::Entry, 4_000_000),
            (RoundTripKind::Entry, 6_000_000),
            (RoundTripKind::Cancel, 2_000_000),
        ] {
            out.push(FromHot::RoundTrip { kind, ns }).unwrap();
        }
        out.push(FromHot::Status(Status {
            journal_unsynced_bytes: 512,
            ..Status::default()
        }))
        .unwrap();
        s.drain(&mut std::io::sink());
        let m = shared.latest().unwrap();
        assert_eq!(m.round_trip.count(RoundTripKind::Entry), 2);
        assert_eq!(m.round_trip.sum_ns(RoundTripKind::Entry), 10_000_000);
        assert_eq!(m.round_trip.count(RoundTripKind::Cancel), 1);
        assert_eq!(m.journal_unsynced_bytes, 512);
        assert_eq!(s.report.round_trips, m.round_trip);
    }

    fn write(path: &std::path::Path, cfg: &Config) {
        std::fs::write(path, cfg.to_toml_string().unwrap()).unwrap();
    }

    fn outcome(inbox: &mut Consumer<ToHot>) -> (ReloadOutcome, String) {
        match inbox.pop() {
            Some(ToHot::Reload { outcome, detail }) => (outcome, detail.as_str().to_owned()),
            other => panic!("expected a reload note, got {other:?}"),
        }
    }

    #[test]
    fn a_reload_of_an_unparseable_file_is_refused_and_the_old_config_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[risk\nmax_drawdown_pct = ").unwrap();
        let (mut s, mut inbox, mut hot) = service(&path);
        let (accepted, _) = s.reload();
        assert!(!accepted);
        assert_eq!(outcome(&mut inbox).0, ReloadOutcome::Refused);
        assert!(hot.take().is_none(), "nothing for the core");
        assert_eq!(s.p.config, Config::default());
        assert_eq!(s.report.reloads, (0, 1));
    }

    #[test]
    fn a_reload_that_changes_a_restart_only_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut cfg = Config::default();
        cfg.strategies.mtf_long.rsi_period = 21;
        cfg.risk.max_drawdown_pct = 5.0;
        write(&path, &cfg);
        let (mut s, mut inbox, mut hot) = service(&path);
        assert!(!s.reload().0);
        let (o, detail) = outcome(&mut inbox);
        assert_eq!(o, ReloadOutcome::Refused);
        assert!(detail.contains("rsi_period"), "{detail}");
        assert_eq!(s.p.config, Config::default(), "nothing of it is taken");
        assert!(hot.take().is_none(), "nothing for the core");
    }

    #[test]
    fn a_valid_reload_is_accepted_applied_and_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut cfg = Config::default();
        cfg.risk.max_drawdown_pct = 7.5;
        cfg.risk.close_on_shutdown = true;
        write(&path, &cfg);
        let (mut s, mut inbox, mut hot) = service(&path);
        assert!(s.reload().0);
        let (o, detail) = outcome(&mut inbox);
        assert_eq!(o, ReloadOutcome::Accepted);
        assert!(detail.contains("risk.max_drawdown_pct"), "{detail}");
        assert!((s.p.config.risk.max_drawdown_pct - 7.5).abs() < 1e-12);
        assert!(s.opts.flatten_on_stop, "the stop behaviour follows");
        assert_eq!(s.report.reloads, (1, 0));
        let payload = hot.take().expect("the new config goes to the core");
        assert_eq!(payload.config, s.p.config);
        assert_eq!(
            Config::from_toml_str_with_cores(&payload.config_toml, None).unwrap(),
            payload.config
        );
        hot.give_back(payload).unwrap();
        s.drain(&mut Vec::new());
        assert_eq!(s.p.reloads.in_flight(), 0, "freed on the service thread");
    }

    #[test]
    fn a_reload_with_an_invalid_value_is_refused_and_nothing_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut cfg = Config::default();
        cfg.risk.max_positions = 0;
        cfg.risk.max_drawdown_pct = 5.0;
        write(&path, &cfg);
        let (mut s, mut inbox, mut hot) = service(&path);
        assert!(!s.reload().0);
        let (o, detail) = outcome(&mut inbox);
        assert_eq!(o, ReloadOutcome::Refused);
        assert!(detail.contains("risk.max_positions"), "{detail}");
        assert!(hot.take().is_none());
        assert_eq!(s.p.config, Config::default());
        assert_eq!(s.report.reloads, (0, 1));
    }

    #[test]
    fn a_reload_the_core_cannot_take_is_refused_before_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut cfg = Config::default();
        cfg.sizing.streak_multipliers = vec![1.0; crate::risk::MAX_STREAK_MULTIPLIERS + 1];
        write(&path, &cfg);
        let (mut s, mut inbox, mut hot) = service(&path);
        assert!(!s.reload().0);
        let (o, detail) = outcome(&mut inbox);
        assert_eq!(o, ReloadOutcome::Refused);
        assert!(detail.contains("streak_multipliers"), "{detail}");
        assert!(hot.take().is_none());
        assert_eq!(s.p.config, Config::default());
    }

    #[test]
    fn the_stop_file_sends_one_emergency_stop_until_it_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let (mut s, mut inbox, _hot) = service(&path);
        let stop = dir.path().join("STOP");
        s.opts.stop_file = Some(stop.clone());
        s.check_stop_file();
        assert!(inbox.pop().is_none());
        std::fs::write(&stop, b"").unwrap();
        s.check_stop_file();
        s.check_stop_file();
        assert_eq!(
            inbox.pop(),
            Some(ToHot::Command {
                command: Command::EmergencyStop,
                source: OperatorSource::StopFile
            })
        );
        assert!(inbox.pop().is_none(), "sent once");
        std::fs::remove_file(&stop).unwrap();
        s.check_stop_file();
        assert!(!s.report.stop_file_seen);
    }
}
