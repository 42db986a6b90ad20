//! Binary layouts: little-endian, fixed width per field, strings and byte
//! blobs as `u32` length + bytes. Encoding writes into a caller's buffer of
//! exactly [`JournalRecord::encoded_len`] bytes; decoding borrows.

use core::fmt;

use super::system::{
    Correction, CorrectionKind, DailyMetrics, ExchangeError, ExchangeErrorKind, FrameTiming,
    LatencyLine, Mode, OperatorSource, PositionSnap, RefusalReason, ReloadOutcome, ReplaceCause,
    SessionStart, Snapshot, StopSettleKind, StreamKind, StreamState, StreamStatus,
    SNAPSHOT_MAX_POSITIONS,
};
use super::{tags, JournalRecord};
use crate::core::{
    Action, AdoptPosition, Command, Event, ExchangeClose, LogEvent, Record, StopMove,
};
use crate::funding::{FundingFee, FundingPayment, FundingSettlement};
use crate::io::order::ClientOrderId;
use crate::metrics::latency::Stage;
use crate::money::Money;
use crate::orders::{ExitReason, Fill, OrderId, OrderIntent, OrderKind, OrderPurpose, PositionId};
use crate::positions::{ClosedTrade, PositionState};
use crate::risk::{HaltReason, RejectReason};
use crate::signals::DropReason;
use crate::strategy::{Signal, StrategyId};
use crate::types::{Candle, Price, Qty, Side, SymbolId, TimestampNs, Trade};

/// Why a payload could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The tag is not one this engine knows.
    UnknownTag(u16),
    /// The payload ended before the record's fields did.
    Truncated {
        /// Tag.
        tag: u16,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// Bytes left over after the record's fields.
    TrailingBytes {
        /// Tag.
        tag: u16,
        /// How many.
        extra: usize,
    },
    /// A one-byte code outside its enum.
    BadCode {
        /// Tag.
        tag: u16,
        /// Field.
        field: &'static str,
        /// The code.
        code: u8,
    },
    /// A string field is not UTF-8, or a client order id is invalid.
    BadText {
        /// Tag.
        tag: u16,
        /// Field.
        field: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTag(t) => write!(f, "unknown record type tag {t}"),
            Self::Truncated { tag, need, have } => {
                write!(
                    f,
                    "record tag {tag} truncated: needs {need} bytes, has {have}"
                )
            }
            Self::TrailingBytes { tag, extra } => {
                write!(f, "record tag {tag} has {extra} unexpected trailing bytes")
            }
            Self::BadCode { tag, field, code } => {
                write!(f, "record tag {tag}: invalid code {code} in field {field}")
            }
            Self::BadText { tag, field } => {
                write!(f, "record tag {tag}: field {field} is not valid text")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Writes fields into a buffer that is large enough (`WRITE = true`), or
/// only counts their bytes (`WRITE = false`: the size pass of
/// [`JournalRecord::encoded_len`], which monomorphizes to length arithmetic
/// with no field encoded, so a journaled record is encoded once).
struct Enc<'b, const WRITE: bool> {
    /// Destination (empty for the size pass).
    buf: &'b mut [u8],
    /// Bytes counted so far; only ever grows.
    at: usize,
}

impl<const WRITE: bool> Enc<'_, WRITE> {
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        if WRITE {
            if let Some(dst) = self.buf.get_mut(self.at..self.at + b.len()) {
                dst.copy_from_slice(b);
            }
        }
        self.at += b.len();
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    fn ts(&mut self, v: TimestampNs) {
        self.i64(v.0);
    }
    fn price(&mut self, v: Price) {
        self.i64(v.to_bits());
    }
    fn qty(&mut self, v: Qty) {
        self.i64(v.to_bits());
    }
    fn money(&mut self, v: Money) {
        self.i64(v.0);
    }
    fn sym(&mut self, v: SymbolId) {
        self.u16(v.0);
    }
    fn blob(&mut self, b: &[u8]) {
        self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        self.bytes(b);
    }
}

/// Reads fields, with a typed error on a short payload or a bad code.
struct Dec<'a> {
    tag: u16,
    buf: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return Err(DecodeError::Truncated {
                tag: self.tag,
                need: self.at.saturating_add(n),
                have: self.buf.len(),
            });
        };
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.arr::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            code => Err(self.bad(field, code)),
        }
    }
    fn ts(&mut self) -> Result<TimestampNs, DecodeError> {
        Ok(TimestampNs(self.i64()?))
    }
    fn price(&mut self) -> Result<Price, DecodeError> {
        Ok(Price::from_bits(self.i64()?))
    }
    fn qty(&mut self) -> Result<Qty, DecodeError> {
        Ok(Qty::from_bits(self.i64()?))
    }
    fn money(&mut self) -> Result<Money, DecodeError> {
        Ok(Money(self.i64()?))
    }
    fn sym(&mut self) -> Result<SymbolId, DecodeError> {
        Ok(SymbolId(self.u16()?))
    }
    fn blob(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn text(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let tag = self.tag;
        core::str::from_utf8(self.blob()?).map_err(|_| DecodeError::BadText { tag, field })
    }
    fn bad(&self, field: &'static str, code: u8) -> DecodeError {
        DecodeError::BadCode {
            tag: self.tag,
            field,
            code,
        }
    }
    /// Reads a one-byte code indexing `all`.
    fn code<T: Copy>(&mut self, field: &'static str, all: &[T]) -> Result<T, DecodeError> {
        let c = self.u8()?;
        all.get(c as usize)
            .copied()
            .ok_or_else(|| self.bad(field, c))
    }
    fn finish(&self) -> Result<(), DecodeError> {
        if self.at == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                tag: self.tag,
                extra: self.buf.len() - self.at,
            })
        }
    }
}

