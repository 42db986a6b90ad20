//! Between the hot thread and the I/O thread: two SPSC queues of fixed-size `Copy`
//! messages and the [`IoThread`] that serves them.
//!
//! Consumes [`IoCommand`]s pushed by the hot thread through [`HotSide::send`]; produces
//! [`IoReport`]s — order results (acks, fills via the user stream, rejects, failures),
//! user-stream events (orders, balances, positions) and stream status — popped with
//! [`HotSide::poll`]. The I/O thread owns the REST client and the user-data stream (listen
//! key created, extended every 30 min, renewed on `listenKeyExpired` or a failed extend),
//! and runs the reconciliation passes ([`crate::io::sync`]): every `reconcile_interval`,
//! at once after any user-stream gap, and on request. Protective commands (stops, exits,
//! cancels, lookups) run ahead of entries ([`IoCommand::is_protective`]).
//! The hot side never blocks, never allocates and never makes a syscall: no waker is used,
//! the I/O thread busy-drains and parks briefly when idle. A full report queue never loses
//! a report: the I/O thread holds it until there is room.

use core::fmt;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringbuf::spsc::{self, Consumer, Producer};

use crate::feed::SymbolTable;
use crate::io::order::{IoCommand, OrderResult};
use crate::io::rest::RestClient;
use crate::io::sync::{self, SyncCause, SyncItem};
use crate::io::ws::{
    bingx_user_stream_url, DisconnectReason, OutageWindow, UserEvent, UserStream, WsClient,
    WsConfig, WsEvent, WsSetupError,
};
use crate::types::TimestampNs;

/// Status of the user-data stream, as reported to the hot thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Connected (again).
    Connected,
    /// The connection was lost; reconnecting.
    Disconnected(DisconnectReason),
    /// Events flow again after this window (reconcile orders over it from REST).
    Outage(OutageWindow),
    /// A new listen key is in use (after expiry or a failed keep-alive).
    ListenKeyRenewed,
    /// Creating a listen key failed; retried later.
    ListenKeyFailed,
}

/// A message from the I/O thread to the hot thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoReport {
    /// Outcome of one placement ([`IoCommand::Place`]); protective orders
    /// may overtake entries, so match it by client order id.
    Order(OrderResult),
    /// Outcome of one cancel or cancel-all.
    Cancel(OrderResult),
    /// One item of a reconciliation pass (see [`SyncItem`]).
    Sync(SyncItem),
    /// A user-data-stream event (order update, fill, balance, position, config).
    User(UserEvent),
    /// User-stream connection status.
    Stream(StreamStatus),
}

/// Settings of the I/O thread.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Slots of the command queue (hot → I/O).
    pub command_capacity: usize,
    /// Slots of the report queue (I/O → hot).
    pub report_capacity: usize,
    /// How long the I/O thread parks when it found nothing to do.
    pub idle_park: Duration,
    /// Base URL of the user stream (e.g. `wss://open-api-swap.bingx.com/swap-market`);
    /// `None` runs without one.
    pub user_stream_url: Option<String>,
    /// Connection settings of the user stream.
    pub ws: WsConfig,
    /// Listen-key keep-alive interval (BingX: every 30 min, key valid 60 min).
    pub keepalive: Duration,
    /// Pause before retrying a failed listen-key creation.
    pub listen_key_retry: Duration,
    /// Symbols the user stream maps to ids.
    pub symbols: SymbolTable,
    /// Period of the reconciliation pass; `None` runs one only after a
    /// user-stream gap or on request.
    pub reconcile_interval: Option<Duration>,
    /// Client order id prefix of the engine's orders (open orders without
    /// it are not reported).
    pub client_prefix: String,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            command_capacity: 1024,
            report_capacity: 4096,
            idle_park: Duration::from_micros(200),
            user_stream_url: None,
            ws: WsConfig::default(),
            keepalive: Duration::from_secs(30 * 60),
            listen_key_retry: Duration::from_secs(5),
            symbols: SymbolTable::new(),
            reconcile_interval: None,
            client_prefix: String::new(),
        }
    }
}

/// Why the I/O thread could not start.
#[derive(Debug)]
pub enum BridgeError {
    /// The thread could not be spawned.
    Spawn(std::io::Error),
    /// The user-stream client could not be created.
    UserStream(WsSetupError),
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn(e) => write!(f, "cannot spawn the I/O thread: {e}"),
            Self::UserStream(e) => write!(f, "cannot set up the user stream: {e}"),
        }
    }
}

