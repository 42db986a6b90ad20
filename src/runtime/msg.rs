//! The fixed-size messages between the hot thread and the service thread:
//! operator commands, stop requests and backfilled candles one way, log
//! notes and status snapshots the other.
//!
//! Consumes nothing; produces small `Copy` values that fit an SPSC slot.
//! Never allocates (texts are fixed inline buffers) and never logs.

use core::fmt;

use crate::core::{Command, LogEvent};
use crate::io::bridge::StreamStatus;
use crate::io::ws::DisconnectReason;
use crate::journal_schema::{OperatorSource, ReloadOutcome};
use crate::orders::OrderId;
use crate::risk::RejectReason;
use crate::types::{Candle, Qty, Side, SymbolId, TimestampNs};

use super::startup::dashboard::RiskState;

/// Longest text carried inline by a [`Note`].
pub const NOTE_BYTES: usize = 120;

/// A short text kept inline (truncated on a character boundary).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Note {
    bytes: [u8; NOTE_BYTES],
    len: u8,
}

impl Note {
    /// Returns `text` cut to at most [`NOTE_BYTES`] bytes.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let mut end = text.len().min(NOTE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; NOTE_BYTES];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Self {
            bytes,
            len: end as u8,
        }
    }

    /// Returns `value` as displayed, cut like [`Note::new`], without
    /// allocating.
    #[must_use]
    pub fn from_display(value: &dyn fmt::Display) -> Self {
        struct Fill(Note);
        impl fmt::Write for Fill {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let at = usize::from(self.0.len);
                let mut end = s.len().min(NOTE_BYTES - at);
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                self.0.bytes[at..at + end].copy_from_slice(&s.as_bytes()[..end]);
                self.0.len += end as u8;
                Ok(())
            }
        }
        let mut fill = Fill(Note {
            bytes: [0u8; NOTE_BYTES],
            len: 0,
        });
        let _ = fmt::write(&mut fill, format_args!("{value}"));
        fill.0
    }

    /// Returns the text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the hot loop is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM or SIGINT.
    Signal,
    /// The run's duration elapsed (demo, tests).
    Duration,
    /// The STOP file appeared (after the emergency flatten).
    StopFile,
    /// The caller's stop flag.
    Requested,
}

impl StopReason {
    /// Returns the name journaled with the shutdown record.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::Duration => "duration",
            Self::StopFile => "stop_file",
            Self::Requested => "requested",
        }
    }
}

/// A message from the service thread to the hot thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToHot {
    /// Feed this command to the core (journaled with its source).
    Command {
        /// The command.
        command: Command,
        /// Who sent it.
        source: OperatorSource,
    },
    /// A config reload was decided; journal it. When accepted, its
    /// [`ReloadPayload`](super::reload::ReloadPayload) waits on the reload
    /// queue (sent before this message): the hot thread applies it to the
    /// core and journals the config.
    Reload {
        /// Accepted or refused.
        outcome: ReloadOutcome,
        /// What changed, or why it was refused.
        detail: Note,
    },
    /// A candle fetched from REST to close a feed gap.
    BackfillCandle(Candle),
    /// The backfill of a gap is complete (`candles` were sent before it).
    BackfillDone {
        /// Symbol.
        symbol: SymbolId,
        /// First missing minute.
        from: TimestampNs,
        /// First minute after the window.
        to: TimestampNs,
        /// Candles sent.
        candles: u32,
    },
    /// Shut down: stop entries, flatten when asked, drain, journal, return.
    Stop {
        /// Why.
        reason: StopReason,
        /// Close every position before returning.
        flatten: bool,
    },
}

/// Something the hot thread wants logged (the service thread logs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotLog {
    /// The core's own log event.
    Core(LogEvent),
    /// The market stream connected.
    MarketConnected {
        /// True after the first connection.
        reconnect: bool,
    },
    /// The market stream was lost.
    MarketDisconnected(DisconnectReason),
    /// Data flows again after an outage from `from` to `to` (wall time).
    MarketOutage {
        /// Start.
        from: TimestampNs,
        /// End.
        to: TimestampNs,
    },
    /// The user stream changed state.
    UserStream(StreamStatus),
    /// The exchange refused an order.
    OrderRejected {
        /// Engine order id.
        order: OrderId,
        /// Business code (0: refused locally or not sent).
        code: i64,
    },
    /// The outcome of an order command is unknown; the user stream settles it.
    OrderUnknown(OrderId),
    /// The command queue to the I/O thread was full.
    QueueFull(OrderId),
    /// A journal append failed (the run goes on; the journal is incomplete).
    JournalFailed,
    /// The journal is closed for this run after repeated failures.
    JournalDisabled,
    /// The I/O thread is gone.
    IoGone,
    /// A reconciliation pass with the exchange found something (or a
    /// user-stream gap started one).
    ExchangeSync {
        /// Orders missing from the book, looked up.
        lookups: u32,
        /// Symbols whose position differs from the exchange's.
        mismatches: u32,
        /// The pass follows a user-stream gap.
        gap: bool,
    },
    /// An accepted reload was applied to the core.
    ReloadApplied,
    /// The core refused an accepted reload (its parameters stay).
    ReloadFailed(crate::core::CoreReloadError),
    /// An accepted reload's payload was missing (nothing applied).
    ReloadMissing,
}