/// Returns `v`'s index in `all` as a one-byte code.
fn code_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

const SIDES: [Side; 2] = [Side::Buy, Side::Sell];
const COMMANDS: [Command; 6] = [
    Command::Halt,
    Command::Resume,
    Command::Flatten,
    Command::Reset,
    Command::EmergencyStop,
    Command::Shutdown,
];
const DROPS: [DropReason; 4] = [
    DropReason::Outranked,
    DropReason::PositionPending,
    DropReason::PositionOpen,
    DropReason::OppositePosition,
];
const HALTS: [HaltReason; 3] = [
    HaltReason::KillSwitch,
    HaltReason::StopFile,
    HaltReason::Command,
];
const STATES: [PositionState; 4] = [
    PositionState::Pending,
    PositionState::Open,
    PositionState::Closing,
    PositionState::Closed,
];
const MOVES: [StopMove; 2] = [StopMove::BreakEven, StopMove::Trailing];
const RELOADS: [ReloadOutcome; 2] = [ReloadOutcome::Accepted, ReloadOutcome::Refused];

fn enc_trade<const W: bool>(e: &mut Enc<'_, W>, t: &Trade) {
    e.sym(t.symbol);
    e.u64(t.trade_id);
    e.price(t.price);
    e.qty(t.qty);
    e.ts(t.exchange_ts);
    e.u8(code_of(&SIDES, &t.aggressor));
}

fn enc_candle<const W: bool>(e: &mut Enc<'_, W>, c: &Candle) {
    e.sym(c.symbol);
    e.ts(c.open_time);
    e.price(c.open);
    e.price(c.high);
    e.price(c.low);
    e.price(c.close);
    e.qty(c.volume);
    e.u32(c.trade_count);
}

fn enc_signal<const W: bool>(e: &mut Enc<'_, W>, s: &Signal) {
    e.u8(s.strategy.0);
    e.sym(s.symbol);
    e.u8(code_of(&SIDES, &s.side));
    e.f64(s.confidence);
    e.price(s.price);
    e.f64(s.atr);
    e.f64(s.stop_distance);
    e.f64(s.target_distance);
    e.ts(s.ts);
}

fn dec_signal(d: &mut Dec<'_>) -> Result<Signal, DecodeError> {
    Ok(Signal {
        strategy: StrategyId(d.u8()?),
        symbol: d.sym()?,
        side: d.code("side", &SIDES)?,
        confidence: d.f64()?,
        price: d.price()?,
        atr: d.f64()?,
        stop_distance: d.f64()?,
        target_distance: d.f64()?,
        ts: d.ts()?,
    })
}

fn enc_kind<const W: bool>(e: &mut Enc<'_, W>, k: &OrderKind) {
    match *k {
        OrderKind::Market => {
            e.u8(0);
            e.price(Price::from_bits(0));
        }
        OrderKind::StopMarket { trigger } => {
            e.u8(1);
            e.price(trigger);
        }
        OrderKind::TakeProfitMarket { trigger } => {
            e.u8(2);
            e.price(trigger);
        }
    }
}

fn dec_kind(d: &mut Dec<'_>) -> Result<OrderKind, DecodeError> {
    let code = d.u8()?;
    let trigger = d.price()?;
    match code {
        0 => Ok(OrderKind::Market),
        1 => Ok(OrderKind::StopMarket { trigger }),
        2 => Ok(OrderKind::TakeProfitMarket { trigger }),
        c => Err(d.bad("kind", c)),
    }
}

fn enc_purpose<const W: bool>(e: &mut Enc<'_, W>, p: &OrderPurpose) {
    let (code, reason) = match *p {
        OrderPurpose::Entry => (0, ExitReason::Stop),
        OrderPurpose::Stop => (1, ExitReason::Stop),
        OrderPurpose::Partial1 => (2, ExitReason::Stop),
        OrderPurpose::Partial2 => (3, ExitReason::Stop),
        OrderPurpose::Target => (4, ExitReason::Stop),
        OrderPurpose::Close(r) => (5, r),
    };
    e.u8(code);
    e.u8(code_of(&ExitReason::ALL, &reason));
}

fn dec_purpose(d: &mut Dec<'_>) -> Result<OrderPurpose, DecodeError> {
    let code = d.u8()?;
    let reason = d.code("exit_reason", &ExitReason::ALL)?;
    match code {
        0 => Ok(OrderPurpose::Entry),
        1 => Ok(OrderPurpose::Stop),
        2 => Ok(OrderPurpose::Partial1),
        3 => Ok(OrderPurpose::Partial2),
        4 => Ok(OrderPurpose::Target),
        5 => Ok(OrderPurpose::Close(reason)),
        c => Err(d.bad("purpose", c)),
    }
}

