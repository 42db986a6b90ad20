//! The driver's own record bodies (session, streams, snapshots, timings,
//! corrections): plain `Copy` data with stable one-byte codes for every enum.

use crate::money::Money;
use crate::orders::{OrderId, PositionId};
use crate::positions::PositionState;
use crate::types::{InstrumentRules, Price, Qty, Side, SymbolId, TimestampNs};

/// How the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Orders to the exchange.
    Live,
    /// Exchange market data, in-process simulated fills.
    Paper,
    /// Signals and verdicts only, no orders.
    DryRun,
    /// A backtest over a data file.
    Backtest,
    /// A journal replay.
    Replay,
}

impl Mode {
    /// Every mode, in code order.
    pub const ALL: [Self; 5] = [
        Self::Live,
        Self::Paper,
        Self::DryRun,
        Self::Backtest,
        Self::Replay,
    ];

    /// Returns the name used on the command line and in the journal.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Paper => "paper",
            Self::DryRun => "dry-run",
            Self::Backtest => "backtest",
            Self::Replay => "replay",
        }
    }
}

/// A session's start: everything needed to rebuild the core that saw the
/// inputs that follow (config text and instrument rules per symbol id).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionStart<'a> {
    /// Mode.
    pub mode: Mode,
    /// Wall-clock start time.
    pub ts: TimestampNs,
    /// Engine version (`CARGO_PKG_VERSION`).
    pub version: &'a str,
    /// Symbol names, comma separated, in [`SymbolId`] order.
    pub symbols: &'a str,
    /// Instrument rules, encoded (see [`SessionStart::rules`]).
    pub rules_raw: &'a [u8],
    /// The effective config as TOML (no secrets: they never enter `Config`).
    pub config_toml: &'a str,
}

/// Bytes one instrument's rules take in [`SessionStart::rules_raw`].
pub const RULES_BYTES: usize = 8 + 1 + 8 + 1 + 8 + 8;

impl SessionStart<'_> {
    /// Encodes `rules` for [`SessionStart::rules_raw`] into `out`; returns
    /// the bytes written, or `None` when `out` is too small.
    pub fn encode_rules(rules: &[InstrumentRules], out: &mut [u8]) -> Option<usize> {
        let need = rules.len() * RULES_BYTES;
        let out = out.get_mut(..need)?;
        for (r, chunk) in rules.iter().zip(out.chunks_exact_mut(RULES_BYTES)) {
            chunk[0..8].copy_from_slice(&r.tick.mantissa().to_le_bytes());
            chunk[8] = r.tick.decimals();
            chunk[9..17].copy_from_slice(&r.step.mantissa().to_le_bytes());
            chunk[17] = r.step.decimals();
            chunk[18..26].copy_from_slice(&r.min_qty.to_bits().to_le_bytes());
            chunk[26..34].copy_from_slice(&r.min_notional.to_bits().to_le_bytes());
        }
        Some(need)
    }

    /// Decodes the instrument rules, in symbol id order (`None` entries for
    /// malformed ones are skipped by returning `None` overall).
    #[must_use]
    pub fn rules(&self) -> Option<Vec<InstrumentRules>> {
        if self.rules_raw.len() % RULES_BYTES != 0 {
            return None;
        }
        self.rules_raw
            .chunks_exact(RULES_BYTES)
            .map(|c| {
                let i64_at = |at: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&c[at..at + 8]);
                    i64::from_le_bytes(b)
                };
                Some(InstrumentRules {
                    tick: crate::types::DecimalStep::try_new(i64_at(0), c[8])?,
                    step: crate::types::DecimalStep::try_new(i64_at(9), c[17])?,
                    min_qty: Qty::from_bits(i64_at(18)),
                    min_notional: Price::from_bits(i64_at(26)),
                })
            })
            .collect()
    }

    /// Returns the symbol names in [`SymbolId`] order.
    pub fn symbol_names(&self) -> impl Iterator<Item = &str> {
        self.symbols.split(',').filter(|s| !s.is_empty())
    }
}

