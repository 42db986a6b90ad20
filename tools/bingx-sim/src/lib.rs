//! `bingx-sim`: a BingX-compatible USDT-M perpetual exchange on 127.0.0.1 for tests, demos
//! and benchmarks, following `docs/exchange-protocols.md` (REST paths and envelopes, HMAC
//! signing, gzip WebSocket frames, `Ping`/`Pong`, user-data events, 19-digit order ids).
//!
//! Consumes a [`SimConfig`] (market source, speed, credentials, faults); produces a running
//! server reachable at [`SimHandle::addr`], plain or TLS on one port for REST and WebSocket.
//! Never used on the engine's hot path: a thread per connection, a mutex around the
//! exchange. It never logs the API secret.
//!
//! ```no_run
//! use bingx_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default())?;
//! println!("REST at {}, WS at {}", sim.rest_base(), sim.ws_url());
//! drop(sim); // stops every thread
//! # Ok::<(), bingx_sim::SimError>(())
//! ```
#![forbid(unsafe_code)]

mod account;
pub mod cert;
pub mod config;
mod conn;
pub mod csv;
mod exchange;
mod faults;
mod feed;
mod gzip;
mod http;
mod market;
mod net;
pub mod num;
mod orders;
pub mod probe;
mod rest;
pub mod rng;
pub mod sign;
pub mod source;
pub mod testdata;
mod tick;
mod ws;

pub use config::{
    FaultConfig, SimConfig, Speed, DEFAULT_API_KEY, DEFAULT_API_SECRET, MAX_SPEED, MIN_SPEED,
};
pub use exchange::{
    AccountView, Activity, DeadManState, FilledOrder, GuardReport, StopWatchState, StoplessInterval,
};
pub use faults::FaultCounts;
pub use gzip::gzip;
pub use orders::PosSide;
pub use probe::LatencyProbe;
pub use source::SourceError;

use exchange::{Exchange, ExchangeConfig};
pub use exchange::{FundingConfig, Settlement};
use faults::Faults;
use feed::Hub;
use rustls::ServerConfig;
use source::{MarketSource, Precision, Tick};
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why the simulator could not start or act.
#[derive(Debug)]
pub enum SimError {
    /// A socket or file operation failed; the string says which.
    Io(String, std::io::Error),
    /// Certificate generation or TLS setup failed.
    Tls(String),
    /// The market data file could not be loaded.
    Source(SourceError),
    /// A configuration or call argument is invalid.
    Config(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(what, e) => write!(f, "{what}: {e}"),
            Self::Tls(m) => write!(f, "TLS setup failed: {m}"),
            Self::Source(e) => write!(f, "market data: {e}"),
            Self::Config(m) => write!(f, "invalid configuration: {m}"),
        }
    }
}