fn enc_closed<const W: bool>(e: &mut Enc<'_, W>, t: &ClosedTrade) {
    e.u64(t.position.0);
    e.sym(t.symbol);
    e.u8(t.strategy.0);
    e.u8(code_of(&SIDES, &t.side));
    e.ts(t.entry_ts);
    e.ts(t.exit_ts);
    e.price(t.entry_price);
    e.price(t.avg_exit_price);
    e.qty(t.qty);
    e.money(t.fees);
    e.money(t.slippage);
    e.money(t.pnl);
    e.money(t.initial_risk);
    e.f64(t.r_multiple);
    e.f64(t.hours_held);
    e.u8(code_of(&ExitReason::ALL, &t.exit_reason));
    e.u32(t.exits);
}

fn dec_closed(d: &mut Dec<'_>) -> Result<ClosedTrade, DecodeError> {
    Ok(ClosedTrade {
        position: PositionId(d.u64()?),
        symbol: d.sym()?,
        strategy: StrategyId(d.u8()?),
        side: d.code("side", &SIDES)?,
        entry_ts: d.ts()?,
        exit_ts: d.ts()?,
        entry_price: d.price()?,
        avg_exit_price: d.price()?,
        qty: d.qty()?,
        fees: d.money()?,
        slippage: d.money()?,
        pnl: d.money()?,
        initial_risk: d.money()?,
        r_multiple: d.f64()?,
        hours_held: d.f64()?,
        exit_reason: d.code("exit_reason", &ExitReason::ALL)?,
        exits: d.u32()?,
    })
}

fn enc_opt_state<const W: bool>(e: &mut Enc<'_, W>, s: Option<PositionState>) {
    e.u8(s.map_or(u8::MAX, |s| code_of(&STATES, &s)));
}

fn dec_opt_state(d: &mut Dec<'_>) -> Result<Option<PositionState>, DecodeError> {
    match d.u8()? {
        u8::MAX => Ok(None),
        c => STATES
            .get(c as usize)
            .copied()
            .map(Some)
            .ok_or_else(|| d.bad("from", c)),
    }
}

