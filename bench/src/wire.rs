//! Wire-to-wire latency against the in-process BingX simulator: from the
//! simulator writing a market frame on its socket to the engine's order
//! request arriving back at the simulator, over loopback (TLS by default).
//!
//! Consumes [`WireOptions`]; produces a [`WireRun`] with one histogram for
//! the whole path and one per leg. The engine side is built from the
//! engine's own pieces, as the live runtime drives them: `WsClient` with
//! `BingxMarket` (non-blocking poll, TLS, gzip inflate, parse) on the
//! calling ("hot") thread → `Core` (candles, indicators, strategies, risk)
//! → the intent as an `IoCommand::Place` through the bridge's SPSC queue →
//! the `IoThread` (its `RestClient` signs and writes the request over a
//! kept-alive TLS connection).
//!
//! Each measured order: the harness injects a trade one minute after the
//! previous one (`SimHandle::inject_trade_at`), so the engine's 1m candle
//! closes on it; the scripted [`EveryCandleEntry`] strategy (after the
//! configured ones) signals and the core sends an entry. The simulator
//! rejects every order (`reject_rate = 1`), the reject goes back to the core
//! through the bridge, and the core is flat again for the next order. The
//! simulator's [`LatencyProbe`](bingx_sim::LatencyProbe)
//! gives the frame-write and order-arrival instants (same process, same
//! monotonic clock). Cold set-up, busy-polling measurement; never part of
//! the engine.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bingx_sim::{FaultConfig, SimConfig, SimHandle, Simulator, Speed};
use hdrhistogram::Histogram;
use trading_engine::config::Config;
use trading_engine::core::{Action, Core, Event};
use trading_engine::feed::{BingxDecoder, MarketEvent, SymbolTable};
use trading_engine::io::bridge::{BridgeConfig, HotSide, IoReport, IoThread};
use trading_engine::io::order::{ClientOrderId, IoCommand, OrderOutcome, OrderRequest};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::tls::TlsOptions;
use trading_engine::io::ws::{BingxMarket, WsClient, WsConfig, WsEvent};
use trading_engine::orders::{OrderId, OrderIntent, OrderKind, OrderPurpose};
use trading_engine::types::{SymbolId, TimestampNs, Trade};

use crate::hot_path::EveryCandleEntry;

/// The symbol traded.
const SYMBOL: &str = "BTC-USDT";

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct WireOptions {
    /// Orders measured (after the warm-up).
    pub orders: u64,
    /// Orders sent before measuring.
    pub warmup: u64,
    /// Pause between orders (the engine busy-polls meanwhile). The client
    /// limits order placement to 5 per second (BingX's per-UID limit), so
    /// below 200 ms its rate limiter delays orders after the first five.
    pub interval: Duration,
    /// TLS (`wss://` and `https://`) or plain TCP.
    pub tls: bool,
    /// How long the I/O thread parks when idle (the bridge default is
    /// 200 µs; zero keeps it spinning, as on a dedicated core).
    pub io_idle_park: Duration,
    /// Give up when one step takes longer than this.
    pub step_timeout: Duration,
}