impl std::error::Error for SimError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(_, e) => Some(e),
            Self::Source(e) => Some(e),
            _ => None,
        }
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it (the simulator's
/// state stays usable for the remaining clients).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Returns wall-clock milliseconds since the epoch.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// State shared by every simulator thread.
pub(crate) struct Shared {
    cfg: SimConfig,
    exchange: Mutex<Exchange>,
    hub: Hub,
    faults: Faults,
    verifier: sign::Verifier,
    shutdown: AtomicBool,
    tls: Option<Arc<ServerConfig>>,
    active: AtomicUsize,
    conn_threads: Mutex<Vec<JoinHandle<()>>>,
    /// Clones of the open client sockets, keyed by connection number, so shutdown can cut
    /// a connection blocked in a write to a client that stopped reading.
    sockets: Mutex<std::collections::HashMap<u64, std::net::TcpStream>>,
    /// Market-frame write and order arrival instants (wire-to-wire benchmark).
    probe: LatencyProbe,
}

/// Entry point of the simulator.
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

/// A running simulator; dropping it (or [`SimHandle::shutdown`]) stops every thread.
pub struct SimHandle {
    addr: SocketAddr,
    cert_pem: Option<String>,
    cert_path: Option<PathBuf>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .field("tls", &self.cert_pem.is_some())
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, SimError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map_err(|e| SimError::Io(format!("spawning thread {name}"), e))
}

impl Simulator {
    /// Starts the simulator: loads or generates the market, runs the warm-up into the kline
    /// history, binds the listener (TLS with a fresh self-signed certificate when asked) and
    /// starts the accept, feed and housekeeping threads.
    ///
    /// # Errors
    /// [`SimError`] when the data file, the certificate, the bind or a thread spawn fails.
    pub fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
        if !cfg.symbol.contains('-') {
            return Err(SimError::Config(format!(
                "symbol {:?} must look like BTC-USDT",
                cfg.symbol
            )));
        }
        if !(cfg.initial_balance.is_finite() && cfg.initial_balance >= 0.0) {
            return Err(SimError::Config(
                "initial balance must be a non-negative number".into(),
            ));
        }
        if let Speed::Times(x) = cfg.speed {
            if !(config::MIN_SPEED..=config::MAX_SPEED).contains(&x) {
                return Err(SimError::Config(format!(
                    "speed {x} must be a multiplier from {} to {} (or Speed::Max)",
                    config::MIN_SPEED,
                    config::MAX_SPEED
                )));
            }
        }
        if cfg.leverage == 0 || cfg.leverage > exchange::MAX_LEVERAGE {
            return Err(SimError::Config(format!(
                "leverage must be 1..={}",
                exchange::MAX_LEVERAGE
            )));
        }
        let (pp, qp) = config::default_precision(&cfg.symbol);
        let min_prec = Precision { price: pp, qty: qp };
        let now = now_ms();
        let mut warmup_ms = i64::from(cfg.warmup_minutes) * 60_000;
        let mut source = match &cfg.data {
            Some(path) => {
                let mut s = MarketSource::load_csv(path, min_prec).map_err(SimError::Source)?;
                // Never warm up on more than half of a file, so something is left to replay.
                if let (Some(a), Some(b)) = (s.first_time_ms(), s.last_time_ms()) {
                    let half_minutes = (b - a) / 2 / 60_000;
                    warmup_ms = warmup_ms.min(half_minutes * 60_000);
                }
                // Keep minute alignment: the file's first minute becomes the minute that
                // starts the warm-up.
                let start_minute = now.div_euclid(60_000) * 60_000 - warmup_ms;
                let first = s.first_time_ms().unwrap_or(start_minute);
                s.set_shift_ms(start_minute - first.div_euclid(60_000) * 60_000);
                log::info!("Replaying {}", path.display());
                s
            }
            None => MarketSource::generated(cfg.seed, now - warmup_ms, cfg.start_price, min_prec),
        };
        let precision = source.precision();
        let ex_cfg = ExchangeConfig {
            symbol: cfg.symbol.clone(),
            slippage_bps: cfg.slippage_bps,
            listen_key_ttl_ms: cfg.listen_key_ttl_ms,
            cancel_after_unit_ms: cfg.cancel_after_unit_ms,
            trade_update_events: cfg.trade_update_events,
            reject_rate: cfg.faults.reject_rate,
            funding: cfg.funding,
        };
        let account = account::Account::new(cfg.initial_balance, cfg.hedge_mode, cfg.leverage);
        let mut ex = Exchange::new(ex_cfg, precision, account, cfg.seed);
        let mut warm = 0usize;
        while let Some(t) = source.peek() {
            if t.time_ms >= now {
                break;
            }
            if let Some(t) = source.next_tick() {
                ex.on_tick(&t, now);
                warm += 1;
            }
        }
        log::info!("Warm-up consumed {warm} trades");
        let (tls, cert_pem) = if cfg.tls {
            let (tls, pem) = net::make_tls()?;
            (Some(tls), Some(pem))
        } else {
            (None, None)
        };
        let cert_path = match (&cert_pem, &cfg.cert_out) {
            (Some(pem), Some(path)) => {
                std::fs::write(path, pem).map_err(|e| {
                    SimError::Io(format!("writing certificate {}", path.display()), e)
                })?;
                Some(path.clone())
            }
            _ => None,
        };
        let listener = TcpListener::bind(cfg.listen)
            .map_err(|e| SimError::Io(format!("binding {}", cfg.listen), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| SimError::Io("setting the listener non-blocking".into(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SimError::Io("reading the bound address".into(), e))?;
        let faults = Faults::new(cfg.faults.clone(), cfg.seed);
        let verifier = sign::Verifier::new(&cfg.api_secret);
        let speed = cfg.speed;
        let shared = Arc::new(Shared {
            cfg,
            exchange: Mutex::new(ex),
            hub: Hub::default(),
            faults,
            verifier,
            shutdown: AtomicBool::new(false),
            tls,
            active: AtomicUsize::new(0),
            conn_threads: Mutex::new(Vec::new()),
            sockets: Mutex::new(std::collections::HashMap::new()),
            probe: LatencyProbe::new(),
        });
        let mut threads = Vec::new();
        let sh = Arc::clone(&shared);
        threads.push(spawn("sim-accept", move || {
            net::accept_loop(&listener, &sh)
        })?);
        if speed != Speed::Manual {
            let sh = Arc::clone(&shared);
            threads.push(spawn("sim-feed", move || feed::run(&sh, source))?);
        }
        let sh = Arc::clone(&shared);
        threads.push(spawn("sim-timers", move || {
            while !sh.shutdown.load(Ordering::Acquire) {
                lock(&sh.exchange).housekeeping(now_ms());
                std::thread::sleep(Duration::from_millis(20));
            }
        })?);
        log::info!(
            "Simulator for {} listening on {addr} ({})",
            shared.cfg.symbol,
            if shared.tls.is_some() { "TLS" } else { "plain" }
        );
        Ok(SimHandle {
            addr,
            cert_pem,
            cert_path,
            shared,
            threads,
        })
    }
}

impl SimHandle {
    /// Returns the bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns true when serving TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.cert_pem.is_some()
    }

    /// Returns the REST base URL (`http://127.0.0.1:PORT` or `https://...`).
    #[must_use]
    pub fn rest_base(&self) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Returns the market WebSocket URL (`ws(s)://127.0.0.1:PORT/swap-market`).
    #[must_use]
    pub fn ws_url(&self) -> String {
        let scheme = if self.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}/swap-market", self.addr)
    }

    /// Returns the PEM of the self-signed certificate when serving TLS.
    #[must_use]
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Returns where the certificate was written (`cert_out`), if anywhere.
    #[must_use]
    pub fn cert_path(&self) -> Option<&std::path::Path> {
        self.cert_path.as_deref()
    }

    /// Returns the API key clients must send.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.shared.cfg.api_key
    }

    /// Holds every order placement `ms` milliseconds before executing it
    /// (0: off); settable while the simulator runs, for tests that need an
    /// order in flight.
    pub fn set_order_delay_ms(&self, ms: u64) {
        self.shared.faults.set_order_delay_ms(ms);
    }

    /// Returns the last trade price as text, if any trade happened.
    #[must_use]
    pub fn last_price(&self) -> Option<String> {
        let ex = lock(&self.shared.exchange);
        ex.market().last_price().map(|p| ex.market().px(p))
    }

    /// Feeds one trade into the market now (same path as the replay: matching, pushes);
    /// the way tests move the price deterministically with [`Speed::Manual`].
    ///
    /// # Errors
    /// [`SimError::Config`] when `price` or `qty` is not a positive decimal at the symbol's
    /// precision.
    pub fn inject_trade(&self, price: &str, qty: &str, buyer_maker: bool) -> Result<(), SimError> {
        self.inject_trade_at(now_ms(), price, qty, buyer_maker)
    }

    /// Feeds one trade like [`inject_trade`](Self::inject_trade) but with the exchange time
    /// `time_ms` (ms since the epoch) instead of now, e.g. one minute after the previous
    /// trade so that the engine closes a candle without waiting for the wall clock.
    ///
    /// # Errors
    /// As [`inject_trade`](Self::inject_trade).
    pub fn inject_trade_at(
        &self,
        time_ms: i64,
        price: &str,
        qty: &str,
        buyer_maker: bool,
    ) -> Result<(), SimError> {
        let prec = lock(&self.shared.exchange).market().precision();
        let parse = |what: &str, text: &str, d: u32| {
            num::parse_scaled(text, d)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    SimError::Config(format!(
                        "{what} {text:?} is not a positive decimal with at most {d} places"
                    ))
                })
        };
        let tick = Tick {
            time_ms,
            price: parse("price", price, prec.price)?,
            qty: parse("quantity", qty, prec.qty)?,
            buyer_maker,
        };
        feed::apply_batch(&self.shared, &[tick], false);
        Ok(())
    }

    /// Returns what the cancel-all-after (dead-man switch) endpoint has seen: activations,
    /// closes, the last time-out and the deadline armed now.
    #[must_use]
    pub fn dead_man(&self) -> DeadManState {
        lock(&self.shared.exchange).dead_man()
    }

    /// Returns what the protective-stop watch has seen: how long an open
    /// position went without a working stop at most, and the most stops
    /// one position had at once.
    #[must_use]
    pub fn stop_watch(&self) -> StopWatchState {
        lock(&self.shared.exchange).stop_watch()
    }

    /// Returns the latency probe: when the last market-data frame was written to a
    /// market-stream socket and when the last order placement request arrived.
    #[must_use]
    pub fn latency_probe(&self) -> &LatencyProbe {
        &self.shared.probe
    }

    /// Returns the stop guard watch so far: every stretch a position was
    /// open without a protective STOP_MARKET covering all of it (open ones
    /// end now), and placements that repeated a client order id.
    #[must_use]
    pub fn stop_guard(&self) -> GuardReport {
        lock(&self.shared.exchange).guard_report(now_ms())
    }

    /// Returns the counts of client activity so far (entries, stop
    /// placements and replacement steps, partial exits, queries).
    #[must_use]
    pub fn activity(&self) -> Activity {
        lock(&self.shared.exchange).activity()
    }

    /// Returns the account as the exchange holds it: wallet, positions and
    /// open orders (read directly, without REST fault injection).
    #[must_use]
    pub fn account_view(&self) -> AccountView {
        lock(&self.shared.exchange).account_view()
    }

    /// Returns the faults injected so far (429, 5xx, random rejects,
    /// malformed market frames).
    #[must_use]
    pub fn fault_counts(&self) -> FaultCounts {
        let mut c = self.shared.faults.counts();
        c.rejects = lock(&self.shared.exchange)
            .guard_report(now_ms())
            .injected_rejects;
        c
    }

    /// Stops all threads and closes every connection (also done on drop).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        // Connection threads notice the flag within ~50 ms and close politely; after a grace
        // period the remaining sockets (stuck writing to clients that stopped reading) are
        // cut so that no thread outlives the handle.
        for _ in 0..40 {
            if self.shared.active.load(Ordering::Acquire) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for s in lock(&self.shared.sockets).values() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let conns: Vec<JoinHandle<()>> = lock(&self.shared.conn_threads).drain(..).collect();
        for t in conns {
            let _ = t.join();
        }
        log::info!("Simulator on {} stopped", self.addr);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