impl JournalRecord<'_> {
    /// Returns the record's type tag.
    #[must_use]
    pub fn tag(&self) -> u16 {
        match self {
            Self::Input(e) => match e {
                Event::Trade(_) => tags::TRADE,
                Event::Candle(_) => tags::CANDLE,
                Event::Clock(_) => tags::CLOCK,
                Event::Ack { .. } => tags::ACK,
                Event::Fill(_) => tags::FILL,
                Event::Rejected { .. } => tags::REJECTED,
                Event::Cancelled { .. } => tags::CANCELLED,
                Event::Control { .. } => tags::CONTROL,
                Event::ExchangeClose(_) => tags::EXCHANGE_CLOSE,
                Event::AdoptPosition(_) => tags::ADOPT_POSITION,
                Event::Funding(_) => tags::FUNDING_SETTLEMENT,
                Event::FundingFee(_) => tags::FUNDING_FEE,
            },
            Self::Output(a) => match a {
                Action::Place(_) => tags::PLACE,
                Action::Cancel { .. } => tags::CANCEL,
                Action::Log(_) => tags::LOG,
                Action::Record(r) => match r {
                    Record::Signal(_) => tags::SIGNAL,
                    Record::SignalDropped { .. } => tags::SIGNAL_DROPPED,
                    Record::RiskRejected { .. } => tags::RISK_REJECTED,
                    Record::Transition { .. } => tags::TRANSITION,
                    Record::EntrySent { .. } => tags::ENTRY_SENT,
                    Record::Exit { .. } => tags::EXIT,
                    Record::StopMoved { .. } => tags::STOP_MOVED,
                    Record::TradeClosed(_) => tags::TRADE_CLOSED,
                    Record::Halted { .. } => tags::HALTED,
                    Record::Resumed { .. } => tags::RESUMED,
                    Record::Gap { .. } => tags::GAP,
                    Record::Funding(_) => tags::FUNDING,
                },
            },
            Self::Session(_) => tags::SESSION,
            Self::OrderSent { .. } => tags::ORDER_SENT,
            Self::OrderAcked { .. } => tags::ORDER_ACKED,
            Self::ExchangeError(_) => tags::EXCHANGE_ERROR,
            Self::Balance { .. } => tags::BALANCE,
            Self::Stream(_) => tags::STREAM,
            Self::Backfill { .. } => tags::BACKFILL,
            Self::Reload { .. } => tags::RELOAD,
            Self::Operator { .. } => tags::OPERATOR,
            Self::Equity { .. } => tags::EQUITY,
            Self::Daily(_) => tags::DAILY,
            Self::Snapshot(_) => tags::SNAPSHOT,
            Self::FrameTiming(_) => tags::FRAME_TIMING,
            Self::Latency(_) => tags::LATENCY,
            Self::Correction(_) => tags::CORRECTION,
            Self::Shutdown { .. } => tags::SHUTDOWN,
            Self::ReloadConfig { .. } => tags::RELOAD_CONFIG,
            Self::JournalRepaired { .. } => tags::JOURNAL_REPAIRED,
            Self::OrderRefused { .. } => tags::ORDER_REFUSED,
            Self::StopSettled { .. } => tags::STOP_SETTLED,
            Self::CandleReplaced { .. } => tags::CANDLE_REPLACED,
            Self::Checkpoint { .. } => tags::CHECKPOINT,
            Self::JournalRetention { .. } => tags::JOURNAL_RETENTION,
        }
    }

    /// Returns the payload size [`encode`](Self::encode) writes, without
    /// encoding anything: the size pass only adds up field widths and blob
    /// lengths (a constant per fixed-size record once monomorphized).
    #[must_use]
    #[inline]
    pub fn encoded_len(&self) -> usize {
        let mut e = Enc::<false> {
            buf: &mut [],
            at: 0,
        };
        self.encode_to(&mut e);
        e.at
    }

    /// Encodes the payload into `out` (which must hold at least
    /// [`encoded_len`](Self::encoded_len) bytes; extra bytes are left
    /// untouched); returns the bytes written. Allocates nothing.
    pub fn encode(&self, out: &mut [u8]) -> usize {
        let mut e = Enc::<true> { buf: out, at: 0 };
        self.encode_to(&mut e);
        e.at
    }

    fn encode_to<const W: bool>(&self, e: &mut Enc<'_, W>) {
        match self {
            Self::Input(ev) => match ev {
                Event::Trade(t) => enc_trade(e, t),
                Event::Candle(c) => enc_candle(e, c),
                Event::Clock(ts) => e.ts(*ts),
                Event::Ack { order, ts }
                | Event::Rejected { order, ts }
                | Event::Cancelled { order, ts } => {
                    e.u64(order.0);
                    e.ts(*ts);
                }
                Event::Fill(f) => {
                    e.u64(f.order.0);
                    e.sym(f.symbol);
                    e.qty(f.qty);
                    e.price(f.price);
                    e.money(f.fee);
                    e.money(f.slippage);
                    e.ts(f.ts);
                }
                Event::Control { command, ts } => {
                    e.u8(code_of(&COMMANDS, command));
                    e.ts(*ts);
                }
                Event::ExchangeClose(c) => {
                    e.sym(c.symbol);
                    e.u8(code_of(&SIDES, &c.side));
                    e.qty(c.qty);
                    e.price(c.price);
                    e.money(c.fee);
                    e.ts(c.ts);
                }
                Event::AdoptPosition(a) => {
                    e.sym(a.symbol);
                    e.u8(code_of(&SIDES, &a.side));
                    e.qty(a.qty);
                    e.price(a.price);
                    e.ts(a.ts);
                }
                Event::Funding(f) => {
                    e.sym(f.symbol);
                    e.f64(f.rate);
                    e.price(f.mark);
                    e.ts(f.ts);
                }
                Event::FundingFee(f) => {
                    e.sym(f.symbol);
                    e.money(f.amount);
                    e.ts(f.ts);
                }
            },
            Self::Output(a) => encode_action(e, a),
            Self::Session(s) => {
                e.u8(code_of(&Mode::ALL, &s.mode));
                e.ts(s.ts);
                e.blob(s.version.as_bytes());
                e.blob(s.symbols.as_bytes());
                e.blob(s.rules_raw);
                e.blob(s.config_toml.as_bytes());
            }
            Self::OrderSent {
                order,
                client_id,
                symbol,
                side,
                ts,
            } => {
                e.u64(order.0);
                e.blob(client_id.as_str().as_bytes());
                e.sym(*symbol);
                e.u8(code_of(&SIDES, side));
                e.ts(*ts);
            }
            Self::OrderAcked {
                order,
                exchange_id,
                ts,
            } => {
                e.u64(order.0);
                e.u64(*exchange_id);
                e.ts(*ts);
            }
            Self::ExchangeError(x) => {
                e.u64(x.order.0);
                e.u8(code_of(&ExchangeErrorKind::ALL, &x.kind));
                e.i64(x.code);
                e.u16(x.http_status);
                e.ts(x.ts);
            }
            Self::Balance {
                balance,
                available,
                ts,
            } => {
                e.money(*balance);
                e.money(*available);
                e.ts(*ts);
            }
            Self::Stream(s) => {
                e.u8(code_of(&StreamKind::ALL, &s.stream));
                e.u8(code_of(&StreamState::ALL, &s.state));
                e.ts(s.from);
                e.ts(s.to);
                e.ts(s.ts);
            }
            Self::Backfill {
                symbol,
                from,
                to,
                candles,
                ts,
            } => {
                e.sym(*symbol);
                e.ts(*from);
                e.ts(*to);
                e.u32(*candles);
                e.ts(*ts);
            }
            Self::Reload {
                outcome,
                detail,
                ts,
            } => {
                e.u8(code_of(&RELOADS, outcome));
                e.blob(detail.as_bytes());
                e.ts(*ts);
            }
            Self::Operator {
                command,
                source,
                ts,
            } => {
                e.u8(code_of(&COMMANDS, command));
                e.u8(code_of(&OperatorSource::ALL, source));
                e.ts(*ts);
            }
            Self::Equity {
                equity,
                cash,
                peak,
                ts,
            } => {
                e.money(*equity);
                e.money(*cash);
                e.money(*peak);
                e.ts(*ts);
            }
            Self::Daily(m) => {
                e.i64(m.day);
                e.u32(m.trades);
                e.u32(m.wins);
                e.money(m.pnl);
                e.money(m.fees);
                e.money(m.equity_end);
                e.f64(m.max_drawdown_pct);
                e.ts(m.ts);
            }
            Self::Snapshot(s) => {
                e.ts(s.ts);
                e.money(s.equity);
                e.money(s.cash);
                e.money(s.peak);
                e.bool(s.halted);
                e.u32(s.working_orders);
                e.u32(s.trades);
                let n = s.open_positions().count();
                e.u8(u8::try_from(n).unwrap_or(u8::MAX));
                for p in s.open_positions() {
                    e.u64(p.position.0);
                    e.sym(p.symbol);
                    e.u8(code_of(&SIDES, &p.side));
                    e.u8(code_of(&STATES, &p.state));
                    e.qty(p.qty);
                    e.price(p.entry);
                    e.price(p.stop);
                    e.money(p.unrealized);
                }
            }
            Self::FrameTiming(t) => {
                e.ts(t.recv_ts);
                e.u16(t.trades);
                e.u32(t.parse_ns);
                e.u32(t.candles_ns);
                e.u32(t.strategies_ns);
                e.u32(t.enqueue_ns);
                e.u32(t.tick_to_order_ns);
            }
            Self::Latency(l) => {
                e.u8(u8::try_from(l.stage.index()).unwrap_or(u8::MAX));
                e.u64(l.count);
                e.u64(l.p50);
                e.u64(l.p90);
                e.u64(l.p99);
                e.u64(l.p999);
                e.u64(l.max);
                e.ts(l.ts);
            }
            Self::Correction(c) => {
                e.u8(code_of(&CorrectionKind::ALL, &c.kind));
                e.sym(c.symbol);
                e.u64(c.order.0);
                e.u64(c.exchange_id);
                e.qty(c.qty);
                e.price(c.price);
                e.ts(c.ts);
            }
            Self::Shutdown { clean, reason, ts } => {
                e.bool(*clean);
                e.blob(reason.as_bytes());
                e.ts(*ts);
            }
            Self::OrderRefused {
                order,
                symbol,
                reason,
                data_ts,
                ts,
            } => {
                e.u64(order.0);
                e.sym(*symbol);
                e.u8(code_of(&RefusalReason::ALL, reason));
                e.ts(*data_ts);
                e.ts(*ts);
            }
            Self::ReloadConfig { config_toml, ts } => {
                e.blob(config_toml.as_bytes());
                e.ts(*ts);
            }
            Self::JournalRepaired {
                segment,
                offset,
                reason,
                first_seq,
                next_seq,
                damaged_copy,
                segments_set_aside,
                records_set_aside,
                ts,
            } => {
                e.blob(segment.as_bytes());
                e.u64(*offset);
                e.blob(reason.as_bytes());
                e.u64(*first_seq);
                e.u64(*next_seq);
                e.blob(damaged_copy.as_bytes());
                e.u32(*segments_set_aside);
                e.u64(*records_set_aside);
                e.ts(*ts);
            }
            Self::StopSettled {
                order,
                symbol,
                how,
                ts,
            } => {
                e.u64(order.0);
                e.sym(*symbol);
                e.u8(code_of(&StopSettleKind::ALL, how));
                e.ts(*ts);
            }
            Self::CandleReplaced {
                local,
                rest,
                cause,
                ts,
            } => {
                e.u8(code_of(&ReplaceCause::ALL, cause));
                enc_candle(e, local);
                enc_candle(e, rest);
                e.ts(*ts);
            }
            Self::Checkpoint {
                state_seq,
                part,
                parts,
                state_bytes,
                crc32,
                data,
                ts,
            } => {
                e.u64(*state_seq);
                e.u32(*part);
                e.u32(*parts);
                e.u64(*state_bytes);
                e.u32(*crc32);
                e.blob(data);
                e.ts(*ts);
            }
            Self::JournalRetention {
                segments_removed,
                bytes_removed,
                first_seq_kept,
                checkpoint_seq,
                segments_left,
                bytes_left,
                ts,
            } => {
                e.u32(*segments_removed);
                e.u64(*bytes_removed);
                e.u64(*first_seq_kept);
                e.u64(*checkpoint_seq);
                e.u32(*segments_left);
                e.u64(*bytes_left);
                e.ts(*ts);
            }
        }
    }
}