impl Default for WireOptions {
    fn default() -> Self {
        Self {
            orders: 300,
            warmup: 10,
            interval: Duration::from_millis(210),
            tls: true,
            io_idle_park: Duration::ZERO,
            step_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum WireError {
    /// Setting up the simulator, clients, bridge or core failed.
    Setup {
        /// What was being set up.
        what: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A step did not complete in time.
    Timeout {
        /// What was awaited.
        waiting_for: &'static str,
        /// Orders measured so far.
        orders: u64,
    },
    /// The engine or the simulator did something the run does not expect.
    Unexpected(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup { what, source } => write!(f, "cannot set up {what}: {source}"),
            Self::Timeout {
                waiting_for,
                orders,
            } => write!(
                f,
                "timed out waiting for {waiting_for} after {orders} orders"
            ),
            Self::Unexpected(what) => write!(f, "unexpected: {what}"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Setup { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

fn setup<E: std::error::Error + Send + Sync + 'static>(
    what: &'static str,
) -> impl Fn(E) -> WireError {
    move |e| WireError::Setup {
        what,
        source: Box::new(e),
    }
}

/// Histograms of one run, in nanoseconds.
#[derive(Debug)]
pub struct WireRun {
    /// Simulator frame write → order request arrival at the simulator.
    pub wire_to_wire: Histogram<u64>,
    /// Frame write → trade decoded on the engine's hot thread (socket,
    /// TLS, WebSocket, inflate, parse).
    pub sim_to_engine: Histogram<u64>,
    /// Trade decoded → order command in the bridge queue (candles,
    /// indicators, strategies, risk, intent → request, SPSC push).
    pub engine_to_queue: Histogram<u64>,
    /// Command queued → request arrived at the simulator (I/O thread
    /// wake-up, signing, HTTP + TLS write, socket, simulator read + parse).
    pub queue_to_sim: Histogram<u64>,
    /// Market frames the simulator wrote.
    pub frames: u64,
    /// Heap allocations on the engine's hot thread while measuring, as
    /// counted by the caller's counter.
    pub allocations: u64,
}

fn new_hist() -> Result<Histogram<u64>, WireError> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).map_err(setup("a histogram"))
}

fn ns(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_nanos()).unwrap_or(u64::MAX)
}

fn unix_now() -> TimestampNs {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    TimestampNs(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Returns the exchange request for an entry intent: a market order on the
/// hedge-mode leg of its side, with the client order id derived from the
/// engine order id; `None` for anything but a market entry.
#[must_use]
pub fn entry_request(intent: &OrderIntent) -> Option<OrderRequest> {
    if intent.purpose != OrderPurpose::Entry || intent.kind != OrderKind::Market {
        return None;
    }
    let id = ClientOrderId::from_sequence("w2w-", intent.id.0)?;
    Some(trading_engine::runtime::route::request(intent, id, true))
}

/// The engine side: market stream, core and the bridge to the I/O thread.
struct Engine {
    ws: WsClient<BingxMarket>,
    core: Core,
    hot: HotSide,
    io: IoThread,
}

/// What one poll of the engine saw.
#[derive(Debug, Default, Clone, Copy)]
struct Polled {
    /// Instant the injected trade came out of the decoder.
    decoded: Option<Instant>,
    /// Instant the order command was in the bridge queue, and its order id.
    queued: Option<(Instant, OrderId)>,
}

impl Engine {
    /// Polls the stream once; runs every trade through the core and queues
    /// its entry intents.
    fn poll(&mut self, wanted_ts: TimestampNs) -> Result<Polled, WireError> {
        let mut trades = [None::<(Trade, Instant)>; 8];
        let mut n = 0;
        self.ws.poll_once(unix_now(), &mut |e| {
            if let WsEvent::Data(MarketEvent::Trade(t)) = e {
                if let Some(slot) = trades.get_mut(n) {
                    *slot = Some((t, Instant::now()));
                    n += 1;
                }
            }
        });
        let mut out = Polled::default();
        for (t, at) in trades.iter().take(n).flatten() {
            if t.exchange_ts == wanted_ts {
                out.decoded = Some(*at);
            }
            self.core.on_event(&Event::Trade(*t));
            while let Some(action) = self.core.next_action() {
                if let Action::Place(intent) = action {
                    let req = entry_request(&intent)
                        .ok_or(WireError::Unexpected("an order other than a market entry"))?;
                    self.hot
                        .send(IoCommand::Place(req))
                        .map_err(|_| WireError::Unexpected("the bridge queue is full"))?;
                    out.queued = Some((Instant::now(), intent.id));
                }
            }
        }
        Ok(out)
    }
}

fn start_sim(tls: bool, cert: &std::path::Path) -> Result<SimHandle, WireError> {
    Simulator::start(SimConfig {
        tls,
        cert_out: tls.then(|| cert.to_path_buf()),
        speed: Speed::Manual,
        warmup_minutes: 0,
        faults: FaultConfig {
            reject_rate: 1.0,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    })
    .map_err(setup("the simulator"))
}

fn tls_options(tls: bool, cert: PathBuf) -> TlsOptions {
    if tls {
        TlsOptions {
            use_webpki_roots: false,
            extra_ca_file: Some(cert),
        }
    } else {
        TlsOptions::default()
    }
}

fn build_engine(sim: &SimHandle, opts: &WireOptions, cert: PathBuf) -> Result<Engine, WireError> {
    let mut rest_cfg = RestConfig::new(
        &sim.rest_base(),
        sim.api_key(),
        bingx_sim::DEFAULT_API_SECRET,
    );
    rest_cfg.http.tls = tls_options(opts.tls, cert.clone());
    let mut rest = RestClient::try_new(rest_cfg).map_err(setup("the REST client"))?;
    rest.sync_time().map_err(setup("the REST clock sync"))?;
    rest.load_symbols(&[SYMBOL])
        .map_err(setup("the symbol rules"))?;
    let rules = rest
        .symbols()
        .get(SymbolId(0))
        .map(|s| s.rules)
        .ok_or(WireError::Unexpected("no rules for BTC-USDT"))?;
    let (io, hot) = IoThread::spawn(
        rest,
        BridgeConfig {
            idle_park: opts.io_idle_park,
            ..BridgeConfig::default()
        },
    )
    .map_err(setup("the I/O thread"))?;
    let mut symbols = SymbolTable::new();
    symbols
        .insert(SYMBOL, SymbolId(0))
        .map_err(setup("the feed symbol table"))?;
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols));
    proto.subscribe(&format!("{SYMBOL}@trade"));
    let ws_cfg = WsConfig {
        tls: tls_options(opts.tls, cert),
        ..WsConfig::default()
    };
    let ws = WsClient::new(&sim.ws_url(), ws_cfg, proto).map_err(setup("the market stream"))?;
    let cfg = Config::default();
    let mut strategies = trading_engine::strategy::build(&cfg.strategies);
    strategies.push(Box::new(EveryCandleEntry::default()));
    let core = Core::try_with_strategies(&cfg, &[rules], strategies).map_err(setup("the core"))?;
    Ok(Engine { ws, core, hot, io })
}

/// Runs the measurement. `count_allocations` runs its argument and returns
/// the heap allocations it made (the harness passes
/// `allocation_counter::measure`; a caller that does not count returns 0);
/// it wraps every engine poll of the measured orders.
///
/// # Errors
/// [`WireError`] when set-up fails, a step times out or the simulator
/// accepts an order it should reject.
pub fn run(
    opts: &WireOptions,
    count_allocations: &mut dyn FnMut(&mut dyn FnMut()) -> u64,
) -> Result<WireRun, WireError> {
    let dir = tempfile::tempdir().map_err(setup("a temporary directory"))?;
    let cert = dir.path().join("sim.pem");
    let sim = start_sim(opts.tls, &cert)?;
    let mut engine = build_engine(&sim, opts, cert)?;
    let mut run = WireRun {
        wire_to_wire: new_hist()?,
        sim_to_engine: new_hist()?,
        engine_to_queue: new_hist()?,
        queue_to_sim: new_hist()?,
        frames: 0,
        allocations: 0,
    };
    let probe = sim.latency_probe();
    let timeout = |waiting_for, orders| WireError::Timeout {
        waiting_for,
        orders,
    };
    // Wait for the subscription to be active.
    let started = Instant::now();
    while !engine.ws.protocol().all_active() {
        engine.poll(TimestampNs(0))?;
        if started.elapsed() > opts.step_timeout {
            return Err(timeout("the market subscription", 0));
        }
    }
    let base_ms = unix_now().0 / 1_000_000 / 60_000 * 60_000;
    let mut measured = 0u64;
    let mut sent = 0u64;
    let mut minute = 0i64;
    while measured < opts.orders {
        minute += 1;
        let ts_ms = base_ms + minute * 60_000;
        let price = if minute % 2 == 0 {
            "60000.0"
        } else {
            "60010.0"
        };
        let arrivals_before = probe.orders_arrived();
        sim.inject_trade_at(ts_ms, price, "0.0100", false)
            .map_err(setup("a trade injection"))?;
        let wanted = TimestampNs(ts_ms * 1_000_000);
        let step = Instant::now();
        let mut decoded = None;
        let mut queued = None;
        let counting = sent >= opts.warmup;
        while decoded.is_none() {
            let mut polled = Ok(Polled::default());
            let allocs = count_allocations(&mut || polled = engine.poll(wanted));
            let polled = polled?;
            if counting {
                run.allocations += allocs;
            }
            decoded = decoded.or(polled.decoded);
            queued = queued.or(polled.queued);
            if step.elapsed() > opts.step_timeout {
                return Err(timeout("the injected trade", measured));
            }
        }
        let Some((queued_at, order)) = queued else {
            // The first candle of the run: nothing closed yet.
            continue;
        };
        sent += 1;
        while probe.orders_arrived() == arrivals_before {
            engine.poll(wanted)?;
            if step.elapsed() > opts.step_timeout {
                return Err(timeout("the order at the simulator", measured));
            }
        }
        let (Some(written), Some(arrived), Some(decoded_at)) = (
            probe.last_market_frame_write(),
            probe.last_order_arrival(),
            decoded,
        ) else {
            return Err(WireError::Unexpected("the probe recorded nothing"));
        };
        if counting {
            run.wire_to_wire.saturating_record(ns(written, arrived));
            run.sim_to_engine.saturating_record(ns(written, decoded_at));
            run.engine_to_queue
                .saturating_record(ns(decoded_at, queued_at));
            run.queue_to_sim.saturating_record(ns(queued_at, arrived));
            measured += 1;
        }
        // The reject comes back through the bridge; the core forgets the entry.
        loop {
            engine.poll(wanted)?;
            match engine.hot.poll() {
                Some(IoReport::Order(result)) => {
                    if matches!(result.outcome, OrderOutcome::Accepted(_)) {
                        return Err(WireError::Unexpected(
                            "the simulator accepted an order (reject_rate = 1)",
                        ));
                    }
                    engine.core.on_event(&Event::Rejected {
                        order,
                        ts: unix_now(),
                    });
                    while engine.core.next_action().is_some() {}
                    break;
                }
                Some(_) => {}
                None => {}
            }
            if step.elapsed() > opts.step_timeout {
                return Err(timeout("the order result", measured));
            }
        }
        let pause = Instant::now();
        while pause.elapsed() < opts.interval {
            engine.poll(wanted)?;
            std::hint::spin_loop();
        }
    }
    run.frames = probe.market_frames_written();
    engine.ws.close();
    drop(engine.hot);
    let _io_stats = engine.io.shutdown();
    drop(sim);
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trading_engine::io::order::{OrderKind as WireKind, PositionSide};
    use trading_engine::orders::PositionId;
    use trading_engine::types::{Qty, Side};

    fn counter(f: &mut dyn FnMut()) -> u64 {
        f();
        0
    }

    #[test]
    fn wire_to_wire_over_plain_tcp_measures_every_order_and_its_legs() {
        let opts = WireOptions {
            orders: 3,
            warmup: 1,
            interval: Duration::ZERO,
            tls: false,
            ..WireOptions::default()
        };
        let run = run(&opts, &mut counter).unwrap();
        for h in [
            &run.wire_to_wire,
            &run.sim_to_engine,
            &run.engine_to_queue,
            &run.queue_to_sim,
        ] {
            assert_eq!(h.len(), 3);
        }
        // The legs add up to the whole (each sample; here on the maxima).
        assert!(run.wire_to_wire.max() >= run.queue_to_sim.max());
        assert!(run.wire_to_wire.min() > 0);
        // One priming frame plus one per order, warm-up included.
        assert_eq!(run.frames, 5);
    }

    #[test]
    fn wire_to_wire_over_tls_measures_orders_without_allocating_on_the_hot_thread() {
        let opts = WireOptions {
            orders: 3,
            warmup: 2,
            interval: Duration::ZERO,
            tls: true,
            ..WireOptions::default()
        };
        let mut count = |f: &mut dyn FnMut()| allocation_counter::measure(f).count_total;
        let run = run(&opts, &mut count).unwrap();
        assert_eq!(run.wire_to_wire.len(), 3);
        assert_eq!(run.allocations, 0);
    }

    #[test]
    fn only_market_entries_become_requests() {
        let intent = OrderIntent {
            id: OrderId(42),
            position: PositionId(1),
            symbol: SymbolId(0),
            side: Side::Sell,
            qty: Qty::from_f64(0.01).unwrap(),
            kind: OrderKind::Market,
            reduce_only: false,
            purpose: OrderPurpose::Entry,
            ts: TimestampNs(0),
        };
        let req = entry_request(&intent).unwrap();
        assert_eq!(req.position_side, PositionSide::Short);
        assert_eq!(req.kind, WireKind::Market);
        assert_eq!(req.client_order_id.as_str(), "w2w-42");
        assert!(req.validate().is_none());
        let stop = OrderIntent {
            purpose: OrderPurpose::Stop,
            ..intent
        };
        assert!(entry_request(&stop).is_none());
    }
}