/// What kind of failure an [`ExchangeError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeErrorKind {
    /// The exchange answered with an error code.
    Api,
    /// An HTTP status without a usable body.
    Http,
    /// Connection, TLS or timeout.
    Transport,
    /// Rate limited (429 or the exchange's code).
    RateLimited,
    /// The outcome of an order is unknown (looked up by client order id).
    Ambiguous,
}

impl ExchangeErrorKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 5] = [
        Self::Api,
        Self::Http,
        Self::Transport,
        Self::RateLimited,
        Self::Ambiguous,
    ];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Http => "http",
            Self::Transport => "transport",
            Self::RateLimited => "rate_limited",
            Self::Ambiguous => "ambiguous",
        }
    }
}

/// An exchange or transport error, for the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeError {
    /// The order it concerns (`OrderId(0)` when none).
    pub order: OrderId,
    /// Kind.
    pub kind: ExchangeErrorKind,
    /// Exchange error code (0 when none).
    pub code: i64,
    /// HTTP status (0 when none).
    pub http_status: u16,
    /// When.
    pub ts: TimestampNs,
}

/// Which stream a [`StreamStatus`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// The market-data WebSocket.
    Market,
    /// The user-data WebSocket.
    User,
    /// The REST connection.
    Rest,
}

impl StreamKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 3] = [Self::Market, Self::User, Self::Rest];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Market => "market",
            Self::User => "user",
            Self::Rest => "rest",
        }
    }
}

/// What happened to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// Connected (again).
    Connected,
    /// Lost; reconnecting.
    Disconnected,
    /// Data flows again after the window `from..to`.
    Outage,
    /// The connection went silent (no data or ping within the bound).
    Silent,
    /// A new listen key is in use.
    ListenKeyRenewed,
}

impl StreamState {
    /// Every state, in code order.
    pub const ALL: [Self; 5] = [
        Self::Connected,
        Self::Disconnected,
        Self::Outage,
        Self::Silent,
        Self::ListenKeyRenewed,
    ];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::Outage => "outage",
            Self::Silent => "silent",
            Self::ListenKeyRenewed => "listen_key_renewed",
        }
    }
}

/// A stream status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStatus {
    /// Which stream.
    pub stream: StreamKind,
    /// What happened.
    pub state: StreamState,
    /// Start of the outage window (0 when not an outage).
    pub from: TimestampNs,
    /// End of the outage window (0 when not an outage).
    pub to: TimestampNs,
    /// When.
    pub ts: TimestampNs,
}

/// Outcome of a config reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReloadOutcome {
    /// Applied.
    Accepted,
    /// Refused; the old config stays.
    Refused,
}

impl ReloadOutcome {
    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
        }
    }
}

/// Why the driver refused to send an order the core decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// Decided on warm-up history at start-up.
    WarmUp,
    /// An entry decided on a backfilled candle that closed longer than
    /// `risk.stale_data_secs` before the market time of the decision.
    StaleCandle,
}

impl RefusalReason {
    /// Every reason, in code order.
    pub const ALL: [Self; 2] = [Self::WarmUp, Self::StaleCandle];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WarmUp => "warm_up",
            Self::StaleCandle => "stale_candle",
        }
    }
}

/// Why a minute's candle built from trades was replaced by the exchange's
/// REST candle before the strategies saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplaceCause {
    /// The first live minute after the warm-up: its earlier trades came
    /// only as REST history.
    FirstLive,
    /// The market stream disconnected or had an outage in or right after
    /// this minute: trades of it may have been lost.
    Reconnect,
    /// A market message could not be decoded (malformed) in or right after
    /// this minute: the trades it carried were lost.
    Malformed,
}

impl ReplaceCause {
    /// Every cause, in code order.
    pub const ALL: [Self; 3] = [Self::FirstLive, Self::Reconnect, Self::Malformed];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstLive => "first_live",
            Self::Reconnect => "reconnect",
            Self::Malformed => "malformed",
        }
    }
}