fn encode_action<const W: bool>(e: &mut Enc<'_, W>, a: &Action) {
    match a {
        Action::Place(o) => {
            e.u64(o.id.0);
            e.u64(o.position.0);
            e.sym(o.symbol);
            e.u8(code_of(&SIDES, &o.side));
            e.qty(o.qty);
            enc_kind(e, &o.kind);
            e.bool(o.reduce_only);
            enc_purpose(e, &o.purpose);
            e.ts(o.ts);
        }
        Action::Cancel { order, symbol } => {
            e.u64(order.0);
            e.sym(*symbol);
        }
        Action::Log(l) => {
            let (code, v) = match *l {
                LogEvent::UnknownOrder(o) => (0, o.0),
                LogEvent::StopRejected(p) => (1, p.0),
                LogEvent::UnknownSymbol(s) => (2, u64::from(s.0)),
                LogEvent::ActionsDropped(n) => (3, n),
                LogEvent::LateFill(o) => (4, o.0),
                LogEvent::CloseRefused(p) => (5, p.0),
            };
            e.u8(code);
            e.u64(v);
        }
        Action::Record(r) => match r {
            Record::Signal(s) => enc_signal(e, s),
            Record::SignalDropped { signal, reason } => {
                enc_signal(e, signal);
                e.u8(code_of(&DROPS, reason));
            }
            Record::RiskRejected { signal, reason } => {
                enc_signal(e, signal);
                e.u8(code_of(&RejectReason::ALL, reason));
            }
            Record::Transition {
                position,
                symbol,
                from,
                to,
                ts,
            } => {
                e.u64(position.0);
                e.sym(*symbol);
                enc_opt_state(e, *from);
                e.u8(code_of(&STATES, to));
                e.ts(*ts);
            }
            Record::EntrySent {
                position,
                strategy,
                qty,
                capped,
                ts,
            } => {
                e.u64(position.0);
                e.u8(strategy.0);
                e.qty(*qty);
                e.bool(*capped);
                e.ts(*ts);
            }
            Record::Exit {
                position,
                reason,
                qty,
                price,
                pnl,
                ts,
            } => {
                e.u64(position.0);
                e.u8(code_of(&ExitReason::ALL, reason));
                e.qty(*qty);
                e.price(*price);
                e.money(*pnl);
                e.ts(*ts);
            }
            Record::StopMoved {
                position,
                from,
                to,
                why,
                ts,
            } => {
                e.u64(position.0);
                e.price(*from);
                e.price(*to);
                e.u8(code_of(&MOVES, why));
                e.ts(*ts);
            }
            Record::TradeClosed(t) => enc_closed(e, t),
            Record::Halted { reason, ts } => {
                e.u8(code_of(&HALTS, reason));
                e.ts(*ts);
            }
            Record::Resumed { ts } => e.ts(*ts),
            Record::Gap { symbol, from, to } => {
                e.sym(*symbol);
                e.ts(*from);
                e.ts(*to);
            }
            Record::Funding(p) => {
                e.u64(p.position.0);
                e.sym(p.symbol);
                e.u8(code_of(&SIDES, &p.side));
                e.qty(p.qty);
                e.price(p.mark);
                e.f64(p.rate);
                e.money(p.amount);
                e.ts(p.ts);
            }
        },
    }
}

