//! The engine's journal records: what the live runtime writes through the
//! journal crate, and what replay, crash recovery and `journal-dump` read.
//!
//! Consumes engine values ([`Event`]s fed to the core, [`Action`]s it
//! produced, and the driver's own system facts); produces fixed
//! little-endian binary payloads under a `u16` type tag, and decodes them
//! back without allocating (variable parts borrow from the payload). Each
//! record also lists its named fields ([`JournalRecord::fields`]) so every
//! text, JSON and CSV rendering shares one definition of the schema.
//!
//! Must never: allocate while encoding, panic on any payload (a bad payload
//! is a [`DecodeError`]), or change an existing tag's layout (add new tags
//! instead; old journals must stay readable).
//!
//! # Record classes
//! - **Inputs** (tags 1–15): every [`Event`] the core saw, in order. Feeding
//!   them to a fresh [`Core`](crate::core::Core) built from the session's
//!   config reproduces every decision (replay, crash recovery).
//! - **Outputs** (tags 16–47): every [`Action`] the core produced.
//! - **System** (tags 64+): session start, order routing, exchange errors,
//!   balances, stream status, backfills, reloads, operator commands, equity
//!   samples, daily metrics, state snapshots, frame timings, latency
//!   summaries, reconciliation corrections, shutdown, orders the driver
//!   refused to send, and the configuration an accepted reload applied
//!   (replay applies it at the same point), and the repairs of a damaged
//!   journal (`journal repair`).

mod codec;
mod fields;
mod render;
mod system;

pub use codec::DecodeError;
pub use fields::{closed_trade_fields, Field, Value};
pub use render::{
    format_ts, push_decimal, push_money, push_value_json, push_value_text, render_json, render_text,
};
pub use system::{
    Correction, CorrectionKind, DailyMetrics, ExchangeError, ExchangeErrorKind, FrameTiming,
    LatencyLine, Mode, OperatorSource, PositionSnap, RefusalReason, ReloadOutcome, ReplaceCause,
    SessionStart, Snapshot, StopSettleKind, StreamKind, StreamState, StreamStatus,
    SNAPSHOT_MAX_POSITIONS,
};

use crate::core::{Action, Event};
use crate::io::order::ClientOrderId;
use crate::orders::OrderId;
use crate::types::{Side, TimestampNs};