/// Where an operator command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorSource {
    /// The control endpoint (`trading-engine ctl`).
    Control,
    /// A signal (SIGTERM, SIGINT, SIGHUP).
    Signal,
    /// The STOP file.
    StopFile,
    /// The engine itself (end of a demo, start-up reconciliation).
    Engine,
    /// A person deleted the `risk.halt_file` marker (code 4, added after
    /// the first four; older journals never hold it).
    HaltFile,
}

impl OperatorSource {
    /// Every source, in code order.
    pub const ALL: [Self; 5] = [
        Self::Control,
        Self::Signal,
        Self::StopFile,
        Self::Engine,
        Self::HaltFile,
    ];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Control => "control",
            Self::Signal => "signal",
            Self::StopFile => "stop_file",
            Self::Engine => "engine",
            Self::HaltFile => "halt_file",
        }
    }
}

/// One UTC day's metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyMetrics {
    /// The day: days since 1970-01-01 (UTC).
    pub day: i64,
    /// Trades closed that day.
    pub trades: u32,
    /// Of which winners.
    pub wins: u32,
    /// Net PnL of those trades.
    pub pnl: Money,
    /// Fees paid that day.
    pub fees: Money,
    /// Equity at the end of the day (or now, for today).
    pub equity_end: Money,
    /// Largest drawdown from the running peak seen that day, percent.
    pub max_drawdown_pct: f64,
    /// When it was written.
    pub ts: TimestampNs,
}

/// Positions a [`Snapshot`] holds at most.
pub const SNAPSHOT_MAX_POSITIONS: usize = 8;

/// One position in a [`Snapshot`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionSnap {
    /// Position id.
    pub position: PositionId,
    /// Symbol.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// State.
    pub state: PositionState,
    /// Open quantity.
    pub qty: Qty,
    /// Average entry price.
    pub entry: Price,
    /// Current stop.
    pub stop: Price,
    /// Unrealized PnL at the last price.
    pub unrealized: Money,
}

/// A periodic state snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// When.
    pub ts: TimestampNs,
    /// Mark-to-market equity.
    pub equity: Money,
    /// Cash.
    pub cash: Money,
    /// Peak equity.
    pub peak: Money,
    /// True while HALTED.
    pub halted: bool,
    /// Working orders.
    pub working_orders: u32,
    /// Closed trades so far.
    pub trades: u32,
    /// Open positions (`positions[..len]`).
    pub positions: [Option<PositionSnap>; SNAPSHOT_MAX_POSITIONS],
}

impl Snapshot {
    /// Returns the open positions.
    pub fn open_positions(&self) -> impl Iterator<Item = &PositionSnap> {
        self.positions.iter().flatten()
    }
}

/// Stage timings of one market frame, nanoseconds (0 when a stage did not
/// run). `tick_to_order_ns` is 0 unless the frame produced an order intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameTiming {
    /// When the frame was received (wall clock).
    pub recv_ts: TimestampNs,
    /// Trades in the frame.
    pub trades: u16,
    /// Inflate + parse.
    pub parse_ns: u32,
    /// Candles + indicators.
    pub candles_ns: u32,
    /// Strategies + risk (and position management).
    pub strategies_ns: u32,
    /// Pushing intents into the order queue.
    pub enqueue_ns: u32,
    /// Receive to first intent in the queue (0: no intent).
    pub tick_to_order_ns: u32,
}

/// One stage's latency summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyLine {
    /// Stage (index into [`Stage::ALL`](crate::metrics::latency::Stage::ALL)).
    pub stage: crate::metrics::latency::Stage,
    /// Samples.
    pub count: u64,
    /// p50, ns.
    pub p50: u64,
    /// p90, ns.
    pub p90: u64,
    /// p99, ns.
    pub p99: u64,
    /// p99.9, ns.
    pub p999: u64,
    /// Maximum, ns.
    pub max: u64,
    /// When.
    pub ts: TimestampNs,
}