impl<'a> JournalRecord<'a> {
    /// Decodes a payload written under `tag`. Allocates nothing; strings and
    /// blobs borrow from `payload`.
    ///
    /// # Errors
    /// [`DecodeError`] for an unknown tag, a short or over-long payload, an
    /// out-of-range enum code or invalid text.
    pub fn decode(tag: u16, payload: &'a [u8]) -> Result<Self, DecodeError> {
        let mut d = Dec {
            tag,
            buf: payload,
            at: 0,
        };
        let rec = decode_body(tag, &mut d)?;
        d.finish()?;
        Ok(rec)
    }
}

fn dec_candle(d: &mut Dec<'_>) -> Result<Candle, DecodeError> {
    Ok(Candle {
        symbol: d.sym()?,
        open_time: d.ts()?,
        open: d.price()?,
        high: d.price()?,
        low: d.price()?,
        close: d.price()?,
        volume: d.qty()?,
        trade_count: d.u32()?,
    })
}

fn rec(r: Record) -> JournalRecord<'static> {
    JournalRecord::Output(Action::Record(r))
}

#[allow(clippy::too_many_lines)]
fn decode_body<'a>(tag: u16, d: &mut Dec<'a>) -> Result<JournalRecord<'a>, DecodeError> {
    use JournalRecord as J;
    Ok(match tag {
        tags::TRADE => J::Input(Event::Trade(Trade {
            symbol: d.sym()?,
            trade_id: d.u64()?,
            price: d.price()?,
            qty: d.qty()?,
            exchange_ts: d.ts()?,
            aggressor: d.code("aggressor", &SIDES)?,
        })),
        tags::CANDLE => J::Input(Event::Candle(dec_candle(d)?)),
        tags::CLOCK => J::Input(Event::Clock(d.ts()?)),
        tags::ACK | tags::REJECTED | tags::CANCELLED => {
            let order = OrderId(d.u64()?);
            let ts = d.ts()?;
            J::Input(match tag {
                tags::ACK => Event::Ack { order, ts },
                tags::REJECTED => Event::Rejected { order, ts },
                _ => Event::Cancelled { order, ts },
            })
        }
        tags::FILL => J::Input(Event::Fill(Fill {
            order: OrderId(d.u64()?),
            symbol: d.sym()?,
            qty: d.qty()?,
            price: d.price()?,
            fee: d.money()?,
            slippage: d.money()?,
            ts: d.ts()?,
        })),
        tags::CONTROL => J::Input(Event::Control {
            command: d.code("command", &COMMANDS)?,
            ts: d.ts()?,
        }),
        tags::EXCHANGE_CLOSE => J::Input(Event::ExchangeClose(ExchangeClose {
            symbol: d.sym()?,
            side: d.code("side", &SIDES)?,
            qty: d.qty()?,
            price: d.price()?,
            fee: d.money()?,
            ts: d.ts()?,
        })),
        tags::ADOPT_POSITION => J::Input(Event::AdoptPosition(AdoptPosition {
            symbol: d.sym()?,
            side: d.code("side", &SIDES)?,
            qty: d.qty()?,
            price: d.price()?,
            ts: d.ts()?,
        })),
        tags::PLACE => J::Output(Action::Place(OrderIntent {
            id: OrderId(d.u64()?),
            position: PositionId(d.u64()?),
            symbol: d.sym()?,
            side: d.code("side", &SIDES)?,
            qty: d.qty()?,
            kind: dec_kind(d)?,
            reduce_only: d.bool("reduce_only")?,
            purpose: dec_purpose(d)?,
            ts: d.ts()?,
        })),
        tags::CANCEL => J::Output(Action::Cancel {
            order: OrderId(d.u64()?),
            symbol: d.sym()?,
        }),
        tags::LOG => {
            let code = d.u8()?;
            let v = d.u64()?;
            J::Output(Action::Log(match code {
                0 => LogEvent::UnknownOrder(OrderId(v)),
                1 => LogEvent::StopRejected(PositionId(v)),
                2 => LogEvent::UnknownSymbol(SymbolId(u16::try_from(v).unwrap_or(u16::MAX))),
                3 => LogEvent::ActionsDropped(v),
                4 => LogEvent::LateFill(OrderId(v)),
                5 => LogEvent::CloseRefused(PositionId(v)),
                c => return Err(d.bad("log", c)),
            }))
        }
        tags::SIGNAL => rec(Record::Signal(dec_signal(d)?)),
        tags::SIGNAL_DROPPED => rec(Record::SignalDropped {
            signal: dec_signal(d)?,
            reason: d.code("reason", &DROPS)?,
        }),
        tags::RISK_REJECTED => rec(Record::RiskRejected {
            signal: dec_signal(d)?,
            reason: d.code("reason", &RejectReason::ALL)?,
        }),
        tags::TRANSITION => rec(Record::Transition {
            position: PositionId(d.u64()?),
            symbol: d.sym()?,
            from: dec_opt_state(d)?,
            to: d.code("to", &STATES)?,
            ts: d.ts()?,
        }),
        tags::ENTRY_SENT => rec(Record::EntrySent {
            position: PositionId(d.u64()?),
            strategy: StrategyId(d.u8()?),
            qty: d.qty()?,
            capped: d.bool("capped")?,
            ts: d.ts()?,
        }),
        tags::EXIT => rec(Record::Exit {
            position: PositionId(d.u64()?),
            reason: d.code("reason", &ExitReason::ALL)?,
            qty: d.qty()?,
            price: d.price()?,
            pnl: d.money()?,
            ts: d.ts()?,
        }),
        tags::STOP_MOVED => rec(Record::StopMoved {
            position: PositionId(d.u64()?),
            from: d.price()?,
            to: d.price()?,
            why: d.code("why", &MOVES)?,
            ts: d.ts()?,
        }),
        tags::TRADE_CLOSED => rec(Record::TradeClosed(dec_closed(d)?)),
        tags::HALTED => rec(Record::Halted {
            reason: d.code("reason", &HALTS)?,
            ts: d.ts()?,
        }),
        tags::RESUMED => rec(Record::Resumed { ts: d.ts()? }),
        tags::GAP => rec(Record::Gap {
            symbol: d.sym()?,
            from: d.ts()?,
            to: d.ts()?,
        }),
        tags::FUNDING_SETTLEMENT => J::Input(Event::Funding(FundingSettlement {
            symbol: d.sym()?,
            rate: d.f64()?,
            mark: d.price()?,
            ts: d.ts()?,
        })),
        tags::FUNDING_FEE => J::Input(Event::FundingFee(FundingFee {
            symbol: d.sym()?,
            amount: d.money()?,
            ts: d.ts()?,
        })),
        tags::FUNDING => rec(Record::Funding(FundingPayment {
            position: PositionId(d.u64()?),
            symbol: d.sym()?,
            side: d.code("side", &SIDES)?,
            qty: d.qty()?,
            mark: d.price()?,
            rate: d.f64()?,
            amount: d.money()?,
            ts: d.ts()?,
        })),
        tags::SESSION => J::Session(SessionStart {
            mode: d.code("mode", &Mode::ALL)?,
            ts: d.ts()?,
            version: d.text("version")?,
            symbols: d.text("symbols")?,
            rules_raw: d.blob()?,
            config_toml: d.text("config_toml")?,
        }),
        tags::ORDER_SENT => {
            let order = OrderId(d.u64()?);
            let text = d.text("client_id")?;
            let client_id = if text.is_empty() {
                ClientOrderId::EMPTY
            } else {
                ClientOrderId::try_new(text).ok_or(DecodeError::BadText {
                    tag,
                    field: "client_id",
                })?
            };
            J::OrderSent {
                order,
                client_id,
                symbol: d.sym()?,
                side: d.code("side", &SIDES)?,
                ts: d.ts()?,
            }
        }
        tags::ORDER_ACKED => J::OrderAcked {
            order: OrderId(d.u64()?),
            exchange_id: d.u64()?,
            ts: d.ts()?,
        },
        tags::EXCHANGE_ERROR => J::ExchangeError(ExchangeError {
            order: OrderId(d.u64()?),
            kind: d.code("kind", &ExchangeErrorKind::ALL)?,
            code: d.i64()?,
            http_status: d.u16()?,
            ts: d.ts()?,
        }),
        tags::BALANCE => J::Balance {
            balance: d.money()?,
            available: d.money()?,
            ts: d.ts()?,
        },
        tags::STREAM => J::Stream(StreamStatus {
            stream: d.code("stream", &StreamKind::ALL)?,
            state: d.code("state", &StreamState::ALL)?,
            from: d.ts()?,
            to: d.ts()?,
            ts: d.ts()?,
        }),
        tags::BACKFILL => J::Backfill {
            symbol: d.sym()?,
            from: d.ts()?,
            to: d.ts()?,
            candles: d.u32()?,
            ts: d.ts()?,
        },
        tags::RELOAD => J::Reload {
            outcome: d.code("outcome", &RELOADS)?,
            detail: d.text("detail")?,
            ts: d.ts()?,
        },
        tags::OPERATOR => J::Operator {
            command: d.code("command", &COMMANDS)?,
            source: d.code("source", &OperatorSource::ALL)?,
            ts: d.ts()?,
        },
        tags::EQUITY => J::Equity {
            equity: d.money()?,
            cash: d.money()?,
            peak: d.money()?,
            ts: d.ts()?,
        },
        tags::DAILY => J::Daily(DailyMetrics {
            day: d.i64()?,
            trades: d.u32()?,
            wins: d.u32()?,
            pnl: d.money()?,
            fees: d.money()?,
            equity_end: d.money()?,
            max_drawdown_pct: d.f64()?,
            ts: d.ts()?,
        }),
        tags::SNAPSHOT => {
            let ts = d.ts()?;
            let equity = d.money()?;
            let cash = d.money()?;
            let peak = d.money()?;
            let halted = d.bool("halted")?;
            let working_orders = d.u32()?;
            let trades = d.u32()?;
            let n = d.u8()?;
            if n as usize > SNAPSHOT_MAX_POSITIONS {
                return Err(d.bad("positions", n));
            }
            let mut positions = [None; SNAPSHOT_MAX_POSITIONS];
            for slot in positions.iter_mut().take(n as usize) {
                *slot = Some(PositionSnap {
                    position: PositionId(d.u64()?),
                    symbol: d.sym()?,
                    side: d.code("side", &SIDES)?,
                    state: d.code("state", &STATES)?,
                    qty: d.qty()?,
                    entry: d.price()?,
                    stop: d.price()?,
                    unrealized: d.money()?,
                });
            }
            J::Snapshot(Snapshot {
                ts,
                equity,
                cash,
                peak,
                halted,
                working_orders,
                trades,
                positions,
            })
        }
        tags::FRAME_TIMING => J::FrameTiming(FrameTiming {
            recv_ts: d.ts()?,
            trades: d.u16()?,
            parse_ns: d.u32()?,
            candles_ns: d.u32()?,
            strategies_ns: d.u32()?,
            enqueue_ns: d.u32()?,
            tick_to_order_ns: d.u32()?,
        }),
        tags::LATENCY => J::Latency(LatencyLine {
            stage: d.code("stage", &Stage::ALL)?,
            count: d.u64()?,
            p50: d.u64()?,
            p90: d.u64()?,
            p99: d.u64()?,
            p999: d.u64()?,
            max: d.u64()?,
            ts: d.ts()?,
        }),
        tags::CORRECTION => J::Correction(Correction {
            kind: d.code("kind", &CorrectionKind::ALL)?,
            symbol: d.sym()?,
            order: OrderId(d.u64()?),
            exchange_id: d.u64()?,
            qty: d.qty()?,
            price: d.price()?,
            ts: d.ts()?,
        }),
        tags::SHUTDOWN => J::Shutdown {
            clean: d.bool("clean")?,
            reason: d.text("reason")?,
            ts: d.ts()?,
        },
        tags::ORDER_REFUSED => J::OrderRefused {
            order: OrderId(d.u64()?),
            symbol: d.sym()?,
            reason: d.code("reason", &RefusalReason::ALL)?,
            data_ts: d.ts()?,
            ts: d.ts()?,
        },
        tags::RELOAD_CONFIG => J::ReloadConfig {
            config_toml: d.text("config_toml")?,
            ts: d.ts()?,
        },
        tags::JOURNAL_REPAIRED => J::JournalRepaired {
            segment: d.text("segment")?,
            offset: d.u64()?,
            reason: d.text("reason")?,
            first_seq: d.u64()?,
            next_seq: d.u64()?,
            damaged_copy: d.text("damaged_copy")?,
            segments_set_aside: d.u32()?,
            records_set_aside: d.u64()?,
            ts: d.ts()?,
        },
        tags::STOP_SETTLED => J::StopSettled {
            order: OrderId(d.u64()?),
            symbol: d.sym()?,
            how: d.code("how", &StopSettleKind::ALL)?,
            ts: d.ts()?,
        },
        tags::CANDLE_REPLACED => J::CandleReplaced {
            cause: d.code("cause", &ReplaceCause::ALL)?,
            local: dec_candle(d)?,
            rest: dec_candle(d)?,
            ts: d.ts()?,
        },
        tags::CHECKPOINT => J::Checkpoint {
            state_seq: d.u64()?,
            part: d.u32()?,
            parts: d.u32()?,
            state_bytes: d.u64()?,
            crc32: d.u32()?,
            data: d.blob()?,
            ts: d.ts()?,
        },
        tags::JOURNAL_RETENTION => J::JournalRetention {
            segments_removed: d.u32()?,
            bytes_removed: d.u64()?,
            first_seq_kept: d.u64()?,
            checkpoint_seq: d.u64()?,
            segments_left: d.u32()?,
            bytes_left: d.u64()?,
            ts: d.ts()?,
        },
        other => return Err(DecodeError::UnknownTag(other)),
    })
}