/// Most open positions a [`Status`] carries (the first ones by symbol id).
pub const STATUS_MAX_POSITIONS: usize = 4;

/// One open position in a [`Status`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionStatus {
    /// Symbol.
    pub symbol: SymbolId,
    /// Entry side (`Buy` = long).
    pub side: Side,
    /// Quantity open.
    pub qty: Qty,
    /// Average entry price.
    pub entry_price: f64,
    /// Last trade price of the symbol (the entry price before any trade).
    pub mark_price: f64,
    /// Initial stop distance in price units (1R per unit).
    pub r: f64,
}

/// Market-data feed counters in a [`Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedStatus {
    /// Complete messages received on the market socket since start.
    pub messages: u64,
    /// Wall time since the last market message, ns; `None` before the first.
    pub last_msg_age_ns: Option<u64>,
    /// Reconnections of the market socket since start.
    pub reconnects: u64,
    /// Feed outages (gaps) since start.
    pub gaps: u64,
}

/// What the hot thread reports a few times a second.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Status {
    /// Wall-clock time the status was taken.
    pub wall_ts: TimestampNs,
    /// Market time of the last event, ns.
    pub market_ts: TimestampNs,
    /// Mark-to-market equity.
    pub equity: f64,
    /// Realised cash.
    pub cash: f64,
    /// Open positions.
    pub positions: u32,
    /// Signed quantity of the first symbol's position.
    pub position_qty: f64,
    /// True when HALTED (not when the core is halted only because the run
    /// is stopping).
    pub halted: bool,
    /// Market frames handled.
    pub frames: u64,
    /// Trades handled.
    pub trades: u64,
    /// Orders sent (or simulated).
    pub orders: u64,
    /// Fills received.
    pub fills: u64,
    /// Trades closed by the core.
    pub closed_trades: u64,
    /// Last trade price of the first symbol.
    pub last_price: f64,
    /// True when the market stream is open.
    pub connected: bool,
    /// Highest equity so far (the kill switch's reference).
    pub peak_equity: f64,
    /// Realized PnL (net of fees) of the trades closed this UTC day (market time).
    pub pnl_today: f64,
    /// Realized PnL since the core began (cash minus initial equity).
    pub pnl_total: f64,
    /// Closed trades with a positive net PnL.
    pub wins: u64,
    /// Entry permission (ok, cooling down, locked, HALTED, stopped).
    pub risk: RiskState,
    /// Operator commands the engine has applied so far (in inbox order).
    pub commands_applied: u64,
    /// The first [`STATUS_MAX_POSITIONS`] open positions.
    pub open: [Option<PositionStatus>; STATUS_MAX_POSITIONS],
    /// Market-data feed counters.
    pub feed: FeedStatus,
    /// Orders the venue refused (in dry-run every order).
    pub rejected: u64,
    /// Pre-trade risk rejections, indexed like [`RejectReason::ALL`].
    pub risk_rejects: [u64; RejectReason::ALL.len()],
    /// Bytes appended to the journal's current segment and not yet forced
    /// to disk (0 without a journal).
    pub journal_unsynced_bytes: u64,
}

/// A message from the hot thread to the service thread.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "boxing the status would allocate on the hot thread; the slots are reserved once"
)]
pub enum FromHot {
    /// Log this.
    Log(HotLog),
    /// The latest status.
    Status(Status),
    /// The core closed a trade.
    TradeClosed(crate::positions::ClosedTrade),
    /// Backfill the candles of this outage window (market time).
    Backfill {
        /// Symbol.
        symbol: SymbolId,
        /// First minute to fetch (open time).
        from: TimestampNs,
        /// Last minute to fetch (open time, inclusive).
        to: TimestampNs,
    },
    /// An order command's REST result came back (live mode): it took `ns`
    /// from entering the I/O thread's queue (the service thread keeps the
    /// histogram; orders are rare, so one message each is cheap).
    RoundTrip {
        /// What the command was for.
        kind: crate::metrics::round_trip::RoundTripKind,
        /// Monotonic nanoseconds from queued to result handled.
        ns: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_truncate_on_a_character_boundary() {
        let long = "é".repeat(100);
        let n = Note::new(&long);
        assert!(n.as_str().len() <= NOTE_BYTES);
        assert!(n.as_str().chars().all(|c| c == 'é'));
        assert_eq!(Note::new("short").as_str(), "short");
    }

    #[test]
    fn a_displayed_note_is_cut_on_a_character_boundary_without_allocating() {
        let long = "é".repeat(100);
        let mut n = Note::new("");
        let info = allocation_counter::measure(|| n = Note::from_display(&long));
        assert_eq!(info.count_total, 0);
        assert!(n.as_str().len() <= NOTE_BYTES && n.as_str().len() >= NOTE_BYTES - 1);
        assert!(n.as_str().chars().all(|c| c == 'é'));
        let e = crate::core::CoreReloadError::PeriodsChanged;
        assert!(e.to_string().starts_with(Note::from_display(&e).as_str()));
    }

    #[test]
    fn messages_are_small_copy_values() {
        fn is_copy<T: Copy>() {}
        is_copy::<ToHot>();
        is_copy::<FromHot>();
        assert!(core::mem::size_of::<ToHot>() <= 160);
        // The status (with its fixed array of positions) is the largest.
        assert!(core::mem::size_of::<FromHot>() <= 512);
    }
}