impl std::error::Error for BridgeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn(e) => Some(e),
            Self::UserStream(e) => Some(e),
        }
    }
}

/// The hot thread's ends of the queues.
#[derive(Debug)]
pub struct HotSide {
    commands: Producer<IoCommand>,
    reports: Consumer<IoReport>,
}

impl HotSide {
    /// Queues a command for the I/O thread (never blocks, never allocates).
    ///
    /// # Errors
    /// Gives the command back when the queue is full.
    pub fn send(&mut self, cmd: IoCommand) -> Result<(), IoCommand> {
        self.commands.push(cmd).map_err(spsc::PushError::into_inner)
    }

    /// Returns the next report, if any (never blocks, never allocates).
    pub fn poll(&mut self) -> Option<IoReport> {
        self.reports.pop()
    }

    /// Returns true when the I/O thread has gone (its queue ends were dropped).
    #[must_use]
    pub fn io_thread_gone(&self) -> bool {
        self.reports.is_abandoned() && self.reports.is_empty()
    }
}

/// The I/O thread's ends of the queues, for a driver that serves the hot side itself
/// (the tick-to-order benchmark, tests): it reads the hot thread's commands and answers
/// with reports, in place of a REST client.
#[derive(Debug)]
pub struct IoSide {
    commands: Consumer<IoCommand>,
    reports: Producer<IoReport>,
}

impl IoSide {
    /// Returns the next command of the hot thread, if any.
    pub fn next_command(&mut self) -> Option<IoCommand> {
        self.commands.pop()
    }

    /// Queues a report for the hot thread.
    ///
    /// # Errors
    /// Gives the report back when the queue is full.
    #[allow(
        clippy::result_large_err,
        reason = "a full queue gives the Copy message back, like HotSide::send (rtrb's pattern)"
    )]
    pub fn report(&mut self, report: IoReport) -> Result<(), IoReport> {
        self.reports
            .push(report)
            .map_err(spsc::PushError::into_inner)
    }
}

/// Returns connected hot and I/O ends with `command_capacity` command slots and
/// `report_capacity` report slots (each raised to at least 1). [`IoThread::spawn`] builds
/// its queues here; a driver without a REST client serves the [`IoSide`] itself.
///
/// # Panics
/// When a capacity exceeds what [`ringbuf::spsc::channel`] can hold (as `spawn` always did).
#[must_use]
pub fn queue_pair(command_capacity: usize, report_capacity: usize) -> (HotSide, IoSide) {
    let (cmd_tx, cmd_rx) = spsc::channel(command_capacity.max(1));
    let (rep_tx, rep_rx) = spsc::channel(report_capacity.max(1));
    (
        HotSide {
            commands: cmd_tx,
            reports: rep_rx,
        },
        IoSide {
            commands: cmd_rx,
            reports: rep_tx,
        },
    )
}

/// Counters returned by [`IoThread::shutdown`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoStats {
    /// Commands executed.
    pub commands: u64,
    /// Reports delivered to the hot thread.
    pub reports: u64,
    /// User-stream events received.
    pub user_events: u64,
    /// Listen-key keep-alives sent successfully.
    pub keepalives: u64,
    /// Listen keys created after the first one.
    pub renewals: u64,
    /// Reconciliation passes run.
    pub syncs: u64,
    /// Order lookups run.
    pub lookups: u64,
}

/// The running I/O thread.
#[derive(Debug)]
pub struct IoThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<IoStats>>,
}

struct UserSide {
    client: WsClient<UserStream>,
    base_url: String,
    key: Option<String>,
    last_keepalive: Instant,
    retry_at: Option<Instant>,
}

struct Worker {
    rest: RestClient,
    commands: Consumer<IoCommand>,
    /// Commands taken off the queue, protective ones first (see
    /// [`IoCommand::is_protective`]); each keeps its queue order.
    urgent: VecDeque<IoCommand>,
    normal: VecDeque<IoCommand>,
    /// A reconciliation pass is due (stream gap).
    sync_due: bool,
    next_sync: Option<Instant>,
    reports: Producer<IoReport>,
    pending: VecDeque<IoReport>,
    user: Option<UserSide>,
    cfg: BridgeConfig,
    stats: IoStats,
    stop: Arc<AtomicBool>,
}