/// Type tags. Stable forever: a tag's layout never changes.
pub mod tags {
    /// Input: a market trade.
    pub const TRADE: u16 = 1;
    /// Input: a closed 1m candle (klines source, warm-up or backfill).
    pub const CANDLE: u16 = 2;
    /// Input: a clock tick.
    pub const CLOCK: u16 = 3;
    /// Input: an order ack.
    pub const ACK: u16 = 4;
    /// Input: a fill.
    pub const FILL: u16 = 5;
    /// Input: an order reject.
    pub const REJECTED: u16 = 6;
    /// Input: an order cancel.
    pub const CANCELLED: u16 = 7;
    /// Input: a control command.
    pub const CONTROL: u16 = 8;
    /// Input: a funding settlement at a rate (backtest, paper).
    pub const FUNDING_SETTLEMENT: u16 = 9;
    /// Input: a funding fee the exchange reported as settled (live).
    pub const FUNDING_FEE: u16 = 10;
    /// Input: a position found closed on the exchange with no order of
    /// the core to book it on (reconciliation).
    pub const EXCHANGE_CLOSE: u16 = 11;
    /// Input: an exchange position the core does not know, adopted
    /// (reconciliation, `reconcile.unknown_position = "adopt"`).
    pub const ADOPT_POSITION: u16 = 12;
    /// Output: an order intent.
    pub const PLACE: u16 = 16;
    /// Output: a cancel request.
    pub const CANCEL: u16 = 17;
    /// Output: a strategy signal.
    pub const SIGNAL: u16 = 18;
    /// Output: a signal dropped by aggregation.
    pub const SIGNAL_DROPPED: u16 = 19;
    /// Output: a signal rejected by risk.
    pub const RISK_REJECTED: u16 = 20;
    /// Output: a position state transition.
    pub const TRANSITION: u16 = 21;
    /// Output: an entry sized and sent.
    pub const ENTRY_SENT: u16 = 22;
    /// Output: an exit fill.
    pub const EXIT: u16 = 23;
    /// Output: a stop moved.
    pub const STOP_MOVED: u16 = 24;
    /// Output: a closed trade.
    pub const TRADE_CLOSED: u16 = 25;
    /// Output: the engine halted.
    pub const HALTED: u16 = 26;
    /// Output: the engine resumed.
    pub const RESUMED: u16 = 27;
    /// Output: a gap in the market data.
    pub const GAP: u16 = 28;
    /// Output: a log event of the core.
    pub const LOG: u16 = 29;
    /// Output: a funding payment booked to a position.
    pub const FUNDING: u16 = 30;
    /// System: session start.
    pub const SESSION: u16 = 64;
    /// System: an order handed to the exchange with its client order id.
    pub const ORDER_SENT: u16 = 65;
    /// System: the exchange's order id for one of ours.
    pub const ORDER_ACKED: u16 = 66;
    /// System: an exchange or transport error.
    pub const EXCHANGE_ERROR: u16 = 67;
    /// System: an account balance.
    pub const BALANCE: u16 = 68;
    /// System: a stream connected, disconnected or had an outage.
    pub const STREAM: u16 = 69;
    /// System: candles backfilled after an outage.
    pub const BACKFILL: u16 = 70;
    /// System: a config reload, accepted or refused.
    pub const RELOAD: u16 = 71;
    /// System: an operator command and where it came from.
    pub const OPERATOR: u16 = 72;
    /// System: an equity sample.
    pub const EQUITY: u16 = 73;
    /// System: one UTC day's metrics.
    pub const DAILY: u16 = 74;
    /// System: a state snapshot.
    pub const SNAPSHOT: u16 = 75;
    /// System: per-frame stage timings.
    pub const FRAME_TIMING: u16 = 76;
    /// System: a latency summary line.
    pub const LATENCY: u16 = 77;
    /// System: a reconciliation correction.
    pub const CORRECTION: u16 = 78;
    /// System: shutdown.
    pub const SHUTDOWN: u16 = 79;
    /// System: an order the core decided that the driver refused to send.
    pub const ORDER_REFUSED: u16 = 80;
    /// System: the configuration an accepted reload applied to the core,
    /// as TOML (replay and crash recovery apply it at this point).
    pub const RELOAD_CONFIG: u16 = 81;
    /// System: `journal repair` kept the records before a damage and set
    /// the rest aside.
    pub const JOURNAL_REPAIRED: u16 = 92;
    /// System: a protective stop the core no longer holds was settled by
    /// the stop router (coalesced away, or its cancel confirmed).
    pub const STOP_SETTLED: u16 = 82;
    /// System: one part of a state checkpoint (the rebuild starts from the
    /// newest complete one instead of the first record).
    pub const CHECKPOINT: u16 = 84;
    /// System: journal retention removed whole old segments.
    pub const JOURNAL_RETENTION: u16 = 85;
    /// System: a minute's candle built from trades replaced by the
    /// exchange's REST candle (both recorded).
    pub const CANDLE_REPLACED: u16 = 90;
}

/// Every known tag with its name, in tag order.
pub const TYPE_NAMES: [(u16, &str); 50] = [
    (tags::TRADE, "trade"),
    (tags::CANDLE, "candle"),
    (tags::CLOCK, "clock"),
    (tags::ACK, "ack"),
    (tags::FILL, "fill"),
    (tags::REJECTED, "rejected"),
    (tags::CANCELLED, "cancelled"),
    (tags::CONTROL, "control"),
    (tags::FUNDING_SETTLEMENT, "funding_settlement"),
    (tags::FUNDING_FEE, "funding_fee"),
    (tags::EXCHANGE_CLOSE, "exchange_close"),
    (tags::ADOPT_POSITION, "adopt_position"),
    (tags::PLACE, "place"),
    (tags::CANCEL, "cancel"),
    (tags::SIGNAL, "signal"),
    (tags::SIGNAL_DROPPED, "signal_dropped"),
    (tags::RISK_REJECTED, "risk_rejected"),
    (tags::TRANSITION, "transition"),
    (tags::ENTRY_SENT, "entry_sent"),
    (tags::EXIT, "exit"),
    (tags::STOP_MOVED, "stop_moved"),
    (tags::TRADE_CLOSED, "trade_closed"),
    (tags::HALTED, "halted"),
    (tags::RESUMED, "resumed"),
    (tags::GAP, "gap"),
    (tags::LOG, "log"),
    (tags::FUNDING, "funding"),
    (tags::SESSION, "session"),
    (tags::ORDER_SENT, "order_sent"),
    (tags::ORDER_ACKED, "order_acked"),
    (tags::EXCHANGE_ERROR, "exchange_error"),
    (tags::BALANCE, "balance"),
    (tags::STREAM, "stream"),
    (tags::BACKFILL, "backfill"),
    (tags::RELOAD, "reload"),
    (tags::OPERATOR, "operator"),
    (tags::EQUITY, "equity"),
    (tags::DAILY, "daily"),
    (tags::SNAPSHOT, "snapshot"),
    (tags::FRAME_TIMING, "frame_timing"),
    (tags::LATENCY, "latency"),
    (tags::CORRECTION, "correction"),
    (tags::SHUTDOWN, "shutdown"),
    (tags::ORDER_REFUSED, "order_refused"),
    (tags::RELOAD_CONFIG, "reload_config"),
    (tags::JOURNAL_REPAIRED, "journal_repaired"),
    (tags::STOP_SETTLED, "stop_settled"),
    (tags::CANDLE_REPLACED, "candle_replaced"),
    (tags::CHECKPOINT, "checkpoint"),
    (tags::JOURNAL_RETENTION, "journal_retention"),
];