/// What a reconciliation correction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrectionKind {
    /// An exchange position the core did not know was adopted
    /// (`reconcile.unknown_position = "adopt"`): the `adopt_position`
    /// input that follows books it.
    AdoptedPosition,
    /// An order found on the exchange (by client order id) was adopted.
    AdoptedOrder,
    /// A protective stop was missing on the exchange and was placed.
    StopPlaced,
    /// An order of ours unknown to the core was cancelled.
    CancelledOrphan,
    /// A position we thought open was closed on the exchange.
    PositionClosed,
    /// The exchange's quantity differs from ours; ours was corrected.
    QuantityCorrected,
    /// A position on the exchange unknown to the core (closed at market).
    UnknownPosition,
    /// An order of the core was (partly) filled while the engine was down.
    OrderFilled,
    /// An order of the core is no longer working on the exchange, or a
    /// cancel it requested completed.
    OrderCancelled,
    /// An order whose intent was journaled was never created (not resent).
    OrderNotPlaced,
    /// A known position whose stop could not be placed was closed at market.
    Flattened,
    /// A position on the exchange unknown to the core was left alone.
    UnknownPositionLeft,
    /// A start-up reconciliation is about to send recovery orders (a stop
    /// or a market close) for the position on `symbol`; `order` is the
    /// core's stop they stand for (0 when none). A later start looks them
    /// up by the ids this session gave them.
    RecoverySending,
}

impl CorrectionKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 13] = [
        Self::AdoptedPosition,
        Self::AdoptedOrder,
        Self::StopPlaced,
        Self::CancelledOrphan,
        Self::PositionClosed,
        Self::QuantityCorrected,
        Self::UnknownPosition,
        Self::OrderFilled,
        Self::OrderCancelled,
        Self::OrderNotPlaced,
        Self::Flattened,
        Self::UnknownPositionLeft,
        Self::RecoverySending,
    ];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AdoptedPosition => "adopted_position",
            Self::AdoptedOrder => "adopted_order",
            Self::StopPlaced => "stop_placed",
            Self::CancelledOrphan => "cancelled_orphan",
            Self::PositionClosed => "position_closed",
            Self::QuantityCorrected => "quantity_corrected",
            Self::UnknownPosition => "unknown_position",
            Self::OrderFilled => "order_filled",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderNotPlaced => "order_not_placed",
            Self::Flattened => "flattened",
            Self::UnknownPositionLeft => "unknown_position_left",
            Self::RecoverySending => "recovery_sending",
        }
    }
}

/// A reconciliation correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correction {
    /// What was done.
    pub kind: CorrectionKind,
    /// Symbol.
    pub symbol: SymbolId,
    /// Engine order id concerned (0 when none).
    pub order: OrderId,
    /// Exchange order id concerned (0 when none).
    pub exchange_id: u64,
    /// Quantity concerned.
    pub qty: Qty,
    /// Price concerned (stop trigger, position entry).
    pub price: Price,
    /// When.
    pub ts: TimestampNs,
}

/// How a protective stop the core no longer holds was settled outside the
/// core (journal record `stop_settled`): the rebuild after a restart no
/// longer counts it as in flight or as waiting for its cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopSettleKind {
    /// A replacement held back while another stop was in flight and then
    /// replaced again: it never reached the exchange.
    Coalesced,
    /// The exchange confirmed our cancel of a replaced stop.
    CancelConfirmed,
    /// A replaced stop was refused or cancelled by the exchange before our
    /// cancel reached it.
    GoneOnExchange,
    /// Our cancel of a replaced stop found it already finished (filled or
    /// cancelled): its fill, if any, reached the core as the current stop's.
    AlreadyFinished,
    /// A replaced stop (or one whose replacement was in flight) filled on
    /// the exchange: its fill reached the core as the current stop's, so a
    /// restart neither looks it up nor books that fill again.
    FilledAsCurrent,
}

impl StopSettleKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 5] = [
        Self::Coalesced,
        Self::CancelConfirmed,
        Self::GoneOnExchange,
        Self::AlreadyFinished,
        Self::FilledAsCurrent,
    ];

    /// Returns the snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Coalesced => "coalesced",
            Self::CancelConfirmed => "cancel_confirmed",
            Self::GoneOnExchange => "gone_on_exchange",
            Self::AlreadyFinished => "already_finished",
            Self::FilledAsCurrent => "filled_as_current",
        }
    }
}