fn now_ns() -> TimestampNs {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    TimestampNs(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl IoThread {
    /// Starts the I/O thread around `rest` and returns it with the hot thread's queue ends.
    /// With a user-stream URL the thread first creates a listen key, then connects.
    ///
    /// # Errors
    /// [`BridgeError`] when the user-stream client cannot be built or the thread not spawned.
    pub fn spawn(rest: RestClient, cfg: BridgeConfig) -> Result<(Self, HotSide), BridgeError> {
        let (hot, io) = queue_pair(cfg.command_capacity, cfg.report_capacity);
        let user = match &cfg.user_stream_url {
            Some(base) => {
                // Placeholder key until the real one is created on the thread; the client
                // does not connect before its first poll, which happens after creation.
                let client = WsClient::new(
                    &bingx_user_stream_url(base, "pending"),
                    cfg.ws.clone(),
                    UserStream::new(cfg.symbols.clone()),
                )
                .map_err(BridgeError::UserStream)?;
                Some(UserSide {
                    client,
                    base_url: base.clone(),
                    key: None,
                    last_keepalive: Instant::now(),
                    retry_at: None,
                })
            }
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let next_sync = cfg.reconcile_interval.map(|d| Instant::now() + d);
        let worker = Worker {
            rest,
            commands: io.commands,
            urgent: VecDeque::with_capacity(cfg.command_capacity),
            normal: VecDeque::with_capacity(cfg.command_capacity),
            sync_due: false,
            next_sync,
            reports: io.reports,
            pending: VecDeque::new(),
            user,
            cfg,
            stats: IoStats::default(),
            stop: Arc::clone(&stop),
        };
        let handle = std::thread::Builder::new()
            .name("io".into())
            .spawn(move || worker.run())
            .map_err(BridgeError::Spawn)?;
        Ok((
            Self {
                stop,
                handle: Some(handle),
            },
            hot,
        ))
    }

    /// Asks the thread to stop (it finishes the command in flight, closes the user stream
    /// and deletes the listen key), waits for it and returns its counters.
    #[must_use]
    pub fn shutdown(mut self) -> IoStats {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> IoStats {
        self.stop.store(true, Ordering::Release);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

impl Worker {
    fn run(mut self) -> IoStats {
        log::info!("I/O thread started");
        while !self.stop.load(Ordering::Acquire) && !self.commands.is_abandoned() {
            let mut busy = false;
            while self.pending.len() < self.cfg.report_capacity {
                self.take_commands();
                let Some(cmd) = self.urgent.pop_front().or_else(|| self.normal.pop_front()) else {
                    break;
                };
                busy = true;
                self.run_command(&cmd);
                self.flush();
            }
            busy |= self.poll_user();
            busy |= self.sync_if_due();
            self.flush();
            if !busy {
                std::thread::park_timeout(self.cfg.idle_park);
            }
        }
        if let Some(user) = self.user.as_mut() {
            user.client.close();
            if let Some(key) = user.key.take() {
                if let Err(e) = self.rest.delete_listen_key(&key) {
                    log::warn!("Deleting the listen key failed: {e}");
                }
            }
        }
        self.flush();
        log::info!("I/O thread stopped: {:?}", self.stats);
        self.stats
    }

    /// Moves every queued command into the urgent or the normal lane.
    fn take_commands(&mut self) {
        while let Some(cmd) = self.commands.pop() {
            if cmd.is_protective() {
                self.urgent.push_back(cmd);
            } else {
                self.normal.push_back(cmd);
            }
        }
    }

    fn run_command(&mut self, cmd: &IoCommand) {
        self.stats.commands += 1;
        match *cmd {
            IoCommand::Sync => self.sync(SyncCause::Requested),
            IoCommand::Query { symbol, order } => {
                self.stats.lookups += 1;
                if let Some(u) = sync::look_up(&mut self.rest, symbol, order, now_ns()) {
                    self.pending.push_back(IoReport::User(UserEvent::Order(u)));
                }
            }
            IoCommand::Place(_) => {
                let result = self.rest.execute(cmd);
                self.pending.push_back(IoReport::Order(result));
            }
            IoCommand::Cancel { .. } | IoCommand::CancelAll { .. } => {
                let result = self.rest.execute(cmd);
                self.pending.push_back(IoReport::Cancel(result));
            }
        }
    }

    /// Runs a reconciliation pass when one is due (stream gap or timer);
    /// returns true when it ran.
    fn sync_if_due(&mut self) -> bool {
        let timer = self.next_sync.is_some_and(|t| Instant::now() >= t);
        if !(self.sync_due || timer) {
            return false;
        }
        let cause = if self.sync_due {
            SyncCause::StreamGap
        } else {
            SyncCause::Periodic
        };
        self.sync(cause);
        true
    }

    fn sync(&mut self, cause: SyncCause) {
        self.sync_due = false;
        self.stats.syncs += 1;
        let pending = &mut self.pending;
        sync::read_exchange(&mut self.rest, &self.cfg.client_prefix, cause, &mut |i| {
            pending.push_back(IoReport::Sync(i));
        });
        self.next_sync = self.cfg.reconcile_interval.map(|d| Instant::now() + d);
        self.flush();
    }

    fn flush(&mut self) {
        while let Some(r) = self.pending.pop_front() {
            if let Err(e) = self.reports.push(r) {
                self.pending.push_front(e.into_inner());
                break;
            }
            self.stats.reports += 1;
        }
    }

    /// Creates a listen key and points the client at it; returns false on failure.
    fn renew_key(&mut self) -> bool {
        let Some(user) = self.user.as_mut() else {
            return false;
        };
        match self.rest.create_listen_key() {
            Ok(k) => {
                let url = bingx_user_stream_url(&user.base_url, &k.listen_key);
                if let Err(e) = user.client.set_url(&url, now_ns()) {
                    log::error!("User stream URL refused: {e}");
                    return false;
                }
                if user.key.replace(k.listen_key).is_some() {
                    self.stats.renewals += 1;
                    // Events between the old key's end and the new stream
                    // are lost: re-sync by REST.
                    self.sync_due = true;
                    self.pending
                        .push_back(IoReport::Stream(StreamStatus::ListenKeyRenewed));
                }
                user.last_keepalive = Instant::now();
                user.retry_at = None;
                log::info!("User stream listen key ready");
                true
            }
            Err(e) => {
                log::warn!("Creating a listen key failed: {e}");
                user.retry_at = Some(Instant::now() + self.cfg.listen_key_retry);
                self.pending
                    .push_back(IoReport::Stream(StreamStatus::ListenKeyFailed));
                false
            }
        }
    }

    /// Polls the user stream and keeps its key alive; returns true when something happened.
    fn poll_user(&mut self) -> bool {
        let Some(user) = self.user.as_mut() else {
            return false;
        };
        if user.key.is_none() {
            if user.retry_at.is_some_and(|t| Instant::now() < t) {
                return false;
            }
            return self.renew_key();
        }
        let mut expired = false;
        let pending = &mut self.pending;
        let stats = &mut self.stats;
        let sync_due = &mut self.sync_due;
        let n = user.client.poll_once(now_ns(), &mut |ev| match ev {
            WsEvent::Data(UserEvent::ListenKeyExpired { .. }) => expired = true,
            WsEvent::Data(e) => {
                stats.user_events += 1;
                pending.push_back(IoReport::User(e));
            }
            WsEvent::Connected { .. } => {
                // Fills may have happened unseen: after a reconnect, and
                // on the first connect between the start-up
                // reconciliation's reads and the stream's start.
                *sync_due = true;
                pending.push_back(IoReport::Stream(StreamStatus::Connected));
            }
            WsEvent::Disconnected { reason, .. } => {
                pending.push_back(IoReport::Stream(StreamStatus::Disconnected(reason)));
            }
            WsEvent::Outage(w) => {
                *sync_due = true;
                pending.push_back(IoReport::Stream(StreamStatus::Outage(w)));
            }
        });
        if expired {
            log::warn!("Listen key expired, renewing");
            return self.renew_key() || n > 0;
        }
        if user.last_keepalive.elapsed() >= self.cfg.keepalive {
            if let Some(key) = user.key.clone() {
                user.last_keepalive = Instant::now();
                match self.rest.extend_listen_key(&key) {
                    Ok(()) => self.stats.keepalives += 1,
                    Err(e) => {
                        log::warn!("Listen key keep-alive failed ({e}), renewing");
                        return self.renew_key();
                    }
                }
            }
        }
        n > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::order::{
        ClientOrderId, OrderKind, OrderOutcome, OrderRequest, PositionSide, TimeInForce,
    };
    use crate::io::rest::RestConfig;
    use crate::io::symbols::SymbolTable as RestSymbols;
    use crate::types::{DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId};

    fn unreachable_rest() -> RestClient {
        // A port nobody listens on: every request fails fast with "connection refused".
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cfg = RestConfig::new(&format!("http://127.0.0.1:{port}"), "k", "s");
        cfg.retry.max_attempts = 1;
        cfg.retry.reconcile_attempts = 0;
        cfg.retry.reconcile_delay = Duration::ZERO;
        let mut rest = RestClient::try_new(cfg).unwrap();
        let mut t = RestSymbols::new();
        t.push(
            "BTC-USDT",
            InstrumentRules {
                tick: DecimalStep::from_precision(1),
                step: DecimalStep::from_precision(4),
                min_qty: Qty::from_decimal(1, 4).unwrap(),
                min_notional: Price::from_decimal(2, 0).unwrap(),
            },
        )
        .unwrap();
        rest.set_symbols(t);
        rest
    }

    fn order(id: &str, qty: Qty) -> IoCommand {
        IoCommand::Place(OrderRequest {
            symbol: SymbolId(0),
            side: Side::Buy,
            position_side: PositionSide::Long,
            kind: OrderKind::Limit,
            qty,
            price: Price::from_decimal(600_000, 1).unwrap(),
            stop_price: Price::ZERO,
            reduce_only: false,
            time_in_force: Some(TimeInForce::Gtc),
            client_order_id: ClientOrderId::try_new(id).unwrap(),
        })
    }

    fn next(hot: &mut HotSide) -> IoReport {
        let start = Instant::now();
        loop {
            if let Some(r) = hot.poll() {
                return r;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no report");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn results_come_back_in_command_order_and_shutdown_reports_counts() {
        let (io, mut hot) = IoThread::spawn(unreachable_rest(), BridgeConfig::default()).unwrap();
        hot.send(order("a-1", Qty::ZERO)).unwrap();
        hot.send(order("a-2", Qty::from_decimal(10, 4).unwrap()))
            .unwrap();
        let IoReport::Order(first) = next(&mut hot) else {
            panic!("expected an order result")
        };
        assert_eq!(first.client_order_id.as_str(), "a-1");
        assert!(matches!(first.outcome, OrderOutcome::Invalid(_)));
        let IoReport::Order(second) = next(&mut hot) else {
            panic!("expected an order result")
        };
        assert_eq!(second.client_order_id.as_str(), "a-2");
        assert!(matches!(
            second.outcome,
            OrderOutcome::Failed | OrderOutcome::Unknown
        ));
        let stats = io.shutdown();
        assert_eq!(stats.commands, 2);
        assert_eq!(stats.reports, 2);
        assert!(hot.io_thread_gone());
    }

    #[test]
    fn dropping_the_hot_side_stops_the_io_thread() {
        let (io, hot) = IoThread::spawn(unreachable_rest(), BridgeConfig::default()).unwrap();
        drop(hot);
        let start = Instant::now();
        while io.handle.as_ref().is_some_and(|h| !h.is_finished()) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "I/O thread still running"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(io.shutdown(), IoStats::default());
    }

    #[test]
    fn a_queue_pair_carries_commands_and_reports_and_gives_back_when_full() {
        let (mut hot, mut io) = queue_pair(1, 1);
        hot.send(order("a-1", Qty::from_decimal(1, 3).unwrap()))
            .unwrap();
        let refused = hot.send(order("a-2", Qty::from_decimal(1, 3).unwrap()));
        let Err(IoCommand::Place(back)) = refused else {
            panic!("a full command queue gives the command back")
        };
        assert_eq!(back.client_order_id.as_str(), "a-2");
        let Some(IoCommand::Place(got)) = io.next_command() else {
            panic!("expected the first command")
        };
        assert_eq!(got.client_order_id.as_str(), "a-1");
        assert!(io.next_command().is_none());
        let result = |id: &str| {
            IoReport::Order(OrderResult {
                symbol: SymbolId(0),
                client_order_id: ClientOrderId::try_new(id).unwrap(),
                outcome: OrderOutcome::Failed,
            })
        };
        io.report(result("a-1")).unwrap();
        assert_eq!(io.report(result("a-9")), Err(result("a-9")));
        assert_eq!(hot.poll(), Some(result("a-1")));
        assert_eq!(hot.poll(), None);
        assert!(!hot.io_thread_gone());
        drop(io);
        assert!(hot.io_thread_gone());
    }

    #[test]
    fn messages_are_fixed_size_copy_values() {
        fn is_copy<T: Copy>() {}
        is_copy::<IoReport>();
        is_copy::<IoCommand>();
        assert!(core::mem::size_of::<IoReport>() <= 160);
    }
}