/// Returns the name of `tag` (`None` for an unknown tag).
#[must_use]
pub fn type_name(tag: u16) -> Option<&'static str> {
    TYPE_NAMES
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, name)| *name)
}

/// Returns the tag named `name` (as [`type_name`] spells it).
#[must_use]
pub fn tag_of(name: &str) -> Option<u16> {
    TYPE_NAMES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
}

/// Returns every known type name (for `--type` help and validation).
pub fn all_type_names() -> impl Iterator<Item = &'static str> {
    TYPE_NAMES.iter().map(|(_, n)| *n)
}

/// True for input tags (fed to the core on replay).
#[must_use]
pub const fn is_input(tag: u16) -> bool {
    tag >= 1 && tag <= 15
}

/// True for output tags (decisions of the core).
#[must_use]
pub const fn is_output(tag: u16) -> bool {
    tag >= 16 && tag <= 47
}

/// One journal record of the engine. Variable parts borrow from the payload
/// they were decoded from.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "records live on the stack only while encoded; boxing the snapshot would allocate on the hot thread"
)]
pub enum JournalRecord<'a> {
    /// An event fed to the core.
    Input(Event),
    /// An action the core produced.
    Output(Action),
    /// A session started.
    Session(SessionStart<'a>),
    /// An order was handed to the exchange under this client order id.
    OrderSent {
        /// Engine order id.
        order: OrderId,
        /// Client order id sent with it.
        client_id: ClientOrderId,
        /// Symbol.
        symbol: crate::types::SymbolId,
        /// Side.
        side: Side,
        /// When it was handed over.
        ts: TimestampNs,
    },
    /// The exchange acknowledged one of our orders with its own id.
    OrderAcked {
        /// Engine order id.
        order: OrderId,
        /// Exchange order id.
        exchange_id: u64,
        /// When.
        ts: TimestampNs,
    },
    /// An exchange or transport error.
    ExchangeError(ExchangeError),
    /// An account balance reported by the exchange.
    Balance {
        /// Wallet balance, quote currency.
        balance: crate::money::Money,
        /// Available margin, quote currency.
        available: crate::money::Money,
        /// When.
        ts: TimestampNs,
    },
    /// A stream's status changed.
    Stream(StreamStatus),
    /// Candles were backfilled after an outage.
    Backfill {
        /// Symbol.
        symbol: crate::types::SymbolId,
        /// First missing minute.
        from: TimestampNs,
        /// First minute after the window.
        to: TimestampNs,
        /// Candles fed to the core.
        candles: u32,
        /// When.
        ts: TimestampNs,
    },
    /// A config reload was accepted or refused.
    Reload {
        /// Outcome.
        outcome: ReloadOutcome,
        /// What changed or why it was refused.
        detail: &'a str,
        /// When.
        ts: TimestampNs,
    },
    /// An operator command and its source (the command itself is also an
    /// input record when it reached the core).
    Operator {
        /// The command.
        command: crate::core::Command,
        /// Where it came from.
        source: OperatorSource,
        /// When.
        ts: TimestampNs,
    },
    /// An equity sample.
    Equity {
        /// Mark-to-market equity.
        equity: crate::money::Money,
        /// Cash (realized).
        cash: crate::money::Money,
        /// Peak equity so far.
        peak: crate::money::Money,
        /// When.
        ts: TimestampNs,
    },
    /// One UTC day's metrics.
    Daily(DailyMetrics),
    /// A state snapshot.
    Snapshot(Snapshot),
    /// Stage timings of one market frame.
    FrameTiming(FrameTiming),
    /// A latency summary line (one stage).
    Latency(LatencyLine),
    /// A reconciliation correction.
    Correction(Correction),
    /// The driver refused to send an order the core decided (the core is
    /// told it was rejected; the rejection is the next input record).
    OrderRefused {
        /// Engine order id.
        order: OrderId,
        /// Symbol.
        symbol: crate::types::SymbolId,
        /// Why.
        reason: RefusalReason,
        /// Close of the candle the decision was taken on.
        data_ts: TimestampNs,
        /// Market time of the refusal.
        ts: TimestampNs,
    },
    /// An accepted reload was applied to the core here: the whole new
    /// configuration (it differs from the running one in reloadable keys
    /// only). Follows the [`JournalRecord::Reload`] record of the same
    /// reload; replay applies it to its core at this point of the journal.
    ReloadConfig {
        /// The configuration as TOML (no secrets: they never enter `Config`).
        config_toml: &'a str,
        /// When.
        ts: TimestampNs,
    },
    /// `trading-engine journal repair` found damage, kept every record
    /// before it and set the rest aside (nothing deleted). Written as the
    /// first record after the kept ones.
    JournalRepaired {
        /// File name of the damaged segment (it now holds the kept records).
        segment: &'a str,
        /// Byte offset of the damage in that segment.
        offset: u64,
        /// What was wrong there.
        reason: &'a str,
        /// Sequence number of the first kept record.
        first_seq: u64,
        /// Sequence number after the last kept record (this record's own).
        next_seq: u64,
        /// File name the damaged segment's original bytes were kept under.
        damaged_copy: &'a str,
        /// Later segments renamed to `*.seg.orphaned`.
        segments_set_aside: u32,
        /// Intact records after the damage, set aside with those files.
        records_set_aside: u64,
        /// When.
        ts: TimestampNs,
    },
    /// A protective stop the core had replaced or cancelled was settled by
    /// the stop router without an event for the core: held back and never
    /// sent, or its cancel confirmed. Replay skips it; a restart's rebuild
    /// no longer counts the order as in flight or waiting for its cancel.
    StopSettled {
        /// Engine order id of the stop.
        order: OrderId,
        /// Symbol.
        symbol: crate::types::SymbolId,
        /// How it was settled.
        how: StopSettleKind,
        /// When.
        ts: TimestampNs,
    },
    /// A minute's candle built from the trades received was replaced by
    /// the exchange's REST candle before the strategies saw it, because
    /// trades of that minute may be missing. The REST candle is also the
    /// next input record (the core sees only that one).
    CandleReplaced {
        /// The candle built from the trades received (its `trade_count`
        /// counts them).
        local: crate::types::Candle,
        /// The exchange's REST candle that replaced it.
        rest: crate::types::Candle,
        /// Why the minute was distrusted.
        cause: ReplaceCause,
        /// When (market time).
        ts: TimestampNs,
    },
    /// One part of a state checkpoint: the engine state after every record
    /// before `state_seq` (the first part's own sequence number), split in
    /// parts that fit a segment. A rebuild restores the newest checkpoint
    /// whose parts are all present and whose checksum matches, and feeds
    /// only the records from `state_seq` on; retention may then remove the
    /// segments before it.
    Checkpoint {
        /// Sequence number of the first part: the state covers every record
        /// before it.
        state_seq: u64,
        /// This part's index, from 0.
        part: u32,
        /// Number of parts.
        parts: u32,
        /// Bytes of the whole state.
        state_bytes: u64,
        /// CRC-32 of the whole state.
        crc32: u32,
        /// This part's bytes of the state.
        data: &'a [u8],
        /// When.
        ts: TimestampNs,
    },
    /// Journal retention removed whole old segments (oldest first) that no
    /// rebuild needs any more: every record they held comes before the
    /// checkpoint a rebuild starts from.
    JournalRetention {
        /// Segments removed.
        segments_removed: u32,
        /// Bytes they held.
        bytes_removed: u64,
        /// Sequence number of the oldest record left.
        first_seq_kept: u64,
        /// Sequence number of the checkpoint the rebuild starts from.
        checkpoint_seq: u64,
        /// Segments left.
        segments_left: u32,
        /// Bytes the segments left hold.
        bytes_left: u64,
        /// When.
        ts: TimestampNs,
    },
    /// The engine shut down.
    Shutdown {
        /// True for a clean, complete shutdown.
        clean: bool,
        /// Why (e.g. `signal`, `stop_file`, `duration`).
        reason: &'a str,
        /// When.
        ts: TimestampNs,
    },
}

/// Appends `record` to `writer` with header time `ts`; returns the record's
/// sequence number. Allocates nothing: the payload is encoded straight into
/// the mapped segment.
///
/// # Errors
/// The journal's [`AppendError`](journal::AppendError) (full disk, payload
/// too large, closed writer).
pub fn write(
    writer: &mut journal::Writer,
    ts: TimestampNs,
    record: &JournalRecord<'_>,
) -> Result<u64, journal::AppendError> {
    let len = record.encoded_len();
    writer.append_with(record.tag(), ts.0, len, |buf| {
        record.encode(buf);
    })
}

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod tests;
